package report

import (
	"fmt"
	"math"
)

// Palette holds the run colours, in Input.Runs order: the Okabe–Ito palette
// (Okabe & Ito, "Color Universal Design", 2008), which stays distinguishable
// under the common colour-vision deficiencies. Runs beyond its length reuse
// it from the start.
var Palette = []string{
	"#0072B2", // blue
	"#D55E00", // vermillion
	"#009E73", // bluish green
	"#CC79A7", // reddish purple
	"#E69F00", // orange
	"#56B4E9", // sky blue
	"#000000", // black
}

func runColor(i int) string { return Palette[i%len(Palette)] }

// viridisStops are matplotlib's viridis colour map sampled at 0, 1/8, …, 1:
// perceptually uniform and readable under colour-vision deficiencies.
var viridisStops = [9][3]float64{
	{0x44, 0x01, 0x54}, {0x47, 0x2d, 0x7b}, {0x3b, 0x52, 0x8b},
	{0x2c, 0x72, 0x8e}, {0x21, 0x91, 0x8c}, {0x28, 0xae, 0x80},
	{0x5e, 0xc9, 0x62}, {0xad, 0xdc, 0x30}, {0xfd, 0xe7, 0x25},
}

// viridis returns the colour of t ∈ [0, 1] (clamped; NaN gives 0) as
// "#rrggbb", interpolating linearly between viridisStops.
func viridis(t float64) string {
	if math.IsNaN(t) || t < 0 {
		t = 0
	}
	if t > 1 {
		t = 1
	}
	x := t * float64(len(viridisStops)-1)
	i := int(math.Floor(x))
	if i >= len(viridisStops)-1 {
		i = len(viridisStops) - 2
	}
	f := x - float64(i)
	var c [3]int
	for k := range c {
		c[k] = int(math.Round(viridisStops[i][k]*(1-f) + viridisStops[i+1][k]*f))
	}
	return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2])
}

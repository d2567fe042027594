package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// chart is one SVG chart as a list of drawing primitives in pixel
// coordinates; the "chart" template turns it into markup. All coordinates
// are in the SVG's own units (its viewBox is 0 0 W H).
type chart struct {
	ID        string
	Label     string // aria-label: what the chart shows
	W, H      float64
	Plot      box // the plotting area; the axes are its left and bottom edges
	Grid      []seg
	XTicks    []tick
	YTicks    []tick
	XLabel    text
	YLabel    text // drawn rotated by −90°
	Bands     []band
	Bars      []box
	Guides    []guide
	Lines     []line
	Dots      []dot
	Texts     []text
	Legend    []legendItem
	ColorBar  *colorBar
	Empty     string   // drawn in the middle of the plot when there is nothing to plot
	Footnotes []string // shown under the chart: skipped values and the like
}

type box struct{ X, Y, W, H float64 }

type seg struct{ X1, Y1, X2, Y2 float64 }

// tick is an axis tick at (X, Y), its label drawn beside it.
type tick struct {
	X, Y  float64
	Label string
}

type text struct {
	X, Y   float64
	Anchor string // start, middle, end
	Size   float64
	Color  string
	Weight string // "" or "bold"
	Text   string
}

type band struct {
	box
	Fill    string
	Opacity float64
}

type guide struct {
	seg
	Color   string
	Dash    string
	Opacity float64
}

// line is one polyline; Points holds "x,y" pairs separated by spaces and
// N their number. Series is the data series' name (data-series attribute),
// Class "raw" or "smooth".
type line struct {
	Series  string
	Class   string
	Color   string
	Dash    string
	Width   float64
	Opacity float64
	Points  string
	N       int
}

type dot struct {
	X, Y, R float64
	Fill    string // "none" for a hollow dot
	Stroke  string
	SW      float64 // stroke width
	Title   string  // tooltip
}

// legendItem is one legend entry at (X, Y), the centre of its key.
type legendItem struct {
	X, Y  float64
	Kind  string // "line", "dot", "hollow", "box"
	Color string
	Dash  string
	Label string
}

// colorBar is a vertical colour scale with tick labels on its right.
type colorBar struct {
	box
	GradientID string
	Stops      []gradStop
	Ticks      []tick
	Label      text
}

type gradStop struct {
	Offset string // "0%" … "100%"
	Color  string
}

// Layout constants, in SVG units.
const (
	fontSize    = 12.0
	charWidth   = 0.6 * fontSize // estimate of one character's advance
	marginLeft  = 70.0
	marginRight = 18.0
	marginBot   = 46.0
	legendRow   = 18.0
	stripRow    = 16.0
)

// coord formats a pixel coordinate with two decimals.
func coord(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// textWidth estimates the width of s at size px.
func textWidth(s string, size float64) float64 {
	return float64(len([]rune(s))) * 0.6 * size
}

// layoutLegend places items left to right from x0, wrapping at x1, and
// returns them with the height used.
func layoutLegend(items []legendItem, x0, x1, y0 float64) ([]legendItem, float64) {
	if len(items) == 0 {
		return nil, 0
	}
	x, y := x0, y0+legendRow/2
	out := make([]legendItem, len(items))
	for i, it := range items {
		w := 30 + textWidth(it.Label, fontSize) + 18
		if x > x0 && x+w > x1 {
			x, y = x0, y+legendRow
		}
		it.X, it.Y = x+12, y
		out[i] = it
		x += w
	}
	return out, y - y0 + legendRow/2
}

// lineSeries is one data series of a line chart.
type lineSeries struct {
	Name    string
	Color   string
	Dash    string
	X, Y    []float64 // finite values only
	Phases  []int     // phase index per point; set with Smooth
	Smooth  bool      // also draw a trailing mean when there are many points
	Skipped int       // non-finite values left out
}

// strip is one run's phase strip above a line chart.
type strip struct {
	Run    string
	Color  string
	Phases []phaseSpan
}

// lineOpts configures lineChart.
type lineOpts struct {
	ID, Label      string
	XLabel, YLabel string
	W, H           float64
	YZero          bool        // include 0 in the y domain
	YFix           *[2]float64 // include this interval in the y domain
	Strips         []strip
	// XFrom, when set, starts the x domain there instead of at 0.
	XFrom *float64
}

// smoothMin is the number of points from which a series is drawn faint
// with a trailing mean over it.
const smoothMin = 40

// lineChart draws series over a shared x axis (optimizer steps) and y axis.
func lineChart(o lineOpts, ss []lineSeries) chart {
	c := chart{ID: o.ID, Label: o.Label, W: o.W, H: o.H}
	var items []legendItem
	for _, s := range ss {
		items = append(items, legendItem{Kind: "line", Color: s.Color, Dash: s.Dash, Label: s.Name})
		if s.Skipped > 0 {
			c.Footnotes = append(c.Footnotes, fmt.Sprintf("%s: %d non-finite value(s) skipped.", s.Name, s.Skipped))
		}
	}
	x1 := o.W - marginRight
	legend, lh := layoutLegend(items, marginLeft, x1, 4)
	c.Legend = legend
	top := 4 + lh + 6 + float64(len(o.Strips))*stripRow
	c.Plot = box{X: marginLeft, Y: top, W: x1 - marginLeft, H: o.H - marginBot - top}

	var xs, ys [][]float64
	for _, s := range ss {
		xs, ys = append(xs, s.X), append(ys, s.Y)
	}
	xlo, xhi, okx := extent(xs...)
	for _, st := range o.Strips {
		for _, p := range st.Phases {
			xhi = math.Max(xhi, float64(p.End))
			okx = true
		}
	}
	ylo, yhi, oky := extent(ys...)
	if !oky {
		c.Empty = "no data"
		ylo, yhi = 0, 1
	}
	xlo = 0
	if o.XFrom != nil {
		xlo = *o.XFrom
	}
	if !okx || xhi <= xlo {
		xhi = xlo + 1
	}
	if o.YZero {
		ylo, yhi = math.Min(ylo, 0), math.Max(yhi, 0)
	}
	if o.YFix != nil {
		ylo, yhi = math.Min(ylo, o.YFix[0]), math.Max(yhi, o.YFix[1])
	}
	ax := niceAxis(xlo, xhi, max(3, int(c.Plot.W/90)))
	if ax.Step < 1 { // optimizer steps are whole numbers
		ax = niceAxis(xlo, xhi, int(xhi-xlo)+1)
	}
	ax.P0, ax.P1 = c.Plot.X, c.Plot.X+c.Plot.W
	ay := niceAxis(ylo, yhi, max(3, int(c.Plot.H/45)))
	ay.P0, ay.P1 = c.Plot.Y+c.Plot.H, c.Plot.Y
	c.addAxes(ax, ay, o.XLabel, o.YLabel)

	for r, st := range o.Strips {
		y := 4 + lh + 6 + float64(r)*stripRow
		for i, p := range st.Phases {
			bx := box{X: ax.px(float64(p.Start)), Y: y, W: ax.px(float64(p.End)) - ax.px(float64(p.Start)), H: stripRow - 3}
			op := 0.14
			if i%2 == 1 {
				op = 0.28
			}
			c.Bands = append(c.Bands, band{box: bx, Fill: st.Color, Opacity: op})
			label := p.Name
			if i == 0 {
				label = st.Run + " · " + p.Name
			}
			if textWidth(label, 10) > bx.W-6 {
				label = p.Name
			}
			if textWidth(label, 10) <= bx.W-6 {
				c.Texts = append(c.Texts, text{X: bx.X + bx.W/2, Y: y + stripRow - 6.5, Anchor: "middle", Size: 10, Color: "#222", Text: label})
			}
			if i > 0 {
				x := ax.px(float64(p.Start))
				c.Guides = append(c.Guides, guide{seg: seg{x, c.Plot.Y, x, c.Plot.Y + c.Plot.H}, Color: st.Color, Dash: "4 3", Opacity: 0.7})
			}
		}
	}
	for _, s := range ss {
		raw := line{Series: s.Name, Class: "raw", Color: s.Color, Dash: s.Dash, Width: 1.6, Opacity: 1}
		smoothed := s.Smooth && len(s.Y) >= smoothMin
		if smoothed {
			raw.Width, raw.Opacity = 1, 0.3
		}
		raw.Points, raw.N = polyline(ax, ay, s.X, s.Y)
		c.Lines = append(c.Lines, raw)
		if smoothed {
			w := max(5, len(s.Y)/25)
			sm := line{Series: s.Name, Class: "smooth", Color: s.Color, Dash: s.Dash, Width: 2.2, Opacity: 1}
			sm.Points, sm.N = polyline(ax, ay, s.X, smooth(s.Y, s.Phases, w))
			c.Lines = append(c.Lines, sm)
		}
		if len(s.X) <= 12 {
			for i := range s.X {
				c.Dots = append(c.Dots, dot{X: ax.px(s.X[i]), Y: ay.px(s.Y[i]), R: 2.8, Fill: s.Color, Stroke: s.Color,
					Title: fmt.Sprintf("%s: step %g, %g", s.Name, s.X[i], s.Y[i])})
			}
		}
	}
	return c
}

// polyline returns the "x,y x,y …" list of the points and their number.
func polyline(ax, ay axis, xs, ys []float64) (string, int) {
	var b strings.Builder
	for i := range xs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(coord(ax.px(xs[i])))
		b.WriteByte(',')
		b.WriteString(coord(ay.px(ys[i])))
	}
	return b.String(), len(xs)
}

// addAxes adds the grid, the ticks and the axis titles of ax and ay.
func (c *chart) addAxes(ax, ay axis, xlabel, ylabel string) {
	bottom := c.Plot.Y + c.Plot.H
	for _, v := range ax.Ticks {
		x := ax.px(v)
		c.Grid = append(c.Grid, seg{x, c.Plot.Y, x, bottom})
		c.XTicks = append(c.XTicks, tick{X: x, Y: bottom, Label: tickLabel(v, ax.Step)})
	}
	for _, v := range ay.Ticks {
		y := ay.px(v)
		c.Grid = append(c.Grid, seg{c.Plot.X, y, c.Plot.X + c.Plot.W, y})
		c.YTicks = append(c.YTicks, tick{X: c.Plot.X, Y: y, Label: tickLabel(v, ay.Step)})
	}
	c.XLabel = text{X: c.Plot.X + c.Plot.W/2, Y: bottom + 36, Anchor: "middle", Size: fontSize, Color: "#222", Text: xlabel}
	c.YLabel = text{X: 16, Y: c.Plot.Y + c.Plot.H/2, Anchor: "middle", Size: fontSize, Color: "#222", Text: ylabel}
}

package report

import (
	"fmt"
	"math"
	"sort"

	"github.com/wmss/wmss/training"
)

// curriculumStats summarises the selection artifact for the report text.
type curriculumStats struct {
	Samples     int     // records
	Missing     int     // records without an entropy
	NonFinite   int     // records whose entropies are NaN or ±Inf (skipped in the scatter)
	Fell, Rose  int     // ΔH < 0, ΔH > 0
	Drawn       int     // Σ draws
	Unique      int     // records drawn at least once
	MaxDraws    int     // largest draws
	ESS         float64 // Kish's effective sample size 1/Σp² of the normalised weights, in samples
	MaxRelative float64 // max p_i·|D|
}

func summarizeCurriculum(recs []training.SelectionRecord) curriculumStats {
	s := curriculumStats{Samples: len(recs)}
	var sum, sq float64
	for _, r := range recs {
		sum += r.Weight
	}
	for _, r := range recs {
		switch {
		case r.WeakEntropy == nil || r.StrongEntropy == nil:
			s.Missing++
		case !finite(*r.WeakEntropy) || !finite(*r.StrongEntropy):
			s.NonFinite++
		case *r.StrongEntropy < *r.WeakEntropy:
			s.Fell++
		case *r.StrongEntropy > *r.WeakEntropy:
			s.Rose++
		}
		s.Drawn += r.Draws
		if r.Draws > 0 {
			s.Unique++
		}
		s.MaxDraws = max(s.MaxDraws, r.Draws)
		if sum > 0 {
			p := r.Weight / sum
			sq += p * p
			s.MaxRelative = math.Max(s.MaxRelative, p*float64(len(recs)))
		}
	}
	if sq > 0 {
		s.ESS = 1 / sq
	}
	return s
}

// relativeWeights returns p_i·|D| for every record (1 = the uniform weight),
// normalising the weights first; all zeros when they sum to 0.
func relativeWeights(recs []training.SelectionRecord) []float64 {
	var sum float64
	for _, r := range recs {
		sum += r.Weight
	}
	out := make([]float64, len(recs))
	if sum <= 0 {
		return out
	}
	for i, r := range recs {
		out[i] = r.Weight / sum * float64(len(recs))
	}
	return out
}

// Scatter geometry: a square plot with the colour bar on its right.
const (
	scatterW    = 620.0
	scatterPlot = 430.0
)

// entropyScatter draws weak entropy (x) against strong entropy (y) per
// sample on equal axes, with the diagonal H_s = H_w, each dot coloured by
// its relative sampling weight (viridis) and hollow when never drawn.
func entropyScatter(recs []training.SelectionRecord) chart {
	c := chart{ID: "entropy", Label: "weak versus strong entropy per sample, coloured by sampling weight", W: scatterW}
	items := []legendItem{
		{Kind: "dot", Color: viridis(0.55), Label: "drawn ≥ 1 time"},
		{Kind: "hollow", Color: viridis(0.55), Label: "never drawn"},
		{Kind: "line", Color: "#555", Dash: "5 4", Label: "H_strong = H_weak"},
	}
	legend, lh := layoutLegend(items, marginLeft, scatterW-20, 4)
	c.Legend = legend
	top := 4 + lh + 10
	c.Plot = box{X: marginLeft, Y: top, W: scatterPlot, H: scatterPlot}
	c.H = top + scatterPlot + marginBot

	rel := relativeWeights(recs)
	type pt struct {
		w, s, rel float64
		i, draws  int
	}
	var pts []pt
	var xs []float64
	for i, r := range recs {
		if r.WeakEntropy == nil || r.StrongEntropy == nil || !finite(*r.WeakEntropy) || !finite(*r.StrongEntropy) {
			continue
		}
		pts = append(pts, pt{*r.WeakEntropy, *r.StrongEntropy, rel[i], r.Index, r.Draws})
		xs = append(xs, *r.WeakEntropy, *r.StrongEntropy)
	}
	lo, hi, ok := extent(xs)
	if !ok {
		c.Empty = "no entropies"
		lo, hi = 0, 1
	}
	a := niceAxis(math.Min(lo, 0), hi, 6)
	ax, ay := a, a
	ax.P0, ax.P1 = c.Plot.X, c.Plot.X+c.Plot.W
	ay.P0, ay.P1 = c.Plot.Y+c.Plot.H, c.Plot.Y
	c.addAxes(ax, ay, "weak entropy H(M0; x), nats/token", "strong entropy H(M1; x), nats/token")
	c.Guides = append(c.Guides, guide{seg: seg{ax.px(a.D0), ay.px(a.D0), ax.px(a.D1), ay.px(a.D1)}, Color: "#555", Dash: "5 4", Opacity: 1})
	c.Texts = append(c.Texts,
		text{X: c.Plot.X + c.Plot.W - 8, Y: c.Plot.Y + c.Plot.H - 10, Anchor: "end", Size: 11, Color: "#444", Text: "below: entropy fell (ΔH < 0)"},
		text{X: c.Plot.X + 8, Y: c.Plot.Y + 16, Anchor: "start", Size: 11, Color: "#444", Text: "above: entropy rose (ΔH > 0)"})

	ca := weightAxis(rel)
	// Heavier samples are drawn last, on top.
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].rel < pts[j].rel })
	for _, p := range pts {
		col := viridis(ca.frac(p.rel))
		d := dot{X: ax.px(p.w), Y: ay.px(p.s), R: 3.2, Fill: col, Stroke: "#333", SW: 0.4,
			Title: fmt.Sprintf("sample %d: H_weak %.3f, H_strong %.3f, ΔH %+.3f, weight %.3g× uniform, drawn %d", p.i, p.w, p.s, p.s-p.w, p.rel, p.draws)}
		if p.draws == 0 {
			d.Fill, d.Stroke, d.SW = "none", col, 1.3
		}
		c.Dots = append(c.Dots, d)
	}

	cb := &colorBar{box: box{X: c.Plot.X + c.Plot.W + 26, Y: c.Plot.Y, W: 14, H: c.Plot.H}, GradientID: "weightbar"}
	for i := 0; i <= 8; i++ {
		t := float64(i) / 8
		cb.Stops = append(cb.Stops, gradStop{Offset: fmt.Sprintf("%.1f%%", 100*t), Color: viridis(t)})
	}
	ca.P0, ca.P1 = cb.Y+cb.H, cb.Y
	for _, e := range ca.Ticks {
		cb.Ticks = append(cb.Ticks, tick{X: cb.X + cb.W, Y: ca.px(e), Label: pow2Label(e)})
	}
	cb.Label = text{X: cb.X + cb.W + 48, Y: cb.Y + cb.H/2, Anchor: "middle", Size: fontSize, Color: "#222", Text: "sampling weight p·|D| (1 = uniform), log scale"}
	c.ColorBar = cb
	return c
}

// weightAxis is the log₂ axis of the positive relative weights in rel.
func weightAxis(rel []float64) axis {
	lo, hi := math.Inf(1), 0.0
	for _, v := range rel {
		if v > 0 && finite(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	return log2Axis(lo, hi)
}

// frac returns where v > 0 lies on log₂ axis a, as a fraction in [0, 1]
// (0 for v ≤ 0).
func (a axis) frac(v float64) float64 {
	if !(v > 0) {
		return 0
	}
	return math.Max(0, math.Min(1, (math.Log2(v)-a.D0)/(a.D1-a.D0)))
}

// weightHistogram draws the histogram of the relative sampling weights
// p_i·|D| on a log₂ axis (equal-width bins in log₂), with the uniform
// weight 1 marked. Zero weights cannot be placed on it and are counted in
// the legend instead.
func weightHistogram(recs []training.SelectionRecord) chart {
	const w = 410.0
	c := chart{ID: "weights", Label: "histogram of sampling weights", W: w}
	c.H = 46 + scatterPlot + marginBot
	c.Plot = box{X: 58, Y: 46, W: w - 58 - marginRight, H: scatterPlot}
	rel := relativeWeights(recs)
	ax := weightAxis(rel)
	ax.P0, ax.P1 = c.Plot.X, c.Plot.X+c.Plot.W
	bins := int(math.Ceil(math.Sqrt(float64(len(rel)))))
	bins = max(5, min(bins, 40))
	width := (ax.D1 - ax.D0) / float64(bins)
	counts := make([]int, bins)
	zeros, placed := 0, 0
	for _, v := range rel {
		if !(v > 0) {
			zeros++
			continue
		}
		k := int(math.Floor((math.Log2(v) - ax.D0) / width))
		counts[max(0, min(k, bins-1))]++
		placed++
	}
	if placed == 0 {
		c.Empty = "no positive weights"
	}
	top := 0
	for _, n := range counts {
		top = max(top, n)
	}
	ay := niceAxis(0, math.Max(float64(top), 1), max(3, int(c.Plot.H/45)))
	if ay.Step < 1 { // counts are whole numbers
		ay = niceAxis(0, math.Max(float64(top), 1), int(math.Max(float64(top), 1))+1)
	}
	ay.P0, ay.P1 = c.Plot.Y+c.Plot.H, c.Plot.Y
	c.addAxes(ax, ay, "sampling weight p·|D| (1 = uniform), log scale", "samples")
	for i, e := range ax.Ticks {
		c.XTicks[i].Label = pow2Label(e)
	}
	c.YLabel.X = 14
	for k, n := range counts {
		if n == 0 {
			continue
		}
		x0, x1 := ax.px(ax.D0+float64(k)*width), ax.px(ax.D0+float64(k+1)*width)
		c.Bars = append(c.Bars, box{X: x0 + 0.5, Y: ay.px(float64(n)), W: math.Max(x1-x0-1, 0.5), H: ay.px(0) - ay.px(float64(n))})
	}
	if placed > 0 {
		x := ax.px(0)
		c.Guides = append(c.Guides, guide{seg: seg{x, c.Plot.Y, x, c.Plot.Y + c.Plot.H}, Color: "#D55E00", Dash: "5 4", Opacity: 1})
		c.Texts = append(c.Texts, text{X: x + 5, Y: c.Plot.Y + 14, Anchor: "start", Size: 11, Color: "#D55E00", Text: "uniform"})
	}
	label := fmt.Sprintf("%d samples in %d bins", placed, bins)
	if zeros > 0 {
		label += fmt.Sprintf("; %d with weight 0 not shown", zeros)
	}
	c.Legend = []legendItem{{X: c.Plot.X + 12, Y: 20, Kind: "box", Color: "#0072B2", Label: label}}
	return c
}

package report_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"html"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/internal/report"
	"github.com/wmss/wmss/training"
)

// node is a generic XML element, enough to walk the rendered page.
type node struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []node     `xml:",any"`
	Text     string     `xml:",chardata"`
}

func (n *node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n *node) num(t *testing.T, name string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(n.attr(name), 64)
	if err != nil {
		t.Fatalf("<%s %s=%q>: %v", n.XMLName.Local, name, n.attr(name), err)
	}
	return v
}

// all returns the elements under n (n included) for which keep is true.
func (n *node) all(keep func(*node) bool) []*node {
	var out []*node
	var walk func(*node)
	walk = func(m *node) {
		if keep(m) {
			out = append(out, m)
		}
		for i := range m.Children {
			walk(&m.Children[i])
		}
	}
	walk(n)
	return out
}

// text returns the concatenated character data under n.
func (n *node) text() string {
	var b strings.Builder
	b.WriteString(n.Text)
	for i := range n.Children {
		b.WriteString(n.Children[i].text())
	}
	return b.String()
}

func tag(name string, attrs ...string) func(*node) bool {
	return func(n *node) bool {
		if n.XMLName.Local != name {
			return false
		}
		for i := 0; i+1 < len(attrs); i += 2 {
			if n.attr(attrs[i]) != attrs[i+1] {
				return false
			}
		}
		return true
	}
}

// render renders in and parses the whole page as strict XML: the page is
// written as well-formed XHTML-compatible markup, so this is the check that
// every tag is closed and every attribute quoted. The page is returned with
// its character references decoded, for text searches.
func render(t *testing.T, in *report.Input) (string, *node) {
	t.Helper()
	var buf bytes.Buffer
	if err := report.Render(&buf, in); err != nil {
		t.Fatal(err)
	}
	var root node
	if err := xml.Unmarshal(buf.Bytes(), &root); err != nil {
		t.Fatalf("page is not well-formed: %v", err)
	}
	return html.UnescapeString(buf.String()), &root
}

func svgOf(t *testing.T, root *node, id string) *node {
	t.Helper()
	s := root.all(tag("svg", "data-chart", id))
	if len(s) != 1 {
		t.Fatalf("found %d charts %q, want 1", len(s), id)
	}
	return s[0]
}

type pt struct{ x, y float64 }

func points(t *testing.T, p *node) []pt {
	t.Helper()
	var out []pt
	for _, f := range strings.Fields(p.attr("points")) {
		xs, ys, ok := strings.Cut(f, ",")
		x, err1 := strconv.ParseFloat(xs, 64)
		y, err2 := strconv.ParseFloat(ys, 64)
		if !ok || err1 != nil || err2 != nil {
			t.Fatalf("bad point %q", f)
		}
		out = append(out, pt{x, y})
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) <= 0.011 }

// plotRect returns the plotting area of a chart: x, y of its top-left
// corner, width, height.
func plotRect(t *testing.T, svg *node) (x, y, w, h float64) {
	t.Helper()
	r := svg.all(tag("rect", "class", "plot"))
	if len(r) != 1 {
		t.Fatalf("found %d plot rects", len(r))
	}
	return r[0].num(t, "x"), r[0].num(t, "y"), r[0].num(t, "width"), r[0].num(t, "height")
}

// tickAt returns the label of the tick text of class cls at coordinate
// attr == v, or "".
func tickLabels(svg *node, cls string) []*node { return svg.all(tag("text", "class", cls)) }

func linearRun(name string, n int, f func(step int) float64) report.Run {
	r := report.Run{Name: name}
	for s := 1; s <= n; s++ {
		r.Metrics = append(r.Metrics, wmss.Metric{Phase: "sft", Step: s, Values: map[string]float64{"loss": f(s), "lr": 1e-3}})
	}
	return r
}

// TestLossPolylineGeometry checks the pixel coordinates of a known series:
// loss 10 at step 1 falling linearly to 2 at step 100 must give an x axis
// 0…100 and a y axis 2…10, so step 100 sits on the plot's right edge and
// bottom, and step 1 on its top, one hundredth of the width from the left.
func TestLossPolylineGeometry(t *testing.T) {
	in := &report.Input{Runs: []report.Run{linearRun("A", 100, func(s int) float64 { return 10 - 8*float64(s-1)/99 })}}
	_, root := render(t, in)
	svg := svgOf(t, root, "loss")
	x, y, w, h := plotRect(t, svg)

	xt := tickLabels(svg, "xtick")
	if first, last := xt[0], xt[len(xt)-1]; first.text() != "0" || last.text() != "100" ||
		!near(first.num(t, "x"), x) || !near(last.num(t, "x"), x+w) {
		t.Fatalf("x ticks %q at %v … %q at %v, want 0 at %v … 100 at %v", first.text(), first.attr("x"), last.text(), last.attr("x"), x, x+w)
	}
	yt := tickLabels(svg, "ytick")
	if first, last := yt[0], yt[len(yt)-1]; first.text() != "2" || last.text() != "10" {
		t.Fatalf("y ticks %q … %q, want 2 … 10", first.text(), last.text())
	}

	raw := svg.all(tag("polyline", "data-series", "A", "class", "raw"))
	if len(raw) != 1 {
		t.Fatalf("found %d raw polylines for A", len(raw))
	}
	ps := points(t, raw[0])
	if len(ps) != 100 || raw[0].attr("data-n") != "100" {
		t.Fatalf("raw polyline has %d points (data-n %s), want 100", len(ps), raw[0].attr("data-n"))
	}
	if p := ps[0]; !near(p.x, x+w/100) || !near(p.y, y) {
		t.Errorf("step 1 (loss 10) at %v, want (%.2f, %.2f)", p, x+w/100, y)
	}
	if p := ps[99]; !near(p.x, x+w) || !near(p.y, y+h) {
		t.Errorf("step 100 (loss 2) at %v, want (%.2f, %.2f)", p, x+w, y+h)
	}
	if p := ps[49]; !near(p.y, y+h*(1-(10-8*49.0/99-2)/8)) {
		t.Errorf("step 50 at y %v, want %.2f", p.y, y+h*(1-(10-8*49.0/99-2)/8))
	}
	// 100 points ≥ the smoothing threshold: a trailing mean is drawn too.
	if sm := svg.all(tag("polyline", "data-series", "A", "class", "smooth")); len(sm) != 1 || len(points(t, sm[0])) != 100 {
		t.Errorf("want one smoothed polyline of 100 points, got %d", len(sm))
	}
}

// TestNonFiniteSkipped: NaN and ±Inf values are left out of the polyline
// and counted under the chart; they never reach the page as "NaN".
func TestNonFiniteSkipped(t *testing.T) {
	r := linearRun("A", 20, func(s int) float64 { return float64(s) })
	r.Metrics[3].Values["loss"] = math.NaN()
	r.Metrics[7].Values["loss"] = math.Inf(1)
	r.Metrics[8].Values["loss"] = math.Inf(-1)
	out, root := render(t, &report.Input{Runs: []report.Run{r}})
	svg := svgOf(t, root, "loss")
	raw := svg.all(tag("polyline", "data-series", "A", "class", "raw"))
	if n := len(points(t, raw[0])); n != 17 {
		t.Errorf("polyline has %d points, want 17 (20 minus 3 non-finite)", n)
	}
	if !strings.Contains(out, "A: 3 non-finite value(s) skipped.") {
		t.Error("the skipped values are not counted under the chart")
	}
	if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
		t.Error("a non-finite number reached the page")
	}
}

// TestPhasesOnGlobalSteps: the joint phase's step 1 follows the SFT
// phase's last step, held-out metrics are not plotted, and the joint phase
// is marked.
func TestPhasesOnGlobalSteps(t *testing.T) {
	r := report.Run{Name: "WMSS"}
	for s := 1; s <= 50; s++ {
		r.Metrics = append(r.Metrics, wmss.Metric{Phase: "sft", Step: s, Values: map[string]float64{"loss": 3}})
	}
	r.Metrics = append(r.Metrics, wmss.Metric{Phase: "heldout.sft", Step: 50, Values: map[string]float64{"loss": 99}})
	for s := 1; s <= 50; s++ {
		r.Metrics = append(r.Metrics, wmss.Metric{Phase: "joint", Step: s, Values: map[string]float64{"loss": 2, "lambda": 0.5}})
	}
	out, root := render(t, &report.Input{Runs: []report.Run{r}})
	svg := svgOf(t, root, "loss")
	x, _, w, _ := plotRect(t, svg)
	ps := points(t, svg.all(tag("polyline", "class", "raw"))[0])
	if len(ps) != 100 {
		t.Fatalf("%d points, want 100 (held-out metric not plotted)", len(ps))
	}
	if !near(ps[50].x, x+w*51/100) {
		t.Errorf("joint step 1 at x %v, want global step 51 at %.2f", ps[50].x, x+w*51/100)
	}
	guides := svg.all(tag("line", "class", "guide"))
	if len(guides) != 1 || !near(guides[0].num(t, "x1"), x+w/2) {
		t.Errorf("want one phase boundary at step 50 (x %.2f), got %d", x+w/2, len(guides))
	}
	if !strings.Contains(svg.text(), "joint") {
		t.Error("the joint phase is not labelled")
	}
	if !strings.Contains(out, "after sft: 99.000 nats/token") {
		t.Error("held-out loss missing from the run table")
	}
	// λ is drawn only over the joint steps, on the fixed axis 0…1.
	lam := svgOf(t, root, "lambda")
	lx, ly, lw, lh := plotRect(t, lam)
	lp := points(t, lam.all(tag("polyline", "class", "raw"))[0])
	if len(lp) != 50 || !near(lp[0].x, lx+lw*51/100) || !near(lp[0].y, ly+lh/2) {
		t.Errorf("λ polyline: %d points starting at %v, want 50 from (%.2f, %.2f)", len(lp), lp[0], lx+lw*51/100, ly+lh/2)
	}
}

// TestEdgeSeries: an empty run, a single point and a constant series all
// render on a non-degenerate axis.
func TestEdgeSeries(t *testing.T) {
	t.Run("Empty", func(t *testing.T) {
		_, root := render(t, &report.Input{Runs: []report.Run{{Name: "A"}}})
		svg := svgOf(t, root, "loss")
		if len(svg.all(tag("polyline"))) != 0 {
			t.Error("an empty run drew a line")
		}
		if e := svg.all(tag("text", "class", "empty")); len(e) != 1 || e[0].text() != "no data" {
			t.Error(`no "no data" note on an empty chart`)
		}
	})
	t.Run("SinglePoint", func(t *testing.T) {
		_, root := render(t, &report.Input{Runs: []report.Run{linearRun("A", 1, func(int) float64 { return 2.5 })}})
		svg := svgOf(t, root, "loss")
		x, y, w, h := plotRect(t, svg)
		ps := points(t, svg.all(tag("polyline", "class", "raw"))[0])
		if len(ps) != 1 {
			t.Fatalf("%d points, want 1", len(ps))
		}
		c := svg.all(tag("circle"))
		if len(c) != 1 || !near(c[0].num(t, "cx"), ps[0].x) || !near(c[0].num(t, "cy"), ps[0].y) {
			t.Fatalf("a single point needs a visible marker at %v", ps[0])
		}
		if ps[0].x <= x || ps[0].x > x+w || ps[0].y <= y || ps[0].y >= y+h {
			t.Errorf("point %v not inside the plot (%v,%v,%v,%v)", ps[0], x, y, w, h)
		}
		var xs []string
		for _, l := range tickLabels(svg, "xtick") {
			xs = append(xs, l.text())
		}
		if strings.Join(xs, " ") != "0 1" {
			t.Errorf("x ticks %q, want whole optimizer steps 0 1", xs)
		}
	})
	t.Run("Constant", func(t *testing.T) {
		_, root := render(t, &report.Input{Runs: []report.Run{linearRun("A", 30, func(int) float64 { return 4 })}})
		svg := svgOf(t, root, "loss")
		_, y, _, h := plotRect(t, svg)
		yt := tickLabels(svg, "ytick")
		seen := map[string]bool{}
		for _, l := range yt {
			if seen[l.text()] {
				t.Errorf("duplicate y tick %q", l.text())
			}
			seen[l.text()] = true
		}
		if len(yt) < 3 {
			t.Errorf("%d y ticks on a constant series", len(yt))
		}
		for _, p := range points(t, svg.all(tag("polyline", "class", "raw"))[0]) {
			if !near(p.y, y+h/2) {
				t.Fatalf("constant 4 drawn at y %v, want the middle %.2f of an axis around it", p.y, y+h/2)
			}
		}
	})
}

func evalInput() *report.Input {
	return &report.Input{
		Model: report.Model{Parameters: 4_000_000},
		Data:  report.Data{EvalSlices: []report.EvalSlice{{Benchmark: "gsm8k", Name: "GSM8K", Problems: 100}, {Benchmark: "svamp", Problems: 50}}},
		Eval: report.EvalTable{Rows: []report.EvalRow{
			{Model: "M0", Role: report.RoleBase, Values: map[string]float64{"gsm8k_strict": 0.10, "svamp": 0.30, "heldout_loss": 2.0}},
			{Model: "SFT", Role: report.RoleBaseline, Values: map[string]float64{"gsm8k_strict": 0.50, "gsm8k_flexible": 0.20, "svamp": 0.30, "heldout_loss": 1.5}},
			{Model: "WMSS", Role: report.RoleWMSS, Values: map[string]float64{"gsm8k_strict": 0.40, "gsm8k_flexible": math.NaN(), "svamp": 0.2999, "heldout_loss": 1.501}},
		}},
	}
}

// cells returns the evaluation table's cells by row model and column key.
func cells(t *testing.T, root *node) map[[2]string]*node {
	t.Helper()
	tables := root.all(tag("table", "class", "eval"))
	if len(tables) != 1 {
		t.Fatalf("%d evaluation tables", len(tables))
	}
	out := map[[2]string]*node{}
	for _, tr := range tables[0].all(tag("tr")) {
		tds := tr.all(tag("td"))
		if len(tds) == 0 {
			continue
		}
		for _, td := range tds[1:] {
			out[[2]string{tds[0].text(), td.attr("data-key")}] = td
		}
	}
	return out
}

// TestEvalTableBest: the best cell of each column is marked (largest
// accuracy, smallest loss, ties at the shown precision all marked), missing
// and non-finite cells show "—", and accuracies carry their 95% Wilson
// interval (50/100 → 40.4–59.6, Wilson 1927).
func TestEvalTableBest(t *testing.T) {
	out, root := render(t, evalInput())
	c := cells(t, root)
	best := func(model, key string) bool {
		td := c[[2]string{model, key}]
		if td == nil {
			t.Fatalf("no cell %s/%s", model, key)
		}
		return strings.Contains(" "+td.attr("class")+" ", " best ")
	}
	want := map[[2]string]bool{
		{"M0", "gsm8k_strict"}: false, {"SFT", "gsm8k_strict"}: true, {"WMSS", "gsm8k_strict"}: false,
		{"SFT", "gsm8k_flexible"}: true, {"WMSS", "gsm8k_flexible"}: false, {"M0", "gsm8k_flexible"}: false,
		// 0.30 and 0.2999 both show as 30.0: a tie.
		{"M0", "svamp"}: true, {"SFT", "svamp"}: true, {"WMSS", "svamp"}: true,
		{"M0", "heldout_loss"}: false, {"SFT", "heldout_loss"}: true, {"WMSS", "heldout_loss"}: false,
	}
	for k, w := range want {
		if got := best(k[0], k[1]); got != w {
			t.Errorf("%s/%s best = %v, want %v", k[0], k[1], got, w)
		}
	}
	for _, k := range [][2]string{{"M0", "gsm8k_flexible"}, {"WMSS", "gsm8k_flexible"}} {
		if td := c[k]; td.attr("class") != "missing" || td.text() != "—" {
			t.Errorf("%v: class %q text %q, want a missing cell", k, td.attr("class"), td.text())
		}
	}
	if got := strings.TrimSpace(c[[2]string{"SFT", "gsm8k_strict"}].text()); got != "50.0 [40.4–59.6]" {
		t.Errorf("SFT gsm8k strict = %q, want 50.0 [40.4–59.6]", got)
	}
	if got := strings.TrimSpace(c[[2]string{"SFT", "heldout_loss"}].text()); got != "1.500" {
		t.Errorf("SFT held-out loss = %q, want 1.500", got)
	}
	if !strings.Contains(out, "1 non-finite value(s) are shown as missing") {
		t.Error("the non-finite cell is not counted")
	}
	// The comparison sentences: the paper's GSM8K numbers, and this run's
	// difference against the chance band 1.96·√(.5·.5/100 + .4·.6/100) = 13.7 points.
	for _, s := range []string{
		"83.9% after SFT and 88.5% with WMSS",
		"GSM8K strict: SFT baseline 50.0%, WMSS 40.0% (-10.0 points, n = 100).",
		"±13.7 points by chance (95%); this difference is within that band.",
		"held-out loss: SFT baseline 1.500, WMSS 1.501 nats/token (+0.001; lower is better).",
		"The paper reports no SVAMP result.",
		"4 M parameters here, against about 4 billion (Qwen3-4B-Base) and 8 billion (Qwen3-8B-Base) in the paper — about 1/1,000 of the smaller one.",
		"A model of 4 M parameters is far from the paper's setting.",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("page lacks %q", s)
		}
	}
}

func f64(v float64) *float64 { return &v }

// TestCurriculumCharts: the scatter has one dot per sample with finite
// entropies (hollow when never drawn) and the diagonal from corner to
// corner; the histogram counts relative weights p·|D| in log₂ bins.
func TestCurriculumCharts(t *testing.T) {
	recs := []training.SelectionRecord{
		{Index: 0, WeakEntropy: f64(1), StrongEntropy: f64(0.5), Weight: 1, Draws: 1},
		{Index: 1, WeakEntropy: f64(2), StrongEntropy: f64(1), Weight: 1, Draws: 0},
		{Index: 2, WeakEntropy: f64(3), StrongEntropy: f64(3.5), Weight: 2, Draws: 2},
		{Index: 3, WeakEntropy: f64(math.NaN()), StrongEntropy: f64(1), Weight: 4, Draws: 1},
		{Index: 4, Weight: 0},
	}
	out, root := render(t, &report.Input{Curriculum: recs})
	sc := svgOf(t, root, "entropy")
	x, y, w, h := plotRect(t, sc)
	dots := sc.all(func(n *node) bool { return n.XMLName.Local == "circle" && n.all(tag("title")) != nil })
	if len(dots) != 3 {
		t.Fatalf("%d dots, want 3 (one NaN entropy and one missing are skipped)", len(dots))
	}
	hollow := 0
	for _, d := range dots {
		if d.attr("fill") == "none" {
			hollow++
		}
	}
	if hollow != 1 {
		t.Errorf("%d hollow dots, want 1 (sample 1 never drawn)", hollow)
	}
	diag := sc.all(tag("line", "class", "guide"))
	if len(diag) != 1 {
		t.Fatalf("%d guides, want the diagonal", len(diag))
	}
	d := diag[0]
	if !near(d.num(t, "x1"), x) || !near(d.num(t, "y1"), y+h) || !near(d.num(t, "x2"), x+w) || !near(d.num(t, "y2"), y) {
		t.Errorf("diagonal (%s,%s)–(%s,%s), want the plot's corners", d.attr("x1"), d.attr("y1"), d.attr("x2"), d.attr("y2"))
	}
	if sc.all(tag("linearGradient")) == nil {
		t.Error("no colour bar gradient")
	}

	// Weights 1,1,2,4,0 sum to 8: relative weights 5/8·{1,1,2,4} and 0.
	// log₂ = −0.68, −0.68, 0.32, 1.32 on the axis −1…2, 5 bins of 0.6:
	// counts 2, 0, 1, 1, 0; the zero weight is not placed.
	hs := svgOf(t, root, "weights")
	bars := hs.all(tag("rect", "class", "bar"))
	if len(bars) != 3 {
		t.Fatalf("%d bars, want 3", len(bars))
	}
	if r := bars[0].num(t, "height") / bars[1].num(t, "height"); math.Abs(r-2) > 1e-3 {
		t.Errorf("bar heights ratio %v, want 2", r)
	}
	hx, _, hw, _ := plotRect(t, hs)
	for i, bin := range []float64{0, 2, 3} {
		if got, want := bars[i].num(t, "x"), hx+hw*bin/5+0.5; !near(got, want) {
			t.Errorf("bar %d at x %v, want bin %v at %.2f", i, got, bin, want)
		}
	}
	if !strings.Contains(hs.text(), "4 samples in 5 bins; 1 with weight 0 not shown") {
		t.Error("histogram legend does not count the zero weight")
	}
	for _, s := range []string{"5 samples: entropy fell (ΔH < 0) for 2 and rose for 1", "1 has no entropy", "1 has a non-finite entropy"} {
		if !strings.Contains(out, s) {
			t.Errorf("page lacks %q", s)
		}
	}
}

// TestSelfContained: no external URL, script or stylesheet link anywhere in
// the page, and every SVG fragment parses on its own as XML.
func TestSelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := report.Render(&buf, sampleInput(t)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"http:", "https:", "<script", "<link", "src=", "@import", "//cdn"} {
		if strings.Contains(out, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	for _, m := range regexp.MustCompile(`url\([^)]*\)`).FindAllString(out, -1) {
		if !strings.HasPrefix(m, "url(#") {
			t.Errorf("page references %s", m)
		}
	}
	frags := regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(out, -1)
	if len(frags) != 7 {
		t.Errorf("%d SVG charts, want 7", len(frags))
	}
	for i, f := range frags {
		var n node
		if err := xml.Unmarshal([]byte(f), &n); err != nil {
			t.Errorf("SVG %d is not well-formed: %v", i, err)
		}
	}
}

// TestValidate: malformed input is rejected with EINVALID naming the field.
func TestValidate(t *testing.T) {
	for _, c := range []struct {
		field string
		edit  func(*report.Input)
	}{
		{"runs[1].name", func(in *report.Input) { in.Runs = []report.Run{{Name: "A"}, {Name: "A"}} }},
		{"runs[0].name", func(in *report.Input) { in.Runs = []report.Run{{}} }},
		{"runs[0].metrics[0].phase", func(in *report.Input) { in.Runs = []report.Run{{Name: "A", Metrics: []wmss.Metric{{Step: 1}}}} }},
		{"curriculum[1].weight", func(in *report.Input) {
			in.Curriculum = []training.SelectionRecord{{Weight: 1}, {Weight: -0.1}}
		}},
		{"eval.rows[0].values.gsm8k_strict", func(in *report.Input) {
			in.Eval.Rows = []report.EvalRow{{Model: "M0", Values: map[string]float64{"gsm8k_strict": 41.5}}}
		}},
		{"eval.rows[0].values.mbpp", func(in *report.Input) {
			in.Eval.Rows = []report.EvalRow{{Model: "M0", Values: map[string]float64{"mbpp": 0.3}}}
		}},
		{"eval.columns[1].key", func(in *report.Input) {
			in.Eval.Columns = []report.EvalColumn{{Key: "a", Kind: report.Loss}, {Key: "a", Kind: report.Loss}}
		}},
		{"eval.columns[0].kind", func(in *report.Input) { in.Eval.Columns = []report.EvalColumn{{Key: "a", Kind: "pass@k"}} }},
	} {
		t.Run(c.field, func(t *testing.T) {
			in := &report.Input{}
			c.edit(in)
			err := report.Render(&bytes.Buffer{}, in)
			var we *wmss.Error
			if !errors.As(err, &we) || we.Code != wmss.EINVALID || we.Field != c.field {
				t.Fatalf("err = %v, want EINVALID on %s", err, c.field)
			}
		})
	}
}

// TestWriteFileAtomic: WriteFile replaces the file whole, leaves no
// temporary file, and on bad input leaves the old file untouched.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := &report.Input{Runs: []report.Run{{}}}
	if err := report.WriteFile(path, bad); wmss.ErrorCode(err) != wmss.EINVALID {
		t.Fatalf("err = %v, want EINVALID", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatal("a failed write changed the file")
	}
	in := evalInput()
	if err := report.WriteFile(path, in); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := report.Render(&want, in); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, want.Bytes()) {
		t.Error("file differs from Render's output")
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("%d entries in the directory, want only report.html", len(ents))
	}
	if err := report.WriteFile(filepath.Join(dir, "missing", "r.html"), in); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

// BenchmarkRender measures rendering the sample report (200 steps, 400
// curriculum samples).
func BenchmarkRender(b *testing.B) {
	in := sampleInput(b)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := report.Render(&buf, in); err != nil {
			b.Fatal(err)
		}
	}
}

// TestB01StrictAndFlexible (cases/scoring-cases.md B01): GSM8K is reported
// with strict and flexible accuracy as separate columns, never strict alone.
func TestB01StrictAndFlexible(t *testing.T) {
	_, root := render(t, &report.Input{Eval: report.EvalTable{Rows: []report.EvalRow{
		{Model: "M1", Values: map[string]float64{"gsm8k_strict": 0.02, "gsm8k_flexible": 0.31}},
	}}})
	c := cells(t, root)
	if s, f := c[[2]string{"M1", "gsm8k_strict"}], c[[2]string{"M1", "gsm8k_flexible"}]; s == nil || f == nil ||
		!strings.HasPrefix(s.text(), "2.0") || !strings.HasPrefix(f.text(), "31.0") {
		t.Fatalf("want separate strict (2.0) and flexible (31.0) cells, got %v / %v", s, f)
	}
}

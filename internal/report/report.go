package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
)

//go:embed report.html.tmpl
var pageSource string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"f":    coord,
	"add":  func(a, b float64) float64 { return a + b },
	"half": func(a float64) float64 { return a / 2 },
	"inc":  func(n int) int { return n + 1 },
}).Parse(pageSource))

// qwen3_4BParameters is the size of the paper's smaller model,
// Qwen3-4B-Base (about 4.0 billion parameters).
const qwen3_4BParameters = 4.0e9

// view is what the page template reads.
type view struct {
	Title         string
	Facts         []fact
	Setting       []string
	Runs          []runView
	Loss          chart
	Gap           chart
	NegMass       chart
	HasJoint      bool
	Lambda        chart
	LR            chart
	Scatter       chart
	HasCurriculum bool
	Hist          chart
	Selection     string
	Table         tableView
	Benchmark     []benchNote
	Notes         []string
}

type fact struct{ Key, Value string }

type runView struct {
	Name    string
	Color   string
	Phases  []phaseRow
	Heldout string
}

type phaseRow struct {
	Name, Steps, Logged, Tokens, FinalLoss, TokensPerS string
}

// Render validates in and writes the report to w as one HTML document. It
// returns Validate's EINVALID error for a malformed input, before writing
// anything.
func Render(w io.Writer, in *Input) error {
	if err := in.Validate(); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, build(in)); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// WriteFile renders in to path atomically: the report is written to a
// temporary file in path's directory, synced, and renamed over path, so a
// reader sees the old file or the complete new one. The file gets mode 0644.
func WriteFile(path string, in *Input) (err error) {
	var buf bytes.Buffer
	if err := Render(&buf, in); err != nil {
		return err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}

// build turns a validated input into the template's view.
func build(in *Input) view {
	v := view{Title: in.Title, Notes: in.Notes}
	if v.Title == "" {
		v.Title = "WMSS versus SFT"
	}
	v.Facts = facts(in)
	v.Setting = setting(in)

	runs := make([]runData, len(in.Runs))
	for i, r := range in.Runs {
		runs[i] = layoutRun(r, runColor(i))
		v.Runs = append(v.Runs, runTable(runs[i]))
	}
	v.Loss = metricChart(runs, "loss", lineOpts{ID: "loss", Label: "training loss per optimizer step",
		XLabel: "global optimizer step", YLabel: "loss, nats/token", W: 1040, H: 380}, true)
	v.Gap = metricChart(runs, "logit_gap", lineOpts{ID: "gap", Label: "logit gap per optimizer step",
		XLabel: "global optimizer step", YLabel: "logit gap z[y] − mean z[k≠y]", W: 1040, H: 340}, true)
	v.NegMass, v.HasJoint = negMassChart(runs)
	v.Lambda = metricChart(runs, "lambda", lineOpts{ID: "lambda", Label: "λ schedule",
		XLabel: "global optimizer step", YLabel: "λ (weight of strong logits)", W: 515, H: 270, YFix: &[2]float64{0, 1}}, false)
	v.LR = metricChart(runs, "lr", lineOpts{ID: "lr", Label: "learning-rate schedule",
		XLabel: "global optimizer step", YLabel: "learning rate", W: 515, H: 270, YZero: true}, false)
	v.HasCurriculum = len(in.Curriculum) > 0
	v.Scatter = entropyScatter(in.Curriculum)
	v.Hist = weightHistogram(in.Curriculum)
	v.Selection = selectionText(summarizeCurriculum(in.Curriculum))
	v.Table = buildTable(in.Eval, in.Data.EvalSlices)
	v.Benchmark = benchmarkNotes(in.Eval, in.Data.EvalSlices)
	return v
}

// metricChart draws metric name for every run that has it, with the
// phase strips of every run that has phases (so that charts side by side
// line up, and a run without the metric still shows where it trained).
func metricChart(runs []runData, name string, o lineOpts, smoothed bool) chart {
	var ss []lineSeries
	for _, r := range runs {
		if len(r.Phases) > 0 {
			o.Strips = append(o.Strips, strip{Run: r.Name, Color: r.Color, Phases: r.Phases})
		}
		xs, ys, ph, skipped := r.series(name, nil)
		if len(xs) == 0 && skipped == 0 {
			continue
		}
		ss = append(ss, lineSeries{Name: r.Name, Color: r.Color, X: xs, Y: ys, Phases: ph, Smooth: smoothed, Skipped: skipped})
	}
	return lineChart(o, ss)
}

// negMassChart draws, over the joint phase of every run that has one, the
// negative mass Σ_{k≠y} P(k) of the strong and of the mixed distribution,
// and the mass on hard negatives (dashed). ok is false when no run has a
// joint phase with these statistics.
func negMassChart(runs []runData) (chart, bool) {
	type m struct{ key, label, color, dash string }
	metrics := []m{
		{"negative_mass_strong", "negative mass, strong P_s", "#0072B2", ""},
		{"negative_mass_mixed", "negative mass, mixed P_mix", "#D55E00", ""},
		{"hard_negative_mass_strong", "hard-negative mass, strong", "#0072B2", "6 4"},
		{"hard_negative_mass_mixed", "hard-negative mass, mixed", "#D55E00", "6 4"},
	}
	var ss []lineSeries
	var strips []strip
	from := math.Inf(1)
	for _, r := range runs {
		if xs, _, _, sk := r.series("negative_mass_mixed", isJoint); len(xs) == 0 && sk == 0 {
			continue
		}
		var joint []phaseSpan
		for _, p := range r.Phases {
			if isJoint(p.Name) {
				joint = append(joint, p)
				from = math.Min(from, float64(p.Start))
			}
		}
		strips = append(strips, strip{Run: r.Name, Color: r.Color, Phases: joint})
		for _, mm := range metrics {
			xs, ys, ph, sk := r.series(mm.key, isJoint)
			if len(xs) == 0 && sk == 0 {
				continue
			}
			name := mm.label
			if len(runs) > 2 {
				name = r.Name + ": " + name
			}
			ss = append(ss, lineSeries{Name: name, Color: mm.color, Dash: mm.dash, X: xs, Y: ys, Phases: ph, Smooth: true, Skipped: sk})
		}
	}
	o := lineOpts{ID: "negmass", Label: "negative mass in the joint phase", XLabel: "global optimizer step",
		YLabel: "probability mass", W: 1040, H: 320, YZero: true, Strips: strips}
	if !math.IsInf(from, 1) {
		o.XFrom = &from
	}
	return lineChart(o, ss), len(ss) > 0
}

func runTable(r runData) runView {
	rv := runView{Name: r.Name, Color: r.Color}
	for _, p := range r.Phases {
		rv.Phases = append(rv.Phases, phaseRow{
			Name:       p.Name,
			Steps:      fmt.Sprintf("%d–%d", p.Start+1, p.End),
			Logged:     fmt.Sprint(p.Metrics),
			Tokens:     groupThousands(int64(p.Tokens)),
			FinalLoss:  num(p.FinalLoss, "%.3f"),
			TokensPerS: num(p.TokensPerS, "%.0f"),
		})
	}
	var hs []string
	for _, h := range r.Heldout {
		hs = append(hs, fmt.Sprintf("after %s: %s nats/token", h.After, num(h.Loss, "%.3f")))
	}
	rv.Heldout = strings.Join(hs, "; ")
	return rv
}

func selectionText(s curriculumStats) string {
	if s.Samples == 0 {
		return "No selection artifact was given."
	}
	t := fmt.Sprintf("%d samples: entropy fell (ΔH < 0) for %d and rose for %d", s.Samples, s.Fell, s.Rose)
	if s.Missing > 0 {
		t += fmt.Sprintf("; %s no entropy (weight 0, not plotted)", hasHave(s.Missing))
	}
	if s.NonFinite > 0 {
		t += fmt.Sprintf("; %s a non-finite entropy (skipped)", hasHave(s.NonFinite))
	}
	t += fmt.Sprintf(". Resampling drew %d indices, %d distinct samples (%.0f%%); the most drawn sample was drawn %d times. "+
		"Effective sample size 1/Σp² = %.0f of %d; the heaviest sample has %.2f× the uniform weight.",
		s.Drawn, s.Unique, 100*float64(s.Unique)/float64(s.Samples), s.MaxDraws, s.ESS, s.Samples, s.MaxRelative)
	return t
}

func facts(in *Input) []fact {
	m := in.Model
	model := orDash(m.SizeName)
	if m.Parameters > 0 {
		model += fmt.Sprintf(", %s parameters (%s)", humanCount(float64(m.Parameters)), groupThousands(m.Parameters))
	}
	if m.Architecture != "" {
		model += "; " + m.Architecture
	}
	d := in.Data
	data := "training set " + countOrDash(d.TrainSamples, "samples")
	if d.PretrainTokens > 0 {
		data += fmt.Sprintf("; base model pretrained on %s tokens", groupThousands(d.PretrainTokens))
	}
	if d.HeldoutSamples > 0 {
		data += fmt.Sprintf("; held-out loss set %d samples", d.HeldoutSamples)
	}
	var ev []string
	for _, s := range d.EvalSlices {
		ev = append(ev, fmt.Sprintf("%s: %d problems", orDash(s.Name), s.Problems))
	}
	generated := "—"
	if !in.Generated.IsZero() {
		generated = in.Generated.UTC().Format("2006-01-02 15:04 UTC")
	}
	return []fact{
		{"Generated", generated},
		{"Machine", orDash(in.Machine)},
		{"Model", model},
		{"Data", data},
		{"Evaluation slices", orDash(strings.Join(ev, "; "))},
		{"Budget", budgetText(in.Budget)},
		{"Seed", fmt.Sprint(in.Seed)},
	}
}

func budgetText(b Budget) string {
	if b == (Budget{}) {
		return "—"
	}
	s := fmt.Sprintf("SFT baseline: %s, %s optimizer steps. WMSS: %s (%s steps) + %s (%s steps)",
		plural(b.BaselineEpochs, "SFT epoch"), countOrDash(b.BaselineSteps, ""),
		plural(b.WMSSSFTEpochs, "SFT epoch"), countOrDash(b.WMSSSFTSteps, ""),
		plural(b.WMSSJointEpochs, "joint epoch"), countOrDash(b.WMSSJointSteps, ""))
	if b.WMSSSFTSteps > 0 && b.WMSSJointSteps > 0 {
		s += fmt.Sprintf(" = %d optimizer steps", b.WMSSSFTSteps+b.WMSSJointSteps)
	}
	s += "."
	if b.GlobalBatch > 0 {
		s += fmt.Sprintf(" Global batch %d samples.", b.GlobalBatch)
	}
	if b.MaxLength > 0 {
		s += fmt.Sprintf(" Max length %d tokens.", b.MaxLength)
	}
	return s
}

// setting returns the statements that put this run next to the paper's.
func setting(in *Input) []string {
	var out []string
	p := in.Model.Parameters
	if p > 0 {
		out = append(out, fmt.Sprintf("Model size: %s parameters here, against about 4 billion (Qwen3-4B-Base) and 8 billion (Qwen3-8B-Base) in the paper — about 1/%s of the smaller one.",
			humanCount(float64(p)), groupThousands(int64(math.Round(qwen3_4BParameters/float64(p))))))
	} else {
		out = append(out, "Model size: not given here; the paper trains Qwen3-4B-Base and Qwen3-8B-Base (about 4 and 8 billion parameters).")
	}
	train := "Training: training-set size not given"
	if n := in.Data.TrainSamples; n > 0 {
		train = fmt.Sprintf("Training: %s training samples", groupThousands(int64(n)))
	}
	if in.Machine != "" {
		train += " on " + in.Machine
	}
	out = append(out, train+"; the paper trains with a global batch of 512 sequences of up to 4096 tokens in bf16 on GPUs for about 4.5 hours.")
	var ev []string
	for _, sl := range in.Data.EvalSlices {
		ev = append(ev, fmt.Sprintf("%s (%d problems)", orDash(sl.Name), sl.Problems))
	}
	eval := "Evaluation: slices not given"
	if len(ev) > 0 {
		eval = "Evaluation: " + strings.Join(ev, ", ")
	}
	out = append(out, eval+"; the paper evaluates full test sets with greedy decoding and up to 4096 new tokens (8192 for AIME25 and AMC23).")
	far := "So these numbers show that the pipeline runs end to end; they say nothing about whether the paper's gains hold. "
	steps := max(in.Budget.BaselineSteps, in.Budget.WMSSSFTSteps+in.Budget.WMSSJointSteps)
	if p > 0 {
		far += "A model of " + humanCount(float64(p)) + " parameters"
		if steps > 0 {
			far += fmt.Sprintf(" trained for %s optimizer steps", groupThousands(int64(steps)))
			if bs := in.Budget.GlobalBatch; bs > 0 {
				far += fmt.Sprintf(" of %d samples", bs)
			}
		}
		far += " is far from the paper's setting."
	} else {
		far += "Compare the model size and budget above with the paper's before reading anything into them."
	}
	out = append(out, far)
	b := in.Budget
	if b.BaselineSteps > 0 && b.WMSSSFTSteps > 0 && b.WMSSJointSteps > 0 {
		wm := b.WMSSSFTSteps + b.WMSSJointSteps
		if wm == b.BaselineSteps {
			out = append(out, fmt.Sprintf("Budget: equal in optimizer steps (%d each), not in compute — a joint step runs forward and backward passes through both the strong and the weak model.", wm))
		} else {
			out = append(out, fmt.Sprintf("Budget: NOT equal in optimizer steps — the SFT baseline took %d and WMSS %d.", b.BaselineSteps, wm))
		}
	}
	return out
}

// hasHave writes "1 has" or "n have".
func hasHave(n int) string {
	if n == 1 {
		return "1 has"
	}
	return fmt.Sprintf("%d have", n)
}

// plural writes "1 epoch", "2 epochs", or "— epochs" for n ≤ 0.
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return countOrDash(n, "") + " " + unit + "s"
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func countOrDash(n int, unit string) string {
	if n <= 0 {
		return "—"
	}
	if unit == "" {
		return groupThousands(int64(n))
	}
	return groupThousands(int64(n)) + " " + unit
}

func num(v float64, format string) string {
	if !finite(v) {
		return "—"
	}
	return fmt.Sprintf(format, v)
}

// humanCount writes n with a k, M or B suffix and three significant digits.
func humanCount(n float64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.3g B", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.3g M", n/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.3g k", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}

// groupThousands writes n with commas between groups of three digits.
func groupThousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

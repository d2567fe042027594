package ciout

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/evalrun"
	"github.com/wmss/wmss/evaluators/paired"
)

// Gate kinds.
const (
	GateMin      = "min"
	GateBaseline = "baseline"
)

// Gate is the outcome of one gate on one benchmark.
type Gate struct {
	Kind string `json:"kind"` // GateMin or GateBaseline
	// Metric is what the gate read: "score" (mean@n), "strict",
	// "flexible" (GSM8K) or "pass@k".
	Metric string  `json:"metric"`
	Value  float64 `json:"value"`
	// Min is the threshold of a GateMin: it fails when Value < Min.
	Min *float64 `json:"min,omitempty"`
	// Baseline is the paired comparison of a GateBaseline (A = the
	// baseline, B = this run): it fails when the drop is significant.
	Baseline     *paired.Comparison `json:"baseline,omitempty"`
	BaselineFile string             `json:"baseline_file,omitempty"`
	// Skipped says the gate could not apply (the baseline lacks this
	// benchmark); a skipped gate passes.
	Skipped bool   `json:"skipped,omitempty"`
	Passed  bool   `json:"passed"`
	Message string `json:"message"`
}

// Min is one --min threshold: Benchmark's Metric must be ≥ Threshold.
type Min struct {
	Benchmark string
	Metric    string // "score", "strict", "flexible" or "pass@k"
	Threshold float64
}

// ParseMin parses a --min value: comma-separated BENCH=T or
// BENCH:METRIC=T entries, T in [0, 1], METRIC one of score (the default),
// strict, flexible or pass@k. Errors are EINVALID naming "min" and quote
// the bad entry.
func ParseMin(s string) ([]Min, error) {
	var out []Min
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, val, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, wmss.FieldErrorf("min", "%q: want BENCHMARK=THRESHOLD, e.g. gsm8k=0.35", entry)
		}
		m := Min{Metric: "score"}
		m.Benchmark, m.Metric, _ = strings.Cut(strings.TrimSpace(name), ":")
		if m.Metric == "" {
			m.Metric = "score"
		}
		if err := checkMetric(m.Metric); err != nil {
			return nil, wmss.FieldErrorf("min", "%q: %v", entry, err)
		}
		t, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || !(t >= 0 && t <= 1) {
			return nil, wmss.FieldErrorf("min", "%q: threshold must be a number in [0, 1]", entry)
		}
		m.Threshold = t
		for _, o := range out {
			if o.Benchmark == m.Benchmark && o.Metric == m.Metric {
				return nil, wmss.FieldErrorf("min", "%q: %s %s named twice", entry, m.Benchmark, m.Metric)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

func checkMetric(m string) error {
	switch m {
	case "score", "strict", "flexible":
		return nil
	}
	if k, ok := strings.CutPrefix(m, "pass@"); ok {
		if n, err := strconv.Atoi(k); err == nil && n >= 1 {
			return nil
		}
	}
	return fmt.Errorf("unknown metric %q (want score, strict, flexible or pass@K)", m)
}

// CheckMins checks before a run that every threshold names a benchmark
// being evaluated and a metric it will have: strict and flexible only for
// gsm8k, pass@K only for a K in ks. Errors are EINVALID naming "min".
func CheckMins(mins []Min, names []string, ks []int) error {
	for _, m := range mins {
		if !slices.Contains(names, m.Benchmark) {
			return wmss.FieldErrorf("min", "%s is not among the benchmarks evaluated (%s)", m.Benchmark, strings.Join(names, ","))
		}
		if (m.Metric == "strict" || m.Metric == "flexible") && m.Benchmark != "gsm8k" {
			return wmss.FieldErrorf("min", "%s:%s: strict and flexible exist for gsm8k only", m.Benchmark, m.Metric)
		}
		if k, ok := strings.CutPrefix(m.Metric, "pass@"); ok {
			n, _ := strconv.Atoi(k)
			if !slices.Contains(ks, n) {
				return wmss.FieldErrorf("min", "%s:%s: pass@%d is not computed (--k %v)", m.Benchmark, m.Metric, n, ks)
			}
		}
	}
	return nil
}

// metric returns b's value of metric m and whether it exists.
func metric(b *Benchmark, m string) (float64, bool) {
	switch m {
	case "score":
		return b.Score, true
	case "strict":
		if b.Strict != nil {
			return *b.Strict, true
		}
	case "flexible":
		if b.Flexible != nil {
			return *b.Flexible, true
		}
	default:
		v, ok := b.PassAtK[m]
		return v, ok
	}
	return 0, false
}

// ApplyMin adds a GateMin to each benchmark a threshold names and updates
// the Passed fields. A metric the run lacks (pass@k with no eligible
// problem) fails its gate.
func ApplyMin(r *Results, mins []Min) {
	for _, m := range mins {
		b := r.Benchmark(m.Benchmark)
		if b == nil {
			continue // CheckMins rejects this before the run
		}
		g := Gate{Kind: GateMin, Metric: m.Metric, Min: &m.Threshold}
		v, ok := metric(b, m.Metric)
		g.Value = v
		switch {
		case !ok:
			g.Message = fmt.Sprintf("%s %s was not computed (every problem had a scoring error); min %g", b.Name, m.Metric, m.Threshold)
		case v < m.Threshold:
			g.Message = fmt.Sprintf("%s %s %.4f is below the minimum %g", b.Name, m.Metric, v, m.Threshold)
		default:
			g.Passed = true
			g.Message = fmt.Sprintf("%s %s %.4f ≥ minimum %g", b.Name, m.Metric, v, m.Threshold)
		}
		b.Gates = append(b.Gates, g)
	}
	r.updatePassed()
}

func (r *Results) updatePassed() {
	r.Passed = true
	for i := range r.Benchmarks {
		b := &r.Benchmarks[i]
		b.Passed = true
		for _, g := range b.Gates {
			b.Passed = b.Passed && g.Passed
		}
		r.Passed = r.Passed && b.Passed
	}
}

// Pairs returns the per-problem scores of benchmark in runs a and b on the
// problems both scored: each problem's score is its correct samples over
// its scored samples (1 or 0 for a single sample), leaving out grader and
// sandbox faults as evalrun does. Pairs follow the problems' first
// appearance in a, so the same inputs give the same order.
func Pairs(a, b []evalrun.Item, benchmark string) []paired.Pair {
	type tally struct{ scored, correct int }
	count := func(items []evalrun.Item) (map[string]*tally, []string) {
		m := map[string]*tally{}
		var order []string
		for _, it := range items {
			if it.Benchmark != benchmark {
				continue
			}
			t := m[it.ID]
			if t == nil {
				t = &tally{}
				m[it.ID] = t
				order = append(order, it.ID)
			}
			if Scored(it) {
				t.scored++
				if it.Correct {
					t.correct++
				}
			}
		}
		return m, order
	}
	ta, order := count(a)
	tb, _ := count(b)
	var out []paired.Pair
	for _, id := range order {
		x, y := ta[id], tb[id]
		if y == nil || x.scored == 0 || y.scored == 0 {
			continue
		}
		out = append(out, paired.Pair{ID: id,
			A: float64(x.correct) / float64(x.scored), B: float64(y.correct) / float64(y.scored)})
	}
	return out
}

// Row is one benchmark of a paired comparison of run A with run B.
type Row struct {
	Benchmark string `json:"benchmark"`
	// Comparison is nil when only one run has the benchmark (Missing
	// says which lacks it).
	Comparison *paired.Comparison `json:"comparison,omitempty"`
	Missing    string             `json:"missing,omitempty"`
	// Notes list differences that make the comparison less clean: other
	// data files, other generation settings.
	Notes []string `json:"notes,omitempty"`
}

// CompareRuns compares run b with run a (A = a, B = b) on every benchmark
// either has, in a's order then b's. A benchmark both have but with no
// problem scored in both is an EINVALID error naming it (the runs cannot
// be compared; a silent pass would hide that).
func CompareRuns(a *Results, aItems []evalrun.Item, b *Results, bItems []evalrun.Item, opts paired.Options) ([]Row, error) {
	var rows []Row
	for _, ab := range a.Benchmarks {
		bb := b.Benchmark(ab.Name)
		if bb == nil {
			rows = append(rows, Row{Benchmark: ab.Name, Missing: "B"})
			continue
		}
		ps := Pairs(aItems, bItems, ab.Name)
		if len(ps) == 0 {
			return nil, wmss.FieldErrorf("items", "%s: no problem was scored in both runs (A has %d problems, B %d): the item ids do not match", ab.Name, ab.Problems, bb.Problems)
		}
		c, err := paired.Compare(ps, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ab.Name, err)
		}
		rows = append(rows, Row{Benchmark: ab.Name, Comparison: &c, Notes: notes(&ab, bb, len(ps))})
	}
	for _, bb := range b.Benchmarks {
		if a.Benchmark(bb.Name) == nil {
			rows = append(rows, Row{Benchmark: bb.Name, Missing: "A"})
		}
	}
	return rows, nil
}

func notes(a, b *Benchmark, shared int) []string {
	var out []string
	if a.DatasetSHA256 != b.DatasetSHA256 {
		out = append(out, fmt.Sprintf("dataset sha256 differs (%.12s… vs %.12s…)", a.DatasetSHA256, b.DatasetSHA256))
	}
	if d := generationDiff(a.Generation, b.Generation); len(d) > 0 {
		out = append(out, "generation settings differ: "+strings.Join(d, ", "))
	}
	if shared < a.Problems || shared < b.Problems {
		out = append(out, fmt.Sprintf("%d problems scored in both (A %d, B %d)", shared, a.Problems, b.Problems))
	}
	return out
}

// generationDiff lists the settings that change what a score measures
// and differ between a and b, as "name A vs B". The seed, batch size,
// limit and k values are left out: they do not change the per-problem
// score's meaning (the limit shows in the shared-problem count).
func generationDiff(a, b Generation) []string {
	var d []string
	add := func(name string, x, y any) {
		if x != y {
			d = append(d, fmt.Sprintf("%s %v vs %v", name, x, y))
		}
	}
	add("samples", a.Samples, b.Samples)
	add("temperature", a.Temperature, b.Temperature)
	add("top_p", a.TopP, b.TopP)
	add("top_k", a.TopK, b.TopK)
	add("max_new_tokens", a.MaxNewTokens, b.MaxNewTokens)
	add("thinking", a.Thinking, b.Thinking)
	return d
}

// ApplyBaseline compares r with an earlier run base (read from file) and
// adds a GateBaseline to each benchmark of r: it fails when r's score is
// significantly below base's on their shared problems at opts.Alpha
// (paired.Comparison.Verdict "worse"), and is skipped when base lacks the
// benchmark. Errors as CompareRuns.
func ApplyBaseline(r *Results, items []evalrun.Item, base *Results, baseItems []evalrun.Item, file string, opts paired.Options) error {
	rows, err := CompareRuns(base, baseItems, r, items, opts)
	if err != nil {
		return err
	}
	for _, row := range rows {
		b := r.Benchmark(row.Benchmark)
		if b == nil {
			continue // in the baseline only
		}
		g := Gate{Kind: GateBaseline, Metric: "score", Value: b.Score, BaselineFile: file}
		if row.Comparison == nil {
			g.Skipped, g.Passed = true, true
			g.Message = fmt.Sprintf("%s is not in the baseline %s; not compared", b.Name, file)
			b.Gates = append(b.Gates, g)
			continue
		}
		c := row.Comparison
		g.Baseline = c
		g.Passed = c.Verdict != paired.VerdictWorse
		what := map[string]string{
			paired.VerdictWorse: "significant drop", paired.VerdictBetter: "significant gain", paired.VerdictNoChange: "no significant change",
		}[c.Verdict]
		g.Message = fmt.Sprintf("%s: %s from the baseline: %.4f → %.4f (Δ %+.4f, %g%% CI [%+.4f, %+.4f]) on %d shared problems, %s p = %.3g, α = %g",
			b.Name, what, c.ScoreA, c.ScoreB, c.Delta, 100*c.Level, c.CILow, c.CIHigh, c.N, c.Test, c.PValue, c.Alpha)
		if len(row.Notes) > 0 {
			g.Message += "; note: " + strings.Join(row.Notes, "; ")
		}
		b.Gates = append(b.Gates, g)
	}
	r.updatePassed()
	return nil
}

package report

import (
	"fmt"
	"math"
	"strings"
)

// z95 is the two-sided 95% standard normal quantile.
const z95 = 1.959963984540054

// wilson returns the 95% Wilson score interval of a proportion p observed
// on n trials (Wilson 1927; Agresti & Coull 1998), as fractions.
func wilson(p float64, n int) (lo, hi float64) {
	if n <= 0 {
		return math.NaN(), math.NaN()
	}
	nf := float64(n)
	z2 := z95 * z95
	den := 1 + z2/nf
	centre := (p + z2/(2*nf)) / den
	half := z95 * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / den
	return math.Max(0, centre-half), math.Min(1, centre+half)
}

// tableView is the evaluation table ready for the template.
type tableView struct {
	Header    []headerCell
	Rows      []rowView
	NonFinite int // cells given as NaN or ±Inf, shown as missing
}

type headerCell struct {
	Label string
	Unit  string // "%, 95% CI" or "nats/token"
	N     string // "n = 200", "" if unknown
}

type rowView struct {
	Model string
	Cells []cellView
}

type cellView struct {
	Key     string
	Text    string // "41.5" or "1.234"; "—" when missing
	CI      string // "[36.8–46.3]" for accuracies with a known n
	Best    bool
	Missing bool
}

// display rounds a value to the precision the table shows: accuracies in
// percent with one decimal and losses with three, both 10⁻³ of the raw value.
func display(v float64) float64 { return math.Round(v * 1000) }

// buildTable formats the evaluation table and marks, in every column, the
// best cell (largest accuracy, smallest loss) at the shown precision; ties
// are all marked.
func buildTable(t EvalTable, slices []EvalSlice) tableView {
	cols := t.columns()
	var v tableView
	for _, c := range cols {
		h := headerCell{Label: c.Label, Unit: "nats/token"}
		if c.Kind == Accuracy {
			h.Unit = "%, 95% CI"
		}
		if n := problems(slices, c.Benchmark); n > 0 {
			h.N = fmt.Sprintf("n = %d", n)
		}
		v.Header = append(v.Header, h)
	}
	best := make([]float64, len(cols))
	have := make([]bool, len(cols))
	for _, r := range t.Rows {
		for j, c := range cols {
			x, ok := r.Values[c.Key]
			if !ok || !finite(x) {
				continue
			}
			d := display(x)
			if c.Kind == Loss {
				d = -d
			}
			if !have[j] || d > best[j] {
				best[j], have[j] = d, true
			}
		}
	}
	for _, r := range t.Rows {
		rv := rowView{Model: r.Model}
		for j, c := range cols {
			cv := cellView{Key: c.Key, Text: "—", Missing: true}
			x, ok := r.Values[c.Key]
			if ok && !finite(x) {
				v.NonFinite++
			}
			if ok && finite(x) {
				cv.Missing = false
				d := display(x)
				if c.Kind == Loss {
					cv.Text = fmt.Sprintf("%.3f", x)
					d = -d
				} else {
					cv.Text = fmt.Sprintf("%.1f", 100*x)
					if n := problems(slices, c.Benchmark); n > 0 {
						lo, hi := wilson(x, n)
						cv.CI = fmt.Sprintf("[%.1f–%.1f]", 100*lo, 100*hi)
					}
				}
				cv.Best = d == best[j]
			}
			rv.Cells = append(rv.Cells, cv)
		}
		v.Rows = append(v.Rows, rv)
	}
	return v
}

// problems returns the evaluated problems of benchmark, 0 if unknown.
func problems(slices []EvalSlice, benchmark string) int {
	for _, s := range slices {
		if s.Benchmark == benchmark && benchmark != "" {
			return s.Problems
		}
	}
	return 0
}

// paperResult holds the paper's numbers for one benchmark
// (docs/wmss-method.md, "Paper's headline results"), as one sentence.
var paperResult = map[string]string{
	"gsm8k": "The paper reports GSM8K greedy pass@1 of 83.9% after SFT and 88.5% with WMSS " +
		"(+4.6 points) for Qwen3-4B-Base, generating up to 4096 new tokens and grading the last \\boxed{} answer.",
	"svamp": "The paper reports no SVAMP result. Its closest numbers are the averages over seven math sets: " +
		"64.2% → 69.1% (Qwen3-4B-Base) and 66.9% → 72.8% (Qwen3-8B-Base), SFT → WMSS.",
	"heldout": "The paper reports no held-out loss; it compares accuracy only.",
}

// benchNote is the comparison text of one benchmark.
type benchNote struct {
	Title string
	Paper string
	Here  []string
}

// benchmarkNotes returns, per benchmark in column order, the paper's
// numbers and this run's baseline-versus-WMSS difference per column.
func benchmarkNotes(t EvalTable, slices []EvalSlice) []benchNote {
	cols := t.columns()
	var base, wm *EvalRow
	for i := range t.Rows {
		switch t.Rows[i].Role {
		case RoleBaseline:
			base = &t.Rows[i]
		case RoleWMSS:
			wm = &t.Rows[i]
		}
	}
	var out []benchNote
	idx := map[string]int{}
	for _, c := range cols {
		b := c.Benchmark
		i, ok := idx[b]
		if !ok {
			title := sliceName(slices, b)
			paper, known := paperResult[b]
			if !known {
				paper = "docs/wmss-method.md gives no paper number for this benchmark."
			}
			out = append(out, benchNote{Title: title, Paper: paper})
			i = len(out) - 1
			idx[b] = i
		}
		out[i].Here = append(out[i].Here, hereSentence(c, base, wm, problems(slices, b)))
	}
	return out
}

func sliceName(slices []EvalSlice, b string) string {
	for _, s := range slices {
		if s.Benchmark == b && s.Name != "" {
			return s.Name
		}
	}
	switch b {
	case "gsm8k":
		return "GSM8K"
	case "svamp":
		return "SVAMP"
	case "heldout":
		return "Held-out completion loss"
	case "":
		return "Other"
	}
	return b
}

// hereSentence compares the SFT baseline with WMSS on column c.
func hereSentence(c EvalColumn, base, wm *EvalRow, n int) string {
	get := func(r *EvalRow) (float64, bool) {
		if r == nil {
			return 0, false
		}
		v, ok := r.Values[c.Key]
		return v, ok && finite(v)
	}
	b, okb := get(base)
	w, okw := get(wm)
	if !okb || !okw {
		return fmt.Sprintf("%s: no baseline-versus-WMSS comparison (a value is missing).", c.Label)
	}
	if c.Kind == Loss {
		return fmt.Sprintf("%s: SFT baseline %.3f, WMSS %.3f nats/token (%+.3f; lower is better).", c.Label, b, w, w-b)
	}
	var s strings.Builder
	fmt.Fprintf(&s, "%s: SFT baseline %.1f%%, WMSS %.1f%% (%+.1f points", c.Label, 100*b, 100*w, 100*(w-b))
	if n > 0 {
		fmt.Fprintf(&s, ", n = %d", n)
	}
	s.WriteString(").")
	switch {
	case b == 0 && w == 0:
		s.WriteString(" Neither model solves any problem, so this benchmark cannot separate them.")
	case n > 0:
		band := z95 * math.Sqrt(b*(1-b)/float64(n)+w*(1-w)/float64(n))
		verdict := "within"
		if math.Abs(w-b) > band {
			verdict = "beyond"
		}
		fmt.Fprintf(&s, " Two independent samples of this size differ by up to ±%.1f points by chance (95%%); this difference is %s that band.", 100*band, verdict)
	}
	return s.String()
}

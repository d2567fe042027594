package report

import (
	"math"
	"sort"
	"strings"
)

// heldoutPrefix marks metric phases that are evaluations of a phase's model
// (training/pipeline.go writes "heldout.<phase>"), not optimizer steps.
const heldoutPrefix = "heldout."

// phaseSpan is one training phase of a run on the global step axis: it
// covers the global steps Start+1 … End.
type phaseSpan struct {
	Name       string
	Start, End int
	Metrics    int     // metric records (optimizer steps that ran and were logged)
	Tokens     float64 // Σ supervised_tokens
	FinalLoss  float64 // loss of the last logged step, NaN if none
	TokensPerS float64 // mean tokens_per_s over logged steps, NaN if none
}

// point is one optimizer step of a run.
type point struct {
	X      int // global optimizer step (1-based)
	Phase  int // index into runData.Phases
	Values map[string]float64
}

// heldoutLoss is one "heldout.<phase>" metric.
type heldoutLoss struct {
	After string  // the phase whose model was evaluated
	Loss  float64 // nats per supervised token
}

// runData is one run's metrics laid out on the global step axis.
type runData struct {
	Name    string
	Color   string
	Phases  []phaseSpan
	Points  []point // sorted by X
	Heldout []heldoutLoss
}

// layoutRun orders r's training phases by first appearance and places each
// phase's steps after the previous phase's last step. Within a phase, a
// step logged twice (a replay after resume) keeps its last record.
func layoutRun(r Run, color string) runData {
	d := runData{Name: r.Name, Color: color}
	var order []string
	byPhase := map[string]map[int]map[string]float64{}
	for _, m := range r.Metrics {
		if strings.HasPrefix(m.Phase, heldoutPrefix) {
			if v, ok := m.Values["loss"]; ok {
				d.Heldout = append(d.Heldout, heldoutLoss{After: strings.TrimPrefix(m.Phase, heldoutPrefix), Loss: v})
			}
			continue
		}
		steps, ok := byPhase[m.Phase]
		if !ok {
			steps = map[int]map[string]float64{}
			byPhase[m.Phase] = steps
			order = append(order, m.Phase)
		}
		steps[m.Step] = m.Values
	}
	offset := 0
	for pi, name := range order {
		steps := byPhase[name]
		keys := make([]int, 0, len(steps))
		for s := range steps {
			keys = append(keys, s)
		}
		sort.Ints(keys)
		span := phaseSpan{Name: name, Start: offset, FinalLoss: math.NaN(), TokensPerS: math.NaN()}
		var tps float64
		var ntps int
		for _, s := range keys {
			v := steps[s]
			d.Points = append(d.Points, point{X: offset + s, Phase: pi, Values: v})
			span.Metrics++
			if t, ok := v["supervised_tokens"]; ok && finite(t) {
				span.Tokens += t
			}
			if l, ok := v["loss"]; ok && finite(l) {
				span.FinalLoss = l
			}
			if t, ok := v["tokens_per_s"]; ok && finite(t) {
				tps += t
				ntps++
			}
		}
		if ntps > 0 {
			span.TokensPerS = tps / float64(ntps)
		}
		last := 0
		if len(keys) > 0 {
			last = keys[len(keys)-1]
		}
		span.End = offset + last
		d.Phases = append(d.Phases, span)
		offset = span.End
	}
	return d
}

// series returns the finite values of metric name at the run's steps, with
// their global steps and phase indices, and the number of non-finite values
// skipped. keep, when non-nil, selects phases by name.
func (d runData) series(name string, keep func(phase string) bool) (xs, ys []float64, phases []int, skipped int) {
	for _, p := range d.Points {
		if keep != nil && !keep(d.Phases[p.Phase].Name) {
			continue
		}
		v, ok := p.Values[name]
		if !ok {
			continue
		}
		if !finite(v) {
			skipped++
			continue
		}
		xs = append(xs, float64(p.X))
		ys = append(ys, v)
		phases = append(phases, p.Phase)
	}
	return xs, ys, phases, skipped
}

// lastStep is the run's largest global step, 0 for a run without steps.
func (d runData) lastStep() int {
	if len(d.Phases) == 0 {
		return 0
	}
	return d.Phases[len(d.Phases)-1].End
}

// isJoint reports whether a phase name is a joint-training phase ("joint",
// "joint.2", …).
func isJoint(phase string) bool { return phase == "joint" || strings.HasPrefix(phase, "joint.") }

// smooth returns the trailing mean of ys over window w, restarted at every
// phase change so that no average mixes two phases' losses.
func smooth(ys []float64, phases []int, w int) []float64 {
	out := make([]float64, len(ys))
	var sum float64
	start := 0
	for i := range ys {
		if i > 0 && phases[i] != phases[i-1] {
			start, sum = i, 0
		}
		sum += ys[i]
		if i-start >= w {
			sum -= ys[i-w]
		}
		out[i] = sum / float64(min(i-start+1, w))
	}
	return out
}

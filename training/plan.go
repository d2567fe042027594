package training

import (
	"fmt"
	"math/bits"

	"github.com/wmss/wmss"
)

// PlanConfig describes the data order of one training phase.
type PlanConfig struct {
	Samples     int // N: items in the phase's data (samples, or resampled draws)
	MicroBatch  int // items per forward pass, ≥ 1
	GlobalBatch int // items per optimizer step, a multiple of MicroBatch
	// Epochs or Steps (exactly one > 0): passes over the data, or optimizer
	// steps (taking as many passes as they need; the last may be partial).
	Epochs int
	Steps  int
	// Shuffle permutes the items anew each epoch, seeded by (Seed, epoch);
	// otherwise every epoch goes 0, 1, …, N−1.
	Shuffle bool
	Seed    uint64
}

// Plan is the data order of a phase: which items form each micro-batch of
// each optimizer step. It is a pure function of its PlanConfig, so a resumed
// job rebuilds the same plan and needs to store only its Position.
//
// Each epoch is one pass over the N items in its order. An epoch has
// M = ⌈N/micro⌉ micro-batches (the last may be short) and ⌈M/GA⌉ optimizer
// steps, GA = global/micro (gradient accumulation); the last step of an epoch
// takes the micro-batches left over, so no step spans two epochs and every
// item is seen exactly once per epoch.
type Plan struct {
	cfg           PlanConfig
	accumulation  int
	microPerEpoch int
	stepsPerEpoch int
	total         int
}

// Position is where a phase stands between two optimizer steps; it is what a
// checkpoint saves. Step counts the optimizer steps taken; Epoch and
// MicroBatch locate the next micro-batch (its index within that epoch), so
// a checkpoint at an epoch end points at micro-batch 0 of the next epoch,
// never at an exhausted one (training cases T01, T03).
type Position struct {
	Step       int `json:"step"`
	Epoch      int `json:"epoch"`
	MicroBatch int `json:"micro_batch"`
}

// NewPlan checks c and returns its plan. Errors are EINVALID and name the
// field ("samples", "micro_batch", "global_batch", "epochs", "steps").
func NewPlan(c PlanConfig) (*Plan, error) {
	switch {
	case c.Samples < 1:
		return nil, wmss.FieldErrorf("samples", "a phase needs at least 1 item, got %d", c.Samples)
	case c.MicroBatch < 1:
		return nil, wmss.FieldErrorf("micro_batch", "must be ≥ 1, got %d", c.MicroBatch)
	case c.GlobalBatch < c.MicroBatch || c.GlobalBatch%c.MicroBatch != 0:
		return nil, wmss.FieldErrorf("global_batch", "must be a positive multiple of micro_batch %d, got %d", c.MicroBatch, c.GlobalBatch)
	case (c.Epochs > 0) == (c.Steps > 0):
		return nil, wmss.FieldErrorf("steps", "set exactly one of epochs and steps (> 0), got epochs %d, steps %d", c.Epochs, c.Steps)
	case c.Epochs < 0:
		return nil, wmss.FieldErrorf("epochs", "must be ≥ 0, got %d", c.Epochs)
	case c.Steps < 0:
		return nil, wmss.FieldErrorf("steps", "must be ≥ 0, got %d", c.Steps)
	}
	p := &Plan{cfg: c, accumulation: c.GlobalBatch / c.MicroBatch}
	p.microPerEpoch = ceilDiv(c.Samples, c.MicroBatch)
	p.stepsPerEpoch = ceilDiv(p.microPerEpoch, p.accumulation)
	p.total = c.Steps
	if c.Epochs > 0 {
		p.total = c.Epochs * p.stepsPerEpoch
	}
	return p, nil
}

// TotalSteps returns the optimizer steps of the phase.
func (p *Plan) TotalSteps() int { return p.total }

// StepsPerEpoch returns the optimizer steps of one full epoch.
func (p *Plan) StepsPerEpoch() int { return p.stepsPerEpoch }

// Accumulation returns GA, the micro-batches of a full optimizer step.
func (p *Plan) Accumulation() int { return p.accumulation }

// PositionAfter returns the Position after t optimizer steps (0 ≤ t ≤ total).
func (p *Plan) PositionAfter(t int) Position {
	return Position{Step: t, Epoch: t / p.stepsPerEpoch, MicroBatch: (t % p.stepsPerEpoch) * p.accumulation}
}

// Check verifies that pos is a position of this plan: 0 ≤ Step ≤ total and
// Epoch, MicroBatch as PositionAfter(Step) gives. A mismatch means the
// checkpoint belongs to another plan (other data, batch or epochs); the error
// (EINVALID, field "position") says so instead of resuming on wrong data.
func (p *Plan) Check(pos Position) error {
	if pos.Step < 0 || pos.Step > p.total {
		return wmss.FieldErrorf("position", "step %d is outside this plan's 0…%d", pos.Step, p.total)
	}
	if want := p.PositionAfter(pos.Step); pos != want {
		return wmss.FieldErrorf("position", "saved %+v, but this plan is at %+v after %d steps: the checkpoint belongs to another data order", pos, want, pos.Step)
	}
	return nil
}

// Done reports whether pos has taken every step of the plan. A job that
// stops with Done false did not finish (T03: it must not be stored as
// succeeded).
func (p *Plan) Done(pos Position) bool { return pos.Step >= p.total }

// EpochOrder returns the order of the N items in epoch e: 0…N−1, or with
// Shuffle a Fisher–Yates permutation drawn from PCG(Seed, stream "shuffle"+e).
func (p *Plan) EpochOrder(e int) []int {
	order := make([]int, p.cfg.Samples)
	for i := range order {
		order[i] = i
	}
	if !p.cfg.Shuffle {
		return order
	}
	rng := newRNG(p.cfg.Seed, streamShuffle+uint64(e))
	for i := len(order) - 1; i > 0; i-- {
		j := int(boundedUint64(rng.Uint64, uint64(i+1)))
		order[i], order[j] = order[j], order[i]
	}
	return order
}

// Step returns the micro-batches (item indices) of optimizer step t
// (0 ≤ t < total), given the order of its epoch.
func (p *Plan) Step(t int, order []int) [][]int {
	first := (t % p.stepsPerEpoch) * p.accumulation
	last := min(first+p.accumulation, p.microPerEpoch)
	out := make([][]int, 0, last-first)
	for m := first; m < last; m++ {
		lo := m * p.cfg.MicroBatch
		hi := min(lo+p.cfg.MicroBatch, p.cfg.Samples)
		out = append(out, order[lo:hi:hi])
	}
	return out
}

// Iterator walks a plan from a position, one optimizer step at a time.
type Iterator struct {
	plan  *Plan
	pos   Position
	epoch int   // epoch of order, −1 before the first
	order []int // item order of epoch
}

// Iterator returns an iterator that starts at pos (Position{} for a fresh
// phase, a checkpoint's saved position to resume). Errors as Check.
func (p *Plan) Iterator(pos Position) (*Iterator, error) {
	if err := p.Check(pos); err != nil {
		return nil, err
	}
	return &Iterator{plan: p, pos: pos, epoch: -1}, nil
}

// Next returns the index and micro-batches of the next optimizer step and
// advances the position, or ok = false when the plan is done.
func (it *Iterator) Next() (step int, microBatches [][]int, ok bool) {
	if it.plan.Done(it.pos) {
		return it.pos.Step, nil, false
	}
	t := it.pos.Step
	if e := t / it.plan.stepsPerEpoch; e != it.epoch {
		it.epoch, it.order = e, it.plan.EpochOrder(e)
	}
	mb := it.plan.Step(t, it.order)
	it.pos = it.plan.PositionAfter(t + 1)
	return t, mb, true
}

// Position returns the position after the steps returned so far: the one to
// save in a checkpoint written now.
func (it *Iterator) Position() Position { return it.pos }

// boundedUint64 returns a uniform integer in [0, n), n > 0, from next, by
// Lemire's multiply-and-reject method ("Fast Random Integer Generation in
// an Interval", ACM TOMACS 2019): the high word of x·n, redrawing while the
// low word falls in the biased zone below 2^64 mod n.
func boundedUint64(next func() uint64, n uint64) uint64 {
	hi, lo := bits.Mul64(next(), n)
	if lo < n {
		thresh := -n % n // 2^64 mod n
		for lo < thresh {
			hi, lo = bits.Mul64(next(), n)
		}
	}
	return hi
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// String formats the position for logs.
func (pos Position) String() string {
	return fmt.Sprintf("step %d (epoch %d, micro-batch %d)", pos.Step, pos.Epoch, pos.MicroBatch)
}

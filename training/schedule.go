package training

import (
	"errors"
	"math"

	"github.com/wmss/wmss"
)

// ScheduleKind names the shape of a schedule. The values are stored in job
// specs: never rename one.
type ScheduleKind string

// Schedule shapes.
const (
	ScheduleConstant ScheduleKind = "constant"
	ScheduleLinear   ScheduleKind = "linear"
	ScheduleCosine   ScheduleKind = "cosine"
)

// Valid reports whether k is a known shape.
func (k ScheduleKind) Valid() bool {
	return k == ScheduleConstant || k == ScheduleLinear || k == ScheduleCosine
}

// Step indexing, shared by every schedule here: a schedule is asked for the
// value of the optimizer step that is about to run, by the number t of
// optimizer steps already taken (0 ≤ t < total). t is also the scheduler
// position saved in a checkpoint, so a job resumed after t steps asks for
// exactly the value the uninterrupted run would have used (training case
// T04). For t ≥ total the value of the last step's end point is returned.

// LambdaSchedule gives λ, the weight of the strong model's logits in
// z_mix = λ·z_s + (1−λ)·z_w, for each optimizer step of phase 3
// (wmss-method.md, "Pipeline" step 3; schedules are our extension, the
// method's default is constant 0.5). Both ends are used: the first step runs
// at Start and the last at End.
type LambdaSchedule struct {
	Kind  ScheduleKind `json:"kind"`
	Start float64      `json:"start"`         // λ of the first step, in [0, 1]
	End   float64      `json:"end,omitempty"` // λ of the last step, in [0, 1]; ignored by constant
}

// ConstantLambda returns the schedule that holds λ for every step.
func ConstantLambda(lambda float64) LambdaSchedule {
	return LambdaSchedule{Kind: ScheduleConstant, Start: lambda, End: lambda}
}

// Validate checks the kind and that Start and End lie in [0, 1]. Errors are
// EINVALID and name the field ("kind", "start", "end").
func (s LambdaSchedule) Validate() error {
	if !s.Kind.Valid() {
		return wmss.FieldErrorf("kind", "unknown schedule %q (want constant, linear or cosine)", s.Kind)
	}
	if !finite(s.Start) || s.Start < 0 || s.Start > 1 {
		return wmss.FieldErrorf("start", "λ must be in [0, 1], got %v", s.Start)
	}
	if s.Kind != ScheduleConstant && (!finite(s.End) || s.End < 0 || s.End > 1) {
		return wmss.FieldErrorf("end", "λ must be in [0, 1], got %v", s.End)
	}
	return nil
}

// At returns λ for the optimizer step after t steps of a phase of total steps:
//
//	constant: Start
//	linear:   Start + (End−Start)·f
//	cosine:   Start + (End−Start)·(1 − cos(π·f))/2
//
// with f = t/(total−1) clamped to [0, 1] (f = 1 when total ≤ 1 and t ≥ 1,
// f = 0 for t = 0).
func (s LambdaSchedule) At(t, total int) float64 {
	if s.Kind == ScheduleConstant {
		return s.Start
	}
	var f float64
	switch {
	case t <= 0:
		f = 0
	case t >= total-1:
		f = 1
	default:
		f = float64(t) / float64(total-1)
	}
	if s.Kind == ScheduleCosine {
		f = (1 - math.Cos(math.Pi*f)) / 2
	}
	return s.Start + (s.End-s.Start)*f
}

// Values returns At(t, total) for t = 0 … total−1, for recording.
func (s LambdaSchedule) Values(total int) []float64 { return values(s.At, total) }

// LRSchedule gives the learning rate of each optimizer step: a linear warmup
// over the first WarmupSteps(total) steps, then a decay of the given kind
// from Peak to Min over the remaining steps (the shape of nanoGPT's get_lr
// and of HF's get_*_schedule_with_warmup).
type LRSchedule struct {
	Kind ScheduleKind `json:"kind"` // decay after warmup
	Peak float64      `json:"peak"` // learning rate at the end of warmup, > 0
	Min  float64      `json:"min"`  // learning rate the decay approaches, in [0, Peak]
	// WarmupRatio is the share of the total steps spent warming up, in
	// [0, 1); WarmupSteps rounds it up as HF does. Method default 0.1.
	WarmupRatio float64 `json:"warmup_ratio"`
}

// Validate checks the kind and ranges. Errors are EINVALID and name the field
// ("kind", "peak", "min", "warmup_ratio").
func (s LRSchedule) Validate() error {
	switch {
	case !s.Kind.Valid():
		return wmss.FieldErrorf("kind", "unknown schedule %q (want constant, linear or cosine)", s.Kind)
	case !finite(s.Peak) || s.Peak <= 0:
		return wmss.FieldErrorf("peak", "learning rate must be a finite number > 0, got %v", s.Peak)
	case !finite(s.Min) || s.Min < 0 || s.Min > s.Peak:
		return wmss.FieldErrorf("min", "must be in [0, peak=%v], got %v", s.Peak, s.Min)
	case !finite(s.WarmupRatio) || s.WarmupRatio < 0 || s.WarmupRatio >= 1:
		return wmss.FieldErrorf("warmup_ratio", "must be in [0, 1), got %v", s.WarmupRatio)
	}
	return nil
}

// WarmupSteps returns ⌈WarmupRatio·total⌉, at most total−1 so that at least
// one step runs at the peak (0 for total ≤ 1).
func (s LRSchedule) WarmupSteps(total int) int {
	if total <= 1 || s.WarmupRatio <= 0 {
		return 0
	}
	// The 1e-9 slack keeps 0.1·30 = 3.0000000000000004 from rounding up to 4.
	w := int(math.Ceil(s.WarmupRatio*float64(total) - 1e-9))
	return min(w, total-1)
}

// At returns the learning rate for the optimizer step after t steps of a run
// of total steps (W = WarmupSteps(total)):
//
//  1. warmup, t < W: Peak·(t+1)/(W+1), so the first step already trains
//     (nanoGPT's convention; HF's starts at 0);
//  2. after the run, t ≥ total: Min;
//  3. decay, with progress f = (t−W)/(total−W) in [0, 1):
//     constant Peak; linear Min + (Peak−Min)·(1−f);
//     cosine Min + (Peak−Min)·(1+cos(π·f))/2.
//
// Example (training case T04): linear, no warmup, Peak 2e-4, total 8 gives
// 2e-4·(1 − t/8): steps 4–8 (t = 3…7) run at 1.25e-4, 1e-4, 7.5e-5, 5e-5,
// 2.5e-5. The decay never reaches Min on a step that runs.
func (s LRSchedule) At(t, total int) float64 {
	w := s.WarmupSteps(total)
	// 1) linear warmup
	if t < w {
		return s.Peak * float64(t+1) / float64(w+1)
	}
	// 2) past the end of the run
	if t >= total {
		return s.Min
	}
	// 3) decay from Peak towards Min
	f := float64(t-w) / float64(total-w)
	switch s.Kind {
	case ScheduleLinear:
		return s.Min + (s.Peak-s.Min)*(1-f)
	case ScheduleCosine:
		return s.Min + (s.Peak-s.Min)*0.5*(1+math.Cos(math.Pi*f))
	default:
		return s.Peak
	}
}

// Values returns At(t, total) for t = 0 … total−1, for recording.
func (s LRSchedule) Values(total int) []float64 { return values(s.At, total) }

func values(at func(t, total int) float64, total int) []float64 {
	out := make([]float64, max(total, 0))
	for t := range out {
		out[t] = at(t, total)
	}
	return out
}

// prefixField returns err with prefix prepended to the Field of its
// *wmss.Error ("lr" + "peak" → "optimizer.lr.peak"); other errors unchanged.
func prefixField(prefix string, err error) error {
	var e *wmss.Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	c := *e
	switch {
	case c.Field == "":
		c.Field = prefix
	case c.Field[0] == '[':
		c.Field = prefix + c.Field
	default:
		c.Field = prefix + "." + c.Field
	}
	return &c
}

package training_test

import (
	"errors"
	"math"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/training"
)

// T04 (transformers#34053): linear decay, no warmup, peak 2e-4, 8 optimizer
// steps, checkpoint after step 3, resume. Steps are counted from 1 here as in
// the case; the schedule is asked with t = steps already taken = step − 1.
func TestLRSchedule_T04(t *testing.T) {
	s := training.LRSchedule{Kind: training.ScheduleLinear, Peak: 2e-4}
	full := s.Values(8)
	want := map[int]float64{1: 2e-4, 2: 1.75e-4, 3: 1.5e-4, 4: 1.25e-4, 5: 1.0e-4, 6: 7.5e-5, 7: 5.0e-5, 8: 2.5e-5}
	for step, w := range want {
		if got := full[step-1]; math.Abs(got-w) > 1e-12*w {
			t.Errorf("step %d: lr = %g, want %g", step, got, w)
		}
	}
	// Resume: the saved scheduler position is the number of optimizer steps
	// taken (3); the resumed run asks for t = 3 … 7 and must get the
	// uninterrupted run's values bit for bit, with no repeat and no lag.
	saved := 3
	for t2 := saved; t2 < 8; t2++ {
		if got := s.At(t2, 8); got != full[t2] {
			t.Errorf("resumed step %d: lr = %g, uninterrupted %g", t2+1, got, full[t2])
		}
	}
}

func TestLRSchedule(t *testing.T) {
	for _, tc := range []struct {
		name  string
		s     training.LRSchedule
		total int
		want  []float64
	}{
		// Independent: Python, 1e-3·(t+1)/3 for t < 2, then
		// 1e-4 + 9e-4·(1+cos(π(t−2)/8))/2.
		{"cosine/warmup", training.LRSchedule{Kind: training.ScheduleCosine, Peak: 1e-3, Min: 1e-4, WarmupRatio: 0.2}, 10,
			[]float64{0.0003333333333333333, 0.0006666666666666666, 0.001, 0.000965745789630079, 0.0008681980515339464,
				0.0007222075445642905, 0.00055, 0.0003777924554357096, 0.00023180194846605365, 0.00013425421036992097}},
		// ⌈0.1·8⌉ = 1 warmup step at peak/2, then constant.
		{"constant/warmup", training.LRSchedule{Kind: training.ScheduleConstant, Peak: 1e-5, WarmupRatio: 0.1}, 8,
			[]float64{5e-6, 1e-5, 1e-5, 1e-5, 1e-5, 1e-5, 1e-5, 1e-5}},
		// Linear with warmup 0.5 of 4: W = 2 → peak/3, 2peak/3, then 1 − (t−2)/2.
		{"linear/warmup", training.LRSchedule{Kind: training.ScheduleLinear, Peak: 3, WarmupRatio: 0.5}, 4,
			[]float64{1, 2, 3, 1.5}},
		{"single-step", training.LRSchedule{Kind: training.ScheduleCosine, Peak: 1, WarmupRatio: 0.5}, 1, []float64{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.s.Validate(); err != nil {
				t.Fatal(err)
			}
			got := tc.s.Values(tc.total)
			if len(got) != len(tc.want) {
				t.Fatalf("len = %d, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if math.Abs(got[i]-tc.want[i]) > 1e-15*math.Max(1, tc.want[i]) {
					t.Errorf("t=%d: %.17g, want %.17g", i, got[i], tc.want[i])
				}
			}
			if end := tc.s.At(tc.total, tc.total); end != tc.s.Min {
				t.Errorf("At(total) = %g, want Min %g", end, tc.s.Min)
			}
		})
	}
	// The 10% method default: 0.1·30 is 3.0000000000000004 in float64 and must give 3 steps, not 4.
	if got := (training.LRSchedule{WarmupRatio: 0.1}).WarmupSteps(30); got != 3 {
		t.Errorf("WarmupSteps(30) = %d, want 3", got)
	}
	if got := (training.LRSchedule{WarmupRatio: 0.1}).WarmupSteps(31); got != 4 {
		t.Errorf("WarmupSteps(31) = %d, want 4", got)
	}
}

func TestLambdaSchedule(t *testing.T) {
	for _, tc := range []struct {
		name  string
		s     training.LambdaSchedule
		total int
		want  []float64
	}{
		{"constant", training.ConstantLambda(0.5), 3, []float64{0.5, 0.5, 0.5}},
		{"linear", training.LambdaSchedule{Kind: training.ScheduleLinear, Start: 0.9, End: 0.5}, 5,
			[]float64{0.9, 0.8, 0.7, 0.6, 0.5}},
		// Independent: Python, .2 + .6·(1 − cos(πt/4))/2.
		{"cosine", training.LambdaSchedule{Kind: training.ScheduleCosine, Start: 0.2, End: 0.8}, 5,
			[]float64{0.2, 0.2878679656440358, 0.5, 0.7121320343559643, 0.8}},
		{"one-step", training.LambdaSchedule{Kind: training.ScheduleLinear, Start: 0.3, End: 0.7}, 1, []float64{0.3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.s.Validate(); err != nil {
				t.Fatal(err)
			}
			got := tc.s.Values(tc.total)
			for i := range tc.want {
				if math.Abs(got[i]-tc.want[i]) > 1e-15 {
					t.Errorf("t=%d: %.17g, want %.17g", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestScheduleValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		field string
	}{
		{"LambdaKind", training.LambdaSchedule{Kind: "step", Start: .5}.Validate(), "kind"},
		{"LambdaStart", training.LambdaSchedule{Kind: training.ScheduleConstant, Start: 1.5}.Validate(), "start"},
		{"LambdaEnd", training.LambdaSchedule{Kind: training.ScheduleLinear, Start: .5, End: -0.1}.Validate(), "end"},
		{"LRKind", training.LRSchedule{Kind: "exp", Peak: 1}.Validate(), "kind"},
		{"LRPeak", training.LRSchedule{Kind: training.ScheduleLinear}.Validate(), "peak"},
		{"LRMin", training.LRSchedule{Kind: training.ScheduleLinear, Peak: 1, Min: 2}.Validate(), "min"},
		{"LRWarmup", training.LRSchedule{Kind: training.ScheduleLinear, Peak: 1, WarmupRatio: 1}.Validate(), "warmup_ratio"},
	} {
		var e *wmss.Error
		if !errors.As(tc.err, &e) || e.Code != wmss.EINVALID || e.Field != tc.field {
			t.Errorf("%s: err = %v, want EINVALID on %q", tc.name, tc.err, tc.field)
		}
	}
	if err := (training.LambdaSchedule{Kind: training.ScheduleConstant, Start: 0.5, End: 7}).Validate(); err != nil {
		t.Errorf("constant ignores End: %v", err)
	}
}

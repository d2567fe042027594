package training_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/training"
)

// run takes up to n steps from it (all when n < 0) and returns their
// micro-batches flattened per step, and the step indices.
func run(t *testing.T, it *training.Iterator, n int) (steps []int, batches [][][]int) {
	t.Helper()
	for n != 0 {
		s, mb, ok := it.Next()
		if !ok {
			break
		}
		steps = append(steps, s)
		batches = append(batches, mb)
		n--
	}
	return steps, batches
}

// restart simulates a new process: the plan is rebuilt from its config and
// the position comes back through JSON, as from a checkpoint.
func restart(t *testing.T, c training.PlanConfig, saved training.Position) *training.Iterator {
	t.Helper()
	b, err := json.Marshal(saved)
	if err != nil {
		t.Fatal(err)
	}
	var pos training.Position
	if err := json.Unmarshal(b, &pos); err != nil {
		t.Fatal(err)
	}
	p, err := training.NewPlan(c)
	if err != nil {
		t.Fatal(err)
	}
	it, err := p.Iterator(pos)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// T01 (transformers#5605): 12 micro-batches of 1 sample, GA = 4, no shuffle;
// checkpoint after optimizer step 2; resume in a new process.
func TestPlan_T01(t *testing.T) {
	c := training.PlanConfig{Samples: 12, MicroBatch: 1, GlobalBatch: 4, Epochs: 1}
	p, err := training.NewPlan(c)
	if err != nil {
		t.Fatal(err)
	}
	if p.TotalSteps() != 3 || p.Accumulation() != 4 {
		t.Fatalf("total %d, GA %d, want 3 and 4", p.TotalSteps(), p.Accumulation())
	}
	it, _ := p.Iterator(training.Position{})
	_, before := run(t, it, 2)
	saved := it.Position()
	if want := (training.Position{Step: 2, Epoch: 0, MicroBatch: 8}); saved != want {
		t.Fatalf("saved position %v, want %v", saved, want)
	}
	resumed := restart(t, c, saved)
	steps, after := run(t, resumed, -1)
	if first := after[0][0][0]; first != 8 {
		t.Errorf("first micro-batch after resume is id %d, want 8 (2×4), not 2", first)
	}
	var ids []int
	for _, s := range append(before, after...) {
		for _, mb := range s {
			ids = append(ids, mb...)
		}
	}
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}; !slices.Equal(ids, want) {
		t.Errorf("ids = %v, want each of 0..11 once, in order", ids)
	}
	if !slices.Equal(steps, []int{2}) || resumed.Position().Step != 3 || !p.Done(resumed.Position()) {
		t.Errorf("resumed steps %v, final %v; want [2] and global step 3", steps, resumed.Position())
	}
}

// T03 (verl#7401): 8 samples, batch 2 ⇒ 4 steps per epoch, 3 epochs = 12
// steps; save every 4 steps; kill after the step-4 save (an epoch boundary);
// resume. Run with and without shuffling.
func TestPlan_T03(t *testing.T) {
	for _, shuffle := range []bool{false, true} {
		c := training.PlanConfig{Samples: 8, MicroBatch: 2, GlobalBatch: 2, Epochs: 3, Shuffle: shuffle, Seed: 42}
		p, err := training.NewPlan(c)
		if err != nil {
			t.Fatal(err)
		}
		if p.TotalSteps() != 12 || p.StepsPerEpoch() != 4 {
			t.Fatalf("total %d, per epoch %d, want 12 and 4", p.TotalSteps(), p.StepsPerEpoch())
		}
		full, _ := p.Iterator(training.Position{})
		_, uninterrupted := run(t, full, -1)

		it, _ := p.Iterator(training.Position{})
		var saved training.Position
		for i := 0; i < 4; i++ { // checkpoint every 4 steps; killed after the first save
			run(t, it, 1)
			if it.Position().Step%4 == 0 {
				saved = it.Position()
			}
		}
		if want := (training.Position{Step: 4, Epoch: 1, MicroBatch: 0}); saved != want {
			t.Fatalf("shuffle=%v: saved %v, want %v (next epoch, not an exhausted loader)", shuffle, saved, want)
		}
		if p.Done(saved) {
			t.Fatalf("a job stopped at %v/12 reports done", saved.Step)
		}
		resumed := restart(t, c, saved)
		steps, after := run(t, resumed, -1)
		if len(steps) != 8 || steps[0] != 4 || resumed.Position().Step != 12 {
			t.Errorf("shuffle=%v: resumed ran steps %v, ended at %v; want 8 steps 4…11, ending at 12", shuffle, steps, resumed.Position())
		}
		if !reflect.DeepEqual(after, uninterrupted[4:]) {
			t.Errorf("shuffle=%v: resumed batches %v, uninterrupted %v", shuffle, after, uninterrupted[4:])
		}
		for e := 0; e < 3; e++ {
			var seen []int
			for _, s := range uninterrupted[4*e : 4*e+4] {
				for _, mb := range s {
					seen = append(seen, mb...)
				}
			}
			if slices.Sort(seen); !slices.Equal(seen, []int{0, 1, 2, 3, 4, 5, 6, 7}) {
				t.Errorf("shuffle=%v: epoch %d saw %v, want every sample once", shuffle, e, seen)
			}
		}
	}
}

// Golden permutations from testdata/pcg_golden.py (an independent Python
// Fisher–Yates with Lemire's bounded draw over PCG-DXSM).
func TestPlanEpochOrderGolden(t *testing.T) {
	p, _ := training.NewPlan(training.PlanConfig{Samples: 10, MicroBatch: 1, GlobalBatch: 1, Epochs: 2, Shuffle: true, Seed: 42})
	if got, want := p.EpochOrder(0), []int{9, 7, 4, 2, 5, 3, 8, 1, 0, 6}; !slices.Equal(got, want) {
		t.Errorf("epoch 0: %v, want %v", got, want)
	}
	if got, want := p.EpochOrder(1), []int{7, 8, 6, 4, 0, 5, 9, 2, 1, 3}; !slices.Equal(got, want) {
		t.Errorf("epoch 1: %v, want %v", got, want)
	}
	q, _ := training.NewPlan(training.PlanConfig{Samples: 7, MicroBatch: 1, GlobalBatch: 1, Steps: 1, Shuffle: true, Seed: 0})
	if got, want := q.EpochOrder(3), []int{4, 0, 6, 5, 2, 1, 3}; !slices.Equal(got, want) {
		t.Errorf("seed 0 epoch 3: %v, want %v", got, want)
	}
}

// Partial batches: 10 items, micro 3, global 6 → 4 micro-batches per epoch
// ([0 1 2] [3 4 5] [6 7 8] [9]), 2 steps per epoch, the second with 2 of them.
// By steps: 5 steps run 2½ epochs.
func TestPlanPartial(t *testing.T) {
	p, err := training.NewPlan(training.PlanConfig{Samples: 10, MicroBatch: 3, GlobalBatch: 6, Steps: 5})
	if err != nil {
		t.Fatal(err)
	}
	it, _ := p.Iterator(training.Position{})
	_, got := run(t, it, -1)
	want := [][][]int{
		{{0, 1, 2}, {3, 4, 5}}, {{6, 7, 8}, {9}},
		{{0, 1, 2}, {3, 4, 5}}, {{6, 7, 8}, {9}},
		{{0, 1, 2}, {3, 4, 5}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("steps %v\nwant  %v", got, want)
	}
	if pos := it.Position(); pos != (training.Position{Step: 5, Epoch: 2, MicroBatch: 2}) {
		t.Errorf("final position %v", pos)
	}
	if _, _, ok := it.Next(); ok {
		t.Error("Next after the last step returned ok")
	}
}

func TestPlanErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		c     training.PlanConfig
		field string
	}{
		{"NoSamples", training.PlanConfig{MicroBatch: 1, GlobalBatch: 1, Epochs: 1}, "samples"},
		{"Micro", training.PlanConfig{Samples: 4, GlobalBatch: 1, Epochs: 1}, "micro_batch"},
		{"Global", training.PlanConfig{Samples: 4, MicroBatch: 2, GlobalBatch: 3, Epochs: 1}, "global_batch"},
		{"Neither", training.PlanConfig{Samples: 4, MicroBatch: 1, GlobalBatch: 1}, "steps"},
		{"Both", training.PlanConfig{Samples: 4, MicroBatch: 1, GlobalBatch: 1, Epochs: 1, Steps: 2}, "steps"},
	} {
		_, err := training.NewPlan(tc.c)
		var e *wmss.Error
		if !errors.As(err, &e) || e.Field != tc.field {
			t.Errorf("%s: err = %v, want field %q", tc.name, err, tc.field)
		}
	}
	p, _ := training.NewPlan(training.PlanConfig{Samples: 12, MicroBatch: 1, GlobalBatch: 4, Epochs: 1})
	for _, pos := range []training.Position{{Step: 4}, {Step: -1}, {Step: 2, MicroBatch: 2}, {Step: 1, Epoch: 1}} {
		if _, err := p.Iterator(pos); wmss.ErrorCode(err) != wmss.EINVALID {
			t.Errorf("Iterator(%v): err = %v, want EINVALID", pos, err)
		}
	}
}

package training_test

import (
	"math/rand/v2"
	"testing"

	"github.com/wmss/wmss/training"
)

// BenchmarkSelect measures phase 2 in Go for a GSM8K-train-sized set
// (7,473 samples) and for 100k samples: weights, draw, summary.
func BenchmarkSelect(b *testing.B) {
	for _, n := range []int{7473, 100000} {
		r := rand.New(rand.NewPCG(9, 9))
		ent := make([]training.SampleEntropy, n)
		for i := range ent {
			ent[i] = training.SampleEntropy{Weak: 2 * r.Float64(), Strong: 2 * r.Float64()}
		}
		o := training.SelectionOptions{Formula: training.FormulaOfficial, Coefficients: training.DefaultCoefficients(),
			Resample: training.ResampleOptions{Multiplier: 1, Seed: 42}}
		b.Run(map[int]string{7473: "n=7473", 100000: "n=100000"}[n], func(b *testing.B) {
			for b.Loop() {
				if _, err := training.Select(ent, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPlanEpoch measures one shuffled epoch of 100k items in micro-batches of 8.
func BenchmarkPlanEpoch(b *testing.B) {
	p, err := training.NewPlan(training.PlanConfig{Samples: 100000, MicroBatch: 8, GlobalBatch: 512, Epochs: 1, Shuffle: true, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		it, _ := p.Iterator(training.Position{})
		for {
			if _, _, ok := it.Next(); !ok {
				break
			}
		}
	}
}

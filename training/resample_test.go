package training_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/training"
)

// The golden sequences come from testdata/pcg_golden.py, an independent
// Python reimplementation of PCG-DXSM and the inverse-CDF draw (its raw PCG
// output for seeds (1, 2) equals the golden values in Go's own
// math/rand/v2 tests). Regenerate: /usr/bin/python3 training/testdata/pcg_golden.py
func TestResampleGolden(t *testing.T) {
	checkP := []float64{0.39267, 0.08602, 0.01613, 0.46217, 0.04301}
	for _, tc := range []struct {
		name string
		p    []float64
		o    training.ResampleOptions
		want []int
	}{
		{"check/m4/seed42", checkP, training.ResampleOptions{Multiplier: 4, Seed: 42},
			[]int{0, 0, 0, 3, 3, 3, 3, 4, 0, 0, 3, 3, 0, 0, 1, 3, 4, 3, 0, 3}},
		{"check/m4/seed42/drop", checkP, training.ResampleOptions{Multiplier: 4, Seed: 42, DropDuplicates: true},
			[]int{0, 3, 4, 1}},
		// Unnormalised weights with zeros: 0, 3 and 6 are never drawn.
		{"zeros/m3/seed7", []float64{0, 1, 2, 0, 3, 4, 0}, training.ResampleOptions{Multiplier: 3, Seed: 7},
			[]int{5, 5, 4, 4, 5, 5, 5, 5, 4, 5, 4, 5, 5, 4, 2, 1, 4, 5, 5, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := training.Resample(tc.p, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
			again, _ := training.Resample(tc.p, tc.o)
			if !slices.Equal(got, again) {
				t.Errorf("same seed gave %v then %v", got, again)
			}
		})
	}
}

func TestResampleFrequencies(t *testing.T) {
	p := []float64{0.5, 0.25, 0.125, 0.125, 0}
	idx, err := training.Resample(p, training.ResampleOptions{Multiplier: 40000, Seed: 3}) // 200000 draws
	if err != nil {
		t.Fatal(err)
	}
	if len(idx) != 200000 {
		t.Fatalf("drew %d, want 200000", len(idx))
	}
	count := make([]int, len(p))
	for _, i := range idx {
		count[i]++
	}
	for i, c := range count {
		// Binomial sd ≤ sqrt(200000·.25) ≈ 224; allow 5 sd.
		if want := p[i] * 200000; math.Abs(float64(c)-want) > 1120 {
			t.Errorf("index %d drawn %d times, want ≈ %.0f", i, c, want)
		}
	}
	if count[4] != 0 {
		t.Errorf("zero-weight index drawn %d times", count[4])
	}
}

func TestResampleSeeds(t *testing.T) {
	p := make([]float64, 100)
	for i := range p {
		p[i] = 1
	}
	a, _ := training.Resample(p, training.ResampleOptions{Multiplier: 1, Seed: 1})
	b, _ := training.Resample(p, training.ResampleOptions{Multiplier: 1, Seed: 2})
	if slices.Equal(a, b) {
		t.Error("seeds 1 and 2 gave the same 100 indices")
	}
	d, _ := training.Resample(p, training.ResampleOptions{Multiplier: 1, Seed: 1, DropDuplicates: true})
	if len(slices.Compact(slices.Sorted(slices.Values(d)))) != len(d) {
		t.Errorf("drop-duplicates left duplicates: %v", d)
	}
	// With replacement, a uniform draw of n from n leaves about 1−1/e ≈ 63% unique.
	if len(d) < 50 || len(d) > 76 {
		t.Errorf("unique = %d of 100, want about 63", len(d))
	}
	for _, tc := range []struct {
		n    int
		m    float64
		want int
	}{{10, 1, 10}, {10, 0.25, 3}, {10, 0.35, 4}, {3, 0.5, 2}, {7473, 1.5, 11210}} {
		if got := training.DrawCount(tc.n, tc.m); got != tc.want {
			t.Errorf("DrawCount(%d, %v) = %d, want %d", tc.n, tc.m, got, tc.want)
		}
	}
}

func TestResampleErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		p     []float64
		m     float64
		field string
	}{
		{"ZeroMultiplier", []float64{1}, 0, "multiplier"},
		{"NaNMultiplier", []float64{1}, math.NaN(), "multiplier"},
		{"NegativeWeight", []float64{1, -1}, 1, "weights[1]"},
		{"InfWeight", []float64{math.Inf(1)}, 1, "weights[0]"},
		{"AllZero", []float64{0, 0}, 1, "weights"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := training.Resample(tc.p, training.ResampleOptions{Multiplier: tc.m})
			var e *wmss.Error
			if !errors.As(err, &e) || e.Code != wmss.EINVALID || e.Field != tc.field {
				t.Errorf("err = %v, want EINVALID on %q", err, tc.field)
			}
		})
	}
	if got, err := training.Resample(nil, training.ResampleOptions{Multiplier: 1}); err != nil || len(got) != 0 {
		t.Errorf("empty p: %v, %v", got, err)
	}
}

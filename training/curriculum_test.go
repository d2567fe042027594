package training_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/training"
)

// checkEntropies are the 5-sample check values of wmss-method.md, "Sampling
// weights": H_w = [.9,.6,.5,.8,.3], H_s = [.4,.7,.5,.2,.35].
func checkEntropies() []training.SampleEntropy {
	hw := []float64{.9, .6, .5, .8, .3}
	hs := []float64{.4, .7, .5, .2, .35}
	e := make([]training.SampleEntropy, len(hw))
	for i := range hw {
		e[i] = training.SampleEntropy{Weak: hw[i], Strong: hs[i]}
	}
	return e
}

func TestWeights(t *testing.T) {
	missing2 := checkEntropies()
	missing2[2].Missing = true
	for _, tc := range []struct {
		name    string
		formula training.Formula
		ent     []training.SampleEntropy
		want    []float64
		tol     float64
	}{
		// Published check values (wmss-method.md), to 1e-5.
		{"official/check", training.FormulaOfficial, checkEntropies(),
			[]float64{0.39267, 0.08602, 0.01613, 0.46217, 0.04301}, 1e-5},
		{"paper_v2/check", training.FormulaPaperV2, checkEntropies(),
			[]float64{0.20054, 0.30894, 0.21680, 0.11924, 0.15447}, 1e-5},
		// Sample 2 missing: it gets 0 and leaves every sum. By hand (official):
		// Z1 = .9+.6+.8+.3 = 2.6, Z2 = .5+.6 = 1.1, Z3 = .1+.05 = .15;
		// raw = [.1·.9/2.6+.8·.5/1.1, .1·.6/2.6+.1·.1/.15, 0, .1·.8/2.6+.8·.6/1.1, .1·.3/2.6+.1·.05/.15]
		// = [.398252, .089744, 0, .467133, .044872], sum 1.
		{"official/missing", training.FormulaOfficial, missing2,
			[]float64{0.0346154 + 0.3636364, 0.0230769 + 0.0666667, 0, 0.0307692 + 0.4363636, 0.0115385 + 0.0333333}, 1e-6},
		// paper_v2 raw = [.37, .57, 0, .22, .285], sum 1.445.
		{"paper_v2/missing", training.FormulaPaperV2, missing2,
			[]float64{.37 / 1.445, .57 / 1.445, 0, .22 / 1.445, .285 / 1.445}, 1e-12},
		// Every weight 0 (no entropy anywhere, no change): uniform.
		{"official/all-zero", training.FormulaOfficial,
			[]training.SampleEntropy{{}, {}, {}, {}}, []float64{.25, .25, .25, .25}, 1e-15},
		{"paper_v2/all-zero", training.FormulaPaperV2,
			[]training.SampleEntropy{{}, {}, {}}, []float64{1. / 3, 1. / 3, 1. / 3}, 1e-15},
		// Small paper_v2 case by hand: raw = [α·.3, 0, β·.1] = [.03, 0, .08] → /.11.
		{"paper_v2/small", training.FormulaPaperV2,
			[]training.SampleEntropy{{Weak: 0.3}, {}, {Weak: 0.1, Strong: 0.1}}, []float64{3. / 11, 0, 8. / 11}, 1e-12},
		// All zero with one sample missing: uniform over the others.
		{"official/all-zero-missing", training.FormulaOfficial,
			[]training.SampleEntropy{{}, {Missing: true}, {}}, []float64{.5, 0, .5}, 1e-15},
		// Nothing has an entropy: uniform over all.
		{"official/all-missing", training.FormulaOfficial,
			[]training.SampleEntropy{{Missing: true}, {Missing: true}}, []float64{.5, .5}, 1e-15},
		// Negative entropies (float noise) are clipped at 0, then renormalised:
		// Z1 = 1−0.5 = .5, Z2 = Z3 = 1e-12 → raw = [.1·1/.5, .1·(−.5)/.5] = [.2, −.1] → [1, 0].
		{"official/clip", training.FormulaOfficial,
			[]training.SampleEntropy{{Weak: 1, Strong: 1}, {Weak: -.5, Strong: -.5}}, []float64{1, 0}, 1e-12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := training.Weights(tc.formula, tc.ent, training.DefaultCoefficients())
			if err != nil {
				t.Fatal(err)
			}
			assertDistribution(t, p, len(tc.ent))
			for i := range tc.want {
				if math.Abs(p[i]-tc.want[i]) > tc.tol {
					t.Errorf("p[%d] = %.7f, want %.7f (±%g)", i, p[i], tc.want[i], tc.tol)
				}
			}
		})
	}
}

func TestWeightsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		n := 1 + r.IntN(300)
		ent := make([]training.SampleEntropy, n)
		for i := range ent {
			ent[i] = training.SampleEntropy{Weak: 3 * r.Float64(), Strong: 3 * r.Float64(), Missing: r.IntN(10) == 0}
		}
		for _, f := range []training.Formula{training.FormulaOfficial, training.FormulaPaperV2} {
			p, err := training.Weights(f, ent, training.DefaultCoefficients())
			if err != nil {
				t.Fatal(err)
			}
			assertDistribution(t, p, n)
			for i := range p {
				if ent[i].Missing && p[i] != 0 && !allMissing(ent) {
					t.Fatalf("%s: missing sample %d has weight %g", f, i, p[i])
				}
			}
		}
	}
}

func TestWeightsErrors(t *testing.T) {
	nan := checkEntropies()
	nan[3].Strong = math.NaN()
	inf := checkEntropies()
	inf[1].Weak = math.Inf(1)
	for _, tc := range []struct {
		name    string
		formula training.Formula
		ent     []training.SampleEntropy
		c       training.Coefficients
		field   string
	}{
		{"NaNStrong", training.FormulaOfficial, nan, training.DefaultCoefficients(), "entropies[3].strong"},
		{"InfWeak", training.FormulaPaperV2, inf, training.DefaultCoefficients(), "entropies[1].weak"},
		{"UnknownFormula", "adaboost", checkEntropies(), training.DefaultCoefficients(), "formula"},
		{"NegativeBeta", training.FormulaOfficial, checkEntropies(), training.Coefficients{Alpha: .1, Beta: -1, Gamma: .1}, "beta"},
		{"NaNGamma", training.FormulaOfficial, checkEntropies(), training.Coefficients{Alpha: .1, Beta: .8, Gamma: math.NaN()}, "gamma"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := training.Weights(tc.formula, tc.ent, tc.c)
			var e *wmss.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *wmss.Error", err)
			}
			if e.Code != wmss.EINVALID || e.Field != tc.field {
				t.Errorf("got code %q field %q, want %q %q (%v)", e.Code, e.Field, wmss.EINVALID, tc.field, err)
			}
		})
	}
	// A missing sample's NaN is never looked at.
	nan[3].Missing = true
	if _, err := training.Weights(training.FormulaOfficial, nan, training.DefaultCoefficients()); err != nil {
		t.Errorf("missing NaN sample: %v", err)
	}
	if !strings.Contains(training.FormulaPaperV2.String(), "paper_v2") {
		t.Errorf("Formula.String = %q", training.FormulaPaperV2.String())
	}
}

// assertDistribution fails unless p has n non-negative entries summing to 1 (1e-9).
func assertDistribution(t *testing.T, p []float64, n int) {
	t.Helper()
	if len(p) != n {
		t.Fatalf("len(p) = %d, want %d", len(p), n)
	}
	var s float64
	for i, v := range p {
		if !(v >= 0) {
			t.Fatalf("p[%d] = %v, want ≥ 0", i, v)
		}
		s += v
	}
	if math.Abs(s-1) > 1e-9 {
		t.Fatalf("Σp = %.12f, want 1 (±1e-9)", s)
	}
}

func allMissing(ent []training.SampleEntropy) bool {
	for _, e := range ent {
		if !e.Missing {
			return false
		}
	}
	return true
}

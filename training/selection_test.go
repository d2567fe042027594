package training_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/wmss/wmss/training"
)

func TestSelect(t *testing.T) {
	ent := checkEntropies()
	ent = append(ent, training.SampleEntropy{Missing: true})
	o := training.SelectionOptions{
		Formula:      training.FormulaOfficial,
		Coefficients: training.DefaultCoefficients(),
		Resample:     training.ResampleOptions{Multiplier: 1, Seed: 42, DropDuplicates: true},
	}
	s, err := training.Select(ent, o)
	if err != nil {
		t.Fatal(err)
	}
	// Weights of the 5 check samples are unchanged by a missing sixth.
	want := []float64{0.39267, 0.08602, 0.01613, 0.46217, 0.04301, 0}
	for i := range want {
		if math.Abs(s.Weights[i]-want[i]) > 1e-5 {
			t.Errorf("p[%d] = %.5f, want %.5f", i, s.Weights[i], want[i])
		}
	}
	sum := s.Summary
	// ΔH = [−.5, .1, 0, −.6, .05, missing]. Means over 5: H_w 3.1/5, H_s 2.15/5.
	// ESS = 1/Σp² = 2.6504136 (p computed in float64 by hand-written Python).
	// Golden draw for 6 samples (pcg_golden.py with a 0 appended): [0, 0, 0, 3, 3, 3] → unique {0, 3}.
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"samples", float64(sum.Samples), 6},
		{"missing", float64(sum.Missing), 1},
		{"delta_negative", float64(sum.DeltaNegative), 2},
		{"delta_positive", float64(sum.DeltaPositive), 2},
		{"delta_zero", float64(sum.DeltaZero), 1},
		{"mean_weak", sum.MeanWeakEntropy, 0.62},
		{"mean_strong", sum.MeanStrongEntropy, 0.43},
		{"mean_delta", sum.MeanDeltaEntropy, -0.19},
		{"ess", sum.EffectiveSampleSize, 2.6504136},
		{"unique", float64(sum.Unique), 2},
		{"drawn", float64(sum.Drawn), 2},
		{"unique_fraction", sum.UniqueFraction, 2.0 / 6},
	} {
		if math.Abs(c.got-c.want) > 1e-7 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if sum.Formula != training.FormulaOfficial || sum.Seed != 42 || !sum.DropDuplicates {
		t.Errorf("summary options = %+v", sum)
	}

	var buf bytes.Buffer
	if err := s.WriteJSONL(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines, want 6:\n%s", len(lines), buf.String())
	}
	if want := `{"index":5,"weak_entropy":null,"strong_entropy":null,"delta_entropy":null,"weight":0,"draws":0}`; lines[5] != want {
		t.Errorf("line 6 = %s\nwant     %s", lines[5], want)
	}
	recs, err := training.ReadSelectionJSONL(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if r := recs[3]; *r.WeakEntropy != 0.8 || *r.StrongEntropy != 0.2 || math.Abs(*r.DeltaEntropy+0.6) > 1e-15 || r.Draws != 1 {
		t.Errorf("record 3 = %+v", r)
	}
	if _, err := training.ReadSelectionJSONL(strings.NewReader("{}\n{bad\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad record: err = %v, want one naming line 2", err)
	}
}

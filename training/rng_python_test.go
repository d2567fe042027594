package training_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"testing"

	"github.com/wmss/wmss/training"
)

// TestRNGAgainstPython draws random resampling and shuffling cases and
// checks Resample and Plan.EpochOrder against testdata/pcg_golden.py, an
// independent Python implementation of the same generator and algorithms.
func TestRNGAgainstPython(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("needs %s for the independent reference (%v)", python, err)
	}
	type resampleCase struct {
		P    []float64 `json:"p"`
		M    float64   `json:"m"`
		Seed uint64    `json:"seed"`
		Drop bool      `json:"drop"`
	}
	type shuffleCase struct {
		N     int    `json:"n"`
		Seed  uint64 `json:"seed"`
		Epoch int    `json:"epoch"`
	}
	var req struct {
		Resample []resampleCase `json:"resample"`
		Shuffle  []shuffleCase  `json:"shuffle"`
	}
	r := rand.New(rand.NewPCG(2026, 4))
	for range 40 {
		n := 1 + r.IntN(60)
		p := make([]float64, n)
		for i := range p {
			if r.IntN(4) > 0 { // a quarter of the weights are 0
				p[i] = r.Float64()
			}
		}
		p[r.IntN(n)] = 0.5 // at least one positive weight
		req.Resample = append(req.Resample, resampleCase{P: p, M: []float64{0.5, 1, 1.5, 3}[r.IntN(4)], Seed: r.Uint64(), Drop: r.IntN(2) == 0})
		req.Shuffle = append(req.Shuffle, shuffleCase{N: 1 + r.IntN(200), Seed: r.Uint64(), Epoch: r.IntN(5)})
	}
	in, _ := json.Marshal(req)
	cmd := exec.Command(python, "testdata/pcg_golden.py", "--stdin")
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python reference: %v", err)
	}
	var want struct {
		Resample [][]int `json:"resample"`
		Shuffle  [][]int `json:"shuffle"`
	}
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
	for i, c := range req.Resample {
		got, err := training.Resample(c.P, training.ResampleOptions{Multiplier: c.M, Seed: c.Seed, DropDuplicates: c.Drop})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want.Resample[i]) {
			t.Errorf("resample case %d %+v:\ngo     %v\npython %v", i, c, got, want.Resample[i])
		}
	}
	for i, c := range req.Shuffle {
		p, err := training.NewPlan(training.PlanConfig{Samples: c.N, MicroBatch: 1, GlobalBatch: 1, Epochs: c.Epoch + 1, Shuffle: true, Seed: c.Seed})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.EpochOrder(c.Epoch); !reflect.DeepEqual(got, want.Shuffle[i]) {
			t.Errorf("shuffle case %d %+v:\ngo     %v\npython %v", i, c, got, want.Shuffle[i])
		}
	}
}

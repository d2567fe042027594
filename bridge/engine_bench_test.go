package bridge_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"
)

// Bridge-overhead benchmark (issue 3, Benchmarks): the same sft_step through
// the embedded interpreter and in a plain /usr/bin/python3 process. Target:
// overhead ≤ 3 %.
const (
	benchSize   = "tiny" // init_model size
	benchVocab  = 320
	benchBatch  = 4   // samples in the global batch
	benchLength = 256 // tokens per sample
	benchPyRuns = 10  // sft_step calls timed in each plain-Python run
	benchPython = "/usr/bin/python3"
	benchScript = "../bench/engine_bench.py"
)

// benchSamples returns the samples bench/engine_bench.py's api_samples
// builds: token (7·i + 13·t) mod vocab, the last three quarters supervised.
func benchSamples() []map[string][]int {
	out := make([]map[string][]int, benchBatch)
	for i := range out {
		ids := make([]int, benchLength)
		mask := make([]int, benchLength)
		for t := range ids {
			ids[t] = (7*i + 13*t) % benchVocab
			if t >= benchLength/4 {
				mask[t] = 1
			}
		}
		out[i] = map[string][]int{"input_ids": ids, "loss_mask": mask}
	}
	return out
}

// pythonSFTSteps runs the plain-Python side: bench/engine_bench.py
// --api-sft-steps, the same api calls in a fresh /usr/bin/python3, and
// returns the seconds of each timed step.
func pythonSFTSteps(b *testing.B) []float64 {
	b.Helper()
	cmd := exec.Command(benchPython, benchScript, "--api-sft-steps", strconv.Itoa(benchPyRuns),
		"--api-size", benchSize, "--api-batch", strconv.Itoa(benchBatch),
		"--api-length", strconv.Itoa(benchLength), "--vocab", strconv.Itoa(benchVocab))
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("%s %s: %v", benchPython, benchScript, err)
	}
	var r struct {
		StepSeconds []float64 `json:"step_seconds"`
	}
	if err := json.Unmarshal(out, &r); err != nil || len(r.StepSeconds) != benchPyRuns {
		b.Fatalf("%s: output %q: want {\"step_seconds\": [%d numbers]} (%v)", benchScript, out, benchPyRuns, err)
	}
	return r.StepSeconds
}

func benchCall(b *testing.B, op string, args any) {
	b.Helper()
	if _, err := ip.Call(context.Background(), op, args); err != nil {
		b.Fatalf("%s: %v", op, err)
	}
}

// BenchmarkSFTStep_Bridge times api.sft_step (tiny model, 4×256 tokens,
// logit statistics on, as the pipeline runs it) called through Call, and the
// same step in plain /usr/bin/python3, run before and after the bridge loop
// so that load drift hits both. Both sides use torch's default threads.
// Reported: bridge-min-ms/op, python-min-ms/op (best step of each; the
// medians beside them) and overhead-% = 100·(bridge min / python min − 1).
func BenchmarkSFTStep_Bridge(b *testing.B) {
	dir := b.TempDir()
	benchCall(b, "init_model", map[string]any{"out": dir, "size": benchSize, "seed": 0, "vocab_size": benchVocab})
	benchCall(b, "load_model", map[string]any{"handle": "bench_model", "path": dir})
	benchCall(b, "register_dataset", map[string]any{"handle": "bench_data", "samples": benchSamples()})
	benchCall(b, "create_trainer", map[string]any{"handle": "bench_trainer", "strong": "bench_model"})
	b.Cleanup(func() {
		for _, h := range []string{"bench_trainer", "bench_data", "bench_model"} {
			ip.Call(context.Background(), "release", map[string]any{"handle": h})
		}
	})
	indices := make([]int, benchBatch)
	for i := range indices {
		indices[i] = i
	}
	step := map[string]any{"trainer": "bench_trainer", "dataset": "bench_data", "indices": indices, "lr": 1e-4}
	benchCall(b, "sft_step", step) // warm-up, as the Python side does

	py := pythonSFTSteps(b)
	var lat []time.Duration
	for b.Loop() {
		t := time.Now()
		benchCall(b, "sft_step", step)
		lat = append(lat, time.Since(t))
	}
	b.StopTimer()
	py = append(py, pythonSFTSteps(b)...)

	slices.Sort(lat)
	slices.Sort(py)
	bridgeMin := float64(lat[0].Nanoseconds()) / 1e6
	pyMin := py[0] * 1e3
	b.ReportMetric(bridgeMin, "bridge-min-ms/op")
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e6, "bridge-median-ms/op")
	b.ReportMetric(pyMin, "python-min-ms/op")
	b.ReportMetric(py[len(py)/2]*1e3, "python-median-ms/op")
	b.ReportMetric(100*(bridgeMin/pyMin-1), "overhead-%")
}

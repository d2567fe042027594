package evalrun_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/benchmarks"
	"github.com/wmss/wmss/evaluators/evalrun"
)

func dataDir(t *testing.T) string {
	t.Helper()
	d, err := benchmarks.FindDataDir(".")
	if err != nil {
		t.Skipf("benchmark data not found (want ../shared/data beside the repository): %v", err)
	}
	return d
}

// modelDir writes a stand-in model directory (ModelHash reads config.json
// and *.safetensors; the fake generator never opens them).
func modelDir(t *testing.T) string {
	d := t.TempDir()
	os.WriteFile(filepath.Join(d, "config.json"), []byte(`{"model_type":"qwen3"}`), 0o644)
	os.WriteFile(filepath.Join(d, "model.safetensors"), []byte("weights"), 0o644)
	return d
}

// oracle answers sample j of problem i correctly when right(i, j) holds,
// and otherwise with a wrong number; it writes GSM8K answers as prose
// (flexible only) when prose(i) holds.
type oracle struct {
	golds map[string]string // first user-turn content → gold answer
	right func(i, j int) bool
	prose func(i int) bool
	calls int
}

func (o *oracle) GenerateChat(ctx context.Context, req evalrun.GenRequest) ([][]evalrun.Completion, error) {
	o.calls++
	out := make([][]evalrun.Completion, len(req.Prompts))
	for i, p := range req.Prompts {
		gold := o.golds[p.Messages[0].Content]
		for j := 0; j < req.N; j++ {
			ans := gold
			if !o.right(i, j) {
				ans = "123456789"
			}
			text := fmt.Sprintf("Let me think. The answer is \\boxed{%s}.", ans)
			if o.prose != nil && o.prose(i) {
				text = fmt.Sprintf("So she has %s apples left", ans)
			}
			out[i] = append(out[i], evalrun.Completion{Text: text, CompletionTokens: 7, FinishReason: "stop"})
		}
	}
	return out, nil
}

func newOracle(t *testing.T, dir string, names ...string) *oracle {
	o := &oracle{golds: map[string]string{}}
	for _, n := range names {
		b, err := benchmarks.Load(dir, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range b.Items {
			o.golds[benchmarks.BuildPrompt(b, it, false).Messages[0].Content] = strings.TrimSpace(goldOf(it.Answer))
		}
	}
	return o
}

func goldOf(a string) string {
	if i := strings.LastIndex(a, "####"); i >= 0 {
		return strings.ReplaceAll(strings.TrimSpace(a[i+4:]), ",", "")
	}
	return a
}

func TestRun_ScoresAndPassAtK(t *testing.T) {
	dir := dataDir(t)
	o := newOracle(t, dir, "gsm8k", "svamp")
	// Problem i is right on samples j < i%4 of 3: c = min(i%4, 3).
	o.right = func(i, j int) bool { return j < i%4 }
	o.prose = func(i int) bool { return i%5 == 0 }
	cfg := evalrun.Config{DataDir: dir, ModelDir: modelDir(t), Benchmarks: []string{"gsm8k", "svamp"},
		Limit: 20, Samples: 3, K: []int{1, 2, 3}, Temperature: 0.7, Seed: 5}
	res, items, err := evalrun.Run(context.Background(), cfg, evalrun.Deps{Gen: o})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2*20*3 || len(res.Benchmarks) != 2 || o.calls != 2 {
		t.Fatalf("%d items, %d benchmarks, %d generate calls", len(items), len(res.Benchmarks), o.calls)
	}
	// Expected values computed independently of the scorer: c_i = min(i%4,3), n = 3.
	var wantScore, want1, want2, want3 float64
	for i := 0; i < 20; i++ {
		c := float64(min(i%4, 3))
		wantScore += c / 3 / 20
		want1 += c / 3 / 20
		want2 += (1 - comb(3-c, 2)/comb(3, 2)) / 20
		want3 += (1 - comb(3-c, 3)/comb(3, 3)) / 20
	}
	for _, br := range res.Benchmarks {
		if br.Problems != 20 || br.Samples != 3 || br.Errors != 0 {
			t.Errorf("%s: %+v", br.Name, br)
		}
		near(t, br.Name+" score", br.Score, wantScore)
		near(t, br.Name+" pass@1", br.PassAtK["pass@1"], want1)
		near(t, br.Name+" pass@2", br.PassAtK["pass@2"], want2)
		near(t, br.Name+" pass@3", br.PassAtK["pass@3"], want3)
		if br.DatasetSHA256 == "" || br.CompletionTokens != 20*3*7 {
			t.Errorf("%s: sha %q tokens %d", br.Name, br.DatasetSHA256, br.CompletionTokens)
		}
	}
	// GSM8K: the prose answers (i%5 == 0) count for flexible, not strict.
	g := res.Benchmarks[0]
	if g.Strict == nil || g.Flexible == nil {
		t.Fatal("gsm8k lacks strict/flexible")
	}
	var wantStrict float64
	for i := 0; i < 20; i++ {
		if i%5 != 0 {
			wantStrict += float64(min(i%4, 3)) / 3 / 20
		}
	}
	near(t, "gsm8k strict", *g.Strict, wantStrict)
	near(t, "gsm8k flexible", *g.Flexible, wantScore)
	if res.MathAverage != nil {
		t.Error("math average reported with 2 of 7 sets")
	}
	if it := items[1]; it.Benchmark != "gsm8k" || it.Sample != 1 || it.Gold == "" || it.Verdict == "" || it.Prompt == "" {
		t.Errorf("item record = %+v", it)
	}
}

func TestRun_MathAverageAndChoice(t *testing.T) {
	dir := dataDir(t)
	o := newOracle(t, dir, benchmarks.MathAverage...)
	o.right = func(i, j int) bool { return i%2 == 0 }
	cfg := evalrun.Config{DataDir: dir, ModelDir: modelDir(t), Benchmarks: benchmarks.MathAverage, Limit: 10}
	res, _, err := evalrun.Run(context.Background(), cfg, evalrun.Deps{Gen: o})
	if err != nil {
		t.Fatal(err)
	}
	for _, br := range res.Benchmarks {
		near(t, br.Name, br.Score, 0.5)
	}
	if res.MathAverage == nil {
		t.Fatal("no math average")
	}
	near(t, "math average", *res.MathAverage, 0.5)
}

func TestConfig_Validate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   evalrun.Config
		field string
	}{
		{"NoModel", evalrun.Config{Benchmarks: []string{"gsm8k"}}, "model"},
		{"NoBenchmarks", evalrun.Config{ModelDir: "m"}, "benchmarks"},
		{"UnknownBenchmark", evalrun.Config{ModelDir: "m", Benchmarks: []string{"gsm8k", "gsm9k"}}, "benchmarks[1]"},
		{"KAboveN", evalrun.Config{ModelDir: "m", Benchmarks: []string{"gsm8k"}, Samples: 2, K: []int{1, 5}}, "k[1]"},
		{"NegativeTemperature", evalrun.Config{ModelDir: "m", Benchmarks: []string{"gsm8k"}, Temperature: -1}, "temperature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			var e *wmss.Error
			if !asError(err, &e) || e.Code != wmss.EINVALID || e.Field != tc.field {
				t.Errorf("err = %v, want invalid %s", err, tc.field)
			}
		})
	}
}

func asError(err error, e **wmss.Error) bool {
	x, ok := err.(*wmss.Error)
	*e = x
	return ok
}

func comb(n, k float64) float64 {
	if k > n {
		return 0
	}
	r := 1.0
	for i := 0.0; i < k; i++ {
		r = r * (n - i) / (i + 1)
	}
	return r
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

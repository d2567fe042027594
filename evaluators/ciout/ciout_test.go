package ciout_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/ciout"
	"github.com/wmss/wmss/evaluators/evalrun"
	"github.com/wmss/wmss/evaluators/paired"
)

// run builds a synthetic evaluation of one sample per problem: for each
// benchmark, n problems of which pass(i) are correct, plus errs problems
// whose only sample is a grader error.
type bench struct {
	name string
	n    int
	pass func(i int) bool
	errs int
}

func run(t *testing.T, benches ...bench) (*ciout.Results, []evalrun.Item) {
	t.Helper()
	cfg := evalrun.Config{ModelDir: "/models/m", Samples: 1, K: []int{1}, Seed: 3, TopP: 1, BatchSize: 8}
	res := &evalrun.Results{Config: cfg, ModelHash: "abc123", StartedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Seconds: 4.5}
	var items []evalrun.Item
	for _, b := range benches {
		br := evalrun.BenchmarkResult{Name: b.name, Kind: "math", Problems: b.n + b.errs, Samples: 1,
			PassAtK: map[string]float64{}, Verdicts: map[string]int{}, MaxNewTokens: 4096, Errors: b.errs,
			DatasetFile: b.name + "/test.jsonl", DatasetSHA256: "sha-" + b.name, Seconds: 1.25}
		correct := 0
		for i := range b.n + b.errs {
			it := evalrun.Item{Benchmark: b.name, ID: fmt.Sprintf("%s/%d", b.name, i), Prompt: "q <&>", Output: "a", Gold: "1"}
			switch {
			case i >= b.n:
				it.Verdict = "error"
			case b.pass(i):
				it.Verdict, it.Correct = "equal", true
				correct++
			default:
				it.Verdict = "not_equal"
			}
			br.Verdicts[it.Verdict]++
			items = append(items, it)
		}
		if b.n > 0 {
			br.Score = float64(correct) / float64(b.n)
			br.PassAtK["pass@1"] = br.Score
		}
		res.Benchmarks = append(res.Benchmarks, br)
	}
	return ciout.New(res, items, "v-test"), items
}

func below(k int) func(int) bool { return func(i int) bool { return i < k } }

func TestNew_Counts(t *testing.T) {
	r, _ := run(t, bench{name: "gsm8k", n: 10, pass: below(4), errs: 2})
	b := r.Benchmark("gsm8k")
	if b == nil || b.Scored != 10 || b.Correct != 4 || b.Score != 0.4 || b.MeanAtN["mean@1"] != 0.4 ||
		b.Generation.MaxNewTokens != 4096 || b.Generation.Seed != 3 || b.ModelHash != "abc123" ||
		b.CodeVersion != "v-test" || b.DatasetSHA256 != "sha-gsm8k" || !b.Passed || !r.Passed {
		t.Errorf("benchmark entry: %+v", b)
	}
	if r.Schema != ciout.Schema || r.Generation.MaxNewTokens != 0 || r.Model != "/models/m" {
		t.Errorf("top level: %+v", r)
	}
}

func TestResultsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	r, items := run(t, bench{name: "gsm8k", n: 6, pass: below(3)}, bench{name: "svamp", n: 4, pass: below(1)})
	ciout.ApplyMin(r, []ciout.Min{{Benchmark: "svamp", Metric: "score", Threshold: 0.5}})
	if err := ciout.WriteResults(dir, r); err != nil {
		t.Fatal(err)
	}
	if err := ciout.WriteItems(dir, items); err != nil {
		t.Fatal(err)
	}
	got, err := ciout.ReadResults(filepath.Join(dir, ciout.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("results round trip:\n got %+v\nwant %+v", got, r)
	}
	gotItems, err := ciout.ReadItems(filepath.Join(dir, ciout.ItemsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotItems, items) {
		t.Errorf("items round trip differs")
	}
	raw, _ := os.ReadFile(filepath.Join(dir, ciout.ItemsFile))
	if n := strings.Count(string(raw), "\n"); n != len(items) || !strings.Contains(string(raw), `"prompt":"q <&>"`) {
		t.Errorf("items.jsonl: %d lines for %d items, or HTML-escaped:\n%s", n, len(items), raw)
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("output dir holds %d entries, want 2", len(ents))
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	for _, tc := range []struct {
		name, path, code, mention string
		read                      func(string) error
	}{
		{"missing", filepath.Join(dir, "nope.json"), wmss.ENOTFOUND, "nope.json", readResults},
		{"not json", write("a.json", "{"), wmss.EINVALID, "a.json", readResults},
		{"other schema", write("b.json", `{"schema":"x"}`), wmss.EINVALID, `schema "x"`, readResults},
		{"bad line", write("i.jsonl", `{"benchmark":"gsm8k","id":"1","verdict":"equal"}`+"\n{oops\n"), wmss.EINVALID, "i.jsonl:2", readItems},
		{"no id", write("j.jsonl", `{"benchmark":"gsm8k","verdict":"equal"}`+"\n"), wmss.EINVALID, "j.jsonl:1", readItems},
		{"missing items", filepath.Join(dir, "none.jsonl"), wmss.ENOTFOUND, "none.jsonl", readItems},
	} {
		err := tc.read(tc.path)
		if wmss.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("%s: err = %v, want %s mentioning %q", tc.name, err, tc.code, tc.mention)
		}
	}
}

func readResults(p string) error { _, err := ciout.ReadResults(p); return err }
func readItems(p string) error   { _, err := ciout.ReadItems(p); return err }

func TestParseMin(t *testing.T) {
	got, err := ciout.ParseMin("gsm8k=0.35, humaneval=0.2,gsm8k:strict=0.3,humaneval:pass@5=1")
	want := []ciout.Min{{"gsm8k", "score", 0.35}, {"humaneval", "score", 0.2}, {"gsm8k", "strict", 0.3}, {"humaneval", "pass@5", 1}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseMin = %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []string{"gsm8k", "gsm8k=x", "gsm8k=1.5", "gsm8k=-0.1", "gsm8k:acc=0.3", "gsm8k:pass@0=0.1", "gsm8k=0.1,gsm8k=0.2"} {
		_, err := ciout.ParseMin(bad)
		var e *wmss.Error
		if wmss.ErrorCode(err) != wmss.EINVALID || !errorAs(err, &e) || e.Field != "min" {
			t.Errorf("ParseMin(%q): err = %v, want EINVALID naming min", bad, err)
		}
	}
	mins, _ := ciout.ParseMin("gsm8k=0.3,svamp:pass@2=0.1")
	if err := ciout.CheckMins(mins, []string{"gsm8k", "svamp"}, []int{1, 2}); err != nil {
		t.Errorf("CheckMins: %v", err)
	}
	for _, tc := range []struct {
		min   string
		names []string
		ks    []int
	}{
		{"mbpp=0.1", []string{"gsm8k"}, []int{1}},
		{"svamp:strict=0.1", []string{"svamp"}, []int{1}},
		{"gsm8k:pass@5=0.1", []string{"gsm8k"}, []int{1}},
	} {
		mins, _ := ciout.ParseMin(tc.min)
		if err := ciout.CheckMins(mins, tc.names, tc.ks); wmss.ErrorCode(err) != wmss.EINVALID {
			t.Errorf("CheckMins(%s, %v, %v) = %v, want EINVALID", tc.min, tc.names, tc.ks, err)
		}
	}
}

func errorAs(err error, e **wmss.Error) bool {
	x, ok := err.(*wmss.Error)
	*e = x
	return ok
}

func TestApplyMin(t *testing.T) {
	r, _ := run(t, bench{name: "gsm8k", n: 20, pass: below(7)}, bench{name: "svamp", n: 10, pass: below(5)})
	mins, _ := ciout.ParseMin("gsm8k=0.35,svamp=0.5")
	ciout.ApplyMin(r, mins)
	g, s := r.Benchmark("gsm8k"), r.Benchmark("svamp")
	// 7/20 = 0.35 is not below 0.35; 5/10 = 0.5 is not below 0.5.
	if !g.Passed || !s.Passed || !r.Passed || len(g.Gates) != 1 || *g.Gates[0].Min != 0.35 || g.Gates[0].Value != 0.35 {
		t.Errorf("at the threshold: %+v %+v", g.Gates, s.Gates)
	}
	r, _ = run(t, bench{name: "gsm8k", n: 20, pass: below(6)}, bench{name: "svamp", n: 10, pass: below(5)})
	ciout.ApplyMin(r, mins)
	g = r.Benchmark("gsm8k")
	if g.Passed || r.Passed || !r.Benchmark("svamp").Passed || !strings.Contains(g.Gates[0].Message, "below the minimum 0.35") {
		t.Errorf("below: passed %v, gates %+v", r.Passed, g.Gates)
	}
	// A pass@k the run could not compute fails its gate.
	r, _ = run(t, bench{name: "svamp", n: 0, errs: 3})
	ciout.ApplyMin(r, []ciout.Min{{"svamp", "pass@1", 0}})
	if r.Passed || !strings.Contains(r.Benchmark("svamp").Gates[0].Message, "not computed") {
		t.Errorf("uncomputed pass@1: %+v", r.Benchmark("svamp").Gates)
	}
}

func TestPairs(t *testing.T) {
	it := func(id, verdict string, ok bool) evalrun.Item {
		return evalrun.Item{Benchmark: "b", ID: id, Verdict: verdict, Correct: ok}
	}
	a := []evalrun.Item{
		it("1", "equal", true), it("1", "not_equal", false), it("1", "equal", true), // 2/3
		it("2", "error", false),                              // not scored in A
		it("3", "not_equal", false), it("3", "error", false), // 0/1
		it("4", "equal", true), // not in B
		{Benchmark: "other", ID: "1", Verdict: "equal", Correct: true},
	}
	b := []evalrun.Item{
		it("3", "equal", true), it("3", "equal", true), // 2/2
		it("1", "equal", true), it("1", "error", false), it("1", "not_equal", false), // 1/2
		it("2", "equal", true),
	}
	got := ciout.Pairs(a, b, "b")
	want := []paired.Pair{{ID: "1", A: 2.0 / 3, B: 0.5}, {ID: "3", A: 0, B: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Pairs = %+v, want %+v", got, want)
	}
}

func TestApplyBaseline(t *testing.T) {
	base, baseItems := run(t, bench{name: "gsm8k", n: 200, pass: below(120)})
	opts := paired.Options{Seed: 1}
	t.Run("ThirtyFlipsDownFails", func(t *testing.T) {
		// Problems 0–29 regress: 90/200, McNemar p = 2/2^30.
		r, items := run(t, bench{name: "gsm8k", n: 200, pass: func(i int) bool { return i >= 30 && i < 120 }})
		if err := ciout.ApplyBaseline(r, items, base, baseItems, "base/results.json", opts); err != nil {
			t.Fatal(err)
		}
		g := r.Benchmark("gsm8k").Gates[0]
		if r.Passed || g.Passed || g.Baseline.OnlyA != 30 || g.Baseline.OnlyB != 0 || g.Baseline.Verdict != paired.VerdictWorse ||
			!strings.Contains(g.Message, "significant drop") || g.BaselineFile != "base/results.json" {
			t.Errorf("gate %+v\n%+v", g, g.Baseline)
		}
	})
	t.Run("ThreeFlipsEachWayPasses", func(t *testing.T) {
		r, items := run(t, bench{name: "gsm8k", n: 200, pass: func(i int) bool { return (i >= 3 && i < 120) || (i >= 120 && i < 123) }})
		if err := ciout.ApplyBaseline(r, items, base, baseItems, "b", opts); err != nil {
			t.Fatal(err)
		}
		g := r.Benchmark("gsm8k").Gates[0]
		if !r.Passed || !g.Passed || g.Baseline.OnlyA != 3 || g.Baseline.OnlyB != 3 || g.Baseline.PValue != 1 {
			t.Errorf("gate %+v\n%+v", g, g.Baseline)
		}
	})
	t.Run("SignificantGainPasses", func(t *testing.T) {
		r, items := run(t, bench{name: "gsm8k", n: 200, pass: below(150)})
		ciout.ApplyBaseline(r, items, base, baseItems, "b", opts)
		if g := r.Benchmark("gsm8k").Gates[0]; !g.Passed || g.Baseline.Verdict != paired.VerdictBetter {
			t.Errorf("gain: %+v", g)
		}
	})
	t.Run("NotInBaselineSkipped", func(t *testing.T) {
		r, items := run(t, bench{name: "gsm8k", n: 200, pass: below(120)}, bench{name: "svamp", n: 5, pass: below(0)})
		ciout.ApplyBaseline(r, items, base, baseItems, "b", opts)
		g := r.Benchmark("svamp").Gates[0]
		if !r.Passed || !g.Skipped || !g.Passed || g.Baseline != nil {
			t.Errorf("svamp gate %+v", g)
		}
	})
	t.Run("ErrNoSharedItems", func(t *testing.T) {
		r, items := run(t, bench{name: "gsm8k", n: 5, pass: below(1)})
		for i := range items {
			items[i].ID = "other/" + items[i].ID
		}
		err := ciout.ApplyBaseline(r, items, base, baseItems, "b", opts)
		if wmss.ErrorCode(err) != wmss.EINVALID || !strings.Contains(err.Error(), "gsm8k") {
			t.Errorf("err = %v, want EINVALID naming gsm8k", err)
		}
	})
	t.Run("SameSeedSameGate", func(t *testing.T) {
		r1, items := run(t, bench{name: "gsm8k", n: 200, pass: func(i int) bool { return i >= 10 && i < 125 }})
		r2, _ := run(t, bench{name: "gsm8k", n: 200, pass: func(i int) bool { return i >= 10 && i < 125 }})
		ciout.ApplyBaseline(r1, items, base, baseItems, "b", opts)
		ciout.ApplyBaseline(r2, items, base, baseItems, "b", opts)
		if !reflect.DeepEqual(r1, r2) {
			t.Errorf("same seed, different gates")
		}
	})
}

func TestCodeVersion(t *testing.T) {
	if got := ciout.CodeVersion("v1.2.3"); got != "v1.2.3" {
		t.Errorf("override: %q", got)
	}
	// Test binaries carry no VCS stamp; the fallback is a non-empty word.
	if got := ciout.CodeVersion(""); got == "" {
		t.Error("CodeVersion(\"\") is empty")
	}
}

func TestCompareRuns_Notes(t *testing.T) {
	a, ai := run(t, bench{name: "gsm8k", n: 10, pass: below(5)}, bench{name: "svamp", n: 4, pass: below(1)})
	b, bi := run(t, bench{name: "gsm8k", n: 6, pass: below(5)}, bench{name: "aqua", n: 4, pass: below(1)})
	b.Benchmarks[0].Generation.MaxNewTokens = 512
	b.Benchmarks[0].Generation.Seed = 99 // not a note: the seed does not change what is measured
	b.Benchmarks[0].DatasetSHA256 = "other"
	rows, err := ciout.CompareRuns(a, ai, b, bi, paired.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Benchmark != "gsm8k" || rows[0].Comparison == nil || rows[0].Comparison.N != 6 ||
		rows[1].Benchmark != "svamp" || rows[1].Missing != "B" || rows[2].Benchmark != "aqua" || rows[2].Missing != "A" {
		t.Fatalf("rows %+v", rows)
	}
	want := []string{"dataset sha256 differs (sha-gsm8k… vs other…)", "generation settings differ: max_new_tokens 4096 vs 512", "6 problems scored in both (A 10, B 6)"}
	if !reflect.DeepEqual(rows[0].Notes, want) {
		t.Errorf("notes %q, want %q", rows[0].Notes, want)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wmss/wmss/evaluators/ciout"
	"github.com/wmss/wmss/evaluators/evalrun"
	"github.com/wmss/wmss/evaluators/paired"
)

// writeRun writes results.json and items.jsonl of a synthetic run of one
// sample per problem on 200 gsm8k problems, pass(i) saying which are
// correct, to a new directory, and returns it.
func writeRun(t *testing.T, pass func(i int) bool) string {
	t.Helper()
	cfg := evalrun.Config{ModelDir: "m", Samples: 1, K: []int{1}, TopP: 1, BatchSize: 8}
	br := evalrun.BenchmarkResult{Name: "gsm8k", Kind: "math", Problems: 200, Samples: 1, PassAtK: map[string]float64{},
		Verdicts: map[string]int{}, MaxNewTokens: 4096, DatasetFile: "gsm8k/test.jsonl", DatasetSHA256: "x"}
	var items []evalrun.Item
	correct := 0
	for i := range 200 {
		it := evalrun.Item{Benchmark: "gsm8k", ID: fmt.Sprintf("gsm8k/test/%d", i), Verdict: "not_equal"}
		if pass(i) {
			it.Verdict, it.Correct = "equal", true
			correct++
		}
		br.Verdicts[it.Verdict]++
		items = append(items, it)
	}
	br.Score = float64(correct) / 200
	br.PassAtK["pass@1"] = br.Score
	r := ciout.New(&evalrun.Results{Config: cfg, ModelHash: "h", Benchmarks: []evalrun.BenchmarkResult{br}}, items, "v")
	dir := t.TempDir()
	if err := ciout.WriteResults(dir, r); err != nil {
		t.Fatal(err)
	}
	if err := ciout.WriteItems(dir, items); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCompare(t *testing.T) {
	a := writeRun(t, func(i int) bool { return i < 120 })
	same := writeRun(t, func(i int) bool { return i < 120 })
	down := writeRun(t, func(i int) bool { return i >= 30 && i < 120 })                            // 30 flips down
	mixed := writeRun(t, func(i int) bool { return (i >= 3 && i < 120) || (i >= 120 && i < 123) }) // 3 each way
	res := func(d string) string { return filepath.Join(d, ciout.ResultsFile) }

	t.Run("Identical", func(t *testing.T) {
		code, out, errb := runCmd(t, "compare", res(a), res(same))
		if code != exitPass || !regexp.MustCompile(`gsm8k\s+200\s+0\.6000\s+0\.6000\s+\+0\.0000\s+\[\+0\.0000, \+0\.0000\]\s+0\s+0\s+mcnemar\s+1\s+no_change`).MatchString(out) {
			t.Errorf("exit %d\n%s\n%s", code, out, errb)
		}
	})
	t.Run("ThirtyFlipsDown", func(t *testing.T) {
		code, out, errb := runCmd(t, "compare", res(a), res(down))
		// p = 2/2^30 = 1.86e-09 (McNemar's exact test; see paired_test.go).
		if code != exitPass || !regexp.MustCompile(`gsm8k\s+200\s+0\.6000\s+0\.4500\s+-0\.1500\s+\[-0\.\d+, -0\.\d+\]\s+30\s+0\s+mcnemar\s+1\.86e-09\s+worse`).MatchString(out) {
			t.Errorf("exit %d\n%s\n%s", code, out, errb)
		}
		// --fail-on-drop turns the drop into exit 1, with flags after
		// the positional arguments; a directory stands for its results.json.
		if code, out, _ := runCmd(t, "compare", a, down, "--fail-on-drop"); code != exitGate {
			t.Errorf("--fail-on-drop: exit %d\n%s", code, out)
		}
		// The reverse direction is a significant gain and passes.
		if code, out, _ := runCmd(t, "compare", "--fail-on-drop", down, a); code != exitPass || !strings.Contains(out, "better") {
			t.Errorf("reverse: exit %d\n%s", code, out)
		}
	})
	t.Run("ThreeFlipsEachWay", func(t *testing.T) {
		code, out, _ := runCmd(t, "compare", "--fail-on-drop", res(a), res(mixed))
		if code != exitPass || !regexp.MustCompile(`\s3\s+3\s+mcnemar\s+1\s+no_change`).MatchString(out) {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
	t.Run("JSONSameSeed", func(t *testing.T) {
		var rows [2][]ciout.Row
		for i := range rows {
			code, out, errb := runCmd(t, "compare", "--json", "--seed", "5", res(a), res(down))
			if code != exitPass {
				t.Fatalf("exit %d\n%s", code, errb)
			}
			var doc struct{ Benchmarks []ciout.Row }
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			rows[i] = doc.Benchmarks
		}
		c0, c1 := rows[0][0].Comparison, rows[1][0].Comparison
		if c0 == nil || *c0 != *c1 || c0.Verdict != paired.VerdictWorse || c0.Seed != 5 || c0.OnlyA != 30 {
			t.Errorf("JSON rows %+v vs %+v", c0, c1)
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		noItems := t.TempDir()
		b, _ := os.ReadFile(res(a))
		os.WriteFile(res(noItems), b, 0o644)
		other := t.TempDir()
		os.WriteFile(res(other), b, 0o644)
		os.WriteFile(filepath.Join(other, ciout.ItemsFile), []byte(`{"benchmark":"gsm8k","id":"elsewhere/1","verdict":"equal","correct":true}`+"\n"), 0o644)
		for _, tc := range []struct {
			name    string
			args    []string
			mention string
		}{
			{"OnePath", []string{res(a)}, "want two results.json paths"},
			{"Missing", []string{res(a), filepath.Join(a, "nope.json")}, "nope.json not found"},
			{"NoItems", []string{res(a), res(noItems)}, "items.jsonl not found"},
			{"NoSharedItems", []string{res(a), res(other)}, "no problem was scored in both runs"},
			{"BadAlpha", []string{"--alpha", "0", res(a), res(same)}, "alpha"},
		} {
			code, _, errb := runCmd(t, append([]string{"compare"}, tc.args...)...)
			if code != exitUsage || !strings.Contains(errb, tc.mention) {
				t.Errorf("%s: exit %d, want %d; stderr %q lacks %q", tc.name, code, exitUsage, errb, tc.mention)
			}
		}
	})
}

package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wmss/wmss/bridge"
	"github.com/wmss/wmss/evaluators/benchmarks"
	"github.com/wmss/wmss/evaluators/ciout"
	"github.com/wmss/wmss/evaluators/evalrun"
	"github.com/wmss/wmss/evaluators/paired"
	"github.com/wmss/wmss/evaluators/sandbox"
)

func testDataDir(t *testing.T) string {
	t.Helper()
	d, err := benchmarks.FindDataDir(".")
	if err != nil {
		t.Skipf("benchmark data not found (want ../shared/data beside the repository): %v", err)
	}
	return d
}

// fakeModelDir is a directory that passes the --model check without
// holding a model; the usage tests never reach the engine.
func fakeModelDir(t *testing.T) string {
	d := t.TempDir()
	os.WriteFile(filepath.Join(d, "config.json"), []byte(`{}`), 0o644)
	return d
}

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestEval_UsageErrors(t *testing.T) {
	data := testDataDir(t)
	model := fakeModelDir(t)
	out := t.TempDir()
	base := []string{"eval", "--data-dir", data, "--out", out}
	for _, tc := range []struct {
		name    string
		args    []string
		mention string
	}{
		{"NoModel", []string{"--benchmarks", "gsm8k"}, "--model: required"},
		{"NoBenchmarks", []string{"--model", model}, "--benchmarks: required"},
		{"UnknownBenchmark", []string{"--model", model, "--benchmarks", "gsm8k,gsm9k"}, `--benchmarks[1]: unknown benchmark "gsm9k"`},
		{"TwiceBenchmark", []string{"--model", model, "--benchmarks", "gsm8k,gsm8k"}, "gsm8k named twice"},
		{"BadMin", []string{"--model", model, "--benchmarks", "gsm8k", "--min", "gsm8k=1.5"}, "--min"},
		{"MinNotEvaluated", []string{"--model", model, "--benchmarks", "gsm8k", "--min", "svamp=0.1"}, "svamp is not among the benchmarks"},
		{"KAboveSamples", []string{"--model", model, "--benchmarks", "gsm8k", "--k", "1,5"}, "--k[1]: pass@5 needs 1 ≤ k ≤ samples (1)"},
		{"BadTopP", []string{"--model", model, "--benchmarks", "gsm8k", "--top-p", "2"}, "--top-p:"},
		{"BadAlpha", []string{"--model", model, "--benchmarks", "gsm8k", "--alpha", "1"}, "--alpha"},
		{"NotAModel", []string{"--model", t.TempDir(), "--benchmarks", "gsm8k"}, "is not a model directory"},
		{"MissingBaseline", []string{"--model", model, "--benchmarks", "gsm8k", "--baseline", filepath.Join(out, "nope.json")}, "nope.json not found"},
		{"ServerWithDataDir", []string{"--model", model, "--benchmarks", "gsm8k", "--server", "http://127.0.0.1:1"}, "--data-dir: not supported with --server"},
		{"UnknownFlag", []string{"--model", model, "--benchmarks", "gsm8k", "--frobnicate"}, "flag provided but not defined"},
		{"Positional", []string{"--model", model, "--benchmarks", "gsm8k", "extra"}, `unexpected argument "extra"`},
		{"DataDirMissing", []string{"--model", model, "--benchmarks", "gsm8k", "--data-dir", t.TempDir()}, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, append(slices.Clone(base), tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.mention) {
				t.Errorf("exit %d, want %d; stderr:\n%s\nwant it to mention %q", code, exitUsage, stderr, tc.mention)
			}
		})
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("usage errors left files in --out: %v", ents)
	}
	if code, _, stderr := runCmd(t, "eval", "--help"); code != exitPass || !strings.Contains(stderr, "usage: wmss eval") {
		t.Errorf("--help: exit %d\n%s", code, stderr)
	}
}

// tinyModel writes a seeded random tiny model (engine op init_model).
func tinyModel(t *testing.T) string {
	t.Helper()
	ip, err := bridge.Start(bridge.Options{})
	if err != nil {
		t.Skipf("embedded engine unavailable: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "model")
	if _, err := ip.Call(context.Background(), "init_model", map[string]any{"out": dir, "size": "tiny", "seed": 1}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func readItems(t *testing.T, dir string) []evalrun.Item {
	t.Helper()
	items, err := ciout.ReadItems(filepath.Join(dir, ciout.ItemsFile))
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// outputs strips the timing of item records, which differs between runs.
func outputs(items []evalrun.Item) []evalrun.Item {
	out := slices.Clone(items)
	for i := range out {
		out[i].TimeMS = 0
	}
	return out
}

// junitDoc is the part of junit.xml the end-to-end test reads.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, dir string) junitDoc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ciout.JUnitFile))
	if err != nil {
		t.Fatal(err)
	}
	var d junitDoc
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatalf("junit.xml: %v\n%s", err, b)
	}
	return d
}

func TestEval_TinyModelEndToEnd(t *testing.T) {
	data := testDataDir(t)
	model := tinyModel(t)
	root := t.TempDir()
	eval := func(out string, extra ...string) (int, string, string) {
		args := []string{"eval", "--model", model, "--benchmarks", "gsm8k,svamp", "--limit", "3",
			"--samples", "2", "--k", "1,2", "--temperature", "1", "--max-new-tokens", "12",
			"--data-dir", data, "--out", filepath.Join(root, out), "--progress", "lines"}
		return runCmd(t, append(args, extra...)...)
	}

	code, stdout, stderr := eval("a", "--seed", "7")
	if code != exitPass {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	a := filepath.Join(root, "a")
	res, err := ciout.ReadResults(filepath.Join(a, ciout.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := evalrun.ModelHash(model)
	if len(res.Benchmarks) != 2 || res.ModelHash != hash || res.Generation.Seed != 7 || res.Generation.Samples != 2 || !res.Passed || res.CodeVersion == "" {
		t.Fatalf("results.json: %+v", res)
	}
	for i, name := range []string{"gsm8k", "svamp"} {
		b := res.Benchmarks[i]
		ref, _ := benchmarks.Load(data, name)
		if b.Name != name || b.Problems != 3 || b.Samples != 2 || b.Scored+b.Errors != 6 || b.Correct > b.Scored ||
			b.DatasetSHA256 != ref.SHA256 || b.Generation.MaxNewTokens != 12 || b.ModelHash != hash || len(b.PassAtK) != 2 {
			t.Errorf("%s entry: %+v", name, b)
		}
		if _, ok := b.MeanAtN["mean@2"]; !ok {
			t.Errorf("%s lacks mean@2: %v", name, b.MeanAtN)
		}
	}
	items := readItems(t, a)
	if len(items) != 12 {
		t.Fatalf("%d items, want 12 (2 benchmarks × 3 problems × 2 samples)", len(items))
	}
	gsm, _ := benchmarks.Load(data, "gsm8k")
	if it := items[0]; it.Benchmark != "gsm8k" || it.ID != gsm.Items[0].ID || it.Sample != 0 || it.Verdict == "" ||
		!strings.Contains(it.Prompt, gsm.Items[0].Question) || it.CompletionTokens < 1 || it.CompletionTokens > 12 {
		t.Errorf("first item: %+v", it)
	}
	j := readJUnit(t, a)
	if j.Tests != 2 || j.Failures != 0 || len(j.Suites) != 1 || len(j.Suites[0].Cases) != 2 ||
		j.Suites[0].Cases[0].Name != "gsm8k" || j.Suites[0].Cases[1].Name != "svamp" || j.Suites[0].Cases[0].Failure != nil {
		t.Errorf("junit.xml: %+v", j)
	}
	if !regexp.MustCompile(`(?m)^gsm8k\s+3\s+\d+\s+\d+\s+0\.\d{4}`).MatchString(stdout) ||
		!strings.Contains(stderr, "gsm8k: generating 3 problems × 2 samples") || !strings.Contains(stderr, "svamp: scored 6/6") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}

	t.Run("SameSeedSameResults", func(t *testing.T) {
		if code, _, stderr := eval("b", "--seed", "7"); code != exitPass {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if !reflect.DeepEqual(outputs(items), outputs(readItems(t, filepath.Join(root, "b")))) {
			t.Error("same seed, different items")
		}
		rb, _ := ciout.ReadResults(filepath.Join(root, "b", ciout.ResultsFile))
		for i := range res.Benchmarks {
			x, y := res.Benchmarks[i], rb.Benchmarks[i]
			if x.Score != y.Score || !reflect.DeepEqual(x.PassAtK, y.PassAtK) || !reflect.DeepEqual(x.Verdicts, y.Verdicts) {
				t.Errorf("%s: scores differ between identical runs", x.Name)
			}
		}
		// Another seed samples other completions.
		if code, _, stderr := eval("c", "--seed", "8"); code != exitPass {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if reflect.DeepEqual(outputs(items), outputs(readItems(t, filepath.Join(root, "c")))) {
			t.Error("seeds 7 and 8 gave the same completions at temperature 1")
		}
	})

	t.Run("MinGateFails", func(t *testing.T) {
		code, stdout, stderr := eval("gate", "--seed", "7", "--min", "gsm8k=0.5")
		if code != exitGate {
			t.Fatalf("exit %d, want %d\n%s\n%s", code, exitGate, stdout, stderr)
		}
		if !strings.Contains(stdout, "FAILED: gsm8k score") {
			t.Errorf("stdout lacks the failed gate:\n%s", stdout)
		}
		j := readJUnit(t, filepath.Join(root, "gate"))
		if j.Failures != 1 || j.Suites[0].Cases[0].Failure == nil || j.Suites[0].Cases[0].Failure.Type != "min" || j.Suites[0].Cases[1].Failure != nil {
			t.Errorf("junit.xml: %+v", j)
		}
		r, _ := ciout.ReadResults(filepath.Join(root, "gate", ciout.ResultsFile))
		if r.Passed || r.Benchmarks[0].Passed || !r.Benchmarks[1].Passed {
			t.Errorf("passed flags: %v %v %v", r.Passed, r.Benchmarks[0].Passed, r.Benchmarks[1].Passed)
		}
	})

	t.Run("BaselineSameRunPasses", func(t *testing.T) {
		code, stdout, stderr := eval("base", "--seed", "7", "--baseline", filepath.Join(a, ciout.ResultsFile))
		if code != exitPass {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		r, _ := ciout.ReadResults(filepath.Join(root, "base", ciout.ResultsFile))
		for _, b := range r.Benchmarks {
			if len(b.Gates) != 1 || b.Gates[0].Baseline == nil || b.Gates[0].Baseline.N != 3 || b.Gates[0].Baseline.Delta != 0 ||
				b.Gates[0].Baseline.Verdict != paired.VerdictNoChange {
				t.Errorf("%s gates: %+v", b.Name, b.Gates)
			}
		}
	})
}

func TestCodeScorer(t *testing.T) {
	data := testDataDir(t)
	if err := sandbox.Available(); err != nil {
		t.Skipf("code sandbox unavailable: %v", err)
	}
	s := codeScorer{sb: sandbox.Default()}
	he, err := benchmarks.Load(data, "humaneval")
	if err != nil {
		t.Fatal(err)
	}
	mb, err := benchmarks.Load(data, "mbpp")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, it := range he.Items[:2] {
		// The canonical solution continues the prompt; a chat model more
		// often answers with the whole function in a fence.
		if v, _ := s.ScoreCode(ctx, it, it.Answer); v != "passed" {
			t.Errorf("%s canonical: %s", it.ID, v)
		}
		if v, _ := s.ScoreCode(ctx, it, "Here it is:\n```python\n"+it.Question+it.Answer+"\n```\n"); v != "passed" {
			t.Errorf("%s fenced: %s", it.ID, v)
		}
		if v, _ := s.ScoreCode(ctx, it, "    return None\n"); v == "passed" || v == "sandbox_error" {
			t.Errorf("%s wrong: %s", it.ID, v)
		}
	}
	for _, it := range mb.Items[:2] {
		if v, _ := s.ScoreCode(ctx, it, "```python\n"+it.Answer+"\n```"); v != "passed" {
			t.Errorf("%s reference: %s", it.ID, v)
		}
		if v, _ := s.ScoreCode(ctx, it, "def nothing():\n    pass\n"); v == "passed" || v == "sandbox_error" {
			t.Errorf("%s wrong: %s", it.ID, v)
		}
	}
}

// TestMBPPEntryPoint checks that the function named by each MBPP test's
// first assert is one the reference solution defines, so Sanitize keeps
// the right definition.
func TestMBPPEntryPoint(t *testing.T) {
	mb, err := benchmarks.Load(testDataDir(t), "mbpp")
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for _, it := range mb.Items {
		m := mbppCall.FindStringSubmatch(it.TestList[0])
		if m == nil || !regexp.MustCompile(`(?m)^\s*def\s+`+regexp.QuoteMeta(m[1])+`\s*\(`).MatchString(it.Answer) {
			bad++
			if bad <= 5 {
				t.Errorf("%s: entry point %v not defined by the reference; assert %q", it.ID, m, it.TestList[0])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d MBPP problems without a found entry point", bad, len(mb.Items))
	}
}

package benchmarks_test

import (
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/benchmarks"
)

// dataDir returns ../shared/data relative to the repository root, or skips.
func dataDir(t testing.TB) string {
	t.Helper()
	dir, err := benchmarks.FindDataDir(".")
	if err != nil {
		t.Skipf("shared benchmark data not available: %v", err)
	}
	return dir
}

func TestLoadShipped(t *testing.T) {
	dir := dataDir(t)
	// Record counts and first items from ../shared/data/README.md and the files.
	for _, tc := range []struct {
		name      string
		kind      benchmarks.Kind
		count     int
		budget    int
		firstID   string
		firstGold string
	}{
		{"gsm8k", benchmarks.KindMath, 1319, 4096, "gsm8k/test/0", "18"},
		{"gsm8k-train", benchmarks.KindMath, 7473, 4096, "gsm8k/train/0", "72"},
		{"math500", benchmarks.KindMath, 500, 4096, "test/precalculus/807.json", `\left( 3, \frac{\pi}{2} \right)`},
		{"svamp", benchmarks.KindMath, 1000, 4096, "svamp/0", "8.0"},
		{"mawps", benchmarks.KindMath, 238, 4096, "mawps/0", "1.8333333333333335"},
		{"mawps-train", benchmarks.KindMath, 1898, 4096, "mawps/train/2351", "2.0"},
		{"aqua", benchmarks.KindChoice, 254, 4096, "aqua/0", "A"},
		{"aime25", benchmarks.KindMath, 30, 8192, "aime2025/0", "70"},
		{"amc23", benchmarks.KindMath, 40, 8192, "amc23/0", "27"},
		{"humaneval", benchmarks.KindCode, 164, 4096, "HumanEval/0", ""},
		{"mbpp", benchmarks.KindCode, 500, 4096, "mbpp/11", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := benchmarks.Load(dir, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Items) != tc.count || b.Kind != tc.kind || b.MaxNewTokens != tc.budget {
				t.Errorf("got %d items, kind %s, budget %d; want %d, %s, %d", len(b.Items), b.Kind, b.MaxNewTokens, tc.count, tc.kind, tc.budget)
			}
			if b.SHA256 != b.KnownSHA256 || len(b.SHA256) != 64 {
				t.Errorf("sha256 %s, README lists %s", b.SHA256, b.KnownSHA256)
			}
			first := b.Items[0]
			if first.ID != tc.firstID || (tc.firstGold != "" && first.Answer != tc.firstGold) {
				t.Errorf("first item %q gold %q, want %q gold %q", first.ID, first.Answer, tc.firstID, tc.firstGold)
			}
			seen := map[string]bool{}
			for _, it := range b.Items {
				if it.Question == "" || it.Answer == "" && b.Kind != benchmarks.KindCode {
					t.Errorf("%s: empty question or answer", it.ID)
				}
				if seen[it.ID] {
					t.Errorf("duplicate id %s", it.ID)
				}
				seen[it.ID] = true
			}
		})
	}
}

func TestLoadFields(t *testing.T) {
	dir := dataDir(t)
	t.Run("humaneval", func(t *testing.T) {
		b, err := benchmarks.Load(dir, "humaneval")
		if err != nil {
			t.Fatal(err)
		}
		it := b.Items[0]
		if it.EntryPoint != "has_close_elements" || !strings.Contains(it.Test, "def check(candidate)") ||
			!strings.HasPrefix(it.Question, "from typing import List") || it.Answer == "" {
			t.Errorf("HumanEval/0 fields wrong: entry %q", it.EntryPoint)
		}
		if last := b.Items[163].ID; last != "HumanEval/163" {
			t.Errorf("last id %s", last)
		}
	})
	t.Run("mbpp", func(t *testing.T) {
		b, err := benchmarks.Load(dir, "mbpp")
		if err != nil {
			t.Fatal(err)
		}
		if last := b.Items[len(b.Items)-1].ID; last != "mbpp/510" {
			t.Errorf("last id %s, want mbpp/510", last)
		}
		setup := 0
		for _, it := range b.Items {
			if len(it.TestList) != 3 || strings.Contains(it.Answer, "\r") || strings.Contains(it.TestSetup, "\r") {
				t.Errorf("%s: %d asserts or CR line ends left", it.ID, len(it.TestList))
			}
			if it.TestSetup != "" {
				setup++
			}
		}
		if setup == 0 {
			t.Error("no item has test_setup_code; the file has some")
		}
	})
	t.Run("math500", func(t *testing.T) {
		b, err := benchmarks.Load(dir, "math500")
		if err != nil {
			t.Fatal(err)
		}
		subjects, levels := map[string]int{}, map[int]int{}
		for _, it := range b.Items {
			subjects[it.Subject]++
			levels[it.Level]++
		}
		// Distribution from the data README.
		wantS := map[string]int{"Algebra": 124, "Intermediate Algebra": 97, "Prealgebra": 82, "Number Theory": 62, "Precalculus": 56, "Geometry": 41, "Counting & Probability": 38}
		for s, n := range wantS {
			if subjects[s] != n {
				t.Errorf("subject %s: %d items, want %d", s, subjects[s], n)
			}
		}
		for l, n := range map[int]int{1: 43, 2: 90, 3: 105, 4: 128, 5: 134} {
			if levels[l] != n {
				t.Errorf("level %d: %d items, want %d", l, levels[l], n)
			}
		}
	})
	t.Run("aqua", func(t *testing.T) {
		b, err := benchmarks.Load(dir, "aqua")
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range b.Items {
			if len(it.Answer) != 1 || it.Answer < "A" || it.Answer > "E" || !strings.Contains(it.Question, "Answer Choices") {
				t.Errorf("%s: answer %q", it.ID, it.Answer)
			}
		}
	})
	t.Run("gsm8k-strict-flexible", func(t *testing.T) {
		b, err := benchmarks.Load(dir, "gsm8k")
		if err != nil {
			t.Fatal(err)
		}
		if !b.StrictFlexible {
			t.Error("gsm8k must report strict and flexible accuracy")
		}
	})
}

func TestMathAverageSets(t *testing.T) {
	dir := dataDir(t)
	total := 0
	for _, name := range benchmarks.MathAverage {
		b, err := benchmarks.Load(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		if b.Kind == benchmarks.KindCode {
			t.Errorf("%s is code", name)
		}
		total += len(b.Items)
	}
	// 30 + 500 + 40 + 254 + 1319 + 238 + 1000 (data README).
	if total != 3381 {
		t.Errorf("the seven math sets hold %d items, want 3381", total)
	}
}

func write(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, bench, file, content string
		code, field                string
	}{
		{"ErrBadJSONLine", "gsm8k", "gsm8k/test.jsonl", `{"question":"q","answer":"#### 1"}` + "\n{oops\n", wmss.EINVALID, "gsm8k/test.jsonl:2"},
		{"ErrNoHash", "gsm8k", "gsm8k/test.jsonl", `{"question":"q","answer":"1"}` + "\n", wmss.EINVALID, "gsm8k/test.jsonl:1: answer"},
		{"ErrNoProblem", "math500", "math500/test.jsonl", `{"answer":"1","unique_id":"x"}` + "\n", wmss.EINVALID, "math500/test.jsonl:1: problem"},
		{"ErrNotArray", "svamp", "SVAMP/test.json", `{"instruction":"q"}`, wmss.EINVALID, "SVAMP/test.json"},
		{"ErrNoAnswer", "amc23", "amc23/test.json", `[{"instruction":"q","answer":"1"},{"instruction":"q","answer":" "}]`, wmss.EINVALID, "amc23/test.json[1]: answer"},
		{"ErrMAWPSAns", "mawps-train", "mawps/train.json", `[{"id":1,"original_text":"q","ans":"abc"}]`, wmss.EINVALID, "mawps/train.json[0]: ans"},
		{"ErrMBPPTests", "mbpp", "mbpp/mbpp.jsonl", `{"task_id":11,"text":"t","code":"c","test_list":[]}` + "\n", wmss.EINVALID, "mbpp/mbpp.jsonl:1: test_list"},
		{"ErrHumanEvalGzip", "humaneval", "humaneval/HumanEval.jsonl.gz", "not gzip", wmss.EINVALID, "humaneval/HumanEval.jsonl.gz"},
		{"ErrMissingFile", "aime25", "other/file.json", "[]", wmss.ENOTFOUND, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, tc.file, tc.content)
			_, err := benchmarks.Load(dir, tc.bench)
			var e *wmss.Error
			if !errors.As(err, &e) || e.Code != tc.code || e.Field != tc.field {
				t.Errorf("Load error %v, want code %s field %q", err, tc.code, tc.field)
			}
		})
	}
	t.Run("ErrUnknownName", func(t *testing.T) {
		_, err := benchmarks.Load(t.TempDir(), "gsm9k")
		var e *wmss.Error
		if !errors.As(err, &e) || e.Field != "name" {
			t.Errorf("error %v, want EINVALID on name", err)
		}
	})
}

func TestLoadHumanEvalGzip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "humaneval", "HumanEval.jsonl.gz")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	zw.Write([]byte(`{"task_id":"HumanEval/0","prompt":"def f():\n","entry_point":"f","canonical_solution":"    return 1\n","test":"def check(c): assert c() == 1"}` + "\n"))
	zw.Close()
	f.Close()
	b, err := benchmarks.Load(dir, "humaneval")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Items) != 1 || b.Items[0].EntryPoint != "f" || b.SHA256 == b.KnownSHA256 {
		t.Errorf("got %+v (sha %s)", b.Items, b.SHA256)
	}
}

func TestBuildPrompt(t *testing.T) {
	math := &benchmarks.Benchmark{Name: "math500", Kind: benchmarks.KindMath, MaxNewTokens: 4096}
	p := benchmarks.BuildPrompt(math, benchmarks.Item{Question: "What is 1+1?"}, false)
	if len(p.Messages) != 1 || p.Messages[0].Role != "user" || !strings.Contains(p.Messages[0].Content, `\boxed{}`) ||
		!strings.HasPrefix(p.Messages[0].Content, "What is 1+1?") || p.Thinking || p.MaxNewTokens != 4096 {
		t.Errorf("math prompt %+v", p)
	}
	if p := benchmarks.BuildPrompt(math, benchmarks.Item{Question: "q"}, true); !p.Thinking {
		t.Error("thinking flag not passed")
	}
	choice := &benchmarks.Benchmark{Kind: benchmarks.KindChoice}
	if c := benchmarks.BuildPrompt(choice, benchmarks.Item{Question: "q"}, false).Messages[0].Content; !strings.Contains(c, "letter") {
		t.Errorf("choice prompt %q", c)
	}
	code := &benchmarks.Benchmark{Kind: benchmarks.KindCode}
	he := benchmarks.BuildPrompt(code, benchmarks.Item{Question: "def f():\n", EntryPoint: "f"}, false).Messages[0].Content
	if !strings.Contains(he, "```python\ndef f():\n```") {
		t.Errorf("HumanEval prompt %q", he)
	}
	mb := benchmarks.BuildPrompt(code, benchmarks.Item{Question: "Write f.", TestList: []string{"assert f(1) == 2", "assert f(2) == 3"}}, false).Messages[0].Content
	if !strings.Contains(mb, "assert f(1) == 2\nassert f(2) == 3") {
		t.Errorf("MBPP prompt %q", mb)
	}
}

func TestFindDataDir(t *testing.T) {
	root := t.TempDir()
	write(t, root, "repo/go.mod", "module x\n")
	write(t, root, "shared/data/README.md", "x")
	write(t, root, "repo/a/b/keep", "")
	got, err := benchmarks.FindDataDir(filepath.Join(root, "repo", "a", "b"))
	if want := filepath.Join(root, "shared", "data"); err != nil || got != want {
		t.Errorf("FindDataDir = %q, %v; want %q", got, err, want)
	}
	os.RemoveAll(filepath.Join(root, "shared"))
	if _, err := benchmarks.FindDataDir(filepath.Join(root, "repo")); wmss.ErrorCode(err) != wmss.ENOTFOUND {
		t.Errorf("missing data dir: %v, want ENOTFOUND", err)
	}
}

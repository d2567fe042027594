package codeeval_test

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/wmss/wmss/evaluators/codeeval"
)

// dataDir returns ../shared/data relative to the repository root (the
// directory holding go.mod), skipping the test when it is absent.
func dataDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the test directory")
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", "data")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("benchmark data not found at %s", d)
	}
	return d
}

// readJSONL decodes one JSON object per line of r into T.
func readJSONL[T any](t testing.TB, r io.Reader, name string) []T {
	t.Helper()
	var out []T
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s line %d: %v", name, n, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

func loadHumanEval(t testing.TB) []codeeval.HumanEvalTask {
	path := filepath.Join(dataDir(t), "humaneval", "HumanEval.jsonl.gz")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tasks := readJSONL[codeeval.HumanEvalTask](t, zr, path)
	if len(tasks) != 164 {
		t.Fatalf("%s: %d problems, want 164", path, len(tasks))
	}
	return tasks
}

// loadMBPPTest returns the MBPP test split, task_id 11–510.
func loadMBPPTest(t testing.TB) []codeeval.MBPPTask {
	path := filepath.Join(dataDir(t), "mbpp", "mbpp.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []codeeval.MBPPTask
	for _, task := range readJSONL[codeeval.MBPPTask](t, f, path) {
		if task.TaskID >= 11 && task.TaskID <= 510 {
			out = append(out, task)
		}
	}
	if len(out) != 500 {
		t.Fatalf("%s: %d test-split problems, want 500", path, len(out))
	}
	return out
}

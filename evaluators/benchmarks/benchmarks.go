// Package benchmarks loads the shipped evaluation sets (../shared/data, see
// its README for the fields), builds chat prompts for them and gives each
// one's generation budget.
//
// Math sets: gsm8k (test, 1,319), math500 (500), svamp (1,000), mawps (238),
// aqua (254, multiple choice), aime25 (30), amc23 (40); the paper's math
// average is their unweighted mean (MathAverage). Code sets: humaneval (164)
// and mbpp (the test split, task_id 11–510). Training files are loadable as
// gsm8k-train and mawps-train.
package benchmarks

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wmss/wmss"
)

// Kind says how a benchmark's answers are scored.
type Kind string

// Kinds.
const (
	KindMath   Kind = "math"   // a free-form final answer, graded by evaluators/mathgrade
	KindChoice Kind = "choice" // a multiple-choice letter A–E (AQuA)
	KindCode   Kind = "code"   // a program run against tests (HumanEval, MBPP)
)

// Item is one problem.
type Item struct {
	ID       string `json:"id"`       // stable within the benchmark, e.g. "HumanEval/0", "gsm8k/test/12"
	Question string `json:"question"` // the problem as the model sees it (HumanEval: the function prompt)
	// Answer is the gold final answer: LaTeX or a number for math, a letter
	// for choice, the reference solution for code (HumanEval: the body that
	// follows Question; MBPP: a full program, LF line ends).
	Answer string `json:"answer"`

	// Code fields.
	EntryPoint     string   `json:"entry_point,omitempty"`     // HumanEval: the function check() is called on
	Test           string   `json:"test,omitempty"`            // HumanEval: code that defines check(candidate)
	TestSetup      string   `json:"test_setup,omitempty"`      // MBPP: test_setup_code, run before the asserts
	TestList       []string `json:"test_list,omitempty"`       // MBPP: the three assert statements
	ChallengeTests []string `json:"challenge_tests,omitempty"` // MBPP: challenge_test_list, often empty

	// MATH-500 metadata.
	Subject string `json:"subject,omitempty"`
	Level   int    `json:"level,omitempty"`
}

// Benchmark is a loaded evaluation set.
type Benchmark struct {
	Name  string `json:"name"`
	Kind  Kind   `json:"kind"`
	Items []Item `json:"items"`
	// File is the data file's path relative to the data directory and
	// SHA256 the hex sha256 of its bytes as stored (for HumanEval, of the
	// gzip file). KnownSHA256 is the value the data README lists; a
	// mismatch means the file is not the one the scores were defined on.
	File        string `json:"file"`
	SHA256      string `json:"sha256"`
	KnownSHA256 string `json:"known_sha256"`
	// MaxNewTokens is the generation budget per sample (docs/wmss-method.md:
	// 4096 new tokens, 8192 for AIME25 and AMC23).
	MaxNewTokens int `json:"max_new_tokens"`
	// StrictFlexible is set for GSM8K, whose accuracy is reported twice:
	// strict (an answer the model marked: \boxed{}, "The answer is", ####)
	// and flexible (the last number), never strict alone (scoring case B01).
	StrictFlexible bool `json:"strict_flexible"`
}

// spec describes one data file.
type spec struct {
	kind   Kind
	file   string
	sha256 string
	budget int
	load   func(name string, r io.Reader) ([]Item, error)
}

// Budgets, from docs/wmss-method.md ("Math evaluation: greedy, 4096 new
// tokens (8192 for AIME25 and AMC23)"). Code uses the same default.
const (
	DefaultMaxNewTokens = 4096
	LongMaxNewTokens    = 8192
)

var specs = map[string]spec{
	"gsm8k":       {KindMath, "gsm8k/test.jsonl", "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14", DefaultMaxNewTokens, loadGSM8K},
	"gsm8k-train": {KindMath, "gsm8k/train.jsonl", "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465", DefaultMaxNewTokens, loadGSM8K},
	"math500":     {KindMath, "math500/test.jsonl", "5f825781e98ae98d39711ce3f9d02ec06743e04b6f3b3cb256f4049079dfa491", DefaultMaxNewTokens, loadMATH500},
	"svamp":       {KindMath, "SVAMP/test.json", "ffed015784f738f317c5603177861d044c4fc94e09211d78b25e96d46c656e2c", DefaultMaxNewTokens, loadInstruction},
	"mawps":       {KindMath, "mawps/test.json", "c1a708979cbf2b3df9ac4020baacf3e8e73fcf089e1de7dd1b305b810bfaa15f", DefaultMaxNewTokens, loadInstruction},
	"mawps-train": {KindMath, "mawps/train.json", "42e631004e46e71f5e050bfd6f0af2e27c9d76315cee66cc6412d66a19b47c1a", DefaultMaxNewTokens, loadMAWPSTrain},
	"aqua":        {KindChoice, "AQuA/test.json", "de677f5f0139340009eb01f17c0db781b4161912cd1f4efa77292f2fcf3478ee", DefaultMaxNewTokens, loadInstruction},
	"aime25":      {KindMath, "aime2025/test.json", "de1b2907208f7e7302825a16af356e5f3782401e9c51150a46d83240e4f3db97", LongMaxNewTokens, loadInstruction},
	"amc23":       {KindMath, "amc23/test.json", "09f77c83ef9d4f2674e0be82b865a0a27d30c1320d1e4372d3639360122a17c1", LongMaxNewTokens, loadInstruction},
	"humaneval":   {KindCode, "humaneval/HumanEval.jsonl.gz", "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef", DefaultMaxNewTokens, loadHumanEval},
	"mbpp":        {KindCode, "mbpp/mbpp.jsonl", "ccf64ceae9c5403bf50a044cb6d505bfd2a2963ee58338ba268fd65beab92a9f", DefaultMaxNewTokens, loadMBPP},
}

// MathAverage lists the seven sets whose unweighted mean is the paper's math
// average, in the paper's order.
var MathAverage = []string{"aime25", "math500", "amc23", "aqua", "gsm8k", "mawps", "svamp"}

// Names returns every loadable benchmark name, sorted.
func Names() []string {
	names := make([]string, 0, len(specs))
	for n := range specs {
		names = append(names, n)
	}
	for i := 1; i < len(names); i++ { // insertion sort: a dozen names
		for j := i; j > 0 && names[j] < names[j-1]; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	return names
}

// Load reads benchmark name from dataDir (the folder described by
// ../shared/data/README.md). It returns an EINVALID error naming "name" for
// an unknown benchmark, ENOTFOUND when the file is missing, and an EINVALID
// error naming the file and line (or array index) and field for a bad record.
func Load(dataDir, name string) (*Benchmark, error) {
	s, ok := specs[name]
	if !ok {
		return nil, wmss.FieldErrorf("name", "unknown benchmark %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	path := filepath.Join(dataDir, filepath.FromSlash(s.file))
	raw, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, wmss.Errorf(wmss.ENOTFOUND, "benchmark %s: data file %s not found", name, path)
		}
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	sum := sha256.Sum256(raw)
	var r io.Reader = bytes.NewReader(raw)
	if strings.HasSuffix(s.file, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, wmss.FieldErrorf(s.file, "not a gzip file: %v", err)
		}
		defer zr.Close()
		r = zr
	}
	items, err := s.load(s.file, r)
	if err != nil {
		return nil, err
	}
	return &Benchmark{
		Name:           name,
		Kind:           s.kind,
		Items:          items,
		File:           s.file,
		SHA256:         hex.EncodeToString(sum[:]),
		KnownSHA256:    s.sha256,
		MaxNewTokens:   s.budget,
		StrictFlexible: name == "gsm8k" || name == "gsm8k-train",
	}, nil
}

// FindDataDir returns the shared data directory for a working directory
// inside the repository: it walks up from start to the folder holding go.mod
// and returns ../shared/data next to it. It returns ENOTFOUND when there is
// no go.mod above start or the data directory does not exist.
func FindDataDir(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			data := filepath.Join(dir, "..", "shared", "data")
			if fi, err := os.Stat(data); err != nil || !fi.IsDir() {
				return "", wmss.Errorf(wmss.ENOTFOUND, "data directory %s not found", data)
			}
			return filepath.Clean(data), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", wmss.Errorf(wmss.ENOTFOUND, "no go.mod above %s", start)
		}
		dir = parent
	}
}

// jsonLines decodes each non-empty line of r into a new T and calls fn with
// its 1-based line number. Errors name file:line.
func jsonLines[T any](file string, r io.Reader, fn func(line int, rec *T) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		rec := new(T)
		if err := json.Unmarshal(b, rec); err != nil {
			return wmss.FieldErrorf(file+":"+strconv.Itoa(line), "bad JSON: %v", err)
		}
		if err := fn(line, rec); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	return nil
}

// jsonArray decodes r as one JSON array of T and calls fn with each
// element's 0-based index.
func jsonArray[T any](file string, r io.Reader, fn func(i int, rec *T) error) error {
	var recs []T
	if err := json.NewDecoder(r).Decode(&recs); err != nil {
		return wmss.FieldErrorf(file, "not a JSON array of records: %v", err)
	}
	for i := range recs {
		if err := fn(i, &recs[i]); err != nil {
			return err
		}
	}
	return nil
}

func missing(where, field string) error {
	return wmss.FieldErrorf(where+": "+field, "missing or empty")
}

func loadGSM8K(file string, r io.Reader) ([]Item, error) {
	type rec struct {
		Question string `json:"question"`
		Answer   string `json:"answer"`
	}
	split := strings.TrimSuffix(filepath.Base(file), ".jsonl")
	var items []Item
	err := jsonLines(file, r, func(line int, x *rec) error {
		where := file + ":" + strconv.Itoa(line)
		if x.Question == "" {
			return missing(where, "question")
		}
		i := strings.LastIndex(x.Answer, "####")
		if i < 0 {
			return wmss.FieldErrorf(where+": answer", "no \"####\" final-answer line")
		}
		gold := strings.TrimSpace(x.Answer[i+4:])
		if gold == "" {
			return missing(where, "answer after ####")
		}
		items = append(items, Item{ID: fmt.Sprintf("gsm8k/%s/%d", split, len(items)), Question: x.Question, Answer: gold})
		return nil
	})
	return items, err
}

func loadMATH500(file string, r io.Reader) ([]Item, error) {
	type rec struct {
		Problem  string `json:"problem"`
		Answer   string `json:"answer"`
		Subject  string `json:"subject"`
		Level    int    `json:"level"`
		UniqueID string `json:"unique_id"`
	}
	var items []Item
	err := jsonLines(file, r, func(line int, x *rec) error {
		where := file + ":" + strconv.Itoa(line)
		switch {
		case x.Problem == "":
			return missing(where, "problem")
		case x.Answer == "":
			return missing(where, "answer")
		case x.UniqueID == "":
			return missing(where, "unique_id")
		}
		items = append(items, Item{ID: x.UniqueID, Question: x.Problem, Answer: x.Answer, Subject: x.Subject, Level: x.Level})
		return nil
	})
	return items, err
}

// loadInstruction reads the WMSS authors' JSON-array format: the question is
// "instruction" (or "question" for AIME 2025) plus "input" when not empty;
// "answer" is the gold answer. Their "output" field is a model-written
// rationale, not gold, and is ignored.
func loadInstruction(file string, r io.Reader) ([]Item, error) {
	type rec struct {
		Instruction string `json:"instruction"`
		Question    string `json:"question"`
		Input       string `json:"input"`
		Answer      string `json:"answer"`
	}
	prefix := strings.ToLower(strings.Split(file, "/")[0])
	var items []Item
	err := jsonArray(file, r, func(i int, x *rec) error {
		where := file + "[" + strconv.Itoa(i) + "]"
		q := x.Instruction
		if q == "" {
			q = x.Question
		}
		if strings.TrimSpace(x.Input) != "" {
			q += "\n" + x.Input
		}
		switch {
		case strings.TrimSpace(q) == "":
			return missing(where, "instruction")
		case strings.TrimSpace(x.Answer) == "":
			return missing(where, "answer")
		}
		items = append(items, Item{ID: fmt.Sprintf("%s/%d", prefix, i), Question: q, Answer: strings.TrimSpace(x.Answer)})
		return nil
	})
	return items, err
}

func loadMAWPSTrain(file string, r io.Reader) ([]Item, error) {
	type rec struct {
		ID           int             `json:"id"`
		OriginalText string          `json:"original_text"`
		Equation     string          `json:"equation"`
		Ans          json.RawMessage `json:"ans"` // a number or a numeric string
	}
	var items []Item
	err := jsonArray(file, r, func(i int, x *rec) error {
		where := file + "[" + strconv.Itoa(i) + "]"
		if x.OriginalText == "" {
			return missing(where, "original_text")
		}
		ans := strings.Trim(strings.TrimSpace(string(x.Ans)), `"`)
		if _, err := strconv.ParseFloat(ans, 64); err != nil {
			return wmss.FieldErrorf(where+": ans", "not a number: %s", x.Ans)
		}
		items = append(items, Item{ID: fmt.Sprintf("mawps/train/%d", x.ID), Question: x.OriginalText, Answer: ans})
		return nil
	})
	return items, err
}

func loadHumanEval(file string, r io.Reader) ([]Item, error) {
	type rec struct {
		TaskID            string `json:"task_id"`
		Prompt            string `json:"prompt"`
		EntryPoint        string `json:"entry_point"`
		CanonicalSolution string `json:"canonical_solution"`
		Test              string `json:"test"`
	}
	var items []Item
	err := jsonLines(file, r, func(line int, x *rec) error {
		where := file + ":" + strconv.Itoa(line)
		switch {
		case x.TaskID == "":
			return missing(where, "task_id")
		case x.Prompt == "":
			return missing(where, "prompt")
		case x.EntryPoint == "":
			return missing(where, "entry_point")
		case x.Test == "":
			return missing(where, "test")
		}
		items = append(items, Item{ID: x.TaskID, Question: x.Prompt, Answer: x.CanonicalSolution, EntryPoint: x.EntryPoint, Test: x.Test})
		return nil
	})
	return items, err
}

// MBPP's test split is task_id 11–510 (google-research mbpp README); 1–10
// are few-shot prompts and 511–974 train/validation.
const (
	mbppTestFirst = 11
	mbppTestLast  = 510
)

func loadMBPP(file string, r io.Reader) ([]Item, error) {
	type rec struct {
		Text              string   `json:"text"`
		Code              string   `json:"code"`
		TaskID            int      `json:"task_id"`
		TestSetupCode     string   `json:"test_setup_code"`
		TestList          []string `json:"test_list"`
		ChallengeTestList []string `json:"challenge_test_list"`
	}
	var items []Item
	err := jsonLines(file, r, func(line int, x *rec) error {
		where := file + ":" + strconv.Itoa(line)
		if x.TaskID < mbppTestFirst || x.TaskID > mbppTestLast {
			return nil
		}
		switch {
		case x.Text == "":
			return missing(where, "text")
		case x.Code == "":
			return missing(where, "code")
		case len(x.TestList) == 0:
			return missing(where, "test_list")
		}
		// CRLF line ends (and two stray trailing CRs, task_id 104 and 255) become LF.
		lf := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n") }
		items = append(items, Item{
			ID: "mbpp/" + strconv.Itoa(x.TaskID), Question: x.Text, Answer: lf(x.Code),
			TestSetup: lf(x.TestSetupCode), TestList: x.TestList, ChallengeTests: x.ChallengeTestList,
		})
		return nil
	})
	return items, err
}

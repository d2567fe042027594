package training_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/training"
)

// sharedData is ../shared/data relative to the repository root.
var sharedData = filepath.Join("..", "..", "shared", "data")

// t26 is the file of training case T26 (wandb/rai-toolkit#82): line 1 blank;
// 2 valid; 3 cut; 4 a non-object; 5 no completion; 6 completion is a number.
const t26 = "\n" +
	`{"prompt": "1+1=", "completion": "2"}` + "\n" +
	`{"prompt": "a"` + "\n" +
	`[]` + "\n" +
	`{"prompt": "b"}` + "\n" +
	`{"prompt": "c", "completion": 5}` + "\n"

func TestReadJSONL_T26(t *testing.T) {
	_, err := training.ReadJSONL(strings.NewReader(t26), "t26.jsonl", training.ReadOptions{})
	var ve *training.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *ValidationError", err)
	}
	want := []training.Problem{
		{File: "t26.jsonl", Line: 3, Reason: training.ReasonInvalidJSON},
		{File: "t26.jsonl", Line: 4, Reason: training.ReasonNotObject},
		{File: "t26.jsonl", Line: 5, Field: "completion", Reason: training.ReasonMissingField},
		{File: "t26.jsonl", Line: 6, Field: "completion", Reason: training.ReasonWrongType},
	}
	if len(ve.Problems) != len(want) {
		t.Fatalf("%d problems, want 4:\n%v", len(ve.Problems), err)
	}
	for i, w := range want {
		got := ve.Problems[i]
		got.Detail = ""
		if got != w {
			t.Errorf("problem %d = %+v, want %+v", i, got, w)
		}
	}
	if code := wmss.ErrorCode(err); code != wmss.EINVALID {
		t.Errorf("ErrorCode = %q, want %q", code, wmss.EINVALID)
	}
	var we *wmss.Error
	if errors.As(err, &we); we == nil || we.Field != "t26.jsonl:3" {
		t.Errorf("wmss.Error = %+v, want field t26.jsonl:3", we)
	}
	if !strings.Contains(err.Error(), "t26.jsonl:6: completion: wrong_type: want a string, got a JSON number") {
		t.Errorf("message lacks line 6's problem:\n%v", err)
	}

	// skip_invalid: trains on the valid row and counts the four skipped.
	d, err := training.ReadJSONL(strings.NewReader(t26), "t26.jsonl", training.ReadOptions{SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Samples) != 1 || d.Samples[0].Line != 2 || d.Samples[0].Completion != "2" || d.Skipped != 4 || d.Dropped != 0 {
		t.Errorf("samples %+v skipped %d dropped %d, want line 2 only and 4 skipped", d.Samples, d.Skipped, d.Dropped)
	}
}

// T24 (huggingface/trl#6668, #3339), the validation half: an empty
// completion is reported with its line and dropped by default, counted.
func TestReadJSONL_T24(t *testing.T) {
	in := `{"prompt": "p1", "completion": " 8."}` + "\r\n" +
		`{"prompt": "p2", "completion": ""}` + "\r\n" +
		`{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "  "}]}` + "\n" +
		`{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}]}` // no final newline
	d, err := training.ReadJSONL(strings.NewReader(in), "t24.jsonl", training.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Samples) != 1 || d.Samples[0].Completion != " 8." || d.Dropped != 3 || d.Skipped != 0 {
		t.Fatalf("samples %+v dropped %d skipped %d", d.Samples, d.Dropped, d.Skipped)
	}
	got := []string{}
	for _, p := range d.Problems {
		got = append(got, p.String())
	}
	want := []string{
		"t24.jsonl:2: completion: empty_completion: nothing to supervise",
		"t24.jsonl:3: messages[1].content: empty_completion: last assistant message is blank",
		"t24.jsonl:4: messages: no_assistant_turn: no assistant message to supervise",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems\n%q\nwant\n%q", got, want)
	}
	if c := d.Counts(); c[training.ReasonEmptyCompletion] != 2 || c[training.ReasonNoAssistantTurn] != 1 {
		t.Errorf("counts = %v", c)
	}

	// The truncation half: prompt of 40 tokens + completion " 8." (2 tokens)
	// under max length 32 leaves no supervised token; the row is dropped.
	samples := []training.Sample{{Prompt: "p", Completion: " 8.", Line: 1}, {Prompt: "q", Completion: " 9", Line: 7}, {Prompt: "r", Completion: "x", Line: 9}}
	lens := []training.SampleLength{
		training.PromptCompletionLength(40, 2, 32),
		training.PromptCompletionLength(30, 5, 32), // 2 of 5 completion tokens survive
		training.PromptCompletionLength(3, 4, 32),
	}
	if lens[0].SupervisedInWindow != 0 || lens[1].SupervisedInWindow != 2 || lens[2].SupervisedInWindow != 4 {
		t.Fatalf("lengths = %+v", lens)
	}
	r, err := training.ApplyMaxLength("t24.jsonl", samples, lens, 32, training.LengthTruncate)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Kept, []int{1, 2}) || r.Truncated != 1 || r.Dropped != 1 ||
		r.Problems[0].String() != "t24.jsonl:1: no_supervised_tokens: no completion token within max_length 32 (sample has 42 tokens)" {
		t.Errorf("truncate report = %+v", r)
	}
	r, err = training.ApplyMaxLength("t24.jsonl", samples, lens, 32, training.LengthDrop)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Kept, []int{2}) || r.Truncated != 0 || r.Dropped != 2 ||
		r.Problems[1].Line != 7 || r.Problems[1].Reason != training.ReasonTooLong {
		t.Errorf("drop report = %+v", r)
	}
	for _, tc := range []struct {
		field string
		err   error
	}{
		{"max_length", second(training.ApplyMaxLength("f", samples, lens, 0, training.LengthDrop))},
		{"length_policy", second(training.ApplyMaxLength("f", samples, lens, 8, "cut"))},
		{"lengths", second(training.ApplyMaxLength("f", samples, lens[:1], 8, training.LengthDrop))},
	} {
		var e *wmss.Error
		if !errors.As(tc.err, &e) || e.Field != tc.field {
			t.Errorf("err = %v, want field %q", tc.err, tc.field)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestReadJSONL_Chat(t *testing.T) {
	in := `{"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "2+5?"}, {"role": "assistant", "content": "7"}], "id": 9}
{"messages": {"role": "user"}}
{"messages": []}
{"messages": [{"role": "bot", "content": "x"}, 3, {"content": "y"}]}
{"messages": [{"role": "assistant", "content": "x"}], "prompt": "p"}
{"prompt": null, "completion": "x"}
"just a string"
`
	_, err := training.ReadJSONL(strings.NewReader(in), "chat.jsonl", training.ReadOptions{})
	var ve *training.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	var got []string
	for _, p := range ve.Problems {
		p.Detail = ""
		got = append(got, p.String())
	}
	want := []string{
		"chat.jsonl:2: messages: wrong_type",
		"chat.jsonl:3: messages: invalid_value",
		"chat.jsonl:4: messages[0].role: invalid_value",
		"chat.jsonl:4: messages[1]: wrong_type",
		"chat.jsonl:4: messages[2].role: missing_field",
		"chat.jsonl:5: prompt: conflicting_fields",
		"chat.jsonl:6: prompt: wrong_type",
		"chat.jsonl:7: not_object",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems\n%q\nwant\n%q", got, want)
	}
	d, err := training.ReadJSONL(strings.NewReader(in), "chat.jsonl", training.ReadOptions{SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Samples) != 1 || len(d.Samples[0].Messages) != 3 || d.Samples[0].Messages[2] != (training.Message{Role: "assistant", Content: "7"}) || d.Skipped != 6 {
		t.Errorf("samples %+v skipped %d", d.Samples, d.Skipped)
	}
}

func TestReadGSM8K(t *testing.T) {
	f, err := os.Open(filepath.Join(sharedData, "gsm8k", "train.jsonl"))
	if err != nil {
		t.Skipf("shared GSM8K train set not present (%v)", err)
	}
	defer f.Close()
	d, err := training.ReadGSM8K(f, "gsm8k/train.jsonl", training.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 7,473 records (data/README.md), all well-formed.
	if len(d.Samples) != 7473 || len(d.Problems) != 0 {
		t.Fatalf("%d samples, %d problems, want 7473 and 0", len(d.Samples), len(d.Problems))
	}
	first := d.Samples[0]
	if !strings.HasPrefix(first.Prompt, "Natalia sold clips to 48 of her friends in April") ||
		!strings.HasSuffix(first.Completion, "#### 72") || first.Line != 1 {
		t.Errorf("first sample = %+v", first)
	}
	if last := d.Samples[7472]; last.Line != 7473 || !strings.Contains(last.Completion, "#### ") {
		t.Errorf("last sample = %+v", last)
	}
	_, err = training.ReadGSM8K(strings.NewReader(`{"question": "q"}`), "g.jsonl", training.ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "g.jsonl:1: answer: missing_field") {
		t.Errorf("err = %v", err)
	}
}

func TestReadMAWPS(t *testing.T) {
	f, err := os.Open(filepath.Join(sharedData, "mawps", "train.json"))
	if err != nil {
		t.Skipf("shared MAWPS train set not present (%v)", err)
	}
	defer f.Close()
	d, err := training.ReadMAWPS(f, "mawps/train.json", training.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 1,898 records (data/README.md); 306 hold "ans" as a string (counted with /usr/bin/python3).
	if len(d.Samples) != 1898 || len(d.Problems) != 0 {
		t.Fatalf("%d samples, %d problems, want 1898 and 0", len(d.Samples), len(d.Problems))
	}
	// Records 0 (ans 2.0), 11 (ans "12") and 12 (ans "10.333333333333334"), found with /usr/bin/python3.
	for i, want := range map[int]struct{ id, prompt, completion string }{
		0:  {"2351", "A waiter had 22 customers in his section .", `The answer is \boxed{2}.`},
		11: {"1355", "Alyssa 's dog had puppies .", `The answer is \boxed{12}.`},
		12: {"1484", "Professor Ellison weighed 2 pieces", `The answer is \boxed{10.333333333333334}.`},
	} {
		s := d.Samples[i]
		if s.ID != want.id || !strings.HasPrefix(s.Prompt, want.prompt) || s.Completion != want.completion {
			t.Errorf("sample %d = %+v, want %+v", i, s, want)
		}
	}

	in := `[{"id": 1, "original_text": "q", "ans": 1.50}, {"id": 2, "original_text": "q", "ans": "x"}, {"id": 3, "ans": true}, 7, {"id": 4, "original_text": "q", "ans": " 10.333333333333334 "}]`
	_, err = training.ReadMAWPS(strings.NewReader(in), "m.json", training.ReadOptions{})
	var ve *training.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	var got []string
	for _, p := range ve.Problems {
		p.Detail = ""
		got = append(got, p.String())
	}
	want := []string{"m.json: [1].ans: invalid_value", "m.json: [2].original_text: missing_field", "m.json: [2].ans: wrong_type", "m.json: [3]: not_object"}
	if !slices.Equal(got, want) {
		t.Errorf("problems\n%q\nwant\n%q", got, want)
	}
	d, err = training.ReadMAWPS(strings.NewReader(in), "m.json", training.ReadOptions{SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Samples) != 2 || d.Samples[0].Completion != `The answer is \boxed{1.5}.` ||
		d.Samples[1].Completion != `The answer is \boxed{10.333333333333334}.` || d.Skipped != 3 {
		t.Errorf("samples %+v skipped %d", d.Samples, d.Skipped)
	}
	if _, err := training.ReadMAWPS(strings.NewReader(`{"a": 1}`), "m.json", training.ReadOptions{}); wmss.ErrorCode(err) != wmss.EINVALID {
		t.Errorf("non-array: err = %v", err)
	}
}

func TestLoadData(t *testing.T) {
	path := filepath.Join(sharedData, "gsm8k", "train.jsonl")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("shared GSM8K train set not present (%v)", err)
	}
	d, err := training.LoadData(training.DataSpec{Path: path, Format: training.FormatGSM8K, Limit: 64})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Samples) != 64 || d.Samples[63].Line != 64 {
		t.Errorf("%d samples, last line %d; want 64, 64", len(d.Samples), d.Samples[len(d.Samples)-1].Line)
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte(t26), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := training.LoadData(training.DataSpec{Path: bad}); wmss.ErrorCode(err) != wmss.EINVALID || !strings.Contains(err.Error(), "bad.jsonl:3") {
		t.Errorf("invalid file: err = %v", err)
	}
	d, err = training.LoadData(training.DataSpec{Path: bad, SkipInvalid: true})
	if err != nil || len(d.Samples) != 1 || d.Skipped != 4 {
		t.Errorf("skip_invalid: %+v, %v", d, err)
	}
	_, err = training.LoadData(training.DataSpec{Path: filepath.Join(t.TempDir(), "none.jsonl")})
	var e *wmss.Error
	if !errors.As(err, &e) || e.Code != wmss.ENOTFOUND || e.Field != "data.path" {
		t.Errorf("missing file: err = %v", err)
	}
}

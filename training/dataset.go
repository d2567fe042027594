package training

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/wmss/wmss"
)

// Message is one turn of a chat sample.
type Message struct {
	Role    string `json:"role"` // "system", "user" or "assistant"
	Content string `json:"content"`
}

// Sample is one training sample: either a chat (Messages, whose assistant
// turns are supervised) or a prompt/completion pair (Completion supervised).
type Sample struct {
	Messages   []Message `json:"messages,omitempty"`
	Prompt     string    `json:"prompt,omitempty"`
	Completion string    `json:"completion,omitempty"`
	// Line is the physical line (1-based) of the sample in its JSONL file, or
	// 0 for a sample that did not come from JSONL.
	Line int `json:"-"`
	// ID is the source's identifier of the sample, when it has one (MAWPS id).
	ID string `json:"-"`
}

// Reasons a sample is reported. The values appear in API answers and job
// summaries: never rename one.
const (
	// Structural problems: the file is wrong. They fail loading unless
	// skip_invalid is set, in which case the row is skipped and counted.
	ReasonInvalidJSON  = "invalid_json"  // the line is not one JSON value
	ReasonNotObject    = "not_object"    // valid JSON, but not an object
	ReasonMissingField = "missing_field" // a required field is absent
	ReasonWrongType    = "wrong_type"    // a field has the wrong JSON type
	ReasonInvalidValue = "invalid_value" // a field has a value outside its domain
	ReasonConflict     = "conflicting_fields"

	// Content problems: the row is well-formed but has nothing to learn from.
	// The default policy drops it and counts it (training case T24).
	ReasonEmptyCompletion    = "empty_completion"     // completion or last assistant turn is blank
	ReasonNoAssistantTurn    = "no_assistant_turn"    // a chat without any assistant message
	ReasonNoSupervisedTokens = "no_supervised_tokens" // truncation removed every completion token
	ReasonTooLong            = "too_long"             // over max length under the drop policy
)

// structural reports whether reason makes a row invalid (as opposed to
// droppable by policy).
func structural(reason string) bool {
	switch reason {
	case ReasonInvalidJSON, ReasonNotObject, ReasonMissingField, ReasonWrongType, ReasonInvalidValue, ReasonConflict:
		return true
	}
	return false
}

// Problem is one thing wrong with one row of a training-data file.
type Problem struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`  // physical line, 1-based; 0 when the source has no lines
	Field  string `json:"field,omitempty"` // JSON path inside the row ("messages[1].content", "[12].ans")
	Reason string `json:"reason"`          // one of the Reason* constants
	Detail string `json:"detail,omitempty"`
}

// String formats p as "file:line: field: reason: detail", leaving out empty parts.
func (p Problem) String() string {
	var parts []string
	loc := p.File
	if p.Line > 0 {
		if loc == "" {
			loc = "line"
		}
		loc += ":" + strconv.Itoa(p.Line)
	}
	for _, s := range []string{loc, p.Field, p.Reason, p.Detail} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ": ")
}

// ValidationError lists every structural problem of a data file. It unwraps
// to an EINVALID *wmss.Error naming the first one, so wmss.ErrorCode gives
// EINVALID; the API answers with the whole list.
type ValidationError struct {
	File     string
	Problems []Problem
}

// Error reports the count and the problems, one per line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d invalid row(s)", e.File, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap returns the EINVALID *wmss.Error of the first problem.
func (e *ValidationError) Unwrap() error {
	if len(e.Problems) == 0 {
		return wmss.FieldErrorf(e.File, "invalid data")
	}
	p := e.Problems[0]
	field := p.File
	if p.Line > 0 {
		field = fmt.Sprintf("%s:%d", field, p.Line)
	}
	if p.Field != "" {
		field += ": " + p.Field
	}
	return wmss.FieldErrorf(field, "%s (%d invalid row(s) in all)", p.Reason, len(e.Problems))
}

// ReadOptions control loading of a training-data file.
type ReadOptions struct {
	// SkipInvalid skips rows with structural problems (and counts them)
	// instead of failing the load.
	SkipInvalid bool
}

// Dataset is a loaded training-data file.
type Dataset struct {
	File    string
	Samples []Sample
	// Problems lists every problem found, structural and content, in file order.
	Problems []Problem
	Skipped  int // invalid rows skipped under SkipInvalid
	Dropped  int // well-formed rows dropped by policy (empty completion, no assistant turn)
}

// Counts returns the number of problems per reason.
func (d *Dataset) Counts() map[string]int {
	m := map[string]int{}
	for _, p := range d.Problems {
		m[p.Reason]++
	}
	return m
}

// ReadJSONL reads training data in JSONL, one sample per line, each an object
// with either "messages" (an array of {"role", "content"} with roles system,
// user, assistant) or "prompt" and "completion" (strings). Other fields are
// ignored. Blank lines are ignored; lines are counted physically, so a
// problem's Line is the line an editor shows. name is used in problems and
// errors.
//
// One pass finds every problem. If any is structural (invalid JSON, not an
// object, missing field, wrong type, invalid value, both forms in one row)
// and o.SkipInvalid is false, ReadJSONL returns a *ValidationError listing all
// of them (training case T26). Rows with a blank completion, or a chat whose
// last assistant turn is blank or that has none, are dropped and counted
// (T24). I/O errors are returned wrapped with name.
func ReadJSONL(r io.Reader, name string, o ReadOptions) (*Dataset, error) {
	return readJSONL(r, name, o, parsePromptCompletion("prompt", "completion", true))
}

// ReadGSM8K reads the GSM8K train (or test) JSONL, whose rows hold "question"
// and "answer" (the worked solution ending in "#### <number>"), as
// prompt = question, completion = answer, unchanged. Errors as ReadJSONL.
func ReadGSM8K(r io.Reader, name string, o ReadOptions) (*Dataset, error) {
	return readJSONL(r, name, o, parsePromptCompletion("question", "answer", false))
}

// rowParser turns one JSON object into a sample, adding its problems.
type rowParser func(obj map[string]json.RawMessage, add func(field, reason, detail string)) (Sample, bool)

func readJSONL(r io.Reader, name string, o ReadOptions, parse rowParser) (*Dataset, error) {
	d := &Dataset{File: name}
	br := bufio.NewReader(r)
	for line := 1; ; line++ {
		raw, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if len(raw) == 0 && err != nil {
			break
		}
		rowProblems := len(d.Problems)
		add := func(field, reason, detail string) {
			d.Problems = append(d.Problems, Problem{File: name, Line: line, Field: field, Reason: reason, Detail: detail})
		}
		if s, ok := parseLine(raw, add, parse); ok {
			s.Line = line
			d.Samples = append(d.Samples, s)
		} else if len(d.Problems) > rowProblems {
			if structural(d.Problems[rowProblems].Reason) {
				d.Skipped++
			} else {
				d.Dropped++
			}
		}
		if err != nil {
			break
		}
	}
	return d.finish(name, o)
}

// finish returns d, or, unless o.SkipInvalid, a ValidationError listing
// every structural problem (rows that could not be read as samples).
func (d *Dataset) finish(name string, o ReadOptions) (*Dataset, error) {
	if !o.SkipInvalid {
		var bad []Problem
		for _, p := range d.Problems {
			if structural(p.Reason) {
				bad = append(bad, p)
			}
		}
		if len(bad) > 0 {
			return nil, &ValidationError{File: name, Problems: bad}
		}
	}
	return d, nil
}

// parseLine parses one physical line. It returns ok = false for a blank line
// (adding nothing) and for a line with problems.
func parseLine(raw []byte, add func(field, reason, detail string), parse rowParser) (Sample, bool) {
	raw = bytes.TrimSpace(raw) // also drops a CRLF's \r
	if len(raw) == 0 {
		return Sample{}, false
	}
	if !json.Valid(raw) {
		var v any
		err := json.Unmarshal(raw, &v)
		add("", ReasonInvalidJSON, err.Error())
		return Sample{}, false
	}
	if raw[0] != '{' {
		add("", ReasonNotObject, "row is a JSON "+jsonKind(raw)+", want an object")
		return Sample{}, false
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		add("", ReasonInvalidJSON, err.Error())
		return Sample{}, false
	}
	return parse(obj, add)
}

// parsePromptCompletion parses rows with a prompt field and a completion
// field; with chat set, a row may instead hold "messages".
func parsePromptCompletion(promptKey, completionKey string, chat bool) rowParser {
	return func(obj map[string]json.RawMessage, add func(field, reason, detail string)) (Sample, bool) {
		if chat {
			if m, ok := obj["messages"]; ok {
				if _, p := obj[promptKey]; p {
					add(promptKey, ReasonConflict, `a row holds either "messages" or "prompt"/"completion", not both`)
					return Sample{}, false
				}
				if _, c := obj[completionKey]; c {
					add(completionKey, ReasonConflict, `a row holds either "messages" or "prompt"/"completion", not both`)
					return Sample{}, false
				}
				return parseMessages(m, add)
			}
		}
		prompt, okP := stringField(obj, promptKey, add)
		completion, okC := stringField(obj, completionKey, add)
		if !okP || !okC {
			return Sample{}, false
		}
		if strings.TrimSpace(completion) == "" {
			add(completionKey, ReasonEmptyCompletion, "nothing to supervise")
			return Sample{}, false
		}
		return Sample{Prompt: prompt, Completion: completion}, true
	}
}

// stringField reads obj[key] as a string, adding missing_field or wrong_type.
func stringField(obj map[string]json.RawMessage, key string, add func(field, reason, detail string)) (string, bool) {
	raw, ok := obj[key]
	if !ok {
		add(key, ReasonMissingField, "required string field is absent")
		return "", false
	}
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		add(key, ReasonWrongType, "want a string, got a JSON "+jsonKind(raw))
		return "", false
	}
	return s, true
}

func parseMessages(raw json.RawMessage, add func(field, reason, detail string)) (Sample, bool) {
	var items []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		add("messages", ReasonWrongType, "want an array, got a JSON "+jsonKind(raw))
		return Sample{}, false
	}
	if len(items) == 0 {
		add("messages", ReasonInvalidValue, "empty array")
		return Sample{}, false
	}
	ok := true
	msgs := make([]Message, len(items))
	for i, it := range items {
		prefix := fmt.Sprintf("messages[%d]", i)
		if it[0] != '{' {
			add(prefix, ReasonWrongType, "want an object, got a JSON "+jsonKind(it))
			ok = false
			continue
		}
		var obj map[string]json.RawMessage
		_ = json.Unmarshal(it, &obj) // valid JSON object, checked above
		sub := func(field, reason, detail string) { add(prefix+"."+field, reason, detail) }
		role, okR := stringField(obj, "role", sub)
		content, okC := stringField(obj, "content", sub)
		if okR && role != "system" && role != "user" && role != "assistant" {
			sub("role", ReasonInvalidValue, fmt.Sprintf("unknown role %q (want system, user or assistant)", role))
			okR = false
		}
		ok = ok && okR && okC
		msgs[i] = Message{Role: role, Content: content}
	}
	if !ok {
		return Sample{}, false
	}
	last := -1
	for i, m := range msgs {
		if m.Role == "assistant" {
			last = i
		}
	}
	switch {
	case last < 0:
		add("messages", ReasonNoAssistantTurn, "no assistant message to supervise")
		return Sample{}, false
	case strings.TrimSpace(msgs[last].Content) == "":
		add(fmt.Sprintf("messages[%d].content", last), ReasonEmptyCompletion, "last assistant message is blank")
		return Sample{}, false
	}
	return Sample{Messages: msgs}, true
}

// jsonKind names the JSON type of a valid JSON value.
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// LoadData reads the training set d names (a filled, validated DataSpec):
// the reader for d.Format, then the first d.Limit samples when Limit > 0.
// A file that cannot be opened is an EINVALID error on "data.path"
// (ENOTFOUND if it does not exist); loading errors are those of the readers.
func LoadData(d DataSpec) (*Dataset, error) {
	f, err := os.Open(d.Path)
	if err != nil {
		code := wmss.EINVALID
		if errors.Is(err, os.ErrNotExist) {
			code = wmss.ENOTFOUND
		}
		return nil, &wmss.Error{Code: code, Field: "data.path", Message: err.Error()}
	}
	defer f.Close()
	o := ReadOptions{SkipInvalid: d.SkipInvalid}
	var ds *Dataset
	switch d.Format {
	case FormatGSM8K:
		ds, err = ReadGSM8K(f, d.Path, o)
	case FormatMAWPS:
		ds, err = ReadMAWPS(f, d.Path, o)
	case FormatJSONL, "":
		ds, err = ReadJSONL(f, d.Path, o)
	default:
		return nil, wmss.FieldErrorf("data.format", "unknown format %q (want jsonl, gsm8k or mawps)", d.Format)
	}
	if err != nil {
		return nil, err
	}
	if d.Limit > 0 && len(ds.Samples) > d.Limit {
		ds.Samples = ds.Samples[:d.Limit]
	}
	return ds, nil
}

package training

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ReadMAWPS reads the MAWPS train set as shipped by the WMSS authors
// (../shared/data/mawps/train.json): one JSON array of objects with "id"
// (int), "original_text" (the question), "segmented_text", "equation"
// (e.g. "X=7+5"; some are malformed, such as "X=0.32=0.21", so it is not
// used) and "ans" (a number, or a string holding one).
//
// Each record becomes prompt = original_text and completion
// "The answer is \boxed{<ans>}.", the answer formatted as the shortest
// decimal that round-trips (2.0 → "2", "10.333333333333334" unchanged), so
// the math grader's \boxed{} extraction finds it. ID is the record's id.
//
// Problems name the record as "[i].field" (Line 0). A malformed array fails
// with a *ValidationError; records with structural problems fail the load
// unless o.SkipInvalid, as in ReadJSONL.
func ReadMAWPS(r io.Reader, name string, o ReadOptions) (*Dataset, error) {
	var recs []json.RawMessage
	if err := json.NewDecoder(r).Decode(&recs); err != nil {
		return nil, &ValidationError{File: name, Problems: []Problem{{File: name, Reason: ReasonInvalidJSON, Detail: "want one JSON array of objects: " + err.Error()}}}
	}
	d := &Dataset{File: name}
	for i, raw := range recs {
		n := len(d.Problems)
		add := func(field, reason, detail string) {
			d.Problems = append(d.Problems, Problem{File: name, Field: fmt.Sprintf("[%d]%s", i, dotted(field)), Reason: reason, Detail: detail})
		}
		s, ok := parseMAWPS(raw, add)
		switch {
		case ok:
			d.Samples = append(d.Samples, s)
		case structural(d.Problems[n].Reason):
			d.Skipped++
		default:
			d.Dropped++
		}
	}
	return d.finish(name, o)
}

func dotted(field string) string {
	if field == "" {
		return ""
	}
	return "." + field
}

func parseMAWPS(raw json.RawMessage, add func(field, reason, detail string)) (Sample, bool) {
	if len(raw) == 0 || raw[0] != '{' {
		add("", ReasonNotObject, "record is a JSON "+jsonKind(raw)+", want an object")
		return Sample{}, false
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		add("", ReasonInvalidJSON, err.Error())
		return Sample{}, false
	}
	question, okQ := stringField(obj, "original_text", add)
	ans, okA := mawpsAnswer(obj, add)
	var id string
	if v, ok := obj["id"]; ok {
		id = strings.Trim(string(v), `"`)
	}
	if !okQ || !okA {
		return Sample{}, false
	}
	if strings.TrimSpace(question) == "" {
		add("original_text", ReasonInvalidValue, "blank question")
		return Sample{}, false
	}
	return Sample{Prompt: question, Completion: `The answer is \boxed{` + ans + `}.`, ID: id}, true
}

// mawpsAnswer returns "ans" (a JSON number or a string holding a number) in
// shortest round-trip decimal form.
func mawpsAnswer(obj map[string]json.RawMessage, add func(field, reason, detail string)) (string, bool) {
	raw, ok := obj["ans"]
	if !ok {
		add("ans", ReasonMissingField, "required field is absent")
		return "", false
	}
	text := string(raw)
	switch jsonKind(raw) {
	case "string":
		_ = json.Unmarshal(raw, &text)
		text = strings.TrimSpace(text)
	case "number":
	default:
		add("ans", ReasonWrongType, "want a number or a numeric string, got a JSON "+jsonKind(raw))
		return "", false
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		add("ans", ReasonInvalidValue, fmt.Sprintf("%q is not a finite number", text))
		return "", false
	}
	return strconv.FormatFloat(v, 'f', -1, 64), true
}

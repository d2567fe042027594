package training

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/wmss/wmss"
)

// decodeStrict unmarshals data into v (a pointer to a struct whose fields
// already hold their defaults), rejecting unknown fields and wrong JSON types
// with an EINVALID *wmss.Error whose Field is the JSON path of the offending
// value ("optimizer.lr", "evaluation.benchmarks[2]"). encoding/json alone
// names neither the path of an unknown field nor array indices, hence the
// walk over the document before the unmarshal.
func decodeStrict(data []byte, v any) error {
	if err := syntaxCheck(data); err != nil {
		return err
	}
	if err := checkValue(json.RawMessage(data), reflect.TypeOf(v).Elem(), ""); err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return wmss.FieldErrorf(te.Field, "cannot use a JSON %s here (want %s)", te.Value, te.Type)
		}
		return wmss.FieldErrorf("", "%v", err)
	}
	return nil
}

// syntaxCheck reports invalid JSON with its line and column.
func syntaxCheck(data []byte) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(&v)
	if err == nil {
		end := dec.InputOffset()
		rest := bytes.TrimLeft(data[end:], " \t\r\n")
		if len(rest) > 0 {
			return wmss.FieldErrorf("", "unexpected data after the JSON document at %s", lineCol(data, int64(len(data)-len(rest))))
		}
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// Offset counts the bytes read up to and including the bad one.
		return wmss.FieldErrorf("", "invalid JSON at %s: %v", lineCol(data, se.Offset-1), se)
	}
	return wmss.FieldErrorf("", "invalid JSON: %v", err)
}

// lineCol gives the 1-based line and column (in bytes) of data[off].
func lineCol(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// checkValue checks that raw fits Go type t, recursing into objects and
// arrays. null fits anything (encoding/json leaves the value unchanged).
func checkValue(raw json.RawMessage, t reflect.Type, path string) error {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	got := jsonKind(raw)
	wrong := func(want string) error {
		return wmss.FieldErrorf(path, "want %s, got a JSON %s", want, got)
	}
	switch t.Kind() {
	case reflect.Struct:
		if got != "object" {
			return wrong("an object")
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return wmss.FieldErrorf(path, "%v", err)
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			f, ok := fields[k]
			if !ok {
				return wmss.FieldErrorf(join(path, k), "unknown field (known: %s)", strings.Join(sortedKeys(fields), ", "))
			}
			if err := checkValue(obj[k], f.Type, join(path, k)); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if got != "array" {
			return wrong("an array")
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return wmss.FieldErrorf(path, "%v", err)
		}
		for i, it := range items {
			if err := checkValue(it, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.String:
		if got != "string" {
			return wrong("a string")
		}
	case reflect.Bool:
		if got != "boolean" {
			return wrong("true or false")
		}
	case reflect.Float64:
		if got != "number" {
			return wrong("a number")
		}
	case reflect.Int, reflect.Int64:
		if got != "number" {
			return wrong("an integer")
		}
		if _, err := strconv.ParseInt(string(raw), 10, 64); err != nil {
			return wmss.FieldErrorf(path, "want an integer, got %s", raw)
		}
	case reflect.Uint64:
		if got != "number" {
			return wrong("an integer ≥ 0")
		}
		if _, err := strconv.ParseUint(string(raw), 10, 64); err != nil {
			return wmss.FieldErrorf(path, "want an integer in [0, 2^64), got %s", raw)
		}
	}
	return nil
}

// jsonFields maps the JSON names of t's exported fields to the fields.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	m := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if ft := f.Type; f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			for k, v := range jsonFields(ft) { // promoted, as encoding/json does
				m[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f
	}
	return m
}

func sortedKeys(m map[string]reflect.StructField) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

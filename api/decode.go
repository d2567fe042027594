package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// DefaultMaxBody bounds JSON request bodies (dataset uploads have their own limit).
const DefaultMaxBody = 1 << 20 // bytes

// bindJSON decodes the request body into v, rejecting unknown fields,
// trailing data, wrong types and bodies over max bytes. On failure it has
// already answered (400 malformed, 413 too large, 422 wrong field) and
// returns false.
func bindJSON(c *gin.Context, v any, max int64) bool {
	body, ok := readBody(c, max)
	if !ok {
		return false
	}
	if err := DecodeStrict(body, v); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			problem(c, http.StatusUnprocessableEntity, "invalid", "Invalid input", fe.Message, fe.Field)
			return false
		}
		problem(c, http.StatusBadRequest, typeMalformed, "Malformed JSON", err.Error(), "")
		return false
	}
	return true
}

// readBody reads the whole request body, at most max bytes. On failure it
// has already answered (413 too large, 400 unreadable) and returns false.
func readBody(c *gin.Context, max int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			problem(c, http.StatusRequestEntityTooLarge, typeTooLarge, "Request body too large",
				fmt.Sprintf("the body exceeds %d bytes", max), "")
			return nil, false
		}
		problem(c, http.StatusBadRequest, typeMalformed, "Malformed JSON", err.Error(), "")
		return nil, false
	}
	return body, true
}

// FieldError is a JSON decoding error attributable to one field.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// DecodeStrict decodes one JSON value from data into v. Unknown fields and
// type mismatches are *FieldError (naming the field); syntax errors and
// trailing data are plain errors.
func DecodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &FieldError{Field: te.Field, Message: fmt.Sprintf("want %s, got JSON %s", te.Type, te.Value)}
		}
		if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
			name := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
			return &FieldError{Field: name, Message: "unknown field"}
		}
		if errors.Is(err, io.EOF) {
			return errors.New("empty body, want a JSON object")
		}
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

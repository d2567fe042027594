package wmss

import (
	"errors"
	"fmt"
)

// Error codes. The values are shared by the server, its clients and the
// stored job records: never reorder or remove one, add new ones at the end.
const (
	EINVALID     = "invalid"     // the caller sent bad input (names the field)
	ENOTFOUND    = "not_found"   // the named thing does not exist
	ECONFLICT    = "conflict"    // the request conflicts with current state
	ECANCELED    = "canceled"    // the work was cancelled by its caller
	EINTERNAL    = "internal"    // a fault of ours; details are logged, not shown
	EUNAVAILABLE = "unavailable" // a dependency (Python, torch) is missing
)

// Error is a domain error that callers can act on. Code is one of the E*
// constants; Field, when set, names the offending input (a JSON path such
// as "optimizer.lr" or "line 3: completion"); Message is meant for humans.
type Error struct {
	Code    string
	Field   string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("wmss %s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("wmss %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EINVALID *Error naming field.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

package bridge

import (
	"errors"
	"fmt"
)

// PyError is a Python exception raised by an engine call, carried into Go.
type PyError struct {
	Op        string // the function that was called, e.g. "sft_step"
	Type      string // exception class name, e.g. "ValueError"
	Message   string // str(exception)
	Traceback string // the formatted Python traceback, newest call last
}

// Error reads "bridge: sft_step: RuntimeError: message".
func (e *PyError) Error() string {
	return fmt.Sprintf("bridge: %s: %s: %s", e.Op, e.Type, e.Message)
}

// ErrClosed is returned by Call after Close.
var ErrClosed = errors.New("bridge: interpreter closed")

// IsCancelled reports whether err is the engine's cooperative cancellation
// (wmss_engine.cancel.Cancelled), raised when a call saw the cancel flag.
func IsCancelled(err error) bool {
	var pe *PyError
	return errors.As(err, &pe) && pe.Type == "Cancelled"
}

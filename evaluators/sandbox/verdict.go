package sandbox

import "fmt"

// Verdict is the outcome of one program run. Only Passed counts as a pass;
// SandboxError is a fault of ours (setup failed, the caller cancelled, bad
// input) and must never be counted as the program's failure or success.
type Verdict int

// The verdicts, in the order a result is classified (see Result.Verdict).
const (
	// SandboxError: the sandbox could not run the program or could not
	// tell what it did (namespaces missing, a mount failed, the caller
	// cancelled). Callers retry or report it; it is never the program's.
	SandboxError Verdict = iota
	// Passed: the harness emitted its completion marker after the code and
	// every test ran without an exception, the process exited 0, and the
	// standard output matched when the program asked for it.
	Passed
	// Failed: a test raised AssertionError, the output did not match, or
	// the program ended without the harness's completion marker (for
	// example exit(0) before the tests ran).
	Failed
	// Timeout: the wall-clock deadline or the CPU-time rlimit was hit.
	Timeout
	// MemoryLimit: the program raised MemoryError (the address-space
	// rlimit refused an allocation).
	MemoryLimit
	// RuntimeError: any other exception in the code or a test (SyntaxError,
	// TypeError, RecursionError, SystemExit with a non-zero status, …) or
	// death by a signal that the sandbox did not send.
	RuntimeError
)

var verdictNames = [...]string{
	SandboxError: "sandbox_error",
	Passed:       "passed",
	Failed:       "failed",
	Timeout:      "timeout",
	MemoryLimit:  "memory_limit",
	RuntimeError: "runtime_error",
}

// String returns the verdict's stored name: passed, failed, timeout,
// memory_limit, runtime_error or sandbox_error.
func (v Verdict) String() string {
	if v < 0 || int(v) >= len(verdictNames) {
		return fmt.Sprintf("Verdict(%d)", int(v))
	}
	return verdictNames[v]
}

// MarshalText encodes the verdict as its name, so JSON carries "passed".
func (v Verdict) MarshalText() ([]byte, error) {
	if v < 0 || int(v) >= len(verdictNames) {
		return nil, fmt.Errorf("sandbox: unknown verdict %d", int(v))
	}
	return []byte(verdictNames[v]), nil
}

// UnmarshalText decodes a verdict name written by MarshalText.
func (v *Verdict) UnmarshalText(b []byte) error {
	for i, n := range verdictNames {
		if n == string(b) {
			*v = Verdict(i)
			return nil
		}
	}
	return fmt.Errorf("sandbox: unknown verdict %q", b)
}

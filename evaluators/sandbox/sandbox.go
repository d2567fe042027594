package sandbox

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Program is one Python program to run: untrusted code, then trusted tests.
type Program struct {
	// Code is the untrusted source (a model's completion inside its
	// harness prefix). It runs first, as module __main__, file solution.py.
	Code string
	// Tests are trusted snippets run after Code in the same globals, in
	// order, each as its own compile unit (test_<i>.py). Each that
	// finishes without an exception earns one pass marker; the run stops
	// at the first that raises. Tests reach the harness before Code runs,
	// so Code cannot rewrite them.
	Tests []string
	// Stdin is the program's standard input: a real pipe that gets all of
	// Stdin and is then closed (empty means immediate EOF).
	Stdin []byte
	// CheckStdout makes a pass also require the standard output to equal
	// ExpectedStdout, compared line by line with trailing spaces and
	// trailing empty lines ignored.
	CheckStdout    bool
	ExpectedStdout string
}

// Result is what one run did.
type Result struct {
	Verdict Verdict
	// Reason says why, in a few words ("AssertionError in test 1",
	// "wall deadline 2s passed"); empty for Passed.
	Reason string
	// Err is the cause of a SandboxError (nil otherwise).
	Err error `json:"-"`

	// ExitCode is the interpreter's exit status, or -1 when a signal
	// ended it (Signal names it).
	ExitCode int
	Signal   string

	// TestsPassed counts Program.Tests that ran without an exception,
	// each proven by a marker carrying the run's nonce.
	TestsPassed int
	// ForgedMarkers counts lines on the marker channel without the nonce:
	// the program wrote them.
	ForgedMarkers int

	// Stdout and Stderr hold at most Limits.Output bytes each; the
	// *Bytes fields count everything the program wrote, and the
	// *Truncated fields say whether anything was dropped.
	Stdout, Stderr                   string
	StdoutBytes, StderrBytes         int64
	StdoutTruncated, StderrTruncated bool

	// CPUTime is user+system time of the interpreter and the children it
	// reaped; WallTime runs from start to exit; MaxRSS is in bytes.
	CPUTime  time.Duration
	WallTime time.Duration
	MaxRSS   int64

	// Retried says a wall-clock timeout was re-run once with the sandbox
	// to itself before it became final (case B32).
	Retried bool
	// Notes lists adjustments made to run the program (a limit clamped to
	// the hard limit, /proc not mounted).
	Notes []string
}

// Options configure a Sandbox.
type Options struct {
	// Concurrency bounds how many programs run at once. Default: the
	// number of CPUs (runtime.NumCPU).
	Concurrency int
	// Python is the interpreter, an absolute path under /usr (only /usr
	// and a few /etc files are visible inside). Default /usr/bin/python3.
	Python string
	// NoRetry turns off the single exclusive re-run of wall-clock timeouts.
	NoRetry bool
}

// DefaultPython is the interpreter used when Options.Python is empty.
const DefaultPython = "/usr/bin/python3"

// The fixed environment of every program: nothing is inherited.
// PYTHONHASHSEED=0 makes set and dict iteration orders repeatable across
// runs (case B33); one BLAS thread keeps numpy inside the process limit
// (case B26).
var programEnv = []string{
	"PATH=/usr/local/bin:/usr/bin:/bin",
	"HOME=/tmp",
	"TMPDIR=/tmp",
	"LANG=C.UTF-8",
	"PYTHONHASHSEED=0",
	"PYTHONDONTWRITEBYTECODE=1",
	"PYTHONUTF8=1",
	"OPENBLAS_NUM_THREADS=1",
	"OMP_NUM_THREADS=1",
	"MKL_NUM_THREADS=1",
}

// pythonFlags are the interpreter's flags in every run, before "-c": no
// user site directory, no script directory on sys.path, no .pyc writes,
// no limit on int-to-str conversion.
var pythonFlags = []string{"-s", "-P", "-B", "-X", "int_max_str_digits=0"}

// Interpreter returns the command line prefix (python and its flags; the
// harness follows as "-c <source>") and the complete environment of every
// sandboxed program. Benchmarks use it to run the same interpreter the same
// way without isolation, so that the two differ only in the sandbox.
func Interpreter(python string) (argv, env []string) {
	if python == "" {
		python = DefaultPython
	}
	return append([]string{python}, pythonFlags...), append([]string(nil), programEnv...)
}

// Sandbox runs programs with bounded concurrency. It is safe for
// concurrent use; the zero value is not usable, call New.
type Sandbox struct {
	opts Options
	sem  chan struct{}
	// excl is held for reading by every run and for writing by a re-run
	// of a wall-clock timeout, which therefore runs alone ("at low load").
	excl sync.RWMutex
}

// New returns a Sandbox with the given options.
func New(opts Options) *Sandbox {
	if opts.Concurrency <= 0 {
		opts.Concurrency = runtime.NumCPU()
	}
	if opts.Python == "" {
		opts.Python = DefaultPython
	}
	return &Sandbox{opts: opts, sem: make(chan struct{}, opts.Concurrency)}
}

var (
	defaultOnce sync.Once
	defaultSB   *Sandbox
)

// Default returns the process-wide Sandbox used by Run (concurrency: the
// number of CPUs).
func Default() *Sandbox {
	defaultOnce.Do(func() { defaultSB = New(Options{}) })
	return defaultSB
}

// Run runs p under lim in the Default sandbox; see Sandbox.Run.
func Run(ctx context.Context, p Program, lim Limits) Result {
	return Default().Run(ctx, p, lim)
}

// Run runs p in fresh namespaces under lim, waiting for a free slot first.
// It never panics on the program's behalf and always returns a Result; a
// fault of ours is a SandboxError with Err set. If ctx ends first the run
// is killed and reported as a SandboxError wrapping ctx.Err().
func (s *Sandbox) Run(ctx context.Context, p Program, lim Limits) Result {
	lim, err := lim.withDefaults()
	if err != nil {
		return errorResult(err)
	}
	if err := Available(); err != nil {
		return errorResult(err)
	}
	s.excl.RLock()
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		s.excl.RUnlock()
		return errorResult(fmt.Errorf("sandbox: waiting for a slot: %w", ctx.Err()))
	}
	r := s.exec(ctx, p, lim)
	<-s.sem
	s.excl.RUnlock()
	if r.Verdict == Timeout && r.wallTimeout && !s.opts.NoRetry && ctx.Err() == nil {
		// A wall-clock timeout may be the host's load, not the program
		// (case B32): run it once more with the sandbox to itself.
		s.excl.Lock()
		r = s.exec(ctx, p, lim)
		s.excl.Unlock()
		r.Retried = true
	}
	return r.Result
}

// errorResult is a SandboxError result for err.
func errorResult(err error) Result {
	return Result{Verdict: SandboxError, Reason: err.Error(), Err: err, ExitCode: -1}
}

// outcome is what the parent observed, before classification.
type outcome struct {
	setupErr    error // the in-namespace init or our own plumbing failed
	ctxErr      error // the caller's context ended
	wallTimeout bool  // we killed it at the wall deadline
	status      syscall.WaitStatus
	cpu         time.Duration
	marks       markers
	stderrTail  string
}

// runResult is a Result plus facts Run needs for the retry decision.
type runResult struct {
	Result
	wallTimeout bool
}

// classify turns an outcome into a verdict and reason. The order matters:
// our faults first, then the limits we enforced, then what the harness
// reported; the process exit status alone never makes a pass.
func classify(o outcome, p Program, lim Limits, stdout string, stdoutTrunc bool) (Verdict, string) {
	m := o.marks
	switch {
	case o.setupErr != nil:
		return SandboxError, o.setupErr.Error()
	case o.ctxErr != nil:
		return SandboxError, "cancelled by the caller: " + o.ctxErr.Error()
	case o.wallTimeout:
		return Timeout, fmt.Sprintf("wall deadline %v passed", lim.WallTime)
	case o.status.Signaled() && (o.status.Signal() == syscall.SIGKILL || o.status.Signal() == syscall.SIGXCPU) &&
		o.cpu >= lim.CPUTime/2:
		// We did not send it, and processes inside cannot SIGKILL their
		// PID 1: it is RLIMIT_CPU (soft = hard). The rusage the kernel
		// reports lags the limit's own accounting by up to ~20% on a
		// loaded host, hence the loose bound.
		return Timeout, fmt.Sprintf("CPU time limit %v reached", lim.CPUTime)
	case m.code == "error" && m.codeArg == "MemoryError", m.failExc == "MemoryError":
		return MemoryLimit, fmt.Sprintf("MemoryError (address space limit %d bytes)", lim.AddressSpace)
	case !m.started && strings.Contains(o.stderrTail, "MemoryError"):
		return MemoryLimit, "MemoryError before the harness started"
	case !m.started:
		return SandboxError, "the harness did not start: " + lastLine(o.stderrTail)
	case m.code == "error":
		return RuntimeError, m.codeArg + " in the program"
	case m.code == "exit" && len(p.Tests) > 0:
		return Failed, "the program exited (status " + m.codeArg + ") before its tests ran"
	case m.code == "exit" && m.codeArg != "0":
		return RuntimeError, "the program exited with status " + m.codeArg
	case m.failTest >= 0 && m.failKind == "fail":
		return Failed, fmt.Sprintf("%s in test %d", m.failExc, m.failTest)
	case m.failTest >= 0:
		return RuntimeError, fmt.Sprintf("%s in test %d", m.failExc, m.failTest)
	case o.status.Signaled():
		return RuntimeError, fmt.Sprintf("killed by %v after %v of CPU", o.status.Signal(), o.cpu)
	case !m.done || m.code == "":
		return Failed, "the program ended without the harness's completion marker"
	case o.status.ExitStatus() != 0:
		return RuntimeError, fmt.Sprintf("exit status %d", o.status.ExitStatus())
	case m.testsOK != len(p.Tests):
		return Failed, fmt.Sprintf("%d of %d tests reported passing", m.testsOK, len(p.Tests))
	case p.CheckStdout && stdoutTrunc:
		return Failed, "stdout truncated, cannot compare it"
	case p.CheckStdout && !sameOutput(stdout, p.ExpectedStdout):
		return Failed, "stdout differs from the expected output"
	}
	return Passed, ""
}

// sameOutput compares program output with the expected output line by
// line, ignoring trailing spaces on each line and trailing empty lines.
func sameOutput(got, want string) bool {
	norm := func(s string) []string {
		lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " \t")
		}
		for len(lines) > 0 && lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		return lines
	}
	a, b := norm(got), norm(want)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

package sandbox_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/sandbox"
)

// needSandbox skips the test, with the probe's reason, where namespaces
// are unavailable.
func needSandbox(t *testing.T) {
	t.Helper()
	if err := sandbox.Available(); err != nil {
		t.Skipf("sandbox unavailable here: %v", err)
	}
}

// quick are short limits for tests.
var quick = sandbox.Limits{CPUTime: time.Second, WallTime: 3 * time.Second, AddressSpace: 512 << 20}

func TestRunBasic(t *testing.T) {
	needSandbox(t)
	tests := []struct {
		name string
		p    sandbox.Program
		want sandbox.Verdict
		out  string
	}{
		{"OK", sandbox.Program{Code: "def f(x):\n    return x + 1\nprint('hi')", Tests: []string{"assert f(1) == 2"}}, sandbox.Passed, "hi\n"},
		{"AssertFails", sandbox.Program{Code: "def f(x):\n    return x", Tests: []string{"assert f(1) == 2"}}, sandbox.Failed, ""},
		{"SyntaxError", sandbox.Program{Code: "def f(x) return x", Tests: []string{"assert f(1) == 2"}}, sandbox.RuntimeError, ""},
		{"TypeErrorInTest", sandbox.Program{Code: "def f(x):\n    return x + 'a'", Tests: []string{"assert f(1) == 2"}}, sandbox.RuntimeError, ""},
		{"Exit0BeforeTests", sandbox.Program{Code: "import sys\nsys.exit(0)", Tests: []string{"assert False"}}, sandbox.Failed, ""},
		{"StdoutProgramExit0", sandbox.Program{Code: "print(5)\nimport sys\nsys.exit(0)", CheckStdout: true, ExpectedStdout: "5"}, sandbox.Passed, "5\n"},
		{"StdoutProgramExit3", sandbox.Program{Code: "print(5)\nimport sys\nsys.exit(3)", CheckStdout: true, ExpectedStdout: "5"}, sandbox.RuntimeError, ""},
		{"StdoutMismatch", sandbox.Program{Code: "print(6)", CheckStdout: true, ExpectedStdout: "5"}, sandbox.Failed, ""},
		{"OsExit0BeforeTests", sandbox.Program{Code: "import os\nos._exit(0)", Tests: []string{"assert False"}}, sandbox.Failed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sandbox.Run(context.Background(), tt.p, quick)
			if r.Verdict != tt.want {
				t.Fatalf("verdict %v (%s), want %v; stderr: %s", r.Verdict, r.Reason, tt.want, r.Stderr)
			}
			if tt.out != "" && r.Stdout != tt.out {
				t.Errorf("stdout %q, want %q", r.Stdout, tt.out)
			}
		})
	}
}

func TestRunBadLimits(t *testing.T) {
	r := sandbox.Run(context.Background(), sandbox.Program{Code: "pass"}, sandbox.Limits{AddressSpace: -1})
	if r.Verdict != sandbox.SandboxError || wmss.ErrorCode(r.Err) != wmss.EINVALID || !strings.Contains(r.Err.Error(), "limits.address_space") {
		t.Errorf("got %v %v, want a sandbox_error naming limits.address_space", r.Verdict, r.Err)
	}
}

func TestRunCancelled(t *testing.T) {
	needSandbox(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	r := sandbox.Run(ctx, sandbox.Program{Code: "import time\ntime.sleep(30)"}, quick)
	if r.Verdict != sandbox.SandboxError || !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Errorf("got %v (%v), want a sandbox_error wrapping the context's error", r.Verdict, r.Err)
	}
	noSurvivors(t)
}

// TestConcurrencyBound: with one slot, two 0.3 s programs cannot overlap.
func TestConcurrencyBound(t *testing.T) {
	needSandbox(t)
	sb := sandbox.New(sandbox.Options{Concurrency: 1})
	start := time.Now()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := sb.Run(context.Background(), sandbox.Program{Code: "import time\ntime.sleep(0.3)"}, quick); r.Verdict != sandbox.Passed {
				t.Errorf("verdict %v (%s)", r.Verdict, r.Reason)
			}
		}()
	}
	wg.Wait()
	if d := time.Since(start); d < 600*time.Millisecond {
		t.Errorf("two runs took %v with one slot; they overlapped", d)
	}
}

func TestVerdictText(t *testing.T) {
	for v, name := range map[sandbox.Verdict]string{sandbox.Passed: "passed", sandbox.Failed: "failed",
		sandbox.Timeout: "timeout", sandbox.MemoryLimit: "memory_limit", sandbox.RuntimeError: "runtime_error",
		sandbox.SandboxError: "sandbox_error"} {
		b, err := v.MarshalText()
		if err != nil || string(b) != name || v.String() != name {
			t.Errorf("%d: %q %v, want %q", v, b, err, name)
		}
		var back sandbox.Verdict
		if err := back.UnmarshalText(b); err != nil || back != v {
			t.Errorf("round trip of %q: %v %v", name, back, err)
		}
	}
}

// TestMissingInterpreterIsSandboxError checks the init's exec failure
// path: no interpreter is our fault, reported with the errno, never a
// verdict on the program.
func TestMissingInterpreterIsSandboxError(t *testing.T) {
	needSandbox(t)
	sb := sandbox.New(sandbox.Options{Python: "/usr/bin/wmss-no-such-python"})
	r := sb.Run(context.Background(), sandbox.Program{Code: "pass"}, sandbox.Limits{})
	if r.Verdict != sandbox.SandboxError || !strings.Contains(r.Reason, "exec /usr/bin/wmss-no-such-python: errno 002") {
		t.Errorf("verdict %v, reason %q; want sandbox_error with exec errno 002 (ENOENT)", r.Verdict, r.Reason)
	}
}

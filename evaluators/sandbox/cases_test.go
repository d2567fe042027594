package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wmss/wmss/evaluators/sandbox"
)

// TestScoringCases holds the C-ISO, C-TIME, C-IO and C-GRADE rows of
// ../shared/cases/scoring-cases.md that concern the sandbox; each subtest
// keeps the row's ID (B40, the sanitiser, is in codeeval).
func TestScoringCases(t *testing.T) {
	needSandbox(t)
	big7 := new(big.Int).Exp(big.NewInt(7), big.NewInt(6000), nil).String()
	tests := []struct {
		id   string
		p    sandbox.Program
		lim  sandbox.Limits
		want sandbox.Verdict
		// setup runs before the program (and may return a cleanup).
		setup func(t *testing.T) func()
		check func(t *testing.T, r sandbox.Result)
	}{
		{id: "B23", want: sandbox.Passed, p: sandbox.Program{
			Code:  "import os\nif os.fork() == 0:\n    while True:\n        pass\ndef f():\n    return 3",
			Tests: []string{"assert f() == 3"},
		}},
		{id: "B24", want: sandbox.Passed, lim: sandbox.Limits{AddressSpace: 1 << 30},
			p: sandbox.Program{Code: "import json; print(1)", CheckStdout: true, ExpectedStdout: "1\n"},
			// The runner holds 64 GiB of address space, far above the
			// child's 1 GiB budget; the child's limit is its own.
			setup: func(t *testing.T) func() {
				b, err := syscall.Mmap(-1, 0, 64<<30, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
				if err != nil {
					t.Skipf("cannot reserve 64 GiB of address space: %v", err)
				}
				return func() { syscall.Munmap(b) }
			}},
		{id: "B26", want: sandbox.Passed, lim: sandbox.Limits{AddressSpace: 512 << 20},
			p: sandbox.Program{Code: "import numpy as np; print(np.arange(3).sum())", CheckStdout: true, ExpectedStdout: "3"},
			setup: func(t *testing.T) func() {
				if err := exec.Command("/usr/bin/python3", "-c", "import numpy").Run(); err != nil {
					t.Skip("numpy is not installed for /usr/bin/python3 (python3-numpy)")
				}
				return nil
			}},
		{id: "B28", want: sandbox.Passed, p: sandbox.Program{
			Code:  "def f():\n    open('/tmp/outside_marker', 'w').write('x')\n    return 1",
			Tests: []string{"assert f() == 1"},
		}, setup: func(t *testing.T) func() {
			if _, err := os.Stat("/tmp/outside_marker"); err == nil {
				t.Skip("/tmp/outside_marker already exists on the host")
			}
			return nil
		}, check: func(t *testing.T, r sandbox.Result) {
			if _, err := os.Stat("/tmp/outside_marker"); err == nil {
				os.Remove("/tmp/outside_marker")
				t.Error("the host has /tmp/outside_marker after the run")
			}
		}},
		{id: "B29", want: sandbox.Failed, p: sandbox.Program{
			Code: `import os, sys
def f():
    open("reward.txt", "w").write("1.0")
    return 0
for fd in (1, 2, 3, 4):
    try:
        os.write(fd, b"00000000000000000000000000000000 code ok\n00000000000000000000000000000000 test 0 ok\n00000000000000000000000000000000 done 0\n")
    except OSError:
        pass
os.write = lambda fd, b: len(b)`,
			Tests: []string{"assert f() == 1"},
		}, check: func(t *testing.T, r sandbox.Result) {
			if r.ForgedMarkers == 0 || r.TestsPassed != 0 {
				t.Errorf("forged markers %d, tests passed %d; want forgeries seen and no test passed", r.ForgedMarkers, r.TestsPassed)
			}
		}},
		{id: "B30", want: sandbox.RuntimeError, p: sandbox.Program{
			Code: `import urllib.request; urllib.request.urlopen("http://10.0.0.1", timeout=5)`,
		}, check: func(t *testing.T, r sandbox.Result) {
			if r.WallTime > 2*time.Second {
				t.Errorf("took %v; an isolated network must fail at once", r.WallTime)
			}
		}},
		{id: "B32", want: sandbox.Passed, lim: sandbox.Limits{CPUTime: 50 * time.Millisecond},
			// ~80 ms of CPU; the 50 ms limit is raised to the 1 s floor.
			p: sandbox.Program{Code: "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.08:\n    pass"}},
		{id: "B34", want: sandbox.Passed, p: sandbox.Program{Code: `print("x" * 300000)`},
			check: func(t *testing.T, r sandbox.Result) {
				if len(r.Stdout) != 300001 || r.StdoutTruncated {
					t.Errorf("kept %d bytes, truncated=%v; want all 300001", len(r.Stdout), r.StdoutTruncated)
				}
			}},
		{id: "B34/capped", want: sandbox.Passed, lim: sandbox.Limits{Output: 100000}, p: sandbox.Program{Code: `print("x" * 300000)`},
			check: func(t *testing.T, r sandbox.Result) {
				if len(r.Stdout) != 100000 || !r.StdoutTruncated || r.StdoutBytes != 300001 {
					t.Errorf("kept %d, truncated=%v, total %d; want 100000, true, 300001", len(r.Stdout), r.StdoutTruncated, r.StdoutBytes)
				}
			}},
		{id: "B36", want: sandbox.Passed, p: sandbox.Program{
			Code:  "import sys; a,b = map(int, sys.stdin.buffer.read().split()); print(a+b)",
			Stdin: []byte("3 4\n"), CheckStdout: true, ExpectedStdout: "7\n",
		}},
		{id: "B37", want: sandbox.Passed, p: sandbox.Program{
			Code:        "import sys; sys.stdout.buffer.write(str(7**6000).encode())",
			CheckStdout: true, ExpectedStdout: big7,
		}, check: func(t *testing.T, r sandbox.Result) {
			if len(r.Stdout) != 5071 {
				t.Errorf("printed %d digits, want 5071", len(r.Stdout))
			}
		}},
		{id: "B39", want: sandbox.RuntimeError, p: sandbox.Program{
			Code:  `def solve(x): raise ValueError("no")`,
			Tests: []string{"solve(1)"}, CheckStdout: true, ExpectedStdout: "",
		}},
		{id: "B39/swallowed", want: sandbox.Failed, p: sandbox.Program{
			// The program swallows everything and exits 0 itself: exit
			// code 0 without the harness's markers is not a pass.
			Code:  "import os\ndef solve(x):\n    raise ValueError('no')\ntry:\n    solve(1)\nexcept Exception:\n    os._exit(0)",
			Tests: []string{"solve(1)"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if tt.setup != nil {
				if cleanup := tt.setup(t); cleanup != nil {
					defer cleanup()
				}
			}
			lim := tt.lim
			if lim == (sandbox.Limits{}) {
				lim = quick
			}
			r := sandbox.Run(context.Background(), tt.p, lim)
			if r.Verdict != tt.want {
				t.Errorf("verdict %v (%s), want %v\nstdout: %.300s\nstderr: %.1000s", r.Verdict, r.Reason, tt.want, r.Stdout, r.Stderr)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
			noSurvivors(t)
		})
	}
}

// TestB25ClampToHardLimit: a server whose hard stack limit is 8 MiB asks
// for 4 GiB; the sandbox clamps, notes it, and runs normally. The server is
// this test binary re-run as a helper process (os/exec's pattern), which
// lowers its own hard limit first.
func TestB25ClampToHardLimit(t *testing.T) {
	needSandbox(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "WMSS_SANDBOX_HELPER=b25")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper process: %v\n%s", err, out)
	}
	var r sandbox.Result
	line := out[:strings.IndexByte(string(out), '\n')+1]
	if err := json.Unmarshal(line, &r); err != nil {
		t.Fatalf("helper output %q: %v", out, err)
	}
	if r.Verdict != sandbox.Passed {
		t.Errorf("verdict %v (%s), want passed", r.Verdict, r.Reason)
	}
	if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "stack: asked for 4294967296, clamped to the hard limit 8388608") {
		t.Errorf("notes %q, want the stack clamp", r.Notes)
	}
}

// TestHelperProcess is not a test: it is the server process of
// TestB25ClampToHardLimit, run only when WMSS_SANDBOX_HELPER is set.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("WMSS_SANDBOX_HELPER") != "b25" {
		t.Skip("helper process for TestB25ClampToHardLimit")
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_STACK, &syscall.Rlimit{Cur: 8 << 20, Max: 8 << 20}); err != nil {
		fmt.Printf("{\"Reason\": %q}\n", err.Error())
		os.Exit(0)
	}
	r := sandbox.Run(context.Background(), sandbox.Program{Code: "import json; print(1)", CheckStdout: true, ExpectedStdout: "1"},
		sandbox.Limits{Stack: 4 << 30})
	r.Err = nil
	b, _ := json.Marshal(r)
	fmt.Printf("%s\n", b)
	os.Exit(0)
}

// TestB33Repeatable: the same samples scored twice, concurrently with
// another job, give identical per-sample verdicts and output (the hash
// seed is fixed, so even set order repeats).
func TestB33Repeatable(t *testing.T) {
	needSandbox(t)
	var progs []sandbox.Program
	for i := range 12 {
		progs = append(progs, sandbox.Program{
			Code:  fmt.Sprintf("s = {'apple', 'pear', 'fig', 'kiwi', %d}\nprint(list(s))\ndef f():\n    return sum(range(%d))", i, i*1000),
			Tests: []string{fmt.Sprintf("assert f() == %d", (i*1000)*(i*1000-1)/2+(i%3)*int(i%2))},
		})
	}
	sb := sandbox.New(sandbox.Options{Concurrency: 2})
	score := func() []string {
		out := make([]string, len(progs))
		var wg sync.WaitGroup
		for i, p := range progs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := sb.Run(context.Background(), p, quick)
				out[i] = r.Verdict.String() + " " + r.Stdout
			}()
		}
		wg.Wait()
		return out
	}
	stop := make(chan struct{})
	go func() { // the other job
		for {
			select {
			case <-stop:
				return
			default:
				sb.Run(context.Background(), sandbox.Program{Code: "sum(range(10**6))"}, quick)
			}
		}
	}()
	a, b := score(), score()
	close(stop)
	passed := 0
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("sample %d: %q then %q", i, a[i], b[i])
		}
		if strings.HasPrefix(a[i], "passed") {
			passed++
		}
	}
	// Samples with i%3 != 0 and odd i carry a wrong expected value.
	if want := 8; passed != want {
		t.Errorf("%d samples passed, want %d: %q", passed, want, a)
	}
}

package sandbox_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wmss/wmss/evaluators/sandbox"
)

// TestAdversarial runs hostile programs. Each must get the stated verdict,
// leave no process behind, and leave this (the server's) process and
// files alone.
func TestAdversarial(t *testing.T) {
	needSandbox(t)
	const secret = "wmss-test-secret-7f3a9c"
	t.Setenv("WMSS_TEST_SECRET", secret)
	hostDir := t.TempDir()
	hostFile := filepath.Join(hostDir, "server-file.txt")
	if err := os.WriteFile(hostFile, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join("/tmp", fmt.Sprintf("wmss_outside_marker_%d", os.Getpid()))
	hostUsr := "/usr/wmss_sandbox_write_test"

	tests := []struct {
		name string
		p    sandbox.Program
		lim  sandbox.Limits
		want sandbox.Verdict
		// check inspects the result beyond the verdict.
		check func(t *testing.T, r sandbox.Result)
	}{
		{name: "NetworkConnect", want: sandbox.RuntimeError, p: sandbox.Program{
			Code: "import socket\ns = socket.create_connection(('1.1.1.1', 80), timeout=5)",
		}, check: func(t *testing.T, r sandbox.Result) {
			if r.WallTime > 2*time.Second || !strings.Contains(r.Stderr, "unreachable") {
				t.Errorf("connect should fail at once with 'unreachable', took %v: %s", r.WallTime, r.Stderr)
			}
		}},
		{name: "NetworkInterfaces", want: sandbox.Passed, p: sandbox.Program{
			Code:  "import socket\nnames = [n for _, n in socket.if_nameindex()]",
			Tests: []string{"assert names == ['lo'], names"},
		}},
		{name: "WriteUsr", want: sandbox.RuntimeError, p: sandbox.Program{
			Code: fmt.Sprintf("open(%q, 'w').write('x')", hostUsr),
		}, check: func(t *testing.T, r sandbox.Result) {
			if !strings.Contains(r.Stderr, "Read-only file system") {
				t.Errorf("want EROFS, stderr: %s", r.Stderr)
			}
			if _, err := os.Stat(hostUsr); err == nil {
				t.Errorf("%s was created on the host", hostUsr)
			}
		}},
		{name: "WriteRoot", want: sandbox.RuntimeError, p: sandbox.Program{
			Code: "open('/evil', 'w').write('x')",
		}},
		{name: "WriteTmpStaysPrivate", want: sandbox.Passed, p: sandbox.Program{
			Code:  fmt.Sprintf("def f():\n    open(%q, 'w').write('x')\n    return 1", outside),
			Tests: []string{"assert f() == 1"},
		}, check: func(t *testing.T, r sandbox.Result) {
			if _, err := os.Stat(outside); err == nil {
				os.Remove(outside)
				t.Errorf("%s appeared on the host", outside)
			}
		}},
		{name: "ForkBomb", want: sandbox.Timeout, lim: sandbox.Limits{CPUTime: time.Second, WallTime: 2 * time.Second},
			p: sandbox.Program{Code: "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"}},
		{name: "MemoryBombAtOnce", want: sandbox.MemoryLimit, p: sandbox.Program{
			Code: "x = bytearray(1 << 40)",
		}},
		{name: "MemoryBombGradual", want: sandbox.MemoryLimit, lim: sandbox.Limits{AddressSpace: 256 << 20}, p: sandbox.Program{
			Code: "l = []\nwhile True:\n    l.append(bytearray(1 << 22))",
		}},
		{name: "InfiniteLoopCPU", want: sandbox.Timeout, lim: sandbox.Limits{CPUTime: time.Second, WallTime: 5 * time.Second},
			p: sandbox.Program{Code: "while True:\n    pass"},
			check: func(t *testing.T, r sandbox.Result) {
				if !strings.Contains(r.Reason, "CPU") {
					t.Errorf("reason %q, want the CPU limit", r.Reason)
				}
			}},
		{name: "SleepWall", want: sandbox.Timeout, lim: sandbox.Limits{CPUTime: time.Second, WallTime: 500 * time.Millisecond},
			p: sandbox.Program{Code: "import time\ntime.sleep(60)"},
			check: func(t *testing.T, r sandbox.Result) {
				if !r.Retried || !strings.Contains(r.Reason, "wall") {
					t.Errorf("want a wall-clock timeout retried once, got retried=%v reason %q", r.Retried, r.Reason)
				}
			}},
		{name: "SignalsToParent", want: sandbox.Passed, p: sandbox.Program{
			Code: fmt.Sprintf(`import os, signal
errs = []
for target in (os.getppid(), -1, 0, %d):
    try:
        os.kill(target, signal.SIGKILL)
    except OSError as e:
        errs.append(type(e).__name__)
ppid = os.getppid()`, os.Getpid()),
			Tests: []string{"assert ppid == 0, ppid"},
		}},
		{name: "ServerEnvAndFiles", want: sandbox.Passed, p: sandbox.Program{
			Code: fmt.Sprintf(`import os, glob
seen = repr(dict(os.environ))
for p in glob.glob('/proc/*/environ') + glob.glob('/proc/*/cmdline') + [%q, '/proc/1/root' + %q]:
    try:
        seen += open(p, errors='replace').read()
    except OSError as e:
        seen += type(e).__name__
print(seen)
keys = sorted(os.environ)`, hostFile, hostFile),
			Tests: []string{"assert 'WMSS_TEST_SECRET' not in keys and 'HOME' in keys, keys"},
		}, check: func(t *testing.T, r sandbox.Result) {
			if strings.Contains(r.Stdout, secret) {
				t.Errorf("the program read the server's secret: %s", r.Stdout)
			}
		}},
		{name: "HugeOutputForever", want: sandbox.Timeout, lim: sandbox.Limits{CPUTime: time.Second, WallTime: time.Second, Output: 1 << 16},
			p: sandbox.Program{Code: "import sys\nwhile True:\n    sys.stdout.write('y' * 4096)"},
			check: func(t *testing.T, r sandbox.Result) {
				if !r.StdoutTruncated || len(r.Stdout) != 1<<16 || r.StdoutBytes <= 1<<16 {
					t.Errorf("truncated=%v kept=%d total=%d", r.StdoutTruncated, len(r.Stdout), r.StdoutBytes)
				}
			}},
		{name: "StdinEOF", want: sandbox.RuntimeError, p: sandbox.Program{Code: "x = input()"},
			check: func(t *testing.T, r sandbox.Result) {
				if !strings.Contains(r.Reason, "EOFError") {
					t.Errorf("reason %q, want EOFError", r.Reason)
				}
			}},
		{name: "StdinLarge", want: sandbox.Passed, p: sandbox.Program{
			Code:  "import sys\ndata = sys.stdin.buffer.read()",
			Tests: []string{"assert len(data) == 1 << 20"},
			Stdin: make([]byte, 1<<20),
		}},
		{name: "StdinIgnored", want: sandbox.Passed, p: sandbox.Program{Code: "pass", Stdin: make([]byte, 1<<20)}},
		{name: "NoCapabilities", want: sandbox.Passed, p: sandbox.Program{
			Code: `import os, socket
st = dict(l.split(':\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\t' in l)`,
			Tests: []string{
				"assert st['CapEff'] == st['CapPrm'] == st['CapBnd'] == '0000000000000000', st",
				"assert os.getuid() == 0 and os.getpid() == 1",
				"assert socket.gethostname() == 'sandbox'",
				"assert sorted(os.listdir('/proc')[:0]) == [] and sorted(p for p in os.listdir('/proc') if p.isdigit()) == ['1']",
				"assert sorted(os.listdir('/')) == sorted(['bin', 'dev', 'etc', 'lib', 'lib64', 'proc', 'sbin', 'tmp', 'usr'] + [d for d in ('lib32', 'libx32') if os.path.exists('/' + d)])",
			},
		}},
		{name: "RemountRW", want: sandbox.RuntimeError, p: sandbox.Program{
			Code: "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nif libc.mount(b'', b'/', None, 32 | 4096 | 1 << 5, None) != 0:\n    raise OSError(ctypes.get_errno(), 'mount')",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := tt.lim
			if lim == (sandbox.Limits{}) {
				lim = quick
			}
			r := sandbox.Run(context.Background(), tt.p, lim)
			if r.Verdict != tt.want {
				t.Errorf("verdict %v (%s), want %v\nstdout: %.500s\nstderr: %.2000s", r.Verdict, r.Reason, tt.want, r.Stdout, r.Stderr)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
			noSurvivors(t)
		})
	}
}

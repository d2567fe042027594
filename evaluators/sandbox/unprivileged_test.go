package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/wmss/wmss/evaluators/sandbox"
)

// unprivilegedPrograms are run by a server without privileges; the
// verdicts must match those under root.
var unprivilegedPrograms = []struct {
	name string
	p    sandbox.Program
	want sandbox.Verdict
}{
	{"Pass", sandbox.Program{Code: "def f():\n    return 2", Tests: []string{"assert f() == 2"}}, sandbox.Passed},
	{"NoCapabilities", sandbox.Program{
		Code:  "import os\nst = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)",
		Tests: []string{"assert st['CapEff'] == st['CapBnd'] == '0000000000000000' and os.getuid() == 0, st"},
	}, sandbox.Passed},
	{"WriteUsr", sandbox.Program{Code: "open('/usr/wmss_unpriv', 'w')"}, sandbox.RuntimeError},
	{"Network", sandbox.Program{Code: "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=5)"}, sandbox.RuntimeError},
	{"ForkBomb", sandbox.Program{Code: "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"}, sandbox.Timeout},
}

// TestUnprivilegedServer runs the sandbox from a server that is not root:
// this test binary re-run as a helper process with uid and gid 65534
// (os/exec's helper-process pattern). Only root can start it; a non-root
// run of the whole suite already is the unprivileged case.
func TestUnprivilegedServer(t *testing.T) {
	needSandbox(t)
	if os.Getuid() != 0 {
		t.Skip("not root: every other test already runs the sandbox unprivileged")
	}
	exe, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	// Exec through the descriptor: uid 65534 may not search the 0700
	// directory that holds the test binary.
	cmd := exec.Command("/proc/self/fd/3", "-test.run=^TestHelperUnprivileged$")
	cmd.Args[0] = os.Args[0]
	cmd.ExtraFiles = []*os.File{exe}
	cmd.Dir = "/"
	cmd.Env = []string{"WMSS_SANDBOX_HELPER=unprivileged", "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper process: %v\n%s", err, out)
	}
	var got map[string]string
	line, _, _ := bytes.Cut(out, []byte("\n"))
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatalf("helper output %q: %v", out, err)
	}
	for _, p := range unprivilegedPrograms {
		if got[p.name] != p.want.String() {
			t.Errorf("%s: %s, want %v", p.name, got[p.name], p.want)
		}
	}
	noSurvivors(t)
}

// TestHelperUnprivileged is not a test: it is the unprivileged server of
// TestUnprivilegedServer, run only when WMSS_SANDBOX_HELPER says so.
func TestHelperUnprivileged(t *testing.T) {
	if os.Getenv("WMSS_SANDBOX_HELPER") != "unprivileged" {
		t.Skip("helper process for TestUnprivilegedServer")
	}
	got := map[string]string{}
	if err := sandbox.Available(); err != nil {
		got["available"] = err.Error()
	}
	for _, p := range unprivilegedPrograms {
		r := sandbox.Run(context.Background(), p.p, sandbox.Limits{CPUTime: time.Second, WallTime: 2 * time.Second})
		got[p.name] = r.Verdict.String()
		if r.Verdict != p.want {
			got[p.name+"/reason"] = r.Reason + " | " + r.Stderr
		}
	}
	b, _ := json.Marshal(got)
	fmt.Printf("%s\n", b)
}

package sandbox_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// survivors lists processes that descend from this test process but live
// in another PID namespace: sandboxed processes that outlived their run.
// Other test binaries' sandboxes do not descend from us and are ignored.
func survivors(t *testing.T) []string {
	t.Helper()
	self := os.Getpid()
	myNS, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		t.Fatalf("read own pid namespace: %v", err)
	}
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		ns, err := os.Readlink(filepath.Join("/proc", d.Name(), "ns/pid"))
		if err != nil || ns == myNS {
			continue
		}
		for p, hops := pid, 0; p > 1 && hops < 64; hops++ {
			if p == self {
				cmd, _ := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
				out = append(out, d.Name()+" "+strings.ReplaceAll(string(cmd), "\x00", " "))
				break
			}
			p = ppid(p)
		}
	}
	return out
}

// ppid returns the parent of pid from /proc/<pid>/status, or 0.
func ppid(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "PPid:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// noSurvivors fails the test if any sandboxed process outlived its run.
func noSurvivors(t *testing.T) {
	t.Helper()
	if s := survivors(t); len(s) > 0 {
		t.Errorf("processes survived the run: %q", s)
	}
}

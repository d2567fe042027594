package sandbox

import (
	"context"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/wmss/wmss"
)

// nsNames lists the namespaces of a run, user first: the kernel creates
// the user namespace before the others, which it then owns.
const nsNames = "user,pid,net,mnt,ipc,uts"

var (
	probeOnce sync.Once
	probeErr  error
)

// Available reports whether programs can run here, probing once per
// process (as runc does for namespaces): each namespace type must exist
// under /proc/self/ns, user namespaces must not be switched off
// (user.max_user_namespaces = 0), and one empty program must pass through
// the whole path (clone, mounts, pivot_root, rlimits, interpreter). The
// error is an EUNAVAILABLE *wmss.Error with the reason; Run returns it as
// a SandboxError, and tests skip with it.
func Available() error {
	probeOnce.Do(func() { probeErr = probe() })
	return probeErr
}

func probe() error {
	unavailable := func(format string, args ...any) error {
		return wmss.Errorf(wmss.EUNAVAILABLE, "sandbox unavailable: "+format, args...)
	}
	for _, ns := range strings.Split(nsNames, ",") {
		if _, err := os.Stat("/proc/self/ns/" + ns); err != nil {
			return unavailable("kernel lacks %s namespaces: %v", ns, err)
		}
	}
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil && strings.TrimSpace(string(b)) == "0" {
		return unavailable("user namespaces are disabled (user.max_user_namespaces = 0)")
	}
	if _, err := os.Stat(DefaultPython); err != nil {
		return unavailable("no interpreter: %v", err)
	}
	sb := New(Options{Concurrency: 1, NoRetry: true})
	lim, _ := Limits{CPUTime: 5 * time.Second, WallTime: 20 * time.Second}.withDefaults()
	r := sb.exec(context.Background(), Program{Code: "pass", Tests: []string{"assert True"}}, lim)
	if r.Verdict != Passed {
		msg := r.Reason
		if r.Err != nil {
			msg = r.Err.Error()
		}
		return unavailable("trial run gave %s: %s (check that unprivileged user namespaces are allowed, e.g. kernel.unprivileged_userns_clone=1 and no AppArmor restriction); stderr: %s",
			r.Verdict, msg, strings.TrimSpace(r.Stderr))
	}
	return nil
}

package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// cloneFlags are the namespaces of every run. The user namespace comes
// first in meaning: the kernel creates it before the others, so the child
// owns them and may mount, set the hostname and mount a new /proc.
const cloneFlags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID | syscall.CLONE_NEWNET |
	syscall.CLONE_NEWNS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS

var (
	exeOnce sync.Once
	exeFile *os.File
	exeErr  error
)

// selfExe opens the running executable once. The init is exec'd through
// /proc/self/fd/N of this descriptor, which needs no search permission on
// the directories above the binary (the child may run as an unprivileged
// host uid that could not reach, say, a 0700 go-build directory).
func selfExe() (*os.File, error) {
	exeOnce.Do(func() {
		exeFile, exeErr = os.Open("/proc/self/exe")
	})
	return exeFile, exeErr
}

// idMap returns the host uid and gid that uid 0 of the sandbox maps to,
// and whether the server is privileged. An unprivileged server can only
// map its own ids. A server running as root maps to nobody (65534):
// RLIMIT_NPROC is not enforced for real root, and the sandbox must not own
// the host's root files.
func idMap() (uid, gid int, privileged bool) {
	uid, gid = os.Getuid(), os.Getgid()
	if uid == 0 {
		return 65534, 65534, true
	}
	return uid, gid, false
}

// rlimits returns the interpreter's rlimits for lim, each clamped to the
// server's own hard limit (case B25), with notes for those clamped.
func rlimits(lim Limits) ([]rlimit, []string) {
	want := []struct {
		name string
		res  int
		v    uint64
	}{
		{"cpu", unix.RLIMIT_CPU, uint64(lim.CPUTime / time.Second)},
		{"fsize", unix.RLIMIT_FSIZE, uint64(lim.FileSize)},
		{"nofile", unix.RLIMIT_NOFILE, uint64(lim.OpenFiles)},
		{"stack", unix.RLIMIT_STACK, uint64(lim.Stack)},
		{"core", unix.RLIMIT_CORE, 0},
		// NPROC and AS last: the init applies them in this order right
		// before execve, when the Go runtime no longer starts threads or
		// maps memory.
		{"nproc", unix.RLIMIT_NPROC, uint64(lim.Processes)},
		{"as", unix.RLIMIT_AS, uint64(lim.AddressSpace)},
	}
	var out []rlimit
	var notes []string
	for _, w := range want {
		var cur unix.Rlimit
		v := w.v
		if err := unix.Getrlimit(w.res, &cur); err == nil {
			var n string
			if v, n = clampRlimit(w.name, w.v, cur.Max); n != "" {
				notes = append(notes, n)
				slog.Warn("sandbox: rlimit clamped", "limit", w.name, "asked", w.v, "hard", cur.Max)
			}
		}
		// Soft = hard: for CPU this means SIGKILL at the limit, which
		// even the namespace's PID 1 cannot ignore.
		out = append(out, rlimit{Resource: w.res, Cur: v, Max: v})
	}
	return out, notes
}

// capture keeps the first limit bytes of a stream and counts the rest.
type capture struct {
	buf   []byte
	total int64
	limit int
}

// readBufs recycles drain's read buffers: four streams per run would
// otherwise allocate (and the GC clear) 256 KiB per program.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// drain reads r to EOF, so the writer never blocks on a full pipe.
func (c *capture) drain(r io.Reader) {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	b := *bp
	for {
		n, err := r.Read(b)
		if n > 0 {
			c.total += int64(n)
			if room := c.limit - len(c.buf); room > 0 {
				c.buf = append(c.buf, b[:min(n, room)]...)
			}
		}
		if err != nil {
			return
		}
	}
}

func (c *capture) truncated() bool { return c.total > int64(len(c.buf)) }

// pipes holds both ends of the run's pipes.
type pipes struct {
	stdinR, stdinW   *os.File
	stdoutR, stdoutW *os.File
	stderrR, stderrW *os.File
	frameR, frameW   *os.File
	markR, markW     *os.File
	statR, statW     *os.File
}

func openPipes() (*pipes, error) {
	var p pipes
	pairs := []struct{ r, w **os.File }{
		{&p.stdinR, &p.stdinW}, {&p.stdoutR, &p.stdoutW}, {&p.stderrR, &p.stderrW},
		{&p.frameR, &p.frameW}, {&p.markR, &p.markW}, {&p.statR, &p.statW},
	}
	for _, pr := range pairs {
		r, w, err := os.Pipe()
		if err != nil {
			p.closeAll()
			return nil, fmt.Errorf("sandbox: pipe: %w", err)
		}
		*pr.r, *pr.w = r, w
	}
	return &p, nil
}

func (p *pipes) closeAll() {
	for _, f := range []*os.File{p.stdinR, p.stdinW, p.stdoutR, p.stdoutW, p.stderrR, p.stderrW,
		p.frameR, p.frameW, p.markR, p.markW, p.statR, p.statW} {
		if f != nil {
			f.Close()
		}
	}
}

// exec runs p once, holding a slot.
func (s *Sandbox) exec(ctx context.Context, p Program, lim Limits) runResult {
	exe, err := selfExe()
	if err != nil {
		return runResult{Result: errorResult(fmt.Errorf("sandbox: open own executable: %w", err))}
	}
	var nb [16]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return runResult{Result: errorResult(fmt.Errorf("sandbox: nonce: %w", err))}
	}
	nonce := hex.EncodeToString(nb[:])
	rl, notes := rlimits(lim)
	harness := compiledPrelude(s.opts.Python)
	harnessArg := prelude
	if harness != nil {
		harnessArg = bootstrap
	}
	uid, gid, privileged := idMap()
	cfg := initArgs(initConfig{
		Argv:    append(append([]string{s.opts.Python}, pythonFlags...), "-c", harnessArg),
		Env:     programEnv,
		Rlimits: rl,
		TmpSize: lim.TmpSize,
		HostUID: uid,
		HostGID: gid,
		Root:    privileged,
	})
	pp, err := openPipes()
	if err != nil {
		return runResult{Result: errorResult(err)}
	}
	defer pp.closeAll()

	sys := &syscall.SysProcAttr{
		// A new session: kill(0, …) and kill(-pgid, …) from inside
		// cannot reach the server's process group.
		Setsid:    true,
		Pdeathsig: syscall.SIGKILL,
	}
	if !initUnshares {
		// The Go init cannot create a user namespace (it is
		// multithreaded): the clone does, and this process writes the
		// id maps. That clone copies this process's memory (no vfork).
		sys.Cloneflags = cloneFlags
		sys.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
		sys.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
		// setuid(0)/setgid(0) inside the new namespace, so that the
		// host ids become those mapped above (a clone keeps the
		// parent's ids, unmapped, until then). A privileged parent
		// may also allow setgroups and clear the supplementary groups;
		// an unprivileged one must deny setgroups, so they stay.
		sys.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: !privileged}
		sys.GidMappingsEnableSetgroups = privileged
	}
	attr := &os.ProcAttr{
		Dir: "/",
		// The Go init is a short-lived Go program: one P and no GC keep
		// its start cheap and its thread count low (execve must stop
		// every other thread before the interpreter starts).
		Env:   []string{"GOMAXPROCS=1", "GOGC=off"},
		Files: []*os.File{pp.stdinR, pp.stdoutW, pp.stderrW, pp.frameR, pp.markW, pp.statW, exe},
		Sys:   sys,
	}
	start := time.Now()
	proc, err := os.StartProcess(fmt.Sprintf("/proc/self/fd/%d", fdExe), append([]string{initArg0}, cfg...), attr)
	for _, f := range []*os.File{pp.stdinR, pp.stdoutW, pp.stderrW, pp.frameR, pp.markW, pp.statW} {
		f.Close()
	}
	if err != nil {
		return runResult{Result: errorResult(fmt.Errorf("sandbox: start (namespaces %s): %w", nsNames, err))}
	}

	stdout := &capture{limit: lim.Output}
	stderr := &capture{limit: lim.Output}
	marks := &capture{limit: 64 << 10}
	status := &capture{limit: 16 << 10}
	var readers, writers sync.WaitGroup
	for _, c := range []struct {
		c *capture
		r *os.File
	}{{stdout, pp.stdoutR}, {stderr, pp.stderrR}, {marks, pp.markR}, {status, pp.statR}} {
		readers.Add(1)
		go func() { defer readers.Done(); c.c.drain(c.r) }()
	}
	for _, w := range []struct {
		f    *os.File
		data []byte
	}{{pp.stdinW, p.Stdin}, {pp.frameW, frame(harness, nonce, p.Code, p.Tests)}} {
		writers.Add(1)
		go func() {
			defer writers.Done()
			w.f.Write(w.data) // EPIPE when the program exits without reading: fine
			w.f.Close()
		}()
	}

	// kill ends the run. With the C init, proc is the stage that made
	// the namespaces and waits for their PID 1: SIGTERM makes it SIGKILL
	// that PID 1 and exit only once the kernel has reaped everything in
	// the namespace; SIGKILL follows if it has not exited 2s later.
	kill := func() {
		if !initUnshares {
			proc.Kill()
			return
		}
		proc.Signal(syscall.SIGTERM)
		time.AfterFunc(2*time.Second, func() { proc.Kill() })
	}
	var wallTimeout, cancelled atomic.Bool
	timer := time.AfterFunc(lim.WallTime, func() {
		wallTimeout.Store(true)
		kill()
	})
	exited := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			cancelled.Store(true)
			kill()
		case <-exited:
		}
	}()
	// Killing PID 1 of the namespace kills every process in it, and
	// Wait returns only after the kernel has reaped them all.
	ps, werr := proc.Wait()
	close(exited)
	timer.Stop()
	wall := time.Since(start)

	// Every writer of the pipes is gone now; bound the wait anyway.
	done := make(chan struct{})
	go func() { readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		for _, f := range []*os.File{pp.stdoutR, pp.stderrR, pp.markR, pp.statR} {
			f.Close()
		}
		<-done
		werr = errors.Join(werr, errors.New("sandbox: output pipes still open 5s after exit"))
	}
	writers.Wait()

	o := outcome{
		wallTimeout: wallTimeout.Load() && !cancelled.Load(),
		marks:       parseMarkers(marks.buf, nonce),
		stderrTail:  string(stderr.buf[max(0, len(stderr.buf)-512):]),
	}
	if cancelled.Load() {
		o.ctxErr = ctx.Err()
	}
	initErr, initNotes := initError(string(status.buf))
	notes = append(notes, initNotes...)
	o.setupErr = errors.Join(werr, initErr)
	r := Result{
		ExitCode:        -1,
		Stdout:          string(stdout.buf),
		Stderr:          string(stderr.buf),
		StdoutBytes:     stdout.total,
		StderrBytes:     stderr.total,
		StdoutTruncated: stdout.truncated(),
		StderrTruncated: stderr.truncated(),
		WallTime:        wall,
		Notes:           notes,
		TestsPassed:     o.marks.testsOK,
		ForgedMarkers:   o.marks.forged,
	}
	if ps != nil {
		ws := ps.Sys().(syscall.WaitStatus)
		o.status = ws
		if ws.Signaled() {
			r.Signal = ws.Signal().String()
		} else {
			r.ExitCode = ws.ExitStatus()
		}
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok && ru != nil {
			o.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			r.CPUTime = o.cpu
			r.MaxRSS = ru.Maxrss * 1024
		}
	}
	r.Verdict, r.Reason = classify(o, p, lim, r.Stdout, r.StdoutTruncated)
	if r.Verdict == SandboxError {
		switch {
		case o.setupErr != nil:
			r.Err = o.setupErr
		case o.ctxErr != nil:
			r.Err = fmt.Errorf("sandbox: %w", o.ctxErr)
		default:
			r.Err = errors.New("sandbox: " + r.Reason)
		}
	}
	return runResult{Result: r, wallTimeout: o.wallTimeout}
}

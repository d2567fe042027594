package sandbox

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// initArg0 is argv[0] of the in-namespace init. When a binary that links
// this package starts with it, the package's init function turns the
// process into the sandbox init instead of running main (the re-exec
// pattern of runc and docker's reexec). Nothing else starts a process
// with this argv[0].
const initArg0 = "wmss-sandbox-init"

// File descriptors of the init, set up by the parent (run_linux.go).
const (
	fdFrame  = 3 // read end: the prelude's frame (nonce, code, tests)
	fdMarker = 4 // write end: the harness's markers
	fdStatus = 5 // write end, close-on-exec: "E <error>" / "N <note>" lines
	fdExe    = 6 // the server's executable, opened by the parent
)

// initConfig is what the parent tells the init, in argv[1:] (initArgs).
type initConfig struct {
	Argv    []string // the interpreter and its arguments; Argv[0] is the path
	Env     []string
	Rlimits []rlimit
	TmpSize int64 // bytes, for /tmp and /dev/shm
	// HostUID and HostGID are the host ids that uid and gid 0 of the
	// sandbox map to, and Root says the server runs as root (idMap).
	// Only the C init, which creates the namespaces itself, uses them.
	HostUID, HostGID int
	Root             bool
}

type rlimit struct {
	Resource int
	Cur, Max uint64
}

// initArgs encodes cfg as the init's argv[1:], a format simple enough for
// the C init (init_cgo_linux.go) to read without a parser:
//
//	<host uid> <host gid> <root 0|1> <tmp size> <n rlimits>
//	(<resource> <cur> <max>)×n <n env> <env>×n <argv>…
func initArgs(cfg initConfig) []string {
	root := "0"
	if cfg.Root {
		root = "1"
	}
	a := []string{strconv.Itoa(cfg.HostUID), strconv.Itoa(cfg.HostGID), root,
		strconv.FormatInt(cfg.TmpSize, 10), strconv.Itoa(len(cfg.Rlimits))}
	for _, rl := range cfg.Rlimits {
		a = append(a, strconv.Itoa(rl.Resource), strconv.FormatUint(rl.Cur, 10), strconv.FormatUint(rl.Max, 10))
	}
	a = append(a, strconv.Itoa(len(cfg.Env)))
	a = append(a, cfg.Env...)
	return append(a, cfg.Argv...)
}

// parseInitArgs is the inverse of initArgs.
func parseInitArgs(a []string) (initConfig, error) {
	var cfg initConfig
	bad := errors.New("bad init arguments")
	next := func() (uint64, error) {
		if len(a) == 0 {
			return 0, bad
		}
		v, err := strconv.ParseUint(a[0], 10, 64)
		a = a[1:]
		return v, err
	}
	var ids [3]uint64
	for i := range ids {
		v, err := next()
		if err != nil {
			return cfg, err
		}
		ids[i] = v
	}
	if ids[2] > 1 {
		return cfg, bad
	}
	cfg.HostUID, cfg.HostGID, cfg.Root = int(ids[0]), int(ids[1]), ids[2] == 1
	tmp, err := next()
	if err != nil {
		return cfg, err
	}
	cfg.TmpSize = int64(tmp)
	n, err := next()
	if err != nil {
		return cfg, err
	}
	for range n {
		var v [3]uint64
		for i := range v {
			if v[i], err = next(); err != nil {
				return cfg, err
			}
		}
		cfg.Rlimits = append(cfg.Rlimits, rlimit{Resource: int(v[0]), Cur: v[1], Max: v[2]})
	}
	if n, err = next(); err != nil || n > uint64(len(a)) {
		return cfg, errors.Join(bad, err)
	}
	cfg.Env, cfg.Argv = a[:n], a[n:]
	if len(cfg.Argv) == 0 {
		return cfg, errors.New("bad init arguments: no interpreter")
	}
	return cfg, nil
}

func init() {
	if len(os.Args) < 2 || os.Args[0] != initArg0 {
		return
	}
	// Capabilities and PR_SET_NO_NEW_PRIVS are per thread: do everything,
	// including the final execve, on this one. (The main goroutine is
	// already locked to the main thread while package inits run.)
	runtime.LockOSThread()
	initMain(os.Args[1:])
}

// initMain runs as PID 1 of the new PID namespace, as uid 0 of the new
// user namespace with a full capability set there (none outside). It
// builds the program's root file system, drops every capability, applies
// the rlimits and execs the interpreter. It never returns. On any failure
// it writes "E step: error" to fdStatus and exits 125; the parent reports
// a SandboxError. On success fdStatus closes at execve (close-on-exec),
// so the parent reads EOF with no "E" line.
func initMain(args []string) {
	fail := func(step string, err error) {
		unix.Write(fdStatus, []byte("E "+step+": "+err.Error()+"\n"))
		unix.Exit(125)
	}
	note := func(msg string) { unix.Write(fdStatus, []byte("N "+msg+"\n")) }
	if _, err := unix.FcntlInt(fdStatus, unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
		fail("status fd", err)
	}
	unix.Close(fdExe)

	cfg, err := parseInitArgs(args)
	if err != nil {
		fail("config", err)
	}
	if err := buildRoot(cfg.TmpSize, note); err != nil {
		fail("root", err)
	}
	if err := unix.Sethostname([]byte("sandbox")); err != nil {
		fail("hostname", err)
	}
	path, err := syscall.BytePtrFromString(cfg.Argv[0])
	if err != nil {
		fail("argv", err)
	}
	argv, err := syscall.SlicePtrFromStrings(cfg.Argv)
	if err != nil {
		fail("argv", err)
	}
	envv, err := syscall.SlicePtrFromStrings(cfg.Env)
	if err != nil {
		fail("env", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fail("no_new_privs", err)
	}
	if err := dropCapabilities(); err != nil {
		fail("drop capabilities", err)
	}
	// Dying with the parent: set again here, after the credential work.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		fail("pdeathsig", err)
	}
	// Only fds 0-4 reach the interpreter.
	if err := unix.CloseRange(fdStatus, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		for fd := fdStatus; fd < 1024; fd++ {
			unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC)
		}
	}
	// The error line is built now: after RLIMIT_AS the Go runtime may be
	// unable to allocate.
	errLine := []byte("E exec " + cfg.Argv[0] + ": errno 000\n")
	for _, rl := range cfg.Rlimits {
		lim := unix.Rlimit{Cur: rl.Cur, Max: rl.Max}
		if err := unix.Prlimit(0, rl.Resource, &lim, nil); err != nil {
			fail(fmt.Sprintf("rlimit %d", rl.Resource), err)
		}
	}
	_, _, errno := syscall.RawSyscall(syscall.SYS_EXECVE,
		uintptr(unsafe.Pointer(path)), uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envv[0])))
	n := len(errLine) - 2
	for e := int(errno); n >= len(errLine)-4; e /= 10 {
		errLine[n] = byte('0' + e%10)
		n--
	}
	syscall.RawSyscall(syscall.SYS_WRITE, fdStatus, uintptr(unsafe.Pointer(&errLine[0])), uintptr(len(errLine)))
	syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 125, 0, 0)
}

// buildRoot makes the program's root file system and pivots into it:
//
//	/usr (and /bin, /lib… as on the host: symlinks or read-only binds)
//	/etc   tmpfs files passwd, group, hosts; read-only binds of
//	       /etc/alternatives and /etc/ld.so.cache when present
//	/dev   null, zero, full, random, urandom (binds), fd symlinks, shm (tmpfs)
//	/proc  a new proc for the new PID namespace (skipped with a note if
//	       the kernel refuses, as in containers that mask parts of /proc)
//	/tmp   a private tmpfs of tmpSize bytes: the only writable place
//
// The new root is a tmpfs mounted over /tmp of the (private) old tree and
// remounted read-only after pivot_root. Nothing of the host outside /usr
// and the files above is visible: not the server's files, not its /proc.
func buildRoot(tmpSize int64, note func(string)) error {
	const nr = "/tmp"
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	if err := unix.Mount("wmss-root", nr, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=1m,mode=0755"); err != nil {
		return fmt.Errorf("mount root tmpfs: %w", err)
	}
	for _, d := range []string{"/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"} {
		if err := mirror(d, nr+d); err != nil {
			return err
		}
	}
	if err := os.Mkdir(nr+"/etc", 0o755); err != nil {
		return err
	}
	files := map[string]string{
		"passwd": "root:x:0:0:root:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		"group":  "root:x:0:\nnogroup:x:65534:\n",
		"hosts":  "127.0.0.1 localhost sandbox\n",
	}
	for name, text := range files {
		if err := os.WriteFile(nr+"/etc/"+name, []byte(text), 0o644); err != nil {
			return err
		}
	}
	for _, f := range []string{"/etc/alternatives", "/etc/ld.so.cache", "/etc/localtime"} {
		if err := mirror(f, nr+f); err != nil {
			return err
		}
	}
	if err := os.Mkdir(nr+"/dev", 0o755); err != nil {
		return err
	}
	for _, d := range []string{"null", "zero", "full", "random", "urandom"} {
		dst := nr + "/dev/" + d
		if err := os.WriteFile(dst, nil, 0o644); err != nil {
			return err
		}
		if err := unix.Mount("/dev/"+d, dst, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind /dev/%s: %w", d, err)
		}
	}
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, nr+"/dev/"+name); err != nil {
			return err
		}
	}
	tmpOpts := fmt.Sprintf("size=%d,mode=1777", tmpSize)
	for _, d := range []string{"/tmp", "/dev/shm"} {
		if err := os.Mkdir(nr+d, 0o755); err != nil {
			return err
		}
		if err := unix.Mount("tmpfs", nr+d, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, tmpOpts); err != nil {
			return fmt.Errorf("mount tmpfs %s: %w", d, err)
		}
	}
	if err := os.Mkdir(nr+"/proc", 0o555); err != nil {
		return err
	}
	if err := unix.Mount("proc", nr+"/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		note("no /proc in the sandbox: mount proc: " + err.Error())
	}
	if err := os.Mkdir(nr+"/.old", 0o700); err != nil {
		return err
	}
	if err := unix.PivotRoot(nr, nr+"/.old"); err == nil {
		if err := unix.Chdir("/"); err != nil {
			return err
		}
		if err := unix.Unmount("/.old", unix.MNT_DETACH); err != nil {
			return fmt.Errorf("detach old root: %w", err)
		}
		if err := os.Remove("/.old"); err != nil {
			return err
		}
	} else {
		// pivot_root fails when / is the initramfs; move and chroot
		// instead (runc's msMoveRoot). Capabilities are dropped before
		// the program runs, so it cannot chroot back out.
		note("pivot_root failed (" + err.Error() + "), using MS_MOVE and chroot")
		if err := unix.Chdir(nr); err != nil {
			return err
		}
		if err := unix.Mount(nr, "/", "", unix.MS_MOVE, ""); err != nil {
			return fmt.Errorf("move root: %w", err)
		}
		if err := unix.Chroot("."); err != nil {
			return fmt.Errorf("chroot: %w", err)
		}
		if err := unix.Chdir("/"); err != nil {
			return err
		}
	}
	if err := unix.Mount("", "/", "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		return fmt.Errorf("remount / read-only: %w", err)
	}
	return unix.Chdir("/tmp")
}

// mirror makes dst look like host path src: a symlink with the same
// target, or a read-only bind mount of the directory or file. A missing
// src is skipped.
func mirror(src, dst string) error {
	fi, err := os.Lstat(src)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return os.Symlink(target, dst)
	case fi.IsDir():
		if err := os.Mkdir(dst, 0o755); err != nil {
			return err
		}
	default:
		if err := os.WriteFile(dst, nil, 0o644); err != nil {
			return err
		}
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s: %w", src, err)
	}
	// A remount inside a user namespace must keep the flags the host
	// mount has locked (noexec here; ro, nosuid and nodev are added, and
	// the atime flags are kept by the kernel when none is given).
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV)
	var st unix.Statfs_t
	if err := unix.Statfs(dst, &st); err == nil && st.Flags&unix.ST_NOEXEC != 0 {
		flags |= unix.MS_NOEXEC
	}
	if err := unix.Mount("", dst, "", flags, ""); err != nil {
		return fmt.Errorf("remount %s read-only: %w", src, err)
	}
	return nil
}

// dropCapabilities empties the bounding, ambient, inheritable, permitted
// and effective sets of this thread. The interpreter then runs as uid 0 of
// its user namespace with no capability at all: an execve by uid 0 grants
// the bounding set, which is empty. It cannot undo the read-only mounts
// (they would need CAP_SYS_ADMIN), and a nested user namespace cannot
// either: mounts copied into it are locked.
func dropCapabilities() error {
	for c := 0; c < 64; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			if err == unix.EINVAL {
				break // past the kernel's last capability
			}
			return fmt.Errorf("drop bounding cap %d: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && err != unix.EINVAL {
		return fmt.Errorf("clear ambient caps: %w", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}

// initError turns the init's status lines into an error and notes.
func initError(status string) (error, []string) {
	var errs, notes []string
	for _, l := range strings.Split(status, "\n") {
		switch {
		case strings.HasPrefix(l, "E "):
			errs = append(errs, l[2:])
		case strings.HasPrefix(l, "N "):
			notes = append(notes, l[2:])
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("sandbox init: %s", strings.Join(errs, "; ")), notes
	}
	return nil, notes
}

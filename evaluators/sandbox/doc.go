// Package sandbox runs untrusted Python programs (model completions and
// their tests) in isolation and says what they did: passed, failed,
// timeout, memory_limit, runtime_error, or sandbox_error, the last being a
// fault of ours that is never counted as the program's.
//
// # Isolation
//
// Each run is a fresh process tree (see run_linux.go and init_linux.go):
//
//   - The parent clones this very executable (opened once as
//     /proc/self/exe and exec'd through /proc/self/fd/N) into new user,
//     PID, network, mount, IPC and UTS namespaces, in a new session. Its
//     argv[0] is "wmss-sandbox-init", which this package recognises: any
//     binary that imports the package can be the init, no separate helper
//     binary is installed. In cgo builds a C constructor
//     (init_cgo_linux.go) does the init's work before the Go runtime
//     starts, and creates the namespaces itself: the parent then starts
//     it with a plain vfork instead of a clone that copies the server's
//     address space, and the started process stays outside as a small
//     reaper that forks PID 1 (in a session of its own), waits for it and
//     exits with its status. Without cgo the package's Go init function
//     (init_linux.go) does the same steps in the cloned process. Uid and gid 0 inside map to the
//     server's own ids, or to nobody (65534) when the server runs as root,
//     because RLIMIT_NPROC is not enforced for real root and the program
//     must not own root's files. Unprivileged user namespaces are enough;
//     root is never required.
//   - The init (PID 1 of the new namespace) builds a new root on a tmpfs:
//     read-only binds of /usr (and /bin, /lib… or their symlinks),
//     /etc/alternatives and /etc/ld.so.cache, a synthetic /etc/passwd,
//     group and hosts, /dev/null, zero, full, random, urandom, a new /proc
//     for the new PID namespace, and a private size-limited tmpfs at /tmp
//     (also /dev/shm), the working directory and the only writable place.
//     It pivot_roots into it, detaches the old root (so no host path, not
//     the server's files, its /proc or its /tmp, is reachable), remounts /
//     read-only, sets the hostname, drops every capability (bounding,
//     ambient, inheritable, permitted, effective) with no_new_privs, sets
//     the rlimits (CPU seconds with soft = hard, address space, processes,
//     file size, open files, stack, core 0), and execs /usr/bin/python3
//     with a fixed environment. Nothing of the server's environment is
//     inherited. With no capability left the program cannot remount
//     anything, and mounts copied into a nested user namespace are locked.
//   - The network namespace has only a loopback device, which is down:
//     every connection fails at once with "Network is unreachable".
//   - The parent enforces the wall deadline by SIGKILLing PID 1 (with
//     the C init: SIGTERM to the reaper, which SIGKILLs PID 1); the
//     kernel then kills every process of the namespace and Wait returns
//     only after all are gone, so nothing survives a run (fork bombs,
//     daemonised children). Processes inside can neither see the server
//     (getppid is 0) nor signal it (kill(-1) and kill(0) reach only the
//     namespace and the new session).
//   - stdout and stderr are pipes read while the program runs; the first
//     Limits.Output bytes of each are kept, the rest is read, counted and
//     reported as truncated (never a silent cut, never a blocked writer).
//     stdin is a real pipe that gets Program.Stdin and is then closed.
//
// Limits are applied by the freshly exec'd init, so they budget the
// program, not the server (a server holding 64 GiB of address space still
// gives the program its full 1 GiB). A limit above the server's own hard
// limit is clamped to it and noted in Result.Notes. Memory is bounded by
// RLIMIT_AS, not a memory cgroup: cgroups need privileges this package does
// not assume; BLAS is pinned to one thread so numpy fits.
//
// # The pass marker
//
// Exit status 0 never makes a pass. The trusted harness (prelude.go),
// passed to the interpreter with -c, first reads a frame from fd 3, a pipe
// the parent fills and closes: a fresh 128-bit random nonce, the program's
// code and its tests. It closes fd 3, so the nonce exists only in the
// harness's memory, and the tests can no longer be changed by the program.
// It binds os.write, compile and exec to locals, runs the code as
// __main__, then each test in the same globals, and after each step
// writes "<nonce> code ok", "<nonce> test <i> ok" (or fail/error with the
// exception's name) and finally "<nonce> done <status>" to fd 4, a pipe
// read by the parent. The parent counts only lines carrying the nonce;
// others are reported as ForgedMarkers. A pass needs the code marker,
// every test's marker, the done marker and exit status 0.
//
// The program can write to fd 4, but it does not know the nonce: it is in
// no file, argument or environment variable, and the pipe it came from is
// drained and closed before the program's first line runs. Early exit
// (exit(0), os._exit(0)), swallowed exceptions, atexit handlers, output
// printed to stdout or files, fake marker lines and a monkeypatched
// os.write all fail to produce a pass. What remains is deliberate
// introspection of the harness's own frame or memory (sys._getframe,
// gc, ctypes) to read the nonce; the sandbox's hard guarantees are about
// the host, and a program that attacks the harness that way is cheating
// on purpose, which the marker does not claim to stop.
//
// # Verdicts and timeouts
//
// CPU time is limited per process with a 1 s floor, so a loaded host does
// not fail correct programs; a wall-clock timeout is re-run once with the
// sandbox to itself before it is final (Result.Retried). Concurrency is
// bounded per Sandbox (default: the number of CPUs). Run probes namespace
// support once per process (Available) and returns a sandbox_error with
// the reason when it is missing.
package sandbox

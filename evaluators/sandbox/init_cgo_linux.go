//go:build linux && cgo

package sandbox

/*
// The in-namespace init in C, run as a constructor by the C runtime before
// the Go runtime starts: when argv[0] is "wmss-sandbox-init" it does what
// initMain (init_linux.go) does, step for step, and execs the interpreter,
// so a run does not pay for starting the Go runtime (threads, heap, CPUID
// probing) in a process that lives a millisecond. Binaries built without
// cgo use initMain instead; the two read the same argv (initArgs) and
// report failures the same way ("E step: error" on fd 5, exit 125).
//
// Being single-threaded, the C init can also create the namespaces itself
// (wmss_unshare), so the parent starts it with a plain vfork instead of a
// clone that copies the server's whole address space. The process the
// parent started then stays outside as a small reaper: it forks PID 1 of
// the new PID namespace, waits for it and exits with its status (or dies
// by its signal), and on SIGTERM (the parent's wall deadline or
// cancellation) SIGKILLs that PID 1 first, so it still exits only after
// the kernel has killed and reaped every process of the namespace.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#define WMSS_FD_STATUS 5
#define WMSS_FD_EXE 6
#define WMSS_NR "/tmp"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef ST_NOEXEC
#define ST_NOEXEC 8
#endif

static void wmss_status(const char *kind, const char *step, const char *detail) {
	char line[1024];
	int n = snprintf(line, sizeof line, "%s %s: %s\n", kind, step, detail);
	if (n > (int)sizeof line - 1) {
		n = sizeof line - 1;
		line[n - 1] = '\n';
	}
	if (n > 0 && write(WMSS_FD_STATUS, line, n) < 0) {
		// nothing left to report to
	}
}

static void wmss_fail(const char *step) {
	wmss_status("E", step, strerror(errno));
	_exit(125);
}

static void wmss_failmsg(const char *step, const char *msg) {
	wmss_status("E", step, msg);
	_exit(125);
}

static int wmss_write_file(const char *path, const char *text) {
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		return -1;
	}
	size_t len = strlen(text);
	ssize_t n = len ? write(fd, text, len) : 0;
	int err = errno;
	close(fd);
	errno = err;
	return n == (ssize_t)len ? 0 : -1;
}

// wmss_mirror makes dst look like the host path src (as mirror does).
static void wmss_mirror(const char *src) {
	char dst[512], target[4096];
	struct stat st;
	snprintf(dst, sizeof dst, WMSS_NR "%s", src);
	if (lstat(src, &st) < 0) {
		if (errno == ENOENT) {
			return;
		}
		wmss_fail("root: lstat");
	}
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(src, target, sizeof target - 1);
		if (n < 0) {
			wmss_fail("root: readlink");
		}
		target[n] = 0;
		if (symlink(target, dst) < 0) {
			wmss_fail("root: symlink");
		}
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		if (mkdir(dst, 0755) < 0) {
			wmss_fail("root: mkdir");
		}
	} else if (wmss_write_file(dst, "") < 0) {
		wmss_fail("root: create");
	}
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0) {
		wmss_fail("root: bind");
	}
	// Keep the flags the host mount has locked (noexec), add ro, nosuid
	// and nodev.
	unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV;
	struct statfs sf;
	if (statfs(dst, &sf) == 0 && (sf.f_flags & ST_NOEXEC)) {
		flags |= MS_NOEXEC;
	}
	if (mount("", dst, NULL, flags, NULL) < 0) {
		wmss_fail("root: remount read-only");
	}
}

// wmss_build_root is buildRoot in C.
static void wmss_build_root(const char *tmp_size) {
	static const char *dirs[] = {"/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32",
		"/etc/alternatives", "/etc/ld.so.cache", "/etc/localtime"};
	static const char *devs[] = {"null", "zero", "full", "random", "urandom"};
	static const char *links[][2] = {{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"},
		{"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}};
	char path[512], opts[128];
	if (mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		wmss_fail("root: make / private");
	}
	if (mount("wmss-root", WMSS_NR, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") < 0) {
		wmss_fail("root: mount root tmpfs");
	}
	for (int i = 0; i < 7; i++) {
		wmss_mirror(dirs[i]);
	}
	if (mkdir(WMSS_NR "/etc", 0755) < 0) {
		wmss_fail("root: mkdir /etc");
	}
	if (wmss_write_file(WMSS_NR "/etc/passwd",
			"root:x:0:0:root:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n") < 0 ||
		wmss_write_file(WMSS_NR "/etc/group", "root:x:0:\nnogroup:x:65534:\n") < 0 ||
		wmss_write_file(WMSS_NR "/etc/hosts", "127.0.0.1 localhost sandbox\n") < 0) {
		wmss_fail("root: /etc files");
	}
	for (int i = 7; i < 10; i++) {
		wmss_mirror(dirs[i]);
	}
	if (mkdir(WMSS_NR "/dev", 0755) < 0) {
		wmss_fail("root: mkdir /dev");
	}
	for (int i = 0; i < 5; i++) {
		char src[64];
		snprintf(src, sizeof src, "/dev/%s", devs[i]);
		snprintf(path, sizeof path, WMSS_NR "/dev/%s", devs[i]);
		if (wmss_write_file(path, "") < 0) {
			wmss_fail("root: create device file");
		}
		if (mount(src, path, NULL, MS_BIND, NULL) < 0) {
			wmss_fail("root: bind device");
		}
	}
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof path, WMSS_NR "/dev/%s", links[i][0]);
		if (symlink(links[i][1], path) < 0) {
			wmss_fail("root: symlink /dev");
		}
	}
	snprintf(opts, sizeof opts, "size=%s,mode=1777", tmp_size);
	if (mkdir(WMSS_NR "/tmp", 0755) < 0 || mkdir(WMSS_NR "/dev/shm", 0755) < 0) {
		wmss_fail("root: mkdir tmp");
	}
	if (mount("tmpfs", WMSS_NR "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0 ||
		mount("tmpfs", WMSS_NR "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) {
		wmss_fail("root: mount tmpfs");
	}
	if (mkdir(WMSS_NR "/proc", 0555) < 0) {
		wmss_fail("root: mkdir /proc");
	}
	if (mount("proc", WMSS_NR "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		char msg[256];
		snprintf(msg, sizeof msg, "no /proc in the sandbox: mount proc: %s\n", strerror(errno));
		if (write(WMSS_FD_STATUS, "N ", 2) < 0 || write(WMSS_FD_STATUS, msg, strlen(msg)) < 0) {
			// the note is lost; the run goes on
		}
	}
	if (mkdir(WMSS_NR "/.old", 0700) < 0) {
		wmss_fail("root: mkdir /.old");
	}
	if (syscall(SYS_pivot_root, WMSS_NR, WMSS_NR "/.old") == 0) {
		if (chdir("/") < 0) {
			wmss_fail("root: chdir");
		}
		if (umount2("/.old", MNT_DETACH) < 0) {
			wmss_fail("root: detach old root");
		}
		if (rmdir("/.old") < 0) {
			wmss_fail("root: remove /.old");
		}
	} else {
		// pivot_root fails when / is the initramfs: move and chroot.
		char msg[256];
		snprintf(msg, sizeof msg, "N pivot_root failed (%s), using MS_MOVE and chroot\n", strerror(errno));
		if (write(WMSS_FD_STATUS, msg, strlen(msg)) < 0) {
			// the note is lost; the run goes on
		}
		if (chdir(WMSS_NR) < 0) {
			wmss_fail("root: chdir");
		}
		if (mount(WMSS_NR, "/", NULL, MS_MOVE, NULL) < 0) {
			wmss_fail("root: move root");
		}
		if (chroot(".") < 0) {
			wmss_fail("root: chroot");
		}
		if (chdir("/") < 0) {
			wmss_fail("root: chdir");
		}
	}
	if (mount("", "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0) {
		wmss_fail("root: remount / read-only");
	}
	if (chdir("/tmp") < 0) {
		wmss_fail("root: chdir /tmp");
	}
}

static volatile pid_t wmss_pid1;

static void wmss_on_term(int sig) {
	(void)sig;
	pid_t p = wmss_pid1;
	kill(p > 0 ? p : getpid(), SIGKILL);
}

static void wmss_write_proc(const char *path, const char *text, const char *step) {
	if (wmss_write_file(path, text) < 0) {
		wmss_fail(step);
	}
}

// wmss_unshare makes the user namespace (uid and gid 0 inside mapping to
// the host ids uid and gid, as the parent's clone would), then the PID,
// network, mount, IPC and UTS namespaces, and forks PID 1 of the new PID
// namespace. It returns in that child; the calling process waits for it
// and never returns.
static void wmss_unshare(unsigned long long uid, unsigned long long gid, int root) {
	char map[64];
	if (root) {
		// Drop to the mapped ids first: only the process's own ids can be
		// mapped from inside. Root may clear the supplementary groups.
		if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
			wmss_fail("credentials");
		}
		// A change of ids clears the parent-death signal and makes
		// /proc/self root's: restore both.
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) {
			wmss_fail("credentials: prctl");
		}
	}
	if (unshare(CLONE_NEWUSER) < 0) {
		wmss_fail("unshare user namespace");
	}
	wmss_write_proc("/proc/self/setgroups", "deny", "setgroups deny");
	snprintf(map, sizeof map, "0 %llu 1\n", uid);
	wmss_write_proc("/proc/self/uid_map", map, "uid_map");
	snprintf(map, sizeof map, "0 %llu 1\n", gid);
	wmss_write_proc("/proc/self/gid_map", map, "gid_map");
	if (unshare(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) < 0) {
		wmss_fail("unshare namespaces");
	}
	sigset_t term, old;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &old);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = wmss_on_term;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0) {
		wmss_fail("sigaction");
	}
	pid_t pid = fork();
	if (pid < 0) {
		wmss_fail("fork PID 1");
	}
	if (pid == 0) {
		// A session of its own: kill(0, …) from inside must not reach
		// the reaper, which is outside the PID namespace but was in the
		// same process group.
		if (setsid() < 0) {
			wmss_fail("setsid");
		}
		signal(SIGTERM, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
			wmss_fail("pdeathsig");
		}
		return;
	}
	wmss_pid1 = pid;
	// The reaper keeps only the status fd: the program's pipes reach EOF
	// when the namespace's processes are gone.
	for (int fd = 0; fd < WMSS_FD_STATUS; fd++) {
		close(fd);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			wmss_fail("wait for PID 1");
		}
	}
	if (WIFEXITED(st)) {
		_exit(WEXITSTATUS(st));
	}
	int sig = WIFSIGNALED(st) ? WTERMSIG(st) : SIGKILL;
	struct rlimit nocore = {0, 0};
	setrlimit(RLIMIT_CORE, &nocore);
	signal(sig, SIG_DFL);
	sigset_t all;
	sigemptyset(&all);
	sigaddset(&all, sig);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	kill(getpid(), sig);
	_exit(128 + sig);
}

static unsigned long long wmss_num(const char *s) {
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != 0) {
		wmss_failmsg("config", "bad init arguments");
	}
	return v;
}

__attribute__((constructor)) static void wmss_sandbox_init(int argc, char **argv, char **envp) {
	(void)envp;
	if (argc < 2 || argv == NULL || strcmp(argv[0], "wmss-sandbox-init") != 0) {
		return;
	}
	if (fcntl(WMSS_FD_STATUS, F_SETFD, FD_CLOEXEC) < 0) {
		wmss_fail("status fd");
	}
	close(WMSS_FD_EXE);

	// argv: initArgs (init_linux.go).
	if (argc < 5) {
		wmss_failmsg("config", "bad init arguments");
	}
	int i = 1;
	unsigned long long host_uid = wmss_num(argv[i++]);
	unsigned long long host_gid = wmss_num(argv[i++]);
	unsigned long long root = wmss_num(argv[i++]);
	if (root > 1) {
		wmss_failmsg("config", "bad init arguments");
	}
	const char *tmp_size = argv[i++];
	wmss_num(tmp_size);
	if (i >= argc) {
		wmss_failmsg("config", "bad init arguments");
	}
	unsigned long long nrl = wmss_num(argv[i++]);
	if (nrl > 32 || i + 3 * (int)nrl >= argc) {
		wmss_failmsg("config", "bad init arguments");
	}
	int rl_first = i;
	i += 3 * (int)nrl;
	unsigned long long nenv = wmss_num(argv[i++]);
	if (nenv > (unsigned long long)(argc - i) || i + (int)nenv >= argc) {
		wmss_failmsg("config", "bad init arguments: no interpreter");
	}
	char **env = calloc(nenv + 1, sizeof *env);
	if (env == NULL) {
		wmss_fail("env");
	}
	for (unsigned long long k = 0; k < nenv; k++) {
		env[k] = argv[i++];
	}
	char **pargv = argv + i;
	for (int k = rl_first; k < rl_first + 3 * (int)nrl; k++) {
		wmss_num(argv[k]);
	}

	wmss_unshare(host_uid, host_gid, (int)root);
	wmss_build_root(tmp_size);
	if (sethostname("sandbox", 7) < 0) {
		wmss_fail("hostname");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		wmss_fail("no_new_privs");
	}
	for (int c = 0; c < 64; c++) {
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			if (errno == EINVAL) {
				break; // past the kernel's last capability
			}
			wmss_fail("drop capabilities: bounding");
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		wmss_fail("drop capabilities: ambient");
	}
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof data);
	if (syscall(SYS_capset, &hdr, data) < 0) {
		wmss_fail("drop capabilities: capset");
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
		wmss_fail("pdeathsig");
	}
	// Only fds 0-4 reach the interpreter.
	if (syscall(SYS_close_range, WMSS_FD_STATUS, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		for (int fd = WMSS_FD_STATUS; fd < 1024; fd++) {
			fcntl(fd, F_SETFD, FD_CLOEXEC);
		}
	}
	for (unsigned long long k = 0; k < nrl; k++) {
		int res = (int)wmss_num(argv[rl_first + 3 * k]);
		struct rlimit lim = {wmss_num(argv[rl_first + 3 * k + 1]), wmss_num(argv[rl_first + 3 * k + 2])};
		struct rlimit cur;
		if (res == RLIMIT_NPROC && lim.rlim_max != RLIM_INFINITY && getrlimit(res, &cur) == 0 &&
			lim.rlim_max < cur.rlim_max) {
			// The reaper is a process of the same user in the same user
			// namespace: count it on top, so the program keeps its budget.
			lim.rlim_cur++;
			lim.rlim_max++;
		}
		if (setrlimit(res, &lim) < 0) {
			char step[32];
			snprintf(step, sizeof step, "rlimit %d", res);
			wmss_fail(step);
		}
	}
	execve(pargv[0], pargv, env);
	char step[600];
	snprintf(step, sizeof step, "exec %.500s", pargv[0]);
	char msg[32];
	snprintf(msg, sizeof msg, "errno %03d", errno);
	wmss_failmsg(step, msg);
}
*/
import "C"

// initUnshares says whether the init creates the namespaces itself: the C
// init does, so the parent starts it without clone flags.
const initUnshares = true

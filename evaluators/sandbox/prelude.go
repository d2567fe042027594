package sandbox

import (
	"bytes"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// prelude is the trusted Python harness, passed with -c. It runs before
// any program code and:
//
//  1. reads the whole frame from fd 3 (a pipe the parent fills and closes):
//     "WMSS1 <nonce> <len code> <len test 0> …\n" then the UTF-8 bytes;
//     then closes fd 3, so the nonce, the code and the tests are in memory
//     only, and the program cannot rewrite its tests before they run;
//  2. binds os.write, compile and exec to locals, so a program that
//     monkeypatches os.write cannot intercept or rewrite the markers;
//  3. executes the code as __main__, then each test in the same globals,
//     writing one marker line per step to fd 4: "<nonce> code ok",
//     "<nonce> test <i> ok", "<nonce> test <i> fail <Exception>", …, and
//     "<nonce> done <status>" last; then flushes stdio and calls os._exit,
//     so atexit handlers or lingering threads of the program cannot add
//     output after the verdict.
//
// It stops at the first failing test. Keep it free of imports beyond os and
// sys on the passing path: it runs once per program.
const prelude = `import os, sys
def _wmss_run():
    _w, _compile, _exec, _exit = os.write, compile, exec, os._exit
    chunks = []
    while True:
        b = os.read(3, 1 << 20)
        if not b:
            break
        chunks.append(b)
    os.close(3)
    data = b"".join(chunks)
    head, _, rest = data.partition(b"\n")
    fields = head.split()
    nonce = fields[1]
    parts, off = [], 0
    for n in fields[2:]:
        n = int(n)
        parts.append(rest[off:off + n].decode("utf-8"))
        off += n
    del chunks, data, rest, head, fields
    code, tests = parts[0], parts[1:]
    def mark(s):
        try:
            _w(4, b"\n" + nonce + b" " + s.encode("ascii", "replace") + b"\n")
        except OSError:
            pass
    def name(e):
        return "".join(c if c.isalnum() or c in "._" else "_" for c in type(e).__name__) or "Exception"
    def report(fname, src):
        try:
            import linecache, traceback
            for fn, sv in (("solution.py", code), (fname, src)):
                linecache.cache[fn] = (len(sv), None, sv.splitlines(True), fn)
            traceback.print_exc()
        except BaseException:
            pass
    def finish(status):
        for f in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                f.flush()
            except BaseException:
                pass
        mark("done %d" % status)
        _exit(status)
    mark("start")
    g = {"__name__": "__main__", "__builtins__": __builtins__}
    try:
        _exec(_compile(code, "solution.py", "exec"), g)
    except SystemExit as e:
        c = e.code
        st = c if isinstance(c, int) and not isinstance(c, bool) else (0 if c is None else 1)
        mark("code exit %d" % st)
        finish(st if st else (1 if tests else 0))
    except BaseException as e:
        mark("code error " + name(e))
        report("solution.py", code)
        finish(1)
    mark("code ok")
    for i, t in enumerate(tests):
        fname = "test_%d.py" % i
        try:
            _exec(_compile(t, fname, "exec"), g)
        except AssertionError as e:
            mark("test %d fail %s" % (i, name(e)))
            report(fname, t)
            finish(1)
        except BaseException as e:
            mark("test %d error %s" % (i, name(e)))
            report(fname, t)
            finish(1)
        mark("test %d ok" % i)
    finish(0)
_wmss_run()
`

// bootstrap is the -c argument when the prelude is sent precompiled: it
// reads "<n>\n" and n bytes of marshalled code from fd 3 and runs them.
// Compiling the prelude's source costs the interpreter about as much as a
// few imports; loading the marshalled code object costs almost nothing.
const bootstrap = `import os, marshal
def _wmss_boot():
    h = b""
    while not h.endswith(b"\n"):
        c = os.read(3, 1)
        if not c:
            raise SystemExit("wmss: harness missing")
        h += c
    n, d = int(h), b""
    while len(d) < n:
        c = os.read(3, n - len(d))
        if not c:
            raise SystemExit("wmss: harness truncated")
        d += c
    return marshal.loads(d)
exec(_wmss_boot())
`

var (
	compiledMu sync.Mutex
	compiled   = map[string][]byte{}
)

// compiledPrelude returns the prelude as a marshalled code object for the
// interpreter python, compiled once per process by that interpreter (the
// format is specific to its version), or nil when that fails; the caller
// then passes the source with -c.
func compiledPrelude(python string) []byte {
	compiledMu.Lock()
	defer compiledMu.Unlock()
	if b, ok := compiled[python]; ok {
		return b
	}
	cmd := exec.Command(python, "-s", "-P", "-c",
		"import marshal, sys; sys.stdout.buffer.write(marshal.dumps(compile(sys.stdin.read(), '<wmss-harness>', 'exec')))")
	cmd.Stdin = strings.NewReader(prelude)
	cmd.Env = []string{"LANG=C.UTF-8"}
	b, err := cmd.Output()
	if err != nil || len(b) == 0 {
		slog.Warn("sandbox: cannot precompile the harness, sending its source", "python", python, "err", err)
		b = nil
	}
	compiled[python] = b
	return b
}

// frame encodes the prelude's input: the nonce, the code and the tests,
// preceded by the marshalled prelude when code is non-nil.
func frame(harness []byte, nonce string, code string, tests []string) []byte {
	var b bytes.Buffer
	if harness != nil {
		b.WriteString(strconv.Itoa(len(harness)))
		b.WriteByte('\n')
		b.Write(harness)
	}
	b.WriteString("WMSS1 ")
	b.WriteString(nonce)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(len(code)))
	for _, t := range tests {
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(len(t)))
	}
	b.WriteByte('\n')
	b.WriteString(code)
	for _, t := range tests {
		b.WriteString(t)
	}
	return b.Bytes()
}

// markers is what the harness reported on the marker channel.
type markers struct {
	started  bool   // the harness read its frame
	code     string // "ok", "exit", "error" or "" when never reported
	codeArg  string // exit status or exception name
	testsOK  int    // tests reported ok, in order
	failTest int    // index of the failing test, -1 if none
	failKind string // "fail" or "error"
	failExc  string // exception name of the failing test
	done     bool
	forged   int // non-empty lines without the nonce
}

// parseMarkers reads the marker channel. Only lines that start with the
// run's nonce count; anything else was written by the program and is
// counted in forged.
func parseMarkers(data []byte, nonce string) markers {
	m := markers{failTest: -1}
	prefix := nonce + " "
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok {
			m.forged++
			continue
		}
		f := strings.Fields(rest)
		switch {
		case len(f) == 1 && f[0] == "start":
			m.started = true
		case len(f) >= 2 && f[0] == "code":
			m.code = f[1]
			if len(f) >= 3 {
				m.codeArg = f[2]
			}
		case len(f) == 3 && f[0] == "test" && f[2] == "ok":
			if i, err := strconv.Atoi(f[1]); err == nil && i == m.testsOK {
				m.testsOK++
			}
		case len(f) == 4 && f[0] == "test" && (f[2] == "fail" || f[2] == "error"):
			if i, err := strconv.Atoi(f[1]); err == nil {
				m.failTest, m.failKind, m.failExc = i, f[2], f[3]
			}
		case len(f) >= 1 && f[0] == "done":
			m.done = true
		}
	}
	return m
}

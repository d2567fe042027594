"""Symbolic equivalence of two LaTeX math answers, for evaluators/mathgrade.

The Go grader decides numbers, tuples, sets and intervals itself and calls
``sym_equal`` only when its numeric path cannot decide (an unfamiliar command,
an expression to confirm). Go passes answers already normalised by
``mathgrade.Normalize`` ($, \\left/\\right, \\text{} and units removed).

``sympy.parsing.latex`` needs the antlr4 runtime, which Debian's sympy 1.11
does not ship (``parse_latex`` raises ImportError), so ``to_sympy`` is a small
recursive-descent converter for the forms answers use: numbers, + - * /,
\\cdot, \\times, \\div, implicit multiplication, ^, !, \\frac, \\sqrt (and
\\sqrt[n]), \\binom, \\pi, \\infty, e, i, \\sin ... \\ln, \\log (and \\log_b),
|x|, one-letter variables, "=" and comma-separated tuples.

Each comparison runs in a worker process with a deadline. sympy can hang on
inputs such as 3^{3^{3^3}} (scoring case B21, sympy/sympy#21480): a thread
timeout would leave the hung worker running, and ``signal.alarm`` only works
on the main thread (B20), so on a timeout the worker process is killed and
replaced before the next call.
"""
import atexit
import json
import os
import re
import select
import subprocess
import sys
import threading
import time

__all__ = ["sym_equal"]

_TOKEN = re.compile(r"\s*(\\[A-Za-z]+|\\.|\d+\.\d*|\.\d+|\d+|[A-Za-z]|\S)")
_FUNCS = {
    "sin": "sin", "cos": "cos", "tan": "tan", "cot": "cot", "sec": "sec", "csc": "csc",
    "arcsin": "asin", "arccos": "acos", "arctan": "atan",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "ln": "log", "log": "log", "exp": "exp",
}
_STARTS_ATOM = re.compile(r"[0-9.A-Za-z({\[]")


class ParseError(ValueError):
    """The text is not in the LaTeX subset ``to_sympy`` reads."""


class _Parser:
    def __init__(self, text, sympy):
        self.sp = sympy
        self.toks = [t for t in _TOKEN.findall(text) if t]
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, want=None):
        t = self.peek()
        if t is None or (want is not None and t != want):
            raise ParseError("expected %r, got %r" % (want, t))
        self.i += 1
        return t

    def parse(self):
        parts = [self.relation()]
        while self.peek() == ",":
            self.take()
            parts.append(self.relation())
        if self.peek() is not None:
            raise ParseError("trailing %r" % self.peek())
        return parts[0] if len(parts) == 1 else tuple(parts)

    def relation(self):
        lhs = self.sum()
        if self.peek() == "=":
            self.take()
            return ("eq", lhs, self.sum())
        return lhs

    def sum(self):
        x = self.product()
        while self.peek() in ("+", "-"):
            op = self.take()
            y = self.product()
            x = x + y if op == "+" else x - y
        return x

    def product(self):
        x = self.unary()
        while True:
            t = self.peek()
            if t in ("*", "\\cdot", "\\times", "\\ast"):
                self.take()
                x = x * self.unary()
            elif t in ("/", "\\div"):
                self.take()
                x = x / self.unary()
            elif t is not None and (_STARTS_ATOM.match(t) or (t.startswith("\\") and t[1:] in _ATOM_CMDS)):
                x = x * self.power()
            else:
                return x

    def unary(self):
        t = self.peek()
        if t == "-":
            self.take()
            return -self.unary()
        if t == "+":
            self.take()
            return self.unary()
        return self.power()

    def power(self):
        x = self.postfix(self.atom())
        if self.peek() == "^":
            self.take()
            x = self.sp.Pow(x, self.exponent())
        return x

    def exponent(self):
        t = self.peek()
        if t == "-":
            self.take()
            return -self.exponent()
        if t == "{":
            return self.postfix(self.group("{", "}"))
        return self.postfix(self.atom())

    def postfix(self, x):
        while self.peek() == "!":
            self.take()
            x = self.sp.factorial(x)
        return x

    def group(self, open_, close):
        self.take(open_)
        x = self.sum()
        self.take(close)
        return x

    def atom(self):
        sp = self.sp
        t = self.peek()
        if t is None:
            raise ParseError("unexpected end")
        if t[0].isdigit() or t[0] == ".":
            self.take()
            return sp.Rational(t)  # exact: "0.25" -> 1/4
        if len(t) == 1 and t.isalpha():
            self.take()
            if t == "e":
                return sp.E
            if t == "i":
                return sp.I
            return sp.Symbol(t)
        if t in ("(", "["):
            # (a, b) or [a, b): a tuple; brackets are checked by the Go side.
            self.take()
            items = [self.sum()]
            while self.peek() == ",":
                self.take()
                items.append(self.sum())
            if self.peek() not in (")", "]"):
                raise ParseError("unbalanced %r" % t)
            self.take()
            return items[0] if len(items) == 1 else tuple(items)
        if t == "{":
            return self.group("{", "}")
        if t == "|":
            return sp.Abs(self.group("|", "|"))
        if t.startswith("\\"):
            self.take()
            return self.command(t[1:])
        raise ParseError("unexpected %r" % t)

    def arg(self):
        """A braced group, or one token as TeX reads \\frac12."""
        if self.peek() == "{":
            return self.group("{", "}")
        t = self.take()
        if t[0].isdigit() and len(t) > 1 and "." not in t:
            # \frac12: TeX takes one digit; give the rest back.
            self.toks[self.i - 1:self.i] = [t[0], t[1:]]
            return self.sp.Integer(t[0])
        self.i -= 1
        return self.atom()

    def command(self, name):
        sp = self.sp
        if name in ("frac", "dfrac", "tfrac"):
            a = self.arg()
            return a / self.arg()
        if name in ("binom", "dbinom", "tbinom"):
            a = self.arg()
            return sp.binomial(a, self.arg())
        if name == "sqrt":
            if self.peek() == "[":
                n = self.group("[", "]")
                return sp.root(self.arg(), n)
            return sp.sqrt(self.arg())
        if name == "pi":
            return sp.pi
        if name == "infty":
            return sp.oo
        if name in _FUNCS:
            fn = getattr(sp, _FUNCS[name])
            base = None
            if name == "log" and self.peek() == "_":
                self.take()
                base = self.arg()
            power = None
            if self.peek() == "^":
                self.take()
                power = self.exponent()
            x = self.power() if self.peek() not in ("(", "{") else self.atom()
            y = sp.log(x, base) if base is not None else fn(x)
            return y ** power if power is not None else y
        raise ParseError("unknown command \\%s" % name)


_ATOM_CMDS = {"frac", "dfrac", "tfrac", "sqrt", "binom", "pi", "infty"} | set(_FUNCS)


def to_sympy(text):
    """Convert a LaTeX answer to sympy.

    text: str, LaTeX without $ delimiters. Returns a sympy expression, an
    ("eq", lhs, rhs) triple for an equation, or a tuple of those for a
    comma-separated list. Raises ParseError for anything outside the subset
    described in the module docstring.
    """
    import sympy

    text = text.replace("\\left", "").replace("\\right", "").replace("\\!", "").replace("\\,", " ")
    return _Parser(text, sympy).parse()


def _same(a, b, sp):
    """Return True when parsed answers a and b are equal (module rules)."""
    if isinstance(a, tuple) and a and a[0] == "eq":
        if isinstance(b, tuple) and b and b[0] == "eq":
            f, g = sp.simplify(a[1] - a[2]), sp.simplify(b[1] - b[2])
            if f == 0 or g == 0:
                return f == g
            # Same equation up to a nonzero constant factor (B18): never
            # compare the bare right-hand sides.
            ratio = sp.simplify(f / g)
            return ratio != 0 and not ratio.free_symbols and ratio.is_finite is not False
        if isinstance(a[1], sp.Symbol):  # "x = 5" against "5"
            return _same(a[2], b, sp)
        return False
    if isinstance(b, tuple) and b and b[0] == "eq":
        return _same(b, a, sp)
    if isinstance(a, tuple) or isinstance(b, tuple):
        if not (isinstance(a, tuple) and isinstance(b, tuple)) or len(a) != len(b):
            return False
        return all(_same(x, y, sp) for x, y in zip(a, b))
    if a == b:
        return True
    d = sp.simplify(a - b)
    if d == 0:
        return True
    # simplify can miss trigonometric identities; expand them once more.
    return sp.simplify(sp.expand_trig(d)) == 0


def equal_now(a, b):
    """Compare two LaTeX answers in this process, with no deadline.

    Returns {"equal": bool} and, when an answer cannot be read,
    {"equal": False, "reason": "cannot parse <which>: <why>"}.
    """
    import sympy

    out = []
    for which, text in (("gold", a), ("answer", b)):
        try:
            out.append(to_sympy(text))
        except (ParseError, TypeError, ValueError, ZeroDivisionError) as e:
            return {"equal": False, "reason": "cannot parse %s: %s" % (which, e)}
    return {"equal": bool(_same(out[0], out[1], sympy))}


# --- the worker process -----------------------------------------------------

_lock = threading.Lock()
_worker = None

# The worker caps its own address space (bytes) so a runaway exact power
# fails with MemoryError instead of filling the machine.
WORKER_MEMORY_BYTES = 2 << 30


def _python():
    exe = os.environ.get("WMSS_PYTHON") or sys.executable or ""
    # Embedded in the Go server, sys.executable is the server binary.
    if "python" not in os.path.basename(exe):
        exe = "/usr/bin/python3"
    return exe


def _start():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {"PYTHONPATH": here, "PATH": "/usr/bin:/bin", "PYTHONINTMAXSTRDIGITS": "0"}
    code = "import wmss_engine.mathsym as m; m._serve()"
    return subprocess.Popen([_python(), "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, close_fds=True)


def _kill():
    global _worker
    if _worker is not None:
        try:
            _worker.kill()
            _worker.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for f in (_worker.stdin, _worker.stdout):
            try:
                f.close()
            except OSError:
                pass
        _worker = None


def _close():
    with _lock:
        if _worker is not None:
            try:
                _worker.stdin.close()
                _worker.stdout.close()
            except OSError:
                pass
        _kill()


atexit.register(_close)


def _serve():
    """Worker loop: one JSON request per stdin line, one reply per line."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
    except (ImportError, ValueError, OSError):
        pass
    import sympy  # noqa: F401  (import once, before the first deadline)

    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        req = json.loads(line)
        try:
            rep = equal_now(req["a"], req["b"])
        except Exception as e:  # reported to the parent as a grader fault
            rep = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(rep) + "\n")
        sys.stdout.flush()


def _readline(proc, deadline):
    fd = proc.stdout.fileno()
    buf = b""
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 65536)
        if not chunk:
            raise RuntimeError("sym_equal: worker exited")
        buf += chunk
    return buf.decode()


def sym_equal(a, b, timeout_s=5.0):
    """Decide whether two LaTeX answers are symbolically equal.

    a: str, the gold answer; b: str, the model's answer (both LaTeX, already
    normalised). timeout_s: float seconds for this comparison, not counting a
    worker start (importing sympy, about a second). Rules: expressions are
    equal when sympy.simplify(a - b) == 0; equations lhs = rhs when
    (lhs_a - rhs_a) / (lhs_b - rhs_b) simplifies to a nonzero constant;
    "x = 5" equals "5"; comma lists element by element.

    Returns {"equal": bool}, plus "reason" when an answer cannot be parsed
    (then equal is False). Raises TimeoutError when the comparison passes
    timeout_s (the worker is killed and replaced) and RuntimeError when the
    worker fails (for example MemoryError on a huge exact power); callers
    report both as a grader error, not as a wrong answer.
    """
    global _worker
    if not isinstance(a, str) or not isinstance(b, str):
        raise TypeError("sym_equal: a and b must be str")
    with _lock:
        if _worker is None or _worker.poll() is not None:
            _worker = _start()
            if _readline(_worker, time.monotonic() + 60) != "ready\n":
                _kill()
                raise RuntimeError("sym_equal: worker did not start")
        try:
            _worker.stdin.write((json.dumps({"a": a, "b": b}) + "\n").encode())
            _worker.stdin.flush()
            line = _readline(_worker, time.monotonic() + float(timeout_s))
        except (OSError, RuntimeError):
            _kill()
            raise RuntimeError("sym_equal: worker died")
        if line is None:
            _kill()
            raise TimeoutError("sym_equal: no result within %.3g s" % timeout_s)
    rep = json.loads(line)
    if "error" in rep:
        # A MemoryError leaves the worker in an unknown state: replace it.
        with _lock:
            _kill()
        raise RuntimeError("sym_equal: " + rep["error"])
    return rep

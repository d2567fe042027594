"""Tests for wmss_engine.mathsym (symbolic answer equivalence).

Rows named Bnn are scoring cases from ../shared/cases/scoring-cases.md.
"""
import threading
import unittest

import sympy

from wmss_engine import mathsym


class ToSympyTest(unittest.TestCase):
    def test_forms(self):
        x = sympy.Symbol("x")
        for text, want in [
            (r"\frac{1}{2}", sympy.Rational(1, 2)),
            (r"\frac12", sympy.Rational(1, 2)),
            (r"\dfrac{3}{4}", sympy.Rational(3, 4)),
            (r"\frac{\sqrt{3}}{2}", sympy.sqrt(3) / 2),
            (r"\sqrt[3]{8}", sympy.Integer(2)),
            (r"2\pi", 2 * sympy.pi),
            (r"3 \cdot 4", sympy.Integer(12)),
            (r"6 \div 4", sympy.Rational(3, 2)),
            (r"2x^2", 2 * x ** 2),
            (r"x^{-1}", 1 / x),
            (r"(x+1)(x-1)", (x + 1) * (x - 1)),
            (r"\left( x \right)", x),
            (r"5!", sympy.Integer(120)),
            (r"\binom{5}{2}", sympy.Integer(10)),
            (r"-\infty", -sympy.oo),
            ("0.25", sympy.Rational(1, 4)),
            (r"\log_2 8", sympy.Integer(3)),
            (r"e^{i\pi}", sympy.Integer(-1)),
            (r"|-3|", sympy.Integer(3)),
        ]:
            with self.subTest(text=text):
                got = mathsym.to_sympy(text)
                if want.is_infinite:
                    self.assertEqual(got, want)
                else:
                    self.assertEqual(sympy.simplify(got - want), 0, got)

    def test_structures(self):
        self.assertEqual(mathsym.to_sympy("1, 2"), (1, 2))
        self.assertEqual(mathsym.to_sympy("(3, 4]"), (3, 4))
        eq = mathsym.to_sympy("y = 2x + 3")
        self.assertEqual(eq[0], "eq")

    def test_errors(self):
        for text in [r"\unknowncmd{1}", "(1", "1 +", r"\frac{1}", ""]:
            with self.subTest(text=text):
                with self.assertRaises(mathsym.ParseError):
                    mathsym.to_sympy(text)


class EqualNowTest(unittest.TestCase):
    CASES = [
        # (id, gold, answer, equal)
        ("B18", "2x+y-5=0", "x-3y+1=0", False),
        ("B18/scaled", "2x+y-5=0", "4x+2y=10", True),
        ("B18/negated", "2x+y-5=0", "-2x-y+5=0", True),
        ("B18/rhs-zero-only", "x-1=0", "x-2=0", False),
        ("B14", r"\dfrac{5}{3}", r"\frac{5}{3}", True),
        ("B15", r"\left( 2, \frac{\pi}{3} \right)", r"(2, \frac{\pi}{3})", True),
        ("assign", "x=5", "5", True),
        ("assign-wrong", "x=5", "6", False),
        ("log-base", r"\log_2 8", "3", True),
        ("trig", r"\frac{\sqrt{3}}{2}", r"\sin(\frac{\pi}{3})", True),
        ("trig-identity", r"\sin^2 x + \cos^2 x", "1", True),
        ("cot", r"\cot x", r"\frac{\cos x}{\sin x}", True),
        ("factored", "x^2-1", "(x-1)(x+1)", True),
        ("factored-wrong", "x^2-1", "(x-1)^2", False),
        ("complex", "-2+7i", "7i-2", True),
        ("rational-vs-decimal", r"\frac{1}{3}", "0.333", False),
        ("decimal-exact", r"\frac{1}{4}", "0.25", True),
        ("tuple-order", "(1, 2)", "(2, 1)", False),
        ("tuple-length", "(1, 2)", "(1, 2, 3)", False),
    ]

    def test_table(self):
        for cid, a, b, want in self.CASES:
            with self.subTest(id=cid):
                got = mathsym.equal_now(a, b)
                self.assertEqual(got["equal"], want, got)

    def test_unparsable_is_not_equal_with_reason(self):
        got = mathsym.equal_now("3", r"\weird{3}")
        self.assertFalse(got["equal"])
        self.assertIn("cannot parse answer", got["reason"])


class SymEqualTest(unittest.TestCase):
    """sym_equal through the worker process."""

    def test_exported(self):
        self.assertIn("sym_equal", mathsym.__all__)

    def test_basic(self):
        self.assertEqual(mathsym.sym_equal("x^2-1", "(x-1)(x+1)", 10.0), {"equal": True})
        self.assertEqual(mathsym.sym_equal("2x+y-5=0", "x-3y+1=0", 10.0), {"equal": False})

    def test_B20_concurrent_callers(self):
        # Eight threads at once (no signal.alarm: it fails off the main thread).
        results = [None] * 8

        def run(k):
            results[k] = mathsym.sym_equal("1/3", r"\frac{1}{3}", 30.0)

        threads = [threading.Thread(target=run, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [{"equal": True}] * 8)

    def test_B21_hang_is_killed_and_replaced(self):
        # 3^(3^27) has ~3.6e12 digits: sympy evaluates it exactly and hangs
        # (or runs out of its memory cap). Either way the call must end as a
        # grader fault, never as a wrong answer, and the worker is replaced.
        first = mathsym._worker
        with self.assertRaises((TimeoutError, RuntimeError)):
            mathsym.sym_equal("2", "3^{3^{3^{3}}}", 1.0)
        self.assertIsNone(mathsym._worker, "the hung worker must be killed")
        if first is not None:
            self.assertIsNotNone(first.poll(), "old worker still running")
        for k in range(100):
            self.assertEqual(mathsym.sym_equal(str(k), "%d/1" % k, 30.0), {"equal": True})

    def test_bad_argument(self):
        with self.assertRaises(TypeError):
            mathsym.sym_equal(1, "1", 1.0)

    def test_dispatch(self):
        from wmss_engine import _bridge

        out = _bridge.dispatch("wmss_engine.mathsym", "sym_equal", '{"a": "x=5", "b": "5", "timeout_s": 10}')
        self.assertEqual(out, '{"equal": true}')


if __name__ == "__main__":
    unittest.main()

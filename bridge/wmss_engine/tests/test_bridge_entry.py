"""Tests of the entry point the Go bridge calls (_bridge.dispatch) and of
cooperative cancellation, run in plain /usr/bin/python3."""
import json
import unittest

from wmss_engine import _bridge, cancel, selftest


class DispatchTest(unittest.TestCase):
    def test_calls_exported_function_with_keyword_args(self):
        out = _bridge.dispatch("wmss_engine.selftest", "add", b'{"a": 2, "b": 40}')
        self.assertEqual(json.loads(out), {"sum": 42})

    def test_no_arguments(self):
        self.assertEqual(_bridge.dispatch("wmss_engine.selftest", "noop", None), "null")
        self.assertEqual(_bridge.dispatch("wmss_engine.selftest", "noop", b""), "null")

    def test_str_and_utf8_bytes_arguments(self):
        for arg in ('{"value": "λ·z"}', '{"value": "λ·z"}'.encode()):
            self.assertEqual(json.loads(_bridge.dispatch("wmss_engine.selftest", "echo", arg)), {"value": "λ·z"})

    def test_refuses_names_outside_all(self):
        with self.assertRaisesRegex(AttributeError, "not in __all__"):
            _bridge.dispatch("wmss_engine.selftest", "_cancelled", None)
        with self.assertRaisesRegex(AttributeError, "not in __all__"):
            _bridge.dispatch("wmss_engine._bridge", "dispatch", None)

    def test_arguments_must_be_an_object(self):
        with self.assertRaisesRegex(TypeError, "JSON object"):
            _bridge.dispatch("wmss_engine.selftest", "noop", b"[1]")

    def test_non_finite_result_is_an_error(self):
        with self.assertRaises(ValueError):
            _bridge.dispatch("wmss_engine.selftest", "add", b'{"a": 1e308, "b": 1e308}')


class CancelTest(unittest.TestCase):
    def tearDown(self):
        cancel.set_requested(False)

    def test_check_raises_only_when_requested(self):
        cancel.check()
        cancel.set_requested(True)
        self.assertTrue(cancel.requested())
        with self.assertRaises(cancel.Cancelled):
            cancel.check()

    def test_loop_stops_at_next_check(self):
        before = selftest.cancel_count()["cancelled"]
        cancel.set_requested(True)
        with self.assertRaises(cancel.Cancelled):
            selftest.wait_for_cancel(timeout_s=5)
        self.assertEqual(selftest.cancel_count()["cancelled"], before + 1)


if __name__ == "__main__":
    unittest.main()

"""Tests of __main__.py and the bridge calling convention for api (python3 -m wmss_engine)."""
import contextlib
import io
import json
import os
import tempfile
import unittest

from wmss_engine import __main__ as cli
from wmss_engine import _bridge, api


class MainTest(unittest.TestCase):
    def run_cli(self, argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = cli.main(argv)
        return rc, out.getvalue(), err.getvalue()

    def test_script_runs_ops_in_one_process(self):
        with tempfile.TemporaryDirectory() as d:
            script = [
                {"op": "init_model", "args": {"out": d, "size": "tiny", "seed": 2, "vocab_size": 64}},
                {"op": "load_model", "args": {"handle": "cli", "path": d}},
                {"op": "register_dataset", "args": {"handle": "cli-d", "samples": [
                    {"input_ids": [1, 2, 3, 4], "loss_mask": [0, 1, 1, 1]}]}},
                {"op": "heldout_loss", "args": {"model": "cli", "dataset": "cli-d"}},
                {"op": "release", "args": {"handle": "cli"}},
                {"op": "release", "args": {"handle": "cli-d"}},
            ]
            path = os.path.join(d, "script.json")
            with open(path, "w") as f:
                json.dump(script, f)
            rc, out, err = self.run_cli(["--script", path])
        self.assertEqual(rc, 0, err)
        lines = [json.loads(x) for x in out.splitlines()]
        self.assertEqual(len(lines), 6)
        self.assertEqual(lines[3]["supervised_tokens"], 3)
        self.assertGreater(lines[3]["loss"], 0)
        self.assertEqual(lines[4], {"released": ["model"]})

    def test_errors_and_list(self):
        rc, out, err = self.run_cli(["nope"])
        self.assertEqual(rc, 1)
        self.assertEqual(json.loads(err)["error"], "AttributeError")
        rc, out, _ = self.run_cli(["--list"])
        self.assertEqual(out.split(), api.__all__)
        rc, out, err = self.run_cli(["sft_step", "--json", '{"trainer": "none", "dataset": "x", "indices": [0], "lr": 1}'])
        self.assertEqual((rc, json.loads(err)["error"]), (1, "KeyError"))

    def test_dispatch_result_is_json(self):
        self.assertEqual(json.loads(_bridge.dispatch("wmss_engine.api", "handles", "{}")).keys(),
                         {"models", "datasets", "trainers"})


if __name__ == "__main__":
    unittest.main()

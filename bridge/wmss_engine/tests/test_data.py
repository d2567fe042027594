"""Tests of data.py: dataset tokenization for the Go pipeline, lengths in the window, corpora, clip."""
import os
import tempfile
import unittest

from wmss_engine import api, data
from wmss_engine.tokenizer import build_byte_level

# build_byte_level: id b is byte b; <|im_start|> = 257, <|im_end|> = 258 (eos).
IM_START, IM_END = 257, 258


def b(text):
    return list(text.encode("utf-8"))


class TokenizeDatasetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        build_byte_level(cls.dir.name)
        cls.tok_dir = cls.dir.name

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def tearDown(self):
        for h in ("d", "raw"):
            api.release(h)
            data._pending.pop(h, None)

    def test_chat_lengths_and_window(self):
        # ChatML render of (ab → cd): 25 tokens; the supervised ones are c, d,
        # <|im_end|> at positions 21, 22, 23 (counted by hand below).
        want_ids = ([IM_START] + b("user\nab") + [IM_END] + b("\n") + [IM_START] + b("assistant\ncd") + [IM_END]
                    + b("\n"))
        self.assertEqual(len(want_ids), 25)
        s = {"prompt": "ab", "completion": "cd"}
        for max_length, want in ((64, 3), (24, 3), (23, 2), (22, 1), (21, 0)):
            r = data.tokenize_dataset("d", self.tok_dir, [s], max_length)
            self.assertEqual(r["lengths"], [{"tokens": 25, "supervised_in_window": want}], max_length)
        r = data.register_tokenized("d", [0], 23)
        self.assertEqual(r["num_samples"], 1)
        got = api._datasets["d"][0]
        self.assertEqual(got["input_ids"], want_ids[:23])
        self.assertEqual(got["loss_mask"], [0] * 21 + [1, 1])
        self.assertEqual(r["supervised_tokens"], 2)
        self.assertNotIn("d", data.pending()["handles"])

    def test_t24_reasons_and_keep_order(self):
        # Training case T24: a 40-token prompt with completion " 8." under max
        # length 32 has no supervised token in the window; an empty completion
        # is reported as such. Raw rendering: prompt + completion + eos.
        samples = [
            {"prompt": "x" * 40, "completion": " 8.", "line": 1},
            {"prompt": "q", "completion": "", "line": 2},
            {"prompt": "2+2=", "completion": "4", "line": 3},
        ]
        r = data.tokenize_dataset("raw", self.tok_dir, samples, 32, use_chat_template=False)
        lens = r["lengths"]
        self.assertEqual(lens[0], {"tokens": 44, "supervised_in_window": 0})
        self.assertEqual(lens[1]["error"], "empty_completion")
        self.assertIn("line 2", lens[1]["message"])
        self.assertEqual(lens[2], {"tokens": 6, "supervised_in_window": 2})
        with self.assertRaisesRegex(ValueError, r"keep\[0\]: sample 1"):
            data.register_tokenized("raw", [1], 32)
        with self.assertRaisesRegex(ValueError, r"keep\[1\]: position 7"):
            data.register_tokenized("raw", [2, 7], 32)
        r = data.register_tokenized("raw", [2, 0], 32)
        ds = api._datasets["raw"]
        self.assertEqual(ds[0]["input_ids"], b("2+2=4") + [IM_END])
        self.assertEqual(ds[0]["loss_mask"], [0, 0, 0, 0, 1, 1])
        self.assertEqual(len(ds[1]["input_ids"]), 32)
        # The engine marks the truncated sample as untrainable, as Go's length rule does.
        self.assertEqual(r["invalid"], [{"index": 1, "reason": "no_supervised_tokens"}])

    def test_release_drops_pending(self):
        data.tokenize_dataset("d", self.tok_dir, [{"prompt": "a", "completion": "b"}], 8)
        self.assertEqual(data.release("d"), {"released": ["pending"]})
        self.assertNotIn("d", data.pending()["handles"])
        data.tokenize_dataset("d", self.tok_dir, [{"prompt": "a", "completion": "b"}], 8)
        data.register_tokenized("d", [0], 8)
        self.assertEqual(data.release("d"), {"released": ["dataset"]})
        self.assertEqual(data.release("d"), {"released": []})

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, "max_length"):
            data.tokenize_dataset("d", self.tok_dir, [], 1)
        with self.assertRaisesRegex(KeyError, "nothing tokenized"):
            data.register_tokenized("none", [0], 8)
        with self.assertRaisesRegex(Exception, "tokenizer.json: not found"):
            data.tokenize_dataset("d", os.path.join(self.tok_dir, "missing"), [], 8)


class CorpusTest(unittest.TestCase):
    def test_blocks(self):
        with tempfile.TemporaryDirectory() as d:
            build_byte_level(d)
            path = os.path.join(d, "corpus.txt")
            with open(path, "w") as f:
                f.write("hello\n\n\nworld\n")
            r = data.tokenize_corpus("c", d, path, 5)
            self.assertEqual(r, {"handle": "c", "num_samples": 3, "tokens": 12, "documents": 2})
            ids = b("hello") + [IM_END] + b("world") + [IM_END]
            self.assertEqual([s["input_ids"] for s in api._datasets["c"]], [ids[0:5], ids[5:10], ids[10:12]])
            self.assertEqual(api._datasets["c"][2]["loss_mask"], [1, 1])
            api.release("c")
            with open(path, "wb") as f:
                f.write(b"ok\xff")
            with self.assertRaisesRegex(ValueError, "not UTF-8 at byte 2"):
                data.tokenize_corpus("c", d, path, 5)
            with self.assertRaises(FileNotFoundError):
                data.tokenize_corpus("c", d, os.path.join(d, "nope.txt"), 5)


class ConfigureTrainerTest(unittest.TestCase):
    def test_clip(self):
        with tempfile.TemporaryDirectory() as d:
            api.init_model(d, "tiny", 0)
            api.load_model("m", d)
            api.create_trainer("t", "m")
            try:
                self.assertEqual(api._trainer("t")["trainer"].clip, 1.0)
                self.assertEqual(data.configure_trainer("t", 0.5), {"handle": "t", "clip": 0.5})
                self.assertEqual(api._trainer("t")["trainer"].clip, 0.5)
                data.configure_trainer("t", 0)
                self.assertEqual(api._trainer("t")["trainer"].clip, float("inf"))
                with self.assertRaisesRegex(ValueError, "clip"):
                    data.configure_trainer("t", -1)
            finally:
                api.release("t")
                api.release("m")


if __name__ == "__main__":
    unittest.main()

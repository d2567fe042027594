"""Tests of generate.py: KV cache vs no cache, left padding (T21), stop strings (T23), sampling."""
import os
import tempfile
import unittest

import torch

from wmss_engine import api, generate
from wmss_engine.tests import tiny


class Scripted(torch.nn.Module):
    """A fake model whose call k puts all mass on script[row][k] (the prefill is call 0)."""

    def __init__(self, script, V=8):
        super().__init__()
        self.script, self.V, self.calls = script, V, 0
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, ids, att, cache=None):
        B, T = ids.shape
        z = torch.full((B, T, self.V), -10.0)
        for r in range(B):
            s = self.script[r]
            z[r, -1, s[min(self.calls, len(s) - 1)]] = 10.0
        self.calls += 1
        return z, []


VOCAB = {0: "", 1: "<eos>", 3: "a", 4: "\n", 5: "##", 6: "b"}


def decode(ids):
    return "".join(VOCAB[i] for i in ids)


class StopTest(unittest.TestCase):
    def gen(self, script, n=6, **kw):
        return generate.generate(Scripted(script), [[3], [3, 6]][:len(script)], n,
                                 stop_strings=["\n\n", "#"], decode=decode, **kw)

    def test_T23_length_without_stop(self):
        r = self.gen([[3, 6, 3, 6, 3, 6, 3]])[0]
        self.assertEqual(r, {"tokens": [3, 6, 3, 6, 3, 6], "finish_reason": "length", "stop_reason": None,
                             "text": "ababab"})

    def test_T23_two_newline_tokens(self):
        r = self.gen([[3, 4, 4, 6, 6, 6]])[0]
        self.assertEqual(r["tokens"], [3, 4, 4])  # stops at the token that completes "\n\n"
        self.assertEqual((r["finish_reason"], r["stop_reason"], r["text"]), ("stop", "\n\n", "a"))

    def test_T23_stop_inside_longer_token_batch(self):
        rows = self.gen([[3, 5, 6, 6, 6, 6], [6, 6, 6, 6, 6, 6]])
        self.assertEqual(rows[0], {"tokens": [3, 5], "finish_reason": "stop", "stop_reason": "#", "text": "a"})
        self.assertEqual(rows[1]["tokens"], [6] * 6)  # only the finished row stops
        self.assertEqual(rows[1]["finish_reason"], "length")

    def test_vocab_limit(self):
        r = generate.generate(Scripted([[6, 6, 6]]), [[3]], 3, vocab_limit=6)[0]
        self.assertTrue(all(t < 6 for t in r["tokens"]), r)

    def test_eos_and_errors(self):
        r = generate.generate(Scripted([[3, 3, 1, 3]]), [[3]], 10, eos_token_ids=[1], decode=decode)[0]
        self.assertEqual(r, {"tokens": [3, 3, 1], "finish_reason": "stop", "stop_reason": "eos", "text": "aa"})
        with self.assertRaisesRegex(ValueError, "stop_strings"):
            generate.generate(Scripted([[3]]), [[3]], 2, stop_strings=["x"])
        with self.assertRaisesRegex(ValueError, "prompts"):
            generate.generate(Scripted([[3]]), [[]], 2)
        with self.assertRaisesRegex(ValueError, "max_new_tokens"):
            generate.generate(Scripted([[3]]), [[3]], 0)


class CacheTest(unittest.TestCase):
    def test_kv_cache_equals_no_cache(self):
        m = tiny.model(seed=40, std=0.3, vocab_size=96)
        prompts = [[5, 6, 7], [9, 10, 11, 12, 13, 14, 15, 16, 17], [20]]
        for kw in ({}, {"temperature": 0.8, "top_k": 20, "seed": 3}, {"temperature": 1.0, "top_p": 0.9, "seed": 4}):
            with self.subTest(**kw):
                a = generate.generate(m, prompts, 24, use_cache=True, **kw)
                b = generate.generate(m, prompts, 24, use_cache=False, **kw)
                self.assertEqual([r["tokens"] for r in a], [r["tokens"] for r in b])
                self.assertEqual(len(a[0]["tokens"]), 24)

    def test_T21_batched_left_padding_equals_unbatched(self):
        m = tiny.model(seed=41, std=0.3, vocab_size=96)
        short, long_ = [3, 4, 5], [30, 31, 32, 33, 34, 35, 36, 37, 38]
        batch = generate.generate(m, [short, long_], 8)
        for row, p in zip(batch, (short, long_)):
            alone = generate.generate(m, [p], 8)[0]
            self.assertEqual(row["tokens"], alone["tokens"])
            self.assertEqual(row["finish_reason"], "length")

    def test_sampling_seed_and_filters(self):
        m = tiny.model(seed=42, std=0.3, vocab_size=96)
        p = [[5, 6, 7]]
        run = lambda **kw: generate.generate(m, p, 16, **kw)[0]["tokens"]
        self.assertEqual(run(temperature=1.0, seed=1), run(temperature=1.0, seed=1))
        self.assertNotEqual(run(temperature=1.0, seed=1), run(temperature=1.0, seed=2))
        greedy = run()
        self.assertEqual(run(temperature=1.0, top_k=1, seed=5), greedy)
        self.assertEqual(run(temperature=1.0, top_p=1e-6, seed=5), greedy)

    def test_filter_logits(self):
        z = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
        kept = lambda **kw: torch.isfinite(generate._filter_logits(z, **kw))[0].tolist()
        self.assertEqual(kept(top_k=2, top_p=1.0), [True, True, False, False])
        self.assertEqual(kept(top_k=0, top_p=0.8), [True, True, False, False])  # 0.5 + 0.3 reaches 0.8
        self.assertEqual(kept(top_k=0, top_p=0.81), [True, True, True, False])
        self.assertEqual(kept(top_k=0, top_p=0.4), [True, False, False, False])


class ApiGenerateTest(unittest.TestCase):
    def test_generate_op_with_model_tokenizer(self):
        with tempfile.TemporaryDirectory() as d:
            r = api.init_model(d, "tiny", seed=3, vocab_size=64)
            api.load_model("g", d)
            try:
                if not os.path.isfile(os.path.join(d, "tokenizer.json")):
                    self.skipTest("wmss_engine.tokenizer.build_byte_level is not available yet")
                out = api.generate("g", [[72, 105], [65]], max_new_tokens=5, stop_strings=["\n"])
                self.assertEqual(len(out["completions"]), 2)
                for c in out["completions"]:
                    self.assertIn(c["finish_reason"], ("stop", "length"))
                    self.assertIsInstance(c["text"], str)
                    self.assertLessEqual(len(c["tokens"]), 5)
                with self.assertRaisesRegex(ValueError, r"prompts\[0\]"):
                    api.generate("g", [[r["config"]["vocab_size"]]])
            finally:
                api.release("g")


if __name__ == "__main__":
    unittest.main()

"""Tests of checkpoint.py: safetensors bytes, HF layout round trips, cases T10, T11, T14, T15."""
import json
import logging
import os
import struct
import tempfile
import unittest

import torch

from wmss_engine import checkpoint as ck
from wmss_engine.tests import tiny


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n))


class TmpDirTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()


class SafetensorsTest(TmpDirTest):
    def test_T15_bf16_exact_bits(self):
        path = os.path.join(self.dir, "bf16.safetensors")
        raw = struct.pack("<4H", 0x3F80, 0x47C3, 0xC000, 0x7F80)
        hdr = json.dumps({"w": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 8]}}).encode()
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(hdr)) + hdr + raw)
        t = ck.read_safetensors(path)["w"]
        self.assertEqual(t.dtype, torch.bfloat16)
        self.assertEqual(t.float().tolist(), [1.0, 99840.0, -2.0, float("inf")])
        # Not via float16: 99840 > 65504 would become +Inf there.
        self.assertTrue(torch.isinf(t.float().half()[1]))
        out = os.path.join(self.dir, "back.safetensors")
        ck.write_safetensors(out, {"w": t})
        h = header(out)
        self.assertEqual(h["w"]["dtype"], "BF16")
        with open(out, "rb") as f:
            self.assertEqual(f.read()[-8:], raw)

    def test_dtypes_round_trip_and_offsets(self):
        g = torch.Generator().manual_seed(0)
        ts = {"a.f32": torch.randn(3, 5, generator=g), "b.f16": torch.randn(7, generator=g).half(),
              "c.bf16": torch.randn(2, 3, generator=g).bfloat16(), "d.i64": torch.arange(5),
              "e.empty": torch.zeros(0, 4)}
        path = os.path.join(self.dir, "x.safetensors")
        ck.write_safetensors(path, ts, {"format": "pt"})
        back = ck.read_safetensors(path)
        for k, v in ts.items():
            with self.subTest(tensor=k):
                self.assertEqual(back[k].dtype, v.dtype)
                self.assertTrue(torch.equal(back[k], v))
        h = header(path)
        self.assertEqual(h["__metadata__"], {"format": "pt"})
        pos = 0
        for k in sorted(ts):  # contiguous and ordered
            self.assertEqual(h[k]["data_offsets"][0], pos)
            pos = h[k]["data_offsets"][1]
        self.assertEqual(os.path.getsize(path), 8 + struct.unpack("<Q", read_bytes(path)[:8])[0] + pos)

    def test_corrupt_offsets_are_errors(self):
        path = os.path.join(self.dir, "bad.safetensors")
        hdr = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}}).encode()
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(hdr)) + hdr + b"\0" * 12)
        with self.assertRaisesRegex(ck.CheckpointError, "tensor w has data_offsets"):
            ck.read_safetensors(path)


class ModelFilesTest(TmpDirTest):
    def save(self, m, name="m"):
        d = os.path.join(self.dir, name)
        ck.save_model(m, d)
        return d

    def test_save_load_identical_logits(self):
        ids = torch.tensor([[4, 8, 15, 16, 23, 42]])
        for mt, tie in (("qwen3", True), ("qwen3", False), ("qwen2", False), ("llama", True)):
            with self.subTest(model_type=mt, tie=tie):
                m = tiny.model(tiny.config(mt, tie=tie), seed=6, std=0.1)
                d = self.save(m, mt + str(tie))
                back, warnings = ck.load_model(d)
                self.assertEqual(warnings, [])
                self.assertTrue(torch.equal(back(ids)[0], m(ids)[0]))
                self.assertEqual(back.config.to_dict(), m.config.to_dict())
                self.assertTrue(os.path.isfile(os.path.join(d, "generation_config.json")))

    def test_bf16_save_load(self):
        m = tiny.model(seed=7, std=0.1).to(torch.bfloat16)
        d = self.save(m)
        self.assertEqual(header(os.path.join(d, "model.safetensors"))["model.norm.weight"]["dtype"], "BF16")
        self.assertEqual(read_json(os.path.join(d, "config.json"))["torch_dtype"], "bfloat16")
        back, _ = ck.load_model(d, dtype="bfloat16")
        ids = torch.tensor([[3, 4, 5]])
        self.assertTrue(torch.equal(back(ids)[0], m(ids)[0]))

    def test_T10_tied_weights(self):
        m = tiny.model(tiny.config(vocab_size=32, hidden_size=16, heads=2, kv_heads=1, head_dim=8, tie=True))
        d = self.save(m)
        h = header(os.path.join(d, "model.safetensors"))
        self.assertIn("model.embed_tokens.weight", h)
        self.assertNotIn("lm_head.weight", h)
        back, _ = ck.load_model(d)
        ids = torch.tensor([[1, 2, 3, 4]])
        self.assertTrue(torch.equal(back(ids)[0], m(ids)[0]))
        d2 = self.save(back, "again")  # load → save → reload
        back2, _ = ck.load_model(d2)
        self.assertTrue(torch.equal(back2(ids)[0], m(ids)[0]))
        # Second file: tie=true but a separate, different lm_head.weight is present.
        ts = ck.read_safetensors(os.path.join(d, "model.safetensors"))
        ts["lm_head.weight"] = ts["model.embed_tokens.weight"] + 1.0
        ck.write_safetensors(os.path.join(d, "model.safetensors"), ts)
        with self.assertLogs("wmss_engine", logging.WARNING) as logs:
            back3, warnings = ck.load_model(d)
        self.assertIn("lm_head.weight differs", warnings[0])
        self.assertIn("lm_head.weight differs", logs.output[0])
        self.assertTrue(torch.equal(back3.lm_head.weight, back3.model.embed_tokens.weight))
        self.assertTrue(torch.equal(back3(ids)[0], m(ids)[0]))

    def test_T11_untied_without_lm_head_fails(self):
        m = tiny.model(tie=False)
        d = self.save(m)
        ts = ck.read_safetensors(os.path.join(d, "model.safetensors"))
        del ts["lm_head.weight"]
        # As shards with an index, index and shards agreeing.
        names = sorted(ts)
        half = len(names) // 2
        shards = {"model-00001-of-00002.safetensors": names[:half], "model-00002-of-00002.safetensors": names[half:]}
        os.remove(os.path.join(d, "model.safetensors"))
        for f, ns in shards.items():
            ck.write_safetensors(os.path.join(d, f), {n: ts[n] for n in ns})
        index = {"metadata": {}, "weight_map": {n: f for f, ns in shards.items() for n in ns}}
        with open(os.path.join(d, ck.INDEX), "w") as f:
            json.dump(index, f)
        with self.assertRaisesRegex(ck.CheckpointError, "missing tensor lm_head.weight"):
            ck.load_model(d)
        # Index lists a key its shard does not hold.
        index["weight_map"]["lm_head.weight"] = "model-00001-of-00002.safetensors"
        with open(os.path.join(d, ck.INDEX), "w") as f:
            json.dump(index, f)
        with self.assertRaisesRegex(ck.CheckpointError, "index lists lm_head.weight"):
            ck.load_model(d)
        # A shard holds a key the index maps elsewhere.
        del index["weight_map"]["lm_head.weight"]
        index["weight_map"][names[0]] = "model-00002-of-00002.safetensors"
        with open(os.path.join(d, ck.INDEX), "w") as f:
            json.dump(index, f)
        with self.assertRaisesRegex(ck.CheckpointError, "tensor %s is in" % names[0]):
            ck.load_model(d)

    def test_sharded_read_equals_single(self):
        m = tiny.model(seed=8, std=0.1)
        d = self.save(m)
        ts = ck.read_safetensors(os.path.join(d, "model.safetensors"))
        names = sorted(ts)
        os.remove(os.path.join(d, "model.safetensors"))
        wm = {}
        for i, part in enumerate((names[:5], names[5:])):
            f = "model-%05d-of-00002.safetensors" % (i + 1)
            ck.write_safetensors(os.path.join(d, f), {n: ts[n] for n in part})
            wm.update({n: f for n in part})
        with open(os.path.join(d, ck.INDEX), "w") as f:
            json.dump({"weight_map": wm}, f)
        back, _ = ck.load_model(d)
        ids = torch.tensor([[9, 8, 7]])
        self.assertTrue(torch.equal(back(ids)[0], m(ids)[0]))

    def test_T14_qk_norm_saved_and_required(self):
        m = tiny.model()
        d = self.save(m)
        h = header(os.path.join(d, "model.safetensors"))
        self.assertEqual(sorted(k for k in h if "_norm" in k and "self_attn" in k), [
            "model.layers.0.self_attn.k_norm.weight", "model.layers.0.self_attn.q_norm.weight",
            "model.layers.1.self_attn.k_norm.weight", "model.layers.1.self_attn.q_norm.weight"])
        ts = ck.read_safetensors(os.path.join(d, "model.safetensors"))
        del ts["model.layers.1.self_attn.k_norm.weight"]
        ck.write_safetensors(os.path.join(d, "model.safetensors"), ts)
        with self.assertRaisesRegex(ck.CheckpointError, "missing tensor model.layers.1.self_attn.k_norm.weight"):
            ck.load_model(d)

    def test_unexpected_and_shape_errors(self):
        m = tiny.model()
        d = self.save(m)
        ts = ck.read_safetensors(os.path.join(d, "model.safetensors"))
        ts["model.layers.0.self_attn.q_proj.bias"] = torch.zeros(64)
        ck.write_safetensors(os.path.join(d, "model.safetensors"), ts)
        with self.assertRaisesRegex(ck.CheckpointError, "unexpected tensor model.layers.0.self_attn.q_proj.bias"):
            ck.load_model(d)
        del ts["model.layers.0.self_attn.q_proj.bias"]
        ts["model.norm.weight"] = torch.ones(31)
        ck.write_safetensors(os.path.join(d, "model.safetensors"), ts)
        with self.assertRaisesRegex(ck.CheckpointError, r"model.norm.weight has shape \[31\]"):
            ck.load_model(d)
        with self.assertRaisesRegex(ck.CheckpointError, "config.json: not found"):
            ck.load_model(os.path.join(self.dir, "nowhere"))


class InitModelTest(TmpDirTest):
    def test_sizes_and_seed(self):
        for size, lo, hi in (("tiny", 1e6, 3e6), ("small", 10e6, 30e6)):
            with self.subTest(size=size):
                r = ck.init_model(os.path.join(self.dir, size), size, seed=1, vocab_size=300)
                self.assertGreaterEqual(r["num_parameters"], lo)
                self.assertLessEqual(r["num_parameters"], hi)
                self.assertEqual(r["config"]["vocab_size"], 320)  # rounded up to a multiple of 64
        a, b, c = (os.path.join(self.dir, n) for n in "abc")
        ck.init_model(a, "tiny", seed=5, vocab_size=100)
        ck.init_model(b, "tiny", seed=5, vocab_size=100)
        ck.init_model(c, "tiny", seed=6, vocab_size=100)
        read = lambda d: read_bytes(os.path.join(d, "model.safetensors"))
        self.assertEqual(read(a), read(b))
        self.assertNotEqual(read(a), read(c))
        m, _ = ck.load_model(a)
        self.assertEqual(m.config.num_hidden_layers, 6)

    def test_tokenizer_dir_copied(self):
        src = os.path.join(self.dir, "tok")
        os.makedirs(src)
        vocab = {chr(97 + i): i for i in range(26)}
        tok = {"model": {"type": "BPE", "vocab": vocab, "merges": []},
               "added_tokens": [{"id": 26, "content": "<|endoftext|>", "special": True},
                                {"id": 27, "content": "<|im_end|>", "special": True}]}
        write_json(os.path.join(src, "tokenizer.json"), tok)
        write_json(os.path.join(src, "tokenizer_config.json"), {"eos_token": "<|im_end|>"})
        out = os.path.join(self.dir, "m")
        r = ck.init_model(out, "tiny", seed=0, tokenizer_dir=src)
        self.assertEqual(r["config"]["vocab_size"], 64)
        self.assertEqual(r["config"]["eos_token_id"], 27)
        self.assertEqual(r["config"]["pad_token_id"], 26)
        self.assertEqual(read_json(os.path.join(out, "tokenizer.json")), tok)
        self.assertEqual(read_json(os.path.join(out, "generation_config.json"))["eos_token_id"], 27)
        with self.assertRaisesRegex(ck.CheckpointError, "tokenizer_dir"):
            ck.init_model(os.path.join(self.dir, "x"), "tiny", tokenizer_dir=os.path.join(self.dir, "none"))


if __name__ == "__main__":
    unittest.main()

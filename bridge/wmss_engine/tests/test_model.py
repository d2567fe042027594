"""Tests of model.py: the decoder against an independent per-head reference, RoPE config (T13), masks, cache."""
import logging
import math
import unittest

import torch

from wmss_engine import model as modellib
from wmss_engine.tests import tiny


def reference_forward(m, ids):
    """Logits of m for one unpadded row ids (T,), written out head by head in float64.

    Independent of model.py's code paths: RoPE via complex rotation of the
    pairs (i, i + hd/2), attention by an explicit loop over heads with kv
    head h // (nh / nkv), causal softmax by a plain lower-triangular mask.
    """
    cfg = m.config
    sd = {k: v.double() for k, v in m.state_dict().items()}
    T, hd, nh, nkv = ids.shape[0], cfg.head_dim, cfg.num_attention_heads, cfg.num_key_value_heads

    def rms(x, w):
        return x / torch.sqrt((x * x).mean(-1, keepdim=True) + cfg.rms_norm_eps) * w

    def lin(x, name):
        y = x @ sd[name + ".weight"].T
        return y + sd[name + ".bias"] if name + ".bias" in sd else y

    pos = torch.arange(T, dtype=torch.float64)
    freq = cfg.rope_theta ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    rot = torch.polar(torch.ones(T, hd // 2, dtype=torch.float64), pos[:, None] * freq)  # (T, hd/2)

    def rope(x):  # x (T, hd): pair i is (x[i], x[i + hd/2])
        c = torch.complex(x[:, :hd // 2], x[:, hd // 2:]) * rot
        return torch.cat((c.real, c.imag), -1)

    x = sd["model.embed_tokens.weight"][ids]
    for L in range(cfg.num_hidden_layers):
        p = "model.layers.%d." % L
        h = rms(x, sd[p + "input_layernorm.weight"])
        q = lin(h, p + "self_attn.q_proj").view(T, nh, hd)
        k = lin(h, p + "self_attn.k_proj").view(T, nkv, hd)
        v = lin(h, p + "self_attn.v_proj").view(T, nkv, hd)
        heads = []
        for j in range(nh):
            g = j // (nh // nkv)
            qj, kj = q[:, j], k[:, g]
            if cfg.qk_norm:
                qj, kj = rms(qj, sd[p + "self_attn.q_norm.weight"]), rms(kj, sd[p + "self_attn.k_norm.weight"])
            s = rope(qj) @ rope(kj).T / math.sqrt(hd)
            s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
            heads.append(torch.softmax(s, -1) @ v[:, g])
        x = x + lin(torch.cat(heads, -1), p + "self_attn.o_proj")
        h = rms(x, sd[p + "post_attention_layernorm.weight"])
        a = lin(h, p + "mlp.gate_proj")
        x = x + lin(a * torch.sigmoid(a) * lin(h, p + "mlp.up_proj"), p + "mlp.down_proj")
    w = sd["lm_head.weight"] if "lm_head.weight" in sd else sd["model.embed_tokens.weight"]
    return rms(x, sd["model.norm.weight"]) @ w.T


class ForwardTest(unittest.TestCase):
    def test_variants_match_reference(self):
        ids = torch.tensor([5, 9, 17, 3, 40, 22, 8])
        for mt, kw in [("qwen3", {}), ("qwen2", {}), ("llama", {"attention_bias": True}),
                       ("qwen3", {"tie": False}), ("qwen3", {"kv_heads": 4}), ("qwen3", {"kv_heads": 1})]:
            with self.subTest(model_type=mt, **kw):
                m = tiny.model(tiny.config(mt, **kw), seed=1, std=0.2)
                if mt != "qwen3" or kw.get("attention_bias"):
                    with torch.no_grad():  # non-zero biases, so their use is tested
                        for n, p in m.named_parameters():
                            if n.endswith(".bias"):
                                p.copy_(torch.randn(p.shape) * 0.3)
                got, _ = m(ids[None])
                want = reference_forward(m, ids)
                torch.testing.assert_close(got[0].double(), want, atol=1e-5, rtol=1e-5)

    def test_parameter_layout_per_variant(self):
        names = lambda mt, **kw: set(dict(tiny.model(tiny.config(mt, **kw)).state_dict()))
        q3 = names("qwen3")
        self.assertIn("model.layers.1.self_attn.q_norm.weight", q3)
        self.assertIn("model.layers.1.self_attn.k_norm.weight", q3)
        self.assertFalse(any(n.endswith(".bias") for n in q3))
        q2 = names("qwen2")
        self.assertIn("model.layers.0.self_attn.q_proj.bias", q2)
        self.assertNotIn("model.layers.0.self_attn.o_proj.bias", q2)
        self.assertFalse(any("q_norm" in n for n in q2))
        ll = names("llama")
        self.assertFalse(any("q_norm" in n or n.endswith(".bias") for n in ll))

    def test_tied_head_is_embedding(self):
        m = tiny.model(tie=True)
        self.assertIs(m.lm_head.weight, m.model.embed_tokens.weight)
        m2 = tiny.model(tie=False)
        self.assertIsNot(m2.lm_head.weight, m2.model.embed_tokens.weight)

    def test_T21_left_padding_positions(self):
        # A left-padded row gives the same logits on its tokens as the row alone.
        m = tiny.model(seed=2, std=0.2)
        short, long_ = [7, 8, 9], [11, 12, 13, 14, 15, 16, 17, 18, 19]
        ids = torch.tensor([[0] * 6 + short, long_])
        att = torch.tensor([[0] * 6 + [1] * 3, [1] * 9])
        self.assertEqual(modellib.position_ids_from_mask(att)[0].tolist(), [0] * 7 + [1, 2])
        got, _ = m(ids, att)
        alone, _ = m(torch.tensor([short]))
        torch.testing.assert_close(got[0, 6:], alone[0], atol=1e-5, rtol=1e-5)
        alone, _ = m(torch.tensor([long_]))
        torch.testing.assert_close(got[1], alone[0], atol=1e-5, rtol=1e-5)
        self.assertTrue(torch.isfinite(got).all(), "padding rows must not produce NaN")

    def test_kv_cache_matches_full_forward(self):
        m = tiny.model(seed=3, std=0.2)
        ids = torch.tensor([[0, 0, 5, 6, 7, 8, 9, 10], [1, 2, 3, 4, 5, 6, 7, 8]])
        att = torch.tensor([[0, 0, 1, 1, 1, 1, 1, 1], [1] * 8])
        full, _ = m(ids, att)
        a, cache = m(ids[:, :5], att[:, :5])
        b, cache = m(ids[:, 5:7], att[:, :7], cache=cache)
        c, cache = m(ids[:, 7:], att, cache=cache)
        torch.testing.assert_close(torch.cat((a, b, c), 1), full, atol=1e-5, rtol=1e-5)
        self.assertEqual(cache[0][0].shape, (2, 2, 8, 16))  # (B, nkv, S, hd)

    def test_attention_bias_equals_bool_mask(self):
        # Model.forward hands the layers a 0/−inf float bias on the masked-softmax path; it must give
        # the very values (and gradients) of the bool mask it was built from, padding included.
        m = tiny.model(seed=4, std=0.2)
        attn = m.model.layers[0].self_attn
        g = torch.Generator().manual_seed(5)
        x = torch.randn(2, 6, 32, generator=g)
        att_mask = torch.tensor([[0, 0, 1, 1, 1, 1], [1] * 6])
        cos, sin = modellib.rope_cos_sin(modellib.position_ids_from_mask(att_mask), m.inv_freq, x.dtype)
        causal = torch.ones(6, 6, dtype=torch.bool).tril()
        mask = (causal[None] & att_mask.bool()[:, None, :]) | torch.eye(6, dtype=torch.bool)[None]
        mask = mask[:, None]  # (B, 1, T, S)
        bias = torch.zeros(mask.shape).masked_fill_(~mask, float("-inf"))
        outs = []
        for mk in (mask, bias):
            xi = x.clone().requires_grad_()
            y, _ = attn(xi, cos, sin, mk)
            attn.zero_grad()
            (y * torch.arange(32.0)).sum().backward()
            outs.append((y.detach(), xi.grad, attn.q_proj.weight.grad.clone()))
        if not modellib._HAS_SDPA:
            for a, b in zip(*outs):
                self.assertTrue(torch.equal(a, b))
        else:  # SDPA takes either mask kind; its kernels may round differently
            for a, b in zip(*outs):
                torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)
        # And against a plain per-row reference: row 0's two padding keys get no weight.
        y0, _ = attn(x[:1, 2:], cos[:1, 2:], sin[:1, 2:], torch.ones(1, 1, 4, 4, dtype=torch.bool).tril())
        torch.testing.assert_close(outs[1][0][0, 2:], y0[0], atol=1e-6, rtol=1e-6)

    def test_bf16_runs_and_norm_in_fp32(self):
        m = tiny.model(seed=4, std=0.2)
        ids = torch.tensor([[3, 4, 5, 6]])
        ref, _ = m(ids)
        lo, _ = m.to(torch.bfloat16)(ids)
        self.assertEqual(lo.dtype, torch.bfloat16)
        self.assertLess((lo.float() - ref).abs().max().item(), 0.1)
        x = torch.full((1, 4), 300.0, dtype=torch.float16)  # x² overflows fp16, not fp32
        y = modellib.RMSNorm(4)(x)
        self.assertTrue(torch.isfinite(y).all())
        torch.testing.assert_close(y.float(), torch.ones(1, 4), atol=1e-3, rtol=0)


class RopeConfigTest(unittest.TestCase):
    """Case T13: where the RoPE base comes from."""
    base = {"model_type": "qwen3", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 64,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16}

    def test_T13_rope_theta_sources(self):
        a = dict(self.base, rope_theta=1000000)
        b = dict(self.base, rope_parameters={"rope_type": "default", "rope_theta": 1000000})
        for name, d in (("A", a), ("B", b)):
            with self.subTest(config=name):
                cfg = modellib.Config.from_dict(d)
                self.assertEqual(cfg.rope_theta, 1e6)
                inv = modellib.Model(cfg).inv_freq
                self.assertAlmostEqual(inv[1].item(), 1e6 ** (-2 / 16), delta=1e-8)  # float32
                self.assertEqual(cfg.to_dict()["rope_theta"], 1e6)
                self.assertEqual(cfg.to_dict()["rope_parameters"]["rope_theta"], 1e6)
        c = dict(a, rope_parameters={"rope_type": "default", "rope_theta": 10000})
        with self.assertRaisesRegex(modellib.ConfigError, "rope_theta"):
            modellib.Config.from_dict(c)
        warnings = []
        with self.assertLogs("wmss_engine", logging.WARNING):
            cfg = modellib.Config.from_dict(dict(self.base), warnings)
        self.assertEqual(cfg.rope_theta, modellib.DEFAULT_ROPE_THETA["qwen3"])
        self.assertEqual(len(warnings), 1)
        self.assertEqual(cfg.to_dict()["rope_theta"], cfg.rope_theta)

    def test_config_errors_name_field(self):
        for d, field in ((dict(self.base, model_type="gpt2"), "model_type"),
                         (dict(self.base, num_key_value_heads=3), "num_key_value_heads"),
                         (dict(self.base, rope_scaling={"rope_type": "yarn", "factor": 4}), "rope_scaling"),
                         (dict(self.base, use_sliding_window=True), "use_sliding_window")):
            with self.subTest(field=field), self.assertRaisesRegex(modellib.ConfigError, field):
                modellib.Config.from_dict(d)


@unittest.skipUnless(modellib.transformers_available(),
                     "transformers is not importable here (CPU machine); the parity check runs where it is")
class TransformersParityTest(unittest.TestCase):
    def test_native_equals_transformers_qwen3_fp32(self):
        import transformers
        torch.manual_seed(0)
        for mt in ("qwen3", "qwen2", "llama"):
            with self.subTest(model_type=mt):
                m = tiny.model(tiny.config(mt), seed=5, std=0.2)
                hf = modellib.HFModel.from_config(m.config)
                missing, unexpected = hf.load_state_dict(m.state_dict(), strict=False)
                self.assertEqual([k for k in missing if "lm_head" not in k], [])
                ids = torch.randint(0, 64, (2, 12))
                att = torch.ones_like(ids)
                att[0, :4] = 0
                want, _ = m(ids, att)
                got, _ = hf(ids, att)
                diff = (got[att.bool()] - want[att.bool()]).abs().max().item()
                self.assertLess(diff, 1e-4, "transformers %s: max abs diff %g" % (transformers.__version__, diff))


if __name__ == "__main__":
    unittest.main()

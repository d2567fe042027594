"""Tests of ops.py: entropy (T27), shifted positions (T20), masking by position (T17), logit statistics."""
import math
import unittest

import torch

from wmss_engine import ops, train
from wmss_engine.tests import tiny


class EntropyTest(unittest.TestCase):
    def test_T27_entropy_never_nan(self):
        z = torch.tensor([1.0, 1.0, 1.0, float("-inf")], requires_grad=True)
        h = ops.entropy(z)
        self.assertAlmostEqual(h.item(), 1.0986123, places=6)
        ref = torch.distributions.Categorical(logits=z.detach()).entropy().item()
        self.assertAlmostEqual(h.item(), ref, delta=1e-6)
        h.backward()
        self.assertTrue(torch.isfinite(z.grad).all(), z.grad)
        for dtype in (torch.float16, torch.bfloat16):
            with self.subTest(dtype=dtype):
                z2 = torch.tensor([60000.0, -60000.0], dtype=dtype, requires_grad=True)
                h2 = ops.entropy(z2)
                self.assertEqual(h2.dtype, torch.float32)
                self.assertEqual(h2.item(), 0.0)
                ref = torch.distributions.Categorical(logits=z2.detach().float()).entropy().item()
                self.assertAlmostEqual(h2.item(), ref, delta=1e-6)
                h2.backward()
                self.assertTrue(torch.isfinite(z2.grad.float()).all())

    def test_entropy_matches_definition(self):
        z = torch.randn(5, 7, dtype=torch.float64)
        p = torch.softmax(z, -1)
        torch.testing.assert_close(ops.entropy(z).double(), -(p * p.log()).sum(-1), atol=1e-6, rtol=0)

    def test_T27_nonfinite_names_sample(self):
        z = torch.zeros(2, 3, 5)
        z[1, 0, 2] = float("nan")
        ids = torch.zeros(2, 3, dtype=torch.long)
        mask = torch.ones(2, 3, dtype=torch.long)
        with self.assertRaisesRegex(ops.NonFiniteError, "sample 7"):
            ops.sample_entropy(z, ids, mask, sample_ids=[4, 7])

    def test_T20_sample_entropy_uses_shifted_positions(self):
        # ids [10, 11, 12, 13], mask [0, 1, 1, 1]: logits 0..2 predict tokens 1..3. Logits 0..2 are
        # one-hot-peaked (entropy ≈ 0); logit 3 (predicts nothing) is uniform. Shifted: ≈ 0; the
        # authors' unshifted positions 1..3 would give ≈ ln(V)/3.
        V = 16
        z = torch.zeros(1, 4, V)
        for t, nxt in enumerate([11, 12, 13]):
            z[0, t, nxt] = 100.0
        ids = torch.tensor([[10, 11, 12, 13]])
        h = ops.sample_entropy(z, ids, torch.tensor([[0, 1, 1, 1]]))
        self.assertLess(h[0], 1e-6)
        self.assertEqual(ops.sample_entropy(z, ids, torch.tensor([[1, 0, 0, 0]])), [None])
        # Mean over positions: make position 1 uniform too.
        z[0, 1] = 0.0
        h = ops.sample_entropy(z, ids, torch.tensor([[0, 1, 1, 1]]))
        self.assertAlmostEqual(h[0], math.log(V) / 3, places=5)

    def test_T20_loss_pairs(self):
        ids = torch.tensor([[10, 11, 12, 13]])
        mask = torch.ones(1, 4, dtype=torch.long)
        V = 20
        oracle = torch.full((1, 4, V), -50.0)
        for t in range(3):
            oracle[0, t, ids[0, t + 1]] = 50.0
        z, y, m = ops.shift(oracle, ids, mask)
        self.assertEqual(y[m].tolist(), [11, 12, 13])
        self.assertLess(train.mixed_loss(z, None, y, 1.0, m).item(), 1e-6)
        two = torch.full((1, 4, V), -50.0)  # one-hot on the token two places ahead
        for t in range(2):
            two[0, t, ids[0, t + 2]] = 50.0
        z2, y2, m2 = ops.shift(two, ids, mask)
        self.assertGreater(train.mixed_loss(z2, None, y2, 1.0, m2).item(), 50.0)

    def test_T17_mask_by_position_not_token(self):
        EOS = 2  # pad id = EOS id, the common shortcut
        a = {"input_ids": [1, 5, 7, 8, EOS], "loss_mask": [0, 0, 1, 1, 1]}  # answer of 3 tokens
        b = {"input_ids": [1, 5, 7, 8, 9, 10, EOS], "loss_mask": [0, 0, 1, 1, 1, 1, 1]}  # 5 tokens
        ids, att, lm = train.collate([a, b], pad_id=EOS)
        self.assertEqual(ids[0].tolist(), [1, 5, 7, 8, EOS, EOS, EOS])
        self.assertEqual(lm[0].tolist(), [0, 0, 1, 1, 1, 0, 0])  # only padding positions are masked
        self.assertEqual(att[0].tolist(), [1, 1, 1, 1, 1, 0, 0])
        _, y, m = ops.shift(torch.zeros(2, 7, 16), ids, lm)
        self.assertEqual(y[0][m[0]].tolist(), [7, 8, EOS])
        self.assertEqual(y[1][m[1]].tolist(), [7, 8, 9, 10, EOS])


class LogitStatsTest(unittest.TestCase):
    def test_toy_vector_stats(self):
        z_s = torch.tensor([[8.0, 2, 1, 0, -1]])
        z_w = torch.tensor([[4.0, 3, 0.5, 0, -0.5]])
        st = ops.logit_stats(z_s, torch.tensor([0]), z_w, 0.5)
        self.assertAlmostEqual(st["target_logit"], 8.0)
        self.assertAlmostEqual(st["mean_nontarget_logit"], 0.5)
        self.assertAlmostEqual(st["logit_gap"], 7.5)
        self.assertAlmostEqual(st["negative_mass_strong"], 0.00383, places=5)  # fact 8
        self.assertAlmostEqual(st["negative_mass_mixed"], 0.03762, places=5)
        # every k ≠ y is a hard negative here (weak margins 1, 3.5, 4, 4.5 < strong 6, 7, 8, 9)
        self.assertAlmostEqual(st["hard_negative_mass_mixed"], st["negative_mass_mixed"], places=6)
        self.assertEqual(ops.logit_stats(torch.zeros(0, 5), torch.zeros(0, dtype=torch.long)), {})

    def test_hard_negative_definition(self):
        z_s = torch.tensor([[3.0, 1.0, 2.0]])
        z_w = torch.tensor([[3.0, 2.0, 0.0]])  # k=1: weak margin 1 < strong 2 (hard); k=2: 3 > 1 (not)
        st = ops.logit_stats(z_s, torch.tensor([0]), z_w, 0.5)
        p_mix = torch.softmax(0.5 * z_s + 0.5 * z_w, -1)[0]
        self.assertAlmostEqual(st["hard_negative_mass_mixed"], p_mix[1].item(), places=6)


if __name__ == "__main__":
    unittest.main()

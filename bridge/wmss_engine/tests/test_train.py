"""Tests of train.py: the ten facts of docs/wmss-method.md, steps, resume, case T24, learning on GSM8K."""
import copy
import json
import math
import os
import tempfile
import unittest

import torch

from wmss_engine import api, checkpoint, ops, train
from wmss_engine.tests import tiny

# Fact 8's toy vector (y = 0, λ = 0.5).
Z_S = torch.tensor([8.0, 2, 1, 0, -1], dtype=torch.float64)
Z_W = torch.tensor([4.0, 3, 0.5, 0, -0.5], dtype=torch.float64)
Y0 = torch.tensor([0])
ALL = torch.tensor([True])


def ce(z, y=0):
    return -torch.log_softmax(z, -1)[y]


def margins(z, y=0):
    return z[y] - z


def random_pair(seed, V=11):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(V, generator=g, dtype=torch.float64) * 3, torch.randn(V, generator=g, dtype=torch.float64) * 3


class FactsTest(unittest.TestCase):
    """docs/wmss-method.md, "Facts a faithful implementation satisfies"."""

    def test_fact01_lambda_endpoints(self):
        z_s, z_w = random_pair(1)
        for lam, want in ((1.0, z_s), (0.0, z_w)):
            a = z_s.clone().float().requires_grad_()
            b = z_w.clone().float().requires_grad_()
            loss = train.mixed_loss(a[None], b[None], Y0, lam, ALL)
            ref_in = want.clone().float().requires_grad_()
            ref = train.mixed_loss(ref_in[None], None, Y0, 1.0, ALL)
            self.assertEqual(loss.item(), ref.item())  # bit-exact
            loss.backward()
            ref.backward()
            self.assertTrue(torch.equal((a if lam == 1.0 else b).grad, ref_in.grad))
            self.assertTrue(torch.equal((b if lam == 1.0 else a).grad, torch.zeros(11)))

    def test_fact02_weak_shift_invariance(self):
        z_s, z_w = random_pair(2)
        base = train.mixed_loss(z_s[None], z_w[None], Y0, 0.5, ALL).item()
        for c in (-7.0, 0.3, 100.0):
            self.assertAlmostEqual(train.mixed_loss(z_s[None], (z_w + c)[None], Y0, 0.5, ALL).item(), base, places=4)
        const = torch.full((5,), 2.5, dtype=torch.float64)
        got = train.mixed_loss(Z_S[None], const[None], Y0, 0.5, ALL).item()
        self.assertAlmostEqual(got, ce(0.5 * Z_S).item(), places=6)
        self.assertAlmostEqual(got, 0.1038275, places=6)

    def test_fact03_gradients(self):
        for seed, lam in ((3, 0.5), (4, 0.3), (5, 0.9)):
            with self.subTest(seed=seed, lam=lam):
                z_s, z_w = random_pair(seed)
                a, b = z_s.clone().requires_grad_(), z_w.clone().requires_grad_()
                train.mixed_loss(a[None], b[None], Y0, lam, ALL).backward()
                p_mix = torch.softmax(lam * z_s + (1 - lam) * z_w, -1)
                e_y = torch.zeros(11, dtype=torch.float64)
                e_y[0] = 1
                # mixed_loss runs the softmax in float32, hence 1e-6.
                torch.testing.assert_close(a.grad, lam * (p_mix - e_y), atol=1e-6, rtol=0)
                torch.testing.assert_close(b.grad, (1 - lam) * (p_mix - e_y), atol=1e-6, rtol=0)
                # Finite differences on the float64 formula, independent of autograd.
                f = lambda s, w: ce(lam * s + (1 - lam) * w).item()
                eps = 1e-6
                for k in range(11):
                    d = torch.zeros(11, dtype=torch.float64)
                    d[k] = eps
                    fd_s = (f(z_s + d, z_w) - f(z_s - d, z_w)) / (2 * eps)
                    fd_w = (f(z_s, z_w + d) - f(z_s, z_w - d)) / (2 * eps)
                    self.assertAlmostEqual(fd_s, a.grad[k].item(), delta=2e-6)
                    self.assertAlmostEqual(fd_w, b.grad[k].item(), delta=2e-6)

    def test_fact04_margins_mix_linearly(self):
        for lam in (0.0, 0.42, 0.5, 1.0):
            z_s, z_w = random_pair(6)
            got = margins(lam * z_s + (1 - lam) * z_w)
            torch.testing.assert_close(got, (1 - lam) * margins(z_w) + lam * margins(z_s), atol=1e-12, rtol=0)

    def test_fact05_hard_negatives_raise_negative_mass(self):
        g = torch.Generator().manual_seed(7)
        for trial in range(200):
            z_s = torch.randn(9, generator=g, dtype=torch.float64) * 4
            d = torch.rand(9, generator=g, dtype=torch.float64) * 3
            d[0] = d.min() - torch.rand(1, generator=g, dtype=torch.float64).item()  # d_k ≥ d_y
            z_w = z_s + d  # m_k(z_w) = m_k(z_s) + d_y − d_k ≤ m_k(z_s)
            self.assertTrue((margins(z_w)[1:] <= margins(z_s)[1:]).all())
            lam = torch.rand(1, generator=g).item()
            st = ops.logit_stats(z_s[None], Y0, z_w[None], lam)
            self.assertLessEqual(st["negative_mass_strong"], st["negative_mass_mixed"] + 1e-7)

    def test_fact06_hard_negative_ratio(self):
        for seed, lam in ((8, 0.5), (9, 0.25)):
            z_s, z_w = random_pair(seed)
            p_s = torch.softmax(z_s, -1)
            p_mix = torch.softmax(lam * z_s + (1 - lam) * z_w, -1)
            dm = margins(z_s) - margins(z_w)
            hard = [k for k in range(1, 11) if dm[k] > 0]
            self.assertTrue(hard)
            for k in hard:
                want = (p_mix[0] / p_s[0]) * math.exp((1 - lam) * dm[k].item())
                self.assertAlmostEqual((p_mix[k] / p_s[k]).item(), want.item(), delta=1e-9 * want.item())

    def test_fact07_product_of_experts(self):
        for seed, lam in ((10, 0.5), (11, 0.7)):
            z_s, z_w = random_pair(seed)
            p_s, p_w = torch.softmax(z_s, -1), torch.softmax(z_w, -1)
            last = torch.log((p_w ** (1 - lam) * p_s ** lam).sum()).item()
            self.assertLessEqual(last, 0.0)
            want = (1 - lam) * ce(z_w).item() + lam * ce(z_s).item() + last
            got = train.mixed_loss(z_s[None], z_w[None], Y0, lam, ALL).item()
            self.assertAlmostEqual(got, want, delta=1e-6)

    def test_fact08_toy_vector(self):
        p_mix = torch.softmax(0.5 * Z_S + 0.5 * Z_W, -1)
        for got, want in zip(p_mix.tolist(), [0.96238, 0.02906, 0.00505, 0.00239, 0.00113]):
            self.assertAlmostEqual(got, want, places=5)
        p_s = torch.softmax(Z_S, -1)
        self.assertAlmostEqual(1 - p_mix[0].item(), 0.03762, places=5)
        self.assertAlmostEqual(1 - p_s[0].item(), 0.00383, places=5)
        for got, want in zip((p_mix[1:] / p_s[1:]).tolist(), [11.769, 5.559, 7.138, 9.166]):
            self.assertAlmostEqual(got, want, places=3)
        a = Z_S.clone().float().requires_grad_()
        loss = train.mixed_loss(a[None], Z_W.float()[None], Y0, 0.5, ALL)
        self.assertAlmostEqual(loss.item(), 0.0383497, places=6)
        loss.backward()
        for got, want in zip(a.grad.tolist(), [-0.01881, 0.01453, 0.00253, 0.00119, 0.00056]):
            self.assertAlmostEqual(got, want, places=5)
        self.assertAlmostEqual(train.mixed_loss(Z_S.float()[None], None, Y0, 1.0, ALL).item(), 0.0038421, places=6)

    def test_fact09_entropies_feed_weights_deterministically(self):
        # The weights and the seeded draw are computed in Go (training/curriculum.go, resample.go)
        # and tested there. The engine's share: entropies in [0, ln V], identical on every call and
        # for any batch composition, so the same seed gives the same weights and indices.
        m = tiny.model(seed=12, std=0.3)
        samples = tiny.random_samples(9, 64, seed=12)
        a = train.entropies(m, samples, batch_size=4)
        b = train.entropies(m, samples[::-1], batch_size=2)[::-1]
        c = train.entropies(m, samples, batch_size=9)
        self.assertEqual(a, train.entropies(m, samples, batch_size=4))
        for x, y, z in zip(a, b, c):
            self.assertGreaterEqual(x, 0.0)
            self.assertLessEqual(x, math.log(64) + 1e-6)
            self.assertAlmostEqual(x, y, delta=1e-6)
            self.assertAlmostEqual(x, z, delta=1e-6)
        # Direct check of one value: mean entropy over the sample's shifted completion positions.
        s = samples[0]
        z, _ = m(torch.tensor([s["input_ids"]]))
        pos = [t for t in range(len(s["input_ids"]) - 1) if s["loss_mask"][t + 1]]
        want = sum(ops.entropy(z[0, t]).item() for t in pos) / len(pos)
        self.assertAlmostEqual(a[0], want, delta=1e-6)

    def test_fact10_extracted_strong_equals_branch(self):
        with tempfile.TemporaryDirectory() as d:
            strong, weak = tiny.model(seed=13, std=0.1), tiny.model(seed=14, std=0.1)
            tr = train.Trainer(strong, weak, "trained")
            samples = tiny.random_samples(4, 64, seed=13)
            for _ in range(3):
                tr.step([samples], lr=1e-2, lam=0.5)
            checkpoint.save_model(tr.strong, d)
            plain, _ = checkpoint.load_model(d)
            ids = torch.tensor([samples[0]["input_ids"]])
            self.assertTrue(torch.equal(plain(ids)[0], tr.strong(ids)[0]))
            self.assertEqual(plain.config.to_dict()["architectures"], ["Qwen3ForCausalLM"])


class StepTest(unittest.TestCase):
    def setUp(self):
        self.samples = tiny.random_samples(6, 64, seed=20)

    def pair(self):
        return tiny.model(seed=21, std=0.1), tiny.model(seed=22, std=0.1)

    def test_lambda1_joint_equals_sft_bit_exact(self):
        strong, weak = self.pair()
        s1, s2 = copy.deepcopy(strong), copy.deepcopy(strong)
        sft = train.Trainer(s1)
        joint = train.Trainer(s2, copy.deepcopy(weak), "trained")
        for step in range(3):
            a = sft.step([self.samples[:3], self.samples[3:]], lr=1e-2)
            b = joint.step([self.samples[:3], self.samples[3:]], lr=1e-2, lam=1.0)
            self.assertEqual(a["loss"], b["loss"], "step %d" % step)
            for (n, p), q in zip(s1.named_parameters(), s2.parameters()):
                self.assertTrue(torch.equal(p.grad, q.grad), "grad of %s at step %d" % (n, step))
                self.assertTrue(torch.equal(p, q), "%s after step %d" % (n, step))

    def test_step_stats_equal_logit_stats_of_the_step(self):
        # Trainer.step reuses the loss's mixture and supervised rows for the statistics; they must be
        # exactly ops.logit_stats of the logits before the update, token-weighted over micro-batches.
        strong, weak = self.pair()
        mbs = [self.samples[:3], self.samples[3:]]
        for mode in ("trained", "frozen"):
            with self.subTest(mode=mode):
                s, w = copy.deepcopy(strong), copy.deepcopy(weak)
                sums, n = {}, 0
                with torch.no_grad():
                    for mb in mbs:
                        ids, att, lm = train.collate(mb)
                        z_s, y, m = ops.shift(s(ids, att)[0], ids, lm)
                        z_w = w(ids, att)[0][:, :-1]
                        k = int(m.sum())
                        for key, v in ops.logit_stats(z_s[m], y[m], z_w[m], 0.3).items():
                            sums[key] = sums.get(key, 0.0) + v * k
                        n += k
                got = train.Trainer(s, w, mode).step(mbs, lr=1e-2, lam=0.3)["stats"]
                self.assertEqual(set(got), set(sums))
                for key in sums:
                    self.assertEqual(got[key], sums[key] / n, key)

    def test_logit_stats_given_mixture_equal_formed_mixture(self):
        g = torch.Generator().manual_seed(23)
        z_s, z_w = torch.randn(7, 13, generator=g) * 3, torch.randn(7, 13, generator=g) * 3
        y = torch.randint(0, 13, (7,), generator=g)
        want = ops.logit_stats(z_s, y, z_w, 0.4)
        self.assertEqual(ops.logit_stats(z_s, y, z_w, 0.4, z_mix=train.mixed_logits(z_s, z_w, 0.4)), want)
        # Independent float64 formulas of docs/wmss-method.md.
        zs, zw = z_s.double(), z_w.double()
        p_s, p_mix = torch.softmax(zs, -1), torch.softmax(0.4 * zs + 0.6 * zw, -1)
        rows = torch.arange(7)
        hard = (zw[rows, y][:, None] - zw) < (zs[rows, y][:, None] - zs)
        self.assertFalse(hard[rows, y].any())
        ref = {"target_logit": zs[rows, y].mean(),
               "mean_nontarget_logit": ((zs.sum(-1) - zs[rows, y]) / 12).mean(),
               "negative_mass_strong": (1 - p_s[rows, y]).mean(),
               "negative_mass_mixed": (1 - p_mix[rows, y]).mean(),
               "hard_negative_mass_mixed": (p_mix * hard).sum(-1).mean(),
               "hard_negative_mass_strong": (p_s * hard).sum(-1).mean()}
        for key, v in ref.items():
            self.assertAlmostEqual(want[key], v.item(), delta=1e-5, msg=key)
        self.assertAlmostEqual(want["logit_gap"], want["target_logit"] - want["mean_nontarget_logit"], delta=1e-5)

    def test_lambda0_joint_equals_weak_sft(self):
        strong, weak = self.pair()
        w1 = copy.deepcopy(weak)
        sft = train.Trainer(w1)
        joint = train.Trainer(strong, weak, "trained")
        a = sft.step([self.samples], lr=1e-2)
        b = joint.step([self.samples], lr=1e-2, lam=0.0)
        self.assertEqual(a["loss"], b["loss"])
        for p, q in zip(w1.parameters(), weak.parameters()):
            self.assertTrue(torch.equal(p.grad, q.grad))

    def test_frozen_weak_bit_identical(self):
        strong, weak = self.pair()
        before = {k: v.clone() for k, v in weak.state_dict().items()}
        tr = train.Trainer(strong, weak, "frozen")
        opt_ids = {id(p) for g in tr.optimizer.param_groups for p in g["params"]}
        self.assertFalse(any(id(p) in opt_ids for p in weak.parameters()))
        self.assertEqual(len(opt_ids), len(list(strong.parameters())))
        s0 = {k: v.clone() for k, v in strong.state_dict().items()}
        for _ in range(10):
            r = tr.step([self.samples], lr=1e-2, lam=0.5)
        self.assertIn("negative_mass_mixed", r["stats"])
        for k, v in weak.state_dict().items():
            self.assertTrue(torch.equal(v, before[k]), k)
        self.assertTrue(all(p.grad is None for p in weak.parameters()))
        self.assertFalse(torch.equal(strong.state_dict()["model.norm.weight"], s0["model.norm.weight"]))

    def test_trained_weak_moves_and_has_adam_state(self):
        strong, weak = self.pair()
        w0 = weak.model.norm.weight.clone()
        tr = train.Trainer(strong, weak, "trained")
        tr.step([self.samples], lr=1e-2, lam=0.5)
        self.assertFalse(torch.equal(weak.model.norm.weight, w0))
        self.assertIn(weak.model.norm.weight, tr.optimizer.state)

    def test_micro_batches_equal_global_batch(self):
        m1, _ = self.pair()
        m2 = copy.deepcopy(m1)
        a = train.Trainer(m1).step([self.samples], lr=1e-2)
        b = train.Trainer(m2).step([self.samples[:1], self.samples[1:4], self.samples[4:]], lr=1e-2)
        self.assertEqual(a["supervised_tokens"], b["supervised_tokens"])
        self.assertAlmostEqual(a["loss"], b["loss"], delta=1e-6)
        self.assertAlmostEqual(a["grad_norm"], b["grad_norm"], delta=1e-5)
        for p, q in zip(m1.parameters(), m2.parameters()):  # (Adam's first step amplifies rounding; compare grads)
            torch.testing.assert_close(p.grad, q.grad, atol=1e-7, rtol=1e-4)
        # The loss is the mean over tokens of the global batch, not a mean of micro-batch means.
        m3 = copy.deepcopy(m1)
        want = train.heldout_loss(m3, self.samples, batch_size=6)["loss"]
        c = train.Trainer(m3).step([self.samples[:1], self.samples[1:]], lr=0.0)
        self.assertAlmostEqual(c["loss"], want, delta=1e-6)

    def test_clip_and_full_sequence_loss(self):
        m, _ = self.pair()
        r = train.Trainer(m).step([self.samples], lr=1e-3, loss_positions="full")
        self.assertEqual(r["supervised_tokens"], sum(len(s["input_ids"]) - 1 for s in self.samples))
        total = math.sqrt(sum(p.grad.pow(2).sum().item() for p in m.parameters()))
        self.assertAlmostEqual(total, min(r["grad_norm"], 1.0), delta=1e-4)  # clipped to 1.0

    def test_T24_zero_supervised_tokens_skipped(self):
        m, _ = self.pair()
        before = {k: v.clone() for k, v in m.state_dict().items()}
        tr = train.Trainer(m)
        empty = [{"input_ids": [5, 6, 7], "loss_mask": [0, 0, 0]}, {"input_ids": [5], "loss_mask": [1]}]
        r = tr.step([empty], lr=1e-2)
        self.assertEqual(r, {"skipped": True, "reason": "no_supervised_tokens", "loss": None,
                             "supervised_tokens": 0, "step": 0, "skipped_total": 1})
        for k, v in m.state_dict().items():
            self.assertTrue(torch.equal(v, before[k]))
        r = tr.step([empty, self.samples[:1]], lr=1e-2)  # a mixed batch trains normally
        self.assertFalse(r["skipped"])
        self.assertTrue(math.isfinite(r["loss"]) and r["loss"] > 0)
        with self.assertRaisesRegex(ValueError, "mask"):
            train.mixed_loss(torch.zeros(1, 3), None, torch.zeros(1, dtype=torch.long), 1.0,
                             torch.tensor([False]))

    def test_argument_errors(self):
        strong, weak = self.pair()
        with self.assertRaisesRegex(ValueError, "lam"):
            train.Trainer(strong, weak).step([self.samples], lr=1e-3)
        with self.assertRaisesRegex(ValueError, "lam"):
            train.Trainer(strong).step([self.samples], lr=1e-3, lam=0.5)
        with self.assertRaisesRegex(ValueError, "weak_mode"):
            train.Trainer(strong, weak, "sleeping")
        with self.assertRaisesRegex(ValueError, "separate"):
            train.Trainer(strong, strong)
        with self.assertRaisesRegex(ValueError, "lam"):
            train.mixed_loss(Z_S[None], Z_W[None], Y0, 1.5, ALL)


class ApiTrainingTest(unittest.TestCase):
    """Resume, seeds and the op layer, through api (the functions Go calls)."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = self._tmp.name
        self.model_dir = os.path.join(self.dir, "m0")
        api.init_model(self.model_dir, "tiny", seed=1, vocab_size=64)
        api.register_dataset("ds", tiny.random_samples(8, 64, seed=30, max_len=16))

    def tearDown(self):
        for h in ("ds", "s", "w", "t", "s2", "w2", "t2", "a", "b"):
            api.release(h)
        self._tmp.cleanup()

    def run_steps(self, handle, n, joint):
        step = (lambda i: api.joint_step(handle, "ds", [i % 8, (i + 3) % 8, (i + 5) % 8], lr=1e-3, lam=0.5,
                                         micro_batch_size=2)) if joint else \
            (lambda i: api.sft_step(handle, "ds", [i % 8, (i + 3) % 8], lr=1e-3))
        return [step(i)["loss"] for i in range(n)]

    def test_resume_next_step_loss_equal(self):
        for joint, mode in ((False, "trained"), (True, "trained"), (True, "frozen")):
            with self.subTest(joint=joint, weak_mode=mode):
                api.load_model("s", self.model_dir)
                api.load_model("w", self.model_dir)
                api.create_trainer("t", "s", "w" if joint else None, mode)
                self.run_steps("t", 3, joint)
                out = os.path.join(self.dir, "ckpt-%s-%s" % (joint, mode))
                self.assertEqual(api.save_trainer("t", out)["step"], 3)
                want = self.run_steps("t", 2, joint)
                r = api.load_trainer("t2", out, "s2", "w2" if joint else None)
                self.assertEqual(r["step"], 3)
                got = self.run_steps("t2", 2, joint)
                self.assertEqual(got, want)  # bit-identical
                ids = [[5, 6, 7, 8]]
                ta = api._model("s")(torch.tensor(ids))[0]
                tb = api._model("s2")(torch.tensor(ids))[0]
                self.assertTrue(torch.equal(ta, tb))

    def test_same_seed_same_losses(self):
        seqs = []
        for rep in range(2):
            d = os.path.join(self.dir, "seed%d" % rep)
            api.init_model(d, "tiny", seed=7, vocab_size=64)
            api.load_model("a", d)
            api.load_model("b", d)
            api.create_trainer("t", "a", "b", "trained")
            seqs.append(self.run_steps("t", 4, True))
        self.assertEqual(seqs[0], seqs[1])
        self.assertEqual(len(set(seqs[0])), 4)

    def test_ops_are_json(self):
        api.load_model("s", self.model_dir)
        api.load_model("w", self.model_dir)
        api.create_trainer("t", "s", "w", "frozen")
        r = api.joint_step("t", "ds", [0, 1, 2], lr=1e-3, lam=0.5)
        json.dumps(r, allow_nan=False)
        self.assertEqual(set(r["stats"]), {"target_logit", "mean_nontarget_logit", "logit_gap",
                                           "negative_mass_strong", "negative_mass_mixed",
                                           "hard_negative_mass_mixed", "hard_negative_mass_strong"})
        h = api.sample_entropy("s", "ds", [3, 1])
        self.assertEqual(len(h["entropies"]), 2)
        reg = api.register_dataset("bad", [{"input_ids": [1, 2], "loss_mask": [1, 0]}])
        self.assertEqual(reg["invalid"], [{"index": 0, "reason": "no_supervised_tokens"}])
        api.release("bad")
        with self.assertRaisesRegex(ValueError, r"samples\[0\].loss_mask"):
            api.register_dataset("bad", [{"input_ids": [1, 2], "loss_mask": [1]}])
        with self.assertRaisesRegex(ValueError, "index 99"):
            api.joint_step("t", "ds", [99], lr=1e-3)
        with self.assertRaisesRegex(ValueError, "joint_step"):
            api.sft_step("t", "ds", [0], lr=1e-3)
        api.register_dataset("big", [{"input_ids": [1, 5000], "loss_mask": [0, 1]}])
        with self.assertRaisesRegex(ValueError, "vocab_size"):
            api.heldout_loss("s", "big")
        api.release("big")
        with self.assertRaisesRegex(KeyError, "nope"):
            api.sft_step("nope", "ds", [0], lr=1e-3)


def gsm8k_samples(n, offset, max_prompt=48, max_completion=48):
    """n GSM8K train records as byte-level samples: question tail (prompt) + answer head (completion)."""
    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "data", "gsm8k", "train.jsonl")
    out = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i < offset:
                continue
            if len(out) == n:
                break
            r = json.loads(line)
            q = r["question"].encode("utf-8")[-max_prompt:].decode("utf-8", "ignore")
            a = r["answer"].encode("utf-8")[:max_completion].decode("utf-8", "ignore")
            out.append(tiny.sample(q + "\n", a, eos=False))
    return out


GSM8K = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "data", "gsm8k", "train.jsonl")


@unittest.skipUnless(os.path.isfile(GSM8K), "GSM8K train data not found at ../shared/data/gsm8k/train.jsonl")
class LearningTest(unittest.TestCase):
    def test_tiny_model_learns_gsm8k(self):
        # tiny (≈1.2M parameters, byte-level vocab 320), 40 SFT steps of 16 samples at lr 3e-3:
        # the held-out completion loss must fall by at least 1.5 nats/token from random init
        # (ln 320 ≈ 5.77 at init; GSM8K answer bytes have a unigram entropy near 3.3).
        torch.manual_seed(0)
        with tempfile.TemporaryDirectory() as d:
            checkpoint.init_model(d, "tiny", seed=0, vocab_size=256 + tiny.BYTE_OFFSET)
            m, _ = checkpoint.load_model(d)
        train_set, held = gsm8k_samples(320, 0), gsm8k_samples(32, 7000)
        before = train.heldout_loss(m, held, batch_size=32)["loss"]
        tr = train.Trainer(m)
        for i in range(40):
            lr = 3e-3 * min(1.0, (i + 1) / 4)  # short warmup
            tr.step([train_set[16 * (i % 20):16 * (i % 20 + 1)]], lr=lr, stats=False)
        after = train.heldout_loss(m, held, batch_size=32)["loss"]
        self.assertGreater(before, 5.0)
        self.assertLess(after, before - 1.5, "held-out loss %.3f → %.3f" % (before, after))


if __name__ == "__main__":
    unittest.main()

"""Optimizer steps: SFT and WMSS joint training, held-out loss, resume state.

The WMSS joint loss (docs/wmss-method.md, Pipeline step 3):

    z_mix = λ·z_s + (1 − λ)·z_w,   L = mean over supervised tokens of −log softmax(z_mix)[y]

λ multiplies the *strong* model (default 0.5). λ = 1 is SFT of the strong
model (bit-exactly in float32: 1·z_s + 0·z_w = z_s), λ = 0 SFT of the weak.

One call of ``Trainer.step`` is one optimizer step over a global batch split
into micro-batches: the gradients of all micro-batches are accumulated, and
the loss is the sum of token cross-entropies divided by the number of
supervised tokens of the whole global batch (so the split does not change the
step). Then the global gradient norm of all trained parameters is clipped to
1.0 and AdamW steps with the lr given for this step. A global batch without
supervised tokens is skipped and reported, never a NaN or 0.0 loss (case T24).

A sample is ``{"input_ids": [int], "loss_mask": [0|1]}``; loss_mask marks the
supervised target tokens (see ops.py for the shifted positions).
"""
import random

import torch

from . import cancel
from . import ops

LOSS_POSITIONS = ("completion", "full")
WEAK_MODES = ("trained", "frozen")


def mixed_loss(z_s, z_w, y, lam, mask, reduction="mean"):
    """WMSS cross-entropy of softmax(λ·z_s + (1−λ)·z_w) against y over mask.

    z_s, z_w: (..., V) strong and weak logits (z_w None: plain SFT on z_s);
    y: (...) int64 targets; lam: float λ in [0, 1], weight of the strong
    model; mask: (...) bool, positions that count. reduction "mean" divides
    by mask.sum() (0 positions: ValueError), "sum" returns the sum.
    Softmax in float32. Returns a 0-dim float32 tensor (nats).
    Gradients (fact 3): ∂L/∂z_s = λ(P_mix − e_y), ∂L/∂z_w = (1−λ)(P_mix − e_y).
    """
    if not 0.0 <= lam <= 1.0:
        raise ValueError("lam: λ = %r is outside [0, 1]" % lam)
    total = ops.cross_entropy_sum(mixed_logits(z_s[mask], None if z_w is None else z_w[mask], lam), y[mask])
    if reduction == "sum":
        return total
    n = int(mask.sum())
    if n == 0:
        raise ValueError("mask: no supervised position (the loss would be NaN)")
    return total / n


def mixed_logits(z_s, z_w, lam):
    """Return z_mix = λ·z_s + (1−λ)·z_w (N, V) in the logits' dtype, or z_s itself when z_w is None.

    The one place the mixture is formed, so that the loss and the logit
    statistics of a step use the very same tensor (docs/wmss-method.md,
    Pipeline step 3).
    """
    if z_w is None:
        return z_s
    return lam * z_s + (1.0 - lam) * z_w


def collate(samples, pad_id=0, loss_positions="completion"):
    """Right-pad samples into tensors.

    Returns (input_ids (B, T) int64, attention_mask (B, T) int64, loss_mask
    (B, T) int64). loss_positions "full" supervises every real token (the
    authors' phase-3 code), "completion" uses the sample's loss_mask.
    """
    if loss_positions not in LOSS_POSITIONS:
        raise ValueError("loss_positions %r: want one of %s" % (loss_positions, ", ".join(LOSS_POSITIONS)))
    T = max(len(s["input_ids"]) for s in samples)
    B = len(samples)
    ids = torch.full((B, T), pad_id, dtype=torch.long)
    att = torch.zeros((B, T), dtype=torch.long)
    lm = torch.zeros((B, T), dtype=torch.long)
    for i, s in enumerate(samples):
        n = len(s["input_ids"])
        ids[i, :n] = torch.tensor(s["input_ids"], dtype=torch.long)
        att[i, :n] = 1
        lm[i, :n] = 1 if loss_positions == "full" else torch.tensor(s["loss_mask"], dtype=torch.long)
    return ids, att, lm


def supervised_tokens(sample, loss_positions="completion"):
    """Number of supervised (shifted) positions of one sample: loss_mask[1:].sum()."""
    if loss_positions == "full":
        return max(len(sample["input_ids"]) - 1, 0)
    return sum(sample["loss_mask"][1:])


def _device(model):
    return next(model.parameters()).device


class Trainer:
    """AdamW over a strong model and, for joint training, a weak model.

    weak None: SFT of strong. weak_mode "trained": both models are in the
    optimizer and the clip norm is over both; "frozen": the weak model runs
    under no_grad, is absent from the optimizer and stays bit-identical.
    """

    def __init__(self, strong, weak=None, weak_mode="trained", weight_decay=0.0, betas=(0.9, 0.999),
                 eps=1e-8, clip=1.0):
        if weak_mode not in WEAK_MODES:
            raise ValueError("weak_mode %r: want one of %s" % (weak_mode, ", ".join(WEAK_MODES)))
        if weak is strong and weak is not None:
            raise ValueError("weak: the weak and strong models must be two separate models")
        self.strong, self.weak, self.weak_mode, self.clip = strong, weak, weak_mode, clip
        params = list(strong.parameters())
        if weak is not None and weak_mode == "trained":
            params += list(weak.parameters())
        self.params = params
        self.optimizer = torch.optim.AdamW(params, lr=0.0, betas=tuple(betas), eps=eps,
                                           weight_decay=weight_decay)
        self.hparams = {"weight_decay": weight_decay, "betas": list(betas), "eps": eps, "clip": clip}
        self.steps = 0
        self.skipped = 0

    def step(self, micro_batches, lr, lam=None, loss_positions="completion", pad_id=0, stats=True):
        """One optimizer step over the global batch given as a list of micro-batches of samples.

        lam: λ for joint training (required iff the trainer has a weak model).
        Returns {"loss": nats per supervised token, "supervised_tokens",
        "grad_norm" (before clipping), "lr", "lam", "step", "skipped": False,
        "stats": ops.logit_stats of the step} or, without supervised tokens,
        {"skipped": True, "reason": "no_supervised_tokens", "loss": None, ...}.
        Raises ValueError for a λ that does not match the trainer's kind or lies outside [0, 1], and
        for a non-finite loss.
        """
        joint = self.weak is not None
        if joint and lam is None:
            raise ValueError("lam: joint training needs λ")
        if not joint and lam is not None:
            raise ValueError("lam: an SFT trainer takes no λ")
        n_total = sum(supervised_tokens(s, loss_positions) for mb in micro_batches for s in mb)
        if n_total == 0:
            self.skipped += 1
            return {"skipped": True, "reason": "no_supervised_tokens", "loss": None, "supervised_tokens": 0,
                    "step": self.steps, "skipped_total": self.skipped}
        if joint and not 0.0 <= lam <= 1.0:
            raise ValueError("lam: λ = %r is outside [0, 1]" % lam)
        for g in self.optimizer.param_groups:
            g["lr"] = float(lr)
        self.optimizer.zero_grad(set_to_none=True)
        self.strong.train()
        if joint:
            self.weak.train(self.weak_mode == "trained")
        dev = _device(self.strong)
        loss_total = 0.0
        stat_sums = {}
        for mb in micro_batches:
            cancel.check()
            if not mb:
                continue
            ids, att, lm = (t.to(dev) for t in collate(mb, pad_id, loss_positions))
            # Supervised rows of the unshifted logits: logit t predicts token t+1 (ops.shift), so
            # rows[b, t] = loss_mask[b, t+1]. Indexing the full (B, T, V) logits once, rather than a
            # [:, :-1] view, keeps the backward to one scatter; the rows and their order are the same.
            m = lm[:, 1:].bool()
            if not m.any():
                continue
            rows = torch.zeros(lm.shape, dtype=torch.bool, device=dev)
            rows[:, :-1] = m
            y = ids[:, 1:][m]  # (N,)
            z_s = self.strong(ids, att)[0][rows]  # (N, V)
            z_w = None
            if joint:
                if self.weak_mode == "frozen":
                    with torch.no_grad():
                        z_w = self.weak(ids, att)[0][rows]
                else:
                    z_w = self.weak(ids, att)[0][rows]
            z = mixed_logits(z_s, z_w, lam)  # what mixed_loss(..., reduction="sum") computes
            loss = ops.cross_entropy_sum(z, y) / n_total
            loss.backward()
            loss_total += loss.item()
            if stats:  # token-weighted mean over micro-batches, never holding all logits at once
                n_mb = y.shape[0]
                # Reuse the loss's mixture when it was formed in float32 (logit_stats mixes in float32).
                z_mix = z.detach() if joint and z.dtype == torch.float32 else None
                for k, v in ops.logit_stats(z_s.detach(), y, z_w.detach() if joint else None, lam,
                                            z_mix=z_mix).items():
                    stat_sums[k] = stat_sums.get(k, 0.0) + v * n_mb
        if not (loss_total == loss_total and abs(loss_total) != float("inf")):
            self.optimizer.zero_grad(set_to_none=True)
            raise ValueError("loss is %r at step %d (non-finite); the step was not applied"
                             % (loss_total, self.steps))
        grad_norm = torch.nn.utils.clip_grad_norm_(self.params, self.clip).item()
        self.optimizer.step()
        self.steps += 1
        out = {"skipped": False, "loss": loss_total, "supervised_tokens": n_total, "grad_norm": grad_norm,
               "lr": float(lr), "lam": lam, "step": self.steps}
        if stats:
            out["stats"] = {k: v / n_total for k, v in stat_sums.items()}
        return out

    def state_dict(self):
        """Optimizer, counters and RNG states (models are saved separately in HF layout)."""
        st = {"optimizer": self.optimizer.state_dict(), "steps": self.steps, "skipped": self.skipped,
              "weak_mode": self.weak_mode, "joint": self.weak is not None, "hparams": self.hparams,
              "rng": {"torch": torch.get_rng_state(), "python": random.getstate()}}
        if torch.cuda.is_available():
            st["rng"]["cuda"] = torch.cuda.get_rng_state_all()
        return st

    def load_state_dict(self, st):
        """Restore what state_dict saved; the models must already hold the saved weights."""
        if st["joint"] != (self.weak is not None) or st["weak_mode"] != self.weak_mode:
            raise ValueError("trainer state: saved for joint=%s weak_mode=%s, this trainer is joint=%s weak_mode=%s"
                             % (st["joint"], st["weak_mode"], self.weak is not None, self.weak_mode))
        self.optimizer.load_state_dict(st["optimizer"])
        self.steps, self.skipped = st["steps"], st["skipped"]
        torch.set_rng_state(st["rng"]["torch"])
        random.setstate(st["rng"]["python"])
        if "cuda" in st["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(st["rng"]["cuda"])


@torch.no_grad()
def heldout_loss(model, samples, batch_size=8, pad_id=0, loss_positions="completion"):
    """Mean cross-entropy in nats per supervised token of model over samples (no gradient).

    Returns {"loss": float or None when no supervised token, "supervised_tokens": int}.
    """
    model.eval()
    dev = _device(model)
    total, n = 0.0, 0
    for i in range(0, len(samples), batch_size):
        cancel.check()
        ids, att, lm = (t.to(dev) for t in collate(samples[i:i + batch_size], pad_id, loss_positions))
        z, _ = model(ids, att)
        z, y, m = ops.shift(z, ids, lm)
        total += mixed_loss(z, None, y, 1.0, m, reduction="sum").item()
        n += int(m.sum())
    return {"loss": total / n if n else None, "supervised_tokens": n}


@torch.no_grad()
def entropies(model, samples, batch_size=8, pad_id=0, sample_ids=None):
    """Sample entropies H(M; x_i) (ops.sample_entropy) of samples, a list of float or None.

    sample_ids: the caller's index of each sample, used in error messages (default 0..n−1).
    """
    if sample_ids is None:
        sample_ids = list(range(len(samples)))
    model.eval()
    dev = _device(model)
    out = []
    for i in range(0, len(samples), batch_size):
        cancel.check()
        ids, att, lm = (t.to(dev) for t in collate(samples[i:i + batch_size], pad_id))
        z, _ = model(ids, att)
        out += ops.sample_entropy(z, ids, lm, sample_ids[i:i + batch_size])
    return out

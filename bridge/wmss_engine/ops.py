"""Per-token quantities read off logits: entropy, cross-entropy, logit statistics.

Positions are shifted everywhere: the logit at position t predicts token t+1,
so a sample's supervised positions are the t with loss_mask[t + 1] = 1
(docs/wmss-method.md, Notation; case T20). The authors' entropy code forgets
this shift (off by one); we do not copy that.

Shapes: B rows, T positions, V vocab. ``loss_mask`` (B, T) is 1 on tokens
that are supervised targets (completion tokens), 0 elsewhere (prompt,
padding); masking is by position, never by token id (case T17).
"""
import math

import torch
import torch.nn.functional as F


class NonFiniteError(ValueError):
    """A non-finite value where a finite one is required; the message names the sample index."""


def shift(logits, input_ids, loss_mask):
    """Return (z (B, T−1, V), y (B, T−1), m (B, T−1) bool): logit t paired with token t+1."""
    return logits[:, :-1], input_ids[:, 1:], loss_mask[:, 1:].bool()


def entropy(logits):
    """Full-vocabulary entropy −Σ_v P(v) log P(v) in nats, over the last dim; returns float32 (...).

    The softmax runs in float32 whatever the input dtype (fp16/bf16 logits
    such as ±60000 would otherwise overflow), and entries with P(v) = 0
    (logit −inf) contribute exactly 0, never 0 · (−inf) = NaN, in the value
    and in the gradient (case T27).
    """
    logp = F.log_softmax(logits.float(), dim=-1)
    p = logp.exp()
    logp = logp.masked_fill(p == 0, 0.0)  # 0·log 0 := 0
    return -(p * logp).sum(-1)


@torch.no_grad()
def sample_entropy(logits, input_ids, loss_mask, sample_ids=None):
    """Teacher-forced sample entropy H(M; x_i) of docs/wmss-method.md, one value per row.

    logits (B, T, V) any float dtype; input_ids, loss_mask (B, T).
    Returns a list of B floats (mean entropy over the row's supervised
    shifted positions) or None for a row with no supervised position (such a
    sample gets weight 0). Raises NonFiniteError naming the sample index
    sample_ids[row] (default row) when a value is not finite (case T27).
    """
    z, _, m = shift(logits, input_ids, loss_mask)
    h = entropy(z)  # (B, T−1) float32
    count = m.sum(-1)  # (B,)
    total = (h * m).sum(-1)  # (B,)
    out = []
    for i in range(h.shape[0]):
        if count[i] == 0:
            out.append(None)
            continue
        v = (total[i] / count[i]).item()
        if not math.isfinite(v):
            raise NonFiniteError("sample %d: entropy is %r (non-finite logits)"
                                 % (i if sample_ids is None else sample_ids[i], v))
        out.append(v)
    return out


def cross_entropy_sum(z, y):
    """Σ over rows of −log softmax(z)[y] in float32; z (N, V), y (N,). Returns a 0-dim tensor."""
    return F.cross_entropy(z.float(), y, reduction="sum")


@torch.no_grad()
def logit_stats(z_s, y, z_w=None, lam=None, z_mix=None):
    """Mean over N supervised positions of the saturation statistics of docs/wmss-method.md.

    z_s (N, V) strong logits, y (N,) targets; z_w (N, V) weak logits and λ
    for the mixed distribution z_mix = λ·z_s + (1−λ)·z_w. Returns a dict of
    floats: target_logit z[y], mean_nontarget_logit mean_{k≠y} z[k], logit_gap
    (their difference), negative_mass_strong Σ_{k≠y} P_s(k); with z_w also
    negative_mass_mixed Σ_{k≠y} P_mix(k) and hard_negative_mass_mixed /
    _strong, the mass on hard negatives k (weak margin m_k(z_w) < strong margin
    m_k(z_s)). N = 0 gives an empty dict.

    z_mix: optional (N, V) float32 mixture already formed by the caller
    (train.mixed_logits of the same z_s, z_w, λ), used instead of forming it
    again; the values are the same. All statistics are computed in float32
    and exactly (no sampling of positions or vocabulary).
    """
    if z_s.shape[0] == 0:
        return {}
    z_s = z_s.float()
    V = z_s.shape[-1]
    idx = y[:, None]
    tgt = z_s.gather(-1, idx)[:, 0]  # (N,)
    nontarget = (z_s.sum(-1) - tgt) / (V - 1)
    p_s = F.softmax(z_s, dim=-1)  # (N, V)
    ps_y = p_s.gather(-1, idx)[:, 0]
    names = ["target_logit", "mean_nontarget_logit", "logit_gap", "negative_mass_strong"]
    means = [tgt.mean(), nontarget.mean(), (tgt - nontarget).mean(), (1 - ps_y).mean()]
    if z_w is not None:
        z_w = z_w.float()
        if z_mix is None:
            z_mix = lam * z_s + (1 - lam) * z_w
        p_mix = F.softmax(z_mix.float(), dim=-1)  # (N, V)
        pm_y = p_mix.gather(-1, idx)[:, 0]
        # hard = m_w < m_s with margins m_k(z) = z[y] − z[k]; the target itself has both margins 0,
        # never hard. Multiplying P by the bool mask and zeroing P where it is False give the same
        # values, so the sums below equal (P · hard).sum(-1).
        not_hard = torch.lt(z_w.gather(-1, idx) - z_w, tgt[:, None] - z_s).logical_not_()  # (N, V)
        names += ["negative_mass_mixed", "hard_negative_mass_mixed", "hard_negative_mass_strong"]
        means += [(1 - pm_y).mean(), p_mix.masked_fill_(not_hard, 0.0).sum(-1).mean(),
                  p_s.masked_fill_(not_hard, 0.0).sum(-1).mean()]
    return dict(zip(names, torch.stack(means).tolist()))

"""Throughput of the engine's training steps and generation on CPU (issue 3, Benchmarks).

Run: cd bridge && /usr/bin/python3 ../bench/engine_bench.py [--threads 2] [--steps 3]

Prints, for the init_model sizes tiny and small: tokens/s (supervised + context
tokens fed through the strong model per second) of sft_step and joint_step
(weak trained and weak frozen), the joint/SFT time ratio, achieved FLOP/s
(6·N·tokens per trained model, 2·N·tokens per forward-only model; N =
parameters without the embedding) against a measured float32 matmul peak, and
generation tokens/s with and without the KV cache at 256 new tokens.
"""
import argparse
import copy
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bridge"))

import torch  # noqa: E402

from wmss_engine import checkpoint, generate, train  # noqa: E402


def matmul_peak(n=1024, reps=10):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n ** 3 * reps / (time.perf_counter() - t)


def batch(vocab, B, T, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(B):
        ids = torch.randint(0, vocab, (T,), generator=g).tolist()
        out.append({"input_ids": ids, "loss_mask": [0] * (T // 4) + [1] * (T - T // 4)})
    return out


def timed_steps(trainers, mb, steps):
    """Min seconds per step of each (trainer, λ), the trainers interleaved so load changes hit all alike."""
    for tr, lam in trainers:
        tr.step(mb, lr=1e-4, lam=lam, stats=False)  # warm-up
    best = [float("inf")] * len(trainers)
    for _ in range(steps):
        for i, (tr, lam) in enumerate(trainers):
            t = time.perf_counter()
            tr.step(mb, lr=1e-4, lam=lam, stats=False)
            best[i] = min(best[i], time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--sizes", default="tiny,small")
    ap.add_argument("--gen-tokens", type=int, default=256)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    peak = matmul_peak()
    print("torch %s, %d threads, float32 matmul peak %.1f GFLOP/s, load average %s"
          % (torch.__version__, a.threads, peak / 1e9, os.getloadavg()))
    for size in a.sizes.split(","):
        with tempfile.TemporaryDirectory() as d:
            checkpoint.init_model(d, size, seed=0, vocab_size=320)
            strong, _ = checkpoint.load_model(d)
        mk = lambda: copy.deepcopy(strong)
        N = strong.num_parameters() - strong.model.embed_tokens.weight.numel()
        B, T = (4, 256) if size == "tiny" else (2, 256)
        mb = [batch(320, B, T)]
        tokens = B * T
        t_sft, t_jt, t_jf = timed_steps([(train.Trainer(mk()), None), (train.Trainer(mk(), mk(), "trained"), 0.5),
                                         (train.Trainer(mk(), mk(), "frozen"), 0.5)], mb, a.steps)
        print("%s: %.2fM non-embedding parameters, batch %dx%d" % (size, N / 1e6, B, T))
        for name, t, flop in (("sft_step", t_sft, 6), ("joint_step weak trained", t_jt, 12),
                              ("joint_step weak frozen", t_jf, 8)):
            fl = flop * N * tokens / t
            print("  %-24s %8.0f tokens/s  %6.1f GFLOP/s (%4.1f%% of peak)" % (name, tokens / t, fl / 1e9,
                                                                              100 * fl / peak))
        print("  joint/SFT time ratio: weak trained %.2f (target <= 2.2), weak frozen %.2f (target <= 1.5)"
              % (t_jt / t_sft, t_jf / t_sft))
        prompts = [batch(320, 1, 32, seed=i)[0]["input_ids"] for i in range(4)]
        rates = {}
        for cache in (True, False):
            t = time.perf_counter()
            out = generate.generate(strong, prompts, a.gen_tokens, use_cache=cache)
            n = sum(len(r["tokens"]) for r in out)
            rates[cache] = n / (time.perf_counter() - t)
        print("  generate %d new tokens x 4 rows: KV cache %.0f tokens/s, no cache %.0f tokens/s, ratio %.1fx"
              % (a.gen_tokens, rates[True], rates[False], rates[True] / rates[False]))


if __name__ == "__main__":
    main()

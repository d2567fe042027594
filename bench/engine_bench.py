"""Throughput of the engine's training steps and generation on CPU (issue 3, Benchmarks).

Run: cd bridge && /usr/bin/python3 ../bench/engine_bench.py [--threads 2] [--steps 3]

Prints, for the init_model sizes tiny and small: tokens/s (supervised + context
tokens fed through the strong model per second) of sft_step and joint_step
(weak trained and weak frozen), the joint/SFT time ratio, achieved FLOP/s
(6·N·tokens per trained model, 2·N·tokens per forward-only model; N =
parameters without the embedding) against a measured float32 matmul peak, and
generation tokens/s with and without the KV cache at 256 new tokens.

--threads sets both torch's intra-op (OpenMP) threads and OpenBLAS's threads
(Debian's torch does its matmuls in OpenBLAS, which torch.set_num_threads
does not reach; left alone it runs as many threads as there are CPUs);
--blas-threads sets OpenBLAS's apart. --omp-wait-policy sets OMP_WAIT_POLICY
before torch loads libgomp (default: the environment's). Measured on the
2-vCPU dev machine: with 2 OpenMP and 2 OpenBLAS threads and libgomp's
default (active, spinning) wait policy, a small-model sft_step takes ~3×
longer than with OMP_WAIT_POLICY=PASSIVE or with 1 OpenMP + 2 OpenBLAS
threads, because the idle OpenMP threads spin on the CPUs OpenBLAS needs. Each step kind
is timed --steps times, interleaved with the others so load changes hit all
alike; the min (and median) per step is reported and the ratios use the min.

--api-sft-steps N runs only the bridge comparison's plain-Python side: the
same operations the Go benchmark bridge/engine_bench_test.go
(BenchmarkSFTStep_Bridge) calls through the embedded interpreter
(api.init_model, load_model, register_dataset, create_trainer, then N
sft_step calls), and prints a JSON line {"step_seconds": [...]} .
"""
import argparse
import copy
import ctypes
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bridge"))


def _early_env():
    """Apply --omp-wait-policy before torch (and libgomp, which reads it once at load) is imported."""
    for i, arg in enumerate(sys.argv):
        if arg.startswith("--omp-wait-policy"):
            value = arg.split("=", 1)[1] if "=" in arg else sys.argv[i + 1]
            if value != "default":
                os.environ["OMP_WAIT_POLICY"] = value


_early_env()

import torch  # noqa: E402

from wmss_engine import api, checkpoint, generate, train  # noqa: E402


def set_threads(n, blas_n=None):
    """Set torch's thread count to n and OpenBLAS's to blas_n (default n); returns OpenBLAS's count
    (None: no OpenBLAS in this process)."""
    torch.set_num_threads(n)
    try:
        blas = ctypes.CDLL("libopenblas.so.0")
    except OSError:
        return None
    blas.openblas_set_num_threads(n if blas_n is None else blas_n)
    return blas.openblas_get_num_threads()


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


def timed_steps(trainers, mb, steps, stats=False):
    """Seconds per step of each (trainer, λ), a sorted list per trainer; the trainers are interleaved."""
    for tr, lam in trainers:
        tr.step(mb, lr=1e-4, lam=lam, stats=stats)  # warm-up
    times = [[] for _ in trainers]
    for _ in range(steps):
        for i, (tr, lam) in enumerate(trainers):
            t = time.perf_counter()
            tr.step(mb, lr=1e-4, lam=lam, stats=stats)
            times[i].append(time.perf_counter() - t)
    return [sorted(t) for t in times]


def api_samples(n, length, vocab):
    """The bridge benchmark's samples (the Go side builds the same): token (7·i + 13·t) mod vocab,
    the last three quarters supervised."""
    return [{"input_ids": [(7 * i + 13 * t) % vocab for t in range(length)],
             "loss_mask": [0] * (length // 4) + [1] * (length - length // 4)} for i in range(n)]


def api_sft_steps(steps, size, batch_size, length, vocab):
    """Time steps api.sft_step calls on a fresh init_model of size; returns the seconds of each."""
    with tempfile.TemporaryDirectory() as d:
        api.init_model(d, size=size, seed=0, vocab_size=vocab)
        api.load_model("bench_model", d)
    api.register_dataset("bench_data", api_samples(batch_size, length, vocab))
    api.create_trainer("bench_trainer", "bench_model")
    idx = list(range(batch_size))
    api.sft_step("bench_trainer", "bench_data", idx, 1e-4)  # warm-up
    out = []
    for _ in range(steps):
        t = time.perf_counter()
        api.sft_step("bench_trainer", "bench_data", idx, 1e-4)
        out.append(time.perf_counter() - t)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--sizes", default="tiny,small")
    ap.add_argument("--gen-tokens", type=int, default=256)
    ap.add_argument("--blas-threads", type=int, default=None, help="OpenBLAS threads (default: --threads)")
    ap.add_argument("--omp-wait-policy", default="default", choices=("default", "PASSIVE", "ACTIVE"))
    ap.add_argument("--vocab", type=int, default=320)
    ap.add_argument("--stats", action="store_true",
                    help="time the steps with logit statistics on, as the pipeline runs them")
    ap.add_argument("--api-sft-steps", type=int, default=0)
    ap.add_argument("--api-size", default="tiny")
    ap.add_argument("--api-batch", type=int, default=4)
    ap.add_argument("--api-length", type=int, default=256)
    a = ap.parse_args()
    if a.api_sft_steps:  # plain-Python side of the bridge benchmark; default threads, like the bridge
        print(json.dumps({"step_seconds": api_sft_steps(a.api_sft_steps, a.api_size, a.api_batch, a.api_length,
                                                        a.vocab)}))
        return
    blas = set_threads(a.threads, a.blas_threads)
    peak = matmul_peak()
    print("torch %s, %d threads (OpenBLAS %s, OMP_WAIT_POLICY %s), float32 matmul peak %.1f GFLOP/s, "
          "load average %s, stats %s" % (torch.__version__, a.threads, blas, os.environ.get("OMP_WAIT_POLICY", "unset"),
                                         peak / 1e9, "%.2f %.2f %.2f" % os.getloadavg(), a.stats))
    for size in a.sizes.split(","):
        with tempfile.TemporaryDirectory() as d:
            checkpoint.init_model(d, size, seed=0, vocab_size=a.vocab)
            strong, _ = checkpoint.load_model(d)
        mk = lambda: copy.deepcopy(strong)
        N = strong.num_parameters() - strong.model.embed_tokens.weight.numel()
        B, T = (4, 256) if size == "tiny" else (2, 256)
        mb = [batch(a.vocab, B, T)]
        tokens = B * T
        times = timed_steps([(train.Trainer(mk()), None), (train.Trainer(mk(), mk(), "trained"), 0.5),
                             (train.Trainer(mk(), mk(), "frozen"), 0.5)], mb, a.steps, a.stats)
        t_sft, t_jt, t_jf = (t[0] for t in times)
        print("%s: %.2fM non-embedding parameters, vocab %d, batch %dx%d" % (size, N / 1e6, a.vocab, B, T))
        for name, ts, flop in (("sft_step", times[0], 6), ("joint_step weak trained", times[1], 12),
                               ("joint_step weak frozen", times[2], 8)):
            t = ts[0]
            fl = flop * N * tokens / t
            print("  %-24s %8.0f tokens/s  %6.1f GFLOP/s (%4.1f%% of peak)  step min %.3f s, median %.3f s"
                  % (name, tokens / t, fl / 1e9, 100 * fl / peak, t, ts[len(ts) // 2]))
        print("  joint/SFT time ratio: weak trained %.2f (target <= 2.2), weak frozen %.2f (target <= 1.5)"
              % (t_jt / t_sft, t_jf / t_sft))
        if a.gen_tokens <= 0:  # --gen-tokens 0: training steps only
            continue
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

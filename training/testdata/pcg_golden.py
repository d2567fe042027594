"""Independent reference for the RNG uses of package training.

Reimplements PCG-DXSM (128-bit LCG state, pcg-cpp constants, DXSM output as
in math/rand/v2's PCG), the inverse-CDF draw of Resample and the per-epoch
Fisher-Yates shuffle of Plan, in plain Python integers and floats.

Run without arguments to print the golden values pasted into the tests:
    /usr/bin/python3 training/testdata/pcg_golden.py
With --stdin it reads {"resample": [{"p", "m", "seed", "drop"}...],
"shuffle": [{"n", "seed", "epoch"}...]} as JSON and prints the results as
JSON (used by TestRNGAgainstPython).
"""
import bisect
import json
import sys

M128 = (1 << 128) - 1
M64 = (1 << 64) - 1
MUL = 0x2360ED051FC65DA44385DF649FCCF645
INC = 0x5851F42D4C957F2D14057B7EF767814F
CHEAP = 0xDA942042E4DD58B5


class PCG:
    def __init__(self, seed1, seed2):
        self.state = (seed1 << 64) | seed2

    def uint64(self):
        self.state = (self.state * MUL + INC) & M128
        hi, lo = self.state >> 64, self.state & M64
        hi ^= hi >> 32
        hi = (hi * CHEAP) & M64
        hi ^= hi >> 48
        hi = (hi * (lo | 1)) & M64
        return hi


RESAMPLE = int.from_bytes(b"resample", "big")


def resample(p, multiplier, seed, drop=False):
    cum, s = [], 0.0
    for v in p:
        s += v
        cum.append(s)
    last = max(i for i, v in enumerate(p) if v > 0)
    rng = PCG(seed, RESAMPLE)
    n = int(len(p) * multiplier + 0.5)  # round half away from zero, n·m ≥ 0
    out, seen = [], set()
    for _ in range(n):
        x = float(rng.uint64() >> 11) * 2.0**-53 * s
        i = min(bisect.bisect_right(cum, x), last)
        if drop:
            if i in seen:
                continue
            seen.add(i)
        out.append(i)
    return out


def main_json():
    req = json.load(sys.stdin)
    out = {
        "resample": [resample(c["p"], c["m"], c["seed"], c["drop"]) for c in req["resample"]],
        "shuffle": [epoch_order(c["n"], c["seed"], c["epoch"]) for c in req["shuffle"]],
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__" and sys.argv[1:] != ["--stdin"]:
    print("pcg(0,0)", [PCG(0, 0).uint64() for _ in range(1)])
    r = PCG(1, 2)
    print("pcg(1,2)", [r.uint64() for _ in range(3)])
    p = [0.39267, 0.08602, 0.01613, 0.46217, 0.04301]
    print("check p, m=4, seed 42", resample(p, 4.0, 42))
    print("check p, m=4, seed 42, drop", resample(p, 4.0, 42, True))
    q = [0.0, 1.0, 2.0, 0.0, 3.0, 4.0, 0.0]
    print("q, m=3, seed 7", resample(q, 3.0, 7))


SHUFFLE = int.from_bytes(b"shuffle\x00", "big")


def bounded(rng, n):
    """Lemire's multiply-and-reject, as training/plan.go's boundedUint64."""
    x = rng.uint64() * n
    hi, lo = x >> 64, x & M64
    if lo < n:
        thresh = (1 << 64) % n
        while lo < thresh:
            x = rng.uint64() * n
            hi, lo = x >> 64, x & M64
    return hi


def epoch_order(n, seed, epoch):
    order = list(range(n))
    rng = PCG(seed, SHUFFLE + epoch)
    for i in range(n - 1, 0, -1):
        j = bounded(rng, i + 1)
        order[i], order[j] = order[j], order[i]
    return order


if __name__ == "__main__" and sys.argv[1:] != ["--stdin"]:
    print("epoch_order(10, seed 42, epoch 0)", epoch_order(10, 42, 0))
    print("epoch_order(10, seed 42, epoch 1)", epoch_order(10, 42, 1))
    print("epoch_order(7, seed 0, epoch 3)", epoch_order(7, 0, 3))


if __name__ == "__main__" and sys.argv[1:] == ["--stdin"]:
    main_json()

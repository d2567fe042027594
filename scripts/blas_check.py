"""Report the BLAS that torch actually uses and a measured matmul rate.

Run with /usr/bin/python3. Prints one JSON object:
  {"torch": "1.13.1", "blas": "/usr/lib/.../openblas-pthread/libblas.so.3",
   "openblas": true, "gflops": 103.2, "threads": 1}
gflops is the float32 rate of a 1024x1024 @ 1024x1024 matmul, best of 5
(2*n^3 floating-point operations per product); threads is torch's
intra-op thread count (its default is the number of physical cores). Exits 1 when OpenBLAS is not
the active BLAS, since Debian's reference BLAS is about 15x slower.
"""
import json
import sys
import time

import torch


def active_blas():
    """Return the path of the BLAS library mapped into this process, or ''."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
    for p in sorted(paths):
        if "libblas" in p or "openblas" in p:
            return p
    return ""


def main():
    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm up; also makes the BLAS library load
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    blas = active_blas()
    out = {
        "torch": torch.__version__,
        "blas": blas,
        "openblas": "openblas" in blas,
        "gflops": round(2 * n**3 / best / 1e9, 1),
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(out))
    return 0 if out["openblas"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""Facts about the embedded runtime, for /healthz and the setup check."""
import os
import platform
import sys

__all__ = ["info"]


def _active_blas():
    """Path of the BLAS library mapped into this process ('' if none is)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
    except OSError:
        return ""
    for p in sorted(paths):
        if "libblas" in p or "openblas" in p or "mkl" in p:
            return p
    return ""


def info():
    """Return versions and devices of the embedded runtime.

    Returns a dict: python (str, e.g. "3.11.2"), executable (sys.executable),
    torch (str, or "" when torch is absent), device ("cuda" or "cpu"),
    cuda_devices (int), threads (torch intra-op threads, int), blas (path of
    the mapped BLAS library, "" if none), openblas (bool), omp_wait_policy
    (the OpenMP wait policy in this process's environment, "" if unset).
    """
    out = {
        "python": platform.python_version(),
        "executable": sys.executable,
        "torch": "",
        "device": "cpu",
        "cuda_devices": 0,
        "threads": 0,
        "blas": "",
        "openblas": False,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
    }
    try:
        import torch
    except ImportError:
        return out
    out["torch"] = torch.__version__
    if torch.cuda.is_available():
        out["device"] = "cuda"
        out["cuda_devices"] = torch.cuda.device_count()
    out["threads"] = torch.get_num_threads()
    # The BLAS library is loaded lazily on the first matmul.
    torch.ones(2, 2) @ torch.ones(2, 2)
    out["blas"] = _active_blas()
    out["openblas"] = "openblas" in out["blas"]
    return out

"""Small operations the bridge's own tests and benchmarks call.

They exercise the bridge, not the model: a no-op, an echo, an exception, a
loop that honours cancellation, and a torch forward+backward.
"""
import time

from . import cancel

__all__ = ["noop", "echo", "add", "fail", "wait_for_cancel", "cancel_count", "torch_step", "sys_info"]

_cancelled = 0


def noop():
    """Do nothing; returns None. The round-trip benchmark's payload."""
    return None


def echo(value=None):
    """Return {"value": value} unchanged."""
    return {"value": value}


def add(a, b):
    """Return {"sum": a + b}."""
    return {"sum": a + b}


def fail(kind="ValueError", message="boom"):
    """Raise the named builtin exception type with message (through a helper,
    so the traceback has more than one frame)."""
    exc = {"ValueError": ValueError, "KeyError": KeyError, "RuntimeError": RuntimeError}[kind]

    def inner():
        raise exc(message)

    inner()


def wait_for_cancel(timeout_s=10.0, step_s=0.001):
    """Loop in steps of step_s seconds until cancelled (raises
    cancel.Cancelled) or until timeout_s passes (returns {"steps": n})."""
    deadline = time.monotonic() + timeout_s
    n = 0
    global _cancelled
    while time.monotonic() < deadline:
        try:
            cancel.check()
        except cancel.Cancelled:
            _cancelled += 1
            raise
        time.sleep(step_s)
        n += 1
    return {"steps": n}


def cancel_count():
    """Return {"cancelled": n}: how many wait_for_cancel calls saw the flag."""
    return {"cancelled": _cancelled}


_model = None


def torch_step(seed=0, width=32):
    """One forward+backward of a small MLP on seeded input; returns
    {"loss": float, "grad_norm": float}. The first call builds the model."""
    global _model
    import torch

    if _model is None or _model[0].in_features != width:
        torch.manual_seed(1234)
        _model = torch.nn.Sequential(torch.nn.Linear(width, width), torch.nn.Tanh(), torch.nn.Linear(width, 1))
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(8, width, generator=g)
    _model.zero_grad()
    loss = _model(x).pow(2).mean()
    loss.backward()
    gn = torch.sqrt(sum((p.grad ** 2).sum() for p in _model.parameters()))
    return {"loss": float(loss), "grad_norm": float(gn)}


def sys_info():
    """Return sys.executable and whether Python installed a SIGINT handler."""
    import signal
    import sys

    return {
        "executable": sys.executable,
        "sigint_is_default": signal.getsignal(signal.SIGINT) in (signal.SIG_DFL, None),
        "sigterm_is_default": signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None),
    }

"""Cooperative cancellation for long engine calls.

Go sets a flag when the caller of the running call gives up (its context is
cancelled); long loops call ``check()`` between steps and stop with
``Cancelled``. Under the embedded interpreter the flag lives in C (module
``_wmss_bridge``, created by the Go bridge) so Go can set it while Python
holds the GIL; in a plain ``python3 -m wmss_engine`` run it is a Python flag.
"""

try:  # present only inside the wmss process
    import _wmss_bridge as _native
except ImportError:  # plain python3
    _native = None

_flag = False


class Cancelled(Exception):
    """Raised by check() when the current call has been cancelled."""


def requested():
    """Return True when the current call has been asked to stop."""
    if _native is not None:
        return bool(_native.cancel_requested())
    return _flag


def check():
    """Raise Cancelled when the current call has been asked to stop."""
    if requested():
        raise Cancelled("call cancelled by its caller")


def set_requested(value=True):
    """Set the Python-side flag (plain runs and tests only)."""
    global _flag
    _flag = bool(value)

"""Run one engine operation as a plain program: ``python3 -m wmss_engine OP --json '{...}'``.

OP is a name in ``wmss_engine.api.__all__``; the JSON object gives its keyword
arguments (default ``{}``, or ``--json @file`` to read it from a file). The
result is printed as JSON on stdout; an error prints ``{"error": type,
"message": ...}`` on stderr and exits with status 1. ``--list`` prints the
operations. Several operations can be chained in one process (handles live
only as long as the process) with ``--script FILE``: a JSON list of
``{"op": name, "args": {...}}``, each result printed on its own line.
"""
import argparse
import json
import sys

from . import _bridge, api


def _args(text):
    if text.startswith("@"):
        with open(text[1:]) as f:
            return f.read()
    return text


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m wmss_engine", description=__doc__.split("\n")[0])
    p.add_argument("op", nargs="?", help="operation name (see --list)")
    p.add_argument("--json", default="{}", help="keyword arguments as a JSON object, or @FILE")
    p.add_argument("--script", help="JSON list of {op, args} run in order in this process")
    p.add_argument("--list", action="store_true", help="print the operations and exit")
    a = p.parse_args(argv)
    if a.list:
        print("\n".join(api.__all__))
        return 0
    calls = []
    if a.script:
        with open(a.script) as f:
            calls = [(c["op"], json.dumps(c.get("args", {}))) for c in json.load(f)]
    elif a.op:
        calls = [(a.op, _args(a.json))]
    else:
        p.error("give an operation or --script")
    for op, args in calls:
        try:
            print(_bridge.dispatch("wmss_engine.api", op, args), flush=True)
        except Exception as e:  # reported as data, like the Go bridge does
            print(json.dumps({"error": type(e).__name__, "message": str(e), "op": op}), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

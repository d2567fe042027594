"""Tests of wmss_engine.tokenizer on small hand-built tokenizers (cases T05, T07, T08).

Parity with a real tokenizer (Qwen3) is in test_tokenizer_parity.py.
"""

import copy
import json
import os
import tempfile
import unittest

from wmss_engine.tokenizer import (
    DEFAULT_SPECIAL_TOKENS,
    Tokenizer,
    TokenizerError,
    build_byte_level,
    bytes_to_unicode,
    train_bpe,
    translate_pattern,
    QWEN2_SPLIT_PATTERN,
)
import re

BYTE_LEVEL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}


def toy_spec(merges, vocab=None):
    """The T05 toy BPE: vocab h,e,l,o,he,ll,hell,hello, Qwen-style pre-tokenizer."""
    if vocab is None:
        vocab = {"h": 0, "e": 1, "l": 2, "o": 3, "he": 4, "ll": 5, "hell": 6, "hello": 7}
    return {
        "version": "1.0",
        "added_tokens": [],
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_SPLIT_PATTERN}, "behavior": "Isolated", "invert": False},
            BYTE_LEVEL,
        ]},
        "decoder": BYTE_LEVEL,
        "model": {"type": "BPE", "vocab": vocab, "merges": merges},
    }


class TestByteAlphabet(unittest.TestCase):
    def test_gpt2_table(self):
        t = bytes_to_unicode()
        self.assertEqual(len(set(t.values())), 256)
        self.assertEqual(t[ord(" ")], "\u0120")  # Ġ
        self.assertEqual(t[ord("\n")], "\u010a")  # Ċ
        self.assertEqual(t[ord("A")], "A")
        self.assertEqual(t[0], "\u0100")
        self.assertEqual(t[0xAD], "\u0143")  # remapped bytes: 0..32 (33), 127..160 (34), then 0xAD: the 68th
        self.assertEqual(t[0xFF], "\u00ff")


class TestMergesT05(unittest.TestCase):
    def test_T05_string_and_pair_merges_agree(self):
        as_strings = Tokenizer(toy_spec(["h e", "l l", "he ll", "hell o"]))
        as_pairs = Tokenizer(toy_spec([["h", "e"], ["l", "l"], ["he", "ll"], ["hell", "o"]]))
        for tok in (as_strings, as_pairs):
            self.assertEqual(tok.encode("hello"), [7])
            self.assertEqual(tok.encode("hell"), [6])
            self.assertEqual(tok.encode("helo"), [4, 2, 3])
        self.assertEqual(as_strings._ranks, as_pairs._ranks)
        self.assertEqual(as_pairs._ranks[("hell", "o")], 3)

    def test_T05_merges_that_parse_to_nothing_are_a_load_error(self):
        for bad in (["hello"], [7], [["h"]], [["h", "e", "l"]], [{"a": "b"}], ["h  e"]):
            with self.subTest(merges=bad):
                with self.assertRaisesRegex(TokenizerError, r"model\.merges\[0\]"):
                    Tokenizer(toy_spec(bad))

    def test_T05_merge_result_must_be_in_vocab(self):
        with self.assertRaisesRegex(TokenizerError, r"merges\[0\]: 'oh' is not in model.vocab"):
            Tokenizer(toy_spec(["o h"]))

    def test_T05_hash_first_token_is_a_merge_not_a_comment(self):
        vocab = {"#": 0, "a": 1, "b": 2, "#a": 3, "#ab": 4}
        tok = Tokenizer(toy_spec(["# a", "#a b"], vocab))
        self.assertEqual(tok.encode("#ab"), [4])

    def test_rank_order_not_list_position_of_pairs_decides(self):
        # "hel": both h+e (rank 0) and e+l would apply; the lower rank wins.
        vocab = {"h": 0, "e": 1, "l": 2, "he": 3, "el": 4}
        self.assertEqual(Tokenizer(toy_spec(["h e", "e l"], vocab)).encode("hel"), [3, 2])
        self.assertEqual(Tokenizer(toy_spec(["e l", "h e"], vocab)).encode("hel"), [0, 4])


def byte_level_with(extra_added):
    """The build_byte_level tokenizer.json plus extra added-token records."""
    with tempfile.TemporaryDirectory() as d:
        build_byte_level(d)
        with open(os.path.join(d, "tokenizer.json"), encoding="utf-8") as f:
            spec = json.load(f)
        with open(os.path.join(d, "tokenizer_config.json"), encoding="utf-8") as f:
            config = json.load(f)
    next_id = max(a["id"] for a in spec["added_tokens"]) + 1
    for i, rec in enumerate(extra_added):
        spec["added_tokens"].append(dict({"id": next_id + i, "single_word": False, "lstrip": False, "rstrip": False,
                                          "normalized": False, "special": True}, **rec))
    return Tokenizer(spec, config)


def raw(text):
    return list(text.encode("utf-8"))  # byte-level tokenizer: id == byte


class TestAddedTokensT07(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tok = byte_level_with([{"content": "<X>", "rstrip": True}, {"content": "<Y>"},
                                   {"content": "<L>", "lstrip": True}])
        cls.X, cls.Y, cls.L = (cls.tok.token_to_id(t) for t in ("<X>", "<Y>", "<L>"))
        cls.start, cls.end = cls.tok.token_to_id("<|im_start|>"), cls.tok.token_to_id("<|im_end|>")

    def test_T07_special_tokens_are_one_id_whatever_the_neighbours(self):
        self.assertEqual(self.tok.encode("<|im_start|>user\nhi<|im_end|>"),
                         [self.start] + raw("user\nhi") + [self.end])
        self.assertEqual(self.tok.encode("a<|im_end|>b<|im_end|><|im_end|>"),
                         raw("a") + [self.end] + raw("b") + [self.end, self.end])

    def test_T07_rstrip_consumes_spaces_and_is_not_a_match_condition(self):
        self.assertEqual(self.tok.encode("<X>ok"), [self.X] + raw("ok"))
        self.assertEqual(self.tok.encode("<X>   ok"), [self.X] + raw("ok"))
        self.assertEqual(self.tok.encode("<X>"), [self.X])

    def test_T07_without_strip_spaces_stay_ordinary_tokens(self):
        self.assertEqual(self.tok.encode("<Y>   ok"), [self.Y] + raw("   ok"))
        self.assertEqual(self.tok.encode("ok   <|im_end|>"), raw("ok   ") + [self.end])

    def test_lstrip_consumes_spaces_before(self):
        self.assertEqual(self.tok.encode("a \t <L>b"), raw("a") + [self.L] + raw("b"))

    def test_longest_added_token_wins(self):
        tok = byte_level_with([{"content": "<A>"}, {"content": "<A><B>"}])
        self.assertEqual(tok.encode("x<A><B>"), raw("x") + [tok.token_to_id("<A><B>")])


T08_STRINGS = ["x != y", "a , b .", " ?", "tab\there", "  z", "日本語 🙂"]


class TestDecodeT08(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        corpus = T08_STRINGS * 3 + ["the answer is 42 , not 41 ! really ?", "日本語の文 🙂🙂"] * 5
        cls.bpe = train_bpe(corpus, 400, cls.dir.name)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_T08_round_trip_byte_for_byte(self):
        for s in T08_STRINGS + ["", "\n\n\n", "a\r\nb", "\u00a0x", "\U0001F600" * 3]:
            with self.subTest(s=s):
                ids = self.bpe.encode(s)
                self.assertEqual(self.bpe.decode(ids).encode("utf-8"), s.encode("utf-8"))
        # merges were learned, so multi-byte tokens are exercised
        self.assertLess(len(self.bpe.encode("日本語 🙂")), len("日本語 🙂".encode("utf-8")))

    def test_T08_no_cleanup_of_space_before_punctuation(self):
        ids = self.bpe.encode(" ?")
        self.assertEqual(self.bpe.decode(ids), " ?")
        self.assertEqual(self.bpe.decode(self.bpe.encode("a , b .")), "a , b .")

    def test_T08_streaming_never_emits_a_partial_character(self):
        with tempfile.TemporaryDirectory() as d:
            tok = build_byte_level(d)  # one token per byte: every multi-byte char is split
        for s in T08_STRINGS:
            dec = tok.incremental_decoder()
            pieces = [dec.feed([i]) for i in tok.encode(s)]
            pieces.append(dec.flush())
            self.assertEqual("".join(pieces), s)
            for p in pieces:
                self.assertNotIn("\ufffd", p)
        # 🙂 is 4 bytes: nothing comes out until the last one
        dec = tok.incremental_decoder()
        out = [dec.feed([b]) for b in "🙂".encode("utf-8")]
        self.assertEqual(out, ["", "", "", "🙂"])

    def test_incomplete_tail_becomes_replacement_only_at_flush(self):
        with tempfile.TemporaryDirectory() as d:
            tok = build_byte_level(d)
        dec = tok.incremental_decoder()
        self.assertEqual(dec.feed(list("é".encode("utf-8"))[:1]), "")
        self.assertEqual(dec.flush(), "\ufffd")
        self.assertEqual(tok.decode(list("é".encode("utf-8"))[:1]), "\ufffd")

    def test_skip_special_tokens(self):
        with tempfile.TemporaryDirectory() as d:
            tok = build_byte_level(d)
        ids = tok.encode("<|im_start|>hi<think>x</think><|im_end|>")
        self.assertEqual(tok.decode(ids, skip_special_tokens=True), "hi<think>x</think>")


class TestPretokenizerPattern(unittest.TestCase):
    def setUp(self):
        self.rx = re.compile(translate_pattern(QWEN2_SPLIT_PATTERN))

    def test_qwen_splits(self):
        cases = {
            "Hello world's  123": ["Hello", " world", "'s", " ", " ", "1", "2", "3"],
            "I'M here": ["I", "'M", " here"],
            "x != y\n\n  z": ["x", " !=", " y", "\n\n", " ", " z"],
            "日本語 🙂": ["日本語", " 🙂"],
            "a\r\nb": ["a", "\r\n", "b"],
            "(x+1)": ["(x", "+", "1", ")"],
        }
        for text, want in cases.items():
            with self.subTest(text=text):
                self.assertEqual(self.rx.findall(text), want)

    def test_unicode_classes(self):
        letter = re.compile(translate_pattern(r"\p{L}"))
        number = re.compile(translate_pattern(r"\p{N}"))
        for c in "aZéß日ж":
            self.assertTrue(letter.fullmatch(c), c)
        for c in "1_ 🙂-":
            self.assertFalse(letter.fullmatch(c), c)
        for c in "7٣½Ⅻ":
            self.assertTrue(number.fullmatch(c), c)
        space = re.compile(translate_pattern(r"\s"))
        self.assertTrue(space.fullmatch("\u3000"))
        self.assertFalse(space.fullmatch("\x1c"))  # str.isspace() says yes; White_Space says no

    def test_unsupported_class_member_is_an_error(self):
        with self.assertRaisesRegex(TokenizerError, "not supported"):
            translate_pattern(r"[\S]")


class TestFilesAndConfig(unittest.TestCase):
    def test_build_byte_level_layout(self):
        with tempfile.TemporaryDirectory() as d:
            tok = build_byte_level(d, extra_special=["<|pad|>"])
            self.assertTrue(os.path.isfile(os.path.join(d, "tokenizer.json")))
            with open(os.path.join(d, "tokenizer_config.json"), encoding="utf-8") as f:
                cfg = json.load(f)
        self.assertEqual(tok.vocab_size, 256 + len(DEFAULT_SPECIAL_TOKENS) + 1)
        self.assertEqual([tok.token_to_id(t) for t in DEFAULT_SPECIAL_TOKENS], [256, 257, 258, 259, 260])
        self.assertEqual(tok.token_to_id("<|pad|>"), 261)
        self.assertEqual(tok.eos_token_id, 258)
        self.assertEqual(tok.pad_token_id, 256)
        self.assertEqual(cfg["eos_token"], "<|im_end|>")
        self.assertIn("<|im_start|>", cfg["chat_template"])
        self.assertEqual(tok.encode("Aé"), [65, 0xC3, 0xA9])

    def test_train_bpe_hand_computed_merges(self):
        # words: low, Ġlow x2, Ġlower, Ġlowest. Pair counts: l o 5, o w 5 (tie -> smaller pair),
        # then lo w 5, Ġ low 4, Ġlow e 2; every other pair occurs once (< min_frequency 2).
        with tempfile.TemporaryDirectory() as d:
            tok = train_bpe(["low low low lower lowest"], 1000, d)
            with open(os.path.join(d, "tokenizer.json"), encoding="utf-8") as f:
                merges = json.load(f)["model"]["merges"]
        self.assertEqual(merges, [["l", "o"], ["lo", "w"], ["\u0120", "low"], ["\u0120low", "e"]])
        self.assertEqual(tok.token_to_id("\u0120lowe"), 259)
        self.assertEqual(tok.encode(" lowest"), [259, ord("s"), ord("t")])
        self.assertEqual(tok.vocab_size, 260 + len(DEFAULT_SPECIAL_TOKENS))

    def test_train_bpe_vocab_size_is_exact_and_deterministic(self):
        corpus = ["Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May."] * 4
        with tempfile.TemporaryDirectory() as d:
            a = train_bpe(corpus, 300, os.path.join(d, "a"))
            b = train_bpe(corpus, 300, os.path.join(d, "b"))
            self.assertEqual(a.vocab_size, 300)
            for name in ("tokenizer.json", "tokenizer_config.json"):
                with open(os.path.join(d, "a", name), "rb") as fa, open(os.path.join(d, "b", name), "rb") as fb:
                    self.assertEqual(fa.read(), fb.read())
        with self.assertRaisesRegex(ValueError, "vocab_size"):
            train_bpe(corpus, 100, tempfile.gettempdir())

    def test_missing_and_broken_files_name_the_file(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaisesRegex(TokenizerError, "tokenizer.json: not found"):
                Tokenizer.from_dir(d)
            with open(os.path.join(d, "tokenizer.json"), "w") as f:
                f.write('{"model": ')
            with self.assertRaisesRegex(TokenizerError, r"tokenizer.json: invalid JSON at line 1"):
                Tokenizer.from_dir(d)

    def test_added_token_dict_in_config_and_unknown_eos(self):
        spec = toy_spec(["h e"])
        spec["added_tokens"] = [{"id": 8, "content": "<|e|>", "special": True}]
        tok = Tokenizer(spec, {"eos_token": {"__type": "AddedToken", "content": "<|e|>"}})
        self.assertEqual(tok.eos_token_id, 8)
        self.assertIsNone(tok.pad_token_id)
        with self.assertRaisesRegex(TokenizerError, "eos_token: '<nope>' is not in the vocabulary"):
            Tokenizer(copy.deepcopy(spec), {"eos_token": "<nope>"})

    def test_unsupported_components_are_named(self):
        spec = toy_spec(["h e"])
        spec["normalizer"] = {"type": "Precompiled"}
        with self.assertRaisesRegex(TokenizerError, "normalizer: unsupported normalizer type 'Precompiled'"):
            Tokenizer(spec)
        spec = toy_spec(["h e"])
        spec["pre_tokenizer"] = {"type": "Whitespace"}
        with self.assertRaisesRegex(TokenizerError, "pre_tokenizer"):
            Tokenizer(spec)


if __name__ == "__main__":
    unittest.main()

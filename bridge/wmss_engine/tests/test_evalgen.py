"""Tests of evalgen.generate_chat on a tiny random model."""
import os
import shutil
import tempfile
import unittest

from wmss_engine import api, evalgen
from wmss_engine.chat import render_chat
from wmss_engine.tokenizer import Tokenizer


class GenerateChatTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        cls.model = os.path.join(cls.dir, "m")
        api.init_model(cls.model, size="tiny", seed=3)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def prompts(self):
        return [{"messages": [{"role": "user", "content": "What is 2+3?"}]},
                {"messages": [{"role": "user", "content": "Name a prime number larger than ten."}]}]

    def test_greedy_matches_direct_generation(self):
        res = evalgen.generate_chat(self.model, self.prompts(), n=2, max_new_tokens=6)["completions"]
        self.assertEqual(len(res), 2)
        tok = Tokenizer.from_dir(self.model)
        h = "direct"
        api.load_model(h, self.model)
        for i, p in enumerate(self.prompts()):
            ids = tok.encode(render_chat(tok, p["messages"], add_generation_prompt=True))
            want = api.generate(h, [ids], max_new_tokens=6)["completions"][0]
            self.assertEqual(len(res[i]), 2)
            for s in res[i]:
                self.assertEqual(s["completion_tokens"], len(want["tokens"]))
                self.assertEqual(s["text"], tok.decode(want["tokens"]))
                self.assertEqual(s["prompt_tokens"], len(ids))
                self.assertIn(s["finish_reason"], ("length", "stop", "eos"))

    def test_batch_size_does_not_change_greedy_output(self):
        a = evalgen.generate_chat(self.model, self.prompts(), max_new_tokens=5, batch_size=1)
        b = evalgen.generate_chat(self.model, self.prompts(), max_new_tokens=5, batch_size=8)
        self.assertEqual(a, b)

    def test_sampling_is_seeded(self):
        kw = dict(n=2, max_new_tokens=5, temperature=1.0, seed=11)
        a = evalgen.generate_chat(self.model, self.prompts(), **kw)
        b = evalgen.generate_chat(self.model, self.prompts(), **kw)
        self.assertEqual(a, b)

    def test_bad_arguments_name_the_field(self):
        with self.assertRaisesRegex(ValueError, r"prompts\[0\]\.messages"):
            evalgen.generate_chat(self.model, [{"messages": []}])
        with self.assertRaisesRegex(ValueError, "^n:"):
            evalgen.generate_chat(self.model, self.prompts(), n=0)


if __name__ == "__main__":
    unittest.main()

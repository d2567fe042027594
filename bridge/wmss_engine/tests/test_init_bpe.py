"""api.init_model with a BPE tokenizer trained on a corpus."""
import os
import shutil
import tempfile
import unittest

from wmss_engine import api
from wmss_engine.tokenizer import Tokenizer, train_bpe


class InitBPETest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.corpus = os.path.join(self.dir, "corpus.txt")
        docs = ["Natalia sold clips to %d of her friends in April." % i for i in range(100)]
        with open(self.corpus, "w") as f:
            f.write("\n\n".join(docs))
        self.docs = docs

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_tokenizer_equals_train_bpe_on_the_documents(self):
        out = os.path.join(self.dir, "m")
        res = api.init_model(out, size="tiny", seed=1, bpe_corpus=self.corpus, bpe_vocab_size=300)
        ref = train_bpe(self.docs, 300, os.path.join(self.dir, "ref"))
        tok = Tokenizer.from_dir(out)
        text = "Natalia sold clips to 48 of her friends in April."
        self.assertEqual(tok.encode(text), ref.encode(text))
        self.assertLess(len(tok.encode(text)), len(text.encode()) // 2)  # merges happened
        self.assertEqual(res["config"]["vocab_size"] % 64, 0)
        self.assertGreaterEqual(res["config"]["vocab_size"], tok.vocab_size)

    def test_bad_combinations(self):
        out = os.path.join(self.dir, "m")
        with self.assertRaisesRegex(ValueError, "bpe_vocab_size"):
            api.init_model(out, bpe_corpus=self.corpus)
        with self.assertRaisesRegex(ValueError, "tokenizer_dir and bpe_corpus"):
            api.init_model(out, bpe_corpus=self.corpus, bpe_vocab_size=300, tokenizer_dir=self.dir)
        with self.assertRaises(FileNotFoundError):
            api.init_model(out, bpe_corpus=os.path.join(self.dir, "missing.txt"), bpe_vocab_size=300)


if __name__ == "__main__":
    unittest.main()

"""Tiny models and byte-level data shared by the engine tests (not a test module)."""
import torch

from wmss_engine import model as modellib

BYTE_OFFSET = 3  # ids 0..2 are pad, bos, eos; byte b has id b + 3
PAD, BOS, EOS = 0, 1, 2


def config(model_type="qwen3", vocab_size=64, hidden_size=32, layers=2, heads=4, kv_heads=2, head_dim=16,
           tie=True, **kw):
    """A 2-layer config small enough for CPU tests (hidden 32, GQA 4:2, head_dim 16)."""
    return modellib.Config(model_type=model_type, vocab_size=vocab_size, hidden_size=hidden_size,
                           intermediate_size=2 * hidden_size, num_hidden_layers=layers,
                           num_attention_heads=heads, num_key_value_heads=kv_heads, head_dim=head_dim,
                           tie_word_embeddings=tie, rope_theta=10000.0, **kw)


def model(cfg=None, seed=0, std=0.02, dtype=torch.float32, **kw):
    """A seeded random model; a larger std gives peaked logits (no argmax ties in generation tests)."""
    cfg = cfg or config(**kw)
    m = modellib.Model(cfg)
    m.init_weights(torch.Generator().manual_seed(seed), std=std)
    with torch.no_grad():  # non-trivial norm weights, so a wrong norm placement shows up
        for name, p in m.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=torch.Generator().manual_seed(seed + 1)))
    return m.to(dtype)


def encode_bytes(text):
    """UTF-8 bytes + BYTE_OFFSET (a byte-level stand-in for a tokenizer)."""
    return [b + BYTE_OFFSET for b in text.encode("utf-8")]


def decode_bytes(ids):
    """Inverse of encode_bytes; special ids are dropped, invalid UTF-8 replaced."""
    return bytes(i - BYTE_OFFSET for i in ids if BYTE_OFFSET <= i < 256 + BYTE_OFFSET).decode("utf-8", "replace")


def sample(prompt, completion, eos=True):
    """A {"input_ids", "loss_mask"} sample: BOS + prompt bytes (mask 0), completion bytes + EOS (mask 1)."""
    p = [BOS] + encode_bytes(prompt)
    c = encode_bytes(completion) + ([EOS] if eos else [])
    return {"input_ids": p + c, "loss_mask": [0] * len(p) + [1] * len(c)}


def random_samples(n, vocab, seed=0, min_len=4, max_len=12):
    """n random samples with a random prompt/completion split (completion ≥ 1 token)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        T = int(torch.randint(min_len, max_len + 1, (1,), generator=g))
        ids = torch.randint(3, vocab, (T,), generator=g).tolist()
        k = int(torch.randint(1, T - 1, (1,), generator=g))
        out.append({"input_ids": ids, "loss_mask": [0] * k + [1] * (T - k)})
    return out

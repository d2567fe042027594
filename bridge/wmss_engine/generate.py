"""Batched autoregressive generation with a KV cache and left padding.

Prompts of different lengths are left-padded to one length; each row's
position ids are cumsum(attention_mask) − 1, in the prefill and in every
cached decode step (case T21), so a row's tokens equal its unbatched output.
With ``use_cache=False`` every step re-runs the whole sequence (the
reference the cache is tested against).

Decoding: greedy when temperature is 0, else softmax(logits / temperature)
filtered by top-k (keep the k largest) then top-p (keep the smallest
prefix of the sorted distribution whose mass reaches p; Holtzman et al.
2019, "The Curious Case of Neural Text Degeneration") and sampled with a
torch.Generator seeded by ``seed`` (one generator for the batch).

Stopping (case T23): a row stops at an EOS id (finish_reason "stop",
stop_reason "eos"), when its decoded text contains a stop string
(finish_reason "stop", stop_reason the string; ``tokens`` ends with the
token that completed the string, ``text`` is cut just before the string,
even when the string began inside a longer token), or after max_new_tokens
(finish_reason "length"). In a batch only the finished row stops; the
others go on.
"""
import torch

from . import cancel

FINISH_STOP = "stop"
FINISH_LENGTH = "length"


def _filter_logits(logits, top_k, top_p):
    """Set logits outside top-k / top-p to −inf; logits (B, V) float32."""
    V = logits.shape[-1]
    if top_k and 0 < top_k < V:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        probs = torch.softmax(sorted_logits, dim=-1)
        before = probs.cumsum(-1) - probs  # mass strictly before each token
        drop_sorted = before >= top_p  # the first token is always kept (before = 0)
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def next_tokens(logits, temperature=0.0, top_k=0, top_p=1.0, generator=None):
    """Choose one token per row from logits (B, V); returns (B,) int64."""
    logits = logits.float()
    if temperature <= 0:
        return logits.argmax(-1)
    logits = _filter_logits(logits / temperature, top_k, top_p)
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator)[:, 0]


@torch.no_grad()
def generate(model, prompts, max_new_tokens, temperature=0.0, top_k=0, top_p=1.0, seed=0,
             eos_token_ids=(), stop_strings=(), decode=None, pad_id=0, use_cache=True, vocab_limit=None):
    """Generate continuations of token-id prompts; returns one dict per prompt.

    model: a wmss_engine.model.Model (or HFModel). prompts: list of B non-empty
    lists of int. max_new_tokens: int ≥ 1. temperature, top_k, top_p, seed:
    see the module docstring. eos_token_ids: ids that end a row. stop_strings:
    strings that end a row, matched on decode(tokens) (decode: list of int →
    str; required with stop_strings). Result per row: {"tokens": [int]
    new tokens (including a final EOS or the token completing a stop
    string), "finish_reason": "stop" | "length", "stop_reason": "eos" | the
    stop string | None, "text": decoded text, cut before a stop string and
    without the EOS (only when decode is given)}. vocab_limit: ids ≥ this are
    never chosen (the padded rows of an embedding beyond the tokenizer's vocab).
    Raises ValueError naming the argument for an empty prompt, a bad
    max_new_tokens or stop_strings without decode.
    """
    if not prompts or any(len(p) == 0 for p in prompts):
        raise ValueError("prompts: every prompt needs at least one token")
    if max_new_tokens < 1:
        raise ValueError("max_new_tokens: %r, want ≥ 1" % max_new_tokens)
    stop_strings = [s for s in (stop_strings or []) if s]
    if stop_strings and decode is None:
        raise ValueError("stop_strings: need a tokenizer to decode the generated text")
    eos = set(int(e) for e in (eos_token_ids or []))
    model.eval()
    dev = next(model.parameters()).device
    B, L = len(prompts), max(len(p) for p in prompts)
    ids = torch.full((B, L), pad_id, dtype=torch.long, device=dev)
    att = torch.zeros((B, L), dtype=torch.long, device=dev)
    for i, p in enumerate(prompts):
        ids[i, L - len(p):] = torch.tensor(p, dtype=torch.long)
        att[i, L - len(p):] = 1
    gen = torch.Generator(device=dev).manual_seed(int(seed)) if temperature > 0 else None
    out = [[] for _ in range(B)]
    results = [None] * B
    max_stop = max((len(s) for s in stop_strings), default=0)
    scanned = [0] * B  # text length already searched for stop strings, per row
    cache = None
    logits, cache = model(ids, att, cache=None)  # prefill
    for step in range(max_new_tokens):
        cancel.check()
        last = logits[:, -1]  # (B, V)
        if vocab_limit is not None and vocab_limit < last.shape[-1]:
            last = last.float().index_fill(-1, torch.arange(vocab_limit, last.shape[-1], device=dev),
                                           float("-inf"))
        tok = next_tokens(last, temperature, top_k, top_p, gen)  # (B,)
        for i in range(B):
            if results[i] is not None:
                continue
            t = int(tok[i])
            out[i].append(t)
            if t in eos:
                results[i] = _result(out[i], FINISH_STOP, "eos", decode, out[i][:-1], None)
                continue
            if stop_strings:
                text = decode(out[i])
                start = max(0, scanned[i] - max_stop + 1)
                hit = _find_stop(text, stop_strings, start)
                scanned[i] = len(text)
                if hit is not None:
                    results[i] = _result(out[i], FINISH_STOP, hit[1], None, None, text[:hit[0]])
                    continue
            if step == max_new_tokens - 1:
                results[i] = _result(out[i], FINISH_LENGTH, None, decode, out[i], None)
        if all(r is not None for r in results):
            break
        done = torch.tensor([r is not None for r in results], device=dev)
        tok = tok.masked_fill(done, pad_id)  # finished rows keep running on padding, ignored
        att = torch.cat((att, torch.ones((B, 1), dtype=torch.long, device=dev)), dim=1)
        if use_cache:
            logits, cache = model(tok[:, None], att, cache=cache)
        else:
            ids = torch.cat((ids, tok[:, None]), dim=1)
            logits, _ = model(ids, att, cache=None)
    return results


def _find_stop(text, stop_strings, start):
    """Return (index, stop string) of the earliest stop string in text[start:], or None."""
    best = None
    for s in stop_strings:
        j = text.find(s, start)
        if j >= 0 and (best is None or j < best[0]):
            best = (j, s)
    return best


def _result(tokens, finish, stop_reason, decode, text_tokens, text):
    r = {"tokens": list(tokens), "finish_reason": finish, "stop_reason": stop_reason}
    if text is not None:
        r["text"] = text
    elif decode is not None:
        r["text"] = decode(text_tokens)
    return r

"""Generation for evaluation: chat prompts in, completion texts out.

The Go evaluation runner (evaluators/evalrun) sends chat messages; this
module renders them with the model's chat template (add_generation_prompt,
enable_thinking), tokenizes, generates n samples per prompt in batches with
api.generate (KV cache, left padding), and returns the decoded texts.
"""
from . import api, cancel
from .chat import render_chat
from .tokenizer import Tokenizer

__all__ = ["generate_chat"]

_loaded = {}  # model dir → engine handle


def _handle(model_dir, dtype):
    key = (model_dir, dtype)
    if key not in _loaded:
        h = "eval:%d" % len(_loaded)
        api.load_model(h, model_dir, dtype=dtype)
        _loaded[key] = h
    return _loaded[key]


def generate_chat(model_dir, prompts, n=1, max_new_tokens=256, temperature=0.0, top_p=1.0, top_k=0,
                  seed=0, stop_strings=None, batch_size=8, dtype="float32", max_prompt_tokens=None):
    """Generate n completions for each chat prompt with the model in model_dir.

    model_dir: str, an HF-layout directory with tokenizer.json and a chat
    template. prompts: list of {"messages": [{"role", "content"}], "thinking":
    bool}. n: samples per prompt (int ≥ 1); sample j of prompt i uses seed
    seed + j·len(prompts) + i, so results do not depend on batch_size.
    Greedy (temperature 0) with n > 1 gives n copies of one sample.
    max_prompt_tokens: keep only the last that many prompt tokens (None: all).
    Returns {"completions": [[{"text", "completion_tokens", "finish_reason",
    "prompt_tokens"}] × n] × len(prompts)}.
    Raises ValueError for a bad argument (names it), KeyError/CheckpointError
    for an unloadable model, cancel.Cancelled between batches.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError("n: want an integer ≥ 1, got %r" % (n,))
    if batch_size < 1:
        raise ValueError("batch_size: want ≥ 1, got %r" % (batch_size,))
    tok = Tokenizer.from_dir(model_dir)
    handle = _handle(model_dir, dtype)
    ids = []
    for i, p in enumerate(prompts):
        msgs = p.get("messages") if isinstance(p, dict) else None
        if not isinstance(msgs, list) or not msgs:
            raise ValueError("prompts[%d].messages: want a non-empty list" % i)
        thinking = p.get("thinking")
        text = render_chat(tok, msgs, add_generation_prompt=True, enable_thinking=thinking)
        t = tok.encode(text)
        if max_prompt_tokens and len(t) > max_prompt_tokens:
            t = t[-max_prompt_tokens:]
        ids.append(t)
    out = [[None] * n for _ in prompts]
    if temperature <= 0:
        # Greedy decoding is deterministic: generate each prompt once, in
        # batches, and repeat the result for the n samples.
        for start in range(0, len(ids), batch_size):
            cancel.check()
            res = api.generate(handle, ids[start:start + batch_size], max_new_tokens=max_new_tokens,
                               temperature=0.0, stop_strings=stop_strings)["completions"]
            for k, r in enumerate(res):
                rec = _record(r, tok, len(ids[start + k]))
                out[start + k] = [dict(rec) for _ in range(n)]
        return {"completions": out}
    # Sampling: one call per sample with its own seed, so a sample does not
    # depend on which others share its batch.
    for j in range(n):
        for i in range(len(ids)):
            cancel.check()
            r = api.generate(handle, [ids[i]], max_new_tokens=max_new_tokens, temperature=temperature,
                             top_k=top_k, top_p=top_p, seed=seed + j * len(ids) + i,
                             stop_strings=stop_strings)["completions"][0]
            out[i][j] = _record(r, tok, len(ids[i]))
    return {"completions": out}


def _record(res, tok, prompt_tokens):
    text = res.get("text")
    if text is None:
        text = tok.decode(res["tokens"])
    return {"text": text, "completion_tokens": len(res["tokens"]), "finish_reason": res["finish_reason"],
            "prompt_tokens": prompt_tokens}

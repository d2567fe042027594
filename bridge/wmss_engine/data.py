"""Training data for the Go pipeline: tokenization of samples and corpora into registered datasets.

The Go side (training/pipeline.go) owns the data policy: it reads and
validates the JSONL, decides which samples a length policy keeps
(training.ApplyMaxLength), and forms every batch. This module does the part
that needs the tokenizer, in two calls so that the decision stays in Go:

1. ``tokenize_dataset(handle, tokenizer_dir, samples, max_length)``
   tokenizes every sample at full length with ``chat.tokenize_sample`` and
   reports per sample ``tokens`` and ``supervised_in_window`` (the supervised
   targets among the first max_length tokens), or the reason it cannot be
   used. The tokenized samples wait under handle.
2. ``register_tokenized(handle, keep, max_length)`` truncates the kept
   samples to max_length, registers them with ``api.register_dataset`` under
   handle (indices of later calls are positions in keep), and forgets the rest.

``tokenize_corpus`` cuts a plain-text file into blocks for the optional
pretraining stage (full-sequence loss).

Supervised positions follow ops.shift (docs/wmss-method.md, "Notation"):
the logit at position t predicts token t+1, so a mask bit at position 0 can
never be trained; ``supervised_in_window`` counts mask[1:max_length], the
same count ``api.register_dataset`` uses (training case T24).

``configure_trainer`` sets the gradient-clip norm of a trainer, which
``api.create_trainer`` does not take (train.Trainer has it; see the report of
the pipeline issue).
"""
import os

from . import api
from . import chat
from .tokenizer import Tokenizer

__all__ = ["tokenize_dataset", "register_tokenized", "tokenize_corpus", "configure_trainer", "pending", "release"]

_tokenizers = {}  # directory → Tokenizer
_pending = {}  # handle → list of {"input_ids", "completion_mask"} or None (unusable sample)


def _tokenizer(tokenizer_dir):
    if not isinstance(tokenizer_dir, str) or not tokenizer_dir:
        raise ValueError("tokenizer_dir: want a directory holding tokenizer.json, got %r" % (tokenizer_dir,))
    tok = _tokenizers.get(tokenizer_dir)
    if tok is None:
        tok = Tokenizer.from_dir(tokenizer_dir)
        _tokenizers[tokenizer_dir] = tok
    return tok


def _check_max_length(max_length):
    if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 2:
        raise ValueError("max_length: want an int ≥ 2, got %r" % (max_length,))


def tokenize_dataset(handle, tokenizer_dir, samples, max_length, use_chat_template=True,
                     assistant_turns="all"):
    """Tokenize training samples at full length and keep them under handle until register_tokenized.

    Args:
        handle: str, the dataset handle the samples will be registered under.
        tokenizer_dir: directory with tokenizer.json (+ tokenizer_config.json
            with the chat template).
        samples: list of ``{"prompt", "completion"}`` or ``{"messages"}``
            objects, each with an optional ``"line"`` (int, 1-based, for messages).
        max_length: int ≥ 2, the window the lengths are reported against.
        use_chat_template: render prompt/completion as a user turn and an
            assistant turn with the tokenizer's chat template (default), else
            as raw text prompt + completion + eos.
        assistant_turns: "all" or "last", the supervised turns of a chat.
    Returns: ``{"lengths": [{"tokens": int, "supervised_in_window": int} |
        {"error": reason, "message": str}]}``, one per sample in order. reason
        is chat.SampleError's (``empty_completion``, ``no_supervised_tokens``,
        ``invalid_sample``, ``template_mismatch``).
    Raises: ValueError for bad arguments; tokenizer.TokenizerError or
        chat.ChatTemplateError when the tokenizer files cannot be used.
    """
    _check_max_length(max_length)
    if not isinstance(samples, list):
        raise ValueError("samples: want a list of objects")
    tok = _tokenizer(tokenizer_dir)
    if use_chat_template and not tok.chat_template:
        raise chat.ChatTemplateError("%s/tokenizer_config.json: chat_template: missing (needed to render "
                                     "prompt/completion samples)" % tokenizer_dir)
    out, pending = [], []
    for i, s in enumerate(samples):
        if not isinstance(s, dict):
            raise ValueError("samples[%d]: want an object" % i)
        line = s.get("line")
        body = {k: v for k, v in s.items() if k != "line"}
        try:
            r = chat.tokenize_sample(tok, body, None, assistant_turns=assistant_turns,
                                     use_chat_template=use_chat_template, line=line)
        except chat.SampleError as e:
            out.append({"error": e.reason, "message": str(e)})
            pending.append(None)
            continue
        ids, mask = r["input_ids"], r["completion_mask"]
        out.append({"tokens": len(ids), "supervised_in_window": sum(mask[1:max_length])})
        pending.append({"input_ids": ids, "completion_mask": mask})
    _pending[handle] = pending
    return {"lengths": out}


def register_tokenized(handle, keep, max_length):
    """Register the samples at positions keep of the last tokenize_dataset(handle, ...), cut to max_length.

    keep: list of int, positions into that call's samples (the order is the
    dataset's order). Returns api.register_dataset's dict. Raises KeyError
    when nothing is pending under handle, ValueError for a position out of
    range or an unusable sample.
    """
    _check_max_length(max_length)
    if handle not in _pending:
        raise KeyError("dataset: nothing tokenized under handle %r (call tokenize_dataset first)" % handle)
    pending = _pending[handle]
    samples = []
    for j, i in enumerate(keep):
        if not isinstance(i, int) or not 0 <= i < len(pending):
            raise ValueError("keep[%d]: position %r is outside [0, %d)" % (j, i, len(pending)))
        s = pending[i]
        if s is None:
            raise ValueError("keep[%d]: sample %d could not be tokenized and cannot be kept" % (j, i))
        samples.append({"input_ids": s["input_ids"][:max_length], "loss_mask": s["completion_mask"][:max_length]})
    res = api.register_dataset(handle, samples)
    del _pending[handle]
    return res


def pending():
    """List the handles with tokenized samples waiting for register_tokenized."""
    return {"handles": sorted(_pending)}


def release(handle):
    """Drop handle everywhere: tokenized samples waiting under it here, and api.release(handle).

    Returns api.release's {"released": [kinds]}, with "pending" added when
    samples were waiting. An unknown handle is not an error.
    """
    res = api.release(handle)
    if _pending.pop(handle, None) is not None:
        res["released"].append("pending")
    return res


def tokenize_corpus(handle, tokenizer_dir, path, block_length, separator="eos"):
    """Cut a UTF-8 text file into blocks of block_length tokens and register them (full-sequence loss).

    The file is split into documents at blank lines; each document is encoded
    and followed by the separator token (``"eos"``: the tokenizer's eos;
    ``"none"``: nothing), the ids are concatenated and cut into consecutive
    blocks of block_length; a last block shorter than 2 tokens is dropped.
    Every position is supervised (loss_mask all 1).
    Returns {"handle", "num_samples" (blocks), "tokens", "documents"}.
    Raises FileNotFoundError naming path, ValueError for a file that is not
    UTF-8 (naming the byte offset) or holds no text.
    """
    _check_max_length(block_length)
    tok = _tokenizer(tokenizer_dir)
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError("%s: not UTF-8 at byte %d: %s" % (path, e.start, e.reason)) from None
    docs = [d.strip() for d in text.replace("\r\n", "\n").split("\n\n")]
    docs = [d for d in docs if d]
    if not docs:
        raise ValueError("%s: the corpus holds no text" % path)
    sep = []
    if separator == "eos":
        if tok.eos_token_id is not None:
            sep = [tok.eos_token_id]
    elif separator != "none":
        raise ValueError("separator: want 'eos' or 'none', got %r" % (separator,))
    ids = []
    for d in docs:
        ids += tok.encode(d) + sep
    blocks = [ids[i:i + block_length] for i in range(0, len(ids), block_length)]
    blocks = [b for b in blocks if len(b) >= 2]
    if not blocks:
        raise ValueError("%s: the corpus has fewer than 2 tokens" % path)
    res = api.register_dataset(handle, [{"input_ids": b, "loss_mask": [1] * len(b)} for b in blocks])
    return {"handle": handle, "num_samples": res["num_samples"], "tokens": len(ids), "documents": len(docs)}


def configure_trainer(handle, clip=1.0):
    """Set the gradient-norm clip of a trainer made by api.create_trainer or api.load_trainer.

    clip: float > 0, the max global L2 norm; 0 disables clipping (stored as
    +inf so clip_grad_norm_ only measures). api.load_trainer rebuilds the
    trainer with the default 1.0, so call this again after a load.
    Returns {"handle", "clip"}.
    """
    if isinstance(clip, bool) or not isinstance(clip, (int, float)) or clip != clip or clip < 0:
        raise ValueError("clip: want a number ≥ 0, got %r" % (clip,))
    t = api._trainer(handle)["trainer"]
    t.clip = float(clip) if clip > 0 else float("inf")
    t.hparams["clip"] = t.clip if clip > 0 else 0.0
    return {"handle": handle, "clip": float(clip)}

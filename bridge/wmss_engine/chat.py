"""Chat templates and tokenization of training samples with completion masks.

Templates are the Jinja strings of ``tokenizer_config.json`` (``chat_template``),
rendered the way ``transformers`` renders them: an immutable sandboxed
environment with ``trim_blocks`` and ``lstrip_blocks`` on, the ``loopcontrols``
extension, ``raise_exception`` and ``strftime_now`` globals, a ``tojson`` filter
that keeps non-ASCII characters, and the special tokens (``eos_token``, ...)
passed as variables. Extra keyword arguments such as ``enable_thinking`` are
passed through only when given, so ``enable_thinking is defined`` works.

Sample tokenization (:func:`tokenize_sample`) returns ``input_ids`` and a
``completion_mask`` (1 = supervised). The rules, each tied to a case:

* **Boundary from rendering, never from an id search (T18).** A
  ``{"prompt", "completion"}`` sample is tokenized as ``encode(prompt) +
  encode(completion)``, so the first supervised id is the first id of the
  completion even when BPE would merge across the boundary (that case is
  reported as ``prefix_consistent = False``). A ``{"messages": [...]}`` sample
  is rendered once; each assistant turn starts where the render of the
  preceding messages with ``add_generation_prompt=True`` ends (checked to be a
  prefix of the full render, which is the prefix consistency of T09) and ends
  just after its end-of-turn token (the tokenizer's ``eos_token``,
  ``<|im_end|>`` for Qwen). The text is cut at those character offsets and each
  segment is tokenized separately.
* **Assistant-turn policy (T19).** With ``assistant_turns="all"`` (default)
  every assistant turn is supervised; with ``"last"`` only the final one. The
  mask is 1 on what the model generates after the generation prompt, i.e. the
  turn's content (including any think block the template writes, such as
  Qwen3's ``<think>\\n\\n</think>\\n\\n`` on the last turn) and its
  ``<|im_end|>``; it is 0 on system and user turns, on
  ``<|im_start|>assistant\\n`` and on the newline the template puts after
  ``<|im_end|>``.
* **End of sequence.** A raw prompt/completion sample gets ``eos_token``
  appended to the completion (``add_eos``), so the model learns to stop.
* **Truncation.** ``max_length`` keeps the first ``max_length`` tokens (the
  right end is cut); the count cut is returned as ``truncated``.
* **Nothing to learn is an error** (T18, T24): :class:`SampleError` with
  ``reason`` ``empty_completion`` (the completion or every supervised
  assistant turn is empty) or ``no_supervised_tokens`` (no assistant turn, or
  truncation removed every supervised token), and the sample's line number
  when given.

:func:`collate` pads a batch and builds labels by position (T17): a label is
-100 where ``attention_mask`` is 0 or the completion mask is 0, never because of
the token's id, so a pad id equal to ``<|im_end|>`` does not hide the real
end-of-answer token.
"""

from __future__ import annotations

import json
from datetime import datetime

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = [
    "SampleError",
    "ChatTemplateError",
    "render_chat",
    "generation_prompt",
    "tokenize_sample",
    "collate",
    "IGNORE_INDEX",
]

# IGNORE_INDEX is the label value the loss skips (PyTorch cross_entropy's default ignore_index).
IGNORE_INDEX = -100

_SPECIAL_TOKEN_VARS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


class ChatTemplateError(ValueError):
    """ChatTemplateError reports a template that is missing, invalid, or raised ``raise_exception``."""


class SampleError(ValueError):
    """SampleError reports a training sample that cannot be used.

    Attributes:
        reason: a stable code: ``invalid_sample``, ``empty_completion``,
            ``no_supervised_tokens`` or ``template_mismatch``.
        line: the 1-based line number of the sample in its file, or None.
    """

    def __init__(self, reason: str, message: str, line: int | None = None):
        self.reason = reason
        self.line = line
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{where}{reason}: {message}")


class _GenerationTag(Extension):
    """Accepts ``{% generation %}...{% endgeneration %}`` and renders the body unchanged.

    transformers uses the tag to build assistant masks; wmss builds them from
    render offsets instead, so the tag only needs to parse.
    """

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.Scope(body, lineno=lineno)


def _raise_exception(message):
    raise ChatTemplateError(f"chat template: {message}")


def _tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


_compiled: dict[str, jinja2.Template] = {}


def _compile(template: str) -> jinja2.Template:
    t = _compiled.get(template)
    if t is None:
        env = ImmutableSandboxedEnvironment(
            trim_blocks=True, lstrip_blocks=True, extensions=[_GenerationTag, "jinja2.ext.loopcontrols"]
        )
        env.filters["tojson"] = _tojson
        env.globals["raise_exception"] = _raise_exception
        env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
        try:
            t = env.from_string(template)
        except jinja2.TemplateSyntaxError as e:
            raise ChatTemplateError(f"chat_template: line {e.lineno}: {e.message}") from None
        _compiled[template] = t
    return t


def render_chat(tok, messages, add_generation_prompt: bool = False, enable_thinking=None, **kwargs) -> str:
    """render_chat renders messages with the tokenizer's chat template.

    Args:
        tok: a :class:`wmss_engine.tokenizer.Tokenizer` (its ``chat_template``
            and special tokens are used).
        messages: list of ``{"role": str, "content": str, ...}``.
        add_generation_prompt: append the assistant header.
        enable_thinking: passed to the template when not None (Qwen3).
        kwargs: further template variables (``tools``, ``documents``, ...).
    Returns: the rendered text (not tokenized).
    Raises: ChatTemplateError when the tokenizer has no template or the
        template fails.
    """
    if not tok.chat_template:
        raise ChatTemplateError("tokenizer_config.json: chat_template: missing")
    ctx = {name: getattr(tok, name, None) or tok.config.get(name) for name in _SPECIAL_TOKEN_VARS}
    ctx = {k: (v.get("content") if isinstance(v, dict) else v) for k, v in ctx.items() if v is not None}
    ctx.update(messages=messages, add_generation_prompt=add_generation_prompt, tools=None, documents=None)
    if enable_thinking is not None:
        ctx["enable_thinking"] = enable_thinking
    ctx.update(kwargs)
    try:
        return _compile(tok.chat_template).render(**ctx)
    except ChatTemplateError:
        raise
    except jinja2.TemplateError as e:
        raise ChatTemplateError(f"chat_template: {type(e).__name__}: {e}") from None


def generation_prompt(tok, enable_thinking=None) -> str:
    """generation_prompt returns the text the template adds for ``add_generation_prompt``.

    Measured as render([user], True) minus render([user], False); raises
    ChatTemplateError when the first is not an extension of the second.
    """
    probe = [{"role": "user", "content": "x"}]
    without = render_chat(tok, probe, False, enable_thinking)
    with_gp = render_chat(tok, probe, True, enable_thinking)
    if not with_gp.startswith(without):
        raise ChatTemplateError("chat_template: add_generation_prompt changes the text before the prompt")
    return with_gp[len(without):]


def _check_messages(messages, line):
    if not isinstance(messages, list) or not messages:
        raise SampleError("invalid_sample", "messages: want a non-empty list", line)
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise SampleError("invalid_sample", f"messages[{i}]: want an object", line)
        if not isinstance(m.get("role"), str):
            raise SampleError("invalid_sample", f"messages[{i}].role: want a string", line)
        if not isinstance(m.get("content"), str):
            raise SampleError("invalid_sample", f"messages[{i}].content: want a string", line)


def _assistant_spans(tok, messages, full, assistant_turns, enable_thinking, line):
    """Character spans [start, end) of the supervised assistant turns in the full render."""
    eos = tok.eos_token
    if not eos:
        raise SampleError("template_mismatch", "the tokenizer has no eos_token to end assistant turns", line)
    idx = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    if assistant_turns == "last":
        idx = idx[-1:]
    elif assistant_turns != "all":
        raise ValueError(f"assistant_turns: want 'all' or 'last', got {assistant_turns!r}")
    spans = []
    for i in idx:
        if i == 0:
            prefix = generation_prompt(tok, enable_thinking)
        else:
            prefix = render_chat(tok, messages[:i], True, enable_thinking)
        if not full.startswith(prefix):
            raise SampleError(
                "template_mismatch",
                f"messages[{i}]: the render of messages[:{i}] with add_generation_prompt is not a prefix of the "
                "full render, so the turn's start cannot be located",
                line,
            )
        start = len(prefix)
        stop = full.find(eos, start)
        if stop < 0:
            raise SampleError("template_mismatch", f"messages[{i}]: the rendered turn has no {eos!r}", line)
        if spans and start < spans[-1][1]:
            raise SampleError("template_mismatch", f"messages[{i}]: overlaps the previous assistant turn", line)
        spans.append((start, stop + len(eos)))
    return idx, spans


def tokenize_sample(tok, sample: dict, max_length: int | None = None, *, assistant_turns: str = "all",
                    add_eos: bool = True, enable_thinking=None, use_chat_template: bool = False,
                    line: int | None = None) -> dict:
    """tokenize_sample turns one training sample into ids and a completion mask.

    Args:
        tok: a :class:`wmss_engine.tokenizer.Tokenizer`.
        sample: ``{"prompt": str, "completion": str}`` or
            ``{"messages": [{"role", "content"}, ...]}``.
        max_length: keep at most this many tokens (right truncation); None = all.
        assistant_turns: ``"all"`` or ``"last"`` (messages only; see module doc).
        add_eos: append eos to a raw completion that does not already end with it.
        enable_thinking: passed to the chat template when not None.
        use_chat_template: render a prompt/completion sample as a user turn and
            an assistant turn instead of raw text.
        line: the sample's 1-based line in its file, for error messages.
    Returns: dict with ``input_ids`` (list[int], length T), ``completion_mask``
        (list[int] of 0/1, length T), ``n_supervised`` (int), ``truncated``
        (tokens cut by max_length) and ``prefix_consistent`` (bool: whether
        tokenizing the whole text at once gives the same ids).
    Raises: SampleError (``invalid_sample``, ``empty_completion``,
        ``no_supervised_tokens``, ``template_mismatch``).
    """
    if not isinstance(sample, dict):
        raise SampleError("invalid_sample", f"want an object, got {type(sample).__name__}", line)
    if "messages" in sample:
        messages = sample["messages"]
        _check_messages(messages, line)
        return _tokenize_messages(tok, messages, max_length, assistant_turns, enable_thinking, line)
    for key in ("prompt", "completion"):
        if key not in sample:
            raise SampleError("invalid_sample", f"{key}: missing (want prompt and completion, or messages)", line)
        if not isinstance(sample[key], str):
            raise SampleError("invalid_sample", f"{key}: want a string, got {type(sample[key]).__name__}", line)
    prompt, completion = sample["prompt"], sample["completion"]
    if completion == "":
        raise SampleError("empty_completion", "completion is empty", line)
    if use_chat_template:
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}]
        return _tokenize_messages(tok, messages, max_length, "last", enable_thinking, line)
    p_ids = tok.encode(prompt)
    c_ids = tok.encode(completion)
    prefix_consistent = tok.encode(prompt + completion) == p_ids + c_ids
    eos = tok.eos_token_id
    if add_eos and eos is not None and (not c_ids or c_ids[-1] != eos):
        c_ids.append(eos)
    return _finish(p_ids + c_ids, [0] * len(p_ids) + [1] * len(c_ids), max_length, prefix_consistent, line)


def _tokenize_messages(tok, messages, max_length, assistant_turns, enable_thinking, line):
    full = render_chat(tok, messages, False, enable_thinking)
    idx, spans = _assistant_spans(tok, messages, full, assistant_turns, enable_thinking, line)
    if not spans:
        raise SampleError("no_supervised_tokens", "messages: no assistant turn to learn from", line)
    if all(messages[i]["content"] == "" for i in idx):
        raise SampleError("empty_completion", "every supervised assistant turn is empty", line)
    ids, mask, pos = [], [], 0
    for start, stop in spans:
        for a, b, flag in ((pos, start, 0), (start, stop, 1)):
            seg = tok.encode(full[a:b]) if b > a else []
            ids += seg
            mask += [flag] * len(seg)
        pos = stop
    tail = tok.encode(full[pos:]) if pos < len(full) else []
    ids += tail
    mask += [0] * len(tail)
    return _finish(ids, mask, max_length, tok.encode(full) == ids, line)


def _finish(ids, mask, max_length, prefix_consistent, line):
    truncated = 0
    if max_length is not None:
        if max_length <= 0:
            raise ValueError(f"max_length: want > 0, got {max_length}")
        truncated = max(0, len(ids) - max_length)
        ids, mask = ids[:max_length], mask[:max_length]
    n = sum(mask)
    if n == 0:
        why = f"truncation to max_length {max_length} removed all of them" if truncated else "none in the sample"
        raise SampleError("no_supervised_tokens", f"0 supervised tokens ({why})", line)
    return {"input_ids": ids, "completion_mask": mask, "n_supervised": n, "truncated": truncated,
            "prefix_consistent": prefix_consistent}


def collate(samples, pad_id: int, pad_to: int | None = None, completion_only: bool = True) -> dict:
    """collate right-pads tokenized samples into a batch with labels.

    Args:
        samples: dicts from :func:`tokenize_sample` (``input_ids``,
            ``completion_mask``).
        pad_id: the id written into padded positions (may equal eos).
        pad_to: pad to this length (default: the longest sample).
        completion_only: label only completion positions; False labels every
            real position (full-sequence loss).
    Returns: dict of lists of shape (B, T): ``input_ids``, ``attention_mask``
        (1 real, 0 pad) and ``labels`` (the input id, unshifted, or
        :data:`IGNORE_INDEX`). A label is ignored by position only: where
        ``attention_mask`` is 0 or (completion_only and) the completion mask
        is 0 (case T17). The loss shifts labels by one itself.
    """
    width = max(len(s["input_ids"]) for s in samples)
    if pad_to is not None:
        if pad_to < width:
            raise ValueError(f"pad_to: {pad_to} is shorter than the longest sample ({width})")
        width = pad_to
    batch = {"input_ids": [], "attention_mask": [], "labels": []}
    for s in samples:
        ids, cm = s["input_ids"], s["completion_mask"]
        n = len(ids)
        batch["input_ids"].append(list(ids) + [pad_id] * (width - n))
        batch["attention_mask"].append([1] * n + [0] * (width - n))
        keep = cm if completion_only else [1] * n
        batch["labels"].append([t if k else IGNORE_INDEX for t, k in zip(ids, keep)] + [IGNORE_INDEX] * (width - n))
    return batch

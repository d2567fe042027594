"""The engine operations the Go side calls (through _bridge.dispatch) and ``python3 -m wmss_engine`` runs.

Every operation takes JSON-able keyword arguments and returns a JSON-able
dict (no NaN: a value that does not exist is null). Models, datasets and
trainers live in a registry on the Python side under handle strings the
caller chooses; token tensors never cross the bridge during training.

Data flow: ``register_dataset(handle, samples=[{"input_ids": [...],
"loss_mask": [...]}, ...])`` once (loss_mask marks supervised target
tokens, 1 = completion token), then ``sft_step`` / ``joint_step`` /
``sample_entropy`` / ``heldout_loss`` take ``indices`` into it. A step's
indices are its global batch; ``micro_batch_size`` splits it for gradient
accumulation (the loss is normalised by the supervised tokens of the whole
global batch, see train.py).

Errors: ValueError (bad argument, message names it), KeyError (unknown
handle), checkpoint.CheckpointError (unloadable files, names file and key),
ops.NonFiniteError (names the sample), cancel.Cancelled.
"""
import os

import torch

from . import checkpoint
from . import generate as genlib
from . import train as trainlib

__all__ = [
    "init_model", "load_model", "save_model", "release", "handles",
    "register_dataset", "sample_entropy", "heldout_loss",
    "create_trainer", "sft_step", "joint_step", "save_trainer", "load_trainer", "extract_strong",
    "generate",
]

_models = {}  # handle → {"model", "path", "tokenizer_dir"}
_datasets = {}  # handle → list of samples
_trainers = {}  # handle → {"trainer", "strong", "weak"} (model handles)


def _model(handle):
    if handle not in _models:
        raise KeyError("model: no model loaded under handle %r" % handle)
    return _models[handle]["model"]


def _dataset(handle):
    if handle not in _datasets:
        raise KeyError("dataset: no dataset registered under handle %r" % handle)
    return _datasets[handle]


def _trainer(handle):
    if handle not in _trainers:
        raise KeyError("trainer: no trainer under handle %r" % handle)
    return _trainers[handle]


def _pick(samples, indices, vocab_size=None, field="indices"):
    """Return the samples at indices (all when None), checking range and token ids."""
    if indices is None:
        indices = range(len(samples))
    out = []
    for i in indices:
        if not isinstance(i, int) or not 0 <= i < len(samples):
            raise ValueError("%s: index %r is outside [0, %d)" % (field, i, len(samples)))
        s = samples[i]
        if vocab_size is not None and s["max_id"] >= vocab_size:
            raise ValueError("dataset sample %d: token id %d ≥ vocab_size %d" % (i, s["max_id"], vocab_size))
        out.append(s)
    return out


def _pad_id(model):
    p = model.config.pad_token_id
    return 0 if p is None else int(p)


def init_model(out, size="tiny", seed=0, vocab_size=None, tokenizer_dir=None, model_type="qwen3",
               dtype="float32", bpe_corpus=None, bpe_vocab_size=None):
    """Write a seeded random-init model of a named size (tiny ≈1.2M, small ≈12.6M parameters) to out.

    Tokenizer: tokenizer_dir's files; or, with bpe_corpus (a UTF-8 text
    file, documents separated by blank lines) and bpe_vocab_size (total ids,
    > 261), a byte-level BPE trained on it (tokenizer.train_bpe, deterministic);
    otherwise the byte-level tokenizer. See checkpoint.init_model.
    Returns {"path", "config", "num_parameters", "warnings"}.
    Raises ValueError when both tokenizer_dir and bpe_corpus are given, or
    bpe_vocab_size is missing; FileNotFoundError naming bpe_corpus.
    """
    if bpe_corpus is None:
        return checkpoint.init_model(out, size, seed, vocab_size, tokenizer_dir, model_type, dtype)
    if tokenizer_dir:
        raise ValueError("tokenizer_dir and bpe_corpus: give one of them")
    if not bpe_vocab_size:
        raise ValueError("bpe_vocab_size: required with bpe_corpus")
    import tempfile
    from .tokenizer import train_bpe
    with open(bpe_corpus, encoding="utf-8") as f:
        docs = [d.strip() for d in f.read().replace("\r\n", "\n").split("\n\n") if d.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        train_bpe(docs, int(bpe_vocab_size), tmp)
        return checkpoint.init_model(out, size, seed, vocab_size, tmp, model_type, dtype)


def default_device(device=None):
    """Resolve a device name: None or "auto" means $WMSS_DEVICE when set, else
    "cuda" when torch sees a GPU, else "cpu". Other values pass through.
    Raises ValueError for "cuda" without a visible GPU."""
    if device in (None, "", "auto"):
        device = os.environ.get("WMSS_DEVICE", "auto") or "auto"
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("device: %r asked for, but torch sees no CUDA device" % device)
    return device


def load_model(handle, path, dtype="float32", device=None, backend="auto"):
    """Load the HF-layout model directory path under handle (replacing any model of that handle).

    dtype "float32" | "bfloat16" | "float16"; device: see default_device (the GPU when
    there is one, unless $WMSS_DEVICE says otherwise); backend "native" | "transformers" | "auto"
    (auto: transformers when importable, else native).
    Returns {"handle", "backend", "num_parameters", "config", "warnings"}.
    """
    model, warnings = checkpoint.load_model(path, dtype, default_device(device), backend)
    tok = path if os.path.isfile(os.path.join(path, "tokenizer.json")) else None
    _models[handle] = {"model": model, "path": path, "tokenizer_dir": tok, "tokenizer": None}
    return {"handle": handle, "backend": model.backend, "num_parameters": model.num_parameters(),
            "config": model.config.to_dict(), "warnings": warnings}


def save_model(handle, out):
    """Save the model under handle to out in HF layout (with its tokenizer files when known)."""
    entry = _models.get(handle)
    if entry is None:
        raise KeyError("model: no model loaded under handle %r" % handle)
    files = checkpoint.save_model(entry["model"], out, tokenizer_dir=entry["tokenizer_dir"])
    return {"path": out, "files": [os.path.basename(f) for f in files]}


def release(handle):
    """Drop a model, dataset or trainer handle (a trainer's models stay loaded). Returns {"released": [kinds]}."""
    kinds = []
    for kind, reg in (("model", _models), ("dataset", _datasets), ("trainer", _trainers)):
        if reg.pop(handle, None) is not None:
            kinds.append(kind)
    return {"released": kinds}


def handles():
    """List the live handles: {"models": [...], "datasets": [...], "trainers": [...]}."""
    return {"models": sorted(_models), "datasets": sorted(_datasets), "trainers": sorted(_trainers)}


def register_dataset(handle, samples):
    """Register tokenized samples under handle.

    samples: list of {"input_ids": [int], "loss_mask": [0|1]} of equal lengths.
    Returns {"handle", "num_samples", "supervised_tokens", "invalid": [{"index",
    "reason"}]} where reason "no_supervised_tokens" marks a sample whose
    loss_mask has no 1 after position 0 (it can train nothing; case T24).
    Raises ValueError naming samples[i] and the field for malformed input.
    """
    out, invalid, total = [], [], 0
    for i, s in enumerate(samples):
        if not isinstance(s, dict):
            raise ValueError("samples[%d]: want an object with input_ids and loss_mask" % i)
        ids, mask = s.get("input_ids"), s.get("loss_mask")
        if not isinstance(ids, list) or not ids or not all(isinstance(t, int) and t >= 0 for t in ids):
            raise ValueError("samples[%d].input_ids: want a non-empty list of non-negative ints" % i)
        if not isinstance(mask, list) or len(mask) != len(ids) or not all(m in (0, 1) for m in mask):
            raise ValueError("samples[%d].loss_mask: want a list of 0/1 of length %d" % (i, len(ids)))
        n = sum(mask[1:])
        if n == 0:
            invalid.append({"index": i, "reason": "no_supervised_tokens"})
        total += n
        out.append({"input_ids": ids, "loss_mask": mask, "max_id": max(ids)})
    _datasets[handle] = out
    return {"handle": handle, "num_samples": len(out), "supervised_tokens": total, "invalid": invalid}


def sample_entropy(model, dataset, indices=None, batch_size=8):
    """Sample entropies H(M; x_i) (docs/wmss-method.md) of the dataset's samples at indices.

    Returns {"entropies": [float | null]} in indices order; null for a sample
    without supervised tokens. Raises ops.NonFiniteError naming the sample.
    """
    m = _model(model)
    idx = list(range(len(_dataset(dataset)))) if indices is None else list(indices)
    samples = _pick(_dataset(dataset), idx, m.config.vocab_size)
    return {"entropies": trainlib.entropies(m, samples, batch_size, _pad_id(m), idx)}


def heldout_loss(model, dataset, indices=None, batch_size=8, loss_positions="completion"):
    """Held-out cross-entropy, nats per supervised token: {"loss": float | null, "supervised_tokens": int}."""
    m = _model(model)
    samples = _pick(_dataset(dataset), indices, m.config.vocab_size)
    return trainlib.heldout_loss(m, samples, batch_size, _pad_id(m), loss_positions)


def create_trainer(handle, strong, weak=None, weak_mode="trained", weight_decay=0.0, betas=(0.9, 0.999),
                   eps=1e-8):
    """Create an AdamW trainer over model handle strong (SFT) or strong + weak (WMSS joint).

    weak_mode "trained" (both models optimized) | "frozen" (weak under no_grad,
    not in the optimizer). Returns {"handle", "joint", "weak_mode", "trained_parameters"}.
    """
    t = trainlib.Trainer(_model(strong), None if weak is None else _model(weak), weak_mode, weight_decay,
                         betas, eps)
    _trainers[handle] = {"trainer": t, "strong": strong, "weak": weak}
    return {"handle": handle, "joint": weak is not None, "weak_mode": weak_mode,
            "trained_parameters": sum(p.numel() for p in t.params)}


def _micro_batches(samples, micro_batch_size):
    if micro_batch_size is None:
        return [samples]
    if micro_batch_size < 1:
        raise ValueError("micro_batch_size: %r, want ≥ 1" % micro_batch_size)
    return [samples[i:i + micro_batch_size] for i in range(0, len(samples), micro_batch_size)]


def sft_step(trainer, dataset, indices, lr, micro_batch_size=None, loss_positions="completion"):
    """One SFT optimizer step of the trainer's strong model on the global batch at indices.

    lr: learning rate of this step. Returns train.Trainer.step's dict: loss
    (nats per supervised token), supervised_tokens, grad_norm (before
    clipping to 1.0), stats (logit statistics), or skipped with reason.
    """
    e = _trainer(trainer)
    if e["weak"] is not None:
        raise ValueError("trainer: %r is a joint trainer; use joint_step" % trainer)
    m = e["trainer"].strong
    samples = _pick(_dataset(dataset), indices, m.config.vocab_size)
    return e["trainer"].step(_micro_batches(samples, micro_batch_size), lr, None, loss_positions, _pad_id(m))


def joint_step(trainer, dataset, indices, lr, lam=0.5, micro_batch_size=None, loss_positions="completion"):
    """One WMSS joint step: CE of softmax(λ·z_s + (1−λ)·z_w) on the global batch at indices.

    lam: λ, the weight of the strong model (docs/wmss-method.md). Result as
    sft_step, with stats also over the mixed distribution.
    """
    e = _trainer(trainer)
    if e["weak"] is None:
        raise ValueError("trainer: %r has no weak model; use sft_step" % trainer)
    m = e["trainer"].strong
    samples = _pick(_dataset(dataset), indices, m.config.vocab_size)
    return e["trainer"].step(_micro_batches(samples, micro_batch_size), lr, float(lam), loss_positions,
                             _pad_id(m))


def save_trainer(trainer, out):
    """Save a trainer for resume: out/strong and out/weak in HF layout, out/trainer.pt (optimizer, RNG, counters)."""
    e = _trainer(trainer)
    t = e["trainer"]
    os.makedirs(out, exist_ok=True)
    save_model(e["strong"], os.path.join(out, "strong"))
    if e["weak"] is not None:
        save_model(e["weak"], os.path.join(out, "weak"))
    st = t.state_dict()
    st["handles"] = {"strong": e["strong"], "weak": e["weak"]}
    tmp = os.path.join(out, "trainer.pt.tmp")
    torch.save(st, tmp)
    os.replace(tmp, os.path.join(out, "trainer.pt"))
    return {"path": out, "step": t.steps}


def load_trainer(handle, path, strong, weak=None, dtype="float32", device=None, backend="auto"):
    """Resume a trainer saved by save_trainer: loads path/strong (and path/weak) under the model handles
    strong and weak, rebuilds the trainer and restores optimizer, RNG and step counters. Returns {"handle", "step"}.
    """
    st = torch.load(os.path.join(path, "trainer.pt"))
    if st["joint"] and weak is None:
        raise ValueError("weak: the saved trainer is joint; give a handle for its weak model")
    load_model(strong, os.path.join(path, "strong"), dtype, device, backend)
    if st["joint"]:
        load_model(weak, os.path.join(path, "weak"), dtype, device, backend)
    hp = st["hparams"]
    create_trainer(handle, strong, weak if st["joint"] else None, st["weak_mode"], hp["weight_decay"],
                   hp["betas"], hp["eps"])
    t = _trainer(handle)["trainer"]
    t.load_state_dict(st)
    return {"handle": handle, "step": t.steps}


def extract_strong(trainer, out):
    """Write the trainer's strong branch to out as a plain HF checkpoint of the base architecture (fact 10)."""
    e = _trainer(trainer)
    return save_model(e["strong"], out)


def _tokenizer(entry):
    if entry["tokenizer"] is None and entry["tokenizer_dir"]:
        from .tokenizer import Tokenizer
        entry["tokenizer"] = Tokenizer.from_dir(entry["tokenizer_dir"])
    return entry["tokenizer"]


def generate(model, prompts, max_new_tokens=256, temperature=0.0, top_k=0, top_p=1.0, seed=0,
             stop_strings=None, eos_token_ids=None, use_cache=True):
    """Batched generation from token-id prompts (list of lists of int); see generate.generate.

    eos_token_ids default: the model's generation_config.json / config eos ids.
    Text and stop strings need the model directory's tokenizer.json; with it,
    ids beyond the tokenizer's vocab (embedding padding) are never generated.
    Returns {"completions": [{"tokens", "finish_reason", "stop_reason", "text"?}]}.
    """
    entry = _models.get(model)
    if entry is None:
        raise KeyError("model: no model loaded under handle %r" % model)
    m = entry["model"]
    for i, p in enumerate(prompts):
        if any((not isinstance(t, int)) or t < 0 or t >= m.config.vocab_size for t in p):
            raise ValueError("prompts[%d]: token ids must be ints in [0, %d)" % (i, m.config.vocab_size))
    if eos_token_ids is None:
        gc = checkpoint.read_generation_config(entry["path"]) if entry["path"] else {}
        e = gc.get("eos_token_id", m.config.eos_token_id)
        eos_token_ids = [] if e is None else (e if isinstance(e, list) else [e])
    tok = _tokenizer(entry)
    decode = None if tok is None else (lambda ids: tok.decode(ids))
    res = genlib.generate(m, prompts, max_new_tokens, temperature, top_k, top_p, seed, eos_token_ids,
                          stop_strings or [], decode, _pad_id(m), use_cache,
                          None if tok is None else tok.vocab_size)
    return {"completions": res}

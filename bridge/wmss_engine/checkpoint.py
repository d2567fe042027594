"""Hugging Face checkpoint layout, read and written.

A model directory holds ``config.json``, ``model.safetensors`` (or shards
listed in ``model.safetensors.index.json``), ``generation_config.json`` and,
when present, ``tokenizer.json`` + ``tokenizer_config.json``.

safetensors (https://github.com/huggingface/safetensors, "Format"): an
8-byte little-endian unsigned header length N, N bytes of JSON
``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}``,
then the tensors' raw little-endian bytes, contiguous and in header order. The
``safetensors`` package is used when importable; otherwise this module reads
and writes the format itself (same bytes). BF16 is read as raw 16-bit words
and widened exactly (bits << 16 to float32), never through float16 (case T15).

Load rules: every parameter of the model must be in the file, a missing one
is a CheckpointError naming the key (cases T11, T14: never random init, never
a fallback to ones); with ``tie_word_embeddings`` the writer stores
``model.embed_tokens.weight`` once and no ``lm_head.weight`` and a reader
follows HF (lm_head = embedding), with a warning when a file carries a
different lm_head (case T10).
"""
import json
import logging
import os
import shutil
import struct

import torch

from . import model as modellib

log = logging.getLogger("wmss_engine")

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
INDEX = "model.safetensors.index.json"
GENERATION_CONFIG = "generation_config.json"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")

# safetensors dtype strings ↔ torch dtypes (the subset a LM checkpoint uses).
DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}
TORCH_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}

# Named sizes for init_model: tiny ≈ 1.2M parameters, small ≈ 12.6M (plus the embedding).
SIZES = {
    "tiny": dict(hidden_size=128, intermediate_size=384, num_hidden_layers=6, num_attention_heads=4,
                 num_key_value_heads=2, head_dim=32),
    "small": dict(hidden_size=384, intermediate_size=1024, num_hidden_layers=8, num_attention_heads=6,
                  num_key_value_heads=2, head_dim=64),
}

try:  # present on GPU machines
    import safetensors.torch as _st
except Exception:  # Debian CPU machines
    _st = None


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded as it stands; the message names the file and key."""


# ---------------------------------------------------------------- safetensors

def read_safetensors(path):
    """Return {name: tensor} from a .safetensors file, tensors in their stored dtype on CPU.

    Raises CheckpointError naming the file for a bad header, an unknown dtype,
    or offsets that are not contiguous, ordered and inside the file.
    """
    with open(path, "rb") as f:
        data = f.read()
    header = read_safetensors_header(path, data)
    base = 8 + struct.unpack("<Q", data[:8])[0]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        buf = bytearray(data[base + begin:base + end])  # writable copy
        if len(buf) == 0:
            t = torch.empty(info["shape"], dtype=dtype)
        else:
            t = torch.frombuffer(buf, dtype=dtype).reshape(info["shape"])
        out[name] = t
    return out


def read_safetensors_header(path, data=None):
    """Return the parsed JSON header of a .safetensors file and validate its offsets."""
    if data is None:
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise CheckpointError("%s: file shorter than the 8-byte header length" % path)
            n = struct.unpack("<Q", head)[0]
            body = f.read(n)
            size = os.fstat(f.fileno()).st_size
    else:
        if len(data) < 8:
            raise CheckpointError("%s: file shorter than the 8-byte header length" % path)
        n = struct.unpack("<Q", data[:8])[0]
        body = data[8:8 + n]
        size = len(data)
    if len(body) != n:
        raise CheckpointError("%s: header length %d exceeds the file" % (path, n))
    try:
        header = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise CheckpointError("%s: header is not JSON: %s" % (path, e))
    pos = 0
    entries = sorted(((k, v) for k, v in header.items() if k != "__metadata__"),
                     key=lambda kv: kv[1]["data_offsets"][0])
    for name, info in entries:
        if info.get("dtype") not in DTYPES:
            raise CheckpointError("%s: tensor %s has unsupported dtype %r" % (path, name, info.get("dtype")))
        begin, end = info["data_offsets"]
        numel = 1
        for s in info["shape"]:
            numel *= s
        itemsize = torch.tensor([], dtype=DTYPES[info["dtype"]]).element_size()
        if begin != pos or end - begin != numel * itemsize:
            raise CheckpointError("%s: tensor %s has data_offsets %s, want [%d, %d]"
                                  % (path, name, [begin, end], pos, pos + numel * itemsize))
        pos = end
    if 8 + n + pos != size:
        raise CheckpointError("%s: data section is %d bytes, header describes %d" % (path, size - 8 - n, pos))
    return header


def write_safetensors(path, tensors, metadata=None):
    """Write {name: tensor} to path in the safetensors format, tensors in name order.

    Aliased tensors (two names, one storage) are written as independent copies.
    """
    names = sorted(tensors)
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    chunks, pos = [], 0
    for name in names:
        t = tensors[name].detach().to("cpu").contiguous()
        if t.dtype not in DTYPE_NAMES:
            raise CheckpointError("%s: tensor %s has unsupported dtype %s" % (path, name, t.dtype))
        raw = _tensor_bytes(t)
        header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [pos, pos + len(raw)]}
        chunks.append(raw)
        pos += len(raw)
    body = json.dumps(header, separators=(",", ":")).encode("utf-8")
    body += b" " * (-len(body) % 8)  # the reference writer pads the header to 8 bytes
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(body)))
        f.write(body)
        for raw in chunks:
            f.write(raw)
    os.replace(tmp, path)


def _tensor_bytes(t):
    """Raw little-endian bytes of a contiguous CPU tensor (16-bit types via an int16 view)."""
    if t.numel() == 0:
        return b""
    if t.dtype in (torch.bfloat16, torch.float16):
        return t.view(torch.int16).numpy().tobytes()
    if t.dtype == torch.bool:
        return t.to(torch.uint8).numpy().tobytes()
    return t.numpy().tobytes()


# ------------------------------------------------------------------ model I/O

def read_config(model_dir, warnings=None):
    """Return the Config of model_dir/config.json; ConfigError/CheckpointError name the file."""
    path = os.path.join(model_dir, CONFIG)
    if not os.path.isfile(path):
        raise CheckpointError("%s: not found" % path)
    with open(path) as f:
        try:
            d = json.load(f)
        except ValueError as e:
            raise CheckpointError("%s: not JSON: %s" % (path, e))
    try:
        return modellib.Config.from_dict(d, warnings)
    except modellib.ConfigError as e:
        raise CheckpointError("%s: %s" % (path, e))
    except TypeError as e:
        raise CheckpointError("%s: %s" % (path, e))


def read_weights(model_dir):
    """Return {name: tensor} of model_dir, single file or shards listed in the index.

    For sharded checkpoints the index and the shard headers must agree in both
    directions (case T11): a key listed but absent from its shard, or a tensor
    in a shard that the index does not map to that shard, is a CheckpointError.
    """
    single = os.path.join(model_dir, WEIGHTS)
    index = os.path.join(model_dir, INDEX)
    if os.path.isfile(index):
        with open(index) as f:
            weight_map = json.load(f).get("weight_map")
        if not isinstance(weight_map, dict):
            raise CheckpointError("%s: no weight_map object" % index)
        out = {}
        for shard in sorted(set(weight_map.values())):
            shard_path = os.path.join(model_dir, shard)
            if not os.path.isfile(shard_path):
                raise CheckpointError("%s: shard %s listed in the index is missing" % (index, shard))
            tensors = _read(shard_path)
            for name in tensors:
                if weight_map.get(name) != shard:
                    raise CheckpointError("%s: tensor %s is in %s but the index maps it to %s"
                                          % (index, name, shard, weight_map.get(name)))
            out.update(tensors)
        for name, shard in weight_map.items():
            if name not in out:
                raise CheckpointError("%s: index lists %s in %s but the shard does not hold it"
                                      % (index, name, shard))
        return out
    if os.path.isfile(single):
        return _read(single)
    raise CheckpointError("%s: neither %s nor %s found" % (model_dir, WEIGHTS, INDEX))


def _read(path):
    if _st is not None:
        return _st.load_file(path)
    return read_safetensors(path)


def load_state(model, tensors, source="checkpoint", warnings=None):
    """Copy tensors into model's parameters, converting dtype; strict in both directions.

    Raises CheckpointError naming the first missing key (sorted), an
    unexpected key, or a shape mismatch. A tied model ignores a file's
    lm_head.weight (HF's rule) and warns when it differs from the embedding.
    """
    cfg = model.config
    tensors = {k: v for k, v in tensors.items() if not k.endswith("rotary_emb.inv_freq")}
    params = dict(model.state_dict(keep_vars=True))
    if cfg.tie_word_embeddings:
        params.pop("lm_head.weight", None)
        head = tensors.pop("lm_head.weight", None)
        emb = tensors.get("model.embed_tokens.weight")
        if head is not None and emb is not None and not torch.equal(head.float(), emb.float()):
            msg = ("%s: tie_word_embeddings is true but lm_head.weight differs from "
                   "model.embed_tokens.weight; following HF: lm_head = embedding" % source)
            log.warning(msg)
            if warnings is not None:
                warnings.append(msg)
    missing = sorted(set(params) - set(tensors))
    if missing:
        raise CheckpointError("%s: missing tensor %s%s" % (
            source, missing[0], " (and %d more: %s)" % (len(missing) - 1, ", ".join(missing[1:6]))
            if len(missing) > 1 else ""))
    unexpected = sorted(set(tensors) - set(params))
    if unexpected:
        raise CheckpointError("%s: unexpected tensor %s (not a parameter of this %s config)"
                              % (source, unexpected[0], cfg.model_type))
    with torch.no_grad():
        for name, p in params.items():
            t = tensors[name]
            if tuple(t.shape) != tuple(p.shape):
                raise CheckpointError("%s: tensor %s has shape %s, config wants %s"
                                      % (source, name, list(t.shape), list(p.shape)))
            p.copy_(t.to(p.dtype))


def load_model(model_dir, dtype=None, device="cpu", backend="native"):
    """Load a HF-layout model directory; returns (model, warnings).

    dtype: "float32" | "bfloat16" | "float16" | None (None: float32).
    backend: "native", "transformers" or "auto". Raises CheckpointError.
    """
    warnings = []
    cfg = read_config(model_dir, warnings)
    tdtype = _torch_dtype(dtype or "float32")
    model = modellib.build(cfg, backend, torch.float32)
    load_state(model, read_weights(model_dir), model_dir, warnings)
    model = model.to(device=device, dtype=tdtype)
    model.config.torch_dtype = dtype or "float32"
    model.eval()
    return model, warnings


def save_model(model, out_dir, generation_config=None, tokenizer_dir=None):
    """Write model to out_dir in HF layout: config.json, model.safetensors, generation_config.json.

    A tied lm_head is not written (case T10). tokenizer_dir: copy its
    tokenizer.json / tokenizer_config.json beside the weights when given.
    Returns the list of files written.
    """
    os.makedirs(out_dir, exist_ok=True)
    cfg = model.config
    tensors = {}
    for name, p in model.state_dict().items():
        if name.endswith("rotary_emb.inv_freq"):
            continue
        if cfg.tie_word_embeddings and name == "lm_head.weight":
            continue
        tensors[name] = p
    dtype = next(iter(tensors.values())).dtype
    cfg.torch_dtype = {v: k for k, v in TORCH_DTYPES.items()}.get(dtype, "float32")
    written = [os.path.join(out_dir, CONFIG), os.path.join(out_dir, WEIGHTS), os.path.join(out_dir, GENERATION_CONFIG)]
    _write_json(written[0], cfg.to_dict())
    if _st is not None:
        _st.save_file({k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}, written[1],
                      metadata={"format": "pt"})
    else:
        write_safetensors(written[1], tensors, metadata={"format": "pt"})
    gen = generation_config or {}
    gen = dict({k: getattr(cfg, k) for k in ("bos_token_id", "eos_token_id", "pad_token_id")
                if getattr(cfg, k) is not None}, **gen)
    _write_json(written[2], gen)
    if tokenizer_dir and os.path.abspath(tokenizer_dir) != os.path.abspath(out_dir):
        for name in TOKENIZER_FILES:
            src = os.path.join(tokenizer_dir, name)
            if os.path.isfile(src):
                shutil.copyfile(src, os.path.join(out_dir, name))
                written.append(os.path.join(out_dir, name))
    return written


def read_generation_config(model_dir):
    """Return generation_config.json of model_dir as a dict ({} when absent)."""
    path = os.path.join(model_dir, GENERATION_CONFIG)
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


def _write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def _torch_dtype(name):
    if name not in TORCH_DTYPES:
        raise ValueError("dtype %r: want one of %s" % (name, ", ".join(TORCH_DTYPES)))
    return TORCH_DTYPES[name]


# ----------------------------------------------------------------- init_model

def tokenizer_vocab(tokenizer_dir):
    """Return (vocab size, {special token: id}) read from tokenizer_dir/tokenizer.json."""
    path = os.path.join(tokenizer_dir, "tokenizer.json")
    with open(path) as f:
        tok = json.load(f)
    vocab = (tok.get("model") or {}).get("vocab") or {}
    ids = list(vocab.values()) + [t["id"] for t in tok.get("added_tokens", [])]
    if not ids:
        raise CheckpointError("%s: no vocab and no added_tokens" % path)
    specials = {t["content"]: t["id"] for t in tok.get("added_tokens", [])}
    return max(ids) + 1, specials


def init_model(out_dir, size="tiny", seed=0, vocab_size=None, tokenizer_dir=None, model_type="qwen3",
               dtype="float32"):
    """Write a seeded random-init model of a named size to out_dir in HF layout.

    size: "tiny" (≈1.2M non-embedding parameters) or "small" (≈12.6M).
    Tokenizer: with tokenizer_dir its tokenizer.json / tokenizer_config.json
    are copied; otherwise ``wmss_engine.tokenizer.build_byte_level(out_dir)``
    writes a byte-level one when that module exists. The vocab is the
    larger of the tokenizer's and vocab_size, rounded up to a multiple of 64.
    Same seed, same bytes. Returns {"path", "config", "num_parameters", "warnings"}.
    """
    if size not in SIZES:
        raise ValueError("size %r: want one of %s" % (size, ", ".join(SIZES)))
    os.makedirs(out_dir, exist_ok=True)
    warnings = []
    specials = {}
    tok_vocab = 0
    if tokenizer_dir:
        for name in TOKENIZER_FILES:
            src = os.path.join(tokenizer_dir, name)
            if not os.path.isfile(src):
                raise CheckpointError("tokenizer_dir: %s not found" % src)
            if os.path.abspath(src) != os.path.abspath(os.path.join(out_dir, name)):
                shutil.copyfile(src, os.path.join(out_dir, name))
        tok_vocab, specials = tokenizer_vocab(out_dir)
    else:
        try:
            from . import tokenizer as toklib
            build_byte_level = toklib.build_byte_level
        except (ImportError, AttributeError):
            build_byte_level = None
        if build_byte_level is not None:
            build_byte_level(out_dir)
            tok_vocab, specials = tokenizer_vocab(out_dir)
        else:
            msg = "no tokenizer written: wmss_engine.tokenizer.build_byte_level is not available"
            log.warning(msg)
            warnings.append(msg)
    v = max(tok_vocab, int(vocab_size or 0))
    if v <= 0:
        raise ValueError("vocab_size: give a vocab size or a tokenizer")
    v = -(-v // 64) * 64
    eos = specials.get("<|im_end|>", specials.get("<|endoftext|>"))
    pad = specials.get("<|endoftext|>", eos)
    cfg = modellib.Config(model_type=model_type, vocab_size=v, max_position_embeddings=4096,
                          rope_theta=10000.0, tie_word_embeddings=True, eos_token_id=eos,
                          pad_token_id=pad, **SIZES[size])
    g = torch.Generator().manual_seed(int(seed))
    model = modellib.Model(cfg)
    model.init_weights(g)
    model = model.to(_torch_dtype(dtype))
    save_model(model, out_dir)
    return {"path": out_dir, "config": cfg.to_dict(), "num_parameters": model.num_parameters(),
            "warnings": warnings}

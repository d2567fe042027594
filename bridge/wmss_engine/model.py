"""The Qwen3 decoder (and its Qwen2/Llama variants) in one file.

Reading order: ``Config`` (HF ``config.json`` field names), ``RMSNorm``, the
RoPE helpers, ``Attention`` (grouped-query attention with per-head q/k
RMSNorm), ``MLP`` (SwiGLU), ``Block``, ``Model`` (forward with attention mask,
per-row position ids and a KV cache), and ``HFModel``, the thin wrapper used
when the ``transformers`` package is importable.

Parameter names equal the HF ones (``model.layers.0.self_attn.q_proj.weight``
…), so ``Model.state_dict()`` is a HF checkpoint. Notation, used on the shape
comments: B batch rows, T new positions in this call, S = past + T key
positions, C = hidden_size, nh = num_attention_heads, nkv =
num_key_value_heads, hd = head_dim, V = vocab_size.

References: HF transformers ``modeling_qwen3.py`` / ``modeling_qwen2.py`` /
``modeling_llama.py`` (architecture and the config keys), Lightning-AI litgpt
``litgpt/model.py`` (RMSNorm in float32, GQA, Q/K norm) and karpathy nanoGPT
``model.py`` (one-file layout, the SDPA fallback for old PyTorch). RoPE:
Su et al., "RoFormer", arXiv 2104.09864, in HF's rotate-half layout.
"""
import dataclasses
import logging
import math
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

log = logging.getLogger("wmss_engine")

# Architecture defaults when config.json gives no RoPE base (HF's defaults).
DEFAULT_ROPE_THETA = {"qwen3": 10000.0, "qwen2": 10000.0, "llama": 10000.0}
MODEL_TYPES = ("qwen3", "qwen2", "llama")
ARCHITECTURES = {"qwen3": "Qwen3ForCausalLM", "qwen2": "Qwen2ForCausalLM", "llama": "LlamaForCausalLM"}


class ConfigError(ValueError):
    """A config.json that cannot describe a supported model; names the field."""


@dataclass
class Config:
    """Model hyper-parameters, named exactly like the HF ``config.json`` keys.

    model_type selects the variant: ``qwen3`` (per-head q/k RMSNorm, no
    biases), ``qwen2`` (bias on q/k/v, no q/k norm), ``llama`` (no q/k norm,
    ``attention_bias`` on q/k/v/o). ``head_dim`` may differ from
    hidden_size / num_attention_heads (Qwen3 sets it explicitly).
    """
    model_type: str = "qwen3"
    vocab_size: int = 151936
    hidden_size: int = 1024
    intermediate_size: int = 3072
    num_hidden_layers: int = 28
    num_attention_heads: int = 16
    num_key_value_heads: int = 8
    head_dim: Optional[int] = None  # None: hidden_size // num_attention_heads
    max_position_embeddings: int = 40960
    rms_norm_eps: float = 1e-6
    rope_theta: Optional[float] = None  # None: architecture default, see from_dict
    tie_word_embeddings: bool = True
    attention_bias: bool = False
    hidden_act: str = "silu"
    bos_token_id: Optional[int] = None
    eos_token_id: Optional[object] = None  # int or list of ints, as in HF
    pad_token_id: Optional[int] = None
    torch_dtype: str = "float32"
    # Keys of config.json this class does not model, written back unchanged.
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.model_type not in MODEL_TYPES:
            raise ConfigError("config.json: model_type %r is not supported (want one of %s)"
                              % (self.model_type, ", ".join(MODEL_TYPES)))
        if self.head_dim is None:
            self.head_dim = self.hidden_size // self.num_attention_heads
        if self.rope_theta is None:
            self.rope_theta = DEFAULT_ROPE_THETA[self.model_type]
        if self.num_attention_heads % self.num_key_value_heads:
            raise ConfigError("config.json: num_attention_heads %d is not a multiple of num_key_value_heads %d"
                              % (self.num_attention_heads, self.num_key_value_heads))
        if self.head_dim % 2:
            raise ConfigError("config.json: head_dim %d must be even for RoPE" % self.head_dim)
        if self.hidden_act != "silu":
            raise ConfigError("config.json: hidden_act %r is not supported (only silu)" % self.hidden_act)

    @property
    def qk_norm(self):
        """True for Qwen3: RMSNorm over head_dim on each q and k head, before RoPE."""
        return self.model_type == "qwen3"

    @property
    def qkv_bias(self):
        """True when q/k/v projections carry a bias (Qwen2 always, Llama with attention_bias)."""
        return self.model_type == "qwen2" or self.attention_bias

    @property
    def o_bias(self):
        """True when o_proj carries a bias (Llama/Qwen3 with attention_bias)."""
        return self.model_type != "qwen2" and self.attention_bias

    @classmethod
    def from_dict(cls, d, warnings=None):
        """Build a Config from a parsed config.json.

        RoPE base (case T13): top-level ``rope_theta`` or
        ``rope_parameters.rope_theta`` (newer HF layout); both present with
        different values raises ConfigError; neither uses the architecture
        default and appends a warning to ``warnings`` (a list) and the log.
        Only the ``default`` rope type is supported.
        """
        d = dict(d)
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        model_type = d.get("model_type", "qwen3")
        theta_top = d.pop("rope_theta", None)
        params = d.pop("rope_parameters", None)
        theta_param = None
        if params is not None:
            if not isinstance(params, dict):
                raise ConfigError("config.json: rope_parameters must be an object")
            if params.get("rope_type", "default") != "default":
                raise ConfigError("config.json: rope_parameters.rope_type %r is not supported"
                                  % params.get("rope_type"))
            theta_param = params.get("rope_theta")
        scaling = d.get("rope_scaling")
        if scaling not in (None, {}) and scaling.get("rope_type", scaling.get("type", "default")) != "default":
            raise ConfigError("config.json: rope_scaling %r is not supported" % (scaling,))
        if d.get("use_sliding_window"):
            raise ConfigError("config.json: use_sliding_window true is not supported")
        if theta_top is not None and theta_param is not None and float(theta_top) != float(theta_param):
            raise ConfigError("config.json: rope_theta %r and rope_parameters.rope_theta %r disagree"
                              % (theta_top, theta_param))
        theta = theta_top if theta_top is not None else theta_param
        if theta is None:
            msg = ("config.json has no rope_theta; using the %s default %g"
                   % (model_type, DEFAULT_ROPE_THETA.get(model_type, 10000.0)))
            log.warning(msg)
            if warnings is not None:
                warnings.append(msg)
        kwargs = {k: v for k, v in d.items() if k in known}
        extra = {k: v for k, v in d.items() if k not in known}
        for k in ("architectures", "transformers_version", "dtype"):
            extra.pop(k, None)
        if "torch_dtype" not in kwargs and "dtype" in d:
            kwargs["torch_dtype"] = d["dtype"]
        return cls(rope_theta=None if theta is None else float(theta), extra=extra, **kwargs)

    def to_dict(self):
        """Return the config.json object, recording the RoPE base actually used (both layouts)."""
        d = dict(self.extra)
        for f in dataclasses.fields(self):
            if f.name != "extra":
                d[f.name] = getattr(self, f.name)
        d["architectures"] = [ARCHITECTURES[self.model_type]]
        d["rope_parameters"] = {"rope_type": "default", "rope_theta": self.rope_theta}
        for k in ("bos_token_id", "eos_token_id", "pad_token_id"):
            if d[k] is None:
                del d[k]
        return d


class RMSNorm(nn.Module):
    """Root-mean-square norm (Zhang & Sennrich 2019): x / sqrt(mean(x²) + eps) · weight.

    Computed in float32 and cast back to the input dtype (as HF and litgpt do).
    """

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rope_inv_freq(head_dim, theta):
    """Return inv_freq, shape (hd/2,), float32: theta^(−2i/hd) for pair i (RoFormer eq. 15)."""
    return 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))


def rope_cos_sin(position_ids, inv_freq, dtype):
    """Return cos, sin of shape (B, T, hd) for integer position_ids (B, T).

    Angles are computed in float32; the two halves repeat the hd/2 angles
    (HF's rotate-half layout).
    """
    freqs = position_ids[..., None].float() * inv_freq.float()  # (B, T, hd/2)
    emb = torch.cat((freqs, freqs), dim=-1)  # (B, T, hd)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def apply_rope(x, cos, sin):
    """Rotate x (B, n, T, hd) by the angles in cos, sin (B, T, hd); returns (B, n, T, hd)."""
    if x.shape[-1] != cos.shape[-1] or x.shape[-2] != cos.shape[-2]:
        raise ValueError("apply_rope: x %s does not match cos %s" % (tuple(x.shape), tuple(cos.shape)))
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)  # (B, 1, T, hd)
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


_HAS_SDPA = hasattr(F, "scaled_dot_product_attention")
if not _HAS_SDPA:
    log.info("torch %s has no scaled_dot_product_attention; using the masked-softmax path", torch.__version__)


class Attention(nn.Module):
    """Causal self-attention with grouped-query heads, q/k RMSNorm (Qwen3) and RoPE.

    GQA: nh query heads share nkv key/value heads; query head h reads kv head
    h // (nh / nkv). MHA is nkv = nh, MQA is nkv = 1.
    """

    def __init__(self, cfg: Config):
        super().__init__()
        self.nh, self.nkv, self.hd = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        C = cfg.hidden_size
        self.q_proj = nn.Linear(C, self.nh * self.hd, bias=cfg.qkv_bias)
        self.k_proj = nn.Linear(C, self.nkv * self.hd, bias=cfg.qkv_bias)
        self.v_proj = nn.Linear(C, self.nkv * self.hd, bias=cfg.qkv_bias)
        self.o_proj = nn.Linear(self.nh * self.hd, C, bias=cfg.o_bias)
        if cfg.qk_norm:
            self.q_norm = RMSNorm(self.hd, cfg.rms_norm_eps)
            self.k_norm = RMSNorm(self.hd, cfg.rms_norm_eps)
        else:
            self.q_norm = self.k_norm = None

    def forward(self, x, cos, sin, mask, past=None):
        """x (B, T, C); mask (B, 1, T, S): bool, True = may attend, or the same as a float additive
        bias (0 = may attend, −inf = may not; what Model.forward builds once for all layers on the
        masked-softmax path); past (k, v) each (B, nkv, S−T, hd).

        Returns (y (B, T, C), (k, v) each (B, nkv, S, hd)).
        """
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.nh, self.hd)  # (B, T, nh, hd)
        k = self.k_proj(x).view(B, T, self.nkv, self.hd)  # (B, T, nkv, hd)
        v = self.v_proj(x).view(B, T, self.nkv, self.hd).transpose(1, 2)  # (B, nkv, T, hd)
        if self.q_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)  # per head, over hd
        q = apply_rope(q.transpose(1, 2), cos, sin)  # (B, nh, T, hd)
        k = apply_rope(k.transpose(1, 2), cos, sin)  # (B, nkv, T, hd)
        if past is not None:
            k = torch.cat((past[0], k), dim=2)  # (B, nkv, S, hd)
            v = torch.cat((past[1], v), dim=2)
        present = (k, v)
        rep = self.nh // self.nkv
        if rep > 1:
            k = k.repeat_interleave(rep, dim=1)  # (B, nh, S, hd)
            v = v.repeat_interleave(rep, dim=1)
        if _HAS_SDPA:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        else:
            # In place on fresh tensors (bmm's backward needs q and k, not its output): the same
            # values as out-of-place ops, two (B, nh, T, S) temporaries fewer per layer.
            att = (q @ k.transpose(-2, -1)).mul_(1.0 / math.sqrt(self.hd))  # (B, nh, T, S)
            if mask.dtype == torch.bool:
                att.masked_fill_(~mask, float("-inf"))
            else:
                # Adding the 0 / −inf bias gives the softmax the same values as masked_fill (finite
                # scores; a masked position's gradient is 0 either way) and is ~20× faster on CPU
                # than a masked_fill with a mask broadcast over heads.
                att.add_(mask)
            y = F.softmax(att.float(), dim=-1).to(q.dtype) @ v  # (B, nh, T, hd)
        y = y.transpose(1, 2).reshape(B, T, self.nh * self.hd)  # (B, T, nh·hd)
        return self.o_proj(y), present


class MLP(nn.Module):
    """SwiGLU feed-forward (Shazeer 2020): down(silu(gate(x)) · up(x))."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    """Pre-norm decoder layer: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x, cos, sin, mask, past=None):
        a, present = self.self_attn(self.input_layernorm(x), cos, sin, mask, past)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, present


class Decoder(nn.Module):
    """Embedding, layers and final norm: HF's ``model.`` prefix."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList([Block(cfg) for _ in range(cfg.num_hidden_layers)])
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)


def position_ids_from_mask(attention_mask):
    """Per-row position ids cumsum(mask) − 1, pads clamped to 0; (B, S) int64 (case T21)."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


class Model(nn.Module):
    """Causal LM: ``model`` (Decoder) and ``lm_head``, tied to the embedding when the config says so.

    forward(input_ids, attention_mask=None, position_ids=None, cache=None)
    returns (logits (B, T, V) in the parameter dtype, cache), where cache is a
    list of per-layer (k, v) of shape (B, nkv, S, hd). attention_mask (B, S)
    covers past and new positions (1 = token, 0 = padding); when
    position_ids is None they are cumsum(attention_mask) − 1 per row.
    """

    backend = "native"

    def __init__(self, cfg: Config):
        super().__init__()
        self.config = cfg
        self.model = Decoder(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        if cfg.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight
        # Kept out of the buffers so .to(bfloat16) never rounds the RoPE frequencies.
        self._inv_freq = rope_inv_freq(cfg.head_dim, cfg.rope_theta)  # (hd/2,) float32

    @property
    def inv_freq(self):
        """RoPE inverse frequencies (hd/2,), float32, on the parameters' device."""
        dev = self.model.embed_tokens.weight.device
        if self._inv_freq.device != dev:
            self._inv_freq = self._inv_freq.to(dev)
        return self._inv_freq

    def init_weights(self, generator, std=0.02):
        """Random init (HF's initializer_range scheme): normal(0, std) weights, zero biases, unit norms."""
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("norm.weight"):
                    p.fill_(1.0)
                elif name.endswith(".bias"):
                    p.zero_()
                else:
                    p.copy_(torch.randn(p.shape, generator=generator) * std)

    def forward(self, input_ids, attention_mask=None, position_ids=None, cache=None):
        B, T = input_ids.shape
        past_len = 0 if not cache else cache[0][0].shape[2]
        S = past_len + T
        if attention_mask is None:
            attention_mask = torch.ones(B, S, dtype=torch.long, device=input_ids.device)
        if attention_mask.shape != (B, S):
            raise ValueError("attention_mask shape %s, want (%d, %d) = (B, past + T)"
                             % (tuple(attention_mask.shape), B, S))
        if position_ids is None:
            position_ids = position_ids_from_mask(attention_mask)[:, past_len:]  # (B, T)
        x = self.model.embed_tokens(input_ids)  # (B, T, C)
        cos, sin = rope_cos_sin(position_ids, self.inv_freq, x.dtype)  # (B, T, hd)
        # Query t (absolute index past_len + t) may see key s when s <= past_len + t and key s is a
        # token; each query also sees itself, so a padding query never has an empty row (no NaN).
        q_idx = torch.arange(past_len, S, device=input_ids.device)[:, None]  # (T, 1)
        k_idx = torch.arange(S, device=input_ids.device)[None, :]  # (1, S)
        causal = k_idx <= q_idx  # (T, S)
        mask = causal[None] & attention_mask.bool()[:, None, :]  # (B, T, S)
        mask = (mask | (k_idx == q_idx)[None]).unsqueeze(1)  # (B, 1, T, S)
        if not _HAS_SDPA:  # additive bias, built once for all layers (see Attention.forward)
            mask = torch.zeros(mask.shape, dtype=x.dtype, device=x.device).masked_fill_(~mask, float("-inf"))
        presents = []
        for i, block in enumerate(self.model.layers):
            x, present = block(x, cos, sin, mask, None if not cache else cache[i])
            presents.append(present)
        logits = self.lm_head(self.model.norm(x))  # (B, T, V)
        return logits, presents

    def num_parameters(self):
        """Number of distinct parameters (a tied lm_head counts once)."""
        return sum(p.numel() for p in self.parameters())


class HFModel(nn.Module):
    """Thin wrapper giving a transformers causal LM the ``Model.forward`` signature.

    Used when ``transformers`` is importable. ``self.model`` / ``self.lm_head``
    are the HF module's own, so ``state_dict()`` keeps HF names.
    """

    backend = "transformers"

    def __init__(self, cfg: Config, hf_module):
        super().__init__()
        self.config = cfg
        self.model = hf_module.model
        self.lm_head = hf_module.lm_head
        self._hf = [hf_module]  # a list: not registered as a submodule (keeps names HF-shaped)

    @classmethod
    def from_config(cls, cfg: Config, dtype=torch.float32):
        """Build a randomly initialised transformers model for cfg (requires transformers)."""
        import transformers
        hf_cfg = transformers.AutoConfig.for_model(**{k: v for k, v in cfg.to_dict().items()
                                                       if k not in ("architectures",)})
        module = transformers.AutoModelForCausalLM.from_config(hf_cfg, torch_dtype=dtype)
        if hasattr(module.config, "_attn_implementation"):
            module.config._attn_implementation = "eager" if not _HAS_SDPA else "sdpa"
        return cls(cfg, module)

    def num_parameters(self):
        return sum(p.numel() for p in self.parameters())

    def forward(self, input_ids, attention_mask=None, position_ids=None, cache=None):
        B, T = input_ids.shape
        past_len = 0 if not cache else _hf_cache_len(cache)
        if attention_mask is None:
            attention_mask = torch.ones(B, past_len + T, dtype=torch.long, device=input_ids.device)
        if position_ids is None:
            position_ids = position_ids_from_mask(attention_mask)[:, past_len:]
        out = self._hf[0](input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                          past_key_values=cache if cache else None, use_cache=True)
        return out.logits, out.past_key_values


def _hf_cache_len(cache):
    if hasattr(cache, "get_seq_length"):
        return cache.get_seq_length()
    return cache[0][0].shape[2]


def transformers_available():
    """True when the transformers package imports (GPU machines)."""
    try:
        import transformers  # noqa: F401
        return True
    except Exception:
        return False


def build(cfg: Config, backend="native", dtype=torch.float32):
    """Return an uninitialised model for cfg: ``native`` (Model) or ``transformers`` (HFModel)."""
    if backend == "auto":
        backend = "transformers" if transformers_available() else "native"
    if backend == "native":
        return Model(cfg).to(dtype)
    if backend == "transformers":
        return HFModel.from_config(cfg, dtype)
    raise ValueError("backend %r: want native, transformers or auto" % backend)

"""Plug the emulated attention into any transformers model through `AttentionInterface`.

`register()` adds the attention function 'apace' to transformers' global AttentionInterface (and the
sdpa mask builder under the same name), so every model family whose attention layers dispatch through
`ALL_ATTENTION_FUNCTIONS` (LLaMA, Mistral, Qwen2, Gemma, ...) is covered.  `emulate(model, cfg)` is a
context manager that switches a loaded model to 'apace' with configuration `cfg` and back.

Mode 'off' delegates to transformers' own sdpa function with the same arguments, so logits are
identical to the unpatched (sdpa) model.  'exact' and 'statistical' convert Q, K, V to float64 numpy
arrays (exact: fp32 values; K and V with their own KV heads, which the kernels repeat for grouped-query
attention), compute quant.kernels.attention_exact / attention_statistical and
return the output as fp32 (the acc_pv values; exact for accumulators up to FP32).
"""

from __future__ import annotations

import functools
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from .config import AttnConfig
from .kernels import attention_exact, attention_statistical

NAME = "apace"
_local = threading.local()


@dataclass
class EmulationState:
    """What the active emulation uses and counts (calls: attention calls served)."""

    cfg: AttnConfig
    error_model: object | None = None
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    calls: int = 0


def _active() -> EmulationState | None:
    return getattr(_local, "state", None)


@functools.lru_cache(maxsize=8)
def _causal(sq: int, sk: int) -> np.ndarray:
    """sdpa's causal skip: key j visible to query i iff j <= i + (Sk - Sq); one read-only array per
    shape, shared by every layer (the kernels cache what they derive from it by identity)."""
    i = np.arange(sq)[:, None]
    j = np.arange(sk)[None, :]
    a = (j <= i + (sk - sq))[None, None]
    a.setflags(write=False)
    return a


def _allowed_and_bias(mask, sq: int, sk: int):
    """Attention mask -> (allowed bool array, additive bias or None), broadcastable to (B, H, Sq, Sk)."""
    import torch

    if mask is None:
        return _causal(sq, sk), None
    mask = mask[..., :sk]
    if mask.dtype == torch.bool:
        return mask.numpy(), None
    m = mask.detach().double().numpy()
    allowed = m > np.finfo(np.float32).min / 2
    bias = np.where(allowed, m, 0.0)
    return allowed, (bias if np.any(bias) else None)


def apace_attention(module, query, key, value, attention_mask, dropout: float = 0.0, scaling=None, **kwargs):
    """AttentionInterface function: (attn_output (B, Sq, H, D), None)."""
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    st = _active()
    if st is None or st.cfg.mode == "off":
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs)
    if dropout:
        raise ValueError("parameter 'dropout': the emulated attention is for evaluation only (dropout must be 0)")
    if scaling is None:
        scaling = query.shape[-1] ** -0.5
    # statistical mode takes float32 arrays when that is exact (fp32/bf16/fp16 models): half the traffic
    wide = torch.float32 if st.cfg.mode == "statistical" and query.dtype in (torch.float32, torch.bfloat16, torch.float16) \
        else torch.float64
    q = query.detach().to(wide).numpy()
    k = key.detach().to(wide).numpy()  # KV heads are repeated by the kernels (after MX quantisation)
    v = value.detach().to(wide).numpy()
    allowed, bias = _allowed_and_bias(attention_mask, q.shape[-2], k.shape[-2])
    st.cfg.check_head_dim(q.shape[-1])
    if st.cfg.mode == "exact":
        out = attention_exact(q, k, v, float(scaling), allowed, bias, st.cfg)
    else:
        out = attention_statistical(q, k, v, float(scaling), allowed, bias, st.cfg, st.error_model, st.rng)
    st.calls += 1
    res = torch.from_numpy(out).to(query.dtype).transpose(1, 2).contiguous()
    return res, None


def register() -> None:
    """Register 'apace' with transformers' attention and mask interfaces (idempotent)."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(NAME, apace_attention)
    AttentionMaskInterface.register(NAME, sdpa_mask)


def head_dim_of(model) -> int:
    c = model.config
    return getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads


@contextmanager
def emulate(model, cfg: AttnConfig, error_model=None, rng: np.random.Generator | None = None):
    """Run `model` with the emulated attention `cfg` inside the block; restores it afterwards.

    Raises ValueError before touching the model when cfg does not fit it (qk.k must divide head_dim)."""
    cfg.check_head_dim(head_dim_of(model))
    register()
    old_impl = model.config._attn_implementation
    old_state = _active()
    state = EmulationState(cfg, error_model, rng if rng is not None else np.random.default_rng(cfg.seed))
    model.set_attn_implementation(NAME)
    _local.state = state
    try:
        yield state
    finally:
        _local.state = old_state
        model.set_attn_implementation(old_impl)

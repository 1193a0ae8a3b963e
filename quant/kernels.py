"""Attention numerics on numpy float64 arrays, built from golden/ (exact mode) or from fp32 sums plus
sampled accumulation errors (statistical mode).

Shapes: q (B, H, Sq, D), k and v (B, Hkv, Sk, D) with H a multiple of Hkv (grouped-query attention:
query head h uses KV head h // (H / Hkv), as transformers' repeat_kv), `allowed` a boolean array
broadcastable to (B, H, Sq, Sk) (True: the query may attend to the key), `bias` an additive float
array of the same shape or None.  Every value is a float64 that holds a value of the stated format.

Exact mode, per attention call (docs/quant.md has the full contract):
 1. stage 1: Q and K are MX-quantised along head_dim (golden.mx.mx_quantize; k must divide D) or,
    with element format 'none', used as they are (fp32 values).  Each score is a dot product along
    head_dim: with MX, each block's exact sum times 2^(sa+sb) is rounded once into acc_qk and the
    D/k block values are accumulated with acc_qk's scheme and order (= golden.mx.mx_dot); without MX,
    the D exact products are the accumulated elements (= golden.accumulate of the products).
    The score times `scaling` (and + bias, if any) is rounded once into FP32.
 2. stage 2: the scores of a row are MX-quantised along the key axis (masked positions enter the
    quantiser as 0, which never changes a block's maximum; the axis is zero-padded to a multiple
    of k), then m = max over allowed keys, e_j = FP32(exp(s_j - m)) for allowed keys and exactly 0
    for masked ones.  The softmax denominator is golden.accumulate over the whole key axis (Sk
    elements; masked keys enter as exact zeros) with acc_sum.  P_j = FP32(e_j / denominator).
 3. stage 3: P (per row) and V (per column) are MX-quantised along the key axis (zero-padded to a
    multiple of k; masked P are exact zeros), and each output element is the MX dot product along
    the key axis with acc_pv (or, with 'none', golden.accumulate of the Sk exact products).
The vectorised exact parts are golden's own public fast paths (golden/fastsum.py, proved bit-identical
to golden.mx.mx_quantize, golden.mx.block_values and golden.accumulate by tests/golden/test_fastsum.py):
  * golden.fastsum.mx_quantize_fast: golden's MX quantisation, element rounding by a lookup in a table
    built with golden's rounder where every value is exact in float32;
  * golden.fastsum.mx_dot_values / product_sum_values / accumulate_values: golden's accumulation
    recurrences on float32 arrays (FP32 accumulators) or on golden-built tables of codes (accumulators
    of <= 9 bits), MX block sums by batched float64 matmuls where exact, blocks / products streamed
    into the recurrence; Kulisch over a narrow accumulator as one exact float64 sum rounded once;
    otherwise golden's own functions.
"""

from __future__ import annotations

import numpy as np

from golden.fastsum import accumulate_values, mx_dot_values, mx_quantize_fast, product_sum_values
from golden.fastsum import mx_values as fast_mx_values
from golden.formats import FP32, rounder
from golden.mx import SCALE_MAX, MXTensor

from .config import AccSpec, AttnConfig, StageFormat

_F32 = rounder(FP32)


def f32_cast(x: np.ndarray) -> np.ndarray:
    """FP32 rounding by the hardware float64 -> float32 conversion (IEEE RNE, gradual underflow, overflow
    to Inf): the same function as golden's FP32 rounder (tests/quant/test_kernels.py checks it bit for
    bit), in one pass; the statistical mode's FP32 roundings use it."""
    with np.errstate(over="ignore"):
        return np.asarray(x, dtype=np.float64).astype(np.float32).astype(np.float64)


# ---------------------------------------------------------------------- building blocks
def reduce_last(x: np.ndarray, spec: AccSpec) -> np.ndarray:
    """golden.accumulate(x, spec...).value over the last axis (golden.fastsum.accumulate_values: the
    exact float64 Kulisch fast path where it applies)."""
    return accumulate_values(x, spec.scheme, spec.acc_fmt, spec.comp_fmt, spec.order)


def quantize_padded_mx(x: np.ndarray, st: StageFormat, axis: int) -> MXTensor:
    """golden.mx.mx_quantize of x along `axis` after zero-padding it to a multiple of st.k (through
    golden.fastsum.mx_quantize_fast, proved bit-identical to it)."""
    n = x.shape[axis]
    pad = (-n) % st.k
    if pad:
        widths = [(0, 0)] * x.ndim
        widths[axis] = (0, pad)
        x = np.pad(x, widths)
    return mx_quantize_fast(x, st.fmt, st.k, axis=axis, scale_rule=st.scale_rule)


def quantize_padded(x: np.ndarray, st: StageFormat, axis: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(elements, scale_exp, original length) of quantize_padded_mx; elements keep the padded length."""
    t = quantize_padded_mx(x, st, axis)
    return t.elements, t.scale_exp, x.shape[axis]


def mx_values(x: np.ndarray, st: StageFormat, axis: int) -> np.ndarray:
    """Dequantised MX values of x along axis (x itself for element format 'none')."""
    if st.fmt is None:
        return x
    el, sc, n = quantize_padded(x, st, axis)
    ax = axis % x.ndim
    s = np.repeat(sc, st.k, axis=ax)
    v = np.where(s > SCALE_MAX, np.nan, np.ldexp(el, np.minimum(s, SCALE_MAX)))
    return np.take(v, np.arange(n), axis=ax)


def _to_f32(x: np.ndarray) -> np.ndarray:
    """FP32 rounding as float32 values (the IEEE conversion, = f32_cast without widening back)."""
    return np.asarray(x).astype(np.float32)


def _mm32(a: np.ndarray, b: np.ndarray, out32: bool = False) -> np.ndarray:
    """fp32 batched matmul through torch (BLAS), returned as float64 (out32: as float32): the statistical
    mode's 'exact' sums are fp32 sums of the (fp32-representable) quantised terms."""
    import torch

    ta = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
    tb = torch.from_numpy(np.ascontiguousarray(b, dtype=np.float32))
    r = torch.matmul(ta, tb).numpy()
    return r if out32 else r.astype(np.float64)


def mx_values_fast(x: np.ndarray, st: StageFormat, axis: int, out32: bool = False) -> np.ndarray:
    """mx_values (the dequantised golden.mx.mx_quantize of x, zero-padded along `axis`) through golden's
    fast path golden.fastsum.mx_values (float32 rounding by lookup where exact, else golden's rounder;
    proved equal to mx_quantize(...).values by tests/golden/test_fastsum.py and, with the padding, by
    tests/quant/test_kernels.py).  Used by the statistical mode.  out32: float32 values (exact) when possible."""
    if st.fmt is None:
        return x.astype(np.float32) if out32 and np.array_equal(x.astype(np.float32), x) else x
    ax = axis % x.ndim
    n = x.shape[ax]
    pad = (-n) % st.k
    if pad:
        widths = [(0, 0)] * x.ndim
        widths[ax] = (0, pad)
        x = np.pad(x, widths)
    v = fast_mx_values(x, st.fmt, st.k, ax, st.scale_rule, out32=out32)
    return np.take(v, np.arange(n), axis=ax) if pad else v


def dot_exact(a: np.ndarray, b: np.ndarray, st: StageFormat, spec: AccSpec) -> np.ndarray:
    """C = A @ B (A (..., M, K), B (..., K, N)) with golden numerics: MX along K with stage `st`
    (or plain exact products for 'none') and the accumulator `spec` across blocks / products."""
    acc = spec.acc_fmt
    if st.fmt is not None:
        ta, tb = quantize_padded_mx(a, st, axis=-1), quantize_padded_mx(b, st, axis=-2)
        return mx_dot_values(ta, tb, spec.scheme, acc, spec.comp_fmt, spec.order)
    # golden.accumulate of the exact (fp32 x fp32 fits float64) products along K
    return product_sum_values(a, b, spec.scheme, spec.acc_fmt, spec.comp_fmt, spec.order)


# ---------------------------------------------------------------------- the attention stages
def _softmax_parts(s: np.ndarray, allowed: np.ndarray, cfg: AttnConfig, f32=_F32, mx=None) -> tuple[np.ndarray, np.ndarray]:
    """Stage 2 up to the numerators: (e, count of allowed keys per row); f32: the FP32 rounding,
    mx: the MX quantiser (default golden's mx_values)."""
    count = np.broadcast_to(np.sum(allowed, axis=-1), s.shape[:-1])  # before broadcasting: fewer rows
    allowed = np.broadcast_to(allowed, s.shape)
    if cfg.scores.fmt is not None:
        s = (mx or mx_values)(np.where(allowed, s, 0.0), cfg.scores, axis=-1)
    m = np.max(s, axis=-1, where=allowed, initial=-np.inf, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        d = np.zeros(s.shape)
        np.subtract(s, m, out=d, where=allowed, dtype=np.float64)  # float32 s: in float64
        np.exp(d, out=d, where=allowed)  # only allowed keys; masked ones stay exactly 0
        e = f32(d)
    return e, count


def _scores(q, k, scaling, bias, dot) -> np.ndarray:
    s = dot(q, np.swapaxes(k, -1, -2))
    s = _F32(s * scaling)
    if bias is not None:
        s = _F32(s + bias)
    return s


def _repeat_kv(x: np.ndarray, heads: int) -> np.ndarray:
    """KV heads repeated to `heads` query heads (head h uses KV head h // n_rep), like transformers' repeat_kv."""
    n_rep = heads // x.shape[1]
    if n_rep * x.shape[1] != heads:
        raise ValueError(f"parameters 'k'/'v' must have a number of heads dividing q's ({heads}); got {x.shape[1]}")
    return x if n_rep == 1 else np.repeat(x, n_rep, axis=1)


def attention_exact(q, k, v, scaling: float, allowed, bias, cfg: AttnConfig) -> np.ndarray:
    """Exact-mode attention output (B, H, Sq, D), float64 values in acc_pv's format."""
    k, v = _repeat_kv(k, q.shape[1]), _repeat_kv(v, q.shape[1])
    s = _scores(q, k, scaling, bias, lambda a, b: dot_exact(a, b, cfg.qk, cfg.acc_qk))
    e, _ = _softmax_parts(s, allowed, cfg)
    denom = reduce_last(e, cfg.acc_sum)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = _F32(e / denom[..., None])
    return dot_exact(p, v, cfg.pv, cfg.acc_pv)


# ---------------------------------------------------------------------- statistical mode
def _blocks(count: np.ndarray, st: StageFormat) -> np.ndarray:
    """Number of accumulated terms for `count` products: MX blocks holding them, or count itself."""
    return count if st.fmt is None else -(-count // st.k)


def attention_statistical(q, k, v, scaling: float, allowed, bias, cfg: AttnConfig, model, rng) -> np.ndarray:
    """Statistical-mode attention: MX quantisation exact (golden semantics, mx_values_fast), each sum the
    fp32 sum of its terms (softmax denominator: float64) plus an error drawn from `model.sample` for the
    configured accumulator, the number of terms actually accumulated (allowed keys, or their MX blocks),
    the sum of |terms| and, for the softmax denominator (distribution 'attn_softmax', fitted on real
    attention rows), the row's largest term.  model None: no error added."""

    def err(spec: AccSpec, dist: str, n, sum_abs, **kw):
        if model is None:
            return 0.0
        zero = getattr(model, "always_zero", None)  # optional: skip sums whose every sampled error is 0
        if zero is not None and zero(spec.scheme, spec.order, spec.acc, spec.comp, dist, n):
            return 0.0
        if callable(sum_abs):
            sum_abs = sum_abs()
        out = model.sample(scheme=spec.scheme, order=spec.order, acc=spec.acc, comp=spec.comp, dist=dist,
                           n=np.asarray(n, dtype=np.int64), sum_abs=sum_abs, rng=rng, **kw)
        return np.asarray(out, dtype=np.float64).reshape(sum_abs.shape)

    D, H = q.shape[-1], q.shape[1]
    # MX quantisation is per head, so K and V are quantised once per KV head and then repeated
    qv, kv = mx_values_fast(q, cfg.qk, -1, out32=True), _repeat_kv(mx_values_fast(k, cfg.qk, -1, out32=True), H)
    kt = np.swapaxes(kv, -1, -2)
    dot = _mm32(qv, kt, out32=True)
    e_qk = err(cfg.acc_qk, "mx_products", _blocks(np.int64(D), cfg.qk), lambda: _mm32(np.abs(qv), np.abs(kt)))
    if isinstance(e_qk, float) and e_qk == 0.0 and dot.dtype == np.float32 and float(np.float32(scaling)) == scaling:
        # FP32(dot * scaling) for a float32 scaling: the float32 multiply (the exact product of two
        # float32 values fits float64, and both round it once to FP32)
        with np.errstate(over="ignore"):
            s = dot * np.float32(scaling)
    else:
        s = f32_cast((dot.astype(np.float64) + e_qk) * scaling)
    if bias is not None:
        s = f32_cast(s + np.asarray(bias, dtype=np.float64))
    e, count = _softmax_parts(s, allowed, cfg, _to_f32, mx_values_fast)  # e: float32 (exact FP32 values)
    exact = e.sum(axis=-1, dtype=np.float64)
    denom = exact + err(cfg.acc_sum, "attn_softmax", count, exact, max_abs=e.max(axis=-1))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        p = (e / denom[..., None]).astype(np.float32)  # FP32 rounding (the IEEE conversion)
    pv_, vv = mx_values_fast(p, cfg.pv, -1, out32=True), _repeat_kv(mx_values_fast(v, cfg.pv, -2, out32=True), H)
    out = _mm32(pv_, vv)
    n = _blocks(count, cfg.pv)[..., None]
    return out + err(cfg.acc_pv, "mx_products", n, lambda: _mm32(np.abs(pv_), np.abs(vv)))

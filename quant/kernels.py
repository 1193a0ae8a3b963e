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

import threading

import numpy as np

from golden.fastsum import (
    accumulate_values,
    mx_matmul_values,
    mx_quantize_fast,
    mx_values_f32,
    mx_values_f32_applies,
    product_sum_values,
    round_fp32,
)
from golden.fastsum import mx_values as fast_mx_values
from golden.mx import SCALE_MAX, MXTensor

from .config import AccSpec, AttnConfig, StageFormat
from .fused import divide_fp32_inplace, scale_fp32_inplace, softmax_shift, softmax_store


def f32_cast(x: np.ndarray, out32: bool = False) -> np.ndarray:
    """FP32 rounding (golden.fastsum.round_fp32: golden's FP32 rounder in one pass; tests/quant/test_kernels.py
    checks it bit for bit); the statistical mode's FP32 roundings use it.  Returns float64 values, or with
    out32 the float32 values themselves (no widening back)."""
    r = round_fp32(x)
    return r if out32 else r.astype(np.float64)


_F32 = f32_cast  # golden's FP32 rounder (= rounder(FP32), checked bit for bit), float64 values


def _keep_freed_arrays_in_heap() -> None:
    """Ask glibc to keep freed large blocks in the heap instead of unmapping them.  An exact attention
    call allocates and frees several MB of temporaries of varying sizes; with glibc's defaults each
    call took about 1 700 page faults (6 ms of system time at ctx 128, beside 15 ms of work).  The
    memory stays reserved for reuse.  No effect (and no error) where mallopt is unavailable."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD: blocks below 1 GiB come from the heap
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD: keep up to 1 GiB of free heap top
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


_keep_freed_arrays_in_heap()

# ---------------------------------------------------------------------- building blocks
def reduce_last(x: np.ndarray, spec: AccSpec, row_lens=None) -> np.ndarray:
    """golden.accumulate(x, spec...).value over the last axis (golden.fastsum.accumulate_values: the
    exact float64 Kulisch fast path where it applies).  row_lens: x's rows are +0 past these lengths
    (accumulate_values' hint, checked there)."""
    return accumulate_values(x, spec.scheme, spec.acc_fmt, spec.comp_fmt, spec.order, row_lens=row_lens)


def quantize_padded_mx(x: np.ndarray, st: StageFormat, axis: int) -> MXTensor:
    """golden.mx.mx_quantize of x along `axis` after zero-padding it to a multiple of st.k (through
    golden.fastsum.mx_quantize_fast, proved bit-identical to it)."""
    return mx_quantize_fast(pad_to_blocks(x, st.k, axis), st.fmt, st.k, axis=axis, scale_rule=st.scale_rule)


def pad_to_blocks(x: np.ndarray, k: int, axis: int) -> np.ndarray:
    """x zero-padded at the end of `axis` to a multiple of k (x itself when it already is one)."""
    pad = (-x.shape[axis]) % k
    if not pad:
        return x
    widths = [(0, 0)] * x.ndim
    widths[axis] = (0, pad)
    return np.pad(x, widths)


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


def _mm32(a: np.ndarray, b: np.ndarray, out32: bool = False) -> np.ndarray:
    """fp32 batched matmul through torch (BLAS), returned as float64 (out32: as float32): the statistical
    mode's 'exact' sums are fp32 sums of the (fp32-representable) quantised terms."""
    import torch

    def as_t(x):
        # float32 operands as they are (a transposed view is a transposed BLAS operand, not a copy; the
        # products and sums are the same); others as a float32 copy
        ok = x.dtype == np.float32 and x.flags.writeable and min(x.strides, default=0) >= 0
        return torch.from_numpy(x if ok else np.array(x, dtype=np.float32))

    r = torch.matmul(as_t(np.asarray(a)), as_t(np.asarray(b))).numpy()
    return r if out32 else r.astype(np.float64)


def _mx_f32_ok(st: StageFormat) -> bool:
    """Whether golden.fastsum.mx_values_f32 applies to stage st: the OCP scale rule and an element format
    it handles (golden.fastsum.mx_values_f32_applies: every MX value exact in float32)."""
    return st.scale_rule == "ocp" and mx_values_f32_applies(st.fmt)


def _ws(tag: str, shape: tuple, dtype) -> np.ndarray:
    """A scratch array (uninitialised) of this shape and dtype, kept per thread and reused by the next
    call with the same tag: every layer of a forward has the same shapes, and a fresh large array costs
    its page faults again on every call.  Only for values that do not leave the kernel."""
    d = _SCRATCH.__dict__
    a = d.get(tag)
    if a is None or a.shape != shape or a.dtype != dtype:
        a = d[tag] = np.empty(shape, dtype)
    return a


_SCRATCH = threading.local()


def _ws_zero_outside(tag: str, shape: tuple, dtype, bands: list) -> np.ndarray:
    """A scratch array (_ws) that is 0 outside the rectangles of `bands` ((r0, r1, kk): rows r0..r1-1
    of the second-to-last axis, keys :kk of the last; for an array without the key axis, the rows) and
    holds anything inside them, for a caller that then overwrites every rectangle of a band with kk > 0
    in full.  It is zero-filled only when the buffer is new or the previous call wrote other bands
    (every layer of a forward has the same bands, so the zeros stay in place between layers)."""
    d = _SCRATCH.__dict__
    a, mark = d.get(tag), tag + "#bands"
    if a is None or a.shape != shape or a.dtype != dtype or d.get(mark) != bands:
        a = _ws(tag, shape, dtype)
        a.fill(0)
        d[mark] = list(bands)
    return a


def mx_values_fast(x: np.ndarray, st: StageFormat, axis: int, out32: bool = False) -> np.ndarray:
    """mx_values (the dequantised golden.mx.mx_quantize of x, zero-padded along `axis`) through golden's
    fast path golden.fastsum.mx_values (float32 rounding by lookup where exact, else golden's rounder;
    proved equal to mx_quantize(...).values by tests/golden/test_fastsum.py and, with the padding, by
    tests/quant/test_kernels.py), for float32 x and the OCP scale rule its float32 path
    golden.fastsum.mx_values_f32 directly (no copy to float64 and back).  Used by the statistical mode.
    out32: float32 values (exact) when possible."""
    return _mxv(x, st, axis, out32)


def _mxv(x: np.ndarray, st: StageFormat, axis: int, out32: bool = True, tag: str | None = None,
         out: np.ndarray | None = None) -> np.ndarray:
    """mx_values_fast, for the statistical kernel: tag = golden.fastsum.mx_values_f32's scratch arrays
    come from _ws under this tag, and the result may then live in them (valid until the next call with
    the same tag); out = where to write the values (x's shape; used on mx_values_f32's path, else
    assigned)."""
    v = None
    if st.fmt is not None and x.dtype == np.float32 and _mx_f32_ok(st):
        ax = axis % x.ndim
        n = x.shape[ax]
        xm = pad_to_blocks(np.moveaxis(x, ax, -1), st.k, -1)
        direct = out is not None and xm.shape[-1] == n and ax == x.ndim - 1
        scratch = None if tag is None else (lambda name, shape, dtype: _ws(tag + name, shape, dtype))
        v = mx_values_f32(np.ascontiguousarray(xm), st.fmt, st.k, out if direct else None, scratch)
        if v is not None:
            if direct:
                return out
            v = np.moveaxis(v[..., :n], -1, ax)
            v = v if out32 else v.astype(np.float64)
    if v is None:  # golden's fast path (also where mx_values_f32 hands back to it)
        if st.fmt is None:
            x32 = x.astype(np.float32) if out32 else None
            v = x32 if x32 is not None and np.array_equal(x32, x) else x
        else:
            ax = axis % x.ndim
            n = x.shape[ax]
            v = fast_mx_values(pad_to_blocks(x, st.k, ax), st.fmt, st.k, ax, st.scale_rule, out32=out32)
            v = np.take(v, np.arange(n), axis=ax) if v.shape[ax] != n else v
    if out is not None:
        out[...] = v
        return out
    return v


def dot_exact(a: np.ndarray, b: np.ndarray, st: StageFormat, spec: AccSpec, row_cols=None,
              row_blocks=None) -> np.ndarray:
    """C = A @ B (A (..., M, K), B (..., K, N)) with golden numerics: MX along K with stage `st`
    (or plain exact products for 'none') and the accumulator `spec` across blocks / products.
    row_cols / row_blocks: the causal hints of golden.fastsum.mx_matmul_values (outputs past row_cols[i]
    are not computed, returned as 0; row i of A is zero in its MX blocks >= row_blocks[i], checked;
    row_blocks is used with MX only)."""
    acc = spec.acc_fmt
    if st.fmt is not None:
        return mx_matmul_values(pad_to_blocks(a, st.k, a.ndim - 1), pad_to_blocks(b, st.k, b.ndim - 2), st.fmt,
                                st.fmt, st.k, spec.scheme, acc, spec.comp_fmt, spec.order, st.scale_rule,
                                row_blocks=row_blocks, row_cols=row_cols)
    # golden.accumulate of the exact (fp32 x fp32 fits float64) products along K
    return product_sum_values(a, b, spec.scheme, spec.acc_fmt, spec.comp_fmt, spec.order, row_cols=row_cols)


# ---------------------------------------------------------------------- the attention stages
def _numerators(s: np.ndarray, allowed: np.ndarray, masked: np.ndarray, cfg: AttnConfig) -> np.ndarray:
    """FP32(exp(s - m)) for 4-D scores s (a band of them or all), float64; allowed / masked: the mask
    and its negation, broadcastable to s.  The scores' MX quantisation (stage 2, masked scores as 0),
    then one compiled pass (quant.fused.softmax_shift: d = s - m on allowed keys with m their maximum,
    0 where not finite; -inf on masked ones, whose exp is then exactly +0; tests/quant/test_fused.py),
    numpy's exp, and the FP32 rounding in place (= _F32(d), x * 1.0 = x)."""
    if cfg.scores.fmt is not None:
        s = mx_values(np.where(allowed, s, 0.0), cfg.scores, axis=-1)
    d = np.empty(s.shape)
    softmax_shift(s, masked, d)
    np.exp(d, out=d)
    scale_fp32_inplace(d, 1.0)
    return d


def _softmax_parts(s: np.ndarray, allowed: np.ndarray, cfg: AttnConfig, bands=None,
                   masked=None) -> tuple[np.ndarray, np.ndarray]:
    """Stage 2 up to the numerators: (e, count of allowed keys per row).  bands, masked: _mask_plan's
    bands of query rows and their masked keys (4-D s): each band is computed only up to its last visible
    key, the rest of e is exactly the +0 every masked numerator is."""
    count = np.broadcast_to(np.sum(allowed, axis=-1), s.shape[:-1])  # before broadcasting: fewer rows
    with np.errstate(over="ignore", invalid="ignore"):
        if s.ndim == 4 and s.shape[-1] and bands is not None:
            e = np.zeros(s.shape)
            for (r0, r1, kk), mb in zip(bands, masked):
                if kk:
                    e[..., r0:r1, :kk] = _numerators(s[..., r0:r1, :kk], allowed[..., r0:r1, :kk], mb, cfg)
            return e, count
        if s.ndim == 4 and s.shape[-1]:
            return _numerators(s, allowed, np.logical_not(allowed), cfg), count
        allowed = np.broadcast_to(allowed, s.shape)
        if cfg.scores.fmt is not None:
            s = mx_values(np.where(allowed, s, 0.0), cfg.scores, axis=-1)
        m = np.max(s, axis=-1, where=allowed, initial=-np.inf, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        d = np.zeros(s.shape)
        np.subtract(s, m, out=d, where=allowed, dtype=np.float64)  # float32 s: in float64
        np.exp(d, out=d, where=allowed)  # only allowed keys; masked ones stay exactly 0
        return _F32(d), count


def _scores(q, k, scaling, bias, dot) -> np.ndarray:
    s = dot(q, np.swapaxes(k, -1, -2))
    if s.dtype == np.float64 and s.flags.c_contiguous and s.flags.writeable:
        scale_fp32_inplace(s, scaling)  # = _F32(s * scaling), one pass (tests/quant/test_fused.py)
    else:
        s = _F32(s * scaling)
    if bias is not None:
        s = _F32(s + bias)
    return s


def _mm_heads(a: np.ndarray, b: np.ndarray, out32: bool = False) -> np.ndarray:
    """_mm32(a, _repeat_kv(b, heads of a)) without repeating b: a (B, H, M, K), b (B, Hkv, K, N) with
    Hkv dividing H; the n_rep = H / Hkv query heads of KV head g (heads n_rep g .. n_rep g + n_rep - 1,
    as repeat_kv) are one (n_rep M, K) operand.  Every output element is the same fp32 dot product over K (the BLAS
    result does not depend on how many rows are multiplied at once; checked bit for bit against the
    repeated form on shapes up to 512 x 128 with 1, 3 and 4 query heads per KV head)."""
    B, H, M, K = a.shape
    hk = b.shape[1]
    if hk == H:
        return _mm32(a, b, out32)
    r = _mm32(a.reshape(B, hk, (H // hk) * M, K), b, out32)
    return r.reshape(B, H, M, r.shape[-1])


def _check_kv_heads(x: np.ndarray, heads: int) -> int:
    """n_rep = heads / KV heads of x (ValueError unless the KV heads divide the query heads)."""
    n_rep = heads // x.shape[1]
    if n_rep * x.shape[1] != heads:
        raise ValueError(f"parameters 'k'/'v' must have a number of heads dividing q's ({heads}); got {x.shape[1]}")
    return n_rep


def _repeat_kv(x: np.ndarray, heads: int) -> np.ndarray:
    """KV heads repeated to `heads` query heads (head h uses KV head h // n_rep), like transformers' repeat_kv."""
    n_rep = _check_kv_heads(x, heads)
    return x if n_rep == 1 else np.repeat(x, n_rep, axis=1)


def _dot_heads(a: np.ndarray, b: np.ndarray, st: StageFormat, spec: AccSpec, row_cols=None,
               row_blocks=None) -> np.ndarray:
    """dot_exact(a, _repeat_kv(b, heads of a), ...) without repeating b: a (B, H, M, K), b (B, Hkv, K, N)
    with Hkv dividing H; a's heads as (B, Hkv, n_rep, M, K) against b as (B, Hkv, 1, K, N), broadcast
    (head h = n_rep g + r uses KV head g, as repeat_kv).  Each output element is the same golden dot
    product of its row of A and column of B either way (B's MX blocks run along K within one column of
    one KV head, so quantising b once gives every repeated head's values); B is quantised n_rep times
    less often and not copied per head."""
    B, H, M, K = a.shape
    hk = b.shape[1]
    if hk == H:
        return dot_exact(a, b, st, spec, row_cols=row_cols, row_blocks=row_blocks)
    c = dot_exact(a.reshape(B, hk, H // hk, M, K), b[:, :, None], st, spec, row_cols=row_cols, row_blocks=row_blocks)
    return c.reshape(B, H, M, c.shape[-1])


def attention_exact(q, k, v, scaling: float, allowed, bias, cfg: AttnConfig) -> np.ndarray:
    """Exact-mode attention output (B, H, Sq, D), float64 values in acc_pv's format.

    The causal structure is used where it changes no bit: each row's scores computed only up to the
    last key it may see (_row_last; scores past it are never read), its numerators in bands of query
    rows (_row_bands) up to the last key any row of the band may see (past it they are exactly +0),
    and P.V told that each row of P is zero past its last key, so its all-zero MX blocks enter golden's
    recurrence as the +0 block values they are without being quantised or multiplied
    (golden.fastsum.mx_matmul_values checks that claim).  The denominators and every recurrence still
    run over all keys, in golden's order."""
    _check_kv_heads(k, q.shape[1])
    _check_kv_heads(v, q.shape[1])
    B, H, Sq, Sk = q.shape[0], q.shape[1], q.shape[2], k.shape[2]
    bands = masked = None
    band_cols = row_cols = row_blocks = None
    if allowed is not None and np.ndim(allowed) == 4:
        _, bands, masked, row_cols = _mask_plan(allowed, (B, H, Sq, Sk), cfg)
        if len(bands) > 1:
            band_cols = np.zeros(Sq, np.int64)
            for r0, r1, kk in bands:
                band_cols[r0:r1] = kk
            if cfg.pv.fmt is not None:
                row_blocks = -(-row_cols // cfg.pv.k)
        else:
            bands = row_cols = None
    # scores only up to each row's last visible key (the others are masked, never read)
    s = _scores(q, k, scaling, bias, lambda a, b: _dot_heads(a, b, cfg.qk, cfg.acc_qk, row_cols=row_cols))
    e, _ = _softmax_parts(s, allowed, cfg, bands=bands, masked=masked)
    denom = reduce_last(e, cfg.acc_sum, row_lens=band_cols)  # e is +0 past each band's last key
    with np.errstate(divide="ignore", invalid="ignore"):
        if e.flags.c_contiguous and e.dtype == np.float64:
            divide_fp32_inplace(e, denom)  # = _F32(e / denom[..., None]), one pass (tests/quant/test_fused.py)
            p = e
        else:
            p = _F32(e / denom[..., None])
    return _dot_heads(p, v, cfg.pv, cfg.acc_pv, row_blocks=row_blocks)


# ---------------------------------------------------------------------- statistical mode
def _blocks(count: np.ndarray, st: StageFormat) -> np.ndarray:
    """Number of accumulated terms for `count` products: MX blocks holding them, or count itself."""
    return count if st.fmt is None else -(-count // st.k)


def attention_statistical(q, k, v, scaling: float, allowed, bias, cfg: AttnConfig, model, rng) -> np.ndarray:
    """Statistical-mode attention: MX quantisation exact (golden semantics, mx_values_fast), each sum the
    fp32 sum of its terms (softmax denominator: float64) plus an error drawn from `model.sample` for the
    configured accumulator, the number of terms actually accumulated (allowed keys, or their MX blocks),
    the sum of |terms| and, for the softmax denominator (distribution 'attn_softmax', fitted on real
    attention rows), the row's largest term.  model None: no error added; none either for accumulators at
    FP32 precision or wider (below_fp32_resolution: the fp32 sums already carry errors of that size).

    The work on the (queries x keys) matrices (softmax numerators, P and its MX quantisation) is done in
    bands of query rows, each only up to the last key any of its rows may see (_row_bands): past it
    every numerator is exactly 0, P is exactly +0 (denominators > 0) and so is every MX block of P, so
    the skipped part is filled with zeros, not computed.  The sums over the whole key axis (the float64
    denominators, the P.V matmul) still run over the full rows, in the same order, so the result is
    bit-identical to computing every band over all keys (tests/quant/test_kernels.py)."""

    def err(spec: AccSpec, dist: str, n, sum_abs, **kw):
        if model is None or below_fp32_resolution(spec):
            return 0.0
        zero = getattr(model, "always_zero", None)  # optional: skip sums whose every sampled error is 0
        if zero is not None and zero(spec.scheme, spec.order, spec.acc, spec.comp, dist, n):
            return 0.0
        if callable(sum_abs):
            sum_abs = sum_abs()
            if sum_abs.dtype == np.float32 and not getattr(model, "sum_abs_float32", False):
                sum_abs = sum_abs.astype(np.float64)  # models that do not declare they take float32 sums
        out = model.sample(scheme=spec.scheme, order=spec.order, acc=spec.acc, comp=spec.comp, dist=dist,
                           n=np.asarray(n, dtype=np.int64), sum_abs=sum_abs, rng=rng, **kw)
        return np.asarray(out, dtype=np.float64).reshape(sum_abs.shape)

    D, H = q.shape[-1], q.shape[1]
    # MX quantisation is per head, so K and V are quantised once per KV head (and never repeated:
    # _mm_heads multiplies each KV head with its group of query heads)
    _check_kv_heads(k, H)
    _check_kv_heads(v, H)
    qv, kt = _mxv(q, cfg.qk, -1, tag="q"), np.swapaxes(_mxv(k, cfg.qk, -1, tag="k"), -1, -2)
    dot = _mm_heads(qv, kt, out32=True)
    count, bands, masked, _ = _mask_plan(allowed, dot.shape, cfg)
    # sum|terms| as the float32 matmul gives them (the sampler takes them as they are, in float64)
    e_qk = err(cfg.acc_qk, "mx_products", _blocks(np.int64(D), cfg.qk),
               lambda: _mm_heads(np.abs(qv), np.abs(kt), out32=True))
    if isinstance(e_qk, float) and e_qk == 0.0 and float(np.float32(scaling)) == scaling:
        # FP32(dot * scaling) for a float32 scaling: the float32 multiply (the exact product of two
        # float32 values fits float64, and both round it once to FP32)
        with np.errstate(over="ignore"):
            dot *= np.float32(scaling)
        s = dot
    elif _fresh(e_qk, dot.shape):
        # FP32((dot + error) * scaling): the float64 sum and product in place on the fresh error array,
        # rounded once by the float32 store into dot (its float32 values, exactly, until then); only
        # inside the bands, the only scores stage 2 reads (elsewhere s keeps unused values)
        with np.errstate(over="ignore"):
            for r0, r1, kk in bands:
                eb, db = e_qk[..., r0:r1, :kk], dot[..., r0:r1, :kk]
                np.add(eb, db, out=eb)
                eb *= scaling
                np.copyto(db, eb, casting="same_kind")
        s = dot
    else:
        s = f32_cast((dot.astype(np.float64) + e_qk) * scaling, out32=True)
    if bias is not None:
        s = f32_cast(s + np.asarray(bias, dtype=np.float64), out32=True)

    # stage 2: numerators e (float32, exact FP32 values; exactly 0 for masked keys), band by band
    allowed = np.broadcast_to(allowed, s.shape)
    e = _ws_zero_outside("e", s.shape, np.float32, bands)
    emax = _ws_zero_outside("emax", s.shape[:-1], np.float32, bands)
    for i, (r0, r1, kk) in enumerate(bands):
        if kk == 0:  # no key visible to any row of the band: e stays 0
            continue
        sb, ab = s[..., r0:r1, :kk], allowed[..., r0:r1, :kk]
        if cfg.scores.fmt is not None:
            sb = _mxv(np.where(ab, sb, np.float32(0)), cfg.scores, -1, tag=f"s{i}")
        # d = s - m in float64 with m = the row maximum over the allowed keys (0 where not finite) and
        # masked keys -inf, so exp(d) is exactly the +0 a masked numerator must be; then e = FP32(exp(d))
        # and the row maxima of e over the band = over the whole row (e >= +0 or NaN, +0 past the band).
        # The two passes around numpy's exp are compiled (quant.fused), the same operations as
        # numpy's masked max / subtract / float32 store / max (tests/quant/test_fused.py)
        d = _ws(f"d{i}", sb.shape, np.float64)
        softmax_shift(sb, masked[i], d)
        with np.errstate(over="ignore", invalid="ignore"):
            np.exp(d, out=d)
        softmax_store(d, e[..., r0:r1, :kk], emax[..., r0:r1])
    exact = e.sum(axis=-1, dtype=np.float64)  # over the whole key axis (numpy's summation order)
    denom = exact + err(cfg.acc_sum, "attn_softmax", count, exact, max_abs=emax)

    # stage 3: P (FP32) and its MX values, band by band where every masked P is +0 (denominators > 0)
    # finite positive denominators: every P is finite and >= +0 (masked ones exactly +0)
    pos = bool(np.all(np.isfinite(denom) & (denom > 0)))
    if not pos:
        bands = [(0, s.shape[-2], s.shape[-1])]
    pv_ = _ws_zero_outside("pv", s.shape, np.float32, bands)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i, (r0, r1, kk) in enumerate(bands):
            if kk == 0:
                continue
            pb = _ws(f"pb{i}", e[..., r0:r1, :kk].shape, np.float32)
            # P = FP32(e / denominator): the float64 quotient, rounded by the float32 store
            np.divide(e[..., r0:r1, :kk], denom[..., r0:r1, None], out=pb, dtype=np.float64, casting="same_kind")
            if cfg.pv.fmt is None:
                pv_[..., r0:r1, :kk] = pb
            else:
                _mxv(pb, cfg.pv, -1, tag=f"p{i}", out=pv_[..., r0:r1, :kk])
    vv = _mxv(v, cfg.pv, -2)
    out = _mm_heads(pv_, vv, out32=True)
    n = _blocks(count, cfg.pv)[..., None]
    # |P| = P when every P is >= +0 (finite positive denominators): no abs pass
    e_pv = err(cfg.acc_pv, "mx_products", n, lambda: _mm_heads(pv_ if pos else np.abs(pv_), np.abs(vv), out32=True))
    if _fresh(e_pv, out.shape):
        return np.add(e_pv, out, out=e_pv)  # the float64 sum, in place on the fresh error array
    return out.astype(np.float64) + e_pv


def below_fp32_resolution(spec: AccSpec) -> bool:
    """Whether the statistical mode draws no error for sums with accumulator `spec`: an accumulator at
    least as precise and as wide as FP32 (>= 23 fraction bits and >= 8 exponent bits, any scheme and
    comp format).  The statistical mode's Q.K^T and P.V sums are themselves fp32 sums (fp32 matmuls: an
    FP32 accumulation in BLAS' order) whose own rounding error is of the same size as such an
    accumulator's, so the mode cannot resolve it: the fp32 sum stands for the FP32 accumulation (a drawn
    FP32-level error on top would roughly double its variance instead).  The softmax denominator is a
    float64 sum; an FP32-level relative error of it is of the size of the FP32 rounding of every P that
    follows.  Narrower accumulators' errors are 2^(23 - m) times larger and are drawn."""
    f = spec.acc_fmt
    return f.m >= 23 and f.e >= 8


def _fresh(e, shape: tuple) -> bool:
    """Whether the sampled errors e (err's result) are a writable float64 array of this shape, which the
    kernel may add into: model.sample returns a new array per call (ErrorModel does)."""
    return isinstance(e, np.ndarray) and e.shape == shape and e.dtype == np.float64 and e.flags.writeable


_ROWS_PER_BAND = 32
_PLAN: list = [None]  # [(key, mask, plan)] of the last _mask_plan: every layer of a forward shares its mask


def _mask_plan(allowed: np.ndarray, shape: tuple, cfg: AttnConfig) -> tuple[np.ndarray, list, list, np.ndarray]:
    """(allowed keys per row broadcast to shape[:-1], _row_bands, the masked keys of each band (~allowed
    over its rows and keys, allowed's own broadcast shape), _row_last) for a mask; the last result is kept and
    reused while the same read-only mask object comes again (quant.emulate shares one causal mask
    array per shape between layers).  The cache entry is one tuple, replaced atomically."""
    align = max((st.k for st in (cfg.scores, cfg.pv) if st.fmt is not None), default=1)
    key = (id(allowed), allowed.shape, tuple(shape), align)
    last = _PLAN[0]
    if last is not None and last[0] == key and last[1] is allowed and not allowed.flags.writeable:
        return last[2]
    count = np.broadcast_to(np.sum(allowed, axis=-1), shape[:-1])  # before broadcasting: fewer rows
    last_keys = _row_last(np.broadcast_to(allowed, shape))
    bands = _row_bands(np.broadcast_to(allowed, shape), align, last=last_keys)
    plan = (count, bands, [~allowed[..., r0:r1, :kk] for r0, r1, kk in bands], last_keys)
    _PLAN[0] = (key, allowed, plan)
    return plan


def _row_last(allowed: np.ndarray) -> np.ndarray:
    """(Sq,) int64: per query row, the end of the last key it may see in any batch row and head (0 when
    it sees none); keys from there on are masked for the row everywhere."""
    sq, sk = allowed.shape[-2:]
    al = allowed.reshape(-1, sq, sk)
    rows = al[0] if al.shape[0] == 1 else al.any(axis=0)
    return np.where(rows.any(axis=1), sk - np.argmax(rows[:, ::-1], axis=1), 0).astype(np.int64)


def _row_bands(allowed: np.ndarray, align: int, bands: int | None = None,
               last: np.ndarray | None = None) -> list[tuple[int, int, int]]:
    """Bands (r0, r1, kk) of query rows r0..r1-1 covering all rows, kk = the end of the last key any of
    their rows may see (over every batch row and head), rounded up to a multiple of `align` (the MX
    block sizes along the key axis, so that bands split no block) and capped at Sk.  Keys >= kk are
    masked for every row of the band.  Causal masks: about Sq/32 bands, ~ half the matrix skipped."""
    sq, sk = allowed.shape[-2:]
    if bands is None:
        bands = min(8, sq // _ROWS_PER_BAND)
    if bands <= 1 or sk < 2 * align:
        return [(0, sq, sk)]
    last = _row_last(allowed) if last is None else last  # end of allowed keys per row
    edges = np.linspace(0, sq, bands + 1).astype(np.int64)
    out = []
    for r0, r1 in zip(edges[:-1].tolist(), edges[1:].tolist()):
        if r1 > r0:
            kk = int(last[r0:r1].max())
            out.append((r0, r1, min(-(-kk // align) * align, sk)))
    return out

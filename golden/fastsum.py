"""Exact fast paths for two golden operations, for callers that evaluate many of them at once
(quant/'s exact attention).  Each function returns bit for bit what the reference function named in
its docstring returns (tests/golden/test_fastsum.py proves it on random inputs for every element
format, k, accumulator format and scheme that applies); each falls back to the reference function
where its exactness condition does not hold, so it is always safe to call.

1. MX block values of a whole matrix product (reference: golden.mx.block_values on every
   (row, column) pair).  Every element product of two MX element formats is an integer multiple of
   q = min_subnormal_a * min_subnormal_b, and a partial sum of k such products is below
   k * max_a * max_b in magnitude.  When that range needs at most 52 bits
   (`block_sums_exact_in_float64`), every float64 addition of a k-term block sum is exact whatever
   the order, so one batched float64 matmul per block gives the exact block sums; each is then
   scaled by 2^(sa + sb) (exact in float64) and rounded once into the accumulator format, as
   golden does.  True for all element formats of 8 bits and narrower with k <= 4096.

2. Kulisch accumulation (reference: golden.accumulate.accumulate(x, 'kulisch', acc).value).  The
   elements are first rounded into F_acc; all are integer multiples of F_acc's min subnormal and a
   partial sum is below n * max_acc.  When that range needs at most 52 bits
   (`kulisch_exact_in_float64`), the float64 sum is exact in any order, and rounding it once into
   F_acc is the Kulisch result (e.g. E5M3, E4M3 accumulators; not FP32 or BF16).

3. MX dequantised values (reference: golden.mx.mx_quantize(...).values): `mx_values`, the same
   shared exponents, exact power-of-two scalings, and RNE with saturation in float32 by a bit trick
   where every value involved is exact in float32, else golden's own rounder.
"""

from __future__ import annotations

import math

import numpy as np

from .accumulate import _MAX_EXACT_TERMS, AccumConfig, accumulate
from .formats import FloatFormat, parse_format, round_to, rounder
from .mx import (
    SCALE_MAX,
    SCALE_RULES,
    MXTensor,
    block_values,
    check_elem_k,
    check_k,
    mx_quantize,
    shared_exponent,
)

_CHUNK_ELEMS = 1 << 22  # elements per temporary array in the fallback (float64: 32 MiB)


def _fmt(f, name: str) -> FloatFormat:
    if isinstance(f, FloatFormat):
        return f
    try:
        return parse_format(f)
    except ValueError as exc:
        raise ValueError(f"parameter '{name}': {exc}") from None


def block_sums_exact_in_float64(elem_a: FloatFormat | str, elem_b: FloatFormat | str, k: int) -> bool:
    """True when every partial sum of k products of elem_a x elem_b values is exact in float64
    (integer multiples of min_subnormal_a * min_subnormal_b below k * max_a * max_b: <= 52 bits)."""
    fa, fb = _fmt(elem_a, "elem_a"), _fmt(elem_b, "elem_b")
    k = check_k(k)
    q = math.log2(fa.min_subnormal) + math.log2(fb.min_subnormal)
    top = math.log2(fa.max_value) + math.log2(fb.max_value) + math.ceil(math.log2(k))
    return top - q <= 52


def kulisch_exact_in_float64(acc: FloatFormat | str, n: int) -> bool:
    """True when the float64 sum of n values of `acc` is exact in any order (integer multiples of
    acc's min subnormal below n * max_acc: <= 52 bits)."""
    f = _fmt(acc, "acc")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"parameter 'n' must be a non-negative integer; got {n!r}")
    return math.log2(f.max_value) + 1 + math.ceil(math.log2(max(int(n), 1))) - math.log2(f.min_subnormal) <= 52


def accumulate_values(x, scheme: str = "naive", acc: FloatFormat | str = "FP32", comp=None,
                      order: str = "sequential") -> np.ndarray:
    """golden.accumulate.accumulate(x, scheme, acc, comp, order).value, with Kulisch over a narrow
    accumulator (see `kulisch_exact_in_float64`) as one exact float64 sum rounded once.  Every other
    case (and any non-finite element) calls golden.accumulate itself."""
    cfg = AccumConfig(scheme, _fmt(acc, "acc"), None if comp is None else _fmt(comp, "comp"), order)
    acc_f = cfg.acc
    x = np.asarray(x, dtype=np.float64)
    if scheme == "kulisch" and x.ndim >= 1 and 0 < x.shape[-1] <= _MAX_EXACT_TERMS \
            and kulisch_exact_in_float64(acc_f, x.shape[-1]):
        xa = rounder(acc_f)(x)
        if np.isfinite(xa).all():
            return round_to(xa.sum(axis=-1) + 0.0, acc_f)  # + 0.0: an all-zero sum is +0, as in golden
    return accumulate(x, scheme, acc_f, cfg.comp, order).value


def mx_block_matmul(a: MXTensor, b: MXTensor, acc: FloatFormat | str = "FP32") -> np.ndarray:
    """MX block values of A @ B: a quantised along its last axis (..., M, K), b along axis -2
    (..., K, N), same k; leading axes broadcast.  Returns (..., M, N, K/k): for row i of A, column j
    of B and block t, golden.mx.block_values of the two blocks (exact block sum times 2^(sa+sb),
    rounded once into acc; NaN for a NaN block)."""
    acc_f = _fmt(acc, "acc")
    if not isinstance(a, MXTensor) or not isinstance(b, MXTensor):
        raise ValueError("parameters 'a' and 'b' must be golden.mx.MXTensor values")
    if a.elements.ndim < 2 or b.elements.ndim < 2:
        raise ValueError("parameters 'a' and 'b' must have at least two axes (matrices)")
    if a.axis != a.elements.ndim - 1:
        raise ValueError(f"parameter 'a' must be quantised along its last axis; got axis {a.axis}")
    if b.axis != b.elements.ndim - 2:
        raise ValueError(f"parameter 'b' must be quantised along axis -2; got axis {b.axis}")
    if a.k != b.k:
        raise ValueError(f"parameter 'k' must match for both operands; got {a.k} and {b.k}")
    K = a.elements.shape[-1]
    if b.elements.shape[-2] != K:
        raise ValueError(f"operands must have the same reduction length; got {K} and {b.elements.shape[-2]}")
    k, nb = a.k, K // a.k
    check_elem_k(a.elem, b.elem, k)
    ae, asc, be, bsc = a.elements, a.scale_exp, b.elements, b.scale_exp
    lead = np.broadcast_shapes(ae.shape[:-2], be.shape[:-2])
    M, N = ae.shape[-2], be.shape[-1]
    if block_sums_exact_in_float64(a.elem, b.elem, k):
        a4 = np.moveaxis(ae.reshape(*ae.shape[:-1], nb, k), -2, -3)  # (..., nb, M, k)
        b4 = be.reshape(*be.shape[:-2], nb, k, N)  # (..., nb, k, N)
        hi = np.moveaxis(np.matmul(a4, b4), -3, -1) + 0.0  # exact block sums; a zero sum is +0 as in golden
        sa = asc[..., :, None, :]
        sb = np.moveaxis(bsc, -2, -1)[..., None, :, :]
        nan = (sa > SCALE_MAX) | (sb > SCALE_MAX)
        v = round_to(np.ldexp(hi, np.where(nan, 0, sa + sb)), acc_f)
        if nan.any() or np.isnan(hi).any():
            v = np.where(nan | np.isnan(hi), np.nan, v)
        return np.ascontiguousarray(np.broadcast_to(v, (*lead, M, N, nb)))
    out = np.empty((*lead, M, N, nb))
    rows = max(1, _CHUNK_ELEMS // max(N * k * int(np.prod(lead, dtype=np.int64) or 1), 1))
    for t in range(nb):  # the reference itself on the broadcast operands, a few rows at a time
        ab = ae[..., t * k : (t + 1) * k]
        bb = np.swapaxes(be[..., t * k : (t + 1) * k, :], -1, -2)
        for r0 in range(0, M, rows):
            rs = slice(r0, min(M, r0 + rows))
            m = rs.stop - rs.start
            ta_el = np.broadcast_to(ab[..., rs, None, :], (*lead, m, N, k))
            tb_el = np.broadcast_to(bb[..., None, :, :], (*lead, m, N, k))
            ta_sc = np.broadcast_to(asc[..., rs, t][..., :, None, None], (*lead, m, N, 1))
            tb_sc = np.broadcast_to(bsc[..., t, :][..., None, :, None], (*lead, m, N, 1))
            ta = MXTensor(np.ascontiguousarray(ta_el), np.ascontiguousarray(ta_sc), a.elem, k, len(lead) + 2, a.scale_rule)
            tb = MXTensor(np.ascontiguousarray(tb_el), np.ascontiguousarray(tb_sc), b.elem, k, len(lead) + 2, b.scale_rule)
            out[..., rs, :, t] = block_values(ta, tb, acc_f)[..., 0]
    return out


def _pow2(e: np.ndarray) -> np.ndarray:
    """2.0 ** e for integer e in the float64 normal range, built from the exponent bits (exact)."""
    return ((np.asarray(e, dtype=np.int64) + 1023) << 52).view(np.float64)


def _fits_f32(f) -> bool:
    """Whether every MX value of element format f (element x 2^s, s in -127..127) and every scaled input
    is exact in float32: element significands of <= 23 bits (the subnormal-range trick needs m <= 22) whose lowest bit, 2^(emin - m) x 2^-127, is
    at or above float32's smallest subnormal 2^-149."""
    return f.m <= 22 and math.log2(f.min_subnormal) - 127 >= -149 and f.max_value < 2.0**100


def _round_elem_f32(y: np.ndarray, f) -> np.ndarray:
    """RNE of float32 y (|y| well inside float32's normal range or exact zero) into element format f with
    saturation: the bit trick on the float32 pattern where |y| >= 2^emin; below, the fixed quantum
    Q = 2^(emin - m) by adding and subtracting C = 1.5 * 2^23 * Q (exact float32 RNE for |y| < 2^22 Q),
    sign restored.
    In place on y's buffer where possible."""
    mx = np.float32(f.max_value)
    if f.is_int:
        q = np.float32(2.0 ** (1 - f.m))
        lim = np.float32(2**f.m - 1)
        y = np.rint(y / q)
        np.clip(y, -lim, lim, out=y)
        y *= q
        return y
    sh = 23 - f.m
    small = np.abs(y) < np.float32(2.0**f.emin)
    anysmall = small.any()
    if anysmall:
        C = np.float32(1.5 * 2.0 ** (23 + f.emin - f.m))
        y0 = y[small]
        ys = y0 + C
        ys -= C
        np.copysign(ys, y0, out=ys)  # a negative value rounding to zero is -0, as in golden
    if sh > 0:
        bits = y.view(np.int32)
        t = np.right_shift(bits, sh)
        np.bitwise_and(t, 1, out=t)
        t += np.int32((1 << (sh - 1)) - 1)
        bits += t
        np.bitwise_and(bits, np.int32(~((1 << sh) - 1)), out=bits)
    if anysmall:
        y[small] = ys
    np.clip(y, -mx, mx, out=y)
    return y


def mx_values(x, elem: FloatFormat | str, k: int, axis: int = -1, scale_rule: str = "ocp", out32: bool = False) -> np.ndarray:
    """golden.mx.mx_quantize(x, elem, k, axis, scale_rule).values, in fewer passes: the block scales by
    golden.mx.shared_exponent of the block maxima, the scalings by exact power-of-two products, and
    the elements rounded RNE with saturation either in float32 (when x holds float32 values, its
    blocks are below 2^100 and every MX value of the format is exact in float32 (_fits_f32: every
    8-bit-and-narrower format) by the bit trick, _round_elem_f32), or in float64 by golden's rounder
    of the saturating element format (what mx_quantize does).  NaN / Inf / beyond-float32 inputs
    call mx_quantize itself.  out32: return float32 (exact) when the float32 path was taken."""
    f = _fmt(elem, "elem")
    k = check_k(k)
    if scale_rule not in SCALE_RULES:
        raise ValueError(f"parameter 'scale_rule' must be one of {', '.join(SCALE_RULES)}; got {scale_rule!r}")
    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    if x.ndim == 0:
        raise ValueError("parameter 'x' must have at least one axis")
    ax = axis % x.ndim
    n = x.shape[ax]
    if n % k:
        raise ValueError(f"parameter 'k' (={k}) must divide the length of the quantised axis {axis} (={n})")
    xm = np.moveaxis(x, ax, -1)
    with np.errstate(over="ignore", invalid="ignore"):
        x32 = np.ascontiguousarray(xm, dtype=np.float32)
    amax = np.abs(x32.reshape(*xm.shape[:-1], -1, k)).max(axis=-1)
    if not np.isfinite(amax).all():  # NaN / Inf inputs (or beyond float32): the reference itself
        return mx_quantize(x, f, k, axis=ax, scale_rule=scale_rule).values
    use32 = _fits_f32(f) and float(amax.max(initial=0.0)) < 2.0**100 and np.array_equal(x32, xm)
    if not use32:
        amax = np.abs(np.asarray(xm, dtype=np.float64).reshape(*xm.shape[:-1], -1, k)).max(axis=-1)
    s = shared_exponent(amax.astype(np.float64), f, scale_rule)[..., None]
    if use32:
        xb = x32.reshape(*xm.shape[:-1], -1, k)
        # both scalings exact in float32: powers of two, no overflow, results of >= 2^-149 granularity
        y = xb * _pow2(-s).astype(np.float32)
        v = _round_elem_f32(y, f) * _pow2(s).astype(np.float32)
        if not out32:
            v = v.astype(np.float64)
    else:
        xb = np.ascontiguousarray(xm, dtype=np.float64).reshape(*xm.shape[:-1], -1, k)
        sat = f if f.overflow == "saturate" or f.is_int else f.with_overflow("saturate")
        v = rounder(sat)(xb * _pow2(-s)) * _pow2(s)
    return np.moveaxis(v.reshape(xm.shape), -1, ax)

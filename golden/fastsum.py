"""Exact fast paths for golden operations, for callers that evaluate many of them at once
(quant/'s exact attention).  Each function returns bit for bit what the reference function named in
its docstring returns (tests/golden/test_fastsum.py proves it on random and adversarial inputs for
every element format, k, accumulator format, scheme and order that applies); each falls back to the
reference function where its exactness condition does not hold, so it is always safe to call.
No rounding is implemented here: every rounding is golden.formats.rounder, applied directly, or
looked up in a table that rounder built, or IEEE float32 arithmetic where that is the same function.

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
   shared exponents, exact power-of-two scalings, and RNE with saturation in float32 by a table lookup
   where every value involved is exact in float32, else golden's own rounder; `mx_quantize_fast`
   returns the whole MXTensor the same way.  `mx_values_f32` is mx_values' float32 path for the OCP
   scale rule on C-contiguous float32 arrays, one compiled (numba) loop over the blocks (block maxima
   and scales from the float32 bit patterns, written into a caller's band or a caller-owned scratch
   array); mx_values itself calls it where it applies.

4. Accumulation engines (reference: golden.accumulate.accumulate(...).value): `accumulate_values`,
   `product_sum_values` (sums of element products), `mx_dot_values` (MX dot products of MXTensors)
   and `mx_matmul_values` (MX dot products of unquantised operands, quantised straight to MX values)
   run golden's sequential recurrences in one compiled loop (golden.jit_engines: FP32 roundings by
   float32 conversion / arithmetic, accumulators of <= 9 bits by golden's rounding table) and the
   pairwise order as numpy passes over float32 arrays or golden-built addition / subtraction tables
   of codes (see the section "exact accumulation engines" below).
"""

from __future__ import annotations

import math
from functools import lru_cache

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


@lru_cache(maxsize=256)
def _exact_blocks_checked(fa: FloatFormat, fb: FloatFormat, k: int) -> bool:
    """block_sums_exact_in_float64(fa, fb, k) and, where it holds, check_elem_k(fa, fb, k) (a ValueError
    for a pair golden's MX dot products do not cover; raised again on every call, as lru_cache keeps
    no exception): the compiled path's condition, once per (formats, k)."""
    if not block_sums_exact_in_float64(fa, fb, k):
        return False
    check_elem_k(fa, fb, k)
    return True


def kulisch_exact_in_float64(acc: FloatFormat | str, n: int) -> bool:
    """True when the float64 sum of n values of `acc` is exact in any order (integer multiples of
    acc's min subnormal below n * max_acc: <= 52 bits)."""
    f = _fmt(acc, "acc")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"parameter 'n' must be a non-negative integer; got {n!r}")
    return math.log2(f.max_value) + 1 + math.ceil(math.log2(max(int(n), 1))) - math.log2(f.min_subnormal) <= 52


def accumulate_values(x, scheme: str = "naive", acc: FloatFormat | str = "FP32", comp=None,
                      order: str = "sequential", row_lens=None) -> np.ndarray:
    """golden.accumulate.accumulate(x, scheme, acc, comp, order).value, with Kulisch over a narrow
    accumulator (see `kulisch_exact_in_float64`) as one exact float64 sum rounded once.  Every other
    case (and any non-finite element) calls golden.accumulate itself.

    row_lens (x.shape[-2] ints, x of at least 2 axes; sequential order): the caller says that row i's
    elements from row_lens[i] on are +0 (causal softmax numerators); the compiled engine then reads
    each run of rows with the same limit only up to it and steps the +0 elements as the +0 tail
    (golden.jit_engines.engine).  The claim is checked run by run (any element there that is not +0, and
    the run is summed like any other); the result is the same either way."""
    cfg = AccumConfig(scheme, _fmt(acc, "acc"), None if comp is None else _fmt(comp, "comp"), order)
    acc_f = cfg.acc
    x = np.asarray(x, dtype=np.float64)
    if row_lens is not None:
        if x.ndim < 2:
            raise ValueError(f"parameter 'row_lens' needs x of at least 2 axes; got shape {x.shape}")
        row_lens = _row_limits(row_lens, x.shape[-2], "row_lens", "x")
    if scheme == "kulisch" and x.ndim >= 1 and 0 < x.shape[-1] <= _MAX_EXACT_TERMS \
            and kulisch_exact_in_float64(acc_f, x.shape[-1]):
        xa = rounder(acc_f)(x)
        if np.isfinite(xa).all():
            return round_to(xa.sum(axis=-1) + 0.0, acc_f)  # + 0.0: an all-zero sum is +0, as in golden
    ar = None if scheme == "kulisch" else _arith(acc_f, cfg.comp)
    if ar is not None and x.ndim >= 1 and x.shape[-1] > 0:
        if row_lens is not None and order == "sequential":
            return _engine_values_rows(x, scheme, ar, row_lens)
        return _engine_values(x, scheme, ar, order)
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


@lru_cache(maxsize=256)
def _sat(f: FloatFormat) -> FloatFormat:
    """The saturating version of element format f (what mx_quantize rounds elements into)."""
    return f if f.overflow == "saturate" or f.is_int else f.with_overflow("saturate")


@lru_cache(maxsize=256)
def _fits_f32(f) -> bool:
    """Whether the float32 path of mx_values applies to element format f: every MX value (element x 2^s,
    s in -127..127) and every scaled input is exact in float32 (element significands of <= 11 bits
    whose lowest bit, 2^(emin - m) x 2^-127, is at or above float32's smallest subnormal 2^-149), and
    the rounding table (_f32_rounding_table, 2^(11 + m) entries) is small: m <= 10."""
    return f.m <= 10 and math.log2(f.min_subnormal) - 127 >= -149 and f.max_value < 2.0**100


@lru_cache(maxsize=64)
def _f32_rounding_table(fmt: FloatFormat) -> tuple[np.ndarray, np.uint32, np.uint32]:
    """(table, shift, sticky mask) for rounding float32 values into fmt by lookup.

    RNE into a format with m mantissa bits (gradual underflow keeps fewer bits; an integer format
    keeps at most m; the overflow threshold is a tie point max + ulp/2) depends only on the sign, the
    exponent, the top m + 1 stored mantissa bits (kept bits and guard bit) and whether any lower bit
    is set (sticky).  So round(y) = table[key], key = (top 10 + m bits of y's float32 pattern) * 2 +
    sticky, and the table holds golden's rounder (golden.formats.rounder, the one RNE implementation)
    applied to one representative per key: the key's bits with the lowest mantissa bit = sticky."""
    sh = 22 - fmt.m
    keys = np.arange(1 << (11 + fmt.m), dtype=np.uint32)
    reps = ((keys >> np.uint32(1)) << np.uint32(sh)) | (keys & np.uint32(1))
    with np.errstate(all="ignore"):
        table = rounder(fmt)(reps.view(np.float32).astype(np.float64)).astype(np.float32)
    return table, np.uint32(sh), np.uint32((1 << sh) - 1)


def _round_f32_lookup(y: np.ndarray, fmt: FloatFormat) -> np.ndarray:
    """golden's RNE rounding of float32 values y (no NaN) into fmt (m <= 22; every result exact in
    float32), as float32, by one table lookup per value (_f32_rounding_table).  The key
    2 * (b >> sh) + sticky is computed as (b >> sh) + ((b + mask) >> sh): b + mask carries into the
    kept bits exactly when a low bit is set, and does not overflow 32 bits for any pattern but NaN."""
    table, sh, mask = _f32_rounding_table(fmt)
    b = np.ascontiguousarray(y, dtype=np.float32).view(np.uint32)
    key = b + mask
    key >>= sh
    key += b >> sh
    return table.take(key.view(np.int32), mode="wrap")  # keys are in range; 'wrap' skips numpy's checked path


def _block_absmax(xb: np.ndarray) -> np.ndarray:
    """max |x| over the last axis (a power-of-two length k): the blocks transposed to (k, blocks) and
    halved with np.maximum (NaN propagates, as in .max()), which is several times faster than a
    float reduction over a short inner axis."""
    k = xb.shape[-1]
    a = np.empty((k, xb.size // k), dtype=xb.dtype)
    np.abs(xb.reshape(-1, k).T, out=a)
    w = k
    while w > 1:
        w //= 2
        a = np.maximum(a[:w], a[w : 2 * w])
    return a[0].reshape(xb.shape[:-1])


def mx_values_f32_applies(elem: FloatFormat | str) -> bool:
    """Whether mx_values_f32 handles element format elem: a float format with emax >= 0 (OCP scale rule
    s = floor(log2 amax) - emax, so a zero or subnormal block maximum gives s <= -127) whose MX values
    are all exact in float32 (_fits_f32)."""
    f = _fmt(elem, "elem")
    return not f.is_int and f.emax >= 0 and _fits_f32(f)


def _new_scratch(name: str, shape: tuple, dtype) -> np.ndarray:
    return np.empty(shape, dtype)


_JIT: list = []  # golden.jit_engines, once imported (numba loads on the first compiled call)


def _jit():
    """The module golden.jit_engines (imported on first use, then from this list: the per-call cost
    of an import statement is microseconds, and the engines are called per band)."""
    if not _JIT:
        from . import jit_engines

        _JIT.append(jit_engines)
    return _JIT[0]


def _mx_f32_kernel():
    """The compiled loop of mx_values_f32 (golden.jit_engines.mx_values_loop; numba, cached on disk)."""
    return _jit().mx_values_loop


def _to_last(x: np.ndarray, ax: int) -> np.ndarray:
    """np.moveaxis(x, ax, -1) for ax in 0..x.ndim-1 (a view; the last two axes by a swap)."""
    if ax == x.ndim - 1:
        return x
    return x.swapaxes(-1, -2) if ax == x.ndim - 2 else np.moveaxis(x, ax, -1)


def _from_last(x: np.ndarray, ax: int) -> np.ndarray:
    """np.moveaxis(x, -1, ax) for ax in 0..x.ndim-1, the inverse of _to_last."""
    if ax == x.ndim - 1:
        return x
    return x.swapaxes(-1, -2) if ax == x.ndim - 2 else np.moveaxis(x, -1, ax)


def mx_values_f32(x: np.ndarray, elem: FloatFormat | str, k: int, out: np.ndarray | None = None,
                  scratch=None) -> np.ndarray | None:
    """mx_values(x, elem, k, -1, 'ocp', out32=True) for C-contiguous float32 x whose last axis is a
    multiple of k (mx_values_f32_applies(elem) must hold), as float32; None where mx_values takes its
    other paths (NaN / Inf / blocks at or above 2^100).  out: where to write the values (x's shape,
    last axis contiguous and the leading axes collapsible to one; default a new array); scratch:
    allocator of uninitialised work arrays, scratch(name, shape, dtype) (default np.empty; a caller may
    hand out reused buffers, and then the result lives in the buffer named 'y' when out is None).

    The same operations as mx_values' float32 path (_mx_parts), one block at a time in a compiled loop
    (numba), with the block maxima and the shared exponents taken from the float32 bit patterns: |x| of
    a float32 is its pattern with the sign bit cleared, patterns of non-negative floats order like their
    values, so the block maximum of the patterns is the pattern of the block's max|x|; its exponent
    field E gives floor(log2(amax)) = E - 127 for a normal amax, and E = 0 (zero or subnormal amax,
    floor(log2) <= -127) gives s = -127 - emax, clamped to -127 exactly like shared_exponent (OCP rule:
    s = floor(log2 amax) - emax, amax = 0 -> -127, clamped to -127..127; needs emax >= 0).  Elements:
    x * 2^-s in float32 (exact), rounded by _f32_rounding_table's lookup with _round_f32_lookup's key,
    times 2^s in float32 (exact); 2^-s and 2^s are built from their bit patterns."""
    f = _fmt(elem, "elem")
    k = check_k(k)
    if x.dtype != np.float32 or not x.flags.c_contiguous or x.ndim == 0 or x.shape[-1] % k:
        raise ValueError(f"parameter 'x' must be a C-contiguous float32 array whose last axis is a multiple of k={k}")
    if not mx_values_f32_applies(f):
        raise ValueError(f"parameter 'elem': mx_values_f32 does not handle {f.label()} (see mx_values_f32_applies)")
    table, sh, mask = _f32_rounding_table(_sat(f))
    if out is None:
        y = (scratch or _new_scratch)("y", x.shape, np.float32)
    else:
        if out.shape != x.shape or out.dtype != np.float32 or (x.size and out.strides[-1] != 4):
            raise ValueError("parameter 'out' must be a float32 array of x's shape with a contiguous last axis")
        y = out
    rows = x.shape[-2] if x.ndim > 1 else 1
    o3 = y.view()
    o3.shape = (-1, rows, x.shape[-1])  # a view (raises if out's leading axes do not collapse)
    if x.size and _mx_f32_kernel()(x.reshape(-1, rows, x.shape[-1]), k, f.emax, table, sh, mask, o3,
                                    _NO_LIMITS) != _jit().MX_DONE:
        return None
    return y


def _mx_parts(x, elem, k: int, axis: int, scale_rule: str, out32: bool = False):
    """(f, ax, xm shape, elements (..., n/k, k) along the last axis, shared exponents (..., n/k, 1),
    float32?) as golden.mx.mx_quantize computes them, or None where it must be called itself (NaN /
    Inf / beyond-float32 inputs).  See mx_values."""
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
    amax = _block_absmax(x32.reshape(*xm.shape[:-1], n // k, k))
    if not np.isfinite(amax).all():  # NaN / Inf inputs (or beyond float32): the reference itself
        return None
    use32 = _fits_f32(f) and float(amax.max(initial=0.0)) < 2.0**100 and (xm.dtype == np.float32 or np.array_equal(x32, xm))
    if not use32:
        amax = np.abs(np.asarray(xm, dtype=np.float64).reshape(*xm.shape[:-1], n // k, k)).max(axis=-1)
    s = shared_exponent(amax.astype(np.float64), f, scale_rule)[..., None]
    if use32:
        xb = x32.reshape(*xm.shape[:-1], n // k, k)
        # the scaling is exact in float32: a power of two, no overflow, results of >= 2^-149 granularity
        el = _round_f32_lookup(xb * _pow2(-s).astype(np.float32), _sat(f))
    else:
        xb = np.ascontiguousarray(xm, dtype=np.float64).reshape(*xm.shape[:-1], n // k, k)
        el = rounder(_sat(f))(xb * _pow2(-s))
    return f, ax, xm.shape, el, s, use32


def mx_values(x, elem: FloatFormat | str, k: int, axis: int = -1, scale_rule: str = "ocp", out32: bool = False) -> np.ndarray:
    """golden.mx.mx_quantize(x, elem, k, axis, scale_rule).values, in fewer passes: the block scales by
    golden.mx.shared_exponent of the block maxima, the scalings by exact power-of-two products, and
    the elements rounded RNE with saturation either in float32 (when x holds float32 values, its
    blocks are below 2^100 and every MX value of the format is exact in float32 (_fits_f32: every
    8-bit-and-narrower format) by a lookup in a table built by golden's rounder, _round_f32_lookup),
    or in float64 by golden's rounder
    of the saturating element format (what mx_quantize does).  NaN / Inf / beyond-float32 inputs
    call mx_quantize itself.  out32: return float32 (exact) when the float32 path was taken.
    The float32 path for the OCP scale rule and the formats mx_values_f32_applies is mx_values_f32."""
    v = _mx_values_compiled(x, _fmt(elem, "elem"), k, axis, scale_rule, out32)
    return _mx_values_numpy(x, elem, k, axis, scale_rule, out32) if v is None else v


def _mx_values_compiled(x, f: FloatFormat, k: int, axis: int, scale_rule: str, out32: bool = False,
                        row_blocks: np.ndarray | None = None):
    """mx_values through the compiled loop straight from float32 / float64 (mx_values_loop: it checks
    that every x is a float32 value), or None where it does not apply (other scale rules or formats,
    NaN / Inf / beyond-float32 inputs, blocks at or above 2^100).  Its values are all finite.

    row_blocks (M ints, blocks along the last axis of x (..., M, n) only): the caller says that row i is
    zero (+0 or -0) in its blocks >= row_blocks[i]; those are checked instead of quantised (their MX
    values are those zeros), and _CLAIM_FALSE is returned if one is not zero."""
    xa = np.asarray(x)
    if scale_rule == "ocp" and xa.dtype in (np.float32, np.float64) and xa.ndim and mx_values_f32_applies(f):
        ax = axis % xa.ndim
        xm = _to_last(xa, ax)
        if xm.shape[-1] % check_k(k) == 0 and xm.size:
            xc = np.ascontiguousarray(xm)
            table, sh, mask = _f32_rounding_table(_sat(f))
            v = np.empty(xc.shape, np.float32 if out32 else np.float64)
            n = xc.shape[-1]
            if row_blocks is None:
                shape, lim = (1, -1, n), _NO_LIMITS
            else:
                if ax != xa.ndim - 1 or xa.ndim < 2:
                    raise ValueError("row_blocks needs blocks along the last axis")  # pragma: no cover - internal misuse
                shape, lim = (-1, xc.shape[-2], n), row_blocks
            r = _mx_f32_kernel()(xc.reshape(shape), k, f.emax, table, sh, mask, v.reshape(shape), lim)
            if r == _jit().MX_DONE:
                return _from_last(v, ax)
            if r == _jit().MX_CLAIM_FALSE:
                return _CLAIM_FALSE
    return None


_NO_LIMITS = np.zeros(0, np.int64)
_CLAIM_FALSE = "claim false"  # _mx_values_compiled: a row of x is not zero where row_blocks said


def _mx_values_numpy(x, elem, k: int, axis: int, scale_rule: str, out32: bool = False) -> np.ndarray:
    """mx_values in numpy passes (_mx_parts), or golden's mx_quantize for NaN / Inf / beyond-float32."""
    parts = _mx_parts(x, elem, k, axis, scale_rule)
    if parts is None:
        return mx_quantize(x, _fmt(elem, "elem"), k, axis=axis, scale_rule=scale_rule).values
    f, ax, shape, el, s, use32 = parts
    if use32:
        v = el
        v *= _pow2(s).astype(np.float32)  # exact: a power of two, results in float32's range
        if not out32:
            v = v.astype(np.float64)
    else:
        v = el * _pow2(s)
    return np.moveaxis(v.reshape(shape), -1, ax)


def mx_quantize_fast(x, elem: FloatFormat | str, k: int, axis: int = -1, scale_rule: str = "ocp") -> MXTensor:
    """golden.mx.mx_quantize(x, elem, k, axis, scale_rule), bit for bit (elements, shared exponents and
    fields), computed as in mx_values (float32 table-lookup rounding where exact); NaN / Inf /
    beyond-float32 inputs call mx_quantize itself."""
    parts = _mx_parts(x, elem, k, axis, scale_rule)
    if parts is None:
        return mx_quantize(x, _fmt(elem, "elem"), k, axis=axis, scale_rule=scale_rule)
    f, ax, shape, el, s, _ = parts
    elements = np.moveaxis(el.astype(np.float64).reshape(shape), -1, ax)
    scale = np.moveaxis(s[..., 0], -1, ax)
    return MXTensor(np.ascontiguousarray(elements), np.ascontiguousarray(scale), f, k, ax, scale_rule)


# ---------------------------------------------------------------------- exact accumulation engines
# golden.accumulate's recurrences (golden/accumulate.py: step, finalize, _pairwise) run on a cheaper but
# exact representation of the accumulator's values (the sequential order compiled, golden.jit_engines,
# on float64 values rounded by float32 conversion or by the rounding table below; the pairwise order as
# numpy passes over these representations):
#   * FP32 accumulator (and compensation): float32 arrays.  Every golden operation A(a op b) on FP32
#     values is the exact result rounded once (RNE, gradual underflow, overflow to Inf, NaN stays NaN),
#     which is what IEEE float32 + and - compute; rounding an element into FP32 is the float64 ->
#     float32 conversion (the same IEEE rounding).
#   * accumulator formats of <= _TABLE_MAX_BITS bits (E5M3, E4M3, E5M2, ...; compensation the same
#     format): element codes, and every A(a + b) one lookup in a table built by golden's own rounder
#     (table[a, b] = code of round_to(value[a] + value[b], acc)); a - b is a + (-b), as in IEEE.
#     The tables are checked against golden's rounder when they are built.
# Other accumulator / compensation formats fall back to golden.accumulate.


def _is_fp32(f: FloatFormat) -> bool:
    """f has exactly IEEE binary32 semantics (what float32 arithmetic computes)."""
    return (not f.is_int and f.e == 8 and f.m == 23 and f.exp_bias == 127 and f.special == "ieee"
            and f.overflow == "inf")


def round_fp32(x) -> np.ndarray:
    """x rounded into FP32, as float32: golden's FP32 rounder (IEEE RNE, gradual underflow, overflow to
    Inf, NaN and the sign of zero kept), which for float64 input is exactly the hardware float64 ->
    float32 conversion (tests/quant/test_kernels.py checks it bit for bit against the rounder on normals,
    ties, subnormals, over- and underflow, signed zeros and NaN), in one pass.  The FP32 engine of this
    module, quant's statistical mode and characterize's sampler all round into FP32 through it."""
    with np.errstate(over="ignore"):
        return np.asarray(x).astype(np.float32)


class _F32Arith:
    """FP32 values as float32 arrays; + and - are IEEE float32 operations (= golden's A(a +- b))."""

    def enc(self, x: np.ndarray) -> np.ndarray:
        """Round float64 values into FP32 (round_fp32)."""
        return round_fp32(x)

    def zeros(self, shape) -> np.ndarray:
        return np.zeros(shape, dtype=np.float32)

    add = staticmethod(np.add)
    sub = staticmethod(np.subtract)
    neg = staticmethod(np.negative)

    @staticmethod
    def ge_abs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.abs(a) >= np.abs(b)

    @staticmethod
    def dec(a: np.ndarray) -> np.ndarray:
        return a.astype(np.float64)


_TABLE_MAX_BITS = 9


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the float64 arrays a and b are equal bit for bit, a NaN matching any NaN."""
    return bool(((a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))).all())


def _round_params(fmt: FloatFormat) -> tuple:
    """The constants of golden.jit_engines.round_bits for the float format fmt (see there)."""
    m, emin = fmt.m, fmt.emin
    ovf = {"inf": np.inf, "saturate": fmt.max_value}.get(fmt.overflow, np.nan)
    return (np.float64(2.0**emin).view(np.int64), np.float64(2.0 ** (fmt.emax + 1)).view(np.int64),
            np.uint64(((52 - m) << 52) | (1 << 51)), float(fmt.max_value), np.float64(ovf).view(np.uint64))


def _round_params_f32(fmt: FloatFormat) -> tuple | None:
    """The constants of golden.jit_engines.round_f32 for the float format fmt (see there), or None when
    fmt's values are not all float32 values or their sums could leave float32's range."""
    m, emin, emax = fmt.m, fmt.emin, fmt.emax
    if fmt.is_int or m > 22 or emin - m < -149 or emax > 126:
        return None
    ovf = {"inf": np.inf, "saturate": fmt.max_value}.get(fmt.overflow, np.nan)
    return np.uint32(((23 - m) << 23) | 0x400000), np.float32(fmt.max_value), np.float32(ovf).view(np.uint32)


def _rounds_pairs_like(q: tuple, vals: np.ndarray, add_t: np.ndarray, sub_t: np.ndarray) -> bool:
    """Whether golden.jit_engines.round_f32 with constants q, applied to the float32 sum and difference of
    every pair of the format's values `vals` (NaN included), gives golden's rounding of their exact sum and
    difference (vals[add_t], vals[sub_t]: the tables' codes, a * len(vals) + b) bit for bit (NaN as NaN),
    and every value is a float32.  Those sums and differences are all that the engine rounds with it, so
    this proves the float32 state equal to golden's float64 one (in theory: RNE through float32's 24 bits
    is innocuous for + and - when the format keeps at most 11 bits; the check does not rely on it)."""
    v32 = vals.astype(np.float32)
    if not ((v32.astype(np.float64) == vals) | np.isnan(vals)).all():
        return False
    with np.errstate(all="ignore"):
        for got32, table in ((v32[:, None] + v32[None, :], add_t), (v32[:, None] - v32[None, :], sub_t)):
            got = np.empty(got32.size, np.float32)
            _jit().round_f32_array(got32.reshape(-1), q, got)
            want = vals[table]
            if not _same_bits(got.astype(np.float64), want):
                return False
    return True


def _rounds_like(p: tuple, reps: np.ndarray, want: np.ndarray) -> bool:
    """Whether golden.jit_engines.round_bits with constants p gives `want` (golden's rounding) on the
    float64 values reps bit for bit (NaN as NaN).  On one representative of every rounding-table key
    this proves it equal to golden's rounder on every float64: the rounding of a value depends on its
    key alone (sign, exponent, kept and guard bits, sticky) in both."""
    got = np.empty_like(reps)
    with np.errstate(all="ignore"):
        _jit().round_bits_array(reps, p, got)
    return _same_bits(got, want)


class _TableArith:
    """Values of a narrow format as integer codes 0 .. 2^bits - 1 (golden.formats codes) plus one code
    for NaN (2^bits, also for formats without a NaN code: golden's rounder keeps NaN); A(a + b) and
    A(a - b) are one lookup each in add[a * N + b] / sub[a * N + b] (N = 2^bits + 1), tables built
    with golden's rounder.

    Rounding a float64 into the format is a lookup too: RNE into a format of m mantissa bits (with
    gradual underflow, where fewer bits are kept, and the overflow threshold max + ulp/2) depends only
    on the sign, the exponent, the top m + 1 stored mantissa bits (kept bits and guard bit) and
    whether any lower bit is set (sticky).  So the code of round_to(x) is rnd[key], key = those
    13 + m top bits and the sticky bit, and rnd is built by golden's rounder on one representative
    float64 per key (the key's bits, lowest mantissa bit = sticky).  NaN / Inf map through the same
    rule (a NaN pattern keeps a non-zero mantissa in its representative)."""

    def __init__(self, fmt: FloatFormat):
        from .formats import decode

        self.fmt = fmt
        nc = 2**fmt.bits
        N = self.N = nc + 1
        self.N32 = np.int32(N)
        vals = np.append(decode(np.arange(nc), fmt), np.nan)
        self.vals = vals
        self.absv = np.abs(vals)
        rnd = rounder(fmt)
        # value -> code for the format's own values: their top 12 + m float64 bits identify them
        vshift = np.uint64(52 - fmt.m)
        vkey = np.full(1 << (12 + fmt.m), nc, dtype=np.int32)
        ok = ~np.isnan(vals)
        vkey[vals[ok].view(np.uint64) >> vshift] = np.arange(N)[ok]

        def code_of(r: np.ndarray) -> np.ndarray:
            c = vkey[np.ascontiguousarray(r, dtype=np.float64).view(np.uint64) >> vshift]
            c[np.isnan(r)] = nc
            return c

        # the rounding table: key = (top 13 + m bits) * 2 + sticky
        self.sh = np.uint64(51 - fmt.m)
        self.sticky_mask = np.uint64((1 << (51 - fmt.m)) - 1)
        keys = np.arange(1 << (14 + fmt.m), dtype=np.uint64)
        reps = ((keys >> np.uint64(1)) << self.sh) | (keys & np.uint64(1))
        with np.errstate(all="ignore"):
            self.rnd_t = code_of(rnd(reps.view(np.float64)))
        self.rnd_v = vals[self.rnd_t]  # the same table holding values
        # what the compiled engine rounds with (golden.jit_engines.rnd): the branch-free arithmetic
        # rounding, which vectorises, when it passes the check on every key; else the table's values
        p = _round_params(fmt)
        self.engine_rv = p if _rounds_like(p, reps.view(np.float64), self.rnd_v) else self.rnd_v
        with np.errstate(invalid="ignore", over="ignore"):
            self.add_t = self._table(vals[:, None] + vals[None, :])
            self.sub_t = self._table(vals[:, None] - vals[None, :])
        self.neg_t = self.enc(-vals)
        # faster still: the state held as float32 (twice the values per vector), its sums rounded by
        # round_f32, where that is checked equal to the tables on every pair; the elements keep round_bits
        q = _round_params_f32(fmt) if isinstance(self.engine_rv, tuple) else None
        self.engine_rv32 = (p, q) if q is not None and _rounds_pairs_like(q, vals, self.add_t, self.sub_t) else None

    def _table(self, exact: np.ndarray) -> np.ndarray:
        """Codes of golden's rounding of `exact` (each pair's float64 sum / difference, what golden's
        step rounds), checked against golden's rounder by decoding them back."""
        r = round_to(exact, self.fmt)
        codes = self.enc(exact)
        back = self.vals[codes]
        if not _same_bits(back, r):
            raise AssertionError(f"table of {self.fmt.label()} does not reproduce golden's rounder")  # pragma: no cover
        return codes.reshape(-1)

    def enc(self, x: np.ndarray) -> np.ndarray:
        """Codes (int32) of golden's RNE rounding of float64 values into the format (see class doc)."""
        b = np.ascontiguousarray(x, dtype=np.float64).view(np.uint64)
        key = b >> self.sh
        key <<= np.uint64(1)
        key |= (b & self.sticky_mask) != 0
        return self.rnd_t.take(key.view(np.int64), mode="wrap")  # keys are in range

    def zeros(self, shape) -> np.ndarray:
        return np.zeros(shape, dtype=np.int32)

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        idx = a * self.N32
        idx += b
        return self.add_t.take(idx)

    def sub(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        idx = a * self.N32
        idx += b
        return self.sub_t.take(idx)

    def neg(self, a: np.ndarray) -> np.ndarray:
        return self.neg_t.take(a)

    def ge_abs(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.absv.take(a) >= self.absv.take(b)

    def dec(self, a: np.ndarray) -> np.ndarray:
        return self.vals.take(a)


_TABLES: dict = {}


def _arith(acc: FloatFormat, comp: FloatFormat | None):
    """The exact engine for accumulator `acc` with compensation `comp` (None: = acc), or None."""
    if comp is not None and comp != acc:
        return None
    if _is_fp32(acc):
        return _F32Arith()
    if not acc.is_int and acc.bits <= _TABLE_MAX_BITS:
        if acc not in _TABLES:
            _TABLES[acc] = _TableArith(acc)
        return _TABLES[acc]
    return None


def _step(scheme: str, ar, st: dict, x):
    """golden.accumulate.step in the engine's representation (compensation format = acc)."""
    add, sub = ar.add, ar.sub
    s = st["s"]
    if scheme == "naive":
        return {"s": add(s, x)}
    if scheme == "kahan":
        y = sub(x, st["c"])
        t = add(s, y)
        return {"s": t, "c": sub(sub(t, s), y)}
    if scheme == "neumaier":
        t = add(s, x)
        keep = ar.ge_abs(s, x)
        e = add(sub(np.where(keep, s, x), t), np.where(keep, x, s))
        return {"s": t, "c": add(st["c"], e)}
    if scheme == "twosum":
        t = add(s, x)
        xp = sub(t, s)
        sp = sub(t, xp)
        e = add(sub(s, sp), sub(x, xp))
        return {"s": t, "c": add(st["c"], e)}
    if scheme == "fasttwosum":
        keep = ar.ge_abs(s, x)
        a, b = np.where(keep, s, x), np.where(keep, x, s)
        t = add(a, b)
        e = sub(b, sub(t, a))
        return {"s": t, "c": add(st["c"], e)}
    if scheme == "klein":
        cs, ccs = st["cs"], st["ccs"]
        t = add(s, x)
        keep = ar.ge_abs(s, x)
        ci = add(sub(np.where(keep, s, x), t), np.where(keep, x, s))
        t2 = add(cs, ci)
        keep = ar.ge_abs(cs, ci)
        cc = add(sub(np.where(keep, cs, ci), t2), np.where(keep, ci, cs))
        return {"s": t, "cs": t2, "ccs": add(ccs, cc)}
    raise ValueError(f"unknown scheme {scheme!r}")  # pragma: no cover - checked by AccumConfig


def _finalize(scheme: str, ar, st: dict):
    if scheme in ("naive", "kahan"):
        return st["s"]
    if scheme == "klein":
        return ar.add(st["s"], ar.add(st["cs"], st["ccs"]))
    return ar.add(st["s"], st["c"])


def _components(scheme: str, ar, st: dict) -> list:
    """golden.accumulate._components: a right child's state fed into its left sibling, in order."""
    if scheme == "naive":
        return [st["s"]]
    if scheme == "kahan":
        return [st["s"], ar.neg(st["c"])]
    if scheme == "klein":
        return [st["s"], st["cs"], st["ccs"]]
    return [st["s"], st["c"]]


def _zero_state(scheme: str, ar, shape) -> dict:
    from .accumulate import STATE_KEYS

    return {k: ar.zeros(shape) for k in STATE_KEYS[scheme]}


def _run_pairwise(scheme: str, ar, xt) -> np.ndarray:
    """golden.accumulate._pairwise on encoded elements xt (n, rows); returns the encoded results."""
    st = _step(scheme, ar, _zero_state(scheme, ar, xt.shape), xt)  # leaves
    while st["s"].shape[0] > 1:
        w = st["s"].shape[0]
        half = w // 2
        left = {k: v[0 : 2 * half : 2] for k, v in st.items()}
        right = {k: v[1 : 2 * half : 2] for k, v in st.items()}
        for cv in _components(scheme, ar, right):
            left = _step(scheme, ar, left, cv)
        if w % 2:
            left = {k: np.concatenate([left[k], st[k][w - 1 : w]], axis=0) for k in left}
        st = left
    return _finalize(scheme, ar, {k: v[0] for k, v in st.items()})


_ENGINE_ROWS = 8192  # sums per pass: the state arrays of a pass stay in cache across the n steps


def _compiled_dot(A: np.ndarray | None, B: np.ndarray | None, k: int, plus_zero: bool, scheme: str, ar,
                  X: np.ndarray | None = None, row_t: np.ndarray | None = None,
                  row_n: np.ndarray | None = None, n_terms: int | None = None, out: np.ndarray | None = None,
                  i0: int = 0) -> np.ndarray:
    """golden's sequential recurrence, compiled (golden.jit_engines.engine), in the engine `ar`'s
    representation, over the elements x[l, i, t, j] = sum_u A[l, i, tk+u] B[l // rep, tk+u, j] (A (L, M, K),
    B (L / rep, K, N) float64) or, given X (L, T, M, N), x[l, i, t, j] = X[l, t, i, j]; elements t >= row_t[i]
    are +0 instead and only sums j < row_n[i] are computed (the others 0); row_t / row_n (M,) default to
    all.  n_terms (with X): every sum has n_terms >= X.shape[1] elements, those past X's are +0 (row_t
    must then be given, each <= X.shape[1]).  Returns (L, M, N) float64 results, or writes them to rows
    i0 .. i0 + M - 1 of `out` (L, >= i0 + M, >= N) float64, C-contiguous, zeros past N, and returns it."""
    je = _jit()
    if X is None:
        dt = np.float32 if A.dtype == np.float32 and B.dtype == np.float32 and isinstance(ar, _F32Arith) else np.float64
        A = np.ascontiguousarray(A, dtype=dt)
        B = np.ascontiguousarray(B, dtype=dt)
        X = _NO_ELEMENTS
        shape = (A.shape[0], A.shape[1], B.shape[2])
    else:
        X = np.asarray(X, dtype=np.float64)  # any strides: the engine indexes X[l, t, i, j]
        A = B = _NO_OPERANDS
        shape = (X.shape[0], X.shape[2], X.shape[3])
    if out is None:
        out = np.empty(shape)
    elif out.shape[0] != shape[0] or out.shape[1] < i0 + shape[1] or out.shape[2] < shape[2]:
        raise ValueError("out too small")  # pragma: no cover - internal misuse
    M = shape[1]
    if n_terms is not None and (row_t is None or n_terms < X.shape[1] or (len(row_t) and row_t.max() > X.shape[1])):
        raise ValueError("n_terms needs row_t <= X.shape[1] <= n_terms")  # pragma: no cover - internal misuse
    row_t = np.full(M, 1 << 62, np.int64) if row_t is None else np.ascontiguousarray(row_t, dtype=np.int64)
    row_n = np.full(M, shape[2], np.int64) if row_n is None else np.ascontiguousarray(row_n, dtype=np.int64)
    nt = -1 if n_terms is None else n_terms
    if isinstance(ar, _F32Arith):
        je.engine(A, B, X, k, plus_zero, row_t, row_n, nt, je.SCHEME_IDS[scheme], None, _U0, _U0, out, i0)
    else:
        rv = ar.engine_rv if ar.engine_rv32 is None else ar.engine_rv32
        je.engine(A, B, X, k, plus_zero, row_t, row_n, nt, je.SCHEME_IDS[scheme], rv, ar.sh, ar.sticky_mask, out, i0)
    return out


_U0 = np.uint64(0)
_NO_ELEMENTS = np.zeros((0, 0, 0, 0))
_NO_OPERANDS = np.zeros((1, 0, 0))  # (one empty B: the engine takes B[0] when it is given elements)


_COMPILED_ROWS = 256  # sums per compiled call of _engine_values: a cache-sized transposed copy


def _engine_values(x: np.ndarray, scheme: str, ar, order: str) -> np.ndarray:
    n = x.shape[-1]
    flat = x.reshape(-1, n)
    if order != "pairwise":
        return _engine_values_rows(flat[None], scheme, ar, np.full(flat.shape[0], n, np.int64)).reshape(x.shape[:-1])
    out = np.empty(flat.shape[0])
    with np.errstate(all="ignore"):
        for lo in range(0, flat.shape[0], _ENGINE_ROWS):
            xt = ar.enc(np.ascontiguousarray(flat[lo : lo + _ENGINE_ROWS].T))  # (n, rows)
            out[lo : lo + _ENGINE_ROWS] = ar.dec(_run_pairwise(scheme, ar, xt))
    return out.reshape(x.shape[:-1])


def _engine_values_rows(x: np.ndarray, scheme: str, ar, row_lens: np.ndarray) -> np.ndarray:
    """_engine_values (sequential order) of x (..., M, n) whose row i is +0 from row_lens[i] on (checked
    per run of rows with the same limit; where it fails the run is read in full).  Element t of sum
    (l, i) is x[l, i, t]: the engine reads x in place through a transposed view (l = leading index, sums
    j = rows), _COMPILED_ROWS rows at a time (their cache lines stay in cache while it steps along
    them), each run up to its limit, and the rest of a run's elements are the engine's +0 tail."""
    M, n = x.shape[-2:]
    x3 = x.reshape(math.prod(x.shape[:-2]), M, n)
    out = np.empty(x3.shape[:2])
    if out.size == 0:
        return out.reshape(x.shape[:-1])
    lims = np.minimum(row_lens, n)
    cuts = (np.flatnonzero(np.diff(lims)) + 1).tolist()
    one = np.zeros(1, np.int64)
    with np.errstate(all="ignore"):
        for a, b in zip([0, *cuts], [*cuts, M]):
            lim = int(lims[a])
            if lim < n and np.any(x3[:, a:b, lim:].view(np.int64)):  # not all +0 past the limit
                lim = n
            one[0] = lim
            for r0 in range(a, b, _COMPILED_ROWS):
                r1 = min(b, r0 + _COMPILED_ROWS)
                X = x3[:, r0:r1, :lim].transpose(0, 2, 1)[:, :, None, :]  # (L, lim, 1, rows), strided
                out[:, r0:r1] = _compiled_dot(None, None, 1, False, scheme, ar, X=X, row_t=one, n_terms=n)[:, 0, :]
    return out.reshape(x.shape[:-1])


def product_sum_values(a, b, scheme: str = "naive", acc: FloatFormat | str = "FP32", comp=None,
                       order: str = "sequential", row_cols=None) -> np.ndarray:
    """C = A @ B (A (..., M, K), B (..., K, N), leading axes broadcast) as golden sums of the element
    products: accumulate_values(A[..., :, None, :] * B^T[..., None, :, :], scheme, acc, comp, order)
    (each float64 product is rounded into acc as an element).  With an exact engine and sequential
    order the products are streamed one k at a time (no (M, N, K) array): for an FP32 accumulator
    and float32-valued operands the product is a float32 multiply (the float64 product of two float32
    values is exact, so both round the exact product once).  row_cols (M ints): only C[..., i, j] for
    j < row_cols[i] are computed, the others are returned as 0 (see mx_matmul_values)."""
    cfg = AccumConfig(scheme, _fmt(acc, "acc"), None if comp is None else _fmt(comp, "comp"), order)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
        raise ValueError(f"parameters 'a' (..., M, K) and 'b' (..., K, N) must agree on K; got {a.shape} and {b.shape}")
    lead = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    M, K, N = a.shape[-2], a.shape[-1], b.shape[-1]
    row_cols = _row_limits(row_cols, M, "row_cols")
    ar = None if scheme == "kulisch" else _arith(cfg.acc, cfg.comp)
    if ar is None or order != "sequential" or K == 0:
        out = np.empty((*lead, M, N))
        bt = np.swapaxes(b, -1, -2)
        rows = max(1, _CHUNK_ELEMS // max(N * K * int(np.prod(lead, dtype=np.int64) or 1), 1))
        for r0 in range(0, M, rows):
            rs = slice(r0, min(M, r0 + rows))
            out[..., rs, :] = accumulate_values(a[..., rs, None, :] * bt[..., None, :, :], scheme, cfg.acc,
                                                cfg.comp, order)
        return _zero_past(out, row_cols)
    A = np.broadcast_to(a, (*lead, M, K)).reshape(math.prod(lead), M, K)
    B = np.broadcast_to(b, (*lead, K, N)).reshape(math.prod(lead), K, N)
    if isinstance(ar, _F32Arith):  # float32 operands: the engine multiplies and sums in float32
        with np.errstate(over="ignore", invalid="ignore"):
            A32, B32 = A.astype(np.float32), B.astype(np.float32)
        if np.array_equal(A32, A) and np.array_equal(B32, B):
            A, B = A32, B32
    with np.errstate(all="ignore"):
        return _compiled_dot(A, B, 1, False, scheme, ar, row_n=row_cols).reshape(*lead, M, N)


def mx_dot_values(a: MXTensor, b: MXTensor, scheme: str = "naive", acc: FloatFormat | str = "FP32", comp=None,
                  order: str = "sequential") -> np.ndarray:
    """MX dot products of A @ B: accumulate_values(mx_block_matmul(a, b, acc), scheme, acc, comp, order)
    (= golden.mx.mx_dot of every row / column pair).  Where the block sums are exact in float64 and an
    exact engine covers (acc, comp), in sequential order: the MX values (elements times 2^scale, exact,
    _dequantised) go to _mx_engine, whose float64 block sums of value products are the exact block sums
    times 2^(sa + sb), each rounded once into acc and fed straight into the compiled recurrence."""
    acc_f = _fmt(acc, "acc")
    cfg = AccumConfig(scheme, acc_f, None if comp is None else _fmt(comp, "comp"), order)
    ar = None if scheme == "kulisch" else _arith(acc_f, cfg.comp)
    if ar is None or order != "sequential" or not isinstance(a, MXTensor) or not isinstance(b, MXTensor) \
            or a.elements.ndim < 2 or b.elements.ndim < 2 or a.axis != a.elements.ndim - 1 \
            or b.axis != b.elements.ndim - 2 or a.k != b.k or a.elements.shape[-1] != b.elements.shape[-2] \
            or a.elements.shape[-1] == 0 or not block_sums_exact_in_float64(a.elem, b.elem, a.k):
        return accumulate_values(mx_block_matmul(a, b, acc_f), scheme, acc_f, cfg.comp, order)
    check_elem_k(a.elem, b.elem, a.k)
    with np.errstate(all="ignore"):
        return _mx_engine(_dequantised(a, -1), _dequantised(b, -2), a.k, scheme, ar)


def _row_limits(x, M: int, name: str, of: str = "a") -> np.ndarray | None:
    """A per-row limit argument as an int64 array of length M (None stays None)."""
    if x is None:
        return None
    r = np.asarray(x)
    if r.shape != (M,) or not np.issubdtype(r.dtype, np.integer) or (r < 0).any():
        raise ValueError(f"parameter '{name}' must be {M} non-negative integers (one per row of {of})")
    return r.astype(np.int64)


def _zero_past(c: np.ndarray, row_cols: np.ndarray | None) -> np.ndarray:
    """c with c[..., i, j] = 0 for j >= row_cols[i] (the outputs a row_cols call does not compute)."""
    if row_cols is not None:
        c[..., np.arange(c.shape[-1])[None, :] >= row_cols[:, None]] = 0.0
    return c


def mx_matmul_values(a, b, elem_a: FloatFormat | str, elem_b: FloatFormat | str, k: int, scheme: str = "naive",
                     acc: FloatFormat | str = "FP32", comp=None, order: str = "sequential",
                     scale_rule: str = "ocp", row_blocks=None, row_cols=None) -> np.ndarray:
    """mx_dot_values(mx_quantize(a, elem_a, k, -1, scale_rule), mx_quantize(b, elem_b, k, -2, scale_rule),
    scheme, acc, comp, order): A (..., M, K) and B (..., K, N) quantised along K and multiplied with
    golden's MX dot products.  Where the compiled engine applies (an exact engine for (acc, comp),
    sequential order, block sums exact in float64) the operands are quantised straight to their MX
    values (mx_values: the compiled float32 loop where it applies) and those enter the engine (the
    block sum of the values is the exact block sum of the elements times 2^(sa + sb), see
    _dequantised); any non-finite value or other case goes through mx_quantize_fast and mx_dot_values.

    Causal structure (exact attention): row_cols (M ints): only C[..., i, j] for j < row_cols[i] are
    computed, the others are returned as 0.  row_blocks (M ints): the caller says that row i of A is
    zero in its K-blocks >= row_blocks[i]; those blocks' sums are +0 (golden's zero block), so they
    enter the recurrence as +0 elements without being computed.  The claim is checked (any non-zero
    entry there, or a non-finite MX value of B, and the blocks are computed like any other)."""
    acc_f = _fmt(acc, "acc")
    fa, fb = _fmt(elem_a, "elem_a"), _fmt(elem_b, "elem_b")
    cfg = AccumConfig(scheme, acc_f, None if comp is None else _fmt(comp, "comp"), order)
    ar = None if scheme == "kulisch" else _arith(acc_f, cfg.comp)
    a = np.asarray(a)
    b = np.asarray(b)
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
        raise ValueError(f"parameters 'a' (..., M, K) and 'b' (..., K, N) must agree on K; got {a.shape} and {b.shape}")
    M, K = a.shape[-2:]
    row_cols = _row_limits(row_cols, M, "row_cols")
    row_blocks = _row_limits(row_blocks, M, "row_blocks")
    if ar is not None and order == "sequential" and K > 0 and _exact_blocks_checked(fa, fb, check_k(k)):
        # with row_blocks the compiled loop checks A's zero blocks instead of quantising them
        va = _mx_values_compiled(a, fa, k, -1, scale_rule, row_blocks=row_blocks)
        claim_checked = va is not None and row_blocks is not None
        if va is _CLAIM_FALSE:  # the claim does not hold: compute every block
            row_blocks = None
            va = _mx_values_compiled(a, fa, k, -1, scale_rule)
        vb = _mx_values_compiled(b, fb, k, -2, scale_rule)
        finite = va is not None and vb is not None  # the compiled loop's values are finite
        va = _mx_values_numpy(a, fa, k, -1, scale_rule) if va is None else va
        vb = _mx_values_numpy(b, fb, k, -2, scale_rule) if vb is None else vb
        if finite or (_all_finite(va) and _all_finite(vb)):
            if row_blocks is not None and not claim_checked and not _zero_past_blocks(va, row_blocks, k):
                row_blocks = None  # the claim does not hold: compute every block
            with np.errstate(all="ignore"):
                return _mx_engine(va, vb, k, scheme, ar, row_blocks, row_cols)
    return _zero_past(mx_dot_values(mx_quantize_fast(a, fa, k, -1, scale_rule),
                                    mx_quantize_fast(b, fb, k, -2, scale_rule), scheme, acc_f, cfg.comp, order),
                      row_cols)


def _all_finite(x: np.ndarray) -> bool:
    """No NaN / Inf in x: its float64 sum is finite (NaN and Inf propagate through a sum) or, when the sum
    overflows, every value checked."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.sum(x))) or bool(np.isfinite(x).all())


def _zero_past_blocks(va: np.ndarray, row_blocks: np.ndarray, k: int) -> bool:
    """Every row i of va (..., M, K) is zero (+0 or -0) in its k-blocks >= row_blocks[i]; checked in
    runs of rows with the same limit."""
    M, K = va.shape[-2:]
    cols = np.minimum(row_blocks, K // k) * k
    r0 = 0
    while r0 < M:
        r1 = r0 + 1
        while r1 < M and cols[r1] == cols[r0]:
            r1 += 1
        if cols[r0] < K and np.any(va[..., r0:r1, cols[r0]:]):
            return False
        r0 = r1
    return True


_BLAS_MIN_K = 8  # blocks at least this long are summed by a float64 matmul, shorter ones in the loop
_BAND_ROWS = 32  # rows per band of _mx_engine: one matmul and one engine pass, each band up to its own limits


def _mx_engine(va: np.ndarray, vb: np.ndarray, k: int, scheme: str, ar, row_t=None, row_n=None) -> np.ndarray:
    """The MX dot products of dequantised MX values va (..., M, K) (blocks along K) and vb (..., K, N)
    in golden's sequential order: the exact float64 block sums (block_sums_exact_in_float64 must hold;
    a NaN block has NaN values), rounded into acc and accumulated by the compiled engine.  Long blocks
    are summed by batched float64 matmuls (exact in any order; the engine adds 0.0, which makes a zero
    sum +0, as in golden) and fed to the engine as elements, in bands of _BAND_ROWS rows; short ones
    inside the engine's loop.  row_t / row_n: per row of va, the blocks computed (the rest are +0) and
    the outputs computed (the rest 0); each band's matmul runs up to its rows' largest limits."""
    lead = np.broadcast_shapes(va.shape[:-2], vb.shape[:-2])
    M, K, N = va.shape[-2], va.shape[-1], vb.shape[-1]
    L = math.prod(lead)
    if k < _BLAS_MIN_K:
        A = np.broadcast_to(va, (*lead, M, K)).reshape(L, M, K)
        # a B broadcast over trailing leading axes (one KV head's V for its query heads) is passed once:
        # the engine reads B[l // rep]
        lb = (1,) * (len(lead) - (vb.ndim - 2)) + vb.shape[:-2]
        j = len(lead)
        while j and lb[j - 1] == 1:
            j -= 1
        if lb[:j] == lead[:j]:
            B = vb.reshape(math.prod(lead[:j]), K, N)
        else:
            B = np.broadcast_to(vb, (*lead, K, N)).reshape(L, K, N)
        return _compiled_dot(A, B, k, True, scheme, ar, row_t=row_t, row_n=row_n).reshape(*lead, M, N)
    nb = K // k
    # the block matmuls broadcast the leading axes themselves (a B shared by several A, such as one KV
    # head's by its query heads, is neither copied per A nor quantised more than once); B quantised
    # along K comes transposed: row-major blocks multiply faster
    B = np.ascontiguousarray(vb)
    a4 = np.swapaxes(va.reshape(*va.shape[:-1], nb, k), -3, -2)  # (..., nb, M, k)
    b4 = B.reshape(*B.shape[:-2], nb, k, N)  # (..., nb, k, N)
    rt = np.full(M, nb, np.int64) if row_t is None else np.minimum(row_t, nb)
    rn = np.full(M, N, np.int64) if row_n is None else np.minimum(row_n, N)
    starts = np.arange(0, M, _BAND_ROWS)
    band_t, band_n = np.maximum.reduceat(rt, starts).tolist(), np.maximum.reduceat(rn, starts).tolist()
    out = np.empty((L, M, N))
    # band by band: a band's block sums go to one reused buffer that the engine reads while it is still in
    # cache (the whole (L, nb, M, N) array of them would go through memory twice)
    buf = np.empty(L * nb * min(M, _BAND_ROWS) * N)
    for r0, tb, nn in zip(starts.tolist(), band_t, band_n):
        r1 = min(M, r0 + _BAND_ROWS)
        if nn == 0:
            out[:, r0:r1] = 0.0
            continue
        hb = buf[: L * tb * (r1 - r0) * nn].reshape(L, tb, r1 - r0, nn)
        if tb:
            np.matmul(a4[..., :tb, r0:r1, :], b4[..., :tb, :, :nn], out=hb.reshape(*lead, tb, r1 - r0, nn))
            # (the engine adds 0.0: plus_zero)
        _compiled_dot(None, None, k, True, scheme, ar, X=hb, row_t=rt[r0:r1], row_n=rn[r0:r1], n_terms=nb, out=out,
                      i0=r0)
    return out.reshape(*lead, M, N)


def _dequantised(t: MXTensor, axis: int) -> np.ndarray:
    """t's MX values, element x 2^scale exactly in float64 (the power of two neither overflows nor
    underflows for formats where block_sums_exact_in_float64 holds), NaN throughout a block whose scale
    is the NaN scale; the blocks run along `axis` (-1 or -2)."""
    el = np.moveaxis(t.elements, axis, -1)
    sc = np.moveaxis(t.scale_exp, axis, -1)
    nb = sc.shape[-1]
    v = el.reshape(*el.shape[:-1], nb, t.k) * _pow2(np.minimum(sc, SCALE_MAX))[..., None]
    nan = sc > SCALE_MAX
    if nan.any():
        v[nan] = np.nan
    return np.moveaxis(v.reshape(el.shape), -1, axis)

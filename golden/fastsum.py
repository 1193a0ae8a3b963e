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
    ar = None if scheme == "kulisch" else _arith(acc_f, cfg.comp)
    if ar is not None and x.ndim >= 1 and x.shape[-1] > 0:
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


# ---------------------------------------------------------------------- exact accumulation engines
# golden.accumulate's recurrences (golden/accumulate.py: step, finalize, _pairwise) run on a cheaper but
# exact representation of the accumulator's values:
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


class _F32Arith:
    """FP32 values as float32 arrays; + and - are IEEE float32 operations (= golden's A(a +- b))."""

    def enc(self, x: np.ndarray) -> np.ndarray:
        """Round float64 values into FP32 (golden's FP32 rounder = the IEEE conversion)."""
        return np.asarray(x).astype(np.float32)

    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """FP32 rounding of the exact products of float32 operands (a float32 multiply)."""
        return a * b

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


class _TableArith:
    """Values of a narrow format as integer codes 0 .. 2^bits - 1 (golden.formats codes) plus one code
    for NaN (2^bits, also for formats without a NaN code: golden's rounder keeps NaN); A(a + b) and
    A(a - b) are one lookup each in add[a * N + b] / sub[a * N + b] (N = 2^bits + 1), tables built
    with golden's rounder.  A rounded float64 value is mapped to its code by its top bits (sign,
    exponent and the format's m mantissa bits of the float64 pattern, which identify it exactly)."""

    def __init__(self, fmt: FloatFormat):
        from .formats import decode

        self.fmt = fmt
        nc = 2**fmt.bits
        N = self.N = nc + 1
        vals = np.append(decode(np.arange(nc), fmt), np.nan)
        self.vals = vals
        self.absv = np.abs(vals)
        self.shift = np.uint64(52 - fmt.m)
        key = np.full(1 << (12 + fmt.m), nc, dtype=np.uint16)  # float64 top bits -> code; NaN -> nc
        ok = ~np.isnan(vals)
        key[self._key(vals[ok])] = np.arange(N)[ok]
        self.key = key
        self._rnd = rounder(fmt)
        with np.errstate(invalid="ignore", over="ignore"):
            self.add_t = self._table(vals[:, None] + vals[None, :])
            self.sub_t = self._table(vals[:, None] - vals[None, :])
        self.neg_t = self.enc(-vals).astype(np.int64)

    def _key(self, v: np.ndarray) -> np.ndarray:
        return np.right_shift(np.ascontiguousarray(v, dtype=np.float64).view(np.uint64), self.shift)

    def _table(self, exact: np.ndarray) -> np.ndarray:
        """Codes of golden's rounding of `exact` (each pair's float64 sum / difference, what golden's
        step rounds), checked by decoding them back."""
        r = round_to(exact, self.fmt)
        codes = self.enc(r)
        back = self.vals[codes]
        if not ((back.view(np.int64) == r.view(np.int64)) | (np.isnan(back) & np.isnan(r))).all():
            raise AssertionError(f"table of {self.fmt.label()} does not reproduce golden's rounder")  # pragma: no cover
        return codes.reshape(-1)

    def enc(self, x: np.ndarray) -> np.ndarray:
        """Round float64 values into the format (golden's rounder), then their codes (uint16)."""
        r = self._rnd(x)
        k = self._key(r)
        nan = np.isnan(r)  # NaN patterns may share top bits with Inf: mapped explicitly
        c = self.key.take(k)
        if nan.any():
            c[nan] = self.N - 1
        return c

    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.enc(a * b)

    def zeros(self, shape) -> np.ndarray:
        return np.zeros(shape, dtype=np.uint16)

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        idx = np.multiply(a, self.N, dtype=np.int64)
        idx += b
        return self.add_t.take(idx)

    def sub(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        idx = np.multiply(a, self.N, dtype=np.int64)
        idx += b
        return self.sub_t.take(idx)

    def neg(self, a: np.ndarray) -> np.ndarray:
        return self.neg_t.take(a).astype(np.uint16)

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


def _engine_values(x: np.ndarray, scheme: str, ar, order: str) -> np.ndarray:
    n = x.shape[-1]
    flat = x.reshape(-1, n)
    out = np.empty(flat.shape[0])
    with np.errstate(all="ignore"):
        for lo in range(0, flat.shape[0], _ENGINE_ROWS):
            xt = ar.enc(np.ascontiguousarray(flat[lo : lo + _ENGINE_ROWS].T))  # (n, rows)
            if order == "pairwise":
                r = _run_pairwise(scheme, ar, xt)
            else:
                st = _zero_state(scheme, ar, xt.shape[1])
                for i in range(n):
                    st = _step(scheme, ar, st, xt[i])
                r = _finalize(scheme, ar, st)
            out[lo : lo + _ENGINE_ROWS] = ar.dec(r)
    return out.reshape(x.shape[:-1])


def product_sum_values(a, b, scheme: str = "naive", acc: FloatFormat | str = "FP32", comp=None,
                       order: str = "sequential") -> np.ndarray:
    """C = A @ B (A (..., M, K), B (..., K, N), leading axes broadcast) as golden sums of the element
    products: accumulate_values(A[..., :, None, :] * B^T[..., None, :, :], scheme, acc, comp, order)
    (each float64 product is rounded into acc as an element).  With an exact engine and sequential
    order the products are streamed one k at a time (no (M, N, K) array): for an FP32 accumulator
    and float32-valued operands the product is a float32 multiply (the float64 product of two float32
    values is exact, so both round the exact product once)."""
    cfg = AccumConfig(scheme, _fmt(acc, "acc"), None if comp is None else _fmt(comp, "comp"), order)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
        raise ValueError(f"parameters 'a' (..., M, K) and 'b' (..., K, N) must agree on K; got {a.shape} and {b.shape}")
    lead = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    M, K, N = a.shape[-2], a.shape[-1], b.shape[-1]
    ar = None if scheme == "kulisch" else _arith(cfg.acc, cfg.comp)
    if ar is None or order != "sequential" or K == 0:
        out = np.empty((*lead, M, N))
        bt = np.swapaxes(b, -1, -2)
        rows = max(1, _CHUNK_ELEMS // max(N * K * int(np.prod(lead, dtype=np.int64) or 1), 1))
        for r0 in range(0, M, rows):
            rs = slice(r0, min(M, r0 + rows))
            out[..., rs, :] = accumulate_values(a[..., rs, None, :] * bt[..., None, :, :], scheme, cfg.acc,
                                                cfg.comp, order)
        return out
    at = np.moveaxis(np.broadcast_to(a, (*lead, M, K)), -1, 0)[..., :, None]  # (K, ..., M, 1)
    bk = np.moveaxis(np.broadcast_to(b, (*lead, K, N)), -2, 0)[..., None, :]  # (K, ..., 1, N)
    f32 = isinstance(ar, _F32Arith)
    if f32:
        a32, b32 = at.astype(np.float32), bk.astype(np.float32)
        f32 = np.array_equal(a32, at) and np.array_equal(b32, bk)
    with np.errstate(all="ignore"):
        st = _zero_state(scheme, ar, (*lead, M, N))
        for i in range(K):
            x = ar.mul(a32[i], b32[i]) if f32 else ar.enc(at[i] * bk[i])
            st = _step(scheme, ar, st, x)
        return ar.dec(_finalize(scheme, ar, st))


def mx_dot_values(a: MXTensor, b: MXTensor, scheme: str = "naive", acc: FloatFormat | str = "FP32", comp=None,
                  order: str = "sequential") -> np.ndarray:
    """MX dot products of A @ B: accumulate_values(mx_block_matmul(a, b, acc), scheme, acc, comp, order)
    (= golden.mx.mx_dot of every row / column pair).  Where the block sums are exact in float64 and an
    exact engine covers (acc, comp), the blocks are streamed one at a time in sequential order: block
    t's exact sums by one batched float64 matmul, scaled by 2^sa * 2^sb (exact), rounded once into acc
    by the engine's conversion and fed straight into the recurrence (no (M, N, K/k) array)."""
    acc_f = _fmt(acc, "acc")
    cfg = AccumConfig(scheme, acc_f, None if comp is None else _fmt(comp, "comp"), order)
    ar = None if scheme == "kulisch" else _arith(acc_f, cfg.comp)
    if ar is None or order != "sequential" or not isinstance(a, MXTensor) or not isinstance(b, MXTensor) \
            or a.elements.ndim < 2 or b.elements.ndim < 2 or a.axis != a.elements.ndim - 1 \
            or b.axis != b.elements.ndim - 2 or a.k != b.k or a.elements.shape[-1] != b.elements.shape[-2] \
            or a.elements.shape[-1] == 0 or not block_sums_exact_in_float64(a.elem, b.elem, a.k):
        return accumulate_values(mx_block_matmul(a, b, acc_f), scheme, acc_f, cfg.comp, order)
    check_elem_k(a.elem, b.elem, a.k)
    ae, asc, be, bsc = a.elements, a.scale_exp, b.elements, b.scale_exp
    k, nb = a.k, a.elements.shape[-1] // a.k
    lead = np.broadcast_shapes(ae.shape[:-2], be.shape[:-2])
    M, N = ae.shape[-2], be.shape[-1]
    pa = _pow2(np.minimum(asc, SCALE_MAX))  # (..., M, nb)
    pb = _pow2(np.minimum(bsc, SCALE_MAX))  # (..., nb, N)
    nan_a, nan_b = asc > SCALE_MAX, bsc > SCALE_MAX
    any_nan = bool(nan_a.any() or nan_b.any())
    out = np.empty((*lead, M, N))
    rows = max(1, _ENGINE_ROWS // max(N * int(np.prod(lead, dtype=np.int64) or 1), 1))
    with np.errstate(all="ignore"):
        for r0 in range(0, M, rows):
            rs = slice(r0, min(M, r0 + rows))
            st = _zero_state(scheme, ar, (*lead, rs.stop - rs.start, N))
            for t in range(nb):
                hi = np.matmul(ae[..., rs, t * k : (t + 1) * k], be[..., t * k : (t + 1) * k, :])
                hi += 0.0  # exact block sums; a zero sum is +0, as in golden
                hi *= pa[..., rs, t, None]
                hi *= pb[..., None, t, :]
                if any_nan:
                    hi[np.broadcast_to(nan_a[..., rs, t, None] | nan_b[..., None, t, :], hi.shape)] = np.nan
                st = _step(scheme, ar, st, ar.enc(hi))
            out[..., rs, :] = ar.dec(_finalize(scheme, ar, st))
    return out

"""OCP Microscaling (MX v1.0) block formats, and the two-level MX dot product.

A block of `k` elements shares one E8M0 scale 2^s (code s + 127, s in -127..127; code 255 is NaN).
Scale rules (a named parameter):
    'ocp'  (default)  s = floor(log2(amax)) - emax_elem   -- OCP v1.0; the block max may saturate
    'ceil'            s = ceil(log2(amax / max_elem))       -- the smallest s with no saturation
amax = 0 gives s = -127.  s is clamped to -127..127.  Elements are x / 2^s rounded RNE into the
element format with saturation (whatever the format's own overflow policy).  A block holding a NaN
or an Inf gets the NaN scale (code 255) and NaN elements, as OCP specifies.

MX dot product of two vectors quantised along the summation axis with the same k:
    level 1 (inside a block): the k element products are exact, and so is their sum;
    the block value  = exact_block_sum * 2^(sa + sb)  is rounded ONCE (RNE) into the accumulator format;
    level 2 (across blocks): those block values are accumulated with the chosen scheme, format and
    order (golden.accumulate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .accumulate import AccResult, accumulate
from .arith import round_pair, two_sum64
from .formats import FP32, FloatFormat, encode, parse_format, round_to

SCALE_RULES = ("ocp", "ceil")
E8M0_BIAS = 127
SCALE_MIN, SCALE_MAX = -127, 127
MAX_K = 4096


def check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 or k > MAX_K or (k & (k - 1)):
        raise ValueError(f"parameter 'k' (MX block size) must be a power of two in 1..{MAX_K}; got {k!r}")
    return int(k)


@dataclass
class MXTensor:
    """An MX-quantised tensor.

    elements:  float64 element values (each exactly representable in `elem`), same shape as the input
    scale_exp: int64 shared exponents s, the quantised axis replaced by n // k blocks (NaN block: 128)
    """

    elements: np.ndarray
    scale_exp: np.ndarray
    elem: FloatFormat
    k: int
    axis: int
    scale_rule: str = "ocp"

    def _expand(self, arr: np.ndarray) -> np.ndarray:
        ax = self.axis % self.elements.ndim
        return np.repeat(arr, self.k, axis=ax)

    @property
    def nan_block(self) -> np.ndarray:
        return self.scale_exp > SCALE_MAX

    @property
    def values(self) -> np.ndarray:
        """Dequantised values: element * 2^s (exact in float64)."""
        s = self._expand(self.scale_exp)
        v = np.ldexp(self.elements, np.minimum(s, SCALE_MAX).astype(np.int64))
        return np.where(s > SCALE_MAX, np.nan, v)

    def codes(self) -> np.ndarray:
        """Element bit patterns (golden.formats.encode of the element format)."""
        return encode(np.where(np.isnan(self.elements), 0.0, self.elements), self.elem)

    def scale_codes(self) -> np.ndarray:
        """E8M0 codes: s + 127, or 255 for a NaN block."""
        return np.where(self.nan_block, 255, self.scale_exp + E8M0_BIAS)


def _floor_log2(a: np.ndarray) -> np.ndarray:
    """floor(log2(a)) for positive finite float64 a, exactly (frexp: a = f 2^e, f in [0.5, 1))."""
    return np.frexp(a)[1].astype(np.int64) - 1


def shared_exponent(amax: np.ndarray, elem: FloatFormat, scale_rule: str = "ocp") -> np.ndarray:
    """The block scale exponent s for block maxima `amax` (>= 0, finite), clamped to -127..127."""
    if scale_rule not in SCALE_RULES:
        raise ValueError(f"parameter 'scale_rule' must be one of {', '.join(SCALE_RULES)}; got {scale_rule!r}")
    amax = np.asarray(amax, dtype=np.float64)
    pos = amax > 0
    a = np.where(pos, amax, 1.0)
    if scale_rule == "ocp":
        s = _floor_log2(a) - elem.emax
    else:
        mx = elem.max_value
        s = _floor_log2(a) - _floor_log2(np.float64(mx))
        # adjust the estimate to the exact smallest s with amax <= max * 2^s
        s = np.where(a > np.ldexp(mx, s), s + 1, s)
        s = np.where(a <= np.ldexp(mx, s - 1), s - 1, s)
    s = np.where(pos, s, SCALE_MIN)
    return np.clip(s, SCALE_MIN, SCALE_MAX).astype(np.int64)


def mx_quantize(x, elem: FloatFormat | str, k: int, axis: int = -1, scale_rule: str = "ocp") -> MXTensor:
    """Quantise x into MX blocks of k consecutive elements along `axis` (see module doc for the rules)."""
    elem = parse_format(elem)
    k = check_k(k)
    if scale_rule not in SCALE_RULES:  # checked up front so that a bad rule fails before any work
        raise ValueError(f"parameter 'scale_rule' must be one of {', '.join(SCALE_RULES)}; got {scale_rule!r}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        raise ValueError("parameter 'x' must have at least one axis")
    ax = axis % x.ndim
    n = x.shape[ax]
    if n % k:
        raise ValueError(f"parameter 'k' (={k}) must divide the length of the quantised axis {axis} (={n})")
    xm = np.moveaxis(x, ax, -1)
    xb = xm.reshape(*xm.shape[:-1], n // k, k)
    finite = np.isfinite(xb).all(axis=-1)
    amax = np.max(np.abs(np.where(np.isfinite(xb), xb, 0.0)), axis=-1)
    s = shared_exponent(amax, elem, scale_rule)
    sat = elem if elem.overflow == "saturate" or elem.is_int else elem.with_overflow("saturate")
    el = round_to(np.ldexp(xb, -s[..., None]), sat)
    el = np.where(finite[..., None], el, np.nan)
    s = np.where(finite, s, SCALE_MAX + 1)
    elements = np.moveaxis(el.reshape(xm.shape), -1, ax)
    scale = np.moveaxis(s, -1, ax)
    return MXTensor(np.ascontiguousarray(elements), np.ascontiguousarray(scale), elem, k, ax, scale_rule)


def _blocks_last(t: MXTensor) -> tuple[np.ndarray, np.ndarray]:
    """(elements as (..., nb, k), scale_exp as (..., nb)) with the quantised axis moved last."""
    el = np.moveaxis(t.elements, t.axis, -1)
    sc = np.moveaxis(t.scale_exp, t.axis, -1)
    return el.reshape(*el.shape[:-1], el.shape[-1] // t.k, t.k), sc


def _split_point(fa: FloatFormat, fb: FloatFormat, k: int) -> float:
    """Power of two S splitting products into hi (multiple of S) and lo (< S) parts whose k-term
    sums are both exact in float64 (53 bits)."""
    log2q = int(round(math.log2(fa.min_subnormal * fb.min_subnormal)))
    log2pmax = math.log2(fa.max_value * fb.max_value)
    lk = max(0, math.ceil(math.log2(k)))
    s = log2q + 53 - lk
    if log2pmax + 1 - s + lk > 53:
        raise ValueError(
            f"MX block sums of {fa.label()} x {fb.label()} with k={k} exceed the exact range of the golden model"
        )
    return 2.0**s


def check_elem_k(elem_a: FloatFormat | str, elem_b: FloatFormat | str | None = None, k: int = 32) -> None:
    """Raise ValueError unless golden's exact MX block sums (block_sums, block_values, mx_dot) cover
    blocks of k products of elem_a x elem_b values (elem_b None: the same as elem_a): both formats
    valid, k a power of two in 1..MAX_K, and the product range within the model's exact range."""
    fa = elem_a if isinstance(elem_a, FloatFormat) else parse_format(elem_a)
    fb = fa if elem_b is None else (elem_b if isinstance(elem_b, FloatFormat) else parse_format(elem_b))
    _split_point(fa, fb, check_k(k))


def block_sums(a: MXTensor, b: MXTensor) -> tuple[np.ndarray, np.ndarray]:
    """Exact per-block sums of element products (unscaled), as a float64 pair hi = fl(sum), lo = rest.

    a and b must be quantised along their last axis with the same k and the same shape.
    """
    if a.k != b.k:
        raise ValueError(f"parameter 'k' must match for both operands; got {a.k} and {b.k}")
    ea, _ = _blocks_last(a)
    eb, _ = _blocks_last(b)
    if ea.shape[-2:] != eb.shape[-2:]:
        raise ValueError(f"operands must have the same reduction length; got {ea.shape[-2] * a.k} and {eb.shape[-2] * b.k}")
    p = ea * eb  # exact: element significands have <= 24 bits together
    S = _split_point(a.elem, b.elem, a.k)
    hi_parts = np.floor(p / S) * S
    lo_parts = p - hi_parts
    H = hi_parts.sum(axis=-1)
    L = lo_parts.sum(axis=-1)
    return two_sum64(H, L)


def block_values(a: MXTensor, b: MXTensor, acc: FloatFormat | str = FP32) -> np.ndarray:
    """The level-2 inputs: each block's exact sum times 2^(sa + sb), rounded once into acc. Shape (..., nb)."""
    acc = parse_format(acc)
    hi, lo = block_sums(a, b)
    _, sa = _blocks_last(a)
    _, sb = _blocks_last(b)
    nan = (sa > SCALE_MAX) | (sb > SCALE_MAX)
    sc = np.where(nan, 0, sa + sb)
    v = round_pair(np.ldexp(hi, sc), np.ldexp(lo, sc), acc)
    return np.where(nan | np.isnan(hi), np.nan, v)


def mx_dot(
    a: MXTensor,
    b: MXTensor,
    scheme: str = "naive",
    acc: FloatFormat | str = FP32,
    comp: FloatFormat | str | None = None,
    order: str = "sequential",
) -> AccResult:
    """MX dot product along the quantised (last) axis: exact blocks, then `scheme` across blocks."""
    acc = parse_format(acc)
    return accumulate(block_values(a, b, acc), scheme, acc, comp, order)


def mx_matmul(
    A,
    B,
    elem_a: FloatFormat | str,
    elem_b: FloatFormat | str,
    k: int,
    scheme: str = "naive",
    acc: FloatFormat | str = FP32,
    comp: FloatFormat | str | None = None,
    order: str = "sequential",
    scale_rule: str = "ocp",
) -> np.ndarray:
    """C = A @ B with A (M, K) quantised along K per row and B (K, N) along K per column; each C[i, j]
    is mx_dot of row i and column j.  Returns float64 (M, N) values in the acc format."""
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"mx_matmul needs A (M, K) and B (K, N); got {A.shape} and {B.shape}")
    qa = mx_quantize(A, elem_a, k, axis=1, scale_rule=scale_rule)
    qb = mx_quantize(B.T, elem_b, k, axis=1, scale_rule=scale_rule)
    M, N = A.shape[0], B.shape[1]
    # broadcast every (row, column) pair into one batch of dot products
    ta = MXTensor(np.repeat(qa.elements[:, None, :], N, axis=1), np.repeat(qa.scale_exp[:, None, :], N, axis=1),
                  qa.elem, k, 2, scale_rule)
    tb = MXTensor(np.repeat(qb.elements[None, :, :], M, axis=0), np.repeat(qb.scale_exp[None, :, :], M, axis=0),
                  qb.elem, k, 2, scale_rule)
    return mx_dot(ta, tb, scheme, acc, comp, order).value

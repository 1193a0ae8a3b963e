"""Stimulus for the MX dot-product testbenches: pairs of golden MXTensors (a, b) of shape (n, nb*k).

Every set is built from golden (element values are golden codes decoded, real-data sets come from
golden.mx.mx_quantize); expected results always come from golden.mx, never from here.

Sets (`KINDS`):
    random       uniformly random finite element codes (10 % zeros), scales 2^-12 .. 2^12
    adversarial  a mix per dot product: huge scale differences (|s| up to 127 next to |s| <= 5:
                 overflow, underflow and absorption), cancellation across blocks (the second half of
                 the blocks negates the first half, plus one small block), saturation (largest
                 elements of one sign at scales near the accumulator's max) and, when the accumulator
                 format has NaN, the E8M0 NaN scale (code 255)
    real         golden.mx.mx_quantize of normal and heavy-tailed (Student t, 2 d.o.f.) floats with
                 per-vector spreads of 2^-20 .. 2^20
"""

from __future__ import annotations

import numpy as np

from golden.formats import FloatFormat, all_values, parse_format
from golden.mx import SCALE_MAX, MXTensor, mx_quantize

KINDS = ("random", "adversarial", "real")


def _codes(fmt: FloatFormat) -> tuple[int, int]:
    if fmt.bias is not None and not fmt.is_int and fmt.bias != 2 ** (fmt.e - 1) - 1:
        raise ValueError(f"RTL formats use the default bias; {fmt.describe()} has bias {fmt.bias}")
    return {"ieee": 0, "fn": 1, "finite": 2}[fmt.special], {"saturate": 0, "inf": 1, "nan": 2}[fmt.overflow]


def elem_params(fmt: FloatFormat, side: str) -> dict[str, int]:
    """Element format -> RTL parameters EW<side>, MW<side>, SP<side> (0 ieee, 1 fn, 2 finite)."""
    sp, _ = _codes(fmt)
    return {f"EW{side}": fmt.e, f"MW{side}": fmt.m, f"SP{side}": sp}


def acc_params(fmt: FloatFormat, prefix: str = "") -> dict[str, int]:
    """Accumulator format -> RTL parameters EW, MW, SPECIAL, OVF (0 saturate, 1 inf, 2 nan), prefixed."""
    sp, ov = _codes(fmt)
    return {f"{prefix}EW": fmt.e, f"{prefix}MW": fmt.m, f"{prefix}SPECIAL": sp, f"{prefix}OVF": ov}


def finite_values(fmt: FloatFormat) -> np.ndarray:
    """Every finite value of the element format once (int formats: without the unused code -2^m)."""
    v = all_values(fmt)
    v = v[np.isfinite(v)]
    if fmt.is_int:
        v = v[np.abs(v) <= fmt.max_value]
    return np.unique(v)


def _tensor(el: np.ndarray, sc: np.ndarray, fmt: FloatFormat, k: int) -> MXTensor:
    return MXTensor(np.ascontiguousarray(el, dtype=np.float64), np.ascontiguousarray(sc, dtype=np.int64), fmt, k, 1)


def _random_elements(rng: np.random.Generator, fmt: FloatFormat, shape) -> np.ndarray:
    vals = finite_values(fmt)
    el = rng.choice(vals, size=shape)
    return np.where(rng.random(shape) < 0.1, 0.0, el)


def random_set(rng, fa: FloatFormat, fb: FloatFormat, k: int, n: int, nb: int) -> tuple[MXTensor, MXTensor]:
    a = _random_elements(rng, fa, (n, nb * k))
    b = _random_elements(rng, fb, (n, nb * k))
    return _tensor(a, rng.integers(-12, 13, (n, nb)), fa, k), _tensor(b, rng.integers(-12, 13, (n, nb)), fb, k)


def adversarial_set(rng, fa: FloatFormat, fb: FloatFormat, k: int, n: int, nb: int, acc: FloatFormat):
    a = _random_elements(rng, fa, (n, nb * k))
    b = _random_elements(rng, fb, (n, nb * k))
    sa = rng.integers(-5, 6, (n, nb))
    sb = rng.integers(-5, 6, (n, nb))
    kind = rng.integers(0, 4, n)
    # log2 of the scale product that puts a full block near the accumulator's largest finite value
    top = int(np.floor(np.log2(acc.max_value))) - int(np.ceil(np.log2(fa.max_value * fb.max_value * k)))
    for i in range(n):
        if kind[i] == 0:  # huge scale differences
            pick = rng.integers(0, 3, (2, nb))
            big = rng.integers(100, 128, (2, nb)) * rng.choice([-1, 1], (2, nb))
            sa[i] = np.where(pick[0] == 0, big[0], sa[i])
            sb[i] = np.where(pick[1] == 0, big[1], sb[i])
        elif kind[i] == 1 and nb >= 2:  # cancellation across blocks
            h = nb // 2
            a[i, h * k : 2 * h * k] = -a[i, : h * k]
            b[i, h * k : 2 * h * k] = b[i, : h * k]
            sa[i, h : 2 * h] = sa[i, :h]
            sb[i, h : 2 * h] = sb[i, :h]
            if rng.random() < 0.5:
                sa[i, -1] = sa[i, -1] - 40
        elif kind[i] == 2:  # saturation: largest elements, one sign, scales at the acc's top
            sgn = rng.choice([-1.0, 1.0])
            a[i] = sgn * fa.max_value
            b[i] = fb.max_value
            t = top + int(rng.integers(-2, 3))
            sa[i] = np.clip(t // 2, -127, 127)
            sb[i] = np.clip(t - t // 2, -127, 127)
        elif acc.has_nan:  # NaN scale in one block
            j = int(rng.integers(0, nb))
            (sa if rng.random() < 0.5 else sb)[i, j] = SCALE_MAX + 1
    return _tensor(a, np.clip(sa, -127, 128), fa, k), _tensor(b, np.clip(sb, -127, 128), fb, k)


def real_set(rng, fa: FloatFormat, fb: FloatFormat, k: int, n: int, nb: int) -> tuple[MXTensor, MXTensor]:
    shape = (n, nb * k)
    heavy = rng.random((n, 1)) < 0.5
    spread = 2.0 ** rng.uniform(-20, 20, (2, n, 1))
    xa = np.where(heavy, rng.standard_t(2, shape), rng.standard_normal(shape)) * spread[0]
    xb = np.where(heavy, rng.standard_t(2, shape), rng.standard_normal(shape)) * spread[1]
    return mx_quantize(xa, fa, k, axis=1), mx_quantize(xb, fb, k, axis=1)


def make_set(kind: str, seed: int, fa, fb, k: int, n: int, nb: int, acc) -> tuple[MXTensor, MXTensor]:
    """One named stimulus set of n dot products of nb blocks (see module doc)."""
    fa, fb, acc = parse_format(fa), parse_format(fb), parse_format(acc)
    rng = np.random.default_rng(seed)
    if kind == "random":
        return random_set(rng, fa, fb, k, n, nb)
    if kind == "adversarial":
        return adversarial_set(rng, fa, fb, k, n, nb, acc)
    if kind == "real":
        return real_set(rng, fa, fb, k, n, nb)
    raise ValueError(f"parameter 'kind' must be one of {', '.join(KINDS)}; got {kind!r}")


def element_codes(t: MXTensor) -> np.ndarray:
    """Element codes (n, nb*k) as golden encodes them (NaN-block elements become code 0)."""
    return t.codes()


def scale_codes(t: MXTensor) -> np.ndarray:
    """E8M0 codes (n, nb): s + 127, 255 for NaN blocks."""
    return t.scale_codes()

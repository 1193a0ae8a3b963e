"""Arithmetic rounded once into a destination format, and fast specialised rounders for hot loops.

For formats up to FP32 (m <= 23, e <= 8) computing +, -, x in float64 and rounding once with
`round_to` is correctly rounded: a product of two such values is exact in float64, and a float64
sum rounded again to p <= 24 bits is innocuous double rounding because 53 >= 2p + 2.  The tests
prove this against an exact rational oracle.
"""

from __future__ import annotations

import numpy as np

from .formats import FloatFormat, _round_bits, round_to, rounder

__all__ = ["add", "sub", "mul", "rounder", "round_pair", "two_sum64", "round_bits_unbounded"]


def add(a, b, fmt: FloatFormat) -> np.ndarray:
    """a + b, exact then rounded once (RNE) into fmt."""
    with np.errstate(invalid="ignore", over="ignore"):
        exact = np.asarray(a, np.float64) + np.asarray(b, np.float64)
    return round_to(exact, fmt)


def sub(a, b, fmt: FloatFormat) -> np.ndarray:
    """a - b, exact then rounded once (RNE) into fmt."""
    with np.errstate(invalid="ignore", over="ignore"):
        exact = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    return round_to(exact, fmt)


def mul(a, b, fmt: FloatFormat) -> np.ndarray:
    """a * b, exact then rounded once (RNE) into fmt."""
    with np.errstate(invalid="ignore", over="ignore"):
        exact = np.asarray(a, np.float64) * np.asarray(b, np.float64)
    return round_to(exact, fmt)


def round_bits_unbounded(x, m: int, emin: int) -> np.ndarray:
    """RNE to m mantissa bits (m <= 51) with gradual underflow below 2^emin and no overflow."""
    return _round_bits(np.ascontiguousarray(x, dtype=np.float64), m, emin)


def round_pair(hi, lo, fmt: FloatFormat) -> np.ndarray:
    """Correctly round the unevaluated sum hi + lo into fmt, where hi = fl64(hi + lo).

    Rounding hi alone is right unless hi sits exactly on a midpoint between two neighbours of fmt
    and lo != 0; then lo decides the direction, which we apply by stepping hi one float64 ulp
    toward lo (a midpoint is float64-representable, so that step cannot cross another boundary).
    """
    hi = np.ascontiguousarray(hi, dtype=np.float64)
    lo = np.asarray(lo, dtype=np.float64)
    r = round_to(hi, fmt)
    if fmt.is_int:
        q = 2.0 ** (1 - fmt.m)
        mid = (np.abs(hi / q - np.trunc(hi / q)) == 0.5) & (lo != 0)
    else:
        mid = (r != hi) & (round_bits_unbounded(hi, fmt.m + 1, fmt.emin) == hi) & (lo != 0) & np.isfinite(hi)
    if np.any(mid):
        nudged = np.nextafter(hi, np.where(lo > 0, np.inf, -np.inf))
        r = np.where(mid, round_to(nudged, fmt), r)
    return r


def two_sum64(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knuth's TwoSum in float64: s = fl(a+b), e = (a+b) - s exactly."""
    s = a + b
    bp = s - a
    ap = s - bp
    return s, (a - ap) + (b - bp)

"""Classical a-priori error bounds of the accumulation schemes (Higham, *Accuracy and Stability of
Numerical Algorithms*, 2nd ed., ch. 4), with gamma_k = k u / (1 - k u) and u the accumulator's unit
roundoff.  A bound *applies* to a trial only where its hypotheses hold:

    naive sequential          |err| <= gamma_{n-1} sum|x|                     (n-1) u < 1
    naive pairwise            |err| <= gamma_{ceil(log2 n)} sum|x|            ceil(log2 n) u < 1
    neumaier/twosum/fasttwosum sequential (Sum2 type)
                              |err| <= u |S| + gamma_{n-1}^2 sum|x|           (n-1) u < 1
    kahan sequential          |err| <= 3 u sum|x|                             n u <= 0.01
    kulisch (any order)       |err| <= ulp(|S|) / 2                           (correct rounding)

and, for every bound, only when the compensation format equals the accumulator format, the result is
finite, no partial sum can overflow (sum|x| (1 + n u) <= max finite) and nothing underflows (every
nonzero element and |S| are >= the smallest normal).  Klein and the pairwise compensated schemes have
no classical bound here (reported as 'none').
"""

from __future__ import annotations

import math

import numpy as np

from golden.formats import FloatFormat


def ulp(x: np.ndarray, fmt: FloatFormat) -> np.ndarray:
    """The spacing of `fmt` at |x| (units: same as x): 2^(max(floor(log2|x|), emin) - m)."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    e = np.frexp(np.where((a > 0) & np.isfinite(a), a, 1.0))[1].astype(np.int64) - 1
    e = np.maximum(e, fmt.emin)
    return np.ldexp(1.0, e - fmt.m)


def gamma(k: int, u: float) -> float:
    """gamma_k = k u / (1 - k u); inf when k u >= 1 (the bound says nothing)."""
    return k * u / (1 - k * u) if k * u < 1 else math.inf


def bound_name(scheme: str, order: str) -> str:
    if scheme == "kulisch":
        return "half-ulp"
    if scheme == "naive":
        return "gamma_{n-1}" if order == "sequential" else "gamma_{ceil(log2 n)}"
    if order == "sequential" and scheme in ("neumaier", "twosum", "fasttwosum"):
        return "u|S|+gamma_{n-1}^2"
    if order == "sequential" and scheme == "kahan":
        return "3u (nu<=0.01)"
    return "none"


def bound(
    scheme: str, order: str, n: int, acc: FloatFormat, exact: np.ndarray, sum_abs: np.ndarray
) -> tuple[np.ndarray, bool]:
    """(bound on |err| per trial, whether the scheme/order/n hypotheses hold); units of the sums."""
    u = acc.unit_roundoff
    exact = np.asarray(exact, dtype=np.float64)
    sum_abs = np.asarray(sum_abs, dtype=np.float64)
    name = bound_name(scheme, order)
    if name == "half-ulp":
        return ulp(exact, acc) / 2, True
    if name == "gamma_{n-1}":
        g = gamma(n - 1, u)
        return g * sum_abs, math.isfinite(g)
    if name == "gamma_{ceil(log2 n)}":
        g = gamma(math.ceil(math.log2(n)) if n > 1 else 0, u)
        return g * sum_abs, math.isfinite(g)
    if name == "u|S|+gamma_{n-1}^2":
        g = gamma(n - 1, u)
        return u * np.abs(exact) + g * g * sum_abs, math.isfinite(g)
    if name == "3u (nu<=0.01)":
        return 3 * u * sum_abs, n * u <= 0.01
    return np.full(exact.shape, np.inf), False

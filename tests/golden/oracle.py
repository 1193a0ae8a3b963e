"""An exact, deliberately slow and independent reference: rational arithmetic (fractions.Fraction)
and a from-the-definition RNE rounding.  It shares no code with golden/: formats are described by
plain tuples, and every value is derived from the IEEE/OCP definitions directly."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

INF = math.inf
NAN = math.nan


@dataclass(frozen=True)
class Spec:
    e: int
    m: int
    special: str  # ieee | fn | finite | int
    overflow: str  # saturate | inf | nan

    @property
    def bias(self) -> int:
        return 2 ** (self.e - 1) - 1

    @property
    def emin(self) -> int:
        return 1 - self.bias

    @property
    def max_finite(self) -> Fraction:
        if self.special == "int":
            return Fraction(2**self.m - 1, 2 ** (self.m - 1))
        if self.special == "ieee":
            top_exp, top_mant = 2**self.e - 2, 2**self.m - 1
        elif self.special == "fn":
            top_exp, top_mant = 2**self.e - 1, 2**self.m - 2
        else:
            top_exp, top_mant = 2**self.e - 1, 2**self.m - 1
        return Fraction(2**self.m + top_mant, 2**self.m) * Fraction(2) ** (top_exp - self.bias)


def floor_log2(a: Fraction) -> int:
    """floor(log2(a)) for a > 0, exactly."""
    e = a.numerator.bit_length() - a.denominator.bit_length()
    # 2^e <= a < 2^(e+1) must hold; fix the estimate by at most one step
    while Fraction(2) ** e > a:
        e -= 1
    while Fraction(2) ** (e + 1) <= a:
        e += 1
    return e


def rne_int(q: Fraction) -> int:
    """Round a non-negative rational to the nearest integer, ties to even."""
    fl = q.numerator // q.denominator
    rem = q - fl
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and fl % 2 == 1):
        return fl + 1
    return fl


def round_exact(q: Fraction, spec: Spec, negative_zero: bool = False) -> float:
    """RNE of the exact rational q into spec, returned as a Python float (exact for these formats).

    negative_zero: the sign to give an exact zero (IEEE: -0 only for (-0) + (-0), x * -y, ...).
    """
    if q == 0:
        return -0.0 if negative_zero else 0.0
    neg = q < 0
    a = -q if neg else q
    if spec.special == "int":
        quantum = Fraction(1, 2 ** (spec.m - 1))
        r = rne_int(a / quantum)
        r = min(r, 2**spec.m - 1)
        val = float(r * quantum)
        return -val if neg else val
    E = max(floor_log2(a), spec.emin)
    quantum = Fraction(2) ** (E - spec.m)
    r = rne_int(a / quantum) * quantum
    if r > spec.max_finite:
        if spec.overflow == "saturate":
            r = spec.max_finite
        elif spec.overflow == "inf":
            return -INF if neg else INF
        else:
            return NAN
    val = float(r)
    return -val if neg else val


def decode_code(code: int, spec: Spec) -> float:
    """Value of a bit pattern, straight from the definitions."""
    if spec.special == "int":
        width = spec.m + 1
        q = code - 2**width if code >= 2**spec.m else code
        return q / 2 ** (spec.m - 1)
    sign = -1.0 if (code >> (spec.e + spec.m)) & 1 else 1.0
    ef = (code >> spec.m) & (2**spec.e - 1)
    mf = code & (2**spec.m - 1)
    if spec.special == "ieee" and ef == 2**spec.e - 1:
        return sign * INF if mf == 0 else NAN
    if spec.special == "fn" and ef == 2**spec.e - 1 and mf == 2**spec.m - 1:
        return NAN
    if ef == 0:
        mag = Fraction(mf, 2**spec.m) * Fraction(2) ** spec.emin
    else:
        mag = (1 + Fraction(mf, 2**spec.m)) * Fraction(2) ** (ef - spec.bias)
    return sign * float(mag)


def op_exact(op: str, a: float, b: float, spec: Spec) -> float:
    """IEEE semantics of a op b rounded once into spec, with special values handled by the rules."""
    if math.isnan(a) or math.isnan(b):
        return NAN
    if math.isinf(a) or math.isinf(b):
        with_float = {"add": a + b, "sub": a - b, "mul": a * b}[op]
        if math.isnan(with_float):
            return NAN
        if spec.special == "ieee":
            return with_float
        return NAN if spec.overflow == "nan" else math.copysign(float(spec.max_finite), with_float)
    fa, fb = Fraction(a), Fraction(b)
    if op == "add":
        q = fa + fb
        negzero = math.copysign(1, a) < 0 and math.copysign(1, b) < 0
    elif op == "sub":
        q = fa - fb
        negzero = math.copysign(1, a) < 0 and math.copysign(1, b) > 0
    else:
        q = fa * fb
        negzero = (math.copysign(1, a) < 0) != (math.copysign(1, b) < 0)
    r = round_exact(q, spec, negative_zero=negzero if q == 0 else False)
    if q != 0 and r == 0 and q < 0:
        r = -0.0
    return r

"""Scalar number formats: parameters, presets, encode/decode, and round-to-nearest-even.

Every value in golden/ is carried as a float64 numpy array.  A value "in format F" is a float64 that
F represents exactly; `round_to(x, F)` maps any float64 to the nearest such value (RNE, gradual
underflow, the format's overflow policy).  float64 holds every value of every supported format
exactly (e <= 8, m <= 23, i.e. up to FP32), so no information is lost by that representation.

Codes (bit patterns) are unsigned integers: sign at bit e+m, then e exponent bits, then m mantissa
bits.  Integer formats (e == 0) are two's complement on m+1 bits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

SPECIAL_POLICIES = ("ieee", "fn", "finite")
OVERFLOW_POLICIES = ("saturate", "inf", "nan")
MAX_E = 8
MAX_M = 23


class FormatError(ValueError):
    """A format's parameters are impossible; the message names the parameter and what is allowed."""


@dataclass(frozen=True)
class FloatFormat:
    """A binary floating-point format with `e` exponent bits and `m` stored mantissa bits.

    special:  'ieee'   -- all-ones exponent is Inf (mantissa 0) / NaN (FP32, FP16, BF16, E5M2);
              'fn'     -- OCP E4M3 style: no Inf, only S.1..1.1..1 is NaN;
              'finite' -- every code is a finite number (OCP E2M1, E2M3, E3M2).
    overflow: 'saturate' (to +-max finite), 'inf' (ieee only) or 'nan' (ieee or fn).
    e == 0 makes a two's complement integer format with m magnitude bits whose values are
    q * 2**(1-m), q in [-(2**m - 1), 2**m - 1] (OCP MXINT style; the code -2**m is not used).
    """

    e: int
    m: int
    bias: int | None = None
    special: str = "ieee"
    overflow: str = "saturate"
    name: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for pname in ("e", "m"):
            v = getattr(self, pname)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise FormatError(f"FloatFormat parameter '{pname}' must be an integer, got {v!r}")
        if not 0 <= self.e <= MAX_E:
            raise FormatError(f"FloatFormat parameter 'e' (exponent bits) must be in 0..{MAX_E}, got {self.e}")
        if not 0 <= self.m <= MAX_M:
            raise FormatError(f"FloatFormat parameter 'm' (mantissa bits) must be in 0..{MAX_M}, got {self.m}")
        if self.special not in SPECIAL_POLICIES:
            raise FormatError(f"FloatFormat parameter 'special' must be one of {SPECIAL_POLICIES}, got {self.special!r}")
        if self.overflow not in OVERFLOW_POLICIES:
            raise FormatError(
                f"FloatFormat parameter 'overflow' must be one of {OVERFLOW_POLICIES}, got {self.overflow!r}"
            )
        if self.e == 0:
            if self.m < 1:
                raise FormatError("integer format (e=0) needs parameter 'm' >= 1 magnitude bits")
            if self.overflow != "saturate":
                raise FormatError("integer format (e=0) only allows overflow='saturate'")
            return
        if self.special in ("ieee", "fn") and self.m < 1:
            raise FormatError(f"special='{self.special}' needs parameter 'm' >= 1 (NaN needs a mantissa bit)")
        if self.special == "ieee" and self.e < 2:
            raise FormatError("special='ieee' needs parameter 'e' >= 2 (the all-ones exponent is reserved)")
        if self.overflow == "inf" and self.special != "ieee":
            raise FormatError(f"overflow='inf' needs special='ieee' (format has no Inf), got special={self.special!r}")
        if self.overflow == "nan" and self.special == "finite":
            raise FormatError("overflow='nan' needs special='ieee' or 'fn' (format has no NaN)")
        if self.bias is not None and not -(2**10) < self.bias < 2**10:
            raise FormatError(f"FloatFormat parameter 'bias' must be a small integer, got {self.bias}")
        if self.max_value > 2.0**128 * 2 or self.min_subnormal < 2.0**-160:
            raise FormatError(
                "FloatFormat range must stay within FP32's (|max| <= 2^129, min subnormal >= 2^-160); "
                f"got e={self.e}, m={self.m}, bias={self.exp_bias}"
            )

    # ------------------------------------------------------------------ derived constants
    @property
    def is_int(self) -> bool:
        return self.e == 0

    @property
    def bits(self) -> int:
        return 1 + self.e + self.m

    @property
    def exp_bias(self) -> int:
        if self.is_int:
            return 0
        return self.bias if self.bias is not None else 2 ** (self.e - 1) - 1

    @property
    def emin(self) -> int:
        """Exponent of the smallest normal number (for integer formats: of the quantum's MSB, 0)."""
        return 0 if self.is_int else 1 - self.exp_bias

    @property
    def max_exp_field(self) -> int:
        return 2**self.e - 2 if self.special == "ieee" else 2**self.e - 1

    @property
    def emax(self) -> int:
        """Exponent of the largest finite number (OCP's emax_elem)."""
        return 0 if self.is_int else self.max_exp_field - self.exp_bias

    @property
    def max_value(self) -> float:
        if self.is_int:
            return float(2**self.m - 1) * 2.0 ** (1 - self.m)
        top_mant = 2**self.m - 2 if self.special == "fn" else 2**self.m - 1
        return float((2**self.m + top_mant) * 2.0 ** (self.emax - self.m))

    @property
    def min_normal(self) -> float:
        return 2.0 ** (1 - self.m) if self.is_int else 2.0**self.emin

    @property
    def min_subnormal(self) -> float:
        return 2.0 ** (1 - self.m) if self.is_int else 2.0 ** (self.emin - self.m)

    @property
    def unit_roundoff(self) -> float:
        """u = 2^-(m+1), the relative error bound of one RNE rounding in the normal range."""
        return 2.0 ** -(self.m + 1)

    @property
    def has_inf(self) -> bool:
        return self.special == "ieee"

    @property
    def has_nan(self) -> bool:
        return self.special in ("ieee", "fn")

    def label(self) -> str:
        if self.name:
            return self.name
        if self.is_int:
            return f"INT{self.m + 1}"
        return f"E{self.e}M{self.m}"

    def describe(self) -> str:
        return (
            f"{self.label()} (e={self.e}, m={self.m}, bias={self.exp_bias}, special={self.special}, "
            f"overflow={self.overflow}, max={self.max_value:g})"
        )

    def with_overflow(self, overflow: str) -> FloatFormat:
        return FloatFormat(self.e, self.m, self.bias, self.special, overflow, self.name)

    def __str__(self) -> str:  # pragma: no cover - cosmetic
        return self.label()


# ---------------------------------------------------------------------- presets
FP32 = FloatFormat(8, 23, special="ieee", overflow="inf", name="FP32")
FP16 = FloatFormat(5, 10, special="ieee", overflow="inf", name="FP16")
BF16 = FloatFormat(8, 7, special="ieee", overflow="inf", name="BF16")
E5M2 = FloatFormat(5, 2, special="ieee", overflow="inf", name="E5M2")
E4M3 = FloatFormat(4, 3, special="fn", overflow="nan", name="E4M3")
E3M2 = FloatFormat(3, 2, special="finite", overflow="saturate", name="E3M2")
E2M3 = FloatFormat(2, 3, special="finite", overflow="saturate", name="E2M3")
E2M1 = FloatFormat(2, 1, special="finite", overflow="saturate", name="E2M1")
INT8 = FloatFormat(0, 7, special="finite", overflow="saturate", name="INT8")
INT4 = FloatFormat(0, 3, special="finite", overflow="saturate", name="INT4")

PRESETS: dict[str, FloatFormat] = {
    f.name: f for f in (FP32, FP16, BF16, E5M2, E4M3, E3M2, E2M3, E2M1, INT8, INT4)  # type: ignore[misc]
}


def parse_format(spec: str | FloatFormat | dict) -> FloatFormat:
    """Accept a preset name ('BF16', 'e4m3'), 'E<e>M<m>' (ieee if e>=2 ... see docs), 'INT<b>', a dict
    of FloatFormat fields, or a FloatFormat.  Custom 'E<e>M<m>' strings get the 'finite' policy with
    saturation unless a suffix says otherwise: 'E5M10-ieee', 'E4M3-fn', 'E3M4-finite'."""
    if isinstance(spec, FloatFormat):
        return spec
    if isinstance(spec, dict):
        try:
            return FloatFormat(**spec)
        except TypeError as exc:
            raise FormatError(f"format dict {spec!r} has unknown keys; allowed: e, m, bias, special, overflow, name") from exc
    if not isinstance(spec, str):
        raise FormatError(f"format must be a name like 'BF16' or 'E4M3', got {spec!r}")
    key = spec.strip().upper()
    if key in PRESETS:
        return PRESETS[key]
    import re

    mt = re.fullmatch(r"INT(\d+)", key)
    if mt:
        bits = int(mt.group(1))
        if not 2 <= bits <= MAX_M + 1:
            raise FormatError(f"integer format '{spec}' must have 2..{MAX_M + 1} bits")
        return FloatFormat(0, bits - 1, special="finite", overflow="saturate", name=key)
    mt = re.fullmatch(r"E(\d+)M(\d+)(?:-(IEEE|FN|FINITE))?", key)
    if mt:
        e, m = int(mt.group(1)), int(mt.group(2))
        special = (mt.group(3) or "FINITE").lower()
        overflow = {"ieee": "inf", "fn": "nan", "finite": "saturate"}[special]
        return FloatFormat(e, m, special=special, overflow=overflow)
    raise FormatError(
        f"unknown format {spec!r}; allowed: presets {sorted(PRESETS)}, 'E<e>M<m>[-ieee|-fn|-finite]' or 'INT<bits>'"
    )


# ---------------------------------------------------------------------- rounding
def _round_bits_normal(x: np.ndarray, m: int, out: np.ndarray | None = None,
                       t: np.ndarray | None = None) -> np.ndarray:
    """RNE to m mantissa bits on the raw IEEE-754 pattern (right wherever x is a float64 normal):
    adding (half - 1 + lsb) and masking is round-half-even, and a carry out of the mantissa bumps the
    exponent, which is exactly the RNE result.  x must be C-contiguous float64; `out` (float64) and
    the int64 scratch `t`, both of x's size, let a caller reuse cache-resident buffers."""
    shift = 52 - m
    bits = x.view(np.int64)
    t = np.empty_like(bits) if t is None else t
    out = np.empty_like(x) if out is None else out
    np.right_shift(bits, shift, out=t)
    np.bitwise_and(t, 1, out=t)
    np.add(t, bits, out=t)
    np.add(t, np.int64((1 << (shift - 1)) - 1), out=t)
    np.bitwise_and(t, np.int64(~((1 << shift) - 1)), out=out.view(np.int64))
    return out


def _round_fixed_quantum(x: np.ndarray, m: int, emin: int) -> np.ndarray:
    """RNE below 2^emin, where the quantum is the fixed 2^(emin-m): scale, rint, scale back (exact)."""
    return np.rint(x * 2.0 ** (m - emin)) * 2.0 ** (emin - m)


def _round_bits(x: np.ndarray, m: int, emin: int) -> np.ndarray:
    """RNE to m mantissa bits (m <= 51), gradual underflow below 2^emin, no overflow handling.
    x must be a C-contiguous float64 array.  Below 2^emin the quantum is the fixed 2^(emin-m):
    scale, rint (RNE), scale back -- all exact."""
    r = _round_bits_normal(x, m)
    small = np.abs(x) < 2.0**emin
    if small.any():
        r[small] = _round_fixed_quantum(x[small], m, emin)
    return r


_CHUNK = 1 << 14  # values per in-place pass of `rounder`: three 128 KiB buffers stay in L2
_ABS_MASK = np.int64(0x7FFF_FFFF_FFFF_FFFF)


@lru_cache(maxsize=256)
def rounder(fmt: FloatFormat):
    """The RNE rounding function of `fmt` (constants bound once), for float64 arrays of any shape.

    Subnormals are kept (gradual underflow); the sign of zero is kept (as IEEE RNE does);
    NaN stays NaN (for 'finite' formats NaN has no code and `encode` rejects it);
    Inf and overflow follow `fmt.overflow`: 'saturate' -> +-max, 'inf' -> +-Inf, 'nan' -> NaN.
    Overflow means the RNE result with unbounded exponent exceeds max (so for 'fn' formats values up
    to max + ulp/2 round down to max, as OCP E4M3 specifies).
    """
    mx = fmt.max_value
    policy = fmt.overflow
    if fmt.is_int:
        up, down, lim = 2.0 ** (fmt.m - 1), 2.0 ** (1 - fmt.m), float(2**fmt.m - 1)

        def rnd_int(x: np.ndarray) -> np.ndarray:
            x = np.asarray(x, dtype=np.float64)
            r = np.clip(np.rint(x * up), -lim, lim) * down
            return np.where(np.isnan(x), np.nan, r)

        return rnd_int
    m, emin = fmt.m, fmt.emin
    min_normal = fmt.min_normal
    # Smallest |x| whose RNE result exceeds max: max + ulp(max)/2 (a tie rounds up past max when max's
    # mantissa is odd -- ieee/finite -- and down to max when it is even -- fn).
    ovf_at = mx + 2.0 ** (fmt.emax - m - 1)
    tie_overflows = fmt.special != "fn"

    # The fast path's range test on raw bit patterns: for non-negative doubles the bit pattern is
    # monotonic in the value, so "min_normal <= |x| < ovf_at" is one unsigned compare of
    # (|bits| - bits(min_normal)) against the span; NaN and Inf fall above it, tiny values wrap below.
    mn_bits = int(np.float64(min_normal).view(np.int64))
    span = np.uint64(int(np.float64(ovf_at).view(np.int64)) - mn_bits + (0 if tie_overflows else 1))
    neg_mn = np.int64(-mn_bits)

    def slow(xs: np.ndarray) -> np.ndarray:
        """Everything the bit trick does not cover: zeros, |x| < 2^emin, overflow, Inf, NaN."""
        axs = np.abs(xs)
        rs = _round_fixed_quantum(xs, m, emin)
        big = ~((axs < ovf_at) if tie_overflows else (axs <= ovf_at))
        if policy == "saturate":
            rs = np.where(big, np.copysign(mx, xs), rs)
        elif policy == "inf":
            rs = np.where(big, np.copysign(np.inf, xs), rs)
        else:
            rs = np.where(big, np.nan, rs)
        return np.where(np.isnan(xs), np.nan, rs)

    def chunk(xc: np.ndarray, rc: np.ndarray, t: np.ndarray, ok: np.ndarray) -> None:
        # In place on cache-sized buffers: the work is a handful of integer ops per value, so memory
        # traffic, not arithmetic, sets the speed.
        _round_bits_normal(xc, m, rc, t)
        np.bitwise_and(xc.view(np.int64), _ABS_MASK, out=t)
        np.add(t, neg_mn, out=t)
        np.less(t.view(np.uint64), span, out=ok)
        if not ok.all():
            np.logical_or(ok, t == neg_mn, out=ok)  # +-0 round to themselves
            if not ok.all():
                bad = ~ok
                rc[bad] = slow(xc[bad])

    def rnd(x: np.ndarray) -> np.ndarray:
        shape = np.shape(x)
        flat = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
        n = flat.size
        out = np.empty(n, dtype=np.float64)
        c = min(n, _CHUNK)
        t, ok = np.empty(c, dtype=np.int64), np.empty(c, dtype=bool)
        for s in range(0, n, _CHUNK):
            e = min(s + _CHUNK, n)
            chunk(flat[s:e], out[s:e], t[: e - s], ok[: e - s])
        return out.reshape(shape)

    return rnd


def round_to(x, fmt: FloatFormat) -> np.ndarray:
    """Round float64 values to the nearest value of `fmt`, ties to even, once (see `rounder`)."""
    x = np.asarray(x, dtype=np.float64)
    r = rounder(fmt)(x)
    return r[()] if r.ndim == 0 else r


# ---------------------------------------------------------------------- codes
def decode(codes, fmt: FloatFormat) -> np.ndarray:
    """Bit patterns (unsigned integers < 2**fmt.bits) -> float64 values."""
    c = np.asarray(codes).astype(np.int64)
    if np.any((c < 0) | (c >= 2**fmt.bits)):
        raise FormatError(f"decode: codes must be in 0..{2**fmt.bits - 1} for {fmt.label()}")
    if fmt.is_int:
        v = np.where(c >= 2**fmt.m, c - 2 ** (fmt.m + 1), c).astype(np.float64)
        return v * 2.0 ** (1 - fmt.m)
    sign = (c >> (fmt.e + fmt.m)) & 1
    ef = (c >> fmt.m) & (2**fmt.e - 1)
    mf = c & (2**fmt.m - 1)
    mag = np.where(
        ef == 0,
        mf * 2.0 ** (fmt.emin - fmt.m),
        (mf + 2.0**fmt.m) * np.ldexp(1.0, (ef - fmt.exp_bias - fmt.m).astype(np.int64)),
    )
    if fmt.special == "ieee":
        top = ef == 2**fmt.e - 1
        mag = np.where(top & (mf == 0), np.inf, mag)
        mag = np.where(top & (mf != 0), np.nan, mag)
    elif fmt.special == "fn":
        mag = np.where((ef == 2**fmt.e - 1) & (mf == 2**fmt.m - 1), np.nan, mag)
    return np.where(sign == 1, -mag, mag)


def encode(values, fmt: FloatFormat) -> np.ndarray:
    """float64 values that `fmt` represents exactly -> bit patterns (int64).

    Raises FormatError for a value the format cannot hold (round it with `round_to` first).
    NaN encodes to the canonical quiet NaN (ieee: exponent all ones, mantissa MSB set; fn: all ones).
    """
    v = np.asarray(values, dtype=np.float64)
    rt = round_to(v, fmt)
    exact = (rt == v) | (np.isnan(v) & fmt.has_nan)
    if not np.all(exact):
        bad = v[~exact].ravel()[0]
        raise FormatError(f"encode: value {bad!r} is not representable in {fmt.describe()}; round it first")
    if fmt.is_int:
        q = np.rint(v * 2.0 ** (fmt.m - 1)).astype(np.int64)
        return np.where(q < 0, q + 2 ** (fmt.m + 1), q)
    sign = np.signbit(v).astype(np.int64)
    a = np.abs(np.where(np.isnan(v), 0.0, v))
    finite = np.isfinite(a)
    a_f = np.where(finite, a, 1.0)
    _, ex = np.frexp(a_f)
    E = ex.astype(np.int64) - 1
    normal = a_f >= fmt.min_normal
    ef = np.where(normal, E + fmt.exp_bias, 0)
    mant = np.where(
        normal,
        np.ldexp(a_f, (fmt.m - E).astype(np.int64)) - 2.0**fmt.m,
        a_f * 2.0 ** (fmt.m - fmt.emin),
    ).astype(np.int64)
    code = (sign << (fmt.e + fmt.m)) | (ef << fmt.m) | mant
    code = np.where(a == 0, sign << (fmt.e + fmt.m), code)
    if fmt.special == "ieee":
        code = np.where(~finite, (sign << (fmt.e + fmt.m)) | ((2**fmt.e - 1) << fmt.m), code)
        code = np.where(np.isnan(v), ((2**fmt.e - 1) << fmt.m) | (1 << (fmt.m - 1)), code)
    elif fmt.special == "fn":
        code = np.where(np.isnan(v), 2 ** (fmt.e + fmt.m) - 1, code)
    return code


def all_values(fmt: FloatFormat) -> np.ndarray:
    """Every code's value, indexed by code (NaN where the code is NaN)."""
    return decode(np.arange(2**fmt.bits), fmt)

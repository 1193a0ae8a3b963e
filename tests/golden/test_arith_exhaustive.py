"""golden add/sub/mul vs the exact rational oracle: every operand pair of every <= 8-bit format,
and >= 1e5 random plus designed corner cases for FP16, BF16 and a 12-bit custom format."""

import numpy as np
import pytest

from golden import arith
from golden.formats import decode

from .conftest import SMALL_FORMATS, WIDE_FORMATS, same, spec_of
from .oracle import decode_code, op_exact

OPS = {"add": arith.add, "sub": arith.sub, "mul": arith.mul}


def first_mismatch(fmt, op, a, b, got, want):
    bad = np.flatnonzero(~same(got, want))
    if bad.size == 0:
        return None
    i = bad[0]
    return (f"{bad.size} mismatches in {fmt.describe()} {op}; first: a={a[i]!r} b={b[i]!r} "
            f"golden={got[i]!r} oracle={want[i]!r}")


@pytest.mark.parametrize("fmt", SMALL_FORMATS, ids=lambda f: f.label())
def test_decode_matches_definition(fmt):
    codes = np.arange(2**fmt.bits)
    want = np.array([decode_code(int(c), spec_of(fmt)) for c in codes])
    assert same(decode(codes, fmt), want).all()


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("fmt", SMALL_FORMATS, ids=lambda f: f.label())
def test_every_pair(fmt, op):
    spec = spec_of(fmt)
    vals = np.array([decode_code(c, spec) for c in range(2**fmt.bits)])
    a = np.repeat(vals, vals.size)
    b = np.tile(vals, vals.size)
    got = OPS[op](a, b, fmt)
    want = np.array([op_exact(op, float(x), float(y), spec) for x, y in zip(a, b)])
    msg = first_mismatch(fmt, op, a, b, got, want)
    assert msg is None, msg


def corner_values(fmt) -> np.ndarray:
    """Designed operands: zeros, subnormal boundaries, min/max normal, values around ties."""
    mn, mx, sub = fmt.min_normal, fmt.max_value, fmt.min_subnormal
    ulp1 = 2.0**-fmt.m
    base = [0.0, sub, 2 * sub, mn - sub, mn, mn + sub, 1.0, 1.0 + ulp1, 1.0 + 2 * ulp1, 2.0 - ulp1,
            mx, mx / 2, mx * (1 - 2.0 ** -(fmt.m + 1)), 3.0, 0.5, 1.5]
    vals = np.array(base + [-v for v in base])
    return vals[np.isfinite(vals)]


@pytest.mark.parametrize("fmt", WIDE_FORMATS, ids=lambda f: f.label())
def test_wide_random_and_corners(fmt, rng):
    spec = spec_of(fmt)
    n = 35_000  # x 3 ops >= 1e5 random operations per format
    codes_a = rng.integers(0, 2**fmt.bits, n)
    codes_b = rng.integers(0, 2**fmt.bits, n)
    # bias half the pairs toward close exponents, where cancellation and ties happen
    close = rng.random(n) < 0.5
    codes_b = np.where(close, (codes_a ^ rng.integers(0, 2 ** (fmt.m + 2), n)) % 2**fmt.bits, codes_b)
    a = decode(codes_a, fmt)
    b = decode(codes_b, fmt)
    cv = corner_values(fmt)
    a = np.concatenate([a, np.repeat(cv, cv.size)])
    b = np.concatenate([b, np.tile(cv, cv.size)])
    for op, fn in OPS.items():
        got = fn(a, b, fmt)
        want = np.array([op_exact(op, float(x), float(y), spec) for x, y in zip(a, b)])
        msg = first_mismatch(fmt, op, a, b, got, want)
        assert msg is None, msg


@pytest.mark.parametrize("fmt", WIDE_FORMATS + SMALL_FORMATS, ids=lambda f: f.label())
def test_ties_round_to_even(fmt):
    """Midpoints between neighbours round to the even mantissa, both when it is below and above."""
    vals = decode(np.arange(0, 2 ** (fmt.bits - 1)), fmt)
    vals = vals[np.isfinite(vals)]
    lo, hi = vals[:-1], vals[1:]
    mid = (lo + hi) / 2  # exact in float64
    from golden.formats import encode, round_to

    r = round_to(mid, fmt)
    lo_even = encode(lo, fmt) % 2 == 0
    want = np.where(lo_even, lo, hi)
    keep = hi <= fmt.max_value
    assert same(r[keep], want[keep]).all()
    # a hair above / below a midpoint goes to the nearer neighbour
    assert same(round_to(np.nextafter(mid, np.inf), fmt)[keep], hi[keep]).all()
    assert same(round_to(np.nextafter(mid, -np.inf), fmt)[keep], lo[keep]).all()

"""golden.accumulate: bit-exact against an independent scalar implementation of the contract, the
error-free-transform properties, the known low-precision phenomena, and the classical error bounds."""

import math

import numpy as np
import pytest

from golden.accumulate import SCHEMES, accumulate, exact_sum
from golden.arith import add, sub
from golden.formats import BF16, E4M3, E5M2, FP16, FP32, FloatFormat, decode, round_to

from .conftest import same, spec_of
from .scalar_reference import reference_sum

E5M3 = FloatFormat(5, 3, special="ieee", overflow="inf")
E4M3_SAT = E4M3.with_overflow("saturate")
ACC_CASES = [
    (BF16, None),
    (FP16, None),
    (E5M3, None),
    (E4M3_SAT, None),
    (E5M2, None),
    (BF16, FP32),
    (E5M3, FP16),
]


def sequences(rng, fmt, count, n):
    """Random sequences with mixed magnitudes, cancellation and swamping, some reaching overflow."""
    kinds = rng.integers(0, 4, count)
    mag = np.exp2(rng.uniform(-6, 6, (count, n)))
    x = rng.choice([-1.0, 1.0], (count, n)) * mag
    x[kinds == 1] = np.abs(x[kinds == 1])  # same sign: stagnation
    canc = kinds == 2
    x[canc, 1::2] = -x[canc, 0:-1:2] * (1 + rng.uniform(-0.01, 0.01, (canc.sum(), n // 2))) if n > 1 else x[canc, 1::2]
    big = kinds == 3
    x[big, 0] = fmt.max_value * rng.uniform(0.3, 1.0, big.sum())  # swamping, sometimes overflow
    return round_to(x, fmt)


# kulisch is exact: order and compensation format do not apply to it
REF_CASES = [
    (scheme, order, acc, comp)
    for scheme in SCHEMES
    for order in ("sequential", "pairwise")
    for acc, comp in ACC_CASES
    if scheme != "kulisch" or (order == "sequential" and comp is None)
]


@pytest.mark.parametrize(
    "scheme,order,acc,comp", REF_CASES,
    ids=[f"{s}-{o}-{a.label()}-{c.label() if c else 'same'}" for s, o, a, c in REF_CASES],
)
def test_matches_scalar_reference(scheme, order, acc, comp, rng):
    count = 40
    for n in (1, 2, 3, 5, 8, 13):
        x = sequences(rng, acc, count, n)
        got = accumulate(x, scheme, acc, comp, order)
        for i in range(count):
            want, st = reference_sum([float(v) for v in x[i]], scheme, spec_of(acc), comp and spec_of(comp), order)
            assert same(got.value[i], want), (
                f"{scheme}/{order} {acc.label()} comp={comp and comp.label()} n={n}: x={x[i].tolist()} "
                f"golden={got.value[i]!r} reference={want!r}"
            )
            for key, v in st.items():
                assert same(got.state[key][i], v), f"state {key}: golden={got.state[key][i]!r} reference={v!r} x={x[i].tolist()}"


@pytest.mark.parametrize("fmt", [E4M3, E5M2], ids=lambda f: f.label())
def test_twosum_and_fasttwosum_are_error_free(fmt):
    vals = decode(np.arange(2**fmt.bits), fmt)
    vals = vals[np.isfinite(vals)]
    a = np.repeat(vals, vals.size)
    b = np.tile(vals, vals.size)
    s = add(a, b, fmt)
    ok = np.abs(a + b) <= fmt.max_value  # exact sum in float64; no overflow
    ok &= np.isfinite(s)
    a, b, s = a[ok], b[ok], s[ok]
    # TwoSum (Knuth), every operation rounded in fmt
    bp = sub(s, a, fmt)
    ap = sub(s, bp, fmt)
    e = add(sub(a, ap, fmt), sub(b, bp, fmt), fmt)
    # "no overflow" includes TwoSum's intermediate s - a, which can overflow when the operands are near
    # max (E5M2: 12288 + -57344 -> s - a = -61440 rounds past max): exactly 2 such pairs in E5M2.
    inter = np.isfinite(bp) & np.isfinite(ap) & np.isfinite(e)
    assert (~inter).sum() <= 2
    assert np.array_equal((s + e)[inter], (a + b)[inter])  # float64 holds these sums exactly
    # FastTwoSum (Dekker), |a| >= |b|
    swap = np.abs(a) < np.abs(b)
    aa, bb = np.where(swap, b, a), np.where(swap, a, b)
    e2 = sub(bb, sub(s, aa, fmt), fmt)
    assert np.array_equal(s + e2, a + b)


@pytest.mark.parametrize("acc", [BF16, FP16, E5M3, E4M3_SAT], ids=lambda f: f.label())
def test_sum2_family_is_bit_identical_without_overflow(acc, rng):
    x = round_to(rng.standard_normal((2000, 64)) * np.exp2(rng.uniform(-3, 3, (2000, 64))), acc)
    x = x[np.abs(x).sum(axis=1) * 2 < acc.max_value]
    res = {s: accumulate(x, s, acc) for s in ("neumaier", "twosum", "fasttwosum")}
    for s in ("twosum", "fasttwosum"):
        assert same(res[s].value, res["neumaier"].value).all()
        assert same(res[s].state["c"], res["neumaier"].state["c"]).all()


def test_low_precision_breakdown_bf16():
    """10 000 U(0,1) summed in BF16: naive stagnates at 256; the separately accumulated compensation of
    Neumaier (and TwoSum/FastTwoSum) stagnates too (512), Klein's two levels give 768, Kahan's fed-back
    correction and Kulisch reach the exact sum to within one BF16 ulp."""
    x = np.random.default_rng(2024).random(10_000)
    xs = round_to(x, BF16)
    exact = math.fsum(xs)
    ulp = 2.0 ** (math.floor(math.log2(exact)) - BF16.m)
    got = {s: float(accumulate(xs, s, BF16).value) for s in SCHEMES}
    assert got["naive"] == 256.0
    assert got["neumaier"] == got["twosum"] == got["fasttwosum"] == 512.0
    assert got["klein"] == 768.0
    assert abs(got["kahan"] - exact) <= ulp
    assert abs(got["kulisch"] - exact) <= ulp / 2  # correctly rounded
    # a wide (FP32) compensation format recovers the exact sum for the Sum2 family and Klein
    for s in ("neumaier", "twosum", "fasttwosum", "klein"):
        assert abs(float(accumulate(xs, s, BF16, comp=FP32).value) - exact) <= ulp


def _errors(x, value):
    return np.array([math.fsum(list(row) + [-v]) for row, v in zip(x, value)])


def _bound_sequences(rng, fmt, count, n):
    """Random and adversarial sequences, values in [2^-6, 2^6] (no overflow, no inexact underflow)."""
    x = rng.choice([-1.0, 1.0], (count, n)) * np.exp2(rng.uniform(-6, 6, (count, n)))
    q = count // 4
    x[:q] = np.abs(x[:q])  # all positive
    x[q : 2 * q] = np.sort(np.abs(x[q : 2 * q]), axis=1)[:, ::-1]  # decreasing: swamping
    x[2 * q : 3 * q, 1::2] = -x[2 * q : 3 * q, 0 : n - 1 : 2] * 0.999  # near-cancelling pairs
    return round_to(x, fmt)


@pytest.mark.parametrize("fmt", [FP16, BF16, FP32], ids=lambda f: f.label())
def test_classical_error_bounds(fmt, rng):
    u = fmt.unit_roundoff

    def gamma(k):
        return k * u / (1 - k * u)

    checked = 0
    for n in (2, 3, 7, 16, 33, 100, 257):
        if (n - 1) * u >= 1:
            continue
        x = _bound_sequences(rng, fmt, 2500, n)
        sabs = np.abs(x).sum(axis=1)
        S = exact_sum(x)
        tol = 1 + 1e-12  # the float64 error/bound computation itself
        err = np.abs(_errors(x, accumulate(x, "naive", fmt).value))
        assert (err <= gamma(n - 1) * sabs * tol).all()
        err = np.abs(_errors(x, accumulate(x, "naive", fmt, order="pairwise").value))
        assert (err <= gamma(math.ceil(math.log2(n))) * sabs * tol).all()
        for s in ("neumaier", "twosum", "fasttwosum"):
            err = np.abs(_errors(x, accumulate(x, s, fmt).value))
            assert (err <= (u * np.abs(S) + gamma(n - 1) ** 2 * sabs) * tol).all(), s
        if n * u <= 0.01:
            err = np.abs(_errors(x, accumulate(x, "kahan", fmt).value))
            assert (err <= 3 * u * sabs * tol).all()
        # Kulisch: exact before the final rounding, i.e. the correctly rounded exact sum
        k = accumulate(x, "kulisch", fmt)
        assert (np.abs(k.state["hi"] - S) <= np.abs(S) * 2.0**-32).all()  # state: top bits of the exact sum
        assert same(k.value, round_to(S, fmt) if fmt.m < 26 else S).all()
        checked += x.shape[0]
    assert checked >= 10_000


def test_kulisch_is_exact_over_the_whole_range(rng):
    """Values spanning FP32's whole range, including subnormals, sum exactly before the final rounding."""
    from fractions import Fraction

    from .oracle import Spec, round_exact

    x = rng.choice([-1.0, 1.0], (50, 30)) * np.exp2(rng.uniform(-149, 127, (50, 30)))
    x = round_to(x, FP32)
    got = accumulate(x, "kulisch", FP32).value
    for row, v in zip(x, got):
        want = round_exact(sum((Fraction(float(t)) for t in row), Fraction(0)), Spec(8, 23, "ieee", "inf"))
        assert same(v, want)


def test_empty_and_single():
    for s in SCHEMES:
        assert accumulate(np.zeros((3, 0)), s, BF16).value.tolist() == [0.0, 0.0, 0.0]
        assert float(accumulate([1.3], s, BF16).value) == float(round_to(1.3, BF16))

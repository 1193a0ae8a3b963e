"""golden.mx: OCP scale rule, element rounding, exact block sums, and the two-level MX dot product,
against the exact rational oracle and the scalar accumulation reference."""

from fractions import Fraction

import numpy as np
import pytest

from golden.formats import BF16, E2M1, E3M2, E4M3, E5M2, FP32, INT8, FloatFormat
from golden.mx import block_sums, block_values, mx_dot, mx_matmul, mx_quantize

from .conftest import same, spec_of
from .oracle import floor_log2, round_exact
from .scalar_reference import reference_sum

ELEMS = [E4M3, E5M2, E3M2, E2M1, INT8]
E5M3 = FloatFormat(5, 3, special="ieee", overflow="inf")


def heavy(rng, shape):
    return rng.standard_normal(shape) * np.exp(rng.standard_normal(shape) * 2.5)


@pytest.mark.parametrize("elem", ELEMS, ids=lambda f: f.label())
@pytest.mark.parametrize("rule", ["ocp", "ceil"])
def test_scale_rule_and_elements(elem, rule, rng):
    k = 8
    x = heavy(rng, (200, 4 * k))
    x[0] = 0.0
    q = mx_quantize(x, elem, k, scale_rule=rule)
    blocks = x.reshape(200, 4, k)
    max_elem = Fraction(float(elem.max_value))
    for i in range(200):
        for b in range(4):
            amax = max(Fraction(abs(float(v))) for v in blocks[i, b])
            s = int(q.scale_exp[i, b])
            if amax == 0:
                assert s == -127
                continue
            if rule == "ocp":
                want = floor_log2(amax) - elem.emax
            else:  # the smallest s with amax <= max_elem * 2^s
                want = floor_log2(amax / max_elem)
                while amax > max_elem * Fraction(2) ** want:
                    want += 1
            assert s == max(-127, min(127, want))
            # each element is the saturating RNE of x / 2^s
            for j in range(k):
                exact = Fraction(float(blocks[i, b, j])) / Fraction(2) ** s
                spec = spec_of(elem if elem.is_int else elem.with_overflow("saturate"))
                assert same(q.elements[i, b * k + j], round_exact(exact, spec))
    assert same(q.values, q.elements * np.exp2(np.repeat(q.scale_exp, k, axis=1))).all()


@pytest.mark.parametrize("elem", [E5M2, E2M1, INT8, E4M3], ids=lambda f: f.label())
@pytest.mark.parametrize("k", [2, 32])
def test_block_sums_are_exact(elem, k, rng):
    a = mx_quantize(heavy(rng, (50, 2 * k)), elem, k)
    b = mx_quantize(heavy(rng, (50, 2 * k)), elem, k)
    hi, lo = block_sums(a, b)
    ea = a.elements.reshape(50, 2, k)
    eb = b.elements.reshape(50, 2, k)
    for i in range(50):
        for blk in range(2):
            exact = sum((Fraction(float(u)) * Fraction(float(v)) for u, v in zip(ea[i, blk], eb[i, blk])), Fraction(0))
            assert Fraction(float(hi[i, blk])) + Fraction(float(lo[i, blk])) == exact
            assert float(hi[i, blk]) == float(exact)  # hi is the float64 rounding of the exact sum


@pytest.mark.parametrize("scheme", ["naive", "kahan", "neumaier", "klein", "kulisch"])
@pytest.mark.parametrize("acc", [BF16, E5M3, FP32], ids=lambda f: f.label())
def test_mx_dot_two_levels(scheme, acc, rng):
    k, nb = 4, 6
    for elem in (E4M3, INT8):
        a = mx_quantize(heavy(rng, (30, nb * k)), elem, k)
        b = mx_quantize(heavy(rng, (30, nb * k)), elem, k)
        got = mx_dot(a, b, scheme, acc)
        ea, eb = a.elements.reshape(30, nb, k), b.elements.reshape(30, nb, k)
        for i in range(30):
            blocks = []
            for j in range(nb):
                exact = sum((Fraction(float(u)) * Fraction(float(v)) for u, v in zip(ea[i, j], eb[i, j])), Fraction(0))
                exact *= Fraction(2) ** int(a.scale_exp[i, j] + b.scale_exp[i, j])
                blocks.append(round_exact(exact, spec_of(acc)))
            want, _ = reference_sum(blocks, scheme, spec_of(acc), None, "sequential")
            assert same(got.value[i], want), f"{elem.label()} row {i}: golden {got.value[i]!r} reference {want!r}"


def test_mx_matmul_is_rowwise_mx_dot(rng):
    A, B = heavy(rng, (5, 64)), heavy(rng, (64, 3))
    C = mx_matmul(A, B, E4M3, E2M1, 32, "kahan", BF16)
    qa = mx_quantize(A, E4M3, 32)
    qb = mx_quantize(B.T, E2M1, 32)
    for i in range(5):
        for j in range(3):
            row = mx_quantize(A[i : i + 1], E4M3, 32)
            col = mx_quantize(B.T[j : j + 1], E2M1, 32)
            assert same(C[i, j], mx_dot(row, col, "kahan", BF16).value[0])
    assert qa.scale_exp.shape == (5, 2) and qb.scale_exp.shape == (3, 2)


def test_nan_block_and_scale_codes():
    x = np.array([[1.0, np.nan, 2.0, 3.0, 0.5, 0.25, 1.0, 1.0]])
    q = mx_quantize(x, E4M3, 4)
    assert q.scale_codes().tolist() == [[255, 127 + 0 - 8]]  # amax 1 = 2^0, E4M3 emax 8
    assert np.isnan(q.values[0, :4]).all() and np.isfinite(q.values[0, 4:]).all()
    assert np.isnan(block_values(q, q, BF16)[0, 0])

"""golden.fastsum against golden's reference functions, bit for bit, on random inputs.

The reference is golden.mx.block_values called on one (row, column) pair at a time, and
golden.accumulate.accumulate(..., 'kulisch', ...); the fast functions run whole matrices / batches.
Inputs are drawn so that blocks span wide ranges, hit zeros (both signs), saturation and NaN blocks."""

from __future__ import annotations

import numpy as np
import pytest

from golden.accumulate import _MAX_EXACT_TERMS, accumulate
from golden.fastsum import (
    accumulate_values,
    block_sums_exact_in_float64,
    kulisch_exact_in_float64,
    mx_block_matmul,
    mx_matmul_values,
)
from golden.formats import parse_format, round_to
from golden.mx import MXTensor, block_values, check_elem_k, mx_quantize

from .conftest import same

ELEMS = ("E4M3", "E5M2", "E3M2", "E2M3", "E2M1", "INT8", "INT4", "E3M4-ieee", "FP16")
KS = (1, 2, 4, 8, 32)
ACCS = ("FP32", "BF16", "FP16", "E5M3-ieee", "E4M3")


def _operands(rng, shape, scale):
    x = rng.standard_normal(shape) * scale * np.exp(rng.uniform(-4, 4, shape))
    x[rng.random(shape) < 0.1] = 0.0
    x[rng.random(shape) < 0.05] = -0.0
    return x.astype(np.float32).astype(np.float64)


def reference_block_matmul(a: MXTensor, b: MXTensor, acc) -> np.ndarray:
    """block_values of every (row of a, column of b) pair, one pair at a time."""
    lead = np.broadcast_shapes(a.elements.shape[:-2], b.elements.shape[:-2])
    M, N, k = a.elements.shape[-2], b.elements.shape[-1], a.k
    ae = np.broadcast_to(a.elements, (*lead, *a.elements.shape[-2:]))
    asc = np.broadcast_to(a.scale_exp, (*lead, *a.scale_exp.shape[-2:]))
    be = np.broadcast_to(b.elements, (*lead, *b.elements.shape[-2:]))
    bsc = np.broadcast_to(b.scale_exp, (*lead, *b.scale_exp.shape[-2:]))
    out = np.empty((*lead, M, N, a.elements.shape[-1] // k))
    for idx in np.ndindex(*lead, M, N):
        *l, i, j = idx
        l = tuple(l)
        ta = MXTensor(ae[l + (i,)], asc[l + (i,)], a.elem, k, 0, a.scale_rule)
        tb = MXTensor(be[l + (slice(None), j)], bsc[l + (slice(None), j)], b.elem, k, 0, b.scale_rule)
        out[idx] = block_values(ta, tb, acc)
    return out


@pytest.mark.parametrize("elem", ELEMS)
@pytest.mark.parametrize("k", KS)
def test_mx_block_matmul_equals_block_values(elem, k):
    rng = np.random.default_rng(abs(hash((elem, k))) % 2**32)
    K = 4 * k if k < 32 else 64
    A = _operands(rng, (2, 3, K), 2.0)
    B = _operands(rng, (2, K, 4), 0.5)
    A[0, 1, :k] = 0.0  # an all-zero block
    B[1, :k, 2] = -0.0  # an all-negative-zero block
    A[1, 2, -1] = np.nan  # a NaN block
    for acc in ACCS:
        ta = mx_quantize(A, elem, k, axis=-1)
        tb = mx_quantize(B, elem, k, axis=-2)
        got = mx_block_matmul(ta, tb, acc)
        ref = reference_block_matmul(ta, tb, parse_format(acc))
        assert got.shape == ref.shape
        assert same(got, ref).all(), (elem, k, acc, np.argwhere(~same(got, ref))[:3])


@pytest.mark.parametrize("fa, fb", [("E4M3", "E2M1"), ("INT8", "E5M2"), ("E2M3", "E3M2")])
def test_mx_block_matmul_mixed_formats_broadcast_and_ceil(fa, fb):
    rng = np.random.default_rng(11)
    A = _operands(rng, (3, 2, 32), 1.0)
    B = _operands(rng, (1, 32, 5), 3.0)  # broadcast over A's leading axis
    ta = mx_quantize(A, fa, 8, axis=-1, scale_rule="ceil")
    tb = mx_quantize(B, fb, 8, axis=-2, scale_rule="ceil")
    got = mx_block_matmul(ta, tb, "BF16")
    assert same(got, reference_block_matmul(ta, tb, parse_format("BF16"))).all()


def test_fast_condition_is_needed():
    """Where block_sums_exact_in_float64 says no, a plain float64 matmul really loses bits: FP16
    products 2^30, 2^-48, -2^30 sum to 2^-48 exactly, float64 gives 0.  The fallback gets it right."""
    assert not block_sums_exact_in_float64("FP16", "FP16", 4)
    A = np.array([[2.0**15, 2.0**-24, -(2.0**15), 0.0]])
    B = np.array([[2.0**15], [2.0**-24], [2.0**15], [0.0]])
    assert (A @ B)[0, 0] == 0.0
    ta, tb = mx_quantize(A, "FP16", 4, axis=-1), mx_quantize(B, "FP16", 4, axis=-2)
    got = mx_block_matmul(ta, tb, "FP32")
    assert same(got, reference_block_matmul(ta, tb, parse_format("FP32"))).all()
    assert got[0, 0, 0] != 0.0


def test_exactness_conditions_by_hand():
    # E4M3: products are multiples of 2^-18, below 448^2 * 32 < 2^23: 41 bits
    assert block_sums_exact_in_float64("E4M3", "E4M3", 32)
    assert block_sums_exact_in_float64("E2M1", "E2M1", 4096)  # 2^-2 .. 36 * 2^12 < 2^18: 20 bits
    assert not block_sums_exact_in_float64("E5M2", "E5M2", 32)  # 2^-32 .. 2^32 * 2^5: 69 bits
    assert not block_sums_exact_in_float64("FP16", "FP16", 1)
    assert kulisch_exact_in_float64("E5M3-ieee", 4096)  # 2^-17 .. 2^16 * 2^12: 46 bits
    assert not kulisch_exact_in_float64("FP32", 2)
    assert not kulisch_exact_in_float64("BF16", 2)


@pytest.mark.parametrize("acc", ["E5M3-ieee", "E4M3", "E2M3", "FP16", "BF16", "FP32"])
@pytest.mark.parametrize("n", [1, 2, 7, 300, 4096])
def test_accumulate_values_kulisch_equals_golden(acc, n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((40, n)) * np.exp(rng.uniform(-6, 6, (40, n)))
    x[0] = 0.0
    x[1] = -0.0
    if n >= 4:
        x[2, :4] = [1e4, -1e4, 3.0, -3.0]
        x[3, :4] = [1e30, 2.0, -1e30, 0.5]  # saturating / overflowing elements
    for rows in (x[:3], x):  # finite in F_acc (the fast path where it applies), then with overflow
        got = accumulate_values(rows, "kulisch", acc)
        ref = accumulate(rows, "kulisch", acc).value
        assert same(got, ref).all(), (acc, n)


@pytest.mark.parametrize("acc, n", [("E5M3-ieee", 4096), ("E4M3", 300), ("FP16", 64)])
def test_fast_paths_are_taken_where_claimed(monkeypatch, acc, n):
    """With golden's reference functions disabled, the fast paths still answer where their conditions hold."""
    import golden.fastsum as fs

    rng = np.random.default_rng(4)
    x = rng.random((5, n))
    ref = accumulate(x, "kulisch", acc).value
    ta = mx_quantize(_operands(rng, (3, 64), 1.0), "E4M3", 32, axis=-1)
    tb = mx_quantize(_operands(rng, (64, 2), 1.0), "E4M3", 32, axis=-2)
    ref_b = reference_block_matmul(ta, tb, parse_format("FP32"))

    def boom(*a, **k):
        raise AssertionError("reference called")

    monkeypatch.setattr(fs, "accumulate", boom)
    monkeypatch.setattr(fs, "block_values", boom)
    assert same(fs.accumulate_values(x, "kulisch", acc), ref).all()
    assert same(fs.mx_block_matmul(ta, tb, "FP32"), ref_b).all()


def test_accumulate_values_other_schemes_and_non_finite():
    rng = np.random.default_rng(2)
    x = rng.random((10, 50))
    x[3, 7] = np.inf
    x[4, 1] = np.nan
    for scheme in ("naive", "kahan", "klein", "kulisch"):
        for order in ("sequential", "pairwise"):
            assert same(accumulate_values(x, scheme, "E5M3-ieee", None, order),
                        accumulate(x, scheme, "E5M3-ieee", None, order).value).all()


def test_comparison_can_fail():
    """The bit comparison used above detects a one-ulp difference and a zero of the wrong sign."""
    rng = np.random.default_rng(0)
    ta = mx_quantize(_operands(rng, (4, 32), 1.0), "E4M3", 32, axis=-1)
    tb = mx_quantize(_operands(rng, (32, 3), 1.0), "E4M3", 32, axis=-2)
    got = mx_block_matmul(ta, tb, "FP32")
    bad = got.copy()
    bad[0, 0, 0] = np.nextafter(bad[0, 0, 0], np.inf)
    assert not same(bad, reference_block_matmul(ta, tb, parse_format("FP32"))).all()
    assert not same(np.array([0.0]), np.array([-0.0])).all()


def test_bad_input():
    ta = mx_quantize(np.ones((2, 8)), "E4M3", 4, axis=-1)
    tb = mx_quantize(np.ones((8, 2)), "E4M3", 8, axis=-2)
    with pytest.raises(ValueError, match="'k' must match"):
        mx_block_matmul(ta, tb)
    with pytest.raises(ValueError, match="axis -2"):
        mx_block_matmul(ta, mx_quantize(np.ones((2, 8)), "E4M3", 4, axis=-1))
    with pytest.raises(ValueError, match="parameter 'acc'"):
        mx_block_matmul(ta, mx_quantize(np.ones((8, 2)), "E4M3", 4, axis=-2), "E9M99")
    with pytest.raises(ValueError, match="parameter 'k'"):
        check_elem_k("E4M3", None, 3)
    with pytest.raises(ValueError, match="exceed the exact range"):
        check_elem_k("BF16", "BF16", 32)
    check_elem_k("E4M3", "E2M1", 32)
    with pytest.raises(ValueError, match="'scheme' must be one of"):
        accumulate_values(np.ones((2, 3)), "kahn", "E5M3-ieee")
    with pytest.raises(ValueError, match="'order' must be one of"):
        accumulate_values(np.ones((2, 3)), "kulisch", "E5M3-ieee", None, "random")
    with pytest.raises(ValueError, match="parameter 'n'"):
        kulisch_exact_in_float64("E5M3-ieee", -1)
    with pytest.raises(ValueError, match="length n must be"):
        accumulate_values(np.zeros((1, _MAX_EXACT_TERMS + 1)), "kulisch", "E2M3")


@pytest.mark.parametrize("elem", ELEMS)
@pytest.mark.parametrize("k", [1, 8, 32])
@pytest.mark.parametrize("rule", ["ocp", "ceil"])
def test_mx_values_equals_mx_quantize(elem, k, rule):
    """golden.fastsum.mx_values == mx_quantize(...).values and mx_quantize_fast == mx_quantize bit for bit: float32 inputs (the float32 path
    where it applies) with zeros of both signs, ties, float32 subnormals and negative values rounding
    to zero; float64 inputs; blocks beyond 2^100; NaN and Inf; both axes; the float32 output."""
    from golden.fastsum import mx_quantize_fast, mx_values

    rng = np.random.default_rng(abs(hash((elem, k, rule))) % 2**32)
    x = _operands(rng, (4, 32, 64), 1.0) * np.exp2(rng.integers(-30, 30, (4, 32, 1)))
    x[0, 1, :8] = np.array([0.5, 1.5, 2.5, 0.25, 3.0, 6.0, 448.0, 464.0], dtype=np.float32)
    x[0, 2, :] = np.float32(2.0**-140) * np.arange(-32, 32)
    x[0, 3, :] = -np.float32(2.0**-30) * rng.random(64).astype(np.float32)
    x[0, 3, 0] = 1.0  # the rest of the block rounds to -0
    x64 = rng.standard_normal((3, 32, 64)) * np.exp2(rng.integers(-20, 20, (3, 32, 1)))
    big = x.copy()
    big[1, 1, 3] = np.float32(2.0**110)
    bad = x.copy()
    bad[2, 2, 2], bad[3, 0, 0] = np.nan, -np.inf
    for axis in (-1, 1):
        for v in (x, x64, big, bad):
            ref_t = mx_quantize(v, elem, k, axis=axis, scale_rule=rule)
            ref = ref_t.values
            assert same(mx_values(v, elem, k, axis, rule), ref).all(), axis
            got_t = mx_quantize_fast(v, elem, k, axis, rule)  # the whole MXTensor, bit for bit
            assert same(got_t.elements, ref_t.elements).all() and got_t.elements.shape == ref_t.elements.shape
            assert np.array_equal(got_t.scale_exp, ref_t.scale_exp) and got_t.scale_exp.dtype == ref_t.scale_exp.dtype
            assert (got_t.elem, got_t.k, got_t.axis, got_t.scale_rule) == (ref_t.elem, ref_t.k, ref_t.axis, ref_t.scale_rule)
        got32 = mx_values(x.astype(np.float32), elem, k, axis, rule, out32=True)
        assert same(got32.astype(np.float64), mx_quantize(x, elem, k, axis=axis, scale_rule=rule).values).all()


@pytest.mark.parametrize("elem", ["E4M3", "E5M2", "E2M1", "E3M2", "E2M3"])
@pytest.mark.parametrize("k", [2, 4, 16])
def test_mx_values_f32_direct_into_band_equals_mx_quantize(elem, k):
    """golden.fastsum.mx_values_f32 (the compiled loop) == mx_quantize(...).values bit for bit, as a new
    array and written into a band of a larger array (strided rows); None for blocks at or above 2^100 /
    NaN; a clear error for an `out` of the wrong shape or layout."""
    from golden.fastsum import mx_values_f32

    rng = np.random.default_rng(abs(hash((elem, k))) % 2**32)
    x = (_operands(rng, (2, 3, 16, 32), 1.0) * np.exp2(rng.integers(-30, 30, (2, 3, 16, 1)))).astype(np.float32)
    x[0, 0, 0, :8] = np.array([0.5, 1.5, 2.5, 0.25, 3.0, 6.0, 448.0, 464.0], dtype=np.float32)
    x[0, 0, 1] = np.float32(2.0**-140) * np.arange(-16, 16)  # subnormal block maxima
    ref = mx_quantize(x.astype(np.float64), elem, k, axis=-1).values
    assert same(mx_values_f32(x, elem, k).astype(np.float64), ref).all()
    big = np.full((2, 3, 20, 48), 7.0, dtype=np.float32)
    band = big[:, :, 2:18, :32]
    assert mx_values_f32(x, elem, k, out=band) is band
    assert same(band.astype(np.float64), ref).all()
    assert (big[:, :, :2] == 7).all() and (big[:, :, 18:] == 7).all() and (big[..., 32:] == 7).all()
    for v in (np.float32(2.0**100), np.float32(np.nan)):
        y = x.copy()
        y[1, 2, 3, 4] = v
        assert mx_values_f32(y, elem, k) is None
    with pytest.raises(ValueError, match="parameter 'out'"):
        mx_values_f32(x, elem, k, out=np.empty((2, 3, 16, 64), np.float32)[..., ::2])
    with pytest.raises(ValueError, match="parameter 'x'"):
        mx_values_f32(x.astype(np.float64), elem, k)


def test_mx_values_bad_input():
    from golden.fastsum import mx_values

    with pytest.raises(ValueError, match="'k' .* must divide"):
        mx_values(np.ones((2, 10)), "E4M3", 4)
    with pytest.raises(ValueError, match="parameter 'scale_rule'"):
        mx_values(np.ones((2, 8)), "E4M3", 4, scale_rule="floor")
    with pytest.raises(ValueError, match="parameter 'elem'"):
        mx_values(np.ones((2, 8)), "E9M99", 4)


# ---------------------------------------------------------------------- exact accumulation engines
ENGINE_ACCS = ("FP32", "E5M3-ieee", "E4M3", "E5M2", "E2M1", "E3M2", "E4M3-ieee")
SCHEMES = ("naive", "kahan", "neumaier", "twosum", "fasttwosum", "klein")


def _adversarial(rng, rows: int, n: int, acc: str) -> np.ndarray:
    """Rows of float64 elements that stress an accumulator in `acc`: values on the format's own grid
    (sums land on ties), wide dynamic range, cancellation (x, -x and big + small - big), values near
    max (saturation / overflow to Inf / NaN), subnormals (of acc and of float32), zeros of both signs,
    and a few Inf / NaN rows."""
    from golden.formats import all_values

    f = parse_format(acc)
    x = np.empty((rows, n))
    kinds = rng.integers(0, 7, rows)
    for r in range(rows):
        kd = kinds[r]
        if kd == 0:  # wide range
            x[r] = rng.standard_normal(n) * np.exp(rng.uniform(-25, 25, n))
        elif kd == 1 and f.bits <= 16:  # the format's own values: ties everywhere
            v = all_values(f)
            v = v[np.isfinite(v)]
            x[r] = rng.choice(v, n)
        elif kd == 1:  # FP32 values with short significands: sums hit ties
            x[r] = rng.integers(-64, 64, n) * np.exp2(rng.integers(-3, 3, n)) * 2.0**rng.integers(-20, 20)
        elif kd == 2:  # cancellation
            base = rng.standard_normal(n) * 2.0 ** rng.integers(-5, 5)
            x[r] = np.where(np.arange(n) % 2, -np.roll(base, 1), base)
            x[r, :3] = [f.max_value / 4, 1.0, -f.max_value / 4][: min(3, n)]
        elif kd == 3:  # near max: saturation / Inf / NaN on overflow
            x[r] = f.max_value * rng.uniform(0.3, 1.0, n) * rng.choice([-1.0, 1.0, 1.0], n)
        elif kd == 4:  # subnormals of acc and of float32
            x[r] = rng.integers(-8, 8, n) * f.min_subnormal * rng.choice([1.0, 0.5, 1.5, 2.0**-149 / f.min_subnormal], n)
        elif kd == 5:  # zeros of both signs and a few tiny values
            x[r] = rng.choice([0.0, -0.0, -0.0, f.min_subnormal, -f.min_subnormal], n)
        else:
            x[r] = rng.standard_normal(n)
    x = x.astype(np.float32).astype(np.float64)  # what quant/ feeds; the float64 case is tested below
    if rows > 6:
        x[0] = -0.0
        x[1, 0] = np.nan
        x[2, -1] = np.inf
        x[3, 0], x[3, -1] = np.inf, -np.inf
    return x


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # golden's reference on Inf / NaN rows
@pytest.mark.parametrize("acc", ENGINE_ACCS)
@pytest.mark.parametrize("order", ["sequential", "pairwise"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_engine_accumulate_values_equals_golden(acc, order, scheme):
    """accumulate_values on the exact engines (float32 arithmetic for FP32, golden-built tables for
    narrow formats) == golden.accumulate bit for bit, on adversarial rows of several lengths."""
    rng = np.random.default_rng(abs(hash((acc, order, scheme))) % 2**32)
    for n in (1, 2, 5, 33, 128):
        x = _adversarial(rng, 60, n, acc)
        got = accumulate_values(x, scheme, acc, None, order)
        ref = accumulate(x, scheme, acc, None, order).value
        assert same(got, ref).all(), (acc, order, scheme, n, np.argwhere(~same(got, ref))[:3])
    x64 = rng.standard_normal((20, 9)) * np.exp(rng.uniform(-30, 30, (20, 9)))  # not float32 values
    assert same(accumulate_values(x64, scheme, acc, acc, order), accumulate(x64, scheme, acc, None, order).value).all()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # golden's reference on Inf / NaN rows
def test_engine_tables_and_paths(monkeypatch):
    """The engines answer without golden.accumulate where they apply (FP32; <= 9-bit formats, comp = acc);
    other combinations (comp != acc, BF16, FP16) fall back to golden.accumulate and still agree."""
    import golden.fastsum as fs

    assert isinstance(fs._arith(parse_format("FP32"), None), fs._F32Arith)
    assert isinstance(fs._arith(parse_format("E5M3-ieee"), parse_format("E5M3-ieee")), fs._TableArith)
    for acc, comp in (("BF16", None), ("FP16", None), ("FP32", "BF16"), ("E5M3-ieee", "FP32")):
        assert fs._arith(parse_format(acc), None if comp is None else parse_format(comp)) is None
    assert fs._arith(parse_format("FP32").with_overflow("saturate"), None) is None  # not IEEE float32 semantics
    rng = np.random.default_rng(9)
    x = _adversarial(rng, 40, 17, "E5M3-ieee")
    refs = {a: accumulate(x, "kahan", a).value for a in ("FP32", "E5M3-ieee")}
    ref_c = accumulate(x, "neumaier", "E5M3-ieee", "FP32").value

    def boom(*a, **k):
        raise AssertionError("reference called")

    monkeypatch.setattr(fs, "accumulate", boom)
    for a, r in refs.items():
        assert same(fs.accumulate_values(x, "kahan", a), r).all()
    monkeypatch.undo()
    assert same(fs.accumulate_values(x, "neumaier", "E5M3-ieee", "FP32"), ref_c).all()


def _products_reference(a, b, scheme, acc, comp, order):
    return accumulate(a[..., :, None, :] * np.swapaxes(b, -1, -2)[..., None, :, :], scheme, acc, comp, order).value


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # golden's reference on Inf / NaN rows
@pytest.mark.parametrize("acc", ["FP32", "E5M3-ieee", "E4M3", "BF16"])
@pytest.mark.parametrize("scheme", SCHEMES + ("kulisch",))
def test_product_sum_values_equals_golden(acc, scheme):
    """product_sum_values == golden.accumulate of the float64 products: float32 operands (FP32: float32
    multiplies), products overflowing FP32 and underflowing into its subnormals, NaN, zeros of both
    signs, float64 (non-float32) operands, broadcast leading axes, both orders."""
    from golden.fastsum import product_sum_values

    rng = np.random.default_rng(abs(hash((acc, scheme))) % 2**32)
    a = _operands(rng, (2, 5, 24), 1.0)
    b = _operands(rng, (1, 24, 6), 1.0)
    a[0, 0, :4] = [1e20, -1e20, 3e19, 1.0]  # products beyond FP32's max
    b[0, :4, 0] = [1e20, 1e20, -2e19, 0.0]
    a[0, 1, :3] = [1e-30, -3e-25, 7e-38]  # products in FP32's subnormal range
    b[0, :3, 1] = [1e-10, 2e-20, 1e-3]
    a[1, 2, 5] = np.nan
    a[1, 3] = -0.0
    a = a.astype(np.float32).astype(np.float64)
    b = b.astype(np.float32).astype(np.float64)
    for order in ("sequential", "pairwise"):
        got = product_sum_values(a, b, scheme, acc, None, order)
        assert got.shape == (2, 5, 6)
        assert same(got, _products_reference(a, b, scheme, acc, None, order)).all(), order
    a64 = rng.standard_normal((3, 7)) * 1e3  # not float32 values: float64 products rounded by the engine
    b64 = rng.standard_normal((7, 4))
    assert same(product_sum_values(a64, b64, scheme, acc), _products_reference(a64, b64, scheme, acc, None, "sequential")).all()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # golden's reference on Inf / NaN rows
@pytest.mark.parametrize("elem, k", [("E4M3", 32), ("E4M3", 4), ("E2M1", 8), ("INT8", 4), ("E5M2", 4), ("FP16", 4)])
@pytest.mark.parametrize("acc", ["FP32", "E5M3-ieee", "BF16"])
@pytest.mark.parametrize("scheme", ["naive", "kahan", "klein", "kulisch"])
def test_mx_dot_values_equals_golden(elem, k, acc, scheme):
    """mx_dot_values == accumulate of golden's block values (reference_block_matmul), with zero, -0,
    NaN and saturating blocks; FP16 / E5M2 elements (block sums not exact in float64) take the fallback."""
    from golden.fastsum import mx_dot_values

    rng = np.random.default_rng(abs(hash((elem, k, acc, scheme))) % 2**32)
    K = 8 * k if k < 32 else 64
    A = _operands(rng, (2, 3, K), 4.0)
    B = _operands(rng, (1, K, 5), 0.5)
    A[0, 1, :k] = 0.0
    B[0, :k, 2] = -0.0
    A[1, 2, -1] = np.nan
    A[0, 0] *= 2.0**100  # block values beyond the narrow accumulators' range
    ta = mx_quantize(A, elem, k, axis=-1)
    tb = mx_quantize(B, elem, k, axis=-2)
    ref_blocks = reference_block_matmul(ta, tb, parse_format(acc))
    for order in ("sequential", "pairwise"):
        got = mx_dot_values(ta, tb, scheme, acc, None, order)
        ref = accumulate(ref_blocks, scheme, acc, None, order).value
        assert same(got, ref).all(), (order, np.argwhere(~same(got, ref))[:3])


def _tie_points(f) -> np.ndarray:
    """Every midpoint between neighbouring finite values of f (and one ulp of float32 either side),
    the values themselves, and the overflow threshold max + ulp/2: where RNE decisions change."""
    from golden.formats import all_values

    v = np.unique(all_values(f)[np.isfinite(all_values(f))])
    mid = (v[:-1] + v[1:]) / 2
    top = f.max_value + (f.max_value - v[-2]) / 2
    pts = np.concatenate([v, mid, [top, -top]])
    pts32 = pts.astype(np.float32)
    return np.concatenate([pts32, np.nextafter(pts32, np.float32(np.inf)), np.nextafter(pts32, np.float32(-np.inf))])


@pytest.mark.parametrize("elem", ELEMS + ("E5M3-ieee", "E4M3-ieee"))
def test_f32_rounding_lookup_equals_goldens_rounder(elem):
    """The float32 rounding table (golden's rounder on one representative per key) == golden's rounder:
    every tie point of the format +-1 float32 ulp, and 2^20 random float32 bit patterns (all
    exponents: subnormals and Inf included; NaN is outside the lookup's domain)."""
    import golden.fastsum as fs
    from golden.formats import rounder

    f = parse_format(elem)
    sat = f if f.overflow == "saturate" or f.is_int else f.with_overflow("saturate")
    rng = np.random.default_rng(abs(hash(elem)) % 2**32)
    rnd = rng.integers(0, 2**32, 2**20, dtype=np.uint64).astype(np.uint32).view(np.float32)
    rnd = rnd[~np.isnan(rnd)]  # the lookup's precondition (mx_values sends NaN blocks to golden itself)
    for y in (_tie_points(f), rnd):
        got = fs._round_f32_lookup(y, sat).astype(np.float64)
        with np.errstate(all="ignore"):
            ref = rounder(sat)(y.astype(np.float64))
        assert same(got, ref).all(), (elem, y[~same(got, ref)][:3])


@pytest.mark.parametrize("acc", ["E5M3-ieee", "E4M3", "E5M2", "E2M1", "E3M2", "E4M3-ieee"])
def test_table_engine_rounding_equals_goldens_rounder(acc):
    """The table engine's float64 -> code rounding (lookup on the top bits + sticky) decodes to golden's
    rounder: tie points +-1 float64 ulp, 2^20 random float64 bit patterns (NaN payloads, Inf,
    subnormals), and the addition / subtraction tables on every pair of codes."""
    import golden.fastsum as fs
    from golden.formats import round_to

    f = parse_format(acc)
    ar = fs._arith(f, None)
    rng = np.random.default_rng(abs(hash(acc)) % 2**32)
    ties = _tie_points(f).astype(np.float64)
    ties = np.concatenate([ties, np.nextafter(ties, np.inf), np.nextafter(ties, -np.inf)])
    rnd = rng.integers(0, 2**64, 2**20, dtype=np.uint64).view(np.float64)
    for x in (ties, rnd):
        with np.errstate(all="ignore"):
            assert same(ar.dec(ar.enc(x)), round_to(x, f)).all()
    v = ar.vals
    with np.errstate(all="ignore"):
        assert same(ar.dec(ar.add_t), round_to((v[:, None] + v[None, :]).reshape(-1), f)).all()
        assert same(ar.dec(ar.sub_t), round_to((v[:, None] - v[None, :]).reshape(-1), f)).all()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # golden's reference on Inf / NaN rows
@pytest.mark.parametrize("elem, k", [("E4M3", 32), ("E4M3", 4), ("E2M1", 8), ("E5M2", 2), ("INT8", 16), ("FP16", 4)])
@pytest.mark.parametrize("acc", ["FP32", "E5M3-ieee", "E4M3"])
@pytest.mark.parametrize("scheme", ["naive", "kahan", "neumaier", "twosum", "fasttwosum", "klein"])
def test_mx_matmul_values_equals_golden(elem, k, acc, scheme):
    """mx_matmul_values(A, B) == golden's MX dot products of mx_quantize(A) and mx_quantize(B) (block values
    one (row, column) pair at a time, accumulated by golden.accumulate), on float32-valued and float64
    operands, broadcast leading axes, zero / -0 blocks, blocks beyond the narrow accumulators' range, and
    a NaN and an Inf input (the fallback); the compiled path for short (k < 8) and matmul (k >= 8) blocks."""
    from golden.fastsum import mx_matmul_values

    rng = np.random.default_rng(abs(hash((elem, k, acc, scheme))) % 2**32)
    K = 8 * k if k < 32 else 64
    for case in ("finite", "float64", "nan"):
        A = _operands(rng, (2, 3, K), 4.0)
        B = _operands(rng, (1, K, 5), 0.5)
        A[0, 1, :k] = 0.0
        B[0, :k, 2] = -0.0
        A[0, 2, :k] = -0.0  # a block of -0 products (with the positive block of column 3): the sum is +0
        B[0, :k, 3] = np.abs(B[0, :k, 3]) + 0.25
        A[1, 0] *= 2.0**40  # block values beyond the narrow accumulators' range
        if case == "float64":
            A = A * (1 + 1e-12)
        if case == "nan":
            A[1, 2, -1] = np.nan
            B[0, 0, 4] = np.inf
        ta = mx_quantize(A, elem, k, axis=-1)
        tb = mx_quantize(B, elem, k, axis=-2)
        ref = accumulate(reference_block_matmul(ta, tb, parse_format(acc)), scheme, acc).value
        got = mx_matmul_values(A, np.swapaxes(np.swapaxes(B, -1, -2).copy(), -1, -2), elem, elem, k, scheme, acc)
        assert got.shape == (2, 3, 5)
        assert same(got, ref).all(), (case, np.argwhere(~same(got, ref))[:3])


@pytest.mark.parametrize("k", [4, 32])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mx_values_compiled_row_blocks(k, dtype):
    """The compiled MX loop told that rows are zero past a block limit (causal P) gives golden's MX
    values bit for bit, zeros of both signs included, without quantising those blocks; a limit that is
    wrong (a non-zero or NaN element there) is reported as such, and a NaN before the limit or a
    non-float32 value still hands over to the other paths."""
    import golden.fastsum as fs

    f = parse_format("E4M3")
    rng = np.random.default_rng(k)
    M, nb = 40, 5
    x = _operands(rng, (2, 3, M, nb * k), 2.0).astype(np.float32).astype(dtype)
    lim = rng.integers(0, nb + 2, M)  # 0: all zero; > nb: no zero block
    zero = np.arange(nb * k)[None, :] >= np.minimum(lim, nb)[:, None] * k
    x[..., zero] = 0.0
    x[1, 2, zero] = -0.0
    got = fs._mx_values_compiled(x, f, k, -1, "ocp", row_blocks=lim)
    assert same(got, mx_quantize(x, f, k, axis=-1).values).all()
    i = int(np.flatnonzero(lim < nb)[0])
    for bad in (1e-3, np.nan):
        y = x.copy()
        y[0, 1, i, -1] = bad
        assert fs._mx_values_compiled(y, f, k, -1, "ocp", row_blocks=lim) is fs._CLAIM_FALSE
    y = x.copy()
    y[0, 0, int(np.flatnonzero(lim > 0)[0]), 0] = np.nan  # inside the quantised blocks: not this path
    assert fs._mx_values_compiled(y, f, k, -1, "ocp", row_blocks=lim) is None
    if dtype == np.float64:
        y = x.copy()
        y[1, 1, int(np.flatnonzero(lim > 0)[0]), 0] = 1 + 2.0**-40  # not a float32 value
        assert fs._mx_values_compiled(y, f, k, -1, "ocp", row_blocks=lim) is None


def test_mx_matmul_values_takes_the_compiled_path(monkeypatch):
    """Finite operands with an exact engine never build an MXTensor (mx_quantize_fast / mx_dot_values unused)."""
    import golden.fastsum as fs

    rng = np.random.default_rng(3)
    A, B = _operands(rng, (3, 4, 64), 1.0), _operands(rng, (3, 64, 6), 1.0)
    ref = fs.mx_matmul_values(A, B, "E4M3", "E4M3", 32, "kahan", "E5M3-ieee")

    def boom(*a, **kw):
        raise AssertionError("fallback called")

    monkeypatch.setattr(fs, "mx_quantize_fast", boom)
    monkeypatch.setattr(fs, "mx_dot_values", boom)
    assert same(fs.mx_matmul_values(A, B, "E4M3", "E4M3", 32, "kahan", "E5M3-ieee"), ref).all()
    for k in (4, 32):
        fs.mx_matmul_values(A, B, "E4M3", "E4M3", k, "naive", "FP32")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("k", [4, 32])
@pytest.mark.parametrize("acc", ["FP32", "E5M3-ieee"])
@pytest.mark.parametrize("scheme", ["naive", "kahan", "twosum", "klein"])
def test_mx_matmul_values_row_limits(k, acc, scheme):
    """row_blocks (rows of A zero past some block, as causal P) gives the full result bit for bit, on the
    compiled path (the zero blocks enter as +0 without being computed) and when the claim is false;
    row_cols gives the full result in the computed columns and 0 elsewhere, as product_sum_values."""
    from golden.fastsum import mx_matmul_values, product_sum_values

    rng = np.random.default_rng(abs(hash((k, acc, scheme))) % 2**32)
    M, nb, N = 70, 5, 9
    K = nb * k
    A = np.abs(_operands(rng, (2, M, K), 1.0))
    blocks = rng.integers(0, nb + 2, M)  # some rows all zero, some with no zero block
    if scheme != "naive":  # growing limits, as causal P: whole bands of rows (_BAND_ROWS) end before nb
        blocks = np.sort(np.minimum(blocks, nb)) - 1
        blocks[blocks < 0] = 0
        assert blocks[: 32].max() < nb - 1
    A[..., np.arange(K)[None, :] >= np.minimum(blocks, nb)[:, None] * k] = 0.0
    A[1, 3, -1] = -0.0 if blocks[3] < nb else A[1, 3, -1]
    B = _operands(rng, (2, K, N), 1.0)
    full = mx_matmul_values(A, B, "E4M3", "E4M3", k, scheme, acc)
    assert same(mx_matmul_values(A, B, "E4M3", "E4M3", k, scheme, acc, row_blocks=blocks), full).all()
    wrong = np.maximum(blocks - 1, 0)  # claims zeros where A is not zero: ignored
    assert same(mx_matmul_values(A, B, "E4M3", "E4M3", k, scheme, acc, row_blocks=wrong), full).all()
    cols = rng.integers(0, N + 1, M)
    keep = np.arange(N)[None, :] < cols[:, None]
    got = mx_matmul_values(A, B, "E4M3", "E4M3", k, scheme, acc, row_blocks=blocks, row_cols=cols)
    assert same(got[..., keep], full[..., keep]).all() and (got[..., ~keep] == 0).all()
    got = mx_matmul_values(A, B, "E4M3", "E4M3", k, scheme, acc, order="pairwise", row_cols=cols)  # fallback
    assert (got[..., ~keep] == 0).all()
    full_p = product_sum_values(A, B, scheme, acc)
    got_p = product_sum_values(A, B, scheme, acc, row_cols=cols)
    assert same(got_p[..., keep], full_p[..., keep]).all() and (got_p[..., ~keep] == 0).all()
    # a B shared by several A (leading axes broadcast, as one KV head's by its query heads): each A
    # gives what it gives alone
    A2 = np.stack([A, A * 0.5], axis=1)  # (2, 2, M, K): two A with the same zero blocks, one B each
    got = mx_matmul_values(A2, B[:, None], "E4M3", "E4M3", k, scheme, acc, row_blocks=blocks, row_cols=cols)
    assert got.shape == (2, 2, M, N)
    assert same(got[:, 0][..., keep], full[..., keep]).all() and (got[..., ~keep] == 0).all()
    for h in range(2):
        alone = mx_matmul_values(A2[:, h], B, "E4M3", "E4M3", k, scheme, acc, row_blocks=blocks, row_cols=cols)
        assert same(got[:, h], alone).all(), h
    with pytest.raises(ValueError, match="'row_cols'"):
        mx_matmul_values(A, B, "E4M3", "E4M3", k, scheme, acc, row_cols=cols[:-1])
    with pytest.raises(ValueError, match="'row_blocks'"):
        mx_matmul_values(A, B, "E4M3", "E4M3", k, scheme, acc, row_blocks=-blocks - 1)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("acc", ["E5M3-ieee", "FP32"])
@pytest.mark.parametrize("scheme", ["naive", "kahan", "neumaier", "twosum", "fasttwosum", "klein"])
def test_engine_zero_tail_equals_golden(acc, scheme):
    """The engine's +0 tail (row_t: elements past it are +0, stepped only until the state is a fixed
    point) == golden.accumulate with the zeros written out, on rows where the tail needs more than one
    step (checked to be present for Kahan in E5M3, so a tail cut short after one step fails here)."""
    import golden.fastsum as fs
    from golden.formats import all_values

    f = parse_format(acc)
    rng = np.random.default_rng(21)
    n, tail, rows = 6, 8, 20000
    if acc == "FP32":
        x = (rng.standard_normal((rows, n)) * np.exp(rng.uniform(-20, 20, (rows, n)))).astype(np.float32)
    else:
        v = all_values(f)
        x = rng.choice(v[np.isfinite(v)], (rows, n))
    x = x.astype(np.float64)
    full = np.concatenate([x, np.zeros((rows, tail))], axis=1)
    ref = accumulate(full, scheme, acc).value
    if acc == "E5M3-ieee" and scheme == "kahan":
        one = accumulate(full[:, : n + 1], scheme, acc).value
        assert (~same(one, ref)).any(), "no row needs more than one tail step: the test cannot fail"
    X = np.ones((1, n + tail, 1, rows))  # entries past row_t are not read: ones would be wrong
    X[0, :n, 0, :] = x.T
    got = fs._compiled_dot(None, None, 1, False, scheme, fs._arith(f, None), X=X, row_t=np.array([n]))[0, 0]
    assert same(got, ref).all(), np.argwhere(~same(got, ref))[:3]
    # the same tail when X holds only the first n elements and n_terms says how many there are (a band)
    got = fs._compiled_dot(None, None, 1, False, scheme, fs._arith(f, None), X=np.ascontiguousarray(X[:, :n]),
                           row_t=np.array([n]), n_terms=n + tail)[0, 0]
    assert same(got, ref).all(), np.argwhere(~same(got, ref))[:3]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("acc", ["FP32", "E4M3"])
def test_engine_values_many_rows(acc):
    """accumulate_values over more sums than one compiled call takes (_COMPILED_ROWS): every chunk, the
    last one partial, == golden.accumulate."""
    import golden.fastsum as fs

    rng = np.random.default_rng(4)
    x = _adversarial(rng, 6 * fs._COMPILED_ROWS + 74, 17, acc).reshape(2, -1, 17)  # 3.1 chunks per half
    for scheme in ("naive", "klein"):
        assert same(accumulate_values(x, scheme, acc), accumulate(x, scheme, acc).value).all()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("acc", ["FP32", "E5M3-ieee"])
@pytest.mark.parametrize("scheme", ["naive", "kahan", "neumaier", "twosum", "fasttwosum", "klein"])
def test_accumulate_values_row_lens(acc, scheme):
    """row_lens (rows +0 past a per-row length, as causal softmax numerators) gives golden.accumulate's
    result bit for bit: rows whose claim holds (runs of equal lengths, more rows than one compiled call
    takes), and runs where it does not (a non-zero past the length: summed in full)."""
    import golden.fastsum as fs

    rng = np.random.default_rng(abs(hash((acc, scheme))) % 2**32)
    M, n = fs._COMPILED_ROWS + 90, 24
    x = _adversarial(rng, 2 * M, n, acc).reshape(2, M, n)
    lens = np.sort(rng.integers(0, n + 3, M))  # runs of equal lengths, some past n
    x[..., np.arange(n)[None, :] >= lens[:, None]] = 0.0
    wrong = lens.copy()
    for i in np.searchsorted(lens, [5, 12, 20]):  # rows whose claim is broken
        wrong[i] = max(lens[i] - 2, 0)
    ref = accumulate(x, scheme, acc).value
    assert same(accumulate_values(x, scheme, acc, row_lens=lens), ref).all()
    assert same(accumulate_values(x, scheme, acc, row_lens=wrong), ref).all()
    with pytest.raises(ValueError, match="'row_lens'"):
        accumulate_values(x, scheme, acc, row_lens=lens[:-1])
    with pytest.raises(ValueError, match="'row_lens'"):
        accumulate_values(x[0, 0], scheme, acc, row_lens=lens[:1])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("acc", ["E5M3-ieee", "E4M3", "E5M2", "E3M2", "E2M1", "E5M3"])
def test_engine_arithmetic_rounding_is_golden_rounding(acc):
    """The compiled engine's branch-free rounding (golden.jit_engines.round_bits) is used for every
    table format (its construction check passed) and equals golden's rounder on random float64 values of
    every magnitude, ties, the format's own values and midpoints, subnormals, overflow, +-0, Inf and NaN;
    with one constant wrong the construction check rejects it and the engine keeps the table."""
    import golden.fastsum as fs
    from golden.formats import all_values
    from golden.jit_engines import round_bits_array

    f = parse_format(acc)
    ar = fs._TableArith(f)
    assert isinstance(ar.engine_rv, tuple)
    rng = np.random.default_rng(8)
    v = all_values(f)
    v = v[np.isfinite(v)]
    mids = (np.sort(v)[1:] + np.sort(v)[:-1]) / 2  # ties
    x = np.concatenate([rng.standard_normal(20000) * np.exp2(rng.uniform(-40, 40, 20000)), v, mids,
                        np.nextafter(mids, np.inf), np.nextafter(mids, -np.inf), [0.0, -0.0, np.inf, -np.inf, np.nan],
                        [f.max_value * 1.01, -f.max_value * 1.2, 1e300, 5e-324]])
    got = np.empty_like(x)
    round_bits_array(x, ar.engine_rv, got)
    assert same(got, round_to(x, f)).all(), x[~same(got, round_to(x, f))][:5]
    keys = np.arange(1 << (14 + f.m), dtype=np.uint64)  # one representative per key, as _TableArith's
    reps = (((keys >> np.uint64(1)) << ar.sh) | (keys & np.uint64(1))).view(np.float64)
    assert fs._rounds_like(ar.engine_rv, reps, ar.rnd_v)
    for i, wrong in ((3, f.max_value * 2), (2, np.uint64(((53 - f.m) << 52) | (1 << 51))),
                     (0, np.float64(2.0 ** (f.emin + 1)).view(np.int64)), (1, np.float64(2.0 ** (f.emax - 1)).view(np.int64))):
        p = list(ar.engine_rv)
        p[i] = wrong
        assert not fs._rounds_like(tuple(p), reps, ar.rnd_v), i


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("acc", ["E5M3-ieee", "E4M3", "E5M2", "E3M2", "E2M1", "E5M3", "E7M1", "E1M7"])
def test_engine_float32_state_rounding_is_golden_rounding(acc):
    """The float32 state of a narrow format (golden.jit_engines.round_f32) is chosen for every table
    format whose values are float32 values, and rounds the float32 sum and difference of every pair of
    the format's values (NaN, +-Inf, +-0 included) as golden's rounder rounds their exact float64 sum and
    difference; with one constant wrong the construction check rejects it."""
    import golden.fastsum as fs
    from golden.formats import all_values
    from golden.jit_engines import round_f32_array

    f = parse_format(acc)
    ar = fs._TableArith(f)
    assert ar.engine_rv32 is not None and ar.engine_rv32[0] is ar.engine_rv
    v = np.append(all_values(f), np.nan)
    v32 = v.astype(np.float32)
    for op in (np.add, np.subtract):
        with np.errstate(all="ignore"):
            x32 = op(v32[:, None], v32[None, :]).reshape(-1)
            want = round_to(op(v[:, None], v[None, :]).reshape(-1), f)
        got = np.empty_like(x32)
        round_f32_array(x32, ar.engine_rv32[1], got)
        ok = same(got.astype(np.float64), want)
        assert ok.all(), (op.__name__, x32[~ok][:5], got[~ok][:5], want[~ok][:5])
    q = ar.engine_rv32[1]
    for i, wrong in ((0, np.uint32(((24 - f.m) << 23) | 0x400000)), (1, np.float32(f.max_value * 2)),
                     (2, np.float32(-f.max_value).view(np.uint32))):
        p = list(q)
        p[i] = wrong
        assert not fs._rounds_pairs_like(tuple(p), ar.vals, ar.add_t, ar.sub_t), i


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_engine_float32_state_not_taken_beyond_float32():
    """A 9-bit format whose values leave float32's range (E8M0: up to 2^128) is not held as float32, and
    its engine still equals golden."""
    import golden.fastsum as fs

    f = parse_format("E8M0")
    assert fs._round_params_f32(f) is None and fs._TableArith(f).engine_rv32 is None
    x = np.random.default_rng(3).standard_normal((30, 20)) * np.exp2(np.random.default_rng(4).integers(-140, 140, (30, 20)))
    for scheme in ("naive", "kahan"):
        assert same(accumulate_values(x, scheme, f), accumulate(x, scheme, f).value).all()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("acc", ["E5M3-ieee", "E4M3", "E2M1"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_engine_float32_state_equals_float64_state(monkeypatch, acc, scheme):
    """The engine with the float32 state == the engine with the float64 state bit for bit, and both ==
    golden: plain sums of adversarial rows (with the +0 tail of row limits) and MX products with k = 4
    (block sums inside the loop) and k = 16 (block sums from the matmul)."""
    import golden.fastsum as fs

    rng = np.random.default_rng(abs(hash((acc, scheme, "f32"))) % 2**32)
    f = parse_format(acc)
    x = _adversarial(rng, 40, 37, acc)
    lens = rng.integers(0, 38, 40)
    xl = np.where(np.arange(37) < lens[:, None], x, 0.0)  # zeros past each row's length: row_lens' claim
    # P-like rows (zeros past a causal limit, told by row_blocks) times V-like columns, one of them negative
    a = np.tril(rng.random((3, 40, 64)) * np.exp2(rng.integers(-12, 4, (3, 40, 1))), 23)
    b = rng.standard_normal((3, 64, 5))
    b[0, :, 0] = -np.abs(b[0, :, 0])

    def run():
        out = [accumulate_values(x, scheme, acc), accumulate_values(xl, scheme, acc, row_lens=lens)]
        for k in (4, 16):
            rb = (np.minimum(np.arange(40) + 24, 64) + k - 1) // k
            out.append(mx_matmul_values(a, b, "E4M3", "E4M3", k, scheme, acc, row_blocks=rb))
        return out

    ar = fs._arith(f, None)
    assert ar.engine_rv32 is not None
    got32 = run()
    monkeypatch.setattr(ar, "engine_rv32", None)
    got64 = run()
    monkeypatch.undo()
    ref = [accumulate(x, scheme, acc).value, accumulate(xl, scheme, acc).value]
    ref += [mx_matmul_values(a, b, "E4M3", "E4M3", k, scheme, acc) for k in (4, 16)]  # (no row limits)
    for g32, g64 in zip(got32, got64):
        assert same(g32, g64).all()
    for g, r in zip(got32, ref):
        assert same(g, r).all()


@pytest.mark.parametrize("acc", ["FP32", "E5M3-ieee"])
def test_accumulate_values_no_sums(acc):
    """No sums at all (a zero-length batch axis, or no rows) gives an empty result of the batch shape."""
    assert accumulate_values(np.zeros((0, 7)), "kahan", acc).shape == (0,)
    assert accumulate_values(np.zeros((3, 0, 7)), "naive", acc).shape == (3, 0)
    assert accumulate_values(np.zeros((2, 0, 5)), "naive", acc, row_lens=np.zeros(0, np.int64)).shape == (2, 0)


@pytest.mark.parametrize("acc", ["FP32", "E5M3-ieee"])
@pytest.mark.parametrize("k", [4, 32])
def test_matmuls_of_empty_operands(acc, k):
    """mx_matmul_values and product_sum_values with no batch, no rows or no columns return an empty
    result of the right shape (as golden's mx_quantize does for empty input), not a reshape error."""
    from golden.fastsum import mx_matmul_values, product_sum_values

    for sa, sb in [((0, 4, 64), (0, 64, 5)), ((2, 0, 64), (2, 64, 5)), ((2, 4, 64), (2, 64, 0))]:
        want = (sa[0], sa[1], sb[2])
        assert mx_matmul_values(np.ones(sa), np.ones(sb), "E4M3", "E4M3", k, "kahan", acc).shape == want
        assert product_sum_values(np.ones(sa), np.ones(sb), "naive", acc).shape == want

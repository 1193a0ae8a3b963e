"""quant.fused (the compiled softmax-numerator passes of the statistical kernel) against the numpy
formulation they replace, bit for bit: masked max, 0 for non-finite maxima, float64 shift, numpy's
exp, float32 store and the row maxima with NaN propagation."""

from __future__ import annotations

import numpy as np
import pytest

from golden.fastsum import round_fp32
from quant.fused import divide_fp32_inplace, scale_fp32_inplace, softmax_shift, softmax_store


def numpy_numerators(s: np.ndarray, masked: np.ndarray):
    """The numpy passes: masked scores -> -inf, m = row max (0 where not finite), d = s - m in float64,
    exp, FP32 store, row maxima."""
    sb = np.array(s)
    np.copyto(sb, np.float32(-np.inf), where=np.broadcast_to(masked, sb.shape))
    m = np.max(sb, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        d = np.subtract(sb, m, dtype=np.float64)
        np.exp(d, out=d)
    e = d.astype(np.float32)
    return e, np.max(e, axis=-1)


def fused_numerators(s: np.ndarray, masked: np.ndarray, e_out: np.ndarray, emax_out: np.ndarray):
    d = np.empty(s.shape)
    softmax_shift(s, masked, d)
    with np.errstate(over="ignore", invalid="ignore"):
        np.exp(d, out=d)
    softmax_store(d, e_out, emax_out)


def bits(a):
    return np.ascontiguousarray(a).view(np.uint8 if a.dtype == bool else (np.uint32 if a.dtype == np.float32 else np.uint64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mask_shape", ["full", "broadcast"])
def test_fused_numerators_equal_numpy(dtype, mask_shape):
    rng = np.random.default_rng(7)
    B, H, R, L = 2, 3, 40, 64
    s = (rng.standard_normal((B, H, R, L)) * 30).astype(dtype)
    s[0, 0, 1, 5] = np.nan  # an allowed NaN: m -> 0, NaN numerator, NaN row max
    s[0, 1, 2, :] = -np.inf  # every allowed score -inf
    s[1, 2, 3, 7] = np.inf  # an allowed +inf
    s[1, 0, 4, :] = 1e30 if dtype == np.float32 else 1e300
    s[1, 1, 5, 9] = -1e38 if dtype == np.float32 else -1e300
    causal = np.tril(np.ones((R, L), bool), 20)
    if mask_shape == "full":
        masked = np.broadcast_to(~causal, (B, H, R, L)).copy()
        masked[0, 2, 6, :] = True  # a row without any allowed key
        masked[1, 1, 1, 3] = False
        masked[0, 0, 1, 5] = False
    else:
        masked = ~causal[None, None]
    emax_out = np.full((B, H, R + 4), np.float32(9))
    band = np.zeros((B, H, R + 8, L + 32), np.float32)
    e_band = band[..., 4 : 4 + R, :L]
    fused_numerators(s, masked, e_band, emax_out[..., 2 : 2 + R])
    e_ref, emax_ref = numpy_numerators(s, masked)
    assert np.array_equal(bits(e_band), bits(e_ref))
    assert np.array_equal(bits(emax_out[..., 2 : 2 + R]), bits(emax_ref))
    assert (emax_out[..., :2] == 9).all() and (emax_out[..., 2 + R :] == 9).all()  # only its rows
    assert not band[..., :4, :].any() and not band[..., 4 + R :, :].any() and not band[..., L:].any()
    assert np.isnan(e_band[0, 0, 1, 5]) and np.isnan(emax_out[0, 0, 2 + 1])  # the NaN case is present


def test_fused_numerators_can_fail():
    """The comparison sees a one-ulp change."""
    rng = np.random.default_rng(8)
    s = rng.standard_normal((1, 2, 8, 16)).astype(np.float32)
    masked = ~np.tril(np.ones((8, 16), bool))[None, None]
    e, emax = np.empty(s.shape, np.float32), np.empty(s.shape[:-1], np.float32)
    fused_numerators(s, masked, e, emax)
    e_ref, _ = numpy_numerators(s, masked)
    e_ref[0, 1, 3, 2] = np.nextafter(e_ref[0, 1, 3, 2], np.float32(np.inf))
    assert not np.array_equal(bits(e), bits(e_ref))


def _awkward(rng, shape) -> np.ndarray:
    """float64 values whose FP32 rounding is awkward: beyond FP32's range, in its subnormals, ties,
    zeros of both signs, Inf and NaN."""
    x = rng.standard_normal(shape) * np.exp2(rng.integers(-160, 140, shape))
    flat = x.reshape(-1)
    flat[:8] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1 + 2.0**-24, 1 + 3 * 2.0**-24, 2.0**-149 * 1.5]
    return x


@pytest.mark.parametrize("scale", [1.0, 0.125, 0.1, -3.0])
def test_scale_fp32_inplace_equals_numpy(scale):
    """scale_fp32_inplace(x, c) == FP32(x * c) computed by numpy and golden's FP32 rounding, bit for bit."""
    rng = np.random.default_rng(11)
    x = _awkward(rng, (2, 3, 17, 33))
    ref = round_fp32(x * scale).astype(np.float64)
    got = x.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        scale_fp32_inplace(got, scale)
    assert np.array_equal(bits(got), bits(ref))
    with pytest.raises(ValueError, match="'x'"):
        scale_fp32_inplace(x.astype(np.float32), scale)


def test_divide_fp32_inplace_equals_numpy():
    """divide_fp32_inplace(e, d) == FP32(e / d[..., None]) by numpy, bit for bit, with zero, -0, Inf and
    NaN denominators."""
    rng = np.random.default_rng(12)
    e = _awkward(rng, (2, 3, 17, 33))
    d = _awkward(rng, (2, 3, 17))
    with np.errstate(all="ignore"):
        ref = round_fp32(e / d[..., None]).astype(np.float64)
        got = e.copy()
        divide_fp32_inplace(got, d)
    assert np.array_equal(bits(got), bits(ref))
    with pytest.raises(ValueError, match="'denom'"):
        divide_fp32_inplace(e, d[..., :3])

"""quant.kernels (exact mode) against golden/, bit for bit, on random tensors.

The reference below is written from golden's public per-matrix / per-row functions (mx_matmul,
mx_quantize, accumulate, round_to) one head and one row at a time, following the stage contract in
docs/quant.md; the kernels are vectorised over heads and rows, use a batched float64 matmul for block
sums, a float64 sum for narrow Kulisch accumulators, padding and chunking."""

from __future__ import annotations

import numpy as np
import pytest

from golden.accumulate import ORDERS, SCHEMES, accumulate
from golden.formats import FP32, parse_format, round_to
from golden.mx import mx_matmul, mx_quantize
from quant import kernels
from quant.config import AccSpec, AttnConfig, StageFormat

ELEM_FORMATS = ("E4M3", "E5M2", "E3M2", "E2M3", "E2M1", "INT8", "INT4", "E3M4-ieee", "FP16")


def bits_equal(a, b) -> bool:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    nan = np.isnan(a) & np.isnan(b)
    return bool(np.all(nan | (a.view(np.int64) == b.view(np.int64))))


def rand32(rng, shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32).astype(np.float64)


# ---------------------------------------------------------------------- the reference
def ref_dot(a, b, st: StageFormat, spec: AccSpec):
    """a (M, K) @ b (K, N) by golden: mx_matmul (K zero-padded to a multiple of k) or accumulate of products."""
    acc, comp = parse_format(spec.acc), None if spec.comp is None else parse_format(spec.comp)
    if st.elem == "none":
        return accumulate(a[:, None, :] * b.T[None, :, :], spec.scheme, acc, comp, spec.order).value
    pad = (-a.shape[1]) % st.k
    a = np.pad(a, ((0, 0), (0, pad)))
    b = np.pad(b, ((0, pad), (0, 0)))
    return mx_matmul(a, b, st.elem, st.elem, st.k, spec.scheme, acc, comp, spec.order, st.scale_rule)


def ref_attention(q, k, v, scaling, cfg: AttnConfig):
    B, H, S, D = q.shape
    out = np.empty_like(q)
    for b in range(B):
        for h in range(H):
            s = round_to(ref_dot(q[b, h], k[b, h].T, cfg.qk, cfg.acc_qk) * scaling, FP32)
            p = np.zeros((S, S))
            for i in range(S):
                row = np.where(np.arange(S) <= i, s[i], 0.0)
                if cfg.scores.elem != "none":
                    kk = cfg.scores.k
                    padded = np.pad(row, (0, (-S) % kk))
                    row = mx_quantize(padded, cfg.scores.elem, kk, scale_rule=cfg.scores.scale_rule).values[:S]
                m = row[: i + 1].max()
                e = np.zeros(S)
                e[: i + 1] = round_to(np.exp(row[: i + 1] - m), FP32)
                sp = cfg.acc_sum
                den = accumulate(e, sp.scheme, sp.acc, sp.comp, sp.order).value
                p[i] = round_to(e / den, FP32)
            out[b, h] = ref_dot(p, v[b, h], cfg.pv, cfg.acc_pv)
    return out


def causal(S):
    return (np.arange(S)[None, :] <= np.arange(S)[:, None])[None, None]


# ---------------------------------------------------------------------- dot products
@pytest.mark.parametrize("elem", ELEM_FORMATS)
@pytest.mark.parametrize("k", [1, 4, 32])
def test_mx_dot_matches_golden_every_format_and_k(elem, k):
    rng = np.random.default_rng(hash((elem, k)) % 2**32)
    a = rand32(rng, (2, 5, 64), 3.0)
    b = rand32(rng, (2, 64, 7), 0.5)
    a[0, 1, :8] *= 1e3  # a block with a wide range
    st = StageFormat(elem, k)
    spec = AccSpec("naive", "FP32")
    got = kernels.dot_exact(a, b, st, spec)
    for i in range(2):
        assert bits_equal(got[i], ref_dot(a[i], b[i], st, spec)), (elem, k, i)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("acc", ["FP32", "BF16", "E5M3-ieee"])
def test_dot_matches_golden_every_scheme(scheme, order, acc):
    rng = np.random.default_rng(7)
    a = rand32(rng, (3, 40))
    b = rand32(rng, (40, 6))
    for st in (StageFormat("none"), StageFormat("E4M3", 8), StageFormat("E2M1", 4)):
        spec = AccSpec(scheme, acc, None, order)
        got = kernels.dot_exact(a[None], b[None], st, spec)[0]
        assert bits_equal(got, ref_dot(a, b, st, spec)), (scheme, order, acc, st)


@pytest.mark.parametrize("acc", ["E5M3-ieee", "E4M3", "BF16", "FP32", "FP16"])
def test_kulisch_fast_path_equals_golden(acc):
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.standard_normal((50, 300)) * 10, rng.random((50, 300)) * 1e-3], axis=1)
    x[0] = 0.0
    x[1] = -0.0
    x[2, :5] = [1e4, -1e4, 3.0, -3.0, 0.5]
    spec = AccSpec("kulisch", acc)
    assert bits_equal(kernels.reduce_last(x, spec), accumulate(x, "kulisch", acc).value)


def test_kernels_use_goldens_public_fast_paths():
    """The exact fast paths live in golden (golden/fastsum.py, proved there); quant only calls them."""
    import golden.fastsum

    assert kernels.mx_matmul_values is golden.fastsum.mx_matmul_values
    assert kernels.product_sum_values is golden.fastsum.product_sum_values
    assert kernels.accumulate_values is golden.fastsum.accumulate_values
    src = open(kernels.__file__).read()
    assert "_split_point" not in src and "golden.mx import _" not in src


# ---------------------------------------------------------------------- the whole attention
CONFIGS = [
    AttnConfig(),
    AttnConfig(qk={"elem": "E4M3", "k": 8}, scores={"elem": "E4M3", "k": 8}, pv={"elem": "E4M3", "k": 8}),
    AttnConfig(qk={"elem": "E2M1", "k": 16}, scores={"elem": "E3M2", "k": 4, "scale_rule": "ceil"},
               pv={"elem": "INT8", "k": 32}),
    AttnConfig(qk={"elem": "E5M2", "k": 4}, acc_qk={"scheme": "kahan", "acc": "BF16"},
               acc_sum={"scheme": "naive", "acc": "E5M3-ieee"}, acc_pv={"scheme": "neumaier", "acc": "E5M3-ieee"}),
    # the benchmark's narrow configuration (table engine for E5M3, float32 engine for FP32)
    AttnConfig(qk={"elem": "E4M3"}, pv={"elem": "E4M3", "k": 4}, acc_sum={"scheme": "kahan", "acc": "E5M3-ieee"},
               acc_pv={"scheme": "kahan", "acc": "E5M3-ieee"}),
    # no MX, narrow accumulators everywhere (products streamed into the table engine)
    AttnConfig(acc_qk={"scheme": "twosum", "acc": "E5M3-ieee"}, acc_sum={"scheme": "klein", "acc": "E4M3"},
               acc_pv={"scheme": "fasttwosum", "acc": "E5M3-ieee"}),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: f"{c.qk.elem}-{c.scores.elem}-{c.pv.elem}-{c.acc_pv.scheme}")
def test_attention_exact_matches_golden_reference(cfg):
    rng = np.random.default_rng(11)
    S, D = 37, 16  # S not a multiple of any k: padding of the key axis is exercised
    q, k, v = rand32(rng, (1, 2, S, D), 2.0), rand32(rng, (1, 2, S, D), 2.0), rand32(rng, (1, 2, S, D))
    got = kernels.attention_exact(q, k, v, 0.25, causal(S), None, cfg)
    assert bits_equal(got, ref_attention(q, k, v, 0.25, cfg))


@pytest.mark.parametrize("cfg", CONFIGS[1:], ids=lambda c: f"{c.qk.elem}-{c.scores.elem}-{c.pv.elem}-{c.acc_pv.scheme}")
def test_attention_exact_in_causal_bands_matches_golden_reference(cfg):
    """At 70 query rows the causal mask splits into bands (_row_bands): scores and numerators are computed
    only up to each band's last visible key and P.V skips P's all-zero blocks; still bit for bit golden."""
    rng = np.random.default_rng(12)
    S, D = 70, 16
    assert len(kernels._row_bands(causal(S), 32)) > 1
    q, k, v = rand32(rng, (1, 1, S, D), 2.0), rand32(rng, (1, 1, S, D), 2.0), rand32(rng, (1, 1, S, D))
    got = kernels.attention_exact(q, k, v, 0.25, causal(S), None, cfg)
    assert bits_equal(got, ref_attention(q, k, v, 0.25, cfg))


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("order", ORDERS)
def test_attention_exact_every_scheme(scheme, order):
    rng = np.random.default_rng(5)
    S, D = 24, 8
    q, k, v = rand32(rng, (1, 1, S, D), 2.0), rand32(rng, (1, 1, S, D), 2.0), rand32(rng, (1, 1, S, D))
    acc = {"scheme": scheme, "acc": "E5M3-ieee", "order": order}
    cfg = AttnConfig(qk={"elem": "E4M3", "k": 8}, pv={"elem": "E4M3", "k": 8},
                     acc_qk={**acc, "acc": "BF16"}, acc_sum=acc, acc_pv=acc)
    got = kernels.attention_exact(q, k, v, 0.5, causal(S), None, cfg)
    assert bits_equal(got, ref_attention(q, k, v, 0.5, cfg))


def test_masked_positions_are_exact_zeros():
    """Changing K and V at masked (future) positions cannot change earlier rows' outputs (from a V
    block boundary on: V's MX blocks run along the key axis, so a block's shared scale is common to
    the rows that see part of it)."""
    rng = np.random.default_rng(2)
    S, D = 20, 8
    q, k, v = rand32(rng, (1, 1, S, D)), rand32(rng, (1, 1, S, D)), rand32(rng, (1, 1, S, D))
    cfg = AttnConfig(qk={"elem": "E4M3", "k": 8}, scores={"elem": "E4M3", "k": 8}, pv={"elem": "E2M1", "k": 8})
    a = kernels.attention_exact(q, k, v, 0.3, causal(S), None, cfg)
    k2, v2 = k.copy(), v.copy()
    k2[..., 16:, :] *= 100.0
    v2[..., 16:, :] *= -7.0
    b = kernels.attention_exact(q, k2, v2, 0.3, causal(S), None, cfg)
    assert bits_equal(a[..., :16, :], b[..., :16, :])
    assert not bits_equal(a[..., 16:, :], b[..., 16:, :])


@pytest.mark.parametrize("elem", ELEM_FORMATS)
@pytest.mark.parametrize("k", [1, 8, 32])
@pytest.mark.parametrize("rule", ["ocp", "ceil"])
def test_fast_mx_values_match_golden(elem, k, rule):
    """The statistical mode's fast MX quantisation gives golden's dequantised values bit for bit,
    along either axis, with padding, zeros, ties and a wide dynamic range."""
    rng = np.random.default_rng(hash((elem, k, rule)) % 2**32)
    x = rand32(rng, (3, 37, 40)) * np.exp2(rng.integers(-20, 20, (3, 37, 1)))
    x[0, 0, :] = 0.0
    x[1, :, 3] = -0.0
    x[2, 5, :8] = np.array([0.5, 1.5, 2.5, 0.25, 3.0, 6.0, 448.0, 464.0], dtype=np.float32)
    x[2, 6, :] = np.float32(2.0**-140) * np.arange(40)  # float32 subnormal inputs
    x[2, 7, :] = np.float32(2.0**100) * rng.standard_normal(40).astype(np.float32)  # huge blocks
    x64 = rng.standard_normal((3, 37, 40)) * np.exp2(rng.integers(-20, 20, (3, 37, 1)))  # not float32 values
    x64[1, 2, 5] = 1e300  # beyond float32
    st = StageFormat(elem, k, rule)
    for axis in (-1, -2):
        for v in (x, x64):
            assert bits_equal(kernels.mx_values_fast(v, st, axis), kernels.mx_values(v, st, axis)), axis
        assert bits_equal(kernels.mx_values_fast(x, st, axis, out32=True).astype(np.float64), kernels.mx_values(x, st, axis))


def test_f32_cast_is_goldens_fp32_rounding():
    """The statistical mode's one-pass FP32 rounding equals golden's FP32 rounder bit for bit: normals,
    ties, subnormals, underflow to zero, overflow to Inf, signed zeros, NaN."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal(200_000) * np.exp2(rng.integers(-160, 130, 200_000))
    ties = (rng.integers(1, 2**24, 1000) * 2 + 1).astype(np.float64) * 2.0 ** rng.integers(-170, 100, 1000) / 2
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 3.4028235677973366e38, 3.4028235677973366e38 * 1.0000001,
                        2.0**-149, 2.0**-150, 2.0**-150 * 1.0000001, -(2.0**-151), 2.0**-126 * (1 - 2.0**-25)])
    for v in (x, ties, special):
        assert bits_equal(kernels.f32_cast(v), round_to(v, FP32))
        r32 = kernels.f32_cast(v, out32=True)
        assert r32.dtype == np.float32 and bits_equal(r32, round_to(v, FP32))


def test_grouped_kv_heads_are_repeated_after_quantisation():
    """K / V with fewer (KV) heads give exactly what the repeated heads give (MX quantisation is per head,
    so quantising before repeating changes nothing), in both modes; a head count that does not divide is
    an error."""
    rng = np.random.default_rng(21)
    S, D = 19, 16
    q = rand32(rng, (1, 6, S, D), 2.0)
    k, v = rand32(rng, (1, 2, S, D), 2.0), rand32(rng, (1, 2, S, D))
    kr, vr = np.repeat(k, 3, axis=1), np.repeat(v, 3, axis=1)
    cfg = AttnConfig(qk={"elem": "E4M3", "k": 8}, pv={"elem": "E2M1", "k": 4},
                     acc_pv={"scheme": "kahan", "acc": "E5M3-ieee"})
    assert bits_equal(kernels.attention_exact(q, k, v, 0.25, causal(S), None, cfg),
                      kernels.attention_exact(q, kr, vr, 0.25, causal(S), None, cfg))
    # long enough for bands of query rows (the block matmuls broadcast K / V over their query heads)
    S2 = 80
    q2, k2, v2 = rand32(rng, (2, 6, S2, D), 2.0), rand32(rng, (2, 2, S2, D), 2.0), rand32(rng, (2, 2, S2, D))
    for kw in (dict(qk={"elem": "E4M3", "k": 16}, pv={"elem": "E4M3", "k": 8}),
               dict(qk={"elem": "E2M1", "k": 8}, pv={"elem": "E4M3", "k": 16},
                    acc_pv={"scheme": "kahan", "acc": "E5M3-ieee"}), dict()):
        c2 = AttnConfig(**kw)
        assert bits_equal(kernels.attention_exact(q2, k2, v2, 0.25, causal(S2), None, c2),
                          kernels.attention_exact(q2, np.repeat(k2, 3, axis=1), np.repeat(v2, 3, axis=1), 0.25,
                                                  causal(S2), None, c2)), kw
    st = AttnConfig(mode="statistical", **{f: getattr(cfg, f) for f in ("qk", "pv", "acc_pv")})
    a = kernels.attention_statistical(q, k, v, 0.25, causal(S), None, st, None, np.random.default_rng(0))
    b = kernels.attention_statistical(q, kr, vr, 0.25, causal(S), None, st, None, np.random.default_rng(0))
    assert bits_equal(a, b)
    with pytest.raises(ValueError, match="number of heads"):
        kernels.attention_exact(q, k[:, :1].repeat(4, axis=1), v[:, :1].repeat(4, axis=1), 0.25, causal(S), None, cfg)


@pytest.mark.parametrize("elem", ELEM_FORMATS)
@pytest.mark.parametrize("k", [1, 4, 8, 32])
def test_statistical_mx_f32_path_matches_golden(elem, k):
    """The statistical kernel's MX quantisation of float32 arrays (_mxv: block maxima from the bit
    patterns, golden's lookup table, scratch buffers, writing into a strided band of a larger array,
    the non-negative shortcut) gives golden's dequantised values bit for bit; NaN / Inf / huge blocks
    and non-OCP rules take golden's own paths."""
    rng = np.random.default_rng(hash((elem, k, "f32")) % 2**32)
    x = (rng.standard_normal((2, 3, 37, 64)) * np.exp2(rng.integers(-20, 20, (2, 3, 37, 1)))).astype(np.float32)
    x[0, 0, 0, :] = 0.0
    x[1, 0, :, 3] = -0.0
    x[0, 1, 5, :8] = np.array([0.5, 1.5, 2.5, 0.25, 3.0, 6.0, 448.0, 464.0], dtype=np.float32)
    x[0, 1, 6, :] = np.float32(2.0**-140) * np.arange(64)  # float32 subnormal inputs
    x[0, 1, 7, :] = np.float32(2.0**-149)
    x[0, 2, 8, :] = np.float32(2.0**99) * rng.standard_normal(64).astype(np.float32)
    y = x.copy()
    y[1, 2, 9, 5] = np.float32(2.0**101)  # a block at / above 2^100: golden's other path
    z = x.copy()
    z[1, 1, 3, 7], z[0, 2, 4, 40] = np.nan, -np.inf
    for rule in ("ocp", "ceil"):
        st = StageFormat(elem, k, rule)
        for v in (x, y, z):
            for axis in (-1, -2):
                ref = kernels.mx_values(v.astype(np.float64), st, axis)
                assert bits_equal(kernels._mxv(v, st, axis), ref)
                assert bits_equal(kernels._mxv(v, st, axis, tag="t"), ref)
                assert bits_equal(kernels._mxv(v, st, axis, tag="t"), ref)  # scratch reused
            # into a band of a larger zeroed array (the layout of the banded P)
            big = np.zeros((2, 3, 40, 96), dtype=np.float32)
            kernels._mxv(v, st, -1, tag="b", out=big[:, :, 2:39, :64])
            assert bits_equal(big[:, :, 2:39, :64], kernels.mx_values(v.astype(np.float64), st, -1))
            assert not big[:, :, :2].any() and not big[:, :, 39:].any() and not big[..., 64:].any()
            a = np.abs(v)
            kernels._mxv(a, st, -1, tag="n", out=big[:, :, 2:39, :64])
            assert bits_equal(big[:, :, 2:39, :64], kernels.mx_values(a.astype(np.float64), st, -1))


class _DrawingErrorModel:
    """Errors that consume the random stream (so any change of sampling order shows)."""

    key = "test-drawing"

    def sample(self, *, scheme, order, acc, comp, dist, n, sum_abs, rng, max_abs=None):
        u = 2.0 ** -(parse_format(acc).m + 1)
        extra = 0.0 if max_abs is None else 1e-3 * np.asarray(max_abs)
        return (sum_abs * u * np.sqrt(np.maximum(n, 1)) + extra) * rng.standard_normal(np.shape(sum_abs))


def _padded_masks(rng, B: int, S: int, pad_len: int, empty_row: int):
    """(causal mask with batch row 1 left-padded by pad_len keys (its first pad_len queries see key 0),
    the same with query empty_row of batch row 0 seeing no key, a causal additive bias)."""
    pad = np.broadcast_to(causal(S), (B, 1, S, S)).copy()
    pad[1, :, :, :pad_len] = False
    pad[1, :, :pad_len, 0] = True
    empty = pad.copy()
    empty[0, 0, empty_row, :] = False
    bias = np.where(causal(S), rng.standard_normal((1, 1, S, S)) * 0.5, 0.0)
    return pad, empty, bias


def test_exact_row_limits_are_bit_identical(monkeypatch):
    """Exact mode with bands and per-row key limits (scores up to each row's last key, P.V told where P's
    rows end) gives exactly what one band over all keys gives, on padded masks, a query that sees no
    key, a bias, and grouped KV heads."""
    rng = np.random.default_rng(41)
    B, H, Hkv, S, D = 2, 4, 2, 90, 16
    q = rand32(rng, (B, H, S, D), 2.0)
    k, v = rand32(rng, (B, Hkv, S, D), 2.0), rand32(rng, (B, Hkv, S, D))
    pad, empty, bias = _padded_masks(rng, B, S, 9, 50)
    configs = [dict(qk={"elem": "E4M3", "k": 8}, pv={"elem": "E4M3", "k": 4},
                    acc_sum={"scheme": "kahan", "acc": "E5M3-ieee"}, acc_pv={"scheme": "kahan", "acc": "E5M3-ieee"}),
               dict(qk={"elem": "E2M1", "k": 16}, scores={"elem": "E4M3", "k": 8}, pv={"elem": "E4M3", "k": 16}),
               dict(acc_qk={"scheme": "neumaier", "acc": "BF16"})]
    assert len(kernels._row_bands(np.broadcast_to(causal(S), (B, H, S, S)), 8)) > 1
    for kw in configs:
        cfg = AttnConfig(**kw)
        for allowed, b in ((causal(S), None), (pad, None), (empty, None), (causal(S), bias)):
            outs = []
            for rows in (kernels._ROWS_PER_BAND, 10**9):
                monkeypatch.setattr(kernels, "_ROWS_PER_BAND", rows)
                with np.errstate(invalid="ignore", divide="ignore"):
                    outs.append(kernels.attention_exact(q, k, v, 0.25, allowed, b, cfg))
            assert bits_equal(outs[0], outs[1]), kw


@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_statistical_bands_are_bit_identical(monkeypatch, scale):
    """Statistical mode in bands of query rows (the masked part of the score / P matrices skipped) gives
    exactly what one band over all keys gives: float32 inputs as from a model, grouped KV heads, MX on
    every stage or none, causal / padded / bias masks, a row that sees no key (non-positive
    denominators: the unbanded path), and a read-only mask object shared between calls (cached plan)."""
    rng = np.random.default_rng(31)
    B, H, Hkv, S, D = 2, 4, 2, 150, 16
    q = (rng.standard_normal((B, H, S, D)) * scale).astype(np.float32)
    k = (rng.standard_normal((B, Hkv, S, D)) * scale).astype(np.float32)
    v = rng.standard_normal((B, Hkv, S, D)).astype(np.float32)
    cz = causal(S).copy()
    cz.setflags(write=False)
    pad, empty, bias = _padded_masks(rng, B, S, 7, 40)
    configs = [
        dict(qk={"elem": "E4M3"}, pv={"elem": "E4M3"}),
        dict(qk={"elem": "E4M3"}, pv={"elem": "E4M3", "k": 4}, acc_sum={"scheme": "kahan", "acc": "E5M3-ieee"},
             acc_pv={"scheme": "kahan", "acc": "E5M3-ieee"}),
        dict(qk={"elem": "E2M1", "k": 8}, scores={"elem": "E4M3", "k": 16}, pv={"elem": "E2M3", "k": 8}),
        dict(),
    ]
    default = kernels._ROWS_PER_BAND
    assert len(kernels._row_bands(np.broadcast_to(causal(S), (B, H, S, S)), 4)) == 4
    assert kernels._row_bands(np.broadcast_to(causal(S), (B, H, S, S)), 4)[0] == (0, 37, 40)
    for kw in configs:
        cfg = AttnConfig(mode="statistical", **kw)
        for allowed, b in ((cz, None), (cz, None), (pad, None), (empty, None), (causal(S), bias)):
            outs = []
            for rows in (default, 10**9):
                monkeypatch.setattr(kernels, "_ROWS_PER_BAND", rows)
                for model in (None, _DrawingErrorModel()):
                    outs.append(kernels.attention_statistical(q, k, v, 0.25, allowed, b, cfg, model,
                                                              np.random.default_rng(5)))
            assert bits_equal(outs[0], outs[2]) and bits_equal(outs[1], outs[3]), kw


@pytest.mark.parametrize("acc, skipped", [("FP32", True), ("E8M23", True), ("E5M23", False), ("E8M22", False),
                                          ("BF16", False), ("FP16", False), ("E5M3-ieee", False)])
def test_no_draws_below_fp32_resolution(acc, skipped):
    """Statistical mode draws no error for accumulators at least as precise and wide as FP32 (the fp32
    sums already carry errors of that size), for every scheme; narrower ones are drawn."""
    for scheme in ("naive", "kahan", "kulisch"):
        assert kernels.below_fp32_resolution(AccSpec(scheme=scheme, acc=acc)) is skipped

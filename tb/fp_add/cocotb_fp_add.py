"""cocotb tests of fp_add (through fp_add_lanes) against golden.arith.add; config in $APACE_TB_CFG.

cfg: fmt (json format), lanes, latency, mode ('exhaustive' | 'random'), n_random, seed, twosum (bool).
"""

from __future__ import annotations

import cocotb
import numpy as np

from golden.arith import add
from golden.formats import FloatFormat, decode, encode
from tb.common.drive import lanes_apply, start
from tb.common.formats import fmt_from_json
from tb.common.runner import tb_config
from tb.common.scoreboard import check_codes


def corner_codes(fmt: FloatFormat) -> np.ndarray:
    """Zeros, subnormal edges, min/max normal, 1 and its neighbours, max and the top codes, both signs."""
    m, e = fmt.m, fmt.e
    one = fmt.exp_bias << m
    top = (2**e - 1) << m
    mags = {0, 1, 2, 3, (1 << m) - 1, 1 << m, (1 << m) + 1, one - 1, one, one + 1, one + (1 << (m - 1)),
            top - 1, top - (1 << m), top, top + 1, top + (1 << (m - 1)), 2 ** (e + m) - 1, 2 ** (e + m) - 2}
    mags = np.array(sorted(c for c in mags if 0 <= c < 2 ** (e + m)), dtype=np.int64)
    return np.concatenate([mags, mags | (1 << (e + m))])


def random_pairs(fmt: FloatFormat, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Uniform codes, near-cancelling pairs, and pairs with exponent gaps 0..m+3 (ties and sticky)."""
    bits, m, e = fmt.bits, fmt.m, fmt.e
    sgn = 1 << (e + m)
    q = n // 4
    a1 = rng.integers(0, 2**bits, 2 * q)
    b1 = rng.integers(0, 2**bits, 2 * q)
    a2 = rng.integers(0, 2**bits, q)
    b2 = (a2 ^ sgn) ^ rng.integers(0, 2 ** min(m, 4), q)
    a3 = rng.integers(0, 2**bits, n - 3 * q)
    ef = (a3 >> m) & (2**e - 1)
    gap = rng.integers(0, m + 4, a3.size)
    ef_b = np.clip(ef - gap, 0, 2**e - 1)
    b3 = (rng.integers(0, 2, a3.size) * sgn) | (ef_b << m) | rng.integers(0, 2**m, a3.size)
    c = corner_codes(fmt)
    ca, cb = np.meshgrid(c, c, indexing="ij")
    a = np.concatenate([a1, a2, a3, ca.ravel()])
    b = np.concatenate([b1, b2, b3, cb.ravel()])
    return a.astype(np.int64), b.astype(np.int64)


def golden_add_codes(a: np.ndarray, b: np.ndarray, fmt: FloatFormat) -> np.ndarray:
    return encode(add(decode(a, fmt), decode(b, fmt), fmt), fmt)


@cocotb.test()
async def fp_add_vs_golden(dut):
    """Every pair (exhaustive) or random + corner pairs; 0 mismatches against golden."""
    cfg = tb_config()
    fmt = fmt_from_json(cfg["fmt"])
    lanes, lat = int(cfg["lanes"]), int(cfg.get("latency", 0))
    if cfg.get("mode", "exhaustive") == "exhaustive":
        codes = np.arange(2**fmt.bits, dtype=np.int64)
        a, b = (x.ravel() for x in np.meshgrid(codes, codes, indexing="ij"))
    else:
        a, b = random_pairs(fmt, int(cfg["n_random"]), np.random.default_rng(int(cfg.get("seed", 1))))
    await start(dut)
    y = await lanes_apply(dut, [("a", a, fmt.bits), ("b", b, fmt.bits)], "y", fmt.bits, lanes, lat)
    n = check_codes(y, golden_add_codes(a, b, fmt), fmt, f"fp_add {fmt.describe()}", {"a": (a, fmt), "b": (b, fmt)})
    dut._log.info("fp_add %s: %d vectors, 0 mismatches", fmt.label(), n)


@cocotb.test()
async def twosum_error_free(dut):
    """TwoSum and FastTwoSum built from the RTL adder are exact (a + b == s + e) for every pair whose
    sum does not overflow; checked on the RTL's own outputs, not on golden."""
    cfg = tb_config()
    if not cfg.get("twosum"):
        return
    fmt = fmt_from_json(cfg["fmt"])
    lanes, lat = int(cfg["lanes"]), int(cfg.get("latency", 0))
    sgn = 1 << (fmt.e + fmt.m)
    await start(dut)

    async def radd(x, y):
        return await lanes_apply(dut, [("a", x, fmt.bits), ("b", y, fmt.bits)], "y", fmt.bits, lanes, lat)

    codes = np.arange(2**fmt.bits, dtype=np.int64)
    a, b = (x.ravel() for x in np.meshgrid(codes, codes, indexing="ij"))
    va, vb = decode(a, fmt), decode(b, fmt)
    ok_in = np.isfinite(va) & np.isfinite(vb)
    a, b, va, vb = a[ok_in], b[ok_in], va[ok_in], vb[ok_in]
    # Knuth TwoSum: s = a+b; b' = s-a; a' = s-b'; e = (a-a') + (b-b')
    s = await radd(a, b)
    bp = await radd(s, a ^ sgn)
    ap = await radd(s, bp ^ sgn)
    da = await radd(a, ap ^ sgn)
    db = await radd(b, bp ^ sgn)
    e = await radd(da, db)
    # Dekker FastTwoSum with |a| >= |b|: s = a+b; z = s-a; e = b-z
    swap = np.abs(va) < np.abs(vb)
    fa, fb = np.where(swap, b, a), np.where(swap, a, b)
    fs = await radd(fa, fb)
    z = await radd(fs, fa ^ sgn)
    fe = await radd(fb, z ^ sgn)
    vs = decode(s, fmt)
    no_ovf = np.isfinite(vs)
    for name, ss, ee in (("TwoSum", s, e), ("FastTwoSum", fs, fe)):
        sv, ev = decode(ss, fmt), decode(ee, fmt)
        exact = (sv + ev == va + vb) & np.isfinite(ev)  # float64 holds these sums exactly
        bad = np.flatnonzero(no_ovf & ~exact)
        if bad.size:
            i = bad[0]
            raise AssertionError(
                f"{name} not error-free for a={va[i]!r} (0x{a[i]:x}) b={vb[i]!r} (0x{b[i]:x}): s={sv[i]!r} e={ev[i]!r}"
            )
        dut._log.info("%s error-free on %d %s pairs (%d overflowing excluded)", name, int(no_ovf.sum()),
                      fmt.label(), int((~no_ovf).sum()))
    assert no_ovf.sum() > 0.9 * a.size, "too few non-overflowing pairs checked"

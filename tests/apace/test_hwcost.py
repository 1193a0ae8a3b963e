"""apace.hwcost: the composed estimate of a dot product against real Yosys synthesis of the composed RTL
(synth_results/mx_dot.csv), and the register accounting of the composition."""

from __future__ import annotations

import pytest

from apace import costmodel, hwcost, synth

# Stated tolerances (low, high %) of the composed estimate vs synthesis of mx_dot (docs/hardware.md): the
# LUT estimate may be conservative (parts synthesised apart), never optimistic beyond noise.
LUT_TOL, FF_TOL = (-5.0, 25.0), (-5.0, 5.0)


@pytest.fixture(scope="module")
def shipped():
    df = synth.load_results()
    if "mx_dot" not in set(df["unit"]):
        pytest.skip("no synthesised mx_dot rows in synth_results/")
    # the committed fit when it matches the committed rows, else a fresh fit of them
    return df, costmodel.fit_cached(df, synth.RESULTS_DIR / "cost_model.json")


def test_composed_estimate_close_to_synthesised_mx_dot(shipped):
    df, model = shipped
    checks = hwcost.composed_check(model, df)
    measured = df[df["unit"].isin(["mx_dot", "mx_tile"])]
    assert {c["metric"] for c in checks} == {"lut", "ff"}
    # every synthesised mx_dot / mx_tile whose parts are fitted is checked (mx_dot: naive, kahan, kulisch;
    # K = 2, 8, 32; two tiles)
    assert len(checks) == 2 * len(measured)
    assert sum(c["unit"] == "mx_tile" for c in checks) >= 2 * 2
    for c in checks:
        row = measured[measured["key"] == c["key"]]
        assert len(row) == 1 and float(row[c["metric"]].iloc[0]) == c["measured"]  # the CSV, untouched
        lo, hi = LUT_TOL if c["metric"] == "lut" else FF_TOL
        assert lo <= c["error_pct"] <= hi, c
        assert c["within"]  # what `apace synth fit` prints as ok
        assert tuple(c["tolerance_pct"]) == (lo, hi)  # the CLI reports the same tolerances


def test_fit_never_uses_the_composed_design(shipped):
    _, model = shipped
    assert not model.has("mx_dot")


def test_observation_registers_follow_the_rtl():
    # acc_seq.v, E8M7 accumulator (16-bit words): m_s is a separate register only when the result is not s
    # (neumaier, twosum, fasttwosum, klein); m_c1 exists for every compensated scheme, m_c2 for klein.
    aw = cw = 16
    assert hwcost.observation_registers("naive", aw, cw) == 0
    assert hwcost.observation_registers("kahan", aw, cw) == 16
    assert hwcost.observation_registers("neumaier", aw, cw) == 32
    assert hwcost.observation_registers("fasttwosum", aw, cw) == 32
    assert hwcost.observation_registers("klein", aw, cw) == 48


def test_embedded_accumulator_drops_exactly_the_observation_registers(shipped):
    _, model = shipped
    for scheme in ("naive", "kahan", "neumaier", "klein"):
        alone = hwcost.accumulator_cost(model, scheme, "BF16", 64, embedded=False)
        inside = hwcost.accumulator_cost(model, scheme, "BF16", 64)
        assert alone.values["ff"] - inside.values["ff"] == pytest.approx(
            hwcost.observation_registers(scheme, 16, 16))
        assert inside.values["ff"] >= 2 * 16 + 1  # the state and m_data registers remain
        assert inside.values["lut"] == alone.values["lut"]


def test_dot_product_has_the_pipeline_register(shipped):
    _, model = shipped
    p = {"K": 8, **hwcost.fmt_params("E4M3", "A"), **hwcost.fmt_params("E4M3", "B"), **hwcost.fmt_params("BF16")}
    blk, _ = hwcost.dot_product_cost(model, p, "naive", 8)
    alone = hwcost.block_unit_cost(model, "E4M3", 8, "BF16")
    assert blk.values["ff"] - alone.values["ff"] == 16 + 2  # block value register + valid + last

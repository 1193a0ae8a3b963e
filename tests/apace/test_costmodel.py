"""apace.costmodel: recovers a known non-negative law, never predicts <= 0, reports held-out MAPE."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from apace import costmodel


def _synthetic(rng, noise=0.0):
    """fp_add-like results from a known law in the model's own feature family (so it is recoverable)."""
    rows = []
    for e in (3, 4, 5, 6, 8):
        for m in (2, 3, 5, 7, 10, 15, 23):
            w = m + 4
            shift = 2 * w * math.ceil(math.log2(w))
            lut = 20 + 3.0 * m + 1.5 * e + 0.8 * shift
            ff = 0.0
            lut *= 1 + noise * rng.standard_normal()
            rows.append({"unit": "fp_add", "top": "fp_add", "status": "ok", "lut": round(lut), "ff": ff,
                         "carry": 1 + m // 4, "dsp": 0,
                         "params": json.dumps({"EW": e, "MW": m, "SPECIAL": 0, "OVF": 1, "LATENCY": 0})})
    return pd.DataFrame(rows)


def test_recovers_known_law_and_reports_low_error():
    df = _synthetic(np.random.default_rng(0))
    m = costmodel.fit(df, folds=5)
    v = {r["metric"]: r for r in m.validation_rows()}
    assert v["lut"]["cv_mape"] < 2.0 and v["lut"]["configs"] == len(df)
    want = 20 + 3.0 * 12 + 1.5 * 6 + 0.8 * 2 * 16 * 4
    assert m.predict("fp_add", {"EW": 6, "MW": 12, "SPECIAL": 0, "OVF": 1, "LATENCY": 0}) == pytest.approx(want, rel=0.03)
    assert "meets" in m.validation_table()


def test_never_negative_and_positive_where_always_used():
    df = _synthetic(np.random.default_rng(1), noise=0.15)
    m = costmodel.fit(df)
    for e in range(1, 12):
        for mw in range(0, 60, 3):
            p = {"EW": e, "MW": mw, "SPECIAL": 0, "OVF": 1, "LATENCY": 0}
            assert m.predict("fp_add", p, "lut") > 0
            assert m.predict("fp_add", p, "carry") > 0
            assert m.predict("fp_add", p, "ff") >= 0


def test_noisy_data_gives_honest_nonzero_error():
    df = _synthetic(np.random.default_rng(2), noise=0.2)
    v = {r["metric"]: r for r in costmodel.fit(df).validation_rows()}
    assert v["lut"]["cv_mape"] > 5.0  # 20 % multiplicative noise cannot be fitted away
    assert v["lut"]["cv_mape"] >= v["lut"]["fit_mape"] * 0.8


def test_groups_by_scheme_and_clear_errors(tmp_path):
    rows = []
    for scheme, k in ((0, 1.0), (1, 4.0)):
        for m in (2, 3, 7, 10, 23):
            rows.append({"unit": "acc_seq", "top": "acc_seq", "status": "ok", "lut": k * (30 + 10 * m), "ff": 9 + m,
                         "carry": 2, "dsp": 0, "params": json.dumps({"EW": 8, "MW": m, "SCHEME": scheme})})
    m = costmodel.fit(pd.DataFrame(rows))
    a = m.predict("acc_seq", {"EW": 8, "MW": 7, "SCHEME": 0})
    b = m.predict("acc_seq", {"EW": 8, "MW": 7, "SCHEME": 1})
    assert b / a == pytest.approx(4.0, rel=0.1)
    with pytest.raises(ValueError, match="SCHEME=5"):
        m.predict("acc_seq", {"EW": 8, "MW": 7, "SCHEME": 5})
    with pytest.raises(ValueError, match="acc_seq"):
        m.predict("nope", {})
    m.save(tmp_path / "m.json")
    m2 = costmodel.CostModel.load(tmp_path / "m.json")
    assert m2.predict("acc_seq", {"EW": 8, "MW": 7, "SCHEME": 1}) == pytest.approx(b)
    png = m.plot_residuals(tmp_path / "res.png")
    assert png.stat().st_size > 1000


def test_empty_results_error():
    with pytest.raises(ValueError, match="synth sweep"):
        costmodel.fit(pd.DataFrame())


def test_saved_model_reused_only_for_the_same_rows(tmp_path):
    df = _synthetic(np.random.default_rng(3))
    m = costmodel.fit(df)
    m.save(tmp_path / "m.json")
    (tmp_path / "m.json").write_text((tmp_path / "m.json").read_text().replace('"source": "', '"source": "SAVED '))
    assert costmodel.fit_cached(df, tmp_path / "m.json").source.startswith("SAVED")
    changed = df.copy()
    changed.loc[0, "lut"] = changed.loc[0, "lut"] + 1
    assert not costmodel.fit_cached(changed, tmp_path / "m.json").source.startswith("SAVED")
    assert not costmodel.fit_cached(df, tmp_path / "missing.json").source.startswith("SAVED")


def test_held_out_error_of_the_shipped_model_is_reported_per_unit():
    from apace import synth

    df = synth.load_results()
    rows = costmodel.fit_cached(df, synth.RESULTS_DIR / "cost_model.json").validation_rows()
    units = {r["unit"] for r in rows}
    assert {"fp_add", "acc_seq", "acc_kulisch_seq", "mx_block_value"} <= units and "mx_dot" not in units
    for r in rows:
        if r["metric"] in ("lut", "ff") and r["configs"] >= 8:
            assert r["cv_mape"] is not None and r["cv_mape"] >= 0


def test_tree_features_follow_the_rtl_structure():
    """acc_tree: acc_final's rounded additions (s + c; klein two) and the |s| >= |x| comparators of the
    branchy schemes are counted; neumaier and fasttwosum have the same datapath (src/acc_step.v)."""
    base = {"EW": 4, "MW": 3, "CEW": 4, "CMW": 3, "N": 2}
    f = {sc: costmodel.features("acc_tree", {**base, "SCHEME": sc}) for sc in range(6)}
    assert [f[sc]["adders"] for sc in range(6)] == [1, 8, 9, 15, 9, 23]
    assert f[1]["cmp"] == f[3]["cmp"] == f[0]["cmp"] == 0
    assert f[2]["cmp"] == f[4]["cmp"] == 2 * 8 and f[5]["cmp"] == 3 * 2 * 8
    assert f[2] == f[4]
    four = costmodel.features("acc_tree", {**base, "SCHEME": 4, "N": 4})
    assert four["adders"] == 3 * 2 * 4 + 1 and four["cmp"] == 3 * 2 * 8


def test_held_out_breakdown_per_parameter_value():
    rng = np.random.default_rng(4)
    rows = []
    for e in (4, 5, 6):
        for m in (2, 3, 5, 7):
            for n in (16, 64, 1024):
                fw = costmodel.kulisch_width(e, m, n)
                lut = (20 + 9 * fw + 2 * fw * math.ceil(math.log2(fw))) * (1 + 0.05 * rng.standard_normal())
                rows.append({"unit": "acc_kulisch_seq", "top": "acc_kulisch_seq", "status": "ok", "lut": round(lut),
                             "ff": fw + 13, "carry": fw // 4, "dsp": 0,
                             "params": json.dumps({"EW": e, "MW": m, "MAXLEN": n, "SPECIAL": 0, "OVF": 1})})
    table = costmodel.fit(pd.DataFrame(rows)).validation_table()
    line = next(s for s in table.splitlines() if "by EW" in s)
    assert "EW=4:" in line and "EW=6:" in line and "(12)" in line

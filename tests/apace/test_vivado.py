"""apace.vivado: report_utilization / report_timing_summary / report_power text parsing (own fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from apace import synth, vivado

FIX = Path(__file__).parent / "fixtures" / "vivado"


def test_ultrascale_plus_utilization_names():
    r = vivado.parse_utilization((FIX / "us_plus_util.rpt").read_text())
    assert (r["lut"], r["ff"], r["dsp"], r["bram"], r["lutram"], r["carry"]) == (1234, 567, 3, 1.5, 34, 21)
    assert [r[f"lut{i}"] for i in range(1, 7)] == [5, 290, 300, 60, 150, 400]


def test_7series_utilization_names():
    r = vivado.parse_utilization((FIX / "s7_util.rpt").read_text())
    assert (r["lut"], r["ff"], r["dsp"], r["carry"], r["lut4"], r["lut6"]) == (98, 40, 0, 6, 48, 50)


def test_timing_and_power():
    t = vivado.parse_timing((FIX / "timing.rpt").read_text())
    assert t["wns_ns"] == -1.25 and t["period_ns"] == 4.0
    assert t["fmax_mhz"] == pytest.approx(1000 / 5.25, abs=1e-3)  # period - WNS = 5.25 ns
    p = vivado.parse_power((FIX / "power.rpt").read_text())
    assert p == {"power_w": 0.612, "dynamic_power_w": 0.021}


@pytest.mark.parametrize("fn", [vivado.parse_utilization, vivado.parse_timing, vivado.parse_power])
def test_wrong_report_is_one_clear_error(fn):
    with pytest.raises(ValueError, match="not a Vivado"):
        fn("hello\n| a | b |\n", "x.rpt")


def test_import_appends_a_row_to_the_results_table(tmp_path):
    row = vivado.import_reports("acc_fixture", {"EW": 8, "MW": 7}, FIX / "us_plus_util.rpt", FIX / "timing.rpt",
                                FIX / "power.rpt", tmp_path)
    assert row["tool"] == "vivado" and row["top"] == "acc_fixture"
    df = synth.load_results(tmp_path)
    assert len(df) == 1
    r = df.iloc[0]
    assert (r["lut"], r["ff"], r["EW"], r["MW"], r["power_w"], r["wns_ns"]) == (1234, 567, 8, 7, 0.612, -1.25)
    assert "Vivado v.2022.2" in r["tool_version"]


SAMPLES = Path("/work/shared/vivado-report-samples")


@pytest.mark.skipif(not (SAMPLES / "matmul_4x4_e0m2_kulisch_util.rpt").exists(),
                    reason="the shared real Vivado report samples are not on this machine")
def test_real_vivado_2024_versal_samples():
    # Numbers read off the reports by eye: "| Registers | 720 |", "| CLB LUTs* | 416 |", "| DSP Slices | 0 |",
    # primitives LUT6 / LUT4 / LUT2 = 112 each; timing "WNS(ns) 4.051" at a 5.000 ns clock; power 22.947 W
    # total, 0.009 W dynamic.
    base = SAMPLES / "matmul_4x4_e0m2_kulisch_"
    u = vivado.parse_utilization((base.parent / (base.name + "util.rpt")).read_text())
    assert (u["lut"], u["ff"], u["dsp"], u["bram"]) == (416, 720, 0, 0)
    assert (u["lut2"], u["lut4"], u["lut6"]) == (112, 112, 112)
    t = vivado.parse_timing((base.parent / (base.name + "timing.rpt")).read_text())
    assert t["wns_ns"] == pytest.approx(4.051) and t["period_ns"] == pytest.approx(5.0)
    p = vivado.parse_power((base.parent / (base.name + "power.rpt")).read_text())
    assert p["power_w"] == pytest.approx(22.947) and p["dynamic_power_w"] == pytest.approx(0.009)

"""`apace characterize` end to end on a tiny spec: files, report content, resume, bad input."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from apace.cli import main

TINY = """name: tiny
schemes: [naive, neumaier, kulisch]
accs: [BF16]
comps: {BF16: [FP32]}
dists: [uniform, normal]
max_n: 64
per_octave: 2
trials: 16
fixed_n: 32
"""


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("char")
    spec = d / "tiny.yaml"
    spec.write_text(TINY)
    out = d / "out"
    rc = main(["characterize", "--spec", str(spec), "--out", str(out), "--jobs", "1", "--quiet"])
    return rc, spec, out


def test_writes_table_report_and_model(tiny_run):
    rc, _, out = tiny_run
    assert rc == 0  # 0 = no classical bound violated
    df = pd.read_parquet(out / "table.parquet")
    csv = pd.read_csv(out / "table.csv")
    assert len(df) == len(csv) > 0
    # 3 schemes; neumaier also with comp FP32; 2 orders; 2 dists; lengths 1..64 (2 per octave) / 1..64 pow2
    assert set(df["scheme"]) == {"naive", "neumaier", "kulisch"} and set(df["comp"]) == {"", "FP32"}
    assert set(df[df["order"] == "pairwise"]["n"]) == {1, 2, 4, 8, 16, 32, 64}
    assert df["spec"].eq("tiny").all() and df["trials"].eq(16).all()
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 4 and "<img" in html and "src='plots/" not in html
    md = (out / "report.md").read_text()
    assert "Narrowest accumulator format" in md and "Classical bound violations" in md and "Known facts" in md
    for line in md.splitlines():
        if line.startswith("!["):
            assert os.path.exists(out / line.split("(")[1].rstrip(")"))
    model = json.loads((out / "error_model.json").read_text())
    assert "neumaier|sequential|BF16|FP32|uniform" in model["entries"]


def test_rerun_resumes_from_cache(tiny_run):
    rc, spec, out = tiny_run
    cache = [os.path.join(r, f) for r, _, fs in os.walk(out / "cache") for f in fs]
    before = {p: os.path.getmtime(p) for p in cache}
    assert len(before) == 3  # one file per (acc, scheme) unit
    rc2 = main(["characterize", "--spec", str(spec), "--out", str(out), "--jobs", "1", "--quiet", "--no-report"])
    assert rc2 == 0
    assert {p: os.path.getmtime(p) for p in cache} == before


def test_bad_spec_is_one_clear_error(tmp_path, capsys):
    p = tmp_path / "bad.yaml"
    p.write_text("schemes: [naive, kahn]\n")
    assert main(["characterize", "--spec", str(p), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'schemes'" in err[0] and "kahan" in err[0]
    p.write_text("max_n: 0\n")
    assert main(["characterize", "--spec", str(p), "--out", str(tmp_path / "o")]) == 2
    assert "'max_n'" in capsys.readouterr().err


def test_rtl_option_reports_availability(tmp_path, capsys):
    from characterize import rtl

    ok, _ = rtl.rtl_available()
    if ok:
        pytest.skip("RTL present: covered by the RTL-in-the-loop test")
    assert main(["characterize", "--rtl", "--out", str(tmp_path)]) == 3
    assert "RTL not yet available" in capsys.readouterr().out


@pytest.mark.slow
def test_rtl_in_the_loop_profile_equals_golden(tmp_path, capsys):
    """`apace characterize --rtl` drives the RTL accumulators under Verilator; every result code and
    every profile row must equal golden's."""
    from characterize import rtl

    ok, why = rtl.rtl_available()
    if not ok:
        pytest.skip(why)
    assert main(["characterize", "--rtl", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "differing from golden: 0" in out and "profile rows identical: True" in out
    g = pd.read_csv(tmp_path / "rtl_profile_golden.csv")
    r = pd.read_csv(tmp_path / "rtl_profile_rtl.csv")
    assert len(g) == 9 * 7 * 2 and g.equals(r)


def test_rtl_profile_comparison_detects_one_wrong_sum():
    """Negative control for the RTL check: one result one ulp off changes the profile rows."""
    from characterize import rtl
    from characterize.engine import sequential_prefix_values

    xa, didx, dists, lengths, fa = rtl.profile_inputs(trials=4, max_n=16)
    gold = {}
    for scheme in rtl.RTL_SCHEMES:
        vals = sequential_prefix_values(xa, scheme, fa, None, lengths)
        gold.update({(scheme, n): vals[n] for n in lengths})
    bad = dict(gold)
    v = gold[("kahan", 16)].copy()
    v[0] = np.nextafter(v[0], np.inf)  # any change of the value must show
    bad[("kahan", 16)] = v
    g = rtl.profile_rows(gold, xa, didx, dists, lengths, fa)
    assert g.equals(rtl.profile_rows(dict(gold), xa, didx, dists, lengths, fa))
    assert not g.equals(rtl.profile_rows(bad, xa, didx, dists, lengths, fa))

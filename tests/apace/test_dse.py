"""apace.space / apace.dse / apace summary: spec validation, evaluation with cache, pools, Dask, results."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from apace import dse, space, synth
from apace.cli import main

SPEC = {
    "name": "t",
    "ppl": {"tokens": 64, "seq_len": 32},
    "parallelism": {"qk": {"dot_units": 2, "accumulators": 1}},
    "stages": {"qk": {"elem": ["E4M3", "E2M1"], "k": [8, 32], "acc": ["BF16", "FP32"], "scheme": ["naive", "kahan"],
                      "length": 64}},
    "objectives": ["lut", "ppl"],
}


def _results(tmp: Path) -> Path:
    """Synthetic synthesis results (known laws) for the units the DSE composes."""
    d = tmp / "synth"
    for K in (2, 4, 8, 16, 32):
        for ea, ma, sp in ((2, 1, 2), (4, 3, 1), (5, 2, 0)):
            for mw in (7, 23):
                p = {"K": K, "EWA": ea, "MWA": ma, "SPA": sp, "EWB": ea, "MWB": ma, "SPB": sp, "EW": 8, "MW": mw,
                     "SPECIAL": 0, "OVF": 1}
                synth.append_row(synth.results_path("mx_block_value", d), {
                    "key": f"b{K}{ea}{ma}{mw}", "unit": "mx_block_value", "top": "mx_block_value", "status": "ok",
                    "params": json.dumps(p), "lut": 40 + K * (ma + 1) ** 2 * 3 + 6 * mw, "ff": 0, "carry": K, "dsp": 0})
    for scheme, n_add in ((0, 1), (1, 4)):
        for mw in (2, 3, 7, 10, 23):
            p = {"EW": 8, "MW": mw, "CEW": 8, "CMW": mw, "SCHEME": scheme, "SPECIAL": 0, "OVF": 1}
            synth.append_row(synth.results_path("acc_seq", d), {
                "key": f"a{scheme}{mw}", "unit": "acc_seq", "top": "acc_seq", "status": "ok", "params": json.dumps(p),
                "lut": n_add * (50 + 12 * mw), "ff": (1 + (scheme > 0)) * (9 + mw), "carry": 3, "dsp": 0})
    return d


def test_spec_expansion():
    s = space.load_spec(SPEC)
    assert len(s.points) == 16 and len({p.key() for p in s.points}) == 16
    assert s.parallelism["qk"] == {"dot_units": 2, "accumulators": 1}


@pytest.mark.parametrize("patch, word", [
    ({"stages": {"qk": {**SPEC["stages"]["qk"], "scheme": ["naive", "bogus"]}}}, "kahan"),
    ({"stages": {"qk": {**SPEC["stages"]["qk"], "k": 48}}}, "power of two"),
    ({"stages": {"qk": {**SPEC["stages"]["qk"], "length": 40}}}, "divide"),
    ({"stages": {"qk": {**SPEC["stages"]["qk"], "acc": "INT8"}}}, "floating-point"),
    ({"stages": {"qk": {**SPEC["stages"]["qk"], "elem": "E6M3"}}}, "MX RTL"),
    ({"stages": {"qk": {**SPEC["stages"]["qk"], "elem": []}}}, "empty"),
    ({"stages": {"qv": {}}}, "allowed"),
    ({"colour": 1}, "unknown key"),
    ({"objectives": ["area"]}, "objectives"),
    ({"weights": {"ff": 1}}, "not an objective"),
    ({"ppl": {"sweep_mode": "fast"}}, "statistical"),
])
def test_spec_errors(patch, word):
    with pytest.raises(ValueError, match=word):
        space.load_spec({**SPEC, **patch})


def test_fake_dse_end_to_end_cache_and_summary(tmp_path, capsys):
    res_dir = _results(tmp_path)
    spec = space.load_spec(SPEC)
    r = dse.run_dse(spec, tmp_path / "out", res_dir, evaluator="fake", progress=False, log=lambda s: None)
    df = r.df
    assert len(df) == 16 and df["ppl"].notna().all()
    # every point of the final front was confirmed in exact mode (fake: exact = statistical x 1.001)
    front = df[df["on_front"]]
    assert len(front) >= 1 and (front["ppl_mode"] == "exact").all()
    assert front["ppl_exact"].tolist() == pytest.approx((front["ppl_statistical"] * 1.001).tolist())
    # composition: kahan costs 4 adders, naive 1; k=32 costs more than k=8 (same formats)
    key = ["qk_elem", "qk_k", "qk_acc"]
    piv = df.pivot_table(index=key, columns="qk_scheme", values="lut")
    assert (piv["kahan"] > piv["naive"]).all()
    assert df.query("qk_k == 32")["lut"].mean() > df.query("qk_k == 8")["lut"].mean()
    assert df["lut"].gt(0).all()
    for f in ("results.csv", "results.parquet", "front.png", "front.svg", "summary.json", "cache.jsonl"):
        assert (r.out_dir / f).stat().st_size > 0
    assert pd.read_parquet(r.out_dir / "results.parquet")["best"].sum() == 1
    n_cached = len((r.out_dir / "cache.jsonl").read_text().splitlines())
    assert n_cached == 16 + df["ppl_exact"].notna().sum()
    # a rerun recomputes nothing
    dse.run_dse(spec, tmp_path / "out", res_dir, evaluator="fake", progress=False, log=lambda s: None)
    assert len((r.out_dir / "cache.jsonl").read_text().splitlines()) == n_cached
    # summary from stored results
    assert main(["summary", str(r.out_dir)]) == 0
    out = capsys.readouterr().out
    best = df[df["best"]].iloc[0]
    assert "best candidate" in out and best["label"] in out and "Pareto front" in out


def test_process_pool_matches_serial(tmp_path):
    res_dir = _results(tmp_path)
    spec = space.load_spec({**SPEC, "ppl": {**SPEC["ppl"], "confirm": "none"}})
    a = dse.run_dse(spec, tmp_path / "a", res_dir, evaluator="fake", progress=False, log=lambda s: None).df
    b = dse.run_dse(spec, tmp_path / "b", res_dir, evaluator="fake", jobs=2, progress=False, log=lambda s: None).df
    assert a["ppl"].tolist() == b["ppl"].tolist()


def test_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    res_dir = _results(tmp_path)
    spec = space.load_spec({**SPEC, "ppl": {**SPEC["ppl"], "confirm": "none"}})
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cl:
        d = dse.run_dse(spec, tmp_path / "d", res_dir, evaluator="fake", dask_address=cl.scheduler_address,
                        progress=False, log=lambda s: None).df
    s = dse.run_dse(spec, tmp_path / "s", res_dir, evaluator="fake", progress=False, log=lambda s: None).df
    assert d["ppl"].tolist() == s["ppl"].tolist() and len(d) == 16


def test_hardware_only_and_uncostable(tmp_path):
    res_dir = _results(tmp_path)
    r = dse.run_dse(space.load_spec(SPEC), tmp_path / "o", res_dir, evaluator="none", progress=False,
                    log=lambda s: None)
    assert "ppl" not in r.objectives and any("HARDWARE ONLY" in n for n in r.notes)
    bad = {**SPEC, "stages": {"qk": {**SPEC["stages"]["qk"], "scheme": "klein"}}}
    with pytest.raises(ValueError, match="klein|SCHEME=5"):
        dse.run_dse(space.load_spec(bad), tmp_path / "o2", res_dir, evaluator="fake", progress=False,
                    log=lambda s: None)


def test_cli_bad_spec_is_one_line(tmp_path, capsys):
    p = tmp_path / "s.yaml"
    p.write_text("stages: {qk: {elem: E4M3, k: 32, acc: FP32, scheme: nope, length: 64}}\n")
    assert main(["dse", "run", str(p), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "scheme" in err[0]
    assert main(["summary", str(tmp_path / "missing")]) == 2


def test_cli_fit_and_run_with_fake_evaluator(tmp_path, capsys):
    res_dir = _results(tmp_path)
    assert main(["synth", "fit", "--results", str(res_dir)]) == 0
    out = capsys.readouterr().out
    assert "mx_block_value" in out and "acc_seq" in out and "held-out" in out
    assert (res_dir / "cost_model_residuals.png").stat().st_size > 1000
    assert (res_dir / "cost_model.json").exists() and (res_dir / "cost_model_validation.txt").exists()
    import yaml

    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    rc = main(["run", "--spec", str(spec), "-o", str(tmp_path / "o"), "--results", str(res_dir), "--evaluator", "fake",
               "-j", "1", "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0 and "best candidate" in out and "apace run finished" in out
    assert (tmp_path / "o" / "t" / "results.parquet").exists()


def test_quant_adapter_builds_the_right_config(monkeypatch):
    quant = pytest.importorskip("quant")
    seen = {}

    def fake_eval(cfg, progress=True):
        seen["cfg"] = cfg
        return quant.PplResult(ppl=12.5, tokens=cfg.max_tokens, wall_s=0.1, cpu_s=0.1, config_hash="h")

    monkeypatch.setattr(quant, "evaluate_ppl", fake_eval)
    spec = space.load_spec({**SPEC, "stages": {
        "qk": {"elem": "E2M1", "k": 8, "acc": "BF16", "scheme": "kahan", "length": 64},
        "scores": {"elem": "none", "k": 32, "acc": "FP16", "scheme": "neumaier", "length": 256},
        "pv": {"elem": "E4M3", "k": 32, "acc": "FP32", "scheme": "naive", "length": 256}}})
    out = dse.quant_evaluator(spec.points[0].to_dict(), "exact", spec.ppl)
    cfg = seen["cfg"]
    assert out["ppl"] == 12.5 and out["tokens"] == 64
    assert (cfg.ctx, cfg.stride, cfg.max_tokens, cfg.attn.mode) == (32, 32, 64, "exact")
    assert (cfg.attn.qk.elem, cfg.attn.qk.k, cfg.attn.pv.elem, cfg.attn.scores.elem) == ("E2M1", 8, "E4M3", "none")
    assert (cfg.attn.acc_qk.scheme, cfg.attn.acc_qk.acc) == ("kahan", "BF16")
    assert (cfg.attn.acc_sum.scheme, cfg.attn.acc_sum.acc) == ("neumaier", "FP16")
    assert (cfg.attn.acc_pv.scheme, cfg.attn.acc_pv.acc) == ("naive", "FP32")


def test_first_evaluation_of_a_run_goes_alone(monkeypatch):
    monkeypatch.setattr(dse, "_PREPARED", set())
    todo = [("p1", "k1"), ("p2", "k2"), ("p3", "k3")]
    assert dse._first_alone(todo, "quant") == [[("p1", "k1")], [("p2", "k2"), ("p3", "k3")]]
    assert dse._first_alone(todo[:1], "quant") == [todo[:1]]
    dse._PREPARED.add("quant")  # after one finished evaluation, later rounds run in one parallel batch
    assert dse._first_alone(todo, "quant") == [todo]


def test_statistical_cache_key_follows_error_model_and_kernel(monkeypatch):
    """A statistical perplexity is cached under the error model's identity and the statistical kernel's
    version: a regenerated model or a changed kernel is recomputed, exact-mode keys do not change."""
    import quant.ppl as qppl

    p, ppl = space.load_spec(SPEC).points[0], {"tokens": 64, "seq_len": 32, "seed": 0}
    monkeypatch.setattr(qppl, "load_error_model", lambda: "model-a")
    monkeypatch.setattr(qppl, "error_model_key", lambda em: em)
    k_a, x_a = dse.ppl_key(p, "statistical", "quant", ppl), dse.ppl_key(p, "exact", "quant", ppl)
    monkeypatch.setattr(qppl, "load_error_model", lambda: "model-b")
    assert dse.ppl_key(p, "statistical", "quant", ppl) != k_a
    assert dse.ppl_key(p, "exact", "quant", ppl) == x_a
    monkeypatch.setattr(qppl, "STATISTICAL_KERNEL", qppl.STATISTICAL_KERNEL + 1)
    k_b = dse.ppl_key(p, "statistical", "quant", ppl)
    monkeypatch.setattr(qppl, "STATISTICAL_KERNEL", qppl.STATISTICAL_KERNEL - 1)
    assert dse.ppl_key(p, "statistical", "quant", ppl) != k_b

"""apace.synth: Yosys runner, stat parsing, parameter grids, content-hash cache, append-per-row."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from apace import synth
from apace.cli import main

FIX = Path(__file__).parent / "fixtures" / "rtl"


def test_parse_stat_counts_cells_by_kind():
    stat = {"design": {"num_cells": 31, "num_cells_by_type": {
        "LUT2": 4, "LUT6": 3, "FDRE": 5, "FDSE": 1, "CARRY4": 2, "MUXF7": 1, "DSP48E1": 2, "RAMB18E1": 1,
        "RAMB36E1": 1, "RAM32X1D": 2}}}
    r = synth.parse_stat(stat)
    assert (r["lut"], r["lut2"], r["lut6"], r["lut1"]) == (7, 4, 3, 0)
    assert (r["ff"], r["carry"], r["mux"], r["dsp"], r["bram"], r["lutram"]) == (6, 2, 1, 2, 1.5, 2)
    assert r["cells"] == 31


def test_parse_ltp():
    assert synth.parse_ltp("foo\nLongest topological path in tiny_add (length=9):\n") == 9
    assert synth.parse_ltp("nothing here") is None


def test_expand_grid_product_and_ties():
    pts = synth.expand_grid({"EW": [4, 5], "MW": [2, 3, 7], "CEW": "=EW", "S": 1})
    assert len(pts) == 6
    assert all(p["CEW"] == p["EW"] and p["S"] == 1 for p in pts)
    assert {(p["EW"], p["MW"]) for p in pts} == {(e, m) for e in (4, 5) for m in (2, 3, 7)}


@pytest.mark.parametrize("grid, word", [({"EW": []}, "empty"), ({"EW": ["x"]}, "integers"), ({"EW": "x"}, "OTHER"), ({"EW": [1.5]}, "integers"),
                                        ({"A": "=B"}, "OTHER")])
def test_expand_grid_errors(grid, word):
    with pytest.raises(ValueError, match=word):
        synth.expand_grid(grid)


def test_dependencies_defaults_and_unknown_top():
    deps = synth.dependencies("tiny_mac", FIX)
    assert [p.name for p in deps] == ["tiny_add.v", "tiny_mac.v"]
    assert [p.name for p in synth.dependencies("tiny_add", FIX)] == ["tiny_add.v"]
    assert synth.module_defaults("tiny_add", FIX) == {"W": 8, "REG": 1}
    with pytest.raises(synth.SynthError, match="tiny_add"):
        synth.dependencies("nope", FIX)


def test_key_depends_on_dependency_contents_only(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(FIX, src)
    (src / "other.v").write_text("module other; endmodule\n")
    k0 = synth.SynthJob.make("tiny_mac", {"W": 4}, src_dir=src).key()
    # defaults are filled in, so W=4 given explicitly or not changes nothing for tiny_add's REG
    assert synth.SynthJob.make("tiny_add", {"W": 4}, src_dir=src).key() == \
        synth.SynthJob.make("tiny_add", {"W": 4, "REG": 1}, src_dir=src).key()
    (src / "other.v").write_text("module other; wire x; endmodule\n")
    assert synth.SynthJob.make("tiny_mac", {"W": 4}, src_dir=src).key() == k0
    add = (src / "tiny_add.v").read_text()
    # a comment or simulation-only code is not what Yosys synthesises: same key, new provenance hash
    h0 = synth.SynthJob.make("tiny_mac", {"W": 4}, src_dir=src).rtl_hash()
    (src / "tiny_add.v").write_text(add + "\n// edited\n`ifndef SYNTHESIS\nmodule sim_only; endmodule\n`endif\n")
    assert synth.SynthJob.make("tiny_mac", {"W": 4}, src_dir=src).key() == k0
    assert synth.SynthJob.make("tiny_mac", {"W": 4}, src_dir=src).rtl_hash() != h0
    # what synthesis reads changes the key: code, or the SYNTHESIS branch of a conditional
    (src / "tiny_add.v").write_text(add + "\n`ifdef SYNTHESIS\nmodule syn_only; endmodule\n`endif\n")
    assert synth.SynthJob.make("tiny_mac", {"W": 4}, src_dir=src).key() != k0
    (src / "tiny_add.v").write_text(add + "\nmodule extra; endmodule\n")
    assert synth.SynthJob.make("tiny_mac", {"W": 4}, src_dir=src).key() != k0
    assert synth.SynthJob.make("tiny_mac", {"W": 5}, src_dir=src).key() != k0


def test_synthesis_view_resolves_synthesis_conditionals():
    text = ("module m(input a, output y);  // top\n/* block\ncomment */\n`ifdef SYNTHESIS\n  assign y = a;\n"
            "`else\n  reg r; always @* r <= a; assign y = r;\n`endif\n`ifdef OTHER\n  wire w;\n`endif\n"
            "`ifndef SYNTHESIS\n  initial $display(\"sim\");\n`endif\nendmodule\n")
    assert synth.synthesis_view(text) == ("module m(input a, output y);\n  assign y = a;\n`ifdef OTHER\n  wire w;\n"
                                          "`endif\nendmodule\n")
    with pytest.raises(synth.SynthError, match="elsif"):
        synth.synthesis_view("`ifdef SYNTHESIS\n`elsif X\n`endif\n")


def test_interrupted_sweep_keeps_finished_rows(tmp_path, monkeypatch):
    calls = []

    def fake_run(job, yosys="yosys"):
        calls.append(job)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return {"key": job.key(), "unit": job.unit, "top": job.top, "params": json.dumps(job.param_dict),
                "status": "ok", "lut": 10, "ff": 5}

    monkeypatch.setattr(synth, "run_job", fake_run)
    jobs = [synth.SynthJob.make("tiny_add", {"W": w}, src_dir=FIX) for w in (2, 3, 4)]
    with pytest.raises(KeyboardInterrupt):
        synth.run_jobs(jobs, 1, tmp_path, progress=False)
    rows = list(csv.DictReader((tmp_path / "tiny_add.csv").open()))
    assert [r["key"] for r in rows] == [calls[0].key()]
    # the rerun skips the finished job and runs the other two
    calls.clear()
    calls.extend([None, None])  # past the interrupting call
    rep = synth.run_jobs(jobs, 1, tmp_path, progress=False)
    assert rep.cached == 1 and len(rep.done) == 2


@pytest.mark.slow
def test_yosys_synthesis_of_fixture_and_cache(tmp_path):
    jobs = [synth.SynthJob.make("tiny_add", {"W": 4, "REG": r}, src_dir=FIX) for r in (0, 1)]
    rep = synth.run_jobs(jobs, 2, tmp_path, progress=False)
    assert rep.failed == 0 and len(rep.done) == 2
    df = synth.load_results(tmp_path)
    by_reg = {int(r["REG"]): r for _, r in df.iterrows()}
    # a registered (W+1)-bit sum needs exactly W+1 flip-flops; the combinational one none
    assert by_reg[1]["ff"] == 5 and by_reg[0]["ff"] == 0
    assert by_reg[0]["lut"] > 0 and by_reg[0]["carry"] >= 1 and by_reg[0]["logic_depth"] >= 2
    assert "synth_xilinx -flatten -noiopad -noclkbuf -top tiny_add" in by_reg[0]["command"]
    assert by_reg[0]["tool_version"].startswith("Yosys")
    rep2 = synth.run_jobs(jobs, 2, tmp_path, progress=False)
    assert rep2.cached == 2 and not rep2.done
    assert len(list(csv.DictReader((tmp_path / "tiny_add.csv").open()))) == 2


@pytest.mark.slow
def test_illegal_parameter_is_a_failed_row(tmp_path):
    job = synth.SynthJob.make("tiny_add", {"W": 0}, src_dir=FIX)  # zero-width port: Yosys rejects it
    row = synth.run_job(job)
    assert row["status"] == "error" and row["error"]


def test_cli_errors_name_the_parameter(capsys):
    rc = main(["synth", "run", "tiny_add", "--src", str(FIX), "-p", "X=3"])
    err = capsys.readouterr().err
    assert rc == 2 and "X" in err and "W" in err
    rc = main(["synth", "run", "tiny_add", "--src", str(FIX), "-p", "W=a"])
    assert rc == 2 and "integers" in capsys.readouterr().err
    rc = main(["synth", "run", "nope", "--src", str(FIX)])
    assert rc == 2 and "available" in capsys.readouterr().err


@pytest.mark.parametrize("package", ["apace", "characterize", "quant"])
def test_data_files_ship_as_package_data(package):
    """Every file in <package>/data/ matches the package-data globs, so a non-editable install has it."""
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

    root = Path(__file__).resolve().parents[2]
    table = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped = [f for f in (root / package / "data").iterdir() if f.is_file()]
    assert shipped, f"{package}/data is empty"
    globs = table.get(package, [])
    missing = [f.name for f in shipped if not any(f.match(g) for g in globs)]
    assert not missing, f"{package}/data files not in [tool.setuptools.package-data]: {missing}"


def test_apace_defaults_found_through_importlib():
    import importlib.resources

    for name in ("default_dse.yaml", "synth_sweep.yaml"):
        assert (importlib.resources.files("apace") / "data" / name).is_file()


def test_newest_synthesis_of_the_same_design_wins(tmp_path):
    params = json.dumps({"EW": 8, "MW": 7})
    for key, ts, lut in (("new", "2026-11-22T03:00:00+00:00", 120), ("old", "2026-11-21T03:00:00+00:00", 100)):
        synth.append_row(synth.results_path("u", tmp_path), {"key": key, "unit": "u", "top": "u", "params": params,
                                                              "tool": "yosys", "status": "ok", "lut": lut,
                                                              "timestamp": ts})
    df = synth.load_results(tmp_path)
    assert len(df) == 1 and df.iloc[0]["lut"] == 120 and df.iloc[0]["key"] == "new"

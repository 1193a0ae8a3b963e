"""RTL hygiene: verilator --lint-only -Wall is clean for every src/ module at its parameter sets
(scripts/lint_rtl.py), illegal parameters fail elaboration with a message naming the parameter, and
Yosys reads and synthesises (synth_xilinx -flatten -noiopad -noclkbuf) every module."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
_spec = importlib.util.spec_from_file_location("lint_rtl", ROOT / "scripts" / "lint_rtl.py")
lint_rtl = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lint_rtl)

needs_verilator = pytest.mark.skipif(shutil.which("verilator") is None, reason="verilator not on PATH (scripts/setup.sh)")
needs_yosys = pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed")


def _tag(p: dict) -> str:
    return ",".join(f"{k}{v}" for k, v in p.items()) or "defaults"


LINT_CASES = [pytest.param(m, lint_rtl.param_sets(m), id=m) for m in lint_rtl.modules()]


@needs_verilator
@pytest.mark.parametrize("module,sets", LINT_CASES)
def test_verilator_lint_clean(module, sets):
    for p in sets:
        ok, out = lint_rtl.lint(module, p)
        assert ok, f"verilator -Wall on {module} [{_tag(p)}]:\n{out}"


ILLEGAL = [
    ("fp_add", {"EW": 9, "MW": 3}, "ILLEGAL_PARAMETER_EW"),
    ("fp_add", {"EW": 4, "MW": 0, "SPECIAL": 2, "OVF": 0}, "ILLEGAL_PARAMETER_MW"),
    ("fp_add", {"EW": 4, "MW": 3, "SPECIAL": 1, "OVF": 1}, "ILLEGAL_PARAMETER_OVF_inf_needs_SPECIAL_ieee"),
    ("fp_add", {"EW": 3, "MW": 2, "SPECIAL": 2, "OVF": 2}, "ILLEGAL_PARAMETER_OVF_nan_needs"),
    ("fp_add", {"EW": 5, "MW": 2, "LATENCY": 9}, "ILLEGAL_PARAMETER_LATENCY"),
    ("acc_seq", {"SCHEME": 6}, "ILLEGAL_PARAMETER_SCHEME"),
    ("acc_seq", {"CEW": 1, "CSPECIAL": 0, "COVF": 1}, "ILLEGAL_PARAMETER_SPECIAL_ieee_needs_EW"),
    ("acc_tree", {"N": 0}, "ILLEGAL_PARAMETER_N"),
    ("acc_kulisch_seq", {"MAXLEN": 0}, "ILLEGAL_PARAMETER_MAXLEN"),
    ("acc_kulisch_tree", {"N": 0}, "ILLEGAL_PARAMETER_N"),
    ("kulisch_term", {"EW": 5, "MW": 10, "SPECIAL": 0, "FW": 40}, "ILLEGAL_PARAMETER_FW"),
    ("fp_round", {"SUBEXACT": 2}, "ILLEGAL_PARAMETER_SUBEXACT"),
    ("fp_round", {"EW": 5, "MW": 10, "ZW": 10, "SUBEXACT": 1}, "ILLEGAL_PARAMETER_ZW"),
    ("acc_pairwise_seq", {"MAXLEN": 0}, "ILLEGAL_PARAMETER_MAXLEN"),
    ("acc_pairwise_seq", {"SCHEME": 6}, "ILLEGAL_PARAMETER_SCHEME"),
]


@needs_verilator
@pytest.mark.parametrize("module,params,msg", ILLEGAL, ids=[f"{m}-{_tag(p)}" for m, p, _ in ILLEGAL])
def test_illegal_parameters_fail_elaboration(module, params, msg):
    ok, out = lint_rtl.lint(module, params)
    assert not ok and msg in out, f"{module} {params} should fail naming {msg}; got:\n{out[-2000:]}"


def test_illegal_parameters_fail_in_icarus():
    if shutil.which("iverilog") is None:
        pytest.skip("iverilog not installed")
    srcs = [str(p) for p in sorted(SRC.glob("*.v"))]
    r = subprocess.run(["iverilog", "-g2012", "-o", "/dev/null", "-s", "fp_add", "-Pfp_add.EW=9", *srcs],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "ILLEGAL_PARAMETER_EW" in r.stdout + r.stderr


# one small parameter set per module for synthesis (the lint sets cover the rest); the accumulators
# use a small finite format so that the synthesis of every module stays around a minute of CPU
E4M3 = {"EW": 4, "MW": 3, "SPECIAL": 1, "OVF": 2}
E3M2 = {"EW": 3, "MW": 2, "SPECIAL": 2, "OVF": 0}
E3M2C = {"CEW": 3, "CMW": 2, "CSPECIAL": 2, "COVF": 0}
SYNTH: dict[str, dict] = {
    "fp_param_check": E4M3,
    "fp_unpack": {"EW": 5, "MW": 10, "SPECIAL": 0},
    "fp_round": {**E4M3, "ZW": 12},
    "fp_add": {"EW": 5, "MW": 10, "SPECIAL": 0, "OVF": 1, "LATENCY": 1},
    "fp_add_mix": {"AEW": 4, "AMW": 3, "ASPECIAL": 1, "BEW": 5, "BMW": 2, "BSPECIAL": 0, **E4M3},
    "fp_cvt": {"IEW": 5, "IMW": 10, "ISPECIAL": 0, **E4M3},
    "fp_cmp_mag": {"AEW": 4, "AMW": 3, "ASPECIAL": 1, "BEW": 5, "BMW": 10, "BSPECIAL": 0},
    "acc_step": {**E3M2, **E3M2C, "SCHEME": 5},
    "acc_final": {**E3M2, **E3M2C, "SCHEME": 5},
    "acc_combine": {**E3M2, **E3M2C, "SCHEME": 1},
    "acc_seq": {**E3M2, **E3M2C, "SCHEME": 2},
    "acc_tree": {**E3M2, **E3M2C, "SCHEME": 0, "N": 3},
    "acc_kulisch_seq": {**E4M3, "MAXLEN": 64},
    "acc_kulisch_tree": {**E4M3, "N": 3},
    "kulisch_term": {"EW": 4, "MW": 3, "SPECIAL": 1},
    "acc_pairwise_seq": {**E3M2, **E3M2C, "SCHEME": 4, "MAXLEN": 32},
}


# The MX modules (mx_block_sum, mx_fix2float, mx_block_value inside mx_dot, mx_tile) are synthesised at
# small parameter sets by tb/mx_dot/test_mx_hygiene.py; at their defaults here they would cost minutes.
SYNTH_MODULES = [m for m in lint_rtl.modules() if not m.startswith("mx_")]


@needs_yosys
@pytest.mark.slow
@pytest.mark.parametrize("module", SYNTH_MODULES)
def test_yosys_synth_xilinx(module, tmp_path):
    params = SYNTH.get(module, {})
    srcs = " ".join(str(p) for p in sorted(SRC.glob("*.v")))
    chp = f"chparam {' '.join(f'-set {k} {v}' for k, v in params.items())} {module}; " if params else ""
    script = f"read_verilog -sv {srcs}; {chp}synth_xilinx -flatten -noiopad -noclkbuf -top {module}; stat"
    r = subprocess.run(["yosys", "-q", "-l", str(tmp_path / "yosys.log"), "-p", script], capture_output=True,
                       text=True, cwd=tmp_path)
    log = (tmp_path / "yosys.log").read_text() if (tmp_path / "yosys.log").exists() else ""
    assert r.returncode == 0, f"yosys failed on {module} {params}:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    assert "Number of cells" in log, f"no cell statistics for {module}:\n{log[-2000:]}"

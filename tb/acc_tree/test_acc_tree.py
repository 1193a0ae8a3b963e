"""pytest entry for acc_tree: simulator x (acc, comp) x N."""

from __future__ import annotations

from pathlib import Path

import pytest

from golden.formats import BF16, E4M3, FP16
from tb.common.formats import fmt_to_json, rtl_params
from tb.common.runner import SimJob, full_run, run_cocotb, sim_params, src_files

HERE = Path(__file__).resolve().parent
RTL = ("acc_tree", "acc_combine", "fp_cvt", "acc_step", "acc_final", "fp_cmp_mag", "fp_add_mix", "fp_unpack",
       "fp_round", "fp_param_check")
SOURCES = [*src_files(*RTL), HERE / "acc_tree_lanes.v"]

SETS = [(E4M3, E4M3), (FP16, FP16), (BF16, BF16), (BF16, FP16)]
NS = (1, 2, 3, 31, 32)


def _key(c) -> str:
    (acc, comp), n = c
    return f"{acc.label()}-c{comp.label()}-N{n}"


def _run(sim, c, count) -> None:
    (acc, comp), n = c
    lanes = 4 if n <= 3 else 1
    params = {**rtl_params(acc), **rtl_params(comp, "C"), "N": n, "LANES": lanes}
    cfg = {"acc": fmt_to_json(acc), "comp": fmt_to_json(comp), "lanes": lanes, "n": n, "count": count, "seed": 5}
    run_cocotb(SimJob(sim, "acc_tree_lanes", SOURCES, params, "cocotb_acc_tree", HERE), cfg)


# Verilator builds of the 6-scheme wrapper grow fast with N (N = 31: > 100 C++ files, tens of CPU
# minutes), so the default run keeps N = 3 (one odd pass-up, two levels) and sim-full runs the rest.
DEFAULT = [((E4M3, E4M3), 3), ((BF16, FP16), 3)]


@pytest.mark.parametrize("sim,c", sim_params(DEFAULT, key=_key, sims=("verilator",)))
def test_acc_tree(sim, c):
    if full_run():
        pytest.skip("sim-full runs this set in test_acc_tree_full")
    _run(sim, c, 400)


@pytest.mark.full
@pytest.mark.parametrize("sim,c", sim_params([(s, n) for s in SETS for n in NS], key=_key))
def test_acc_tree_full(sim, c):
    _run(sim, c, 2000)

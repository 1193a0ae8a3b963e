"""pytest entry for acc_kulisch_tree: simulator x format, trees of N = 1, 2, 3, 31, 32, 1000 in one build."""

from __future__ import annotations

from pathlib import Path

import pytest

from golden.formats import BF16, E4M3, E5M2, FP16
from tb.common.formats import fmt_to_json, rtl_params
from tb.common.runner import SimJob, full_run, quick_cxx, run_cocotb, sim_params, src_files

HERE = Path(__file__).resolve().parent
SOURCES = [*src_files("acc_kulisch_tree", "kulisch_term", "fp_round", "fp_param_check"), HERE / "acc_kulisch_trees.v"]
NBIG = 1000
NS = (1, 2, 3, 31, 32, NBIG)  # acc_kulisch_trees' order
# an 8-bit (fn, NaN on overflow), FP16 and BF16 (ieee, Inf on overflow), E5M2 (ieee, small)
SETS = [E4M3, FP16, BF16, E5M2]


def _run(sim, acc, count) -> None:
    params = {**rtl_params(acc), "NBIG": NBIG}
    cfg = {"acc": fmt_to_json(acc), "ns": list(NS), "count": count, "seed": 17}
    run_cocotb(SimJob(sim, "acc_kulisch_trees", SOURCES, params, "cocotb_acc_kulisch_tree", HERE, quick_cxx(sim)), cfg)


@pytest.mark.parametrize("sim,acc", sim_params(SETS[:2], key=lambda f: f.label()))
def test_acc_kulisch_tree(sim, acc):
    if full_run():
        pytest.skip("sim-full runs this set in test_acc_kulisch_tree_full")
    _run(sim, acc, 300)


@pytest.mark.full
@pytest.mark.parametrize("sim,acc", sim_params(SETS, key=lambda f: f.label()))
def test_acc_kulisch_tree_full(sim, acc):
    _run(sim, acc, 2000)

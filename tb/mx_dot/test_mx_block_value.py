"""pytest: the exact part of the MX dot product (one block -> accumulator format) against golden."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from golden.formats import parse_format  # noqa: E402
from tb.common.runner import SimJob, run_cocotb, sim_params, src_files  # noqa: E402
from tb.mx_dot.mx_vectors import acc_params, elem_params  # noqa: E402

TB_DIR = Path(__file__).resolve().parent
SOURCES = [*src_files("mx_block_sum", "mx_fix2float", "mx_block_value"),
           TB_DIR / "mx_block_value_lanes.v", TB_DIR / "mx_player.v", TB_DIR / "mx_block_value_bench.v"]
DEPTH = 1024  # beats per player chunk (tb/mx_dot/mx_player.v)

# (elem a, elem b, k, acc)
# default: one mixed-format set, Icarus only (a build costs seconds there; test_mx_dot's default covers
# the block path on both simulators); every set on both simulators under `full`
DEFAULT = [("E2M1", "E5M2", 2, "E4M3")]
_ACCS = ("BF16", "FP16", "E4M3", "E3M2", "FP32")
FULL = [(ea, ea, k, _ACCS[(i + j) % len(_ACCS)]) for i, ea in enumerate(("INT8", "E2M1", "E4M3", "E5M2", "E3M2", "E2M3"))
        for j, k in enumerate((2, 8, 32))] + [("E2M1", "INT8", 8, "FP16"), ("E5M2", "E4M3", 32, "FP32")]


def _key(c) -> str:
    return f"{c[0]}x{c[1]}-k{c[2]}-{c[3]}"


@pytest.mark.parametrize("sim,cfg", [p for p in sim_params(DEFAULT, key=_key) if p.values[0] == "icarus"])
def test_block_value(sim, cfg):
    _run(sim, cfg, n=500)


@pytest.mark.full
@pytest.mark.parametrize("sim,cfg", sim_params(FULL, key=_key))
def test_block_value_full(sim, cfg):
    _run(sim, cfg, n=1000)


def _run(sim, cfg, n):
    ea, eb, k, acc = cfg
    fa, fb, fc = parse_format(ea), parse_format(eb), parse_format(acc)
    lanes = 16 if k <= 8 else 4
    params = {"L": lanes, "K": k, "DEPTH": DEPTH, **elem_params(fa, "A"), **elem_params(fb, "B"), **acc_params(fc)}
    job = SimJob(sim, "mx_block_value_bench", SOURCES, params, "cocotb_mx_block_value", TB_DIR)
    run_cocotb(job, {"elem_a": ea, "elem_b": eb, "acc": acc, "k": k, "lanes": lanes, "depth": DEPTH, "n": n, "nb": 2,
                     "kinds": ["random", "adversarial", "real"], "seed": 1 + k + 7 * len(ea)})

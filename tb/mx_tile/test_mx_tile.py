"""pytest: the R x C MX matmul tile (src/mx_tile.v) against golden.mx.mx_matmul, bit-exact."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from golden.formats import parse_format  # noqa: E402
from tb.common.runner import SimJob, run_cocotb, sim_params  # noqa: E402
from tb.mx_dot.mx_vectors import acc_params, elem_params  # noqa: E402
from tb.mx_dot.test_mx_dot import SCHEME_IDS, rtl_closure  # noqa: E402

TB_DIR = Path(__file__).resolve().parent
SOURCES = [*rtl_closure("mx_tile"), TB_DIR.parent / "mx_dot" / "mx_player.v", TB_DIR / "mx_tile_bench.v"]
DEPTH = 1024  # beats per player chunk (tb/mx_dot/mx_player.v)

# (scheme, element format, k, accumulator, R, C)
DEFAULT = [("neumaier", "E4M3", 8, "BF16", 2, 2)]
FULL = [("naive", "INT8", 2, "FP16", 3, 2), ("kulisch", "E2M1", 32, "BF16", 2, 2), ("klein", "E5M2", 8, "E4M3", 2, 3)]


def _key(c) -> str:
    return "-".join(str(x) for x in c)


def run(sim: str, cfg, tiles: int) -> None:
    scheme, elem, k, acc, R, C = cfg
    fe, fc = parse_format(elem), parse_format(acc)
    params = {"R": R, "C": C, "K": k, "DEPTH": DEPTH, "SCHEME": SCHEME_IDS[scheme], **elem_params(fe, "A"), **elem_params(fe, "B"),
              **acc_params(fc)}
    job = SimJob(sim, "mx_tile_bench", SOURCES, params, "cocotb_mx_tile", TB_DIR)
    run_cocotb(job, {"elem": elem, "acc": acc, "scheme": scheme, "k": k, "R": R, "C": C, "tiles": tiles, "depth": DEPTH,
                     "lengths": [1, 2, 5, 16], "seed": 5 + k + SCHEME_IDS[scheme]})


@pytest.mark.parametrize("sim,cfg", sim_params(DEFAULT, key=_key))
def test_mx_tile(sim, cfg):
    run(sim, cfg, tiles=200 if sim == "verilator" else 40)


@pytest.mark.full
@pytest.mark.parametrize("sim,cfg", sim_params(FULL, key=_key))
def test_mx_tile_full(sim, cfg):
    run(sim, cfg, tiles=200)

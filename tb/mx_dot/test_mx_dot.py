"""pytest: the streaming MX dot-product unit (src/mx_dot.v) against golden.mx.mx_dot, bit-exact.

Default run: a representative subset on both simulators.  `nox -s sim-full` (marker `full`) runs the
acceptance matrix: every scheme x element formats INT8, E2M1, E4M3, E5M2 x k in {2, 8, 32}, each
with reduction lengths 1, 2 and 16 blocks, sets random / adversarial / real, 1000 dot products per
set (so 9000 per build), on Verilator and Icarus.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from golden.formats import parse_format  # noqa: E402
from tb.common.runner import SimJob, run_cocotb, sim_params, src_files  # noqa: E402
from tb.mx_dot.mx_vectors import KINDS, acc_params, elem_params  # noqa: E402

TB_DIR = Path(__file__).resolve().parent
SCHEME_IDS = {"naive": 0, "kahan": 1, "neumaier": 2, "twosum": 3, "fasttwosum": 4, "klein": 5, "kulisch": 6}
ELEMS = ("INT8", "E2M1", "E4M3", "E5M2")
ACCS = ("BF16", "FP16", "E4M3", "E5M2")
LENGTHS = (1, 2, 16)


def sources(scheme: str) -> list[Path]:
    acc = ["acc_kulisch_seq"] if scheme == "kulisch" else ["acc_seq"]
    rtl = [p.stem for p in (TB_DIR.parents[1] / "src").glob("*.v") if p.stem.startswith(("fp_", "acc_"))]
    return [*src_files(*sorted(set(rtl) | set(acc)), "mx_block_sum", "mx_fix2float", "mx_block_value", "mx_dot"),
            TB_DIR / "mx_dot_lanes.v"]


def lanes_for(k: int) -> int:
    """Lanes per clock: L*k <= 64 element pairs keeps the simulation model (and its build) small."""
    return max(2, 64 // k)


def dut_params(scheme: str, elem: str, k: int, acc: str) -> dict[str, int]:
    fe, fc = parse_format(elem), parse_format(acc)
    p = {"L": lanes_for(k), "K": k, "SCHEME": SCHEME_IDS[scheme], **elem_params(fe, "A"), **elem_params(fe, "B"),
         **acc_params(fc), **acc_params(fc, "C")}
    return p


# (scheme, element format, k, accumulator format)
FULL = [(s, e, k, ACCS[(i + j) % len(ACCS)]) for i, s in enumerate(SCHEME_IDS) for j, e in enumerate(ELEMS)
        for k in (2, 8, 32)]
DEFAULT_VERILATOR = [("kahan", "E4M3", 32, "BF16"), ("kulisch", "INT8", 8, "FP16"), ("twosum", "E2M1", 2, "E4M3")]
DEFAULT_ICARUS = [("naive", "E5M2", 8, "BF16"), ("klein", "INT8", 2, "E5M2")]


def _only(configs, sim: str) -> list:
    """The configs on one simulator only (and only if $APACE_SIMS selects it)."""
    return [p for p in sim_params(configs, key=_key) if p.values[0] == sim]


def _key(c) -> str:
    return f"{c[0]}-{c[1]}-k{c[2]}-{c[3]}"


def run(sim: str, cfg, n: int, lengths=LENGTHS, stall: bool = False) -> None:
    scheme, elem, k, acc = cfg
    job = SimJob(sim, "mx_dot_lanes", sources(scheme), dut_params(scheme, elem, k, acc), "cocotb_mx_dot", TB_DIR)
    run_cocotb(job, {"elem_a": elem, "elem_b": elem, "acc": acc, "scheme": scheme, "k": k, "lanes": lanes_for(k),
                     "n": n, "lengths": list(lengths), "kinds": list(KINDS), "stall": stall,
                     "seed": 11 + k + 97 * SCHEME_IDS[scheme] + 7 * ELEMS.index(elem)})


@pytest.mark.parametrize("sim,cfg", _only(DEFAULT_VERILATOR, "verilator") + _only(DEFAULT_ICARUS, "icarus"))
def test_mx_dot(sim, cfg):
    run(sim, cfg, n=1000 if sim == "verilator" else 200, stall=cfg[0] == "kahan")


@pytest.mark.full
@pytest.mark.parametrize("sim,cfg", sim_params(FULL, key=_key))
def test_mx_dot_full(sim, cfg):
    run(sim, cfg, n=1000)

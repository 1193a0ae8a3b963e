"""pytest entry for the fp_add testbench: simulator x format (x latency), golden as scoreboard."""

from __future__ import annotations

from pathlib import Path

import pytest

from golden.formats import BF16, E2M1, E2M3, E3M2, E4M3, E5M2, FP16, FloatFormat
from tb.common.formats import fmt_to_json, rtl_params
from tb.common.runner import SimJob, run_cocotb, sim_params, src_files

HERE = Path(__file__).resolve().parent
SOURCES = [*src_files("fp_add", "fp_add_mix", "fp_unpack", "fp_round", "fp_param_check"), HERE / "fp_add_lanes.v"]
LANES = 64

# (format, mode, n_random, latency, twosum)
EXHAUSTIVE = [(f, "exhaustive", 0, 0, f is E4M3) for f in (E2M1, E2M3, E3M2, E4M3, E5M2)]
RANDOM = [(FP16, "random", 100_000, 0, False), (BF16, "random", 100_000, 1, False)]
EXTRA = [  # other policy combinations: ieee with saturation / nan on overflow, fn with saturation
    (FloatFormat(5, 2, special="ieee", overflow="saturate"), "exhaustive", 0, 0, False),
    (FloatFormat(5, 2, special="ieee", overflow="nan"), "exhaustive", 0, 1, False),
    (FloatFormat(4, 3, special="fn", overflow="saturate"), "exhaustive", 0, 0, False),
    (FloatFormat(3, 4, special="finite", overflow="saturate"), "exhaustive", 0, 0, False),
]


def _key(c) -> str:
    f, mode, _, lat, _ = c
    return f"{f.label()}-{f.special}-{f.overflow}-L{lat}"


def _job(sim: str, fmt: FloatFormat, lat: int) -> SimJob:
    params = {**rtl_params(fmt), "LATENCY": lat, "LANES": LANES}
    return SimJob(sim, "fp_add_lanes", SOURCES, params, "cocotb_fp_add", HERE)


def _run(sim, c) -> None:
    fmt, mode, n, lat, twosum = c
    cfg = {"fmt": fmt_to_json(fmt), "lanes": LANES, "latency": lat, "mode": mode, "n_random": n, "seed": 7,
           "twosum": twosum}
    run_cocotb(_job(sim, fmt, lat), cfg)


@pytest.mark.parametrize("sim,c", sim_params(EXHAUSTIVE + RANDOM, key=_key))
def test_fp_add(sim, c):
    _run(sim, c)


@pytest.mark.full
@pytest.mark.parametrize("sim,c", sim_params(EXTRA, key=_key))
def test_fp_add_policies(sim, c):
    _run(sim, c)

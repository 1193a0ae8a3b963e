"""pytest entry for acc_tree: simulator x (acc, comp) x N."""

from __future__ import annotations

from pathlib import Path

import pytest

from golden.formats import BF16, E4M3, FP16
from tb.common.formats import fmt_to_json, rtl_params
from tb.common.long_runs import Part, run_or_skip, split_groups
from tb.common.runner import (
    SimJob,
    full_run,
    icarus_long,
    quick_cxx,
    run_cocotb,
    sim_params,
    simulators,
    src_files,
)

HERE = Path(__file__).resolve().parent
RTL = ("acc_tree", "acc_combine", "fp_cvt", "acc_step", "acc_final", "fp_cmp_mag", "fp_add_mix", "fp_unpack",
       "fp_round", "fp_param_check")
SOURCES = [*src_files(*RTL), HERE / "acc_tree_lanes.v"]

from tb.acc_seq.cocotb_acc_seq import SCHEMES  # noqa: E402

SETS = [(E4M3, E4M3), (FP16, FP16), (BF16, BF16), (BF16, FP16)]
NS = (1, 2, 3, 31, 32)


def _only(sim: str) -> list[str]:
    """[sim] unless $APACE_SIMS leaves it out."""
    return [sim] if sim in simulators() else []


def _key(c) -> str:
    (acc, comp), n, sc = c
    return f"{acc.label()}-c{comp.label()}-N{n}-{sc}"


def _run(sim, c, count) -> None:
    (acc, comp), n, sc = c
    lanes = 4 if n <= 3 else 1
    schemes = list(SCHEMES) if sc == "all" else [sc]
    code = 6 if sc == "all" else SCHEMES.index(sc)
    params = {**rtl_params(acc), **rtl_params(comp, "C"), "N": n, "LANES": lanes, "SCHEME": code}
    cfg = {"acc": fmt_to_json(acc), "comp": fmt_to_json(comp), "lanes": lanes, "n": n, "count": count, "seed": 5,
           "schemes": schemes}
    run_cocotb(SimJob(sim, "acc_tree_lanes", SOURCES, params, "cocotb_acc_tree", HERE, quick_cxx(sim)), cfg)


# Build cost, measured (2 shared cores): with module inlining (Verilator's default) every adder copy is
# its own ~50 kB of C++, and the six-scheme N = 31 wrapper did not compile within 30 min; built with
# `-fno-inline` (quick_cxx) one N = 32 six-scheme tree verilates and compiles in ~3 min, so N = 31 and 32
# run on Verilator with >= 2000 sums per set.  Icarus compiles any N in seconds but evaluates the deep
# combinational node chains event by event (one N = 32 six-scheme E4M3 tree: ~115 s CPU for 32 sums), so
# it runs N = 31/32 with a reduced count (TREE_BIG_COUNT, documented in docs/rtl.md).  Golden's pairwise
# order at lengths >= 1000 is covered with >= 2000 sums per set by the streaming acc_pairwise_seq below
# (same order, same acc_combine node).
DEFAULT = [((E4M3, E4M3), 3, "all"), ((BF16, FP16), 3, "all")]
TREE_BIG_COUNT = 32


@pytest.mark.parametrize("sim,c", sim_params(DEFAULT, key=_key, sims=_only("verilator"))
                         + sim_params(DEFAULT[:1], key=_key, sims=_only("icarus")))
def test_acc_tree(sim, c):
    if full_run():
        pytest.skip("sim-full runs this set in test_acc_tree_full")
    _run(sim, c, 400 if sim == "verilator" else 64)


@pytest.mark.full
@pytest.mark.parametrize("sim,c", sim_params([(s, n, "all") for s in SETS for n in (1, 2, 3)], key=_key))
def test_acc_tree_full(sim, c):
    _run(sim, c, 2000)


BIG = [(s, n, "all") for s in SETS for n in (31, 32)]


@pytest.mark.full
@pytest.mark.parametrize("sim,c", sim_params(BIG, key=_key, sims=_only("verilator"))
                         + sim_params(BIG[:6], key=_key, sims=_only("icarus")))
def test_acc_tree_big_full(sim, c):
    """N = 31 (odd pass-ups at every level) and N = 32 (full levels): >= 2000 sums per set on Verilator,
    TREE_BIG_COUNT on Icarus (E4M3, FP16, BF16)."""
    _run(sim, c, 2000 if sim == "verilator" or icarus_long() else TREE_BIG_COUNT)


# ---- acc_pairwise_seq: golden's pairwise order over long streamed sums (length >= 1000) ----
PW_RTL = ("acc_pairwise_seq", "acc_combine", "fp_cvt", "acc_step", "acc_final", "fp_cmp_mag", "fp_add_mix",
          "fp_unpack", "fp_round", "fp_param_check")
PW_SOURCES = [*src_files(*PW_RTL), HERE / "acc_pairwise_lanes.v"]
PW_LANES = 4
PW_SETS = [(E4M3, E4M3), (FP16, FP16), (BF16, BF16), (BF16, FP16)]
PW_FULL_GROUPS = [[1, 400], [2, 400], [3, 400], [31, 320], [32, 320], [1000, 200], [1025, 8]]  # 2048 sums
PW_QUICK_GROUPS = [[1, 16], [2, 16], [3, 16], [31, 16], [32, 16], [1000, 16]]
# Icarus costs ~0.25 s CPU per cycle for the 24 streaming accumulators (~2 cycles per element), so
# sim-full runs a reduced Icarus count (184 sums, 4 of length 1000) for each of the four format sets
# (documented in docs/rtl.md); Verilator runs the >= 2000-sum matrix for all four.
PW_ICARUS_FULL_GROUPS = [[1, 40], [2, 40], [3, 40], [31, 16], [32, 16], [1000, 4]]
PW_ICARUS_SMOKE = [[1, 8], [2, 8], [3, 8], [31, 8], [32, 8]]
PW_BACKPRESSURE = {"groups": [[1, 64], [2, 64], [3, 64], [5, 64], [31, 16]], "p_valid": 0.7, "p_ready": 0.5}


def _pw_key(s) -> str:
    return f"pw-{s[0].label()}-c{s[1].label()}"


def _pw_job_cfg(sim, s, groups, seed=13, **kw) -> tuple[SimJob, dict]:
    acc, comp = s
    params = {**rtl_params(acc), **rtl_params(comp, "C"), "LANES": PW_LANES, "SCHEME": 6, "MAXLEN": 1025}
    cfg = {"acc": fmt_to_json(acc), "comp": fmt_to_json(comp), "lanes": PW_LANES, "schemes": list(SCHEMES),
           "groups": groups, "seed": seed, **kw}
    return SimJob(sim, "acc_pairwise_lanes", PW_SOURCES, params, "cocotb_acc_pairwise", HERE, quick_cxx(sim)), cfg


def _pw_run(sim, s, groups, **kw) -> None:
    run_cocotb(*_pw_job_cfg(sim, s, groups, **kw))


PW_DEFAULT = sim_params(PW_SETS[:1], key=_pw_key)


@pytest.mark.parametrize("sim,s", PW_DEFAULT)
def test_acc_pairwise_seq(sim, s):
    """Default run: every scheme, E4M3, lengths 1..1000 back to back (Verilator) / 1..32 (Icarus)."""
    if full_run():
        pytest.skip("sim-full runs this set in test_acc_pairwise_seq_full")
    _pw_run(sim, s, PW_QUICK_GROUPS if sim == "verilator" else PW_ICARUS_SMOKE)


@pytest.mark.parametrize("sim,s", PW_DEFAULT)
def test_acc_pairwise_seq_backpressure(sim, s):
    """Random idle input cycles and random m_ready: held results stay stable, every sum matches golden."""
    if sim == "icarus":  # same handshake coverage, fewer sums (Icarus pays ~0.25 s CPU per cycle)
        _pw_run(sim, s, **{**PW_BACKPRESSURE, "groups": [[1, 8], [2, 8], [3, 8], [5, 8], [31, 4]]})
    else:
        _pw_run(sim, s, **PW_BACKPRESSURE)


@pytest.mark.full
@pytest.mark.parametrize("sim,s", sim_params(PW_SETS, key=_pw_key, sims=_only("verilator"))
                         + sim_params(PW_SETS, key=_pw_key, sims=_only("icarus")))
def test_acc_pairwise_seq_full(sim, s):
    """>= 2000 sums per set on Verilator; a reduced count on Icarus (the Verilator counts on Icarus are
    test_acc_pairwise_seq_icarus_long)."""
    _pw_run(sim, s, PW_FULL_GROUPS if sim == "verilator" else PW_ICARUS_FULL_GROUPS)


# sim-icarus-long: PW_FULL_GROUPS (the Verilator counts, 2 048 sums with 200 of length 1000) on Icarus for
# the four sets, in resumable parts (tb/common/long_runs.py): ~2 clocks per element and ~0.07 s CPU per
# clock, so parts of ~12 000 clocks (~15 min; measured: 0.08 s per clock)
PW_LONG_PARTS = split_groups(PW_FULL_GROUPS, PW_LANES, clocks_per_element=2, seed=13, part_clocks=12000)


def _long_part(s, part: Part) -> tuple[str, SimJob, dict]:
    """(set name, job, cfg) of one part of a long Icarus set of acc_pairwise_seq."""
    return (f"acc_pairwise_seq {_pw_key(s)[3:]}", *_pw_job_cfg("icarus", s, part.group_lists, seed=part.seed))


def long_runs() -> list[tuple[str, SimJob, dict, Part]]:
    """(set name, job, cfg, part) of every part of the long Icarus sets of acc_pairwise_seq."""
    return [(*_long_part(s, part), part) for s in PW_SETS for part in PW_LONG_PARTS]


@pytest.mark.full
@pytest.mark.parametrize("part", PW_LONG_PARTS, ids=lambda p: f"part{p.index:02d}")
@pytest.mark.parametrize("s", PW_SETS, ids=_pw_key)
def test_acc_pairwise_seq_icarus_long(s, part):
    """One part of a long Icarus set (nox -s sim-icarus-long); skipped when the ledger holds it."""
    name, job, cfg = _long_part(s, part)
    run_or_skip(job, cfg, part, name, len(PW_LONG_PARTS))

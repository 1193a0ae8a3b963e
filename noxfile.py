"""nox sessions.  They run inside the project environment that scripts/setup.sh builds (.venv with
Verilator on PATH), so no session creates a virtualenv of its own: `bash scripts/test.sh` or
`. scripts/setup.sh && nox -s <session>`.

    tests        the default test run (what CI runs): golden, RTL under both simulators, the rest
    golden       golden/ numerics proofs only
    sim          cocotb testbenches (pytest tb/), default parameter sets, Verilator and Icarus
    sim-full     every RTL parameter set on both simulators (long)
    lint         ruff + verilator --lint-only -Wall on every RTL module
    bench        benchmarks/: measured ratios printed side by side
"""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["tests"]

ROOT = os.path.dirname(os.path.abspath(__file__))


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """The default test run: everything not marked `full`."""
    session.run("pytest", "-n", os.environ.get("APACE_JOBS", "2"), "--dist", "loadgroup", *session.posargs)


@nox.session(python=False)
def golden(session: nox.Session) -> None:
    session.run("pytest", "tests/golden", *session.posargs)


@nox.session(python=False)
def sim(session: nox.Session) -> None:
    session.run("pytest", "-n", os.environ.get("APACE_JOBS", "2"), "--dist", "loadgroup", "tb", *session.posargs)


# Issue 3's DUTs (adder, accumulators, trees); the MX units have their own sim-mx / sim-mx-full.
SIM_FULL_DIRS = ("tb/fp_add", "tb/acc_seq", "tb/acc_tree", "tb/acc_kulisch_tree")


@nox.session(name="sim-full", python=False)
def sim_full(session: nox.Session) -> None:
    """Every adder/accumulator parameter set on both simulators (APACE_SIM_FULL=1).  posargs go to
    pytest; a tb/ path among them replaces the default folders (`nox -s sim-full -- tb/acc_seq`)."""
    args = list(session.posargs)
    targets = args if any(a.startswith("tb") for a in args) else [*SIM_FULL_DIRS, *args]
    session.run(
        "nice", "-n", "10", "pytest", "-n", os.environ.get("APACE_JOBS", "2"), "--dist", "loadgroup",
        "-m", "full or not full", *targets, env={"APACE_SIM_FULL": "1"},
    )


@nox.session(name="sim-icarus-long", python=False)
def sim_icarus_long(session: nox.Session) -> None:
    """The Icarus sets at the Verilator counts (APACE_ICARUS_LONG=1): acc_seq (three sets) and
    acc_pairwise_seq (four sets), 2 040 / 2 048 sums each with 200 of length 1000: 0.3–0.8 / 1.6–1.9
    CPU-hours per set (measured, docs/rtl.md).  Each set runs in ten parts; a part that passes is recorded
    in tb/icarus_long_ledger.json (commit it) and skipped by later runs while its sources are unchanged,
    so the sets can be finished over several runs.  After a run in which no part failed it prints the
    ledger's status (`python -m tb.common.long_runs`).  posargs go to pytest; a -k among them replaces
    the selection, so keep `icarus_long` in it: `nox -s sim-icarus-long -- -k "icarus_long and acc_seq
    and E4M3"`; `-k "icarus and big_full"` runs the N = 31/32 trees' Icarus sets at 2 000 sums."""
    args = list(session.posargs)
    select = [] if "-k" in args else ["-k", "icarus_long"]
    session.run(
        "nice", "-n", "10", "pytest", "-m", "full", "-rs", *select, "tb/acc_seq", "tb/acc_tree", *args,
        env={"APACE_SIM_FULL": "1", "APACE_ICARUS_LONG": "1"},
    )
    session.run("python", "-m", "tb.common.long_runs")


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    session.run("ruff", "check", ".")
    if os.path.exists(os.path.join(ROOT, "scripts", "lint_rtl.py")):
        session.run("python", "scripts/lint_rtl.py")


@nox.session(python=False)
def bench(session: nox.Session) -> None:
    """Every benchmarks/bench_*.py, each printing its side-by-side ratios."""
    names = sorted(f for f in os.listdir(os.path.join(ROOT, "benchmarks")) if f.startswith("bench_") and f.endswith(".py"))
    for name in names:
        session.run("python", os.path.join("benchmarks", name), *session.posargs)


@nox.session(name="ppl-full", python=False)
def ppl_full(session: nox.Session) -> None:
    """quant/ perplexity checks on the shipped model at ctx 256 over 2048 tokens (long; `full` marker)."""
    session.run("pytest", "-s", "tests/quant/test_real_model.py", "-m", "full", *session.posargs)


@nox.session(name="sim-mx", python=False)
def sim_mx(session: nox.Session) -> None:
    """MX dot-product unit and matmul tile (issue 4): the default subset, both simulators."""
    session.run("pytest", "-n", os.environ.get("APACE_JOBS", "2"), "--dist", "loadgroup", "tb/mx_dot", "tb/mx_tile",
                *session.posargs)


@nox.session(name="sim-mx-full", python=False)
def sim_mx_full(session: nox.Session) -> None:
    """MX acceptance matrix: every scheme x INT8/E2M1/E4M3/E5M2 x k 2/8/32 x 1/2/16 blocks, both simulators (long).

    Cost (docs/rtl_mx.md): Verilator 9-83 s of simulation per mx_dot build plus its compile; Icarus (1 008 dot
    products per scheme and build) 75-530 s per mx_dot build, 55 min for the 12 builds and 3 tiles."""
    session.run(
        "pytest", "-n", os.environ.get("APACE_JOBS", "2"), "--dist", "loadgroup", "tb/mx_dot", "tb/mx_tile",
        "-m", "full", *session.posargs, env={"APACE_SIM_FULL": "1"},
    )


@nox.session(name="synth-sweep", python=False)
def synth_sweep(session: nox.Session) -> None:
    """The documented Yosys sweep behind synth_results/ (apace/data/synth_sweep.yaml; cached per design),
    then the cost-model fit and its validation report + residual plot.  Extra args go to `apace synth sweep`.
    One Yosys at a time by default (some designs need several GB); APACE_JOBS=N runs N at once."""
    session.run("apace", "synth", "sweep", "-j", os.environ.get("APACE_JOBS", "1"), *session.posargs)
    session.run("apace", "synth", "fit")


@nox.session(name="characterize-full", python=False)
def characterize_full(session: nox.Session) -> None:
    """The `full` characterisation profile (hours) and the full-marked characterisation tests."""
    session.run("apace", "characterize", "--profile", "full", *session.posargs)
    session.run("pytest", "tests/characterize", "-m", "full")

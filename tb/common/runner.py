"""Generic cocotb runner used by every tb/<dut>/test_*.py (pytest side).

One build directory per (simulator, toplevel, sha256 of source contents + parameters + build args):
`sim_build/<sim>/<toplevel>-<hash12>`.  A finished build leaves `build.ok` in its directory and is never
rebuilt (Icarus would otherwise reuse an old `sim.vvp` when only parameters change, hence the hash).
Builds are serialised by an fcntl lock file, so pytest-xdist workers can share a build safely; tests
that share a build should also share an xdist_group (see `sim_params`) so `--dist loadgroup` keeps them
on one worker.  Verilator compiles through ccache (OBJCACHE=ccache).

Typical use from a pytest file::

    from tb.common.runner import SimJob, run_cocotb, sim_params
    @pytest.mark.parametrize("sim,cfg", sim_params(CONFIGS, toplevel="fp_add_lanes"))
    def test_fp_add(sim, cfg):
        run_cocotb(SimJob(sim, "fp_add_lanes", sources, parameters, "cocotb_fp_add", tb_dir), env={...})

The cocotb module reads its test configuration from the environment (`APACE_TB_CFG`, JSON) with
`tb.common.runner.tb_config()`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
BUILD_ROOT = Path(os.environ.get("APACE_SIM_BUILD", ROOT / "sim_build"))
SIMULATORS = ("verilator", "icarus")
CFG_ENV = "APACE_TB_CFG"
BUILD_FLAVOUR = "verilator-public-depth-1"  # part of the build hash: changing how we build invalidates builds


def simulators() -> tuple[str, ...]:
    """Simulators to run: $APACE_SIMS (comma list) or both; unknown names are one clear ValueError."""
    env = os.environ.get("APACE_SIMS")
    if not env:
        return SIMULATORS
    sims = tuple(s.strip().lower() for s in env.split(",") if s.strip())
    bad = [s for s in sims if s not in SIMULATORS]
    if bad:
        raise ValueError(f"APACE_SIMS must list simulators from {SIMULATORS}; got {bad}")
    return sims


def full_run() -> bool:
    """True under `nox -s sim-full` (APACE_SIM_FULL=1): run the complete acceptance matrix."""
    return os.environ.get("APACE_SIM_FULL", "") == "1"


def icarus_long() -> bool:
    """True under `nox -s sim-icarus-long` (APACE_ICARUS_LONG=1): the Icarus sets of sim-full run the
    Verilator counts (>= 2000 sums per set, 200 of length 1000) instead of their reduced ones; tens of
    CPU-hours in all (docs/rtl.md), so it is meant to be run set by set (`-k`)."""
    return os.environ.get("APACE_ICARUS_LONG", "") == "1"


def src_files(*names: str) -> list[Path]:
    """Paths of src/<name>.v for module names (missing files are a clear error)."""
    out = []
    for n in names:
        p = SRC / f"{n}.v"
        if not p.is_file():
            raise ValueError(f"RTL source for module {n!r} not found at {p}")
        out.append(p)
    return out


@dataclass(frozen=True)
class SimJob:
    """One simulation: simulator, HDL toplevel, sources, parameters and the cocotb test module."""

    sim: str
    toplevel: str
    sources: Sequence[Path]
    parameters: Mapping[str, int] = field(default_factory=dict)
    test_module: str = ""
    test_dir: Path = ROOT / "tb"
    build_args: Sequence[str] = ()

    def __post_init__(self) -> None:
        if self.sim not in SIMULATORS:
            raise ValueError(f"parameter 'sim' must be one of {SIMULATORS}; got {self.sim!r}")

    def digest(self) -> str:
        h = hashlib.sha256()
        h.update(self.sim.encode())
        h.update(self.toplevel.encode())
        for src in self.sources:
            h.update(Path(src).name.encode())
            h.update(Path(src).read_bytes())
        h.update(json.dumps(sorted((k, int(v)) for k, v in self.parameters.items())).encode())
        h.update(json.dumps([*_sim_args(self.sim), *self.build_args, BUILD_FLAVOUR]).encode())
        return h.hexdigest()[:12]

    @property
    def build_dir(self) -> Path:
        return BUILD_ROOT / self.sim / f"{self.toplevel}-{self.digest()}"


def _sim_args(sim: str) -> list[str]:
    if sim == "verilator":
        # lint runs separately (scripts/lint_rtl.py); here warnings must not stop a build
        return ["-Wno-fatal", "-Wno-lint", "-Wno-style", "-O3"]
    return []


def quick_cxx(sim: str) -> tuple[str, ...]:
    """Extra build args for big combinational wrappers (accumulators, trees).

    Verilator inlines every module instance by default, so each adder copy becomes its own ~50 kB of
    C++ and g++ dominates a cold build; `-fno-inline` keeps each (module, parameters) pair one C++ class
    shared by all its instances (measured: an N = 32 six-scheme tree verilates and compiles in ~3 min
    instead of not finishing in 30), and `-O0` for g++ because these testbenches spend their time in
    Python per clock edge, not in the model.  Empty for Icarus."""
    return ("-fno-inline", "-CFLAGS", "-O0") if sim == "verilator" else ()


def _limit_public(runner) -> None:
    """cocotb's runner passes --public-flat-rw, which makes every internal signal of every lane public:
    10x the C++ and compile time for our many-instance wrappers.  The testbenches only touch toplevel
    ports, so make only depth 1 public."""
    orig = runner._build_command

    def patched():
        cmds = orig()
        first = list(cmds[0])
        if "--public-flat-rw" in first:
            i = first.index("--public-flat-rw")
            first[i : i + 1] = ["--public-depth", "1"]
        return [first, *cmds[1:]]

    runner._build_command = patched


def clear_partial_build(bdir: Path) -> None:
    """Remove what an interrupted build left in `bdir` (no build.ok): make trusts file times, so a
    half-written object or precompiled header (seen: a 16 KiB Verilator .gch after a killed build)
    would otherwise be reused and fail the next build of the same hash."""
    if bdir.exists() and not (bdir / "build.ok").exists():
        shutil.rmtree(bdir)


def build(job: SimJob, bdir: Path | None = None):
    """Build once per hash directory (file-locked for xdist); returns the cocotb Runner.

    bdir: the job's build directory if the caller already computed it (run_cocotb does, so the
    sources are hashed exactly once per run: a source edited mid-run cannot make the build and the
    test use two different directories)."""
    from cocotb_tools.runner import get_runner

    os.environ.setdefault("OBJCACHE", "ccache")
    if bdir is None:
        bdir = job.build_dir
    bdir.parent.mkdir(parents=True, exist_ok=True)
    runner = get_runner(job.sim)
    if job.sim == "verilator":
        _limit_public(runner)
    ok = bdir / "build.ok"
    with open(bdir.parent / f"{bdir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ok.exists():
            clear_partial_build(bdir)
            runner.build(
                sources=[str(s) for s in job.sources],
                hdl_toplevel=job.toplevel,
                parameters=dict(job.parameters),
                build_args=_sim_args(job.sim) + list(job.build_args),
                build_dir=bdir,
                always=True,
                timescale=("1ns", "1ps"),
            )
            ok.write_text(json.dumps({"toplevel": job.toplevel, "parameters": dict(job.parameters)}) + "\n")
        else:
            # The runner keeps build settings on itself; restore what test() needs without rebuilding.
            runner._set_sources([str(s) for s in job.sources])
            runner._set_verilog_sources([])
            runner._set_vhdl_sources([])
            runner.build_dir = bdir
            runner.hdl_toplevel = job.toplevel
            runner.parameters = dict(job.parameters)
    return runner


def run_cocotb(job: SimJob, cfg: Mapping | None = None, testcase: str | None = None, seed: int = 1) -> Path:
    """Build (if needed) and run `job.test_module`; cfg is passed as JSON in $APACE_TB_CFG.

    Returns the results XML path; failing cocotb tests fail the calling pytest test with the log
    (which holds the scoreboard's first-mismatch report) in the captured output."""
    bdir = job.build_dir  # hash computed once; build and test both use this directory
    runner = build(job, bdir)
    for p in (str(ROOT), str(job.test_dir)):
        if p not in sys.path:
            sys.path.insert(0, p)
    env = {CFG_ENV: json.dumps(dict(cfg or {}))}
    test_dir = bdir / "run" / (os.environ.get("PYTEST_XDIST_WORKER", "main"))
    try:
        return runner.test(
            test_module=job.test_module,
            hdl_toplevel=job.toplevel,
            build_dir=bdir,
            test_dir=test_dir,
            extra_env=env,
            testcase=testcase,
            seed=seed,
            parameters=dict(job.parameters),
        )
    except SystemExit as exc:  # cocotb's runner exits on failure; make it a normal test failure
        raise AssertionError(
            f"cocotb test {job.test_module} on {job.sim}/{job.toplevel} {dict(job.parameters)} failed "
            f"(exit {exc.code}); the first mismatch is in the captured log above"
        ) from None


def tb_config() -> dict:
    """Inside a cocotb test: the cfg dict given to run_cocotb."""
    return json.loads(os.environ.get(CFG_ENV, "{}"))


def sim_params(configs: Iterable, key=lambda c: str(c), sims: Sequence[str] | None = None, marks=()):
    """pytest.param list over simulator x configs, each in xdist_group '<sim>-<key(cfg)>'.

    Give `key` the part of the config that decides the build (toplevel + parameters) so all tests
    sharing a build run on the same xdist worker."""
    import pytest

    out = []
    for cfg in configs:
        for sim in (simulators() if sims is None else sims):  # an empty list means none, not all
            k = key(cfg)
            out.append(pytest.param(sim, cfg, id=f"{sim}-{k}", marks=[pytest.mark.xdist_group(f"{sim}-{k}"), *marks]))
    return out

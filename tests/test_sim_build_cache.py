"""tb/common/runner.py's build cache: an interrupted build is never reused, a finished one never rebuilt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tb.common import runner


class _FakeRunner:
    """Stands in for cocotb's runner: records what the build directory held when build() ran."""

    def __init__(self) -> None:
        self.builds: list[list[str]] = []

    def build(self, *, build_dir, **_kw) -> None:
        bdir = Path(build_dir)
        self.builds.append(sorted(p.name for p in bdir.iterdir()) if bdir.exists() else [])
        bdir.mkdir(parents=True, exist_ok=True)
        (bdir / "Vtop").write_text("built\n")

    # what build() calls on a cached directory
    def _set_sources(self, _s) -> None: ...
    def _set_verilog_sources(self, _s) -> None: ...
    def _set_vhdl_sources(self, _s) -> None: ...


@pytest.fixture
def fake(monkeypatch):
    import cocotb_tools.runner as ctr

    r = _FakeRunner()
    monkeypatch.setattr(ctr, "get_runner", lambda sim: r)
    return r


def _job(tmp_path: Path) -> tuple[runner.SimJob, Path]:
    src = tmp_path / "top.v"
    src.write_text("module top; endmodule\n")
    return runner.SimJob(sim="icarus", toplevel="top", sources=[src]), tmp_path / "build" / "top-x"


def test_interrupted_build_is_cleared_before_rebuilding(tmp_path, fake):
    job, bdir = _job(tmp_path)
    bdir.mkdir(parents=True)
    (bdir / "Vtop__pch.h.fast.gch").write_bytes(b"\0" * 16384)  # what a killed build left
    runner.build(job, bdir)
    assert fake.builds == [[]], "the half-built directory reached the simulator's build"
    assert not (bdir / "Vtop__pch.h.fast.gch").exists()
    assert json.loads((bdir / "build.ok").read_text())["toplevel"] == "top"


def test_finished_build_is_reused(tmp_path, fake):
    job, bdir = _job(tmp_path)
    runner.build(job, bdir)
    runner.build(job, bdir)
    assert len(fake.builds) == 1
    assert (bdir / "Vtop").read_text() == "built\n"

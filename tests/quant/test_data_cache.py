"""The model/text caches under $APACE_DATA are made once even when two processes ask at the same time
(two pytest workers on a fresh machine: a shared temporary directory made one of them fail)."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

import pytest

from quant.data import publish_dir


def _slow_build(tmp: Path) -> dict:
    log = tmp.parent / "builds.log"
    with open(log, "a") as f:
        f.write(f"{tmp.name}\n")
    for i in range(5):  # a build that takes a while, file by file, as save_pretrained does
        (tmp / f"shard{i}").write_text(str(i))
        time.sleep(0.1)
    return {"built_in": tmp.name}


def _publish(out: str) -> None:
    publish_dir(Path(out), _slow_build)


def test_concurrent_callers_build_once(tmp_path):
    out = tmp_path / "model-abc"
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_publish, args=(str(out),)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert len((tmp_path / "builds.log").read_text().splitlines()) == 1
    assert sorted(f.name for f in out.iterdir()) == ["apace_converted.json", *(f"shard{i}" for i in range(5))]
    assert not list(tmp_path.glob("*.partial-*"))


def test_finished_directory_is_reused_and_an_interrupted_build_redone(tmp_path):
    out = tmp_path / "model-abc"

    def broken(tmp: Path) -> dict:
        (tmp / "shard0").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        publish_dir(out, broken)
    assert not out.exists() and not list(tmp_path.glob("*.partial-*"))
    publish_dir(out, _slow_build)
    publish_dir(out, _slow_build)  # finished: not built again
    assert len((tmp_path / "builds.log").read_text().splitlines()) == 1
    assert (out / "apace_converted.json").exists()

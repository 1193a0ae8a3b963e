"""tb/common/long_runs.py: long Icarus sets split into parts, and the ledger that makes them resumable."""

from __future__ import annotations

from pathlib import Path

import pytest

from tb.common import long_runs
from tb.common.runner import SimJob


def _clocks(part, lanes, cpe):
    return sum(-(-c // lanes) * max(n, 1) * cpe for n, c in part.groups)


@pytest.mark.parametrize("lanes, cpe, budget", [(8, 1, 3000), (4, 2, 12000), (3, 1, 100)])
def test_split_groups_keeps_every_sum_and_the_budget(lanes, cpe, budget):
    groups = [[1, 400], [2, 401], [3, 400], [31, 320], [32, 320], [1000, 200], [1025, 8]]
    parts = long_runs.split_groups(groups, lanes, cpe, seed=7, part_clocks=budget)
    for length, count in groups:  # every length keeps its count, rounded up to whole batches of lanes
        got = sum(c for p in parts for n, c in p.groups if n == length)
        assert got == -(-count // lanes) * lanes, length
    for p in parts:
        assert all(c % lanes == 0 for _, c in p.groups)
        one_batch = len(p.groups) == 1 and p.groups[0][1] == lanes
        assert _clocks(p, lanes, cpe) <= budget or one_batch, p
    assert [p.index for p in parts] == list(range(len(parts)))
    assert len({p.seed for p in parts}) == len(parts) and parts[0].seed == 7000
    with pytest.raises(ValueError, match="lanes"):
        long_runs.split_groups(groups, 0, cpe, seed=1)


def _job(tmp_path: Path) -> SimJob:
    (tmp_path / "top.v").write_text("module top; endmodule\n")
    (tmp_path / "cocotb_top.py").write_text("# test module\n")
    return SimJob("icarus", "top", [tmp_path / "top.v"], {"W": 4}, "cocotb_top", tmp_path)


def test_ledger_skips_passed_parts_until_something_changes(tmp_path, monkeypatch):
    monkeypatch.setattr(long_runs, "LEDGER", tmp_path / "ledger.json")
    runs = []
    monkeypatch.setattr(long_runs, "run_cocotb", lambda job, cfg: runs.append(cfg))
    job = _job(tmp_path)
    part = long_runs.Part(0, ((1000, 24),), 11000)
    cfg = {"groups": [[1000, 24]], "seed": 11000}
    assert long_runs.run_part(job, cfg, part, "set A", 2) == "recorded"
    assert long_runs.run_part(job, cfg, part, "set A", 2) == "in ledger"
    assert len(runs) == 1
    rec = next(iter(long_runs.read_ledger().values()))
    assert (rec["set"], rec["part"], rec["of"], rec["sums"], rec["seed"]) == ("set A", 0, 2, 24, 11000)
    # another configuration, another test module text, another RTL source: each runs again
    assert long_runs.run_part(job, {**cfg, "seed": 1}, part, "set A", 2) == "recorded"
    (tmp_path / "cocotb_top.py").write_text("# test module, changed\n")
    assert long_runs.run_part(job, cfg, part, "set A", 2) == "recorded"
    (tmp_path / "top.v").write_text("module top; wire w; endmodule\n")
    assert long_runs.run_part(job, cfg, part, "set A", 2) == "recorded"
    assert len(runs) == 4


def test_a_failing_part_is_not_recorded(tmp_path, monkeypatch):
    monkeypatch.setattr(long_runs, "LEDGER", tmp_path / "ledger.json")

    def fail(job, cfg):
        raise AssertionError("mismatch")

    monkeypatch.setattr(long_runs, "run_cocotb", fail)
    with pytest.raises(AssertionError, match="mismatch"):
        long_runs.run_part(_job(tmp_path), {"seed": 1}, long_runs.Part(0, ((1, 8),), 1), "set", 1)
    assert long_runs.read_ledger() == {}


def test_status_counts_only_current_digests(tmp_path, monkeypatch):
    monkeypatch.setattr(long_runs, "LEDGER", tmp_path / "ledger.json")
    monkeypatch.setattr(long_runs, "run_cocotb", lambda job, cfg: None)
    job = _job(tmp_path)
    parts = [long_runs.Part(i, ((1000, 8),), i) for i in range(3)]
    runs = [("set A", job, {"seed": p.seed}, p) for p in parts]
    for _, j, c, p in runs[:2]:
        long_runs.run_part(j, c, p, "set A", 3)
    text = long_runs.status(runs)
    assert "2/3" in text and "16/24" in text and "part02" in text and "part00" not in text
    (tmp_path / "top.v").write_text("module top; wire changed; endmodule\n")  # the records are now stale
    assert "0/3" in long_runs.status(runs)
    for _, j, c, p in runs:
        long_runs.run_part(j, c, p, "set A", 3)
    assert "complete" in long_runs.status(runs)


def test_every_registered_long_set_covers_the_verilator_counts():
    """The parts of each registered long set add up to its Verilator groups (>= 2000 sums, 200 of
    length 1000), with distinct seeds."""
    by_set: dict[str, list] = {}
    for name, _, cfg, part in long_runs.registered_runs():
        by_set.setdefault(name, []).append((cfg, part))
    assert len(by_set) == 7  # acc_seq x 3 formats, acc_pairwise_seq x 4
    for name, items in by_set.items():
        sums = sum(p.sums for _, p in items)
        long_sums = sum(c for _, p in items for n, c in p.groups if n >= 1000)
        assert sums >= 2000 and long_sums >= 200, name
        assert len({c["seed"] for c, _ in items}) == len(items), name
        assert all(c["groups"] == [list(g) for g in p.groups] for c, p in items), name


def test_run_or_skip(tmp_path, monkeypatch):
    """A long part's pytest item skips outside sim-icarus-long and once the ledger holds it."""
    monkeypatch.setattr(long_runs, "LEDGER", tmp_path / "ledger.json")
    runs = []
    monkeypatch.setattr(long_runs, "run_cocotb", lambda job, cfg: runs.append(cfg))
    job, part = _job(tmp_path), long_runs.Part(0, ((1, 8),), 5)
    monkeypatch.delenv("APACE_ICARUS_LONG", raising=False)
    with pytest.raises(pytest.skip.Exception, match="sim-icarus-long"):
        long_runs.run_or_skip(job, {"seed": 5}, part, "set", 1)
    monkeypatch.setenv("APACE_ICARUS_LONG", "1")
    monkeypatch.setenv("APACE_SIMS", "icarus")
    long_runs.run_or_skip(job, {"seed": 5}, part, "set", 1)
    with pytest.raises(pytest.skip.Exception, match="passed before"):
        long_runs.run_or_skip(job, {"seed": 5}, part, "set", 1)
    assert len(runs) == 1

"""Resumable long Icarus sets (`nox -s sim-icarus-long`).

Icarus needs hours of CPU for a set with 200 sums of length 1000 (docs/rtl.md), longer than a working
session. So such a set is split into parts of about PART_CLOCKS clock cycles, each its own pytest item
with its own seed. A part that passes is recorded in LEDGER, a committed JSON file, under a digest of
everything its result depends on: the build (RTL sources, parameters, simulator flags), the cocotb test
module, the stimulus and scoreboard code (tb/common), golden's reference (accumulate, arith, formats)
and the part's configuration. A later run, in this checkout or a fresh clone, skips the parts recorded
with the same digest, so an interrupted run loses no finished part. A change to any of those files
gives new digests, and every part then runs again.

A set passes when every part passes: the union of the parts is the set's groups ([length, count]
pairs), with the same counts as the Verilator set.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .runner import ROOT, SimJob, run_cocotb

LEDGER = Path(os.environ.get("APACE_LONG_LEDGER", ROOT / "tb" / "icarus_long_ledger.json"))
PART_CLOCKS = 3000  # acc_seq (8 lanes x 7 schemes): ~0.04 s CPU per clock, ~2 min per part (measured)
# what a part's result depends on besides its build, test module and configuration
GOLDEN_FILES = ("__init__.py", "accumulate.py", "arith.py", "formats.py")


@dataclass(frozen=True)
class Part:
    """One part of a long set: its index, its groups ([length, count], counts multiples of the lanes)
    and its stimulus seed."""

    index: int
    groups: tuple[tuple[int, int], ...]
    seed: int

    @property
    def sums(self) -> int:
        return sum(c for _, c in self.groups)

    @property
    def group_lists(self) -> list[list[int]]:
        """groups as the testbenches' cfg and the ledger write them: [[length, count], ...]."""
        return [list(g) for g in self.groups]


def split_groups(groups: Sequence[Sequence[int]], lanes: int, clocks_per_element: int, seed: int,
                 part_clocks: int = PART_CLOCKS) -> list[Part]:
    """groups ([length, count], ...) split into parts of at most part_clocks clocks (a batch of `lanes`
    sums of one length, length x clocks_per_element clocks, is never split; a batch longer than
    part_clocks is a part of its own).  Counts are rounded up to multiples of lanes, as the testbenches
    do.  Part i gets seed `seed * 1000 + i`."""
    if lanes < 1 or clocks_per_element < 1 or part_clocks < 1:
        raise ValueError("parameters 'lanes', 'clocks_per_element' and 'part_clocks' must be positive")
    parts: list[list[list[int]]] = [[]]
    used = 0
    for length, count in groups:
        length, batches = int(length), -(-int(count) // lanes)
        cost = max(length, 1) * clocks_per_element
        for _ in range(batches):
            if parts[-1] and used + cost > part_clocks:
                parts.append([])
                used = 0
            cur = parts[-1]
            if cur and cur[-1][0] == length:
                cur[-1][1] += lanes
            else:
                cur.append([length, lanes])
            used += cost
    return [Part(i, tuple((g[0], g[1]) for g in p), seed * 1000 + i) for i, p in enumerate(parts) if p]


def part_digest(job: SimJob, cfg: Mapping) -> str:
    """sha256 (hex, 16 digits) of the build, the cocotb test module, tb/common (but this file, which
    neither drives nor checks), golden's reference files and cfg."""
    h = hashlib.sha256()
    h.update(job.digest().encode())
    common = [f for f in sorted((ROOT / "tb" / "common").glob("*.py")) if f.name != "long_runs.py"]
    files = [Path(job.test_dir) / f"{job.test_module}.py", *common, *(ROOT / "golden" / f for f in GOLDEN_FILES)]
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    h.update(json.dumps(cfg, sort_keys=True).encode())
    return h.hexdigest()[:16]


def run_or_skip(job: SimJob, cfg: Mapping, part: Part, set_name: str, n_parts: int) -> None:
    """The body of a long part's pytest item: skipped outside `nox -s sim-icarus-long` (or without
    Icarus) and when the ledger holds the part; else run_part."""
    import pytest

    from .runner import icarus_long, simulators

    if not icarus_long() or "icarus" not in simulators():
        pytest.skip("the long Icarus sets run under nox -s sim-icarus-long (APACE_ICARUS_LONG=1)")
    if run_part(job, cfg, part, set_name, n_parts) == "in ledger":
        pytest.skip(f"passed before with the same sources and configuration ({LEDGER.name})")


def read_ledger(path: Path | None = None) -> dict:
    """The ledger's records, {digest: record}; {} when there is no ledger yet."""
    p = Path(path or LEDGER)
    if not p.is_file():
        return {}
    return json.loads(p.read_text())


def _record(digest: str, entry: dict, path: Path | None = None) -> None:
    """Add one record; the file is rewritten whole (to a temporary name, then renamed) under a lock, so
    that two runs recording at once both keep their records."""
    p = Path(path or LEDGER)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        records = read_ledger(p)
        records[digest] = entry
        tmp = p.with_suffix(".tmp")
        rows = sorted(records.items(), key=lambda kv: (kv[1]["set"], kv[1]["part"]))
        tmp.write_text("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in rows) + "\n}\n")  # a line each
        os.replace(tmp, p)


def run_part(job: SimJob, cfg: Mapping, part: Part, set_name: str, n_parts: int) -> str:
    """Run one part (cfg holds its groups and seed) unless the ledger has it; record it when it passes.
    Returns 'recorded' or 'in ledger' (the caller skips the pytest item then)."""
    digest = part_digest(job, cfg)
    if digest in read_ledger():
        return "in ledger"
    wall, cpu = time.time(), time.process_time()
    child = os.times()
    run_cocotb(job, cfg)
    after = os.times()
    _record(digest, {
        "set": set_name, "part": part.index, "of": n_parts, "groups": part.group_lists,
        "sums": part.sums, "seed": part.seed, "passed": datetime.date.today().isoformat(),
        "wall_s": round(time.time() - wall),
        "cpu_s": round(time.process_time() - cpu + (after.children_user - child.children_user)
                       + (after.children_system - child.children_system)),
    })
    return "recorded"


def status(runs: Sequence[tuple[str, SimJob, Mapping, Part]], records: Mapping | None = None) -> str:
    """Per set (runs: (set name, job, cfg, part) of every part, as the test modules' long_runs()): the
    parts whose current digest the ledger holds, their sums and CPU time, and the parts still to run.
    Records under other digests (older sources) do not count."""
    records = read_ledger() if records is None else records
    sets: dict[str, dict] = {}
    for name, job, cfg, part in runs:
        s = sets.setdefault(name, {"of": 0, "done": 0, "sums": 0, "all_sums": 0, "cpu_s": 0, "todo": []})
        s["of"] += 1
        s["all_sums"] += part.sums
        r = records.get(part_digest(job, cfg))
        if r is None:
            s["todo"].append(part.index)
        else:
            s["done"] += 1
            s["sums"] += part.sums
            s["cpu_s"] += r["cpu_s"]
    lines = [f"{'set':36s} {'parts':>7s} {'sums':>11s} {'CPU h':>6s}  to run"]
    for name, s in sets.items():
        todo = "complete" if not s["todo"] else ", ".join(f"part{i:02d}" for i in s["todo"])
        lines.append(f"{name:36s} {s['done']:3d}/{s['of']:<3d} {s['sums']:5d}/{s['all_sums']:<5d} "
                     f"{s['cpu_s'] / 3600:6.2f}  {todo}")
    return "\n".join(lines)


def registered_runs() -> list[tuple[str, SimJob, Mapping, Part]]:
    """Every part of every long Icarus set (the test modules' long_runs())."""
    import importlib
    import sys

    for d in ("", "tb/acc_seq", "tb/acc_tree"):
        if str(ROOT / d) not in sys.path:
            sys.path.insert(0, str(ROOT / d))
    runs = []
    for mod in ("tb.acc_seq.test_acc_seq", "tb.acc_tree.test_acc_tree"):
        runs += importlib.import_module(mod).long_runs()
    return runs


if __name__ == "__main__":
    print(f"long Icarus sets, ledger {LEDGER.relative_to(ROOT) if LEDGER.is_relative_to(ROOT) else LEDGER}:")
    print(status(registered_runs()))

"""Yosys synthesis of the project's RTL over a parameter grid, with a content-hash cache.

One *job* = one top module of `src/` with one set of integer parameters.  It runs
`yosys -p "read_verilog -sv <files>; chparam ...; synth_xilinx -flatten -noiopad -noclkbuf -top T;
tee -o stat.json stat -json; tee -o ltp.txt ltp -noff"` (7-series cell library, Yosys' default
family) and records LUTs by input count, flip-flops, CARRY4 cells, DSPs, block RAMs and the longest
combinational path in cells (`ltp -noff`, a logic-depth *estimate*: LUTs and CARRY4 cells count as
one level each, wires have no delay).

Rows are appended to `synth_results/<unit>.csv` as each job finishes (an interrupted sweep keeps
every finished row).  The cache key is the SHA-256 of the Yosys version, the script template, the
top, the parameters and the contents of every RTL file the top depends on, so editing an unrelated
module does not invalidate a result, and editing a dependency does.
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _default_dir(name: str, env: str) -> Path:
    """$env if set; else the repository's directory (source checkout or editable install); else ./name
    (an installed package has no repository next to it)."""
    if os.environ.get(env):
        return Path(os.environ[env])
    return ROOT / name if (ROOT / name).is_dir() else Path.cwd() / name


SRC_DIR = _default_dir("src", "APACE_SRC")
RESULTS_DIR = _default_dir("synth_results", "APACE_SYNTH_RESULTS")

SYNTH_CMD = "synth_xilinx -flatten -noiopad -noclkbuf -top {top}"
SCRIPT_TEMPLATE = (
    "read_verilog -sv {files}; {chparam}" + SYNTH_CMD + "; tee -q -o stat.json stat -json; tee -q -o ltp.txt ltp -noff"
)

# Fixed CSV columns; the parameters go into the JSON column `params` (and are expanded on load).
COLUMNS = (
    "key", "unit", "top", "params", "tool", "status", "lut", "lut1", "lut2", "lut3", "lut4", "lut5", "lut6",
    "lutram", "ff", "carry", "mux", "dsp", "bram", "logic_depth", "cells", "wns_ns", "fmax_mhz", "power_w",
    "dynamic_power_w", "tool_version", "command", "rtl_hash", "sources", "runtime_s", "timestamp", "error",
)
METRICS = ("lut", "ff", "carry", "dsp", "bram", "logic_depth")


class SynthError(ValueError):
    """A synthesis request is impossible (unknown top, bad parameter); the message says what is allowed."""


# ----------------------------------------------------------------------------------------------- RTL
_MODULE_RE = re.compile(r"^\s*module\s+([A-Za-z_][A-Za-z0-9_$]*)", re.M)
_COMMENT_RE = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_IDENT_RE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_$]*)\b")
_PARAM_RE = re.compile(r"\bparameter\s+(?:integer\s+|int\s+|\[[^\]]*\]\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


def module_index(src_dir: Path = SRC_DIR) -> dict[str, Path]:
    """Map every module name defined in `src_dir/*.v|*.sv` to its file."""
    index: dict[str, Path] = {}
    for path in sorted(Path(src_dir).glob("*.v")) + sorted(Path(src_dir).glob("*.sv")):
        for name in _MODULE_RE.findall(_COMMENT_RE.sub("", path.read_text())):
            index.setdefault(name, path)
    return index


def dependencies(top: str, src_dir: Path = SRC_DIR) -> list[Path]:
    """The file defining `top` plus every file whose module it (transitively) instantiates."""
    index = module_index(src_dir)
    if top not in index:
        raise SynthError(f"top {top!r} is not a module of {src_dir}; available: {sorted(index)}")
    seen: dict[Path, None] = {}
    todo = [index[top]]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen[path] = None
        words = set(_IDENT_RE.findall(_COMMENT_RE.sub("", path.read_text())))
        todo.extend(index[w] for w in words if w in index and index[w] not in seen)
    return sorted(seen)


_DIRECTIVE_RE = re.compile(r"^\s*`(ifdef|ifndef|else|elsif|endif)\b\s*([A-Za-z_][A-Za-z0-9_$]*)?")


def synthesis_view(text: str) -> str:
    """A Verilog source as Yosys synthesises it, for the cache key: comments removed, `ifdef SYNTHESIS` /
    `ifndef SYNTHESIS` regions resolved with SYNTHESIS defined (Yosys' read_verilog defines it), trailing
    blanks and empty lines dropped.  So a comment or simulation-only code (e.g. fp_add_mix's settling
    register for Icarus) changes no key; anything Yosys reads does.  Other preprocessor conditionals are
    kept verbatim."""
    out: list[str] = []
    stack: list[list] = []  # ["syn", branch taken under SYNTHESIS] or ["other"]
    for line in _COMMENT_RE.sub("", text).splitlines():
        m = _DIRECTIVE_RE.match(line)
        if m:
            kind, name = m.group(1), m.group(2)
            if kind in ("ifdef", "ifndef") and name == "SYNTHESIS":
                stack.append(["syn", kind == "ifdef"])
                continue
            if kind in ("ifdef", "ifndef"):
                stack.append(["other"])
            elif stack and stack[-1][0] == "syn":
                if kind == "elsif":
                    raise SynthError("`elsif after `ifdef SYNTHESIS is not supported in src/ (use `else)")
                if kind == "else":
                    stack[-1][1] = not stack[-1][1]
                else:
                    stack.pop()
                continue
            elif kind == "endif" and stack:
                stack.pop()
        if all(e[1] for e in stack if e[0] == "syn") and line.strip():
            out.append(line.rstrip())
    return "\n".join(out) + "\n"


def module_parameters(top: str, src_dir: Path = SRC_DIR) -> list[str]:
    """Names of the `parameter`s declared in the file that defines `top` (localparams excluded)."""
    path = module_index(src_dir)[top]
    return _PARAM_RE.findall(_COMMENT_RE.sub("", path.read_text()))


_DEFAULT_RE = re.compile(r"\bparameter\s+(?:integer\s+|int\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(-?\d+)\s*[,)\n;/]")


def module_defaults(top: str, src_dir: Path = SRC_DIR) -> dict[str, int]:
    """Integer-literal defaults of `top`'s parameters (derived parameters with expressions are left out)."""
    path = module_index(src_dir)[top]
    return {k: int(v) for k, v in _DEFAULT_RE.findall(_COMMENT_RE.sub("", path.read_text()))}


@lru_cache(maxsize=1)
def yosys_version(exe: str = "yosys") -> str:
    if shutil.which(exe) is None:
        raise SynthError(f"yosys executable {exe!r} not found on PATH (Debian: apt-get install yosys)")
    return subprocess.run([exe, "-V"], capture_output=True, text=True, check=True).stdout.strip()


# ----------------------------------------------------------------------------------------------- jobs
@dataclass(frozen=True)
class SynthJob:
    """One synthesis: `top` with integer `params`, results appended to `<results_dir>/<unit>.csv`."""

    top: str
    params: tuple[tuple[str, int], ...]
    unit: str = ""
    src_dir: Path = SRC_DIR
    timeout_s: float = 1800.0

    @staticmethod
    def make(top: str, params: Mapping[str, int] | None = None, unit: str | None = None,
             src_dir: Path | str = SRC_DIR, timeout_s: float = 1800.0) -> SynthJob:
        items = []
        for k, v in sorted((params or {}).items()):
            if isinstance(v, bool) or not isinstance(v, int):
                raise SynthError(f"parameter {k!r} of {top} must be an integer, got {v!r}")
            items.append((str(k), int(v)))
        # Fill in literal defaults so that the same design always has the same key and full parameters.
        given = {k for k, _ in items}
        items += [(k, v) for k, v in module_defaults(top, Path(src_dir).resolve()).items() if k not in given]
        items.sort()
        return SynthJob(top, tuple(items), unit or top, Path(src_dir).resolve(), timeout_s)

    @property
    def param_dict(self) -> dict[str, int]:
        return dict(self.params)

    def sources(self) -> list[Path]:
        return dependencies(self.top, self.src_dir)

    def _sources_hash(self, view) -> str:
        h = hashlib.sha256()
        for path in self.sources():
            h.update(path.name.encode() + b"\0" + view(path) + b"\0")
        return h.hexdigest()

    def rtl_hash(self) -> str:
        """SHA-256 of the source files exactly as they are (provenance column `rtl_hash`)."""
        return self._sources_hash(Path.read_bytes)

    def synthesis_hash(self) -> str:
        """SHA-256 of the sources as Yosys synthesises them (`synthesis_view`): the cache key's RTL part."""
        return self._sources_hash(lambda p: synthesis_view(p.read_text()).encode())

    def key(self) -> str:
        """Content hash: Yosys version + script template + top + parameters + RTL as synthesised."""
        payload = json.dumps([yosys_version(), SCRIPT_TEMPLATE, self.top, self.params, self.synthesis_hash()])
        return hashlib.sha256(payload.encode()).hexdigest()[:24]

    def script(self, files: Sequence[str]) -> str:
        chparam = "".join(f"chparam -set {k} {v} {self.top}; " for k, v in self.params)
        return SCRIPT_TEMPLATE.format(files=" ".join(files), chparam=chparam, top=self.top)


def expand_grid(grid: Mapping[str, object]) -> list[dict[str, int]]:
    """Cartesian product of a parameter grid.  A list is a sweep, a scalar is fixed, and a string
    `"=NAME"` copies parameter NAME of the same point (to tie e.g. the compensation format to the
    accumulator format)."""
    names, choices, ties = [], [], {}
    for k, v in grid.items():
        if isinstance(v, str):
            if not v.startswith("=") or v[1:] not in grid:
                raise SynthError(f"grid parameter {k!r}: a string value must be '=OTHER' naming another "
                                 f"parameter of the grid ({sorted(grid)}), got {v!r}")
            ties[k] = v[1:]
            continue
        vals = list(v) if isinstance(v, (list, tuple)) else [v]
        if not vals:
            raise SynthError(f"grid parameter {k!r} has an empty list of values")
        for x in vals:
            if isinstance(x, bool) or not isinstance(x, int):
                raise SynthError(f"grid parameter {k!r} values must be integers, got {x!r}")
        names.append(k)
        choices.append(vals)
    points = []
    for combo in itertools.product(*choices):
        p = dict(zip(names, combo))
        for k, src in ties.items():
            if src in ties:
                raise SynthError(f"grid parameter {k!r} ties to {src!r}, which is itself a tie")
            p[k] = p[src]
        points.append(p)
    return points


# ----------------------------------------------------------------------------------------------- parsing
def parse_stat(stat: Mapping, top: str | None = None) -> dict[str, int]:
    """Resource counts from Yosys `stat -json` (xc7 cell names): LUT1..LUT6, FDxE flip-flops,
    CARRY4/CARRY8, MUXF7/F8, DSP48E1/E2, RAMB18/36, distributed RAM."""
    design = stat.get("design") or {}
    if not design and stat.get("modules"):
        mods = stat["modules"]
        design = mods.get("\\" + top, next(iter(mods.values()))) if top else next(iter(mods.values()))
    cells: Mapping[str, int] = design.get("num_cells_by_type", {})
    out = {f"lut{i}": 0 for i in range(1, 7)}
    out.update(lut=0, lutram=0, ff=0, carry=0, mux=0, dsp=0, bram=0, cells=int(design.get("num_cells", 0)))
    for name, n in cells.items():
        name = name.lstrip("\\$")
        n = int(n)
        if re.fullmatch(r"LUT[1-6]", name):
            out[name.lower()] += n
            out["lut"] += n
        elif name.startswith("FD") or name.startswith("LDCE") or name.startswith("LDPE"):
            out["ff"] += n
        elif name.startswith("CARRY"):
            out["carry"] += n
        elif name.startswith("MUXF"):
            out["mux"] += n
        elif name.startswith("DSP48"):
            out["dsp"] += n
        elif name.startswith("RAMB18"):
            out["bram"] += 0.5  # type: ignore[assignment]  # one RAMB18 is half a 36 Kb tile
        elif name.startswith("RAMB36"):
            out["bram"] += 1
        elif name.startswith("RAM") or name.startswith("SRL"):
            out["lutram"] += n
    return out


_LTP_RE = re.compile(r"Longest topological path in \S+ \(length=(\d+)\)")


def parse_ltp(text: str) -> int | None:
    """Logic depth in cells from `ltp -noff` output (None if absent)."""
    found = [int(x) for x in _LTP_RE.findall(text)]
    return max(found) if found else None


# ----------------------------------------------------------------------------------------------- running
def run_job(job: SynthJob, yosys: str = "yosys") -> dict[str, object]:
    """Synthesise one job in a temporary directory and return its CSV row (status ok or error)."""
    srcs = job.sources()
    key = job.key()
    row: dict[str, object] = {
        "key": key, "unit": job.unit, "top": job.top, "params": json.dumps(job.param_dict, sort_keys=True),
        "tool": "yosys", "tool_version": yosys_version(yosys), "rtl_hash": job.rtl_hash()[:16],
        "sources": " ".join(p.name for p in srcs),
        "timestamp": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="apace-synth-") as tmp:
        script = job.script([str(p) for p in srcs])
        shown = script
        for p in srcs:
            shown = shown.replace(str(p), _rel(p))
        row["command"] = f"yosys -q -p '{shown}'"
        try:
            proc = subprocess.run([yosys, "-q", "-p", script], cwd=tmp, capture_output=True, text=True,
                                  timeout=job.timeout_s)
        except subprocess.TimeoutExpired:
            row.update(status="error", error=f"timeout after {job.timeout_s:.0f} s",
                       runtime_s=round(time.monotonic() - t0, 2))
            return row
        row["runtime_s"] = round(time.monotonic() - t0, 2)
        stat_path = Path(tmp) / "stat.json"
        if proc.returncode != 0 or not stat_path.exists():
            msg = (proc.stderr or proc.stdout).strip().splitlines()
            row.update(status="error", error=" | ".join(msg[-3:])[:500] or f"yosys exit {proc.returncode}")
            return row
        row.update(parse_stat(json.loads(stat_path.read_text()), job.top))
        ltp = Path(tmp) / "ltp.txt"
        row["logic_depth"] = parse_ltp(ltp.read_text()) if ltp.exists() else None
        row["status"] = "ok"
    return row


def _rel(p: Path) -> str:
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(p)


def results_path(unit: str, results_dir: Path | str = RESULTS_DIR) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", unit):
        raise SynthError(f"unit name {unit!r} must use only letters, digits, '_', '.', '-'")
    return Path(results_dir) / f"{unit}.csv"


def append_row(path: Path, row: Mapping[str, object]) -> None:
    """Append one row (header written on first use) and flush, so a crash keeps it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        if new:
            w.writeheader()
        w.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in COLUMNS})
        fh.flush()
        os.fsync(fh.fileno())


def cached_keys(path: Path, include_errors: bool = False) -> set[str]:
    """Keys already in a results CSV: successful rows (failed ones too if include_errors)."""
    if not path.exists():
        return set()
    with path.open(newline="") as fh:
        return {r["key"] for r in csv.DictReader(fh) if include_errors or r.get("status") == "ok"}


@dataclass
class SweepReport:
    done: list[dict[str, object]] = field(default_factory=list)
    cached: int = 0
    failed: int = 0


def run_jobs(jobs: Iterable[SynthJob], jobs_n: int = 1, results_dir: Path | str = RESULTS_DIR,
             skip_failed: bool = False, progress: bool = True, yosys: str = "yosys") -> SweepReport:
    """Run every job not already in its results CSV, `jobs_n` Yosys processes at a time, appending
    each row as it finishes.  Failed rows are retried unless `skip_failed`.  Threads only wait on Yosys subprocesses, so they run truly in parallel."""
    from tqdm import tqdm

    if jobs_n < 1:
        raise SynthError(f"--jobs must be >= 1, got {jobs_n}")
    report = SweepReport()
    todo: list[tuple[SynthJob, Path]] = []
    seen: set[str] = set()
    keys_by_path: dict[Path, set[str]] = {}
    for job in jobs:
        path = results_path(job.unit, results_dir)
        if path not in keys_by_path:
            keys_by_path[path] = cached_keys(path, include_errors=skip_failed)
        k = job.key()
        if k in keys_by_path[path] or k in seen:
            report.cached += 1
            continue
        seen.add(k)
        todo.append((job, path))
    bar = tqdm(total=len(todo), desc="yosys", unit="design", disable=not progress or not todo)
    with ThreadPoolExecutor(max_workers=jobs_n) as pool:
        futures = {pool.submit(run_job, job, yosys): (job, path) for job, path in todo}
        try:
            for fut in as_completed(futures):
                job, path = futures[fut]
                row = fut.result()
                append_row(path, row)
                report.done.append(row)
                if row["status"] != "ok":
                    report.failed += 1
                    bar.write(f"FAILED {job.top} {job.param_dict}: {row.get('error')}")
                bar.update(1)
        except KeyboardInterrupt:
            for f in futures:
                f.cancel()
            raise
        finally:
            bar.close()
    return report


def iter_sweep(spec: Mapping, units: Sequence[str] | None = None, src_dir: Path | str = SRC_DIR,
               timeout_s: float = 1800.0) -> Iterator[SynthJob]:
    """Jobs of a sweep file: `{units: {NAME: {top: T, grids: [{P: [..], ...}, ...]}}}` (or `grid:`)."""
    all_units = spec.get("units") if isinstance(spec, Mapping) else None
    if not isinstance(all_units, Mapping) or not all_units:
        raise SynthError("sweep file must have a non-empty mapping 'units: {NAME: {top: ..., grids: [...]}}'")
    if units:
        unknown = sorted(set(units) - set(all_units))
        if unknown:
            raise SynthError(f"unknown unit(s) {unknown}; the sweep file defines {sorted(all_units)}")
    index = module_index(Path(src_dir))
    for name, u in all_units.items():
        if units and name not in units:
            continue
        top = u.get("top", name)
        if top not in index:
            continue  # RTL not written yet: nothing to synthesise
        grids = u.get("grids") or [u.get("grid", {})]
        declared = set(module_parameters(top, Path(src_dir)))
        for grid in grids:
            for p in expand_grid(grid):
                bad = sorted(set(p) - declared)
                if bad:
                    raise SynthError(f"unit {name!r}: {top} has no parameter(s) {bad}; it declares {sorted(declared)}")
                yield SynthJob.make(top, p, unit=name, src_dir=src_dir, timeout_s=timeout_s)


def load_results(results_dir: Path | str = RESULTS_DIR, unit: str | None = None, ok_only: bool = True):
    """All result CSVs (or one unit's) as a pandas DataFrame with the parameters expanded to columns.
    When a key appears twice (a re-import), the last row wins."""
    import pandas as pd

    paths = [results_path(unit, results_dir)] if unit else sorted(Path(results_dir).glob("*.csv"))
    frames = [pd.read_csv(p, dtype={"key": str, "params": str}) for p in paths if p.exists() and p.stat().st_size]
    if not frames:
        return pd.DataFrame(columns=list(COLUMNS))
    df = pd.concat(frames, ignore_index=True)
    df = df.drop_duplicates(subset=["unit", "key"], keep="last")
    if ok_only:
        df = df[df["status"] == "ok"]
        # the same design synthesised again after an RTL change (a new key): the newest row describes the
        # RTL as it is, the older one a previous version, so only the newest is kept
        order = pd.to_datetime(df["timestamp"], errors="coerce", utc=True) if "timestamp" in df else None
        if order is not None:
            df = df.assign(_t=order).sort_values("_t", kind="stable", na_position="first").drop(columns="_t")
        df = df.drop_duplicates(subset=["unit", "params", "tool"], keep="last").sort_index()
    params = pd.DataFrame([json.loads(s) if isinstance(s, str) and s else {} for s in df["params"]], index=df.index)
    return pd.concat([df, params[[c for c in params.columns if c not in df.columns]]], axis=1).reset_index(drop=True)

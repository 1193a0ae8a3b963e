"""Parsers for Vivado text reports, producing rows of the same table as Yosys synthesis.

- `report_utilization`: LUTs ("Slice LUTs" / "CLB LUTs"), registers ("Slice Registers" /
  "CLB Registers" / "Registers"), DSPs ("DSPs" / "DSP Slices"), block RAM tiles, carry cells
  (CARRY4 / CARRY8 / LOOKAHEAD8 from the primitives table) and LUT1..LUT6 counts by size.
- `report_timing_summary`: WNS (ns) from the Design Timing Summary and the clock period, giving an
  achievable-frequency estimate fmax = 1000 / (period - WNS) MHz.
- `report_power`: total and dynamic on-chip power in W.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path

from .synth import append_row, results_path


class ReportError(ValueError):
    """A report file is not in the expected Vivado format; the message names the file and what was missing."""


def _num(s: str) -> float | None:
    s = s.strip().rstrip("*").strip()
    if s.startswith("<"):
        return 0.0
    try:
        return float(s)
    except ValueError:
        return None


def _table_rows(text: str) -> list[list[str]]:
    """Every `| a | b | ... |` line of every table, as stripped cells."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and line.rstrip().endswith("|") and not set(line) <= set("|+-= "):
            rows.append([c.strip() for c in line.strip()[1:-1].split("|")])
    return rows


def _first(rows: list[list[str]], names: tuple[str, ...]) -> float | None:
    for name in names:
        for r in rows:
            if r and r[0].rstrip("*").strip() == name and len(r) > 1:
                v = _num(r[1])
                if v is not None:
                    return v
    return None


def parse_utilization(text: str, source: str = "report") -> dict[str, float]:
    """Resource counts from a `report_utilization` text report (7-series, UltraScale(+) or Versal names)."""
    rows = _table_rows(text)
    lut = _first(rows, ("Slice LUTs", "CLB LUTs"))
    ff = _first(rows, ("Slice Registers", "CLB Registers", "Registers"))
    if lut is None or ff is None:
        raise ReportError(f"{source}: not a Vivado report_utilization report (no 'Slice/CLB LUTs' or "
                          f"'Slice/CLB Registers' row)")
    out: dict[str, float] = {"lut": lut, "ff": ff}
    out["dsp"] = _first(rows, ("DSPs", "DSP Slices", "DSP48E1", "DSP48E2", "DSP58")) or 0.0
    out["bram"] = _first(rows, ("Block RAM Tile",)) or 0.0
    out["lutram"] = _first(rows, ("LUT as Memory",)) or 0.0
    prims = {}
    for r in rows:
        if len(r) >= 3 and re.fullmatch(r"[A-Z][A-Z0-9_]*", r[0] or "") and r[2] and not r[2][0].isdigit():
            v = _num(r[1])
            if v is not None:
                prims[r[0]] = v
    out["carry"] = sum(v for k, v in prims.items() if k.startswith("CARRY") or k == "LOOKAHEAD8")
    for i in range(1, 7):
        out[f"lut{i}"] = prims.get(f"LUT{i}", 0.0)
    return out


_WNS_RE = re.compile(r"WNS\(ns\)\s+TNS\(ns\).*?\n\s*-+.*?\n\s*(-?[\d.]+|NA)\s", re.S)
_CLOCK_RE = re.compile(r"^Clock\s+Waveform\(ns\)\s+Period\(ns\).*?\n-+.*?\n(\S+)\s+\{[^}]*\}\s+([\d.]+)", re.S | re.M)


def parse_timing(text: str, source: str = "report") -> dict[str, float | None]:
    """WNS (ns), clock period (ns) and fmax (MHz) from a `report_timing_summary` text report."""
    m = _WNS_RE.search(text)
    if not m:
        raise ReportError(f"{source}: not a Vivado report_timing_summary report (no 'Design Timing Summary' WNS table)")
    wns = _num(m.group(1))
    c = _CLOCK_RE.search(text)
    period = float(c.group(2)) if c else None
    fmax = round(1000.0 / (period - wns), 3) if period is not None and wns is not None and period - wns > 0 else None
    return {"wns_ns": wns, "period_ns": period, "fmax_mhz": fmax}


def parse_power(text: str, source: str = "report") -> dict[str, float | None]:
    """Total and dynamic on-chip power (W) from a `report_power` text report."""
    rows = _table_rows(text)
    total = _first(rows, ("Total On-Chip Power (W)",))
    if total is None:
        raise ReportError(f"{source}: not a Vivado report_power report (no 'Total On-Chip Power (W)' row)")
    return {"power_w": total, "dynamic_power_w": _first(rows, ("Dynamic (W)",))}


def _header_field(text: str, name: str) -> str | None:
    m = re.search(rf"^\|\s*{re.escape(name)}\s*:\s*(.+?)\s*$", text, re.M)
    return m.group(1) if m else None


def import_reports(unit: str, params: Mapping[str, int], util: str | Path, timing: str | Path | None = None,
                   power: str | Path | None = None, results_dir: str | Path | None = None) -> dict[str, object]:
    """Parse one design's Vivado reports and append the row to `<results_dir>/<unit>.csv` (tool=vivado)."""
    from .synth import RESULTS_DIR

    util_text = Path(util).read_text(errors="replace")
    row: dict[str, object] = dict(parse_utilization(util_text, str(util)))
    blobs = [util_text]
    if timing:
        t = Path(timing).read_text(errors="replace")
        blobs.append(t)
        row.update({k: v for k, v in parse_timing(t, str(timing)).items() if k != "period_ns"})
    if power:
        p = Path(power).read_text(errors="replace")
        blobs.append(p)
        row.update(parse_power(p, str(power)))
    digest = hashlib.sha256("\0".join(blobs).encode()).hexdigest()
    row.update(
        key="vivado-" + digest[:20], unit=unit, top=_header_field(util_text, "Design") or unit,
        params=json.dumps(dict(params), sort_keys=True), tool="vivado", status="ok",
        tool_version=_header_field(util_text, "Tool Version") or "vivado",
        command=_header_field(util_text, "Command") or "report_utilization", rtl_hash="",
        sources=" ".join(str(Path(x).name) for x in (util, timing, power) if x),
        timestamp=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )
    append_row(results_path(unit, results_dir or RESULTS_DIR), row)
    return row

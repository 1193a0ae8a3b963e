#!/usr/bin/env python
"""Checked fp_add vectors per second through cocotb, Verilator vs Icarus, side by side.

Runs the fp_add testbench (tb/fp_add, 64 lanes per clock edge) on every E5M2 operand pair (65 536
vectors, each compared with golden) under each simulator and reads the test's wall time from cocotb's
results XML (build time excluded; builds are cached in sim_build/).  Target: >= 1e4 checked vectors/s
under Verilator.

    python benchmarks/bench_rtl.py [--format E5M2] [--sims verilator,icarus]
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from golden.formats import parse_format  # noqa: E402
from tb.common.formats import fmt_to_json, rtl_params  # noqa: E402
from tb.common.runner import SIMULATORS, SimJob, run_cocotb  # noqa: E402

TARGET = 1e4


def measure(sim: str, fmt, lanes: int) -> tuple[int, float]:
    from tb.fp_add.test_fp_add import SOURCES  # the testbench's own source list

    job = SimJob(sim, "fp_add_lanes", SOURCES, {**rtl_params(fmt), "LATENCY": 0, "LANES": lanes}, "cocotb_fp_add",
                 ROOT / "tb" / "fp_add")
    cfg = {"fmt": fmt_to_json(fmt), "lanes": lanes, "latency": 0, "mode": "exhaustive", "twosum": False}
    xml = run_cocotb(job, cfg, testcase="fp_add_vs_golden")
    for tc in ET.parse(xml).getroot().iter("testcase"):
        if tc.get("name", "").endswith("fp_add_vs_golden"):
            if tc.find("failure") is not None or tc.find("error") is not None:
                raise SystemExit(f"fp_add_vs_golden failed under {sim}; see the log above")
            return 4**fmt.bits, float(tc.get("time"))
    raise SystemExit(f"no fp_add_vs_golden result in {xml}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--format", default="E5M2", help="exhaustively checked format (default E5M2)")
    ap.add_argument("--sims", default=",".join(SIMULATORS), help="comma list of simulators")
    ap.add_argument("--lanes", type=int, default=64)
    a = ap.parse_args()
    fmt = parse_format(a.format)
    sims = [s.strip() for s in a.sims.split(",") if s.strip()]
    rows = []
    for sim in sims:
        n, t = measure(sim, fmt, a.lanes)
        rows.append((sim, n, t, n / t))
    print(f"\nfp_add {fmt.label()} exhaustive, {a.lanes} lanes/edge, checked against golden")
    print(f"{'simulator':<10} {'vectors':>8} {'seconds':>8} {'vectors/s':>10} {'vs 1e4 target':>14}")
    for sim, n, t, r in rows:
        print(f"{sim:<10} {n:>8} {t:>8.2f} {r:>10.0f} {r / TARGET:>13.2f}x")
    if len(rows) == 2:
        print(f"ratio {rows[0][0]}/{rows[1][0]}: {rows[0][3] / rows[1][3]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`apace characterize`: error profiles of every accumulation scheme, a report, and the error model.

    apace characterize [--spec FILE] [--profile NAME] [--out DIR] [--jobs N]
                       [--fit-only] [--model-out FILE] [--no-report] [--rtl]

Writes under --out (default characterize_out/<profile>): table.csv, table.parquet (tidy, one row per
scheme x order x acc x comp x dist x n, full configuration in every row), error_model.json,
model_quality.csv, report.html (self-contained), report.md + plots/*.png, and cache/ (per work unit;
an interrupted run resumes from it).  --fit-only skips the report and also writes the model to
--model-out (default: the shipped characterize/data/error_model.json.gz when --profile model).
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "characterize",
        help="error profiles of every accumulation scheme: tidy table, HTML/Markdown report, error model",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--spec", metavar="FILE", help="YAML sweep spec (fields override the profile's)")
    p.add_argument("--profile", default="default", help="named profile: default, model, full, smoke")
    p.add_argument("--out", metavar="DIR", help="output directory (default characterize_out/<profile>)")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes (default 2)")
    p.add_argument("--fit-only", action="store_true", help="run the sweep and fit the error model, no report")
    p.add_argument("--model-out", metavar="FILE", help="also write the fitted error model JSON here")
    p.add_argument("--no-report", action="store_true", help="skip the HTML/Markdown report")
    p.add_argument("--rtl", action="store_true",
                   help="recompute a small profile on the RTL accumulators through cocotb and compare to golden")
    p.add_argument("--rtl-sim", default="verilator", choices=("verilator", "icarus"),
                   help="simulator for --rtl (default verilator; icarus builds faster but simulates ~100x slower)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args) -> int:
    from characterize import engine, error_model, report
    from characterize.spec import PROFILES, load_spec

    if args.profile not in PROFILES:
        raise ValueError(f"parameter '--profile' must be one of {', '.join(PROFILES)}; got {args.profile!r}")
    if args.jobs < 1:
        raise ValueError(f"parameter '--jobs' must be >= 1; got {args.jobs}")
    spec = load_spec(args.spec, args.profile)
    out = args.out or os.path.join("characterize_out", spec.name)
    os.makedirs(out, exist_ok=True)
    progress = not args.quiet
    if args.rtl:
        from characterize import rtl

        return rtl.main(out, progress=progress, sim=args.rtl_sim)
    t0 = time.time()
    print(f"characterize: spec '{spec.name}' (digest {spec.digest()}): {len(spec.configs())} configurations x "
          f"{len(spec.dists)} distributions, lengths 1..{spec.max_n}, {spec.trials} trials; output {out}")
    df = engine.run(spec, os.path.join(out, "cache"), jobs=args.jobs, progress=progress)
    df.to_csv(os.path.join(out, "table.csv"), index=False)
    df.to_parquet(os.path.join(out, "table.parquet"), index=False)
    model = error_model.fit_table(df, progress=progress)
    model.meta["command"] = f"apace characterize --profile {spec.name}" + (" --fit-only" if args.fit_only else "")
    model.save(os.path.join(out, "error_model.json"))
    model_out = args.model_out
    if model_out is None and args.fit_only and spec.name == "model" and args.spec is None:
        model_out = error_model.DEFAULT_PATH
    if model_out:
        model.save(model_out)
        print(f"characterize: error model written to {model_out}")
    viol = int(df["bound_violations"].sum())
    checked = int(df["bound_applies"].sum())
    q = report.model_quality_table(model)
    npass = int(q["holdout_pass"].fillna(False).astype(bool).sum())
    print(f"characterize: {len(df)} rows; classical bound violations: {viol} of {checked} checked trials; "
          f"error model: {len(q)} entries, held-out spread within 20 %: {npass}/{len(q)}")
    if not (args.fit_only or args.no_report):
        paths = report.write_report(df, spec, out, model=model, progress=progress)
        print(f"characterize: report {paths['html']} and {paths['md']}")
    print(f"characterize: done in {time.time() - t0:.0f} s; table {os.path.join(out, 'table.parquet')}")
    return 0 if viol == 0 else 1


if __name__ == "__main__":
    from apace.cli import main

    sys.exit(main(["characterize", *sys.argv[1:]]))

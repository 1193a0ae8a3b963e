"""`apace synth`: Yosys synthesis sweeps, Vivado report import and the cost-model fit."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_SWEEP = Path(__file__).resolve().parent.parent / "data" / "synth_sweep.yaml"


def _params(items: list[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--param expects NAME=V1[,V2,...], got {item!r}")
        name, vals = item.split("=", 1)
        try:
            out[name.strip()] = [int(v) for v in vals.split(",") if v.strip()]
        except ValueError:
            raise ValueError(f"--param {name}: values must be integers, got {vals!r}") from None
    return out


def register(subparsers) -> None:
    p = subparsers.add_parser("synth", help="Yosys synthesis sweeps, Vivado report import, cost-model fit",
                              description=__doc__)
    sub = p.add_subparsers(dest="synth_cmd", metavar="ACTION")

    r = sub.add_parser("run", help="synthesise one top of src/ over a parameter grid")
    r.add_argument("top", help="module name in src/")
    r.add_argument("-p", "--param", action="append", default=[], metavar="NAME=V1,V2",
                   help="parameter values (lists are swept; repeat for several parameters)")
    r.add_argument("--unit", help="results file name (synth_results/UNIT.csv); default: the top")
    _common(r)
    r.set_defaults(func=_run)

    s = sub.add_parser("sweep", help="run the documented sweep file (default: every unit whose RTL exists)")
    s.add_argument("--spec", default=str(DEFAULT_SWEEP), help=f"sweep YAML (default {DEFAULT_SWEEP.name})")
    s.add_argument("--unit", action="append", help="only this unit (repeatable)")
    s.add_argument("--list", action="store_true", help="print the jobs and cache state, synthesise nothing")
    _common(s)
    s.set_defaults(func=_sweep)

    v = sub.add_parser("import-vivado", help="parse Vivado util/timing/power text reports into synth_results")
    v.add_argument("--unit", required=True)
    v.add_argument("--util", required=True, help="report_utilization text file")
    v.add_argument("--timing", help="report_timing_summary text file")
    v.add_argument("--power", help="report_power text file")
    v.add_argument("-p", "--param", action="append", default=[], metavar="NAME=V")
    v.add_argument("--results", default=None, help="results directory (default synth_results/)")
    v.set_defaults(func=_vivado)

    f = sub.add_parser("fit", help="fit the cost model on synth_results and report its validation")
    f.add_argument("--results", default=None, help="results directory (default synth_results/)")
    f.add_argument("--plot", default=None, help="residual plot PNG (default synth_results/cost_model_residuals.png)")
    f.add_argument("--folds", type=int, default=5)
    f.set_defaults(func=_fit)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-j", "--jobs", type=int, default=1, help="parallel Yosys processes (default 1)")
    p.add_argument("--results", default=None, help="results directory (default synth_results/)")
    p.add_argument("--src", default=None, help="RTL directory (default src/)")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per synthesis (default 1800)")
    p.add_argument("--skip-failed", action="store_true", help="do not retry jobs that failed before")


def _dirs(args):
    from apace import synth

    return (Path(args.results) if args.results else synth.RESULTS_DIR, Path(args.src) if args.src else synth.SRC_DIR)


def _report(rep) -> int:
    ok = sum(1 for r in rep.done if r["status"] == "ok")
    print(f"synthesised {ok} design(s), {rep.failed} failed, {rep.cached} already in the cache")
    for r in rep.done:
        if r["status"] == "ok":
            print(f"  {r['unit']:<22} {r['params']:<60} LUT {r['lut']:>6} FF {r['ff']:>5} "
                  f"CARRY {r['carry']:>4} DSP {r['dsp']:>3} depth {r['logic_depth']}")
    return 1 if rep.failed else 0


def _run(args) -> int:
    from apace import synth

    results, src = _dirs(args)
    synth.dependencies(args.top, src)
    declared = set(synth.module_parameters(args.top, src))
    bad = sorted(set(_params(args.param)) - declared)
    if bad:
        raise ValueError(f"--param: {args.top} has no parameter(s) {bad}; it declares {sorted(declared)}")
    jobs = [synth.SynthJob.make(args.top, p, unit=args.unit, src_dir=src, timeout_s=args.timeout)
            for p in synth.expand_grid(_params(args.param))]
    return _report(synth.run_jobs(jobs, args.jobs, results, skip_failed=args.skip_failed))


def _sweep(args) -> int:
    import yaml

    from apace import synth

    results, src = _dirs(args)
    spec = yaml.safe_load(Path(args.spec).read_text())
    jobs = list(synth.iter_sweep(spec, args.unit, src, args.timeout))
    if args.list:
        for j in jobs:
            state = "cached" if j.key() in synth.cached_keys(synth.results_path(j.unit, results)) else "todo"
            print(f"{state:<7}{j.unit:<22}{j.param_dict}")
        print(f"{len(jobs)} job(s)")
        return 0
    return _report(synth.run_jobs(jobs, args.jobs, results, skip_failed=args.skip_failed))


def _vivado(args) -> int:
    from apace import vivado

    params = {k: v[0] for k, v in _params(args.param).items()}
    row = vivado.import_reports(args.unit, params, args.util, args.timing, args.power, args.results)
    print(f"imported {args.unit}: LUT {row['lut']:.0f} FF {row['ff']:.0f} DSP {row['dsp']:.0f} "
          f"WNS {row.get('wns_ns')} ns fmax {row.get('fmax_mhz')} MHz power {row.get('power_w')} W")
    return 0


def _fit(args) -> int:
    from apace import costmodel, hwcost, synth

    results = Path(args.results) if args.results else synth.RESULTS_DIR
    df = synth.load_results(results)
    model = costmodel.fit(df, folds=args.folds)
    lines = [f"cost model on {model.source}; held-out MAPE = {args.folds}-fold cross-validation over "
             "configurations (each fold left out of the fit); fit = in-sample", model.validation_table()]
    checks = hwcost.composed_check(model, df)
    if checks:
        lines.append("\ncomposed estimate (block unit + pipeline register + embedded accumulator, from the units' "
                     "fits) vs synthesis of the composed mx_dot (never fitted):")
        lines += [f"  {c['design']:<40} {c['metric']:<4} measured {c['measured']:>8.0f}  composed {c['composed']:>8.0f}"
                  f"  error {c['error_pct']:+.1f}%  (tolerance {c['tolerance_pct'][0]:+.0f}..{c['tolerance_pct'][1]:+.0f}%: "
                  f"{'ok' if c['within'] else 'EXCEEDED'})"
                  for c in checks]
    text = "\n".join(lines)
    print(text)
    (results / "cost_model_validation.txt").write_text(text + "\n")
    out = Path(args.plot) if args.plot else results / "cost_model_residuals.png"
    model.plot_residuals(out)
    model.save(results / "cost_model.json")
    print(f"residual plot: {out}\nmodel: {results / 'cost_model.json'}")
    return 0

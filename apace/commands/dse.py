"""`apace dse run SPEC.yaml`: explore the design space (cost model + perplexity), Pareto front, best candidate."""

from __future__ import annotations

from pathlib import Path

DEFAULT_OUT = "results/dse"


def register(subparsers) -> None:
    p = subparsers.add_parser("dse", help="design-space exploration: cost model + perplexity, Pareto front",
                              description=__doc__)
    sub = p.add_subparsers(dest="dse_cmd", metavar="ACTION")
    r = sub.add_parser("run", help="run a DSE spec (YAML; lists are sweeps)")
    r.add_argument("spec", help="DSE spec YAML (see docs/hardware.md)")
    add_run_options(r)
    r.set_defaults(func=_run)
    c = sub.add_parser("check", help="validate a spec and print the number of design points")
    c.add_argument("spec")
    c.set_defaults(func=_check)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


def add_run_options(r) -> None:
    r.add_argument("-o", "--out", default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT}/; results "
                   "go to OUT/<spec name>/)")
    r.add_argument("-j", "--jobs", type=int, default=1, help="local worker processes for perplexity (default 1)")
    r.add_argument("--dask", metavar="ADDRESS", help="run perplexity tasks on this Dask scheduler (tcp://host:8786)")
    r.add_argument("--evaluator", default="auto", help="perplexity source: auto (quant if available), quant, "
                   "none (hardware only), fake (test stand-in)")
    r.add_argument("--results", default=None, help="synthesis results directory (default synth_results/)")
    r.add_argument("--no-progress", action="store_true")


def run_spec(spec_src, args) -> int:
    from apace import dse, space

    from .summary import print_summary

    spec = space.load_spec(spec_src)
    res = dse.run_dse(spec, args.out, args.results, args.evaluator, args.jobs, args.dask,
                      progress=not args.no_progress)
    print(f"results: {res.out_dir / 'results.csv'} (+ .parquet), plot: {res.out_dir / 'front.png'} / .svg")
    return print_summary(res.out_dir)


def _run(args) -> int:
    return run_spec(args.spec, args)


def _check(args) -> int:
    from apace import space

    spec = space.load_spec(Path(args.spec))
    print(f"spec {spec.name!r}: {len(spec.points)} design point(s), objectives {spec.objectives}")
    return 0

"""`apace run`: the main job.  With no arguments, runs the default DSE (apace/data/default_dse.yaml) on the
shipped synthesis results, the default model (SmolLM2-135M) and text (Jane Austen), and ends with the summary."""

from __future__ import annotations

from pathlib import Path

DEFAULT_SPEC = Path(__file__).resolve().parent.parent / "data" / "default_dse.yaml"


def register(subparsers) -> None:
    from .dse import add_run_options

    p = subparsers.add_parser("run", help="the main job: default DSE on the embedded defaults, then the summary",
                              description=__doc__)
    p.add_argument("--spec", default=str(DEFAULT_SPEC), help=f"DSE spec (default: {DEFAULT_SPEC.name})")
    add_run_options(p)
    p.set_defaults(func=_run, jobs=2)


def _run(args) -> int:
    import time

    from apace import dse

    from .dse import run_spec

    t0 = time.monotonic()
    ev = dse.resolve_evaluator(args.evaluator)
    if ev == "none":
        why = "--evaluator none" if args.evaluator == "none" else "quant.evaluate_ppl is not available"
        print(f"NOTE: {why}, so this run is HARDWARE ONLY (cost model, no perplexity).")
    rc = run_spec(Path(args.spec), args)
    print(f"\napace run finished in {time.monotonic() - t0:.0f} s")
    return rc

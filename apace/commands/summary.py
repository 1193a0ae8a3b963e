"""`apace summary`: the Pareto front and the best candidate of a stored DSE run, as a table."""

from __future__ import annotations

import json
from pathlib import Path

from .dse import DEFAULT_OUT


def register(subparsers) -> None:
    p = subparsers.add_parser("summary", help="print the Pareto front and best candidate of stored DSE results",
                              description=__doc__)
    p.add_argument("run", nargs="?", help=f"a DSE output directory (default: the newest under {DEFAULT_OUT}/)")
    p.add_argument("--all", action="store_true", help="list every design point, not only the front")
    p.set_defaults(func=lambda a: print_summary(_find(a.run), show_all=a.all))


def _find(run: str | None) -> Path:
    if run:
        path = Path(run)
        if not (path / "results.csv").exists():
            raise ValueError(f"'{run}' holds no DSE results (results.csv); run `apace dse run SPEC.yaml` first")
        return path
    runs = sorted(Path(DEFAULT_OUT).glob("*/results.csv"), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise ValueError(f"no DSE results under {DEFAULT_OUT}/; run `apace run` or `apace dse run SPEC.yaml` first")
    return runs[-1].parent


def _fmt(v) -> str:
    if isinstance(v, float):
        if v != v:
            return "-"
        if abs(v) >= 100 or v == int(v):
            return f"{v:,.0f}"
        return f"{v:.3f}"
    return str(v)


def table(df, cols: list[str]) -> str:
    cells = [[c for c in cols]] + [[_fmt(r[c]) for c in cols] for _, r in df.iterrows()]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cols))]
    lines = ["  ".join(x.rjust(w) if i else x.ljust(w) for i, (x, w) in enumerate(zip(row, widths))) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_summary(run_dir: Path, show_all: bool = False) -> int:
    import pandas as pd

    run_dir = Path(run_dir)
    df = pd.read_csv(run_dir / "results.csv")
    meta = json.loads((run_dir / "summary.json").read_text()) if (run_dir / "summary.json").exists() else {}
    objectives = meta.get("objectives", ["lut", "ppl"])
    stage_cols = [c for c in df.columns if c.endswith(("_elem", "_k", "_acc", "_scheme"))]
    metric_cols = [c for c in ("lut", "ff", "carry", "dsp", "ppl", "ppl_mode") if c in df.columns]
    front = df if show_all else df[df["on_front"]]
    front = front.sort_values(objectives[0])
    print(f"\nA-PACE design-space exploration '{meta.get('name', run_dir.name)}': {len(df)} design points, "
          f"{int(df['on_front'].sum())} on the Pareto front over {', '.join(objectives)} (all minimised)")
    print(f"perplexity: {meta.get('evaluator', '?')}; hardware: Yosys xc7 cells via the cost model "
          f"({meta.get('cost_model', '?')})")
    for note in meta.get("notes", []):
        print(f"note: {note}")
    # settings every design point shares are printed once, above the table, to keep the table narrow
    fixed = [c for c in stage_cols if df[c].nunique(dropna=False) == 1]
    varying = [c for c in stage_cols if c not in fixed]
    if fixed:
        print("same in every design point: " + ", ".join(f"{c}={_fmt(df[c].iloc[0])}" for c in fixed))
    print()
    print(table(front.assign(best=front["best"].map({True: "*", False: ""})), ["best", *varying, *metric_cols, "score"]))
    b = df[df["best"]].iloc[0]
    w = meta.get("weights", {})
    print(f"\nbest candidate (*): {b['label']}")
    print("  " + ", ".join(f"{m} = {_fmt(b[m])}" for m in metric_cols if m != "ppl_mode")
          + f"; score {b['score']:.3f} (weighted mean of value/best-on-front, weights {w})")
    print("  lut/ff/carry/dsp: Yosys synth_xilinx cell counts of the stages' RTL units (cost model, composed per "
          "the spec's parallelism); ppl: perplexity on the held-out text (lower is better)")
    files = [run_dir / f for f in ("results.csv", "results.parquet", "front.png", "front.svg", "summary.json")]
    print("files: " + ", ".join(str(f) for f in files if f.exists()))
    print(f"every design point: apace summary {run_dir} --all")
    return 0

"""DSE overheads, measured side by side in one run (no assertions):
  - cost-model pricing of a design point vs one Yosys synthesis of the same block unit (recorded runtime);
  - a DSE rerun served from the content-hash cache vs the first run (fake evaluator, 64 points);
  - the composed dot-product estimate vs Yosys synthesis of the composed mx_dot.
Run: python benchmarks/bench_dse.py   (or `nox -s bench`)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from apace import costmodel, dse, hwcost, space, synth

SPEC = {
    "name": "bench",
    "ppl": {"tokens": 64, "seq_len": 64},
    "stages": {"qk": {"elem": ["E4M3", "E2M1"], "k": [8, 32], "acc": ["BF16", "FP32"], "scheme": ["naive", "kahan"],
                      "length": 64},
               "pv": {"elem": ["E4M3", "E2M1"], "k": 32, "acc": ["BF16", "FP32"], "scheme": "naive", "length": 64}},
}


def main() -> None:
    df = synth.load_results()
    if df.empty:
        print("bench_dse: no synth_results; run `nox -s synth-sweep` first")
        return
    t0 = time.perf_counter()
    model = costmodel.fit(df)
    print(f"cost-model fit with nested 5-fold validation: {time.perf_counter() - t0:.1f} s")
    for c in hwcost.composed_check(model, df):
        print(f"composed vs synthesised {c['design']} {c['metric']}: {c['composed']:.0f} vs {c['measured']:.0f} "
              f"({c['error_pct']:+.1f} %)")
    spec = space.load_spec(SPEC)
    t0 = time.perf_counter()
    for p in spec.points:
        hwcost.point_cost(model, p, spec.parallelism)
    per_point = (time.perf_counter() - t0) / len(spec.points)
    yosys_s = df[df["unit"] == "mx_block_value"]["runtime_s"].astype(float).median()
    print(f"cost model: {per_point * 1e3:.2f} ms per design point; Yosys median {yosys_s:.1f} s per mx_block_value "
          f"-> model is {yosys_s / per_point:,.0f}x faster")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        dse.run_dse(spec, Path(tmp), evaluator="fake", progress=False, log=lambda s: None)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        dse.run_dse(spec, Path(tmp), evaluator="fake", progress=False, log=lambda s: None)
        again = time.perf_counter() - t0
    print(f"DSE of {len(spec.points)} points (fake evaluator): first run {first:.2f} s, cached rerun {again:.2f} s "
          f"(ratio {first / again:.2f}; with the real evaluator the first run is dominated by perplexity)")


if __name__ == "__main__":
    main()

"""Benchmark golden/: rounding throughput vs ml_dtypes, and accumulation steps/s per scheme.

Everything is measured side by side in this one run (best of several repeats) and printed as ratios;
nothing here is asserted.  Targets (issue 2): rounding at least as fast as ml_dtypes;
>= 1e7 accumulate steps/s per core for every scheme on a batch of 1e5 sums.
"""

from __future__ import annotations

import time

import ml_dtypes
import numpy as np

from golden.accumulate import SCHEMES, accumulate
from golden.formats import BF16, E4M3, E5M2, FP32, round_to


def best_of(fn, repeats: int = 5) -> float:
    """Best CPU time (s) of this process over `repeats` runs: per-core throughput, robust to other load."""
    best = float("inf")
    for _ in range(repeats):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(4_000_000) * 16
    print("== rounding throughput: float64 array -> format (values per CPU-second), 4e6 values, best of 5")
    print(f"{'format':8} {'golden':>12} {'ml_dtypes':>12} {'golden/ml_dtypes':>17}")
    for fmt, dt in ((E4M3, ml_dtypes.float8_e4m3fn), (E5M2, ml_dtypes.float8_e5m2)):
        tg = best_of(lambda: round_to(x, fmt))
        tm = best_of(lambda: x.astype(dt))
        print(f"{fmt.label():8} {x.size / tg:12.3g} {x.size / tm:12.3g} {tm / tg:17.2f}x")
    print(f"   (ml_dtypes {ml_dtypes.__version__}: <= 0.6 goes through float32, i.e. rounds twice; golden rounds once)")

    batch, n = 100_000, 64
    xs = rng.random((batch, n))
    print(f"\n== accumulation: steps per CPU-second (batch {batch:.0e} sums x {n} elements), best of 3")
    print(f"{'scheme':12} {'BF16 seq':>12} {'FP32 seq':>12} {'BF16 pairwise':>14}  target 1e7")
    for scheme in SCHEMES:
        row = []
        for acc, order in ((BF16, "sequential"), (FP32, "sequential"), (BF16, "pairwise")):
            t = best_of(lambda: accumulate(xs, scheme, acc, order=order), repeats=3)
            row.append(batch * n / t)
        flag = "ok" if min(row[:2]) >= 1e7 else "below"
        print(f"{scheme:12} {row[0]:12.3g} {row[1]:12.3g} {row[2]:14.3g}  {flag}")


if __name__ == "__main__":
    main()

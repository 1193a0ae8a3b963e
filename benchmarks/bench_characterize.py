"""Benchmark characterize/: the engine's shortcuts against the straightforward per-length golden calls.

Measured side by side in this one run (best of 3) and printed as ratios; nothing is asserted.
    sequential checkpoints  one pass finalising at every length  vs  golden.accumulate per prefix length
    pairwise levels         one tree, every power of two           vs  golden.accumulate per prefix length
    exact references        fsum segments, one pass                vs  golden Kulisch per prefix length
"""

from __future__ import annotations

import time

import numpy as np

from characterize import engine
from golden.accumulate import accumulate
from golden.formats import BF16, round_to


def best_of(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    rng = np.random.default_rng(0)
    x = round_to(rng.random((256, 1024)), BF16)
    ns = [2**i for i in range(11)]
    print("== characterize engine vs per-length golden calls (256 sums, lengths 1..1024 powers of two, BF16)")
    print(f"{'what':34} {'engine s':>10} {'per-length s':>13} {'speed-up':>9}")
    for scheme in ("naive", "neumaier", "klein"):
        te = best_of(lambda: engine.sequential_prefix_values(x, scheme, BF16, None, ns))
        tg = best_of(lambda: [accumulate(x[:, :n], scheme, BF16) for n in ns])
        print(f"{'sequential checkpoints ' + scheme:34} {te:10.3f} {tg:13.3f} {tg / te:8.1f}x")
        te = best_of(lambda: engine.pairwise_values(x, scheme, BF16, None, ns))
        tg = best_of(lambda: [accumulate(x[:, :n], scheme, BF16, order="pairwise") for n in ns])
        print(f"{'pairwise levels ' + scheme:34} {te:10.3f} {tg:13.3f} {tg / te:8.1f}x")
    te = best_of(lambda: engine.exact_prefix_sums(x, ns))
    tg = best_of(lambda: [accumulate(x[:, :n], "kulisch", BF16) for n in ns])
    print(f"{'exact references (fsum segments)':34} {te:10.3f} {tg:13.3f} {tg / te:8.1f}x")


if __name__ == "__main__":
    main()

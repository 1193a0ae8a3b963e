"""Adaptive knot refinement of the error model's training lengths (spec `refine_steps`).

The error model interpolates the spread of every (scheme, order, acc, comp, dist) log-linearly in log n
between its training lengths.  Where the spread has a real step in n -- e.g. BF16 Klein, U(0,1) terms:
the spread doubles where the partial sums reach 768, the Klein breakdown -- interpolation between two
training lengths 1/8 octave apart puts the step halfway and mispredicts every length near it.  This
module finds such steps **from the training lengths alone** and names extra training lengths inside them:

* `holdout_split(ns)`: the sweep's alternation of training and held-out lengths (every other length of
  the sorted lengths n > 1, the longest always training) -- the one definition that the engine's
  refinement and the error model's fit (error_model.fit_entry) share.
* `step_intervals(ns, y, ratio)`: the intervals between adjacent training lengths whose spread ratio
  departs from the local power law by more than `ratio` (either way): the change of log y across the
  interval minus the change predicted by the median log-slope of up to two intervals on each side
  (a median, so one step does not flag its neighbours), beyond log(ratio).  Intervals where both spreads
  are below NEGLIGIBLE (equal by the held-out rule) or one of them is 0 are never flagged.
* `refine_lengths(ns_train, spreads, exclude, per_octave, ratio)`: the lengths of the `per_octave` grid
  (round(2^(i / per_octave))) strictly inside the flagged intervals of any of the given spread series
  (the engine passes both units, u*sum|x| and ulp(sum|x|)), minus `exclude` -- the engine excludes every
  length of the sweep's own grid, so no extra length equals a held-out or a base training length.

The engine measures the extra lengths on their own random stream (independent trials, not prefixes of
the base rows), with the same adaptive-trial rule, and marks their rows `refined`; the fit uses them as
additional training nodes and never as held-out points.  Held-out lengths are unchanged by refinement.
"""

from __future__ import annotations

import math

import numpy as np

from .spec import NEGLIGIBLE


def holdout_split(ns) -> np.ndarray:
    """Bool per length of the sorted lengths ns (all > 1): True = training, False = held out (every other
    length from the first; the longest always training)."""
    ns = np.asarray(ns)
    train = np.zeros(len(ns), dtype=bool)
    train[::2] = True
    if len(ns):
        train[-1] = True
    return train


def step_intervals(ns, y, ratio: float, negligible: float = NEGLIGIBLE) -> list[int]:
    """Indices i of the intervals (ns[i], ns[i+1]) (ns: sorted training lengths, y: their spreads) whose
    spread ratio departs from the local power law by more than `ratio` (module doc)."""
    ns = np.asarray(ns, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(ns) < 3:
        return []
    x = np.log(ns)
    pos = np.isfinite(y) & (y > 0)
    ly = np.log(np.where(pos, y, 1.0))
    ok = pos[:-1] & pos[1:]
    dl = np.diff(ly)
    slope = np.where(ok, dl / np.diff(x), np.nan)
    out = []
    lim = math.log(ratio)
    for i in np.flatnonzero(ok):
        if y[i] < negligible and y[i + 1] < negligible:
            continue
        nb = [slope[j] for j in (i - 2, i - 1, i + 1, i + 2) if 0 <= j < len(slope) and ok[j]]
        if not nb:
            continue
        excess = dl[i] - float(np.median(nb)) * (x[i + 1] - x[i])
        if abs(excess) > lim:
            out.append(int(i))
    return out


def fine_grid(lo: int, hi: int, per_octave: int) -> list[int]:
    """The lengths round(2^(i / per_octave)) strictly between lo and hi."""
    a = int(math.floor(math.log2(max(lo, 1)) * per_octave)) - 1
    b = int(math.ceil(math.log2(max(hi, 1)) * per_octave)) + 1
    return sorted({n for n in (int(round(2.0 ** (i / per_octave))) for i in range(max(a, 0), b + 1)) if lo < n < hi})


def refine_lengths(ns_train, spreads, exclude, per_octave: int, ratio: float) -> list[int]:
    """Extra training lengths: the `per_octave` grid strictly inside every step interval (step_intervals) of
    any spread series in `spreads` over the training lengths ns_train, without the lengths in `exclude`."""
    ns_train = np.asarray(ns_train, dtype=np.float64)
    ex = {int(v) for v in exclude}
    out: set[int] = set()
    for y in spreads:
        for i in step_intervals(ns_train, y, ratio):
            out |= {n for n in fine_grid(int(ns_train[i]), int(ns_train[i + 1]), per_octave) if n not in ex}
    return sorted(out)

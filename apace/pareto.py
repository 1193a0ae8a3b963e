"""Pareto front over minimised objectives, the best-candidate rule, and the front plot.

Best-candidate rule (documented in docs/hardware.md): among the non-dominated points, each metric
is normalised to its best (smallest) value on the front, value / best >= 1, and the candidate
minimises  sum_i w_i * value_i / best_i  / sum_i w_i  (weights default to 1).  A score of 1.0 would
mean one point is best in every metric.  Ties go to the smaller first objective, then to the row
order.  Metrics whose best value is <= 0 are shifted so the best is 1 before normalising.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np


def pareto_mask(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of `values` (n, d), every column minimised.
    Row i is dominated if some row j is <= in every column and < in at least one.  NaN rows are
    never on the front.  Exact duplicates are all kept."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 2:
        raise ValueError(f"pareto_mask: values must be a 2-D array (points x objectives), got shape {v.shape}")
    ok = ~np.isnan(v).any(axis=1)
    mask = ok.copy()
    idx = np.flatnonzero(ok)
    for i in idx:
        le = (v[idx] <= v[i]).all(axis=1)
        lt = (v[idx] < v[i]).any(axis=1)
        if (le & lt).any():
            mask[i] = False
    return mask


def normalised(values: np.ndarray) -> np.ndarray:
    """Each column divided by its best (minimum) value, after shifting non-positive columns."""
    v = np.asarray(values, dtype=float).copy()
    best = np.nanmin(v, axis=0)
    shift = np.where(best <= 0, 1 - best, 0.0)
    v = v + shift
    return v / (best + shift)


def best_candidate(values: np.ndarray, weights: Sequence[float] | None = None) -> tuple[int, np.ndarray]:
    """Index (into `values`) of the best candidate among the front, and every row's score (NaN off the front)."""
    v = np.asarray(values, dtype=float)
    w = np.ones(v.shape[1]) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (v.shape[1],) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"weights must be {v.shape[1]} non-negative numbers, not all zero; got {list(w)}")
    mask = pareto_mask(v)
    if not mask.any():
        raise ValueError("no point has every objective measured; nothing to choose from")
    scores = np.full(len(v), np.nan)
    scores[mask] = normalised(v[mask]) @ w / w.sum()
    order = np.lexsort((np.arange(len(v)), v[:, 0], np.where(mask, scores, np.inf)))
    return int(order[0]), scores


def select(df, objectives: Sequence[str], weights: Mapping[str, float] | None = None):
    """Add columns `on_front`, `score`, `best` to a results DataFrame (copy) and return it."""
    for o in objectives:
        if o not in df.columns:
            raise ValueError(f"objective {o!r} is not a results column; available: {sorted(df.columns)}")
    w = [float((weights or {}).get(o, 1.0)) for o in objectives]
    out = df.copy()
    vals = out[list(objectives)].to_numpy(float)
    out["on_front"] = pareto_mask(vals)
    best, scores = best_candidate(vals, w)
    out["score"] = scores
    out["best"] = False
    out.loc[out.index[best], "best"] = True
    return out


def plot_front(df, objectives: Sequence[str], paths: Sequence[str | Path], title: str = "") -> list[Path]:
    """Scatter of all points over the first two objectives, the front as a step line, the candidate starred."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y = objectives[0], objectives[1] if len(objectives) > 1 else objectives[0]
    fig, ax = plt.subplots(figsize=(7, 4.8))
    ax.scatter(df[x], df[y], s=14, c="0.7", label="design points")
    front = df[df["on_front"]].sort_values(x)
    ax.step(front[x], front[y], where="post", color="C0", lw=1.2)
    ax.scatter(front[x], front[y], s=24, color="C0", label="Pareto front")
    best = df[df["best"]]
    ax.scatter(best[x], best[y], s=160, marker="*", color="C3", zorder=5, label="best candidate")
    ax.set(xlabel=x, ylabel=y, title=title or f"{y} vs {x}")
    if x in ("lut", "ff", "carry") and df[x].max() > 20 * max(df[x].min(), 1):
        ax.set_xscale("log")
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = []
    for p in paths:
        p = Path(p)
        p.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(p, dpi=120)
        out.append(p)
    plt.close(fig)
    return out

"""Fitted error model of every accumulation scheme: fit it from a characterisation table, save/load it
as JSON, and sample accumulation errors from it (quant/'s statistical mode uses `ErrorModel.sample`).

What is modelled.  For one (scheme, order, acc, comp, dist) the error of an accumulation of n terms,
err = computed - exact (the exact sum of the terms as rounded into F_acc), divided by a unit, is a
random variable r(n).  The unit is per entry ('norm'): 'sumabs' = u * sum|x| (u = F_acc's unit
roundoff; right when many roundings of partial sums add up), or 'ulp' = ulp_acc(sum|x|) (right when
the error follows the binade of the result).  n = 1 has no error (the one element is already in
F_acc).  The model stores, at training lengths n_i (log-spaced, 2 ... n_max):
    q_i   41 quantiles of r(n_i) at p = 0, 0.025, ..., 1 (min and max of the measured trials at the ends),
    m_i   the mean of r(n_i) (bias), s_i its standard deviation (spread).
Between training lengths, mean is interpolated linearly and spread log-linearly in log n (a local
power law), and quantiles linearly; a sample is drawn by inverse-CDF from the interpolated quantiles
and then standardised to the interpolated mean and spread.  Beyond n_max the spread is extrapolated
with the power law of the last three training lengths (a warning says so once).

Final-rounding mode ('fr').  The computed result is a number of F_acc: computed = RN_acc(S + D) for the
exact sum S and the deviation D of the value the last operation rounds.  For non-negative terms
(POSITIVE_DISTS) S = sum|x| is the sampler's own input, so the final rounding's position on the grid
of F_acc is known: where D is small next to ulp(S) (Kulisch, compensated sums with a wide comp format,
any sum while the spread is about one rounding) the error is a deterministic sawtooth of S (binade
position frac(log2 S) and, once the trials' S lie within one ulp, the position inside the ulp) that no
function of n can follow.  The fr mode models d = D / (u S) by 41 quantiles per node and samples
err = RN_acc(S + d u S) - S.  Fitting d (a deconvolution): the measured error quantiles, shifted by
the mean final rounding of the measured sums (the table's 41 quantiles of sum|x| per length) and
scaled about their mean by the alpha in [0, 1.5] whose predicted spread matches the measured one
(alpha = 0: the error is the rounding alone, e.g. Kulisch).  Between nodes d's quantiles are
interpolated linearly in log n and rounded once.  A predicted spread in this mode is the spread of
RN_acc(S_j + d_k u S_j) - S_j over FR_SUMS values S_j of the sums' sum|x| (mid-probabilities of their
quantiles) and FR_DEVS values d_k.  The fr mode holds on the intervals between two training nodes
where it is chosen (below), the smooth mode elsewhere (and beyond n_max).  alpha is smoothed over the
nodes (running median of 3: a single-node spike is measurement noise fitted), and a node qualifies
only with |mean d| <= FR_MAX_BIAS (a few ulps): far beyond, e.g. a stagnated sum whose computed value
is nearly constant, D is not independent of S and the mode does not apply.  `predict` returns the
smooth mode's moments also in fr intervals; `sample` draws from the fr mode there.

Training lengths: the sweep's lengths alternate between training and held-out (refine.holdout_split);
rows of the step refinement (table column `refined`: extra lengths inside intervals where the training
spreads step, never a length of the sweep's own grid; characterize/refine.py) are additional training
nodes and never held-out points, so the held-out lengths are the same with and without refinement.

Model choice, on the training lengths only (leave-one-out, LOO: each interior training length
predicted from the other training lengths): the unit with the fewer LOO points outside +-20 % (then
the smaller mean |deviation|; ties: sumabs; 'ulp' only where |mean error| <= ULP_MAX_BIAS ulps at every
training length -- a stagnated sum's bias of many ulps doubles or halves in ulps wherever the sums cross
a power of two); for POSITIVE_DISTS a training node is an fr node when
the fr mode's LOO deviation there is within +-20 % or smaller than the smooth mode's (end nodes take
their neighbour's choice).  No held-out length takes part in any choice.

Fit quality stored per entry: (a) a global power law  spread = a * u * n^b  (and |bias| likewise),
least squares in log-log over the training lengths with n u <= 0.1 (before the n u ~ 1 breakdown),
with its R^2, the LOO scores per mode and the number of fr intervals; (b) the held-out check: the
measured spread at lengths NOT used for the model (every other length of the sweep) against the
model's prediction there, in the entry's unit (in fr intervals: the prediction for the held-out sums'
own sum|x|, the sampler's input, never their errors); a point passes if |pred/meas - 1| <= 20 %, or if
both are below 0.01 (negligible next to one rounding of the sum; e.g. FP32 sums of MX products that are
mostly exact).  `pass` stays this strict rule.  Every point outside it is classified explicitly
(holdout['outside'], counts points_sawtooth / points_noise / points_unexplained):
    'sawtooth'    the measured spread is a local extremum in n beyond the tolerance (> 1.2x or < 1/1.2 of
                  the spreads at both neighbouring training lengths) that the model did not follow;
    'noise'       |pred - meas| <= 2 standard errors of the measured spread (the engine's
                  rel_sumabs_std_se / ulpsa_std_se, from the trials' 4th moment; for older tables from
                  the measured quantiles): the measurement cannot resolve +-20 %;
    'unexplained' anything else (reported, not excused).
Resolution: a held-out point validates the model only when its measured spread is resolved (`_resolved`):
relative standard error at most RESOLVE_REL_SE = 1/15 (the +-20 % tolerance is 3 standard errors), or the
spread resolved as negligible (spread + 3 standard errors < NEGLIGIBLE), and -- where the configuration has
errors at all -- at least MIN_ERRORS trials with an error.  Unresolved points are not scored: counted
(holdout['points_unresolved'], holdout['unresolved'] = {n: relative SE}); the engine's adaptive trials
(spec rel_se_target, the `model` profile) add trials until each cell is resolved or the trial cap is reached.
Results: docs/characterize.md, "Held-out validation".

Row-conditioned entries (ROW_DISTS, RowEntry): fitted on rows of terms captured from a real model
(quant/rowmodel.py for softmax numerators of real attention), conditioned per row on n and
n_eff = sum|x| / max|x|; see RowEntry.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from golden.accumulate import ORDERS, SCHEMES

from .refine import holdout_split
from .spec import DISTS, MIN_ERRORS, NEGLIGIBLE, RESOLVE_REL_SE, acc_format

# gzip-compressed: the JSON is ~6 MB of quantile tables and compresses ~5x; load/save read and write
# plain `.json` as well (the suffix decides)
DEFAULT_PATH = os.path.join(os.path.dirname(__file__), "data", "error_model.json.gz")
HOLDOUT_TOL = 0.20
NORMS = ("sumabs", "ulp")
# where a distribution was not fitted, try these in order (documented in docs/characterize.md)
NEAREST: dict[str, tuple[str, ...]] = {
    "uniform": ("softmax", "mx_products", "normal"),
    "normal": ("mx_products", "uniform", "softmax"),
    "lognormal": ("softmax", "uniform", "normal", "mx_products"),
    "student_t": ("normal", "mx_products", "uniform", "softmax"),
    "softmax": ("uniform", "mx_products", "normal"),
    "mx_products": ("normal", "uniform", "softmax"),
    "cancellation": ("normal", "mx_products", "uniform", "softmax"),
    "swamping": ("uniform", "softmax", "normal", "mx_products"),
}
NO_COMP = ("naive", "kulisch")
# distributions of non-negative terms: their exact sum IS sum|x|, so its position on F_acc's grid (and
# with it the final rounding of the result) is known from the sampler's input; these get the
# final-rounding mode ('fr', module doc) where it predicts better on the training lengths
POSITIVE_DISTS = ("uniform", "softmax", "lognormal", "swamping")
# the fr mode's predicted distribution is evaluated on FR_SUMS values of sum|x| (mid-probabilities of its
# measured quantiles: many, because where sum|x| spans many ulps their final roundings are a Monte Carlo
# sample of a uniform law) x FR_DEVS values of the pre-rounding deviation d
FR_SUMS, FR_DEVS = 512, 32
ULP_MAX_BIAS = 1.0  # the ulp unit only while |mean error| <= this many ulps at every training length
FR_MAX_BIAS = 4.0
FR_ALPHA_MEDIAN = True  # alpha per node replaced by the running median of 3 nodes  # fr nodes need |mean d| <= this (units u*sum|x|, i.e. 2 to 4 ulps of S)
# Distributions fitted on terms captured from a real model rather than drawn from a generator:
# 'attn_softmax' = softmax numerators exp(s_j - max s) of real attention rows (quant/rowmodel.py),
# conditioned per row on n and n_eff = sum|x| / max|x| (RowEntry below).
ROW_DISTS = ("attn_softmax",)
NEAREST["attn_softmax"] = ("softmax", "uniform", "mx_products", "normal")
ROW_PROBS = np.linspace(0.0, 1.0, 21)
ROW_MIN_CELL = 12  # cells with fewer training rows take the nearest cell that has enough


def _acc_label(acc) -> str:
    return acc_format(acc, "acc").label()


def _comp_label(scheme: str, acc, comp) -> str:
    """'' for no separate compensation format (None, equal to acc, or a scheme without one)."""
    if comp is None or scheme in NO_COMP:
        return ""
    c = acc_format(comp, "comp").label()
    return "" if c == _acc_label(acc) else c


def key(scheme: str, order: str, acc, comp, dist: str) -> str:
    return f"{scheme}|{order}|{_acc_label(acc)}|{_comp_label(scheme, acc, comp) or '-'}|{dist}"


def _sig(v, digits: int = 5):
    """Round for compact JSON (non-finite values become None)."""
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_sig(x, digits) for x in v]
    v = float(v)
    if not math.isfinite(v):
        return None
    return float(f"{v:.{digits}g}")


# ---------------------------------------------------------------------- interpolation helpers
def _qmoments(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of the distribution whose quantile function is piecewise linear through q
    (last axis) on a uniform probability grid."""
    a, b = q[..., :-1], q[..., 1:]
    k = q.shape[-1] - 1
    m1 = ((a + b) / 2).sum(-1) / k
    m2 = ((a * a + a * b + b * b) / 3).sum(-1) / k
    return m1, np.sqrt(np.maximum(m2 - m1 * m1, 0.0))


def _interp_nodes(ns: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index i of the node at or below n (clipped) and weight t in [0, 1] (log n) toward node i+1."""
    ln = np.log(ns)
    x = np.log(np.maximum(n, 1))
    i = np.clip(np.searchsorted(ln, x, side="right") - 1, 0, max(len(ns) - 2, 0))
    if len(ns) == 1:
        return i, np.zeros_like(x)
    t = np.clip((x - ln[i]) / (ln[i + 1] - ln[i]), 0.0, 1.0)
    return i, t


def _loglin(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """a^(1-t) b^t where both are > 0, else linear."""
    pos = (a > 0) & (b > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        geo = np.exp((1 - t) * np.log(np.where(pos, a, 1.0)) + t * np.log(np.where(pos, b, 1.0)))
    return np.where(pos, geo, (1 - t) * a + t * b)


def _interp_spread(ns: np.ndarray, std: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Spread at lengths n from the node spreads: log-linear in log n between the two nodes around n
    (linear where one of them is 0); clipped to the end nodes."""
    i, t = _interp_nodes(ns, np.asarray(n, dtype=np.float64))
    return _loglin(std[i], std[np.minimum(i + 1, len(ns) - 1)], t)


@dataclass
class Entry:
    """One fitted (scheme, order, acc, comp, dist): values in units of `norm` (see module doc)."""

    u: float
    acc: str
    norm: str
    ns: np.ndarray
    q: np.ndarray  # (len(ns), P)
    mean: np.ndarray
    std: np.ndarray
    fit: dict = field(default_factory=dict)
    holdout: dict = field(default_factory=dict)
    fr_q: np.ndarray | None = None  # (len(ns), P) quantiles of the pre-rounding deviation d (units u*sum|x|)
    fr_nodes: np.ndarray | None = None  # bool per node: the fr mode holds there

    def fr_lengths(self, n: np.ndarray) -> np.ndarray:
        """Bool per length: n lies in an interval between two fr nodes (the final-rounding mode applies)."""
        n = np.asarray(n, dtype=np.float64)
        if self.fr_q is None or len(self.ns) < 2:
            return np.zeros(n.shape, dtype=bool)
        i, _ = _interp_nodes(self.ns, n)
        both = self.fr_nodes[i] & self.fr_nodes[np.minimum(i + 1, len(self.ns) - 1)]
        return both & (n > 1) & (n >= self.ns[0]) & (n <= self.ns[-1])

    def fr_quantiles(self, n: np.ndarray) -> np.ndarray:
        """Quantile rows (len(n), P) of d at lengths n (linear in log n between nodes)."""
        i, t = _interp_nodes(self.ns, np.asarray(n, dtype=np.float64))
        j = np.minimum(i + 1, len(self.ns) - 1)
        return (1 - t)[:, None] * self.fr_q[i] + t[:, None] * self.fr_q[j]

    def unit(self, sum_abs: np.ndarray) -> np.ndarray:
        """The error unit for sums with these sum|x| (units of the sums)."""
        if self.norm == "ulp":
            from .bounds import ulp

            return ulp(sum_abs, acc_format(self.acc))
        return self.u * np.asarray(sum_abs, dtype=np.float64)

    def tail_slope(self) -> float:
        k = min(3, len(self.ns))
        if k < 2:
            return 0.0
        x = np.log(self.ns[-k:])
        y = self.std[-k:]
        if np.any(y <= 0):
            return 0.0
        return float(np.clip(np.polyfit(x, np.log(y), 1)[0], 0.0, 1.5))

    def predict(self, n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(quantile rows, mean, std) at lengths n (1-D array), units of u * sum|x|."""
        n = np.maximum(np.asarray(n, dtype=np.float64), self.ns[0])
        i, t = _interp_nodes(self.ns, n)
        j = np.minimum(i + 1, len(self.ns) - 1)
        q = (1 - t)[:, None] * self.q[i] + t[:, None] * self.q[j]
        mean = (1 - t) * self.mean[i] + t * self.mean[j]
        std = _interp_spread(self.ns, self.std, n)
        beyond = n > self.ns[-1]
        if beyond.any():
            f = (n[beyond] / self.ns[-1]) ** self.tail_slope()
            q[beyond] *= f[:, None]
            mean[beyond] *= f
            std[beyond] *= f
        return q, mean, std

    def to_json(self) -> dict:
        return {
            "u": self.u, "acc": self.acc, "norm": self.norm, "ns": [int(v) for v in self.ns], "q": _sig(self.q), "mean": _sig(self.mean),
            "std": _sig(self.std), "fit": self.fit, "holdout": self.holdout,
            **({} if self.fr_q is None else {"fr_q": _sig(self.fr_q), "fr_nodes": [bool(b) for b in self.fr_nodes]}),
        }

    @classmethod
    def from_json(cls, d: dict) -> Entry:
        def arr(v):
            return np.array([np.nan if x is None else x for x in v], dtype=np.float64)

        def mat(v):
            return np.array([[np.nan if x is None else x for x in row] for row in v], dtype=np.float64)

        fr = d.get("fr_q")
        return cls(float(d["u"]), d["acc"], d["norm"], np.array(d["ns"], dtype=np.float64), mat(d["q"]), arr(d["mean"]),
                   arr(d["std"]), d.get("fit", {}), d.get("holdout", {}), None if fr is None else mat(fr),
                   None if fr is None else np.array(d["fr_nodes"], dtype=bool))


@dataclass
class RowEntry:
    """One (scheme, order, acc, comp) fitted on real rows of terms (a ROW_DISTS distribution).

    The error r = (computed - sum of the terms as given) / (u * sum|x|) is modelled per row as a
    function of two quantities of the row: its length n (the number of terms that can be non-zero)
    and its effective length n_eff = sum|x| / max|x| (1 for one dominant term, n for equal terms).
    Training rows are binned by n in half-octaves (nodes n_i = 2^((i + 1/2) / 2)) and by n_eff in
    octaves (cell j: 2^j <= n_eff < 2^(j+1)); each cell stores 21 quantiles of r (p = 0, 0.05, ..., 1).
    A cell with fewer than ROW_MIN_CELL rows holds the quantiles of the nearest cell that has enough
    (distance in octaves of n and n_eff), and says so in `count` (0).  Sampling interpolates the
    quantiles linearly in log n between the two nodes around n (same n_eff cell) and draws by inverse
    CDF; beyond the last node the last node's quantiles are used (a warning says so once)."""

    u: float
    acc: str
    q: np.ndarray  # (N, F, P)
    count: np.ndarray  # (N, F) training rows per cell (0: filled from the nearest cell)
    n_max: int  # longest training row length
    holdout: dict = field(default_factory=dict)
    norm: str = "sumabs"
    fit: dict = field(default_factory=dict)

    @property
    def ns(self) -> np.ndarray:
        return 2.0 ** ((np.arange(self.q.shape[0]) + 0.5) / 2)

    @staticmethod
    def cell(n: np.ndarray, n_eff: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        i = np.clip(np.floor(2 * np.log2(np.maximum(n, 1))).astype(np.int64), 0, shape[0] - 1)
        j = np.clip(np.floor(np.log2(np.maximum(n_eff, 1))).astype(np.int64), 0, shape[1] - 1)
        return i, j

    def _nodes(self, n: np.ndarray, n_eff: np.ndarray):
        """(i, i1, j, t): the two length nodes i, i1 around each n, its n_eff column j and the weight t of
        node i1 (linear in the node coordinate 2 log2 n - 0.5)."""
        N, F = self.q.shape[:2]
        x = 2 * np.log2(np.maximum(n, 1.0)) - 0.5  # node coordinate
        i = np.clip(np.floor(x).astype(np.int64), 0, max(N - 2, 0))
        t = np.clip(x - i, 0.0, 1.0) if N > 1 else np.zeros_like(x)
        _, j = self.cell(n, n_eff, (N, F))
        return i, np.minimum(i + 1, N - 1), j, t

    def quantiles(self, n: np.ndarray, n_eff: np.ndarray) -> np.ndarray:
        """Interpolated quantile rows (len(n), P) of r for rows of length n and effective length n_eff."""
        i, i1, j, t = self._nodes(n, n_eff)
        return (1 - t)[:, None] * self.q[i, j] + t[:, None] * self.q[i1, j]

    def column(self, nodes, cols: np.ndarray) -> np.ndarray:
        """Column cols[r] of row r of quantiles() (nodes = _nodes(n, n_eff)), without the other columns."""
        i, i1, j, t = nodes
        return (1 - t) * self.q[i, j, cols] + t * self.q[i1, j, cols]

    def predict(self, n: np.ndarray, n_eff: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) of r, units of u * sum|x|."""
        return _qmoments(self.quantiles(np.asarray(n, float), np.asarray(n_eff, float)))

    def to_json(self) -> dict:
        return {"kind": "rows", "u": self.u, "acc": self.acc, "norm": self.norm, "n_max": int(self.n_max),
                "probs": len(ROW_PROBS), "q": [[_sig(c, 4) for c in r] for r in self.q],
                "count": self.count.astype(int).tolist(), "holdout": self.holdout}

    @classmethod
    def from_json(cls, d: dict) -> RowEntry:
        q = np.array([[[np.nan if x is None else x for x in c] for c in r] for r in d["q"]], dtype=np.float64)
        return cls(float(d["u"]), d["acc"], q, np.array(d["count"], dtype=np.int64), int(d["n_max"]), d.get("holdout", {}))


def _entry_from_json(d: dict):
    return RowEntry.from_json(d) if d.get("kind") == "rows" else Entry.from_json(d)


def row_errors(rows: np.ndarray, scheme: str, order: str, acc, comp, sums=None) -> np.ndarray:
    """r = (golden.accumulate(rows) - sum of rows) / (u * sum|rows|) for each row (rows: (R, L), terms in
    summation order, zero-padded; the zeros are summed too, as a streaming accumulator does).
    sums: precomputed (exact sums, sums of |x|) of the rows."""
    from golden.accumulate import accumulate

    f = acc_format(acc, "acc")
    v = accumulate(rows, scheme, f, None if comp is None else acc_format(comp, "comp"), order).value
    ex, sa = sums if sums is not None else _row_sums(rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sa > 0, (v - ex) / (f.unit_roundoff * sa), 0.0)


def _row_sums(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.array([math.fsum(r) for r in rows]), np.array([math.fsum(r) for r in np.abs(rows)])


def fit_rows_entry(n: np.ndarray, n_eff: np.ndarray, r: np.ndarray, u: float, acc: str, n_max: int,
                   held: np.ndarray | None = None) -> RowEntry:
    """Fit a RowEntry from per-row (n, n_eff, r); rows with held=True are kept out of the fit and used
    for the held-out check (per n node: predicted vs measured spread and mean of the held-out rows)."""
    held = np.zeros(len(n), dtype=bool) if held is None else held
    tr = ~held & (n > 1)
    N = int(np.floor(2 * np.log2(max(n_max, 2)))) + 1
    F = int(np.floor(np.log2(max(n_max, 2)))) + 1
    i, j = RowEntry.cell(n[tr], n_eff[tr], (N, F))
    q = np.full((N, F, len(ROW_PROBS)), np.nan)
    count = np.zeros((N, F), dtype=np.int64)
    for a in range(N):
        for b in range(F):
            sel = (i == a) & (j == b)
            count[a, b] = int(sel.sum())
            if count[a, b] >= ROW_MIN_CELL:
                q[a, b] = np.quantile(r[tr][sel], ROW_PROBS)
    good = np.argwhere(count >= ROW_MIN_CELL)
    if len(good) == 0:
        raise ValueError(f"parameter 'rows': fewer than {ROW_MIN_CELL} training rows in every (n, n_eff) cell")
    for a in range(N):
        for b in range(F):
            if count[a, b] < ROW_MIN_CELL:
                d = ((good[:, 0] - a) / 2.0) ** 2 + (good[:, 1] - b) ** 2.0
                ga, gb = good[np.argmin(d)]
                q[a, b] = q[ga, gb]
                count[a, b] = 0
    e = RowEntry(u, acc, q, count, int(n_max))
    if held.any():
        hn, hf, hr = n[held], n_eff[held], r[held]
        keep = hn > 1
        hn, hf, hr = hn[keep], hf[keep], hr[keep]
        node = np.clip(np.floor(2 * np.log2(hn)).astype(np.int64), 0, N - 1)
        pm, ps = e.predict(hn, hf)
        # predicted spread of the pooled rows of a node: mixture of the per-row predictions
        pts = []
        for a in np.unique(node):
            sel = node == a
            if sel.sum() < 2 * ROW_MIN_CELL:
                continue
            mm = float(np.mean(pm[sel]))
            pstd = float(np.sqrt(np.mean(ps[sel] ** 2 + pm[sel] ** 2) - mm**2))
            pts.append((int(round(2 ** ((a + 0.5) / 2))), int(sel.sum()), float(np.std(hr[sel])), pstd,
                        float(np.mean(hr[sel])), mm))
        meas = np.array([p[2] for p in pts])
        pred = np.array([p[3] for p in pts])
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = np.where(meas > 0, pred / meas - 1.0, np.where(pred > 0, np.inf, 0.0))
        ok = (np.abs(dev) <= HOLDOUT_TOL) | ((meas < NEGLIGIBLE) & (pred < NEGLIGIBLE))
        e.holdout = {
            "units": "u*sum|x|", "what": "held-out rows pooled per n node",
            "ns": [p[0] for p in pts], "rows": [p[1] for p in pts],
            "measured_std": _sig(meas), "predicted_std": _sig(pred),
            "measured_mean": _sig([p[4] for p in pts]), "predicted_mean": _sig([p[5] for p in pts]),
            "rel_dev": _sig(np.where(np.isfinite(dev), dev, np.nan)),
            "points_pass": int(ok.sum()), "points": int(ok.size), "pass": bool(ok.all()),
        }
    return e


def fit_rows(rows: np.ndarray, n: np.ndarray, configs, dist: str = "attn_softmax", held: np.ndarray | None = None,
             progress: bool = False) -> ErrorModel:
    """Fit RowEntry models for `configs` (iterable of (scheme, order, acc, comp)) from real rows of terms.

    rows: (R, L) terms in summation order, zero-padded (the padding is summed too); n: (R,) the number
    of leading terms that can be non-zero (for attention: the allowed keys); held: rows kept out of the
    fit for the held-out check."""
    from tqdm import tqdm

    if dist not in ROW_DISTS:
        raise ValueError(f"parameter 'dist' must be one of {', '.join(ROW_DISTS)}; got {dist!r}")
    rows = np.asarray(rows, dtype=np.float64)
    n = np.asarray(n, dtype=np.int64)
    if rows.ndim != 2 or n.shape != rows.shape[:1]:
        raise ValueError(f"parameters 'rows' (R, L) and 'n' (R,) must agree; got {rows.shape} and {n.shape}")
    sums = _row_sums(rows)
    sa = sums[1]
    mx = np.abs(rows).max(1)
    n_eff = np.where(mx > 0, sa / np.where(mx > 0, mx, 1.0), 1.0)
    entries = {}
    for scheme, order, acc, comp in tqdm(list(configs), desc="fit row model", disable=not progress):
        f = acc_format(acc, "acc")
        r = row_errors(rows, scheme, order, acc, comp, sums)
        entries[key(scheme, order, acc, comp, dist)] = fit_rows_entry(
            n.astype(np.float64), n_eff, r, f.unit_roundoff, f.label(), int(rows.shape[1]), held)
    return ErrorModel(entries, {"rows": int(rows.shape[0]), "row_length": int(rows.shape[1]), "dist": dist})


# ---------------------------------------------------------------------- fitting
def _powerlaw(ns: np.ndarray, y: np.ndarray) -> dict:
    ok = (y > 0) & np.isfinite(y)
    if ok.sum() < 2:
        return {"a": None, "b": None, "r2": None, "points": int(ok.sum())}
    x, ly = np.log(ns[ok]), np.log(y[ok])
    b, la = np.polyfit(x, ly, 1)
    pred = la + b * x
    ss = float(((ly - ly.mean()) ** 2).sum())
    r2 = 1.0 - float(((ly - pred) ** 2).sum()) / ss if ss > 0 else 1.0
    return {"a": _sig(math.exp(la)), "b": _sig(b), "r2": _sig(r2, 4), "points": int(ok.sum())}


def _std_stderr(q: np.ndarray, trials: int) -> float:
    """Standard error of a spread measured from `trials` samples whose quantile function is piecewise
    linear through q (41 points): sqrt(m4 - s^4) / (2 s sqrt(trials))."""
    if trials <= 1 or not np.isfinite(q).all():
        return 0.0
    p = np.linspace(0.0, 1.0, 4001)
    x = np.interp(p, np.linspace(0.0, 1.0, len(q)), q)
    d = x - x.mean()
    s2, m4 = float(np.mean(d * d)), float(np.mean(d**4))
    return math.sqrt(max(m4 - s2 * s2, 0.0)) / (2 * math.sqrt(s2 * trials)) if s2 > 0 else 0.0


def _roughness(ns: np.ndarray, y: np.ndarray) -> float:
    """Mean squared second difference of log y against log n (0 for a power law)."""
    ok = y > 0
    if ok.sum() < 3:
        return 0.0
    x, ly = np.log(ns[ok]), np.log(y[ok])
    slope = np.diff(ly) / np.diff(x)
    return float(np.mean(np.diff(slope) ** 2))


def _grid(q: np.ndarray, k: int) -> np.ndarray:
    """k values at the mid-probabilities (i + 1/2) / k of the piecewise-linear quantile function q."""
    return np.interp((np.arange(k) + 0.5) / k, np.linspace(0.0, 1.0, len(q)), q)


def _fr_values(S: np.ndarray, d: np.ndarray, u: float, R, unit) -> np.ndarray:
    """Errors of the final-rounding mode for every pair (sum|x| = S_j, deviation d[..., k]), in units
    unit(S_j): (RN_acc(S_j + d u S_j) - S_j) / unit(S_j); shape (len(S), *d.shape).  Pairs whose rounding
    overflows are NaN."""
    S2 = S.reshape((-1,) + (1,) * d.ndim)
    with np.errstate(over="ignore", invalid="ignore"):
        v = (R(S2 + (u * S2) * d[None]) - S2) / unit(S2)
    return np.where(np.isfinite(v), v, np.nan)


FR_ALPHAS = np.linspace(0.0, 1.5, 31)


def _fr_calibrate(q: np.ndarray, mean: float, std: float, sq: np.ndarray, u: float, R) -> tuple[float, float, float]:
    """(dm, alpha, c) of the pre-rounding deviation d = dm + alpha (q - c) (units u*sum|x|) at one training
    length: the measured error quantiles q (same units) shifted by the mean final rounding of the
    measured sum|x| (quantiles sq) and scaled about their mean c by alpha in [0, 1.5], the alpha whose fr
    spread matches the measured spread (on a grid of alphas, linear between the two around the match;
    0 when even a constant d is as wide, e.g. Kulisch: d = 0, the error IS the final rounding)."""
    S = _grid(sq, FR_SUMS // 4)
    qg = _grid(q, FR_DEVS)

    def unit(s):
        return u * s

    f = _fr_values(S, np.zeros(1), u, R, unit)
    dm = mean - float(np.nanmean(f)) if np.isfinite(f).any() else mean
    d = dm + FR_ALPHAS[:, None] * (qg - qg.mean())[None, :]
    v = _fr_values(S, d, u, R, unit)  # (J, A, K)
    gap = np.nanstd(np.swapaxes(v, 0, 1).reshape(len(FR_ALPHAS), -1), axis=1) - std
    gap = np.where(np.isfinite(gap), gap, 0.0)
    if gap[0] >= 0:  # even a constant d is as wide as the measured spread
        a = 0.0
    elif (gap < 0).all():
        a = float(FR_ALPHAS[-1])
    else:
        j = int(np.argmax(gap >= 0))
        a = float(FR_ALPHAS[j - 1] + (FR_ALPHAS[j] - FR_ALPHAS[j - 1]) * (-gap[j - 1]) / (gap[j] - gap[j - 1]))
    return dm, a, float(qg.mean())


def _fr_std(S: np.ndarray, d: np.ndarray, u: float, R, unit) -> float:
    v = _fr_values(S, d, u, R, unit)
    return float(np.nanstd(v)) if np.isfinite(v).any() else 0.0


def _fr_node_rule(lf, lb):
    """fr node: its LOO |deviation| (capped at 1) within the tolerance or below the smooth mode's."""
    return (lf < lb) | (lf <= HOLDOUT_TOL)


def _rel_se(g: pd.DataFrame, u: float) -> np.ndarray:
    """Relative standard error of each row's measured spread, the larger over the two units (0 where the
    spread is 0; 0 for tables without the standard-error columns)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.zeros(len(g))
        for s, se in (("rel_sumabs_std", "rel_sumabs_std_se"), ("ulpsa_std", "ulpsa_std_se")):
            if se in g:
                sd = g[s].to_numpy(dtype=np.float64)
                r = np.where(sd > 0, g[se].to_numpy(dtype=np.float64) / np.where(sd > 0, sd, 1.0), 0.0)
                out = np.fmax(out, np.where(np.isfinite(r), r, np.inf))
    return out


def _resolved(g: pd.DataFrame, u: float) -> np.ndarray:
    """Rows whose measured spread can validate the model at +-20 % (RESOLVE_REL_SE): its relative standard
    error is at most a third of the tolerance, or the spread is resolved as negligible (spread + 3 standard
    errors below NEGLIGIBLE u*sum|x|, where the held-out rule counts spreads as equal), and -- where the
    configuration has errors at all -- at least MIN_ERRORS of its trials have an error.  The engine's
    adaptive trials (spec rel_se_target) run each cell until this holds or its trial cap is reached."""
    res = _rel_se(g, u) <= RESOLVE_REL_SE
    if "rel_sumabs_std_se" in g:
        s = g["rel_sumabs_std"].to_numpy(dtype=np.float64) / u
        se = g["rel_sumabs_std_se"].to_numpy(dtype=np.float64) / u
        res |= np.isfinite(se) & (s + 3 * se < NEGLIGIBLE)
    if "exact_frac" in g and "trials" in g:  # rare errors: too few trials with an error (MIN_ERRORS)
        nz = np.rint((1.0 - g["exact_frac"].to_numpy(dtype=np.float64)) * g["trials"].to_numpy(dtype=np.float64))
        if (nz > 0).any():
            res &= nz >= MIN_ERRORS
    return res


def _rel_dev(pred: float, meas: float) -> float:
    if meas < NEGLIGIBLE and pred < NEGLIGIBLE:
        return 0.0
    return pred / meas - 1.0 if meas > 0 else math.inf


def _loo_score(devs: list[float]) -> tuple[int, float]:
    a = np.abs(np.asarray(devs, dtype=np.float64))
    return (int((a > HOLDOUT_TOL).sum()), float(np.mean(np.minimum(a, 1.0))) if a.size else 0.0)


def fit_entry(g: pd.DataFrame) -> Entry:
    """Fit one configuration's model from its table rows (one row per length n).

    Model selection uses the training lengths only (leave-one-out: each interior training length
    predicted from its two training neighbours): the smooth unit (u*sum|x| or ulp(sum|x|)) with the
    fewer LOO points outside +-20 % (then the smaller mean |deviation|), and, for distributions of
    non-negative terms, the final-rounding mode at the training nodes where its LOO deviation is smaller."""
    from golden.formats import rounder

    from .engine import QCOLS, SQCOLS, UQCOLS

    g = g[g["n"] > 1].sort_values("n")
    u = float(g["u"].iloc[0])
    acc = str(g["acc"].iloc[0])
    dist = str(g["dist"].iloc[0]) if "dist" in g else ""
    fa = acc_format(acc)
    ns_all = g["n"].to_numpy(dtype=np.float64)
    # the sweep's lengths alternate between training and held-out (refine.holdout_split; the longest is
    # training); rows of the step refinement (`refined`, never a length of the sweep's grid) are extra
    # training nodes and take no part in the alternation
    refined = (g["refined"].fillna(False).to_numpy(dtype=bool) if "refined" in g
               else np.zeros(len(ns_all), dtype=bool))
    train = refined.copy()
    train[~refined] = holdout_split(ns_all[~refined])
    tidx = np.flatnonzero(train)
    cand = {
        "sumabs": (g[QCOLS].to_numpy(dtype=np.float64) / u, g["rel_sumabs_mean"].to_numpy(dtype=np.float64) / u,
                   g["rel_sumabs_std"].to_numpy(dtype=np.float64) / u),
        "ulp": (g[UQCOLS].to_numpy(dtype=np.float64), g["ulpsa_mean"].to_numpy(dtype=np.float64),
                g["ulpsa_std"].to_numpy(dtype=np.float64)),
    }
    rough = {k: _roughness(ns_all[train], v[2][train]) for k, v in cand.items()}

    def w_at(i, i0, i1):
        return (math.log(ns_all[i]) - math.log(ns_all[i0])) / (math.log(ns_all[i1]) - math.log(ns_all[i0]))

    loo = {}
    for norm in NORMS:  # each interior training length predicted from the other training lengths
        s = cand[norm][2]
        loo[norm] = [_rel_dev(float(_interp_spread(ns_all[np.delete(tidx, j)], s[np.delete(tidx, j)],
                                                   ns_all[tidx[j]:tidx[j] + 1])[0]), s[tidx[j]])
                     for j in range(1, len(tidx) - 1)]
    scores = {k: _loo_score(v) for k, v in loo.items()}
    # the ulp unit models an error that follows the binade of the result (about one rounding of it); with a
    # bias of many ulps (e.g. a stagnated sum) the error is a function of u*sum|x|, and in ulps it doubles
    # or halves wherever the sums cross a power of two: then the ulp unit is not eligible
    ulp_ok = bool(np.all(np.abs(cand["ulp"][1][train]) <= ULP_MAX_BIAS))
    norm = min([k for k in NORMS if k != "ulp" or ulp_ok], key=lambda k: (scores[k], k != "sumabs"))
    q, mean, std = cand[norm]
    e = Entry(u, acc, norm, ns_all[train], q[train], mean[train], std[train])

    # final-rounding mode (module doc): sums of non-negative terms, where sum|x| is the exact sum
    sq = g[SQCOLS].to_numpy(dtype=np.float64) if set(SQCOLS) <= set(g.columns) else None
    fr_q = None
    if (dist in POSITIVE_DISTS and sq is not None and np.isfinite(sq).all() and (sq > 0).all()
            and len(tidx) >= 3):
        R = rounder(fa)
        qs, ms, ss = cand["sumabs"]
        cal = [_fr_calibrate(qs[i], ms[i], ss[i], sq[i], u, R) for i in tidx]
        alpha = np.array([c[1] for c in cal])
        if FR_ALPHA_MEDIAN and len(alpha) >= 3:  # alpha varies smoothly in n: a running median of 3 drops
            pad = np.concatenate([alpha[:1], alpha, alpha[-1:]])  # single-node spikes fitted to noise
            alpha = np.median(np.stack([pad[:-2], pad[1:-1], pad[2:]]), axis=0)
        fr_q = np.array([dm + a * (qs[i] - c) for (dm, _, c), a, i in zip(cal, alpha, tidx)])
        unit = e.unit

        def fr_pred(i, dq):
            return _fr_std(_grid(sq[i], FR_SUMS), _grid(dq, FR_DEVS), u, R, unit)

        def fr_interp(i, a, b):  # a, b: positions in tidx
            w = w_at(i, tidx[a], tidx[b])
            return (1 - w) * fr_q[a] + w * fr_q[b]

        loo_fr = [_rel_dev(fr_pred(tidx[j], fr_interp(tidx[j], j - 1, j + 1)), std[tidx[j]])
                  for j in range(1, len(tidx) - 1)]
        lb = np.minimum(np.abs(loo[norm]), 1.0)
        lf = np.minimum(np.abs(loo_fr), 1.0)
        inner = _fr_node_rule(lf, lb)
        nodes = np.concatenate([inner[:1], inner, inner[-1:]])
        # and D within a few ulps of S: far beyond (a stagnated sum, computed ~ constant) D is not independent of S
        nodes &= np.abs(fr_q.mean(axis=1)) <= FR_MAX_BIAS
        if (nodes[:-1] & nodes[1:]).any():
            e.fr_q, e.fr_nodes = fr_q, nodes
            scores["fr"] = _loo_score(loo_fr)
        else:
            fr_q = None
    std_sa = cand["sumabs"][2]
    mean_sa = cand["sumabs"][1]
    pre = train & (ns_all * u <= 0.1)
    e.fit = {
        "spread": _powerlaw(ns_all[pre], std_sa[pre]),
        "bias": _powerlaw(ns_all[pre], np.abs(mean_sa[pre])),
        "range_nu_max": 0.1,
        "roughness": {k: _sig(v, 3) for k, v in rough.items()},
        "loo": {k: {"outside": v[0], "mean_abs_dev": _sig(v[1], 3)} for k, v in scores.items()},
        "fr_intervals": int((e.fr_nodes[:-1] & e.fr_nodes[1:]).sum()) if e.fr_q is not None else 0,
    }
    hold = ~train
    if hold.any():
        _, _, pstd = e.predict(ns_all[hold])
        idx = np.flatnonzero(hold)
        frl = e.fr_lengths(ns_all[hold])
        for t in np.flatnonzero(frl):  # the fr prediction for the held-out sums' own sum|x|
            i = idx[t]
            pstd[t] = _fr_std(_grid(sq[i], FR_SUMS), _grid(e.fr_quantiles(ns_all[i:i + 1])[0], FR_DEVS), u,
                              rounder(fa), e.unit)
        meas = std[hold]  # in the entry's own unit (u*sum|x| or ulp(sum|x|)), as the sampler uses it
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = np.where(meas > 0, pstd / meas - 1.0, np.where(pstd > 0, np.inf, 0.0))
        ok = (np.abs(dev) <= HOLDOUT_TOL) | ((meas < NEGLIGIBLE) & (pstd < NEGLIGIBLE))
        finite = np.isfinite(dev)
        # Explicit classification of the points outside +-20 % (module doc, "held-out check"):
        #   'sawtooth': the measured spread is a local extremum in n beyond the tolerance (above 1.2x or
        #     below 1/1.2 of both neighbouring training lengths' spreads): the spread is not a smooth
        #     function of n there, so no model interpolating in n can predict it;
        #   'noise': |predicted - measured| <= 2 standard errors of the measured spread (from the
        #     measured quantiles' 4th moment and the number of trials): the measurement cannot resolve +-20 %.
        idx = np.flatnonzero(hold)
        trials = int(g["trials"].max()) if "trials" in g else 0
        trials_n = g["trials"].to_numpy(dtype=np.int64) if "trials" in g else np.zeros(len(ns_all), dtype=np.int64)
        # standard error of each measured spread: from the trials' 4th moment (engine column), else
        # from the measured quantiles (tables written before that column existed)
        col = "rel_sumabs_std_se" if norm == "sumabs" else "ulpsa_std_se"
        se_meas = (g[col].to_numpy(dtype=np.float64) / (u if norm == "sumabs" else 1.0) if col in g
                   else np.full(len(ns_all), np.nan))
        why = []
        for t, i in enumerate(idx):
            if ok[t]:
                why.append("")
                continue
            nb = [std[j] for j in (i - 1, i + 1) if 0 <= j < len(std) and train[j]]
            se = se_meas[i] if np.isfinite(se_meas[i]) else _std_stderr(q[i], trials)
            if nb and (meas[t] > (1 + HOLDOUT_TOL) * max(nb) or meas[t] * (1 + HOLDOUT_TOL) < min(nb)):
                why.append("sawtooth")
            elif se > 0 and abs(pstd[t] - meas[t]) <= 2 * se:
                why.append("noise")
            else:
                why.append("unexplained")
        why = np.array(why)
        # resolution (module doc): only a measured spread whose own standard error resolves the tolerance
        # validates the model; the others are counted and listed, not scored
        res = _resolved(g, u)[hold]
        e.holdout = {
            "units": "u*sum|x|" if norm == "sumabs" else "ulp(sum|x|)", "ns": [int(v) for v in ns_all[hold]], "measured_std": _sig(meas),
            "predicted_std": _sig(pstd), "rel_dev": _sig(np.where(finite, dev, np.nan)),
            "resolved": [bool(b) for b in res], "trials": [int(v) for v in trials_n[hold]],
            "points_pass": int((ok & res).sum()), "points": int(res.sum()),
            "points_unresolved": int((~res).sum()), "points_unresolved_pass": int((ok & ~res).sum()),
            "max_abs_rel_dev": _sig(float(np.max(np.abs(dev[~ok & res]))) if (~ok & res).any()
                                    and np.isfinite(dev[~ok & res]).all() else (0.0 if (ok | ~res).all() else None)),
            "pass": bool((ok | ~res).all()),
            "outside": {n: w for n, w, r in zip([int(v) for v in ns_all[hold]], why.tolist(), res) if w and r},
            "unresolved": {int(n): _sig(float(v), 3) for n, v, r in zip(ns_all[hold], _rel_se(g, u)[hold], res) if not r},
            "points_sawtooth": int(((why == "sawtooth") & res).sum()), "points_noise": int(((why == "noise") & res).sum()),
            "points_unexplained": int(((why == "unexplained") & res).sum()),
            "points_fr": int((frl & res).sum()),
        }
    return e


def fit_table(df: pd.DataFrame, progress: bool = False) -> ErrorModel:
    """Fit every (scheme, order, acc, comp, dist) group of a characterisation table."""
    from tqdm import tqdm

    entries = {}
    groups = df.groupby(["scheme", "order", "acc", "comp", "dist"], sort=True)
    for (scheme, order, acc, comp, dist), g in tqdm(groups, desc="fit error model", disable=not progress):
        entries[key(scheme, order, acc, comp or None, dist)] = fit_entry(g)
    meta = {
        "spec": sorted(df["spec"].unique().tolist()),
        "spec_digest": sorted(df["spec_digest"].unique().tolist()),
        "trials": int(df["trials"].max()),
    }
    return ErrorModel(entries, meta)


# ---------------------------------------------------------------------- sampling helpers
_SAMPLE_CHUNK = 16384  # elements per pass of the sampler's loops: their few arrays stay in the L2 cache


def _grid_draws(rng: np.random.Generator, size: int, P: int):
    """The sampler's uniform variates, chunk by chunk: yields (start, stop, k, f) for the elements
    start..stop-1 (C order) of the sampled array, each from one variate U: p = U (P-1), k = min(trunc p,
    P-2) (the interval of the P-point probability grid, intp) and f = p - k (the fraction in it, float64).
    The same variates in the same order as one rng.random(size) (numpy's Generator fills an array variate
    by variate, so consecutive calls continue the same stream) and the same values as on the whole array:
    trunc(p) = floor(p) (p >= 0) and p - trunc(p) are exact in float64, whether trunc(p) is held as an
    integer or a float.  The clamp to P-2 never acts: U <= 1 - 2^-53, and (P-1)(1 - 2^-53) rounds below
    P-1 (it is more than half an ulp below P-1, or exact when P-1 is a power of 2), so p < P-1.  k and f
    are reused buffers, valid until the next chunk."""
    c = min(size, _SAMPLE_CHUNK)
    pb, kf, kb = np.empty(c), np.empty(c), np.empty(c, dtype=np.intp)
    for s in range(0, size, _SAMPLE_CHUNK):
        t = min(s + _SAMPLE_CHUNK, size)
        f, fk, k = pb[: t - s], kf[: t - s], kb[: t - s]
        rng.random(out=f)
        f *= P - 1
        np.floor(f, out=fk)
        f -= fk
        np.copyto(k, fk, casting="unsafe")
        yield s, t, k, f


def _row_offsets(inv: np.ndarray, nshape: tuple, shape: tuple, P: int) -> np.ndarray | None:
    """Per element of the sampled array (flat, C order, intp): the offset r (P-1) of its length's row r in
    the flattened _lerp tables; None when there is one length (offset 0 everywhere)."""
    if not inv.size or inv.max() == 0:
        return None
    return np.broadcast_to(inv.reshape(nshape) * (P - 1), shape).reshape(-1)


@lru_cache(maxsize=1)
def _draw_kernel():
    """The smooth sampler's inner loop, compiled (numba, cached on disk): for each uniform variate U
    (one per element, in order) out = ((base[i] + step[i] f) * s1) * s2[j] with p = U (P-1), i = floor(p)
    + off[j] (no offsets: off empty) and f = p - floor(p) -- the operations of _grid_draws, _lerp_into and
    the unit's multiplications, in the same order (no fused multiply-add), so the same values."""
    import numba

    @numba.njit(cache=True, nogil=True)
    def draw(uni, pm1, base, step, off, s1, s2, out):  # pragma: no cover - compiled
        has_off = off.size > 0
        for j in range(uni.size):
            p = uni[j] * pm1
            fk = np.floor(p)
            i = np.intp(fk)
            if has_off:
                i += off[j]
            z = base[i] + step[i] * (p - fk)
            out[j] = (z * s1) * s2[j]

    return draw


def _lerp_into(base: np.ndarray, step: np.ndarray, i: np.ndarray, f: np.ndarray, out: np.ndarray,
               tmp: np.ndarray) -> None:
    """out = base[i] + step[i] * f (the value between two grid points of a quantile row; float64);
    tmp: a scratch array of out's size."""
    base.take(i, out=out, mode="wrap")  # i is in range; 'wrap' writes straight into out
    step.take(i, out=tmp, mode="wrap")
    tmp *= f
    out += tmp


def _rounder(f):
    """rnd(x, out): x (float64) rounded RNE into format f, written to out (may be x).  FP32 by
    golden.fastsum.round_fp32 (golden's FP32 rounder in one pass); other formats by golden's rounder."""
    from golden.fastsum import round_fp32
    from golden.formats import FP32, rounder

    if f == FP32:
        def rnd(x: np.ndarray, out: np.ndarray) -> None:
            np.copyto(out, round_fp32(x))
        return rnd
    r = rounder(f)

    def rnd_g(x: np.ndarray, out: np.ndarray) -> None:
        np.copyto(out, r(x))
    return rnd_g


# ---------------------------------------------------------------------- the model
class ErrorModel:
    """Sampler of accumulation errors; see the module docstring for the model."""

    # `sample` takes float32 sum_abs as they are (every operation on them in float64, the same values as
    # for their float64 copies), so callers with float32 sums need not widen them first
    sum_abs_float32 = True

    def __init__(self, entries: dict[str, Entry], meta: dict | None = None):
        self.entries = entries
        self.meta = dict(meta or {})
        self._warned: set = set()

    # ------------------------------------------------------------------ I/O
    @classmethod
    def load(cls, path: str | None = None) -> ErrorModel:
        """Load a model JSON, plain or gzip-compressed (`*.gz`); default: the shipped
        characterize/data/error_model.json.gz."""
        path = path or DEFAULT_PATH
        if not os.path.exists(path):
            raise ValueError(
                f"parameter 'path': error model file {path!r} does not exist; build one with "
                "`apace characterize --profile model --fit-only`"
            )
        opener = gzip.open if path.endswith(".gz") else open
        try:
            with opener(path, "rt") as fh:
                d = json.load(fh)
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"parameter 'path': {path!r} is not readable as error model JSON ({exc})") from exc
        if not isinstance(d, dict) or d.get("format") != "apace-error-model" or "entries" not in d:
            raise ValueError(f"parameter 'path': {path!r} is not an A-PACE error model JSON")
        return cls({k: _entry_from_json(v) for k, v in d["entries"].items()}, d.get("meta", {}))

    def merge(self, other: ErrorModel) -> ErrorModel:
        """A model with the entries of both (other's win on equal keys); meta of other under 'merged'."""
        m = ErrorModel({**self.entries, **other.entries}, {**self.meta, "merged": [*self.meta.get("merged", []), other.meta]})
        return m

    def save(self, path: str) -> None:
        """Write the model as JSON; gzip-compressed when path ends in `.gz` (reproducible: no mtime or
        file name in the gzip header, so equal models give equal bytes)."""
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        d = {
            "format": "apace-error-model", "version": 1,
            "units": "quantiles/mean/std of (computed - exact) / (u * sum|x|); u = acc unit roundoff",
            "probs": "41 equally spaced probabilities 0, 0.025, ..., 1",
            "meta": self.meta, "entries": {k: e.to_json() for k, e in sorted(self.entries.items())},
        }
        tmp = f"{path}.{os.getpid()}.tmp"  # one per process, as quant.data does for its caches
        text = json.dumps(d, separators=(",", ":"))
        if path.endswith(".gz"):
            with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as fh:
                fh.write(text.encode())
        else:
            with open(tmp, "w") as fh:
                fh.write(text)
        os.replace(tmp, path)

    # ------------------------------------------------------------------ queries
    def has(self, scheme: str, order: str, acc, comp, dist: str) -> bool:
        """Whether exactly this (scheme, order, acc, comp, dist) was fitted (no fallback)."""
        try:
            return key(scheme, order, acc, comp, dist) in self.entries
        except ValueError:
            return False

    def configs(self) -> list[str]:
        return sorted({k.rsplit("|", 1)[0] for k in self.entries})

    def _entry(self, scheme: str, order: str, acc, comp, dist: str) -> Entry:
        memo = self.__dict__.setdefault("_entry_memo", {})
        mk = (scheme, order, str(acc), None if comp is None else str(comp), dist)
        if mk not in memo:
            memo[mk] = self._find_entry(scheme, order, acc, comp, dist)
        return memo[mk]

    def _find_entry(self, scheme: str, order: str, acc, comp, dist: str) -> Entry:
        if scheme not in SCHEMES:
            raise ValueError(f"parameter 'scheme' must be one of {', '.join(SCHEMES)}; got {scheme!r}")
        if order not in ORDERS:
            raise ValueError(f"parameter 'order' must be one of {', '.join(ORDERS)}; got {order!r}")
        if dist not in DISTS and dist not in ROW_DISTS:
            raise ValueError(f"parameter 'dist' must be one of {', '.join((*DISTS, *ROW_DISTS))}; got {dist!r}")
        k = key(scheme, order, acc, comp, dist)
        if k in self.entries:
            return self.entries[k]
        cfg = k.rsplit("|", 1)[0]
        for alt in NEAREST[dist]:
            ka = f"{cfg}|{alt}"
            if ka in self.entries:
                if k not in self._warned:
                    self._warned.add(k)
                    warnings.warn(
                        f"error model: distribution {dist!r} not fitted for {cfg}; using nearest {alt!r}",
                        stacklevel=3,
                    )
                return self.entries[ka]
        accs = sorted({c.split("|")[2] for c in self.configs()})
        comps = sorted({c.split("|")[3] for c in self.configs() if c.split("|")[2] == _acc_label(acc)})
        raise ValueError(
            f"error model has no configuration scheme={scheme!r} order={order!r} acc={_acc_label(acc)!r} "
            f"comp={_comp_label(scheme, acc, comp) or None!r}; fitted acc formats: {', '.join(accs)}"
            + (f"; comp formats for this acc: {', '.join(c if c != '-' else 'None' for c in comps)}" if comps else "")
        )

    def predict(self, scheme: str, order: str, acc, comp, dist: str, n, sum_abs, max_abs=None) -> tuple[np.ndarray, np.ndarray]:
        """(bias, spread) = mean and standard deviation of the absolute error at lengths n and sum|x|
        (and max|x|, for the row-conditioned distributions in ROW_DISTS)."""
        e = self._entry(scheme, order, acc, comp, dist)
        sum_abs = np.asarray(sum_abs, dtype=np.float64)
        n = np.broadcast_to(np.asarray(n, dtype=np.float64), sum_abs.shape)
        zero = n.ravel() <= 1
        if isinstance(e, RowEntry):
            if max_abs is None:
                raise ValueError(f"parameter 'max_abs' (max|x| of each sum) is required for distribution {dist!r}")
            mx = np.broadcast_to(np.asarray(max_abs, dtype=np.float64), sum_abs.shape).ravel()
            sa = sum_abs.ravel()
            with np.errstate(divide="ignore", invalid="ignore"):
                n_eff = np.where(mx > 0, sa / np.where(mx > 0, mx, 1.0), 1.0)
            mean, std = e.predict(n.ravel(), n_eff)
            unit = e.u * sa
        else:
            _, mean, std = e.predict(n.ravel())
            unit = e.unit(sum_abs).ravel()
        return (np.where(zero, 0.0, mean * unit).reshape(sum_abs.shape),
                np.where(zero, 0.0, std * unit).reshape(sum_abs.shape))

    def _table(self, e: Entry, un: np.ndarray) -> np.ndarray:
        """Standardised quantile rows (len(un), P) for the distinct lengths un: row i is the inverse
        CDF of r(un[i]) on the probability grid, already moved to the interpolated mean and spread
        (zero rows for n <= 1).  Memoised per entry and length: a sampler call is a gather."""
        memo = e.__dict__.setdefault("_rows_memo", {})
        missing = [v for v in un.tolist() if v not in memo]
        if missing:
            mv = np.asarray(missing, dtype=np.float64)
            q, mean, std = e.predict(np.maximum(mv, 1))
            qm, qs = _qmoments(q)
            scale = np.where(qs > 0, std / np.where(qs > 0, qs, 1.0), 0.0)
            t = mean[:, None] + (q - qm[:, None]) * scale[:, None]
            t[mv <= 1] = 0.0  # one element (already in F_acc) is summed exactly
            for v, row in zip(missing, t):
                memo[v] = row
        return np.stack([memo[v] for v in un.tolist()])

    def sample(
        self, scheme: str, order: str, acc, comp, dist: str, n, sum_abs, rng: np.random.Generator, max_abs=None
    ) -> np.ndarray:
        """Absolute errors (computed - exact) to add to exact sums of `n` terms with sum|x| = `sum_abs`.

        n: integer array broadcastable to sum_abs's shape (n <= 1 gives 0); sum_abs: float array (units of
        the sums); max_abs: max|x| of each sum, broadcastable to sum_abs (needed by the row-conditioned
        distributions in ROW_DISTS, ignored by the others).  Returns float64 with sum_abs's shape.
        Errors are drawn independently per element: one uniform variate each, mapped through the
        interpolated inverse CDF of the entry (module doc; RowEntry for ROW_DISTS)."""
        e = self._entry(scheme, order, acc, comp, dist)
        sum_abs = np.asarray(sum_abs)
        if sum_abs.dtype != np.float32:  # float32 sums are used as they are: every operation on them is in float64
            sum_abs = sum_abs.astype(np.float64, copy=False)
        n0 = np.asarray(n)
        if n0.size and n0.min() < 0:
            raise ValueError("parameter 'n' must be >= 0 (number of summed terms)")
        shape = sum_abs.shape
        if isinstance(e, RowEntry):
            if max_abs is None:
                raise ValueError(f"parameter 'max_abs' (max|x| of each sum) is required for distribution {dist!r}")
            mx = np.broadcast_to(np.asarray(max_abs, dtype=np.float64), shape).ravel()
            sa = sum_abs.astype(np.float64, copy=False).ravel()
            nf = np.broadcast_to(n0, shape).ravel().astype(np.float64)
            if nf.size and nf.max() > e.n_max:
                self._warn_once(("extrapolate", key(scheme, order, acc, comp, dist)),
                                f"error model: n up to {int(nf.max())} beyond the longest training row "
                                f"({e.n_max}) of {dist!r}; using the last fitted lengths")
            with np.errstate(divide="ignore", invalid="ignore"):
                n_eff = np.where(mx > 0, sa / np.where(mx > 0, mx, 1.0), 1.0)
            # only the two quantile columns k, k+1 each draw needs (not the other P - 2)
            P = e.q.shape[2]
            p = rng.random(nf.shape) * (P - 1)
            k = np.minimum(p.astype(np.int64), P - 2)
            f = p - k
            nodes = e._nodes(nf, n_eff)
            z = e.column(nodes, k) * (1 - f) + e.column(nodes, k + 1) * f
            r = np.where(nf <= 1, 0.0, z)
            return (r * (e.u * sa)).reshape(shape)
        if n0.size and n0.max() > e.ns[-1]:
            self._warn_once(("extrapolate", key(scheme, order, acc, comp, dist)),
                            f"error model: n up to {int(n0.max())} beyond the fitted n_max={int(e.ns[-1])}; "
                            "extrapolating the spread with the last fitted power law")
        # distinct lengths on the (small) un-broadcast n, then one gather per element
        un, inv = np.unique(n0.ravel(), return_inverse=True)
        if e.fr_q is not None:
            fr = e.fr_lengths(un)
            if fr.any():
                return self._sample_fr(e, un, inv, fr, n0.shape, sum_abs, rng)
        base, step, nonzero = self._lerp(e, un, "_rows_memo")
        if not nonzero:  # every draw is 0 (e.g. FP32 sums of a few exact MX block values)
            return np.zeros(shape)
        P = step.size // len(un) + 1
        off = _row_offsets(inv, n0.shape, shape, P)
        out = np.empty(shape)
        z_all, sa = out.reshape(-1), sum_abs.reshape(-1)
        # the draws of _grid_draws + _lerp_into + the unit, one compiled pass per chunk (_draw_kernel)
        draw = _draw_kernel()
        uni = np.empty(min(out.size, _SAMPLE_CHUNK))
        no_off = np.zeros(0, dtype=np.intp)
        for s in range(0, out.size, _SAMPLE_CHUNK):
            t = min(s + _SAMPLE_CHUNK, out.size)
            v = uni[: t - s]
            rng.random(out=v)
            if e.norm == "sumabs":
                draw(v, P - 1, base, step, no_off if off is None else off[s:t], e.u, sa[s:t], z_all[s:t])
            else:
                draw(v, P - 1, base, step, no_off if off is None else off[s:t], 1.0, e.unit(sa[s:t]), z_all[s:t])
        return out

    def _lerp(self, e: Entry, un: np.ndarray, memo: str) -> tuple[np.ndarray, np.ndarray, bool]:
        """(base, step, any non-zero) of the quantile rows for the distinct lengths un, flattened
        ((len(un) * (P-1),) each, float64): row r's value at grid position k + f (0 <= f <= 1) is
        base[r (P-1) + k] + step[r (P-1) + k] * f, with base = the row's value at k and step = its value
        at k+1 minus that.  memo '_rows_memo': the smooth rows (_table), '_fr_memo': the fr deviation
        quantiles (Entry.fr_quantiles).  Kept per entry for the last few sets of lengths (every layer
        of a model forward asks for the same)."""
        cache = e.__dict__.setdefault("_lerp_cache", {})
        ck = (memo, un.dtype.str, un.tobytes())
        hit = cache.get(ck)
        if hit is not None:
            return hit
        if memo == "_rows_memo":
            table = self._table(e, un)
        else:
            rows = e.__dict__.setdefault(memo, {})
            missing = [v for v in un.tolist() if v not in rows]
            if missing:
                for v, row in zip(missing, e.fr_quantiles(np.maximum(np.asarray(missing, dtype=np.float64), 1))):
                    rows[v] = row
            table = np.stack([rows[v] for v in un.tolist()])
        hit = (np.ascontiguousarray(table[:, :-1]).reshape(-1), np.diff(table, axis=1).reshape(-1), bool(table.any()))
        if len(cache) >= 32:
            cache.clear()
        cache[ck] = hit
        return hit

    def _sample_fr(self, e: Entry, un: np.ndarray, inv: np.ndarray, fr: np.ndarray, nshape, sum_abs: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
        """`sample` for an entry with final-rounding intervals (module doc): at lengths in them the error is
        RN_acc(S + d u S) - S with S = sum|x| (the exact sum of non-negative terms) and d drawn from the
        interpolated quantiles of the pre-rounding deviation; elsewhere (and where that rounding overflows)
        the smooth draw, from the same uniform variate."""
        shape = sum_abs.shape
        P = e.q.shape[1]
        fb, fs, _ = self._lerp(e, un, "_fr_memo")
        sb, ss, _ = self._lerp(e, un, "_rows_memo")
        off = _row_offsets(inv, nshape, shape, P)
        frm = None if fr.all() else np.broadcast_to(fr[inv].reshape(nshape), shape).reshape(-1)
        rnd = _rounder(acc_format(e.acc))
        out = np.empty(shape)
        v_all, sa = out.reshape(-1), sum_abs.reshape(-1)
        tmp = np.empty(min(out.size, _SAMPLE_CHUNK))
        for s, t, k, f in _grid_draws(rng, out.size, P):
            v, sac = v_all[s:t], sa[s:t]
            i = k if off is None else np.add(k, off[s:t], out=k)
            _lerp_into(fb, fs, i, f, v, tmp[: t - s])  # d
            v *= e.u
            v *= sac
            v += sac
            with np.errstate(over="ignore", invalid="ignore"):
                rnd(v, v)
            v -= sac
            use = np.isfinite(v)
            if frm is not None:
                use &= frm[s:t]
            if not use.all():
                smooth = np.empty(t - s)
                _lerp_into(sb, ss, i, f, smooth, tmp[: t - s])
                smooth *= e.unit(sac)
                np.copyto(v, smooth, where=~use)
        return out

    def check(self, df: pd.DataFrame) -> pd.DataFrame:
        """The model's predicted spread against the measured one for every row (n > 1) of a characterisation
        table (e.g. a sweep with another seed): one row per (entry key, n) with measured and predicted
        spread in the entry's unit (fr intervals: predicted for the table's own sum|x| quantiles), rel_dev,
        pass (the held-out rule: within +-20 %, or both below 0.01), the row's trials and whether its
        measured spread is resolved (`_resolved`: only those can validate the model)."""
        from golden.formats import rounder

        from .engine import SQCOLS

        out = []
        for (scheme, order, acc, comp, dist), g in df[df["n"] > 1].groupby(["scheme", "order", "acc", "comp", "dist"]):
            k = key(scheme, order, acc, comp or None, dist)
            e = self.entries.get(k)
            if e is None or isinstance(e, RowEntry):
                continue
            g = g.sort_values("n")
            n = g["n"].to_numpy(dtype=np.float64)
            meas = (g["rel_sumabs_std"].to_numpy(dtype=np.float64) / e.u if e.norm == "sumabs"
                    else g["ulpsa_std"].to_numpy(dtype=np.float64))
            _, _, pred = e.predict(n)
            fr = e.fr_lengths(n)
            if fr.any() and set(SQCOLS) <= set(g.columns):
                sq = g[SQCOLS].to_numpy(dtype=np.float64)
                R = rounder(acc_format(e.acc))
                for t in np.flatnonzero(fr):
                    pred[t] = _fr_std(_grid(sq[t], FR_SUMS), _grid(e.fr_quantiles(n[t:t + 1])[0], FR_DEVS), e.u, R, e.unit)
            res = _resolved(g, e.u)
            tr = g["trials"].to_numpy(dtype=np.int64) if "trials" in g else np.zeros(len(n), dtype=np.int64)
            for t in range(len(n)):
                dv = _rel_dev(float(pred[t]), float(meas[t]))
                out.append({"key": k, "n": int(n[t]), "fr": bool(fr[t]), "trials": int(tr[t]), "resolved": bool(res[t]),
                            "measured_std": float(meas[t]), "predicted_std": float(pred[t]), "rel_dev": dv,
                            "pass": abs(dv) <= HOLDOUT_TOL})
        return pd.DataFrame(out)

    def always_zero(self, scheme: str, order: str, acc, comp, dist: str, n) -> bool:
        """True when every error `sample` would draw for sums of these lengths is exactly 0 (e.g. FP32
        sums of a few exact MX block values), so a caller may skip computing sum|x|."""
        e = self._entry(scheme, order, acc, comp, dist)
        if isinstance(e, RowEntry):
            return False
        un = np.unique(np.asarray(n).ravel())
        if e.fr_q is not None and e.fr_lengths(un).any():  # the final rounding of S is not known to be 0
            return False
        return bool(un.size) and not self._table(e, un).any()

    def _warn_once(self, wk, msg: str) -> None:
        if wk not in self._warned:
            self._warned.add(wk)
            warnings.warn(msg, stacklevel=3)

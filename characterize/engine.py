"""The characterisation engine: run every (scheme, order, acc, comp) of a Spec over every distribution
and length, with golden/ as the arithmetic, and reduce the errors to a tidy pandas table.

Method (all sums of one work unit are one numpy batch: trials x distributions rows):
  * inputs: `dists.generate` rows, seeded by (spec.seed, distribution index), rounded into F_acc
    with golden rounding; the reference S is the exact sum of those rounded values (golden Kulisch
    state hi + lo, a float64 pair), so the error is the accumulation error alone;
  * sequential: one pass of golden.accumulate.step over max_n elements, finalising (golden
    finalize) at every checkpoint length n: the state after n steps is exactly the state of a
    length-n sequential sum, so every length costs nothing extra (tests pin this against
    golden.accumulate on prefixes);
  * pairwise: golden.accumulate(prefix, order='pairwise') for each power-of-two length;
  * err = computed - S (float64; |err| is tiny next to the acc format's u, so the float64 rounding of
    the subtraction is immaterial); metrics relative to |S|, to sum|x|, and in ulps of F_acc at |S|.

Step refinement (spec.refine_steps, `refine_unit`, characterize/refine.py): after a unit's sweep, extra
sequential lengths inside the intervals between training lengths where the spread steps, measured on their
own random stream; their rows have `refined` = True (False for the sweep's own rows).

Results are cached per work unit (one (acc, scheme) pair) as Parquet under `cache_dir`: the sweep's rows
under spec.base_digest() (they do not depend on the refinement), the refinement's under spec.digest(), so
an interrupted run loses no finished unit and a rerun with the same spec digest resumes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np
import pandas as pd

from golden.accumulate import accumulate, finalize, init_state, step
from golden.arith import round_pair
from golden.formats import rounder

from . import bounds
from .dists import generate
from .spec import DISTS, MIN_ERRORS, NEGLIGIBLE, Spec, acc_format

# signed quantiles of err / sum|x| stored per row (the error model is fitted from them)
PROBS = np.round(np.linspace(0.0, 1.0, 41), 4)
QCOLS = [f"q{int(round(p * 1000)):04d}" for p in PROBS]
# the same quantiles of err / ulp_acc(sum|x|) (the natural unit when the error is one final rounding of
# a sum of positive terms: it follows the binade of the result, a sawtooth in n that u*sum|x| cannot follow)
UQCOLS = [f"uq{int(round(p * 1000)):04d}" for p in PROBS]
# the same quantiles of sum|x| itself: the error model's input.  For sums of positive terms sum|x| is the
# exact sum, whose position on F_acc's grid decides the final rounding; the model's held-out check
# predicts from these (the inputs of the held-out sums), never from their errors
SQCOLS = [f"sq{int(round(p * 1000)):04d}" for p in PROBS]
STATS = ("mean", "std", "p50", "p99", "max")


def comp_label(comp) -> str:
    return "" if comp is None else acc_format(comp, "comp").label()


# ---------------------------------------------------------------------- inputs and references
_CACHE: dict = {}


def _cached(kind: str, spec: Spec, acc: str, make):
    """Per-process memo of the inputs/references of the most recent accumulator formats."""
    key = (kind, spec.digest(), acc)
    if key not in _CACHE:
        if len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = make()
    return _CACHE[key]


def _inputs(spec: Spec, acc: str) -> tuple[np.ndarray, np.ndarray]:
    """(rows rounded into acc, distribution index per row); rows = dists x trials, max_n columns."""
    return _cached("inputs", spec, acc, lambda: _make_inputs(spec, acc))


def _make_inputs(spec: Spec, acc: str) -> tuple[np.ndarray, np.ndarray]:
    fmt = acc_format(acc, "accs")
    blocks = []
    for d in spec.dists:
        rng = np.random.default_rng([spec.seed, DISTS.index(d)])
        blocks.append(generate(d, spec.trials, spec.max_n, rng, spec.kappa, acc_m=fmt.m))
    x = np.concatenate(blocks, axis=0)
    idx = np.repeat(np.arange(len(spec.dists)), spec.trials)
    return rounder(fmt)(x), idx


def _references(spec: Spec, acc: str) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """n -> (hi, lo, sum|x|, smallest nonzero |x|) of every row's first n (rounded) elements."""
    return _cached("refs", spec, acc, lambda: _make_references(spec, acc))


def _make_references(spec: Spec, acc: str) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    xa, _ = _inputs(spec, acc)
    return prefix_references(xa, sorted(set(spec.lengths(acc)) | set(spec.pairwise_lengths())))


def prefix_references(xa: np.ndarray, ns) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """n -> (hi, lo, sum|x|, smallest nonzero |x|) of every row's first n elements, for each n in ns (sorted)."""
    absx = np.abs(xa)
    csum = np.cumsum(absx, axis=1)
    minnz = np.minimum.accumulate(np.where(absx > 0, absx, np.inf), axis=1)
    hi, lo = exact_prefix_sums(xa, ns)
    return {n: (hi[:, j], lo[:, j], csum[:, n - 1], minnz[:, n - 1]) for j, n in enumerate(ns)}


def exact_prefix_sums(xa: np.ndarray, ns) -> tuple[np.ndarray, np.ndarray]:
    """Exact sums of the first n elements of every row, for each n in ns (sorted), as float64 pairs
    (hi = correctly rounded sum, lo = correctly rounded remainder), via math.fsum: each row is cut
    into the segments between consecutive lengths, each segment's exact sum is a pair (h, l), and a
    prefix is the fsum of its segments' pairs.  The same representation as golden's Kulisch state
    (tests pin the two equal); one pass over the data instead of one per length."""
    import math

    ns = [int(n) for n in ns]
    rows = xa.shape[0]
    hi = np.empty((rows, len(ns)))
    lo = np.empty((rows, len(ns)))
    edges = [0, *ns]
    fsum = math.fsum
    for r in range(rows):
        row = xa[r].tolist()
        parts: list[float] = []
        for j in range(len(ns)):
            seg = row[edges[j] : edges[j + 1]]
            h = fsum(seg)
            seg.append(-h)
            parts.append(h)
            parts.append(fsum(seg))
            H = fsum(parts)
            hi[r, j] = H
            lo[r, j] = fsum([*parts, -H])
    return hi, lo


# ---------------------------------------------------------------------- running the schemes
def sequential_prefix_values(xa: np.ndarray, scheme: str, acc, comp, ns) -> dict[int, np.ndarray]:
    """Results of the sequential sums of the first n elements of each row, for every n in ns."""
    fa = acc_format(acc, "acc")
    fc = None if comp is None else acc_format(comp, "comp")
    ns = sorted(set(int(n) for n in ns))
    if scheme == "kulisch":
        return {n: accumulate(xa[:, :n], "kulisch", fa).value for n in ns}
    want = set(ns)
    out = {}
    st = init_state(scheme, xa.shape[:1])
    xr = rounder(fa)(xa)
    for i in range(ns[-1]):
        st = step(scheme, st, xr[:, i], fa, fc)
        if i + 1 in want:
            out[i + 1] = finalize(scheme, st, fa, fc)
    return out


def pairwise_values(xa: np.ndarray, scheme: str, acc, comp, ns, chunk: int = 256) -> dict[int, np.ndarray]:
    """Pairwise sums of the first n elements of each row for every power-of-two n in ns.

    golden's pairwise tree over 2^L elements pairs adjacent states level by level, so after level j
    its first state is exactly golden's pairwise state of the first 2^j elements: one tree over
    max(ns) elements gives every power-of-two length (the combine step is golden's `step` fed with
    golden's component order `_components`; tests pin the results equal to golden.accumulate on each
    prefix).  Lengths that are not powers of two get their own golden.accumulate call."""
    from golden.accumulate import _components

    fa = acc_format(acc, "acc")
    fc = None if comp is None else acc_format(comp, "comp")
    A = rounder(fa)
    ns = sorted(set(int(n) for n in ns))
    pow2 = [n for n in ns if n & (n - 1) == 0]
    out: dict[int, list[np.ndarray]] = {n: [] for n in ns}
    for i in range(0, len(xa), chunk):
        xc = A(xa[i : i + chunk])
        for n in ns:
            if n not in pow2:
                out[n].append(accumulate(xc[:, :n], scheme, fa, fc, "pairwise").value)
        if not pow2:
            continue
        if scheme == "kulisch":  # exact: order does not matter
            for n in pow2:
                out[n].append(accumulate(xc[:, :n], scheme, fa, fc, "pairwise").value)
            continue
        top = pow2[-1]
        st = step(scheme, init_state(scheme, xc[:, :top].shape), xc[:, :top], fa, fc)
        width = 1
        while True:
            if width in out and width in pow2:
                out[width].append(finalize(scheme, {k: v[:, 0] for k, v in st.items()}, fa, fc))
            if width == top:
                break
            left = {k: np.ascontiguousarray(v[:, 0::2]) for k, v in st.items()}
            right = {k: np.ascontiguousarray(v[:, 1::2]) for k, v in st.items()}
            for comp_val in _components(scheme, right):
                left = step(scheme, left, A(comp_val), fa, fc)
            st = left
            width *= 2
    return {n: np.concatenate(v) for n, v in out.items()}


# ---------------------------------------------------------------------- metrics
def _stats(v: np.ndarray) -> dict[str, float]:
    """mean and std of signed finite values, p50 / p99 / max of their magnitudes (nan if none)."""
    v = v[np.isfinite(v)]
    if v.size == 0:
        return dict.fromkeys(STATS, np.nan)
    a = np.abs(v)
    return {
        "mean": float(v.mean()),
        "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
        "p50": float(np.percentile(a, 50)),
        "p99": float(np.percentile(a, 99)),
        "max": float(a.max()),
    }


def _std_se(v: np.ndarray) -> float:
    """Standard error of the sample standard deviation of v, from its 4th central moment:
    sqrt(m4 - s^4) / (2 s sqrt(N)) (exact for any law as N grows; with rare large errors, e.g. FP32 sums
    of MX products that are mostly exact, it is large, as it should be)."""
    v = v[np.isfinite(v)]
    if v.size < 2:
        return np.nan
    d = v - v.mean()
    s2 = float(np.mean(d * d))
    if s2 <= 0:
        return 0.0
    return float(np.sqrt(max(float(np.mean(d**4)) - s2 * s2, 0.0)) / (2 * np.sqrt(s2 * v.size)))


def row_metrics(
    value: np.ndarray, hi: np.ndarray, lo: np.ndarray, sum_abs: np.ndarray, minnz: np.ndarray,
    scheme: str, order: str, n: int, acc, comp,
) -> dict:
    """Every metric of one (config, dist, n) cell from its trials' results and exact references."""
    fa = acc_format(acc, "acc")
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        err = (value - hi) - lo
        finite = np.isfinite(value)
        rel_exact = np.where(hi != 0, err / np.abs(hi), np.nan)
        rel_sumabs = np.where(sum_abs > 0, err / sum_abs, 0.0)
        ulps = err / bounds.ulp(hi, fa)
    row: dict = {}
    for name, arr in (("rel_exact", rel_exact), ("rel_sumabs", rel_sumabs), ("ulp", ulps)):
        for k, v in _stats(arr).items():
            row[f"{name}_{k}"] = v
    row["rel_sumabs_std_se"] = _std_se(rel_sumabs[finite])
    fin_rs = rel_sumabs[finite]
    qs = np.quantile(fin_rs, PROBS) if fin_rs.size else np.full(len(PROBS), np.nan)
    row.update(dict(zip(QCOLS, qs.tolist())))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ulpsa = (err / bounds.ulp(sum_abs, fa))[finite]
    row["ulpsa_mean"] = float(ulpsa.mean()) if ulpsa.size else np.nan
    row["ulpsa_std"] = float(ulpsa.std(ddof=1)) if ulpsa.size > 1 else 0.0
    row["ulpsa_std_se"] = _std_se(ulpsa)
    uqs = np.quantile(ulpsa, PROBS) if ulpsa.size else np.full(len(PROBS), np.nan)
    row.update(dict(zip(UQCOLS, uqs.tolist())))
    row.update(dict(zip(SQCOLS, np.quantile(sum_abs, PROBS).tolist() if sum_abs.size else [np.nan] * len(PROBS))))
    row["exact_frac"] = float(np.mean(err[finite] == 0)) if finite.any() else np.nan
    row["nonfinite"] = int((~finite).sum())
    with np.errstate(divide="ignore"):
        kap = np.where(hi != 0, sum_abs / np.abs(hi), np.inf)
    row["kappa_measured"] = float(np.median(kap))
    row["exact_abs_mean"] = float(np.mean(np.abs(hi)))
    row["sum_abs_mean"] = float(np.mean(sum_abs))
    # classical bound
    b, holds = bounds.bound(scheme, order, n, fa, hi, sum_abs)
    u = fa.unit_roundoff
    in_range = (
        finite
        & (sum_abs * (1 + n * u) <= fa.max_value)
        & (minnz >= fa.min_normal)
        & (np.abs(hi) >= fa.min_normal)
    )
    applies = in_range & holds & (comp is None) & np.isfinite(b)
    viol = applies & (np.abs(err) > b)
    row["bound"] = bounds.bound_name(scheme, order)
    row["bound_applies"] = int(applies.sum())
    row["bound_violations"] = int(viol.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(applies & (b > 0), np.abs(err) / np.where(b > 0, b, 1.0), np.nan)
    row["bound_max_ratio"] = float(np.nanmax(ratio)) if np.isfinite(ratio).any() else np.nan
    return row


# ---------------------------------------------------------------------- work units
def units(spec: Spec) -> list[tuple[str, str]]:
    """The (acc, scheme) work units of a spec, in a cache-friendly order (acc outermost)."""
    return [(acc, scheme) for acc in spec.accs for scheme in spec.schemes]


def run_unit(spec: Spec, acc: str, scheme: str) -> pd.DataFrame:
    """All orders and compensation formats of one (acc, scheme) over every distribution and length
    (with spec.rel_se_target > 0, cells whose spread is not yet resolved get more trials: `_refine`)."""
    fa = acc_format(acc, "accs")
    xa, didx = _inputs(spec, acc)
    refs = _references(spec, acc)
    rows = []
    for sch, order, a, comp in spec.configs():
        if a != acc or sch != scheme:
            continue
        ns = spec.lengths(acc) if order == "sequential" else spec.pairwise_lengths()
        vals = _values(xa, refs, scheme, order, fa, comp, ns)
        for di, dist in enumerate(spec.dists):
            m = didx == di
            cells = {n: (v[m], refs[n][0][m], refs[n][1][m], refs[n][2][m], refs[n][3][m]) for n, v in vals.items()}
            if spec.rel_se_target > 0:
                cells = _refine(spec, fa, scheme, order, comp, dist, cells)
            for n, cell in cells.items():
                rows.append(_row(spec, spec.base_digest(), acc, fa, scheme, order, comp, dist, n, cell))
    return pd.DataFrame(rows)


def _row(spec: Spec, digest: str, acc: str, fa, scheme: str, order: str, comp, dist: str, n: int, cell) -> dict:
    """One table row: the configuration and the metrics of one cell (value, hi, lo, sum|x|, min|x| per trial)."""
    row = {
        "spec": spec.name, "spec_digest": digest, "seed": spec.seed, "trials": int(len(cell[0])),
        "scheme": scheme, "order": order, "acc": fa.label(), "acc_spec": acc, "acc_e": fa.e,
        "acc_m": fa.m, "comp": comp_label(comp), "u": fa.unit_roundoff, "dist": dist,
        "kappa_target": float(spec.kappa) if dist == "cancellation" else np.nan,
        "n": int(n), "nu": n * fa.unit_roundoff,
    }
    row.update(row_metrics(*cell, scheme, order, int(n), fa, comp))
    return row


def refine_unit(spec: Spec, acc: str, scheme: str, base: pd.DataFrame) -> pd.DataFrame:
    """Step refinement of one work unit (spec.refine_steps; characterize/refine.py).  For every sequential
    (config, dist) of the unit: the intervals between adjacent TRAINING lengths of its base rows (`base`:
    the unit's table; refine.holdout_split, the error model's alternation) whose spread -- in u*sum|x| or in
    ulp(sum|x|) -- departs from the local power law by more than spec.refine_ratio get the lengths of the
    spec.refine_per_octave grid inside them, without any length of the sweep's own grid (spec.lengths: so
    no extra length is a held-out or a base training length).  Each extra length is measured on spec.trials
    fresh rows of its own random stream (REFINE_STREAM: independent of the base rows, whose prefixes are
    the sweep's training and held-out lengths alike), then adaptive trials as for every cell.  Returns the
    rows (column `refined` = True; empty when no step was found)."""
    from .refine import holdout_split, refine_lengths

    fa = acc_format(acc, "accs")
    grid = set(spec.lengths(acc))
    rows = []
    for sch, order, a, comp in spec.configs():
        if a != acc or sch != scheme or order != "sequential":
            continue
        mine = base[(base["order"] == order) & (base["comp"] == comp_label(comp)) & (base["n"] > 1)]
        for dist in spec.dists:
            g = mine[mine["dist"] == dist].sort_values("n")
            if len(g) < 3:
                continue
            ns = g["n"].to_numpy(dtype=np.int64)
            tr = holdout_split(ns)
            spreads = [g["rel_sumabs_std"].to_numpy(dtype=np.float64)[tr] / fa.unit_roundoff,
                       g["ulpsa_std"].to_numpy(dtype=np.float64)[tr]]
            extra = refine_lengths(ns[tr], spreads, grid, spec.refine_per_octave, spec.refine_ratio)
            if not extra:
                continue
            x, refs = _extra_rows(spec, fa, dist, 0, spec.trials, max(extra), extra, REFINE_STREAM)
            vals = _values(x, refs, scheme, order, fa, comp, extra)
            cells = {n: (vals[n], *refs[n]) for n in extra}
            if spec.rel_se_target > 0:
                some = bool((g["exact_frac"].to_numpy(dtype=np.float64) < 1).any())
                cells = _refine(spec, fa, scheme, order, comp, dist, cells, some_error=some, stream=REFINE_STREAM,
                                batch0=1)
            for n, cell in cells.items():
                rows.append({**_row(spec, spec.digest(), acc, fa, scheme, order, comp, dist, n, cell), "refined": True})
    return pd.DataFrame(rows)


def _values(xa: np.ndarray, refs: dict, scheme: str, order: str, fa, comp, ns) -> dict[int, np.ndarray]:
    """Results of `scheme` on the first n elements of every row of xa, for each n in ns."""
    if scheme == "kulisch":
        # golden's Kulisch result is round_pair(hi, lo) of its exact state; the references are that state
        return {n: round_pair(refs[n][0], refs[n][1], fa) for n in ns}
    if order == "sequential":
        return sequential_prefix_values(xa, scheme, fa, comp, ns)
    return pairwise_values(xa, scheme, fa, comp, ns)


# distributions whose first L elements of a row of max_n have the same law as a row of L elements (iid terms,
# or iid MX blocks of 32 from the row's start, or a fixed first term): extra trials need only L columns
# random streams of extra input rows (tags of the seed sequence, disjoint from the base inputs' [seed, dist]):
# the adaptive trials of the sweep's own lengths, and the step refinement's lengths (their own trials)
ADAPTIVE_STREAM, REFINE_STREAM = 7919, 7927
PREFIX_INVARIANT = ("uniform", "normal", "lognormal", "student_t", "mx_products", "swamping")
_REFINE_ELEMS = 1 << 22  # extra input rows are generated and summed in chunks of about this many elements


def _spread_rel_se(cell, fa) -> float:
    """Relative standard error of a cell's measured spread: the larger over the units u*sum|x| and
    ulp(sum|x|) of std_se / std (0 when every trial is exact, inf for a non-finite result)."""
    value, hi, lo, sabs, _ = cell
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        err = (value - hi) - lo
        ok = np.isfinite(err)
        err, sabs = err[ok], sabs[ok]
        worst = 0.0
        for r in (np.where(sabs > 0, err / sabs, 0.0), err / bounds.ulp(sabs, fa)):
            r = r[np.isfinite(r)]
            sd = float(r.std()) if r.size > 1 else 0.0
            if sd > 0:
                worst = max(worst, _std_se(r) / sd)
    return worst


def _unresolved(cell, fa, target: float) -> bool:
    """The cell's spread is not resolved: relative standard error above `target`, unless the spread is
    resolved as negligible (spread + 3 standard errors below NEGLIGIBLE u*sum|x|; the error model's
    held-out check counts spreads below that as equal)."""
    if _spread_rel_se(cell, fa) <= target:
        return False
    value, hi, lo, sabs, _ = cell
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        r = ((value - hi) - lo) / (fa.unit_roundoff * sabs)
    r = r[np.isfinite(r)]
    return not (r.size > 1 and float(r.std()) + 3 * _std_se(r) < NEGLIGIBLE)


def _errors(cell) -> int:
    """Number of trials of the cell with a nonzero error."""
    value, hi, lo = cell[:3]
    with np.errstate(invalid="ignore", over="ignore"):
        return int(np.count_nonzero((value - hi) - lo != 0))


def _extra_rows(spec: Spec, fa, dist: str, batch: int, rows: int, L: int, ns=None, stream: int = ADAPTIVE_STREAM):
    """`rows` fresh input rows (rounded into fa) of `dist`, first L elements, from the random stream of
    adaptive batch `batch` (disjoint from the base inputs' streams; `stream` REFINE_STREAM: the step
    refinement's own), and their references at every length <= L of the sweep (or of `ns`):
    (x, {n: (hi, lo, sum|x|, smallest nonzero |x|)})."""
    width = L if dist in PREFIX_INVARIANT else spec.max_n
    rng = np.random.default_rng([spec.seed, DISTS.index(dist), stream, batch + 1])
    chunk = max(1, _REFINE_ELEMS // width)
    parts = []
    for r0 in range(0, rows, chunk):
        parts.append(generate(dist, min(chunk, rows - r0), width, rng, spec.kappa, acc_m=fa.m)[:, :L])
    x = rounder(fa)(np.concatenate(parts, axis=0))
    ns = [n for n in sorted(set(spec.lengths(fa)) | set(spec.pairwise_lengths()) if ns is None else set(ns)) if n <= L]
    return x, prefix_references(x, ns)


def _refine(spec: Spec, fa, scheme: str, order: str, comp, dist: str, cells: dict, some_error: bool | None = None,
            stream: int = ADAPTIVE_STREAM, batch0: int = 0) -> dict:
    """Adaptive trials for one (config, dist): while some cell has fewer than spec.max_trials trials and
    either its spread is not resolved (`_unresolved`: relative standard error above spec.rel_se_target)
    or fewer than MIN_ERRORS of its trials have an error although the (config, dist) has errors at some
    length (a spread measured from a handful of rare events is not a measurement), double the trials of the cells
    that need it with fresh rows (batch b of the same rows for every such cell: one pass of the scheme
    over their longest length).  Returns the cells with the extra trials appended.  some_error: whether the
    (config, dist) has errors at some length (default: at one of `cells`); stream, batch0: the random
    stream and first batch of the extra rows (the step refinement's cells use their own, REFINE_STREAM)."""
    cells = dict(cells)
    batch = batch0
    known_error = bool(some_error)
    ns_refs = None if stream == ADAPTIVE_STREAM else sorted(cells)
    while True:
        nz = {n: _errors(c) for n, c in cells.items()}
        some_error = known_error or any(nz.values())
        need = [n for n, c in cells.items()
                if n > 1 and len(c[0]) < spec.max_trials
                and ((some_error and nz[n] < MIN_ERRORS) or _unresolved(c, fa, spec.rel_se_target))]
        if not need:
            return cells
        L = max(need)
        k = min(max(len(cells[n][0]) for n in need), spec.max_trials - min(len(cells[n][0]) for n in need))
        chunk = max(1, _REFINE_ELEMS // L)
        got: dict[int, list] = {n: [] for n in need}
        for r0 in range(0, k, chunk):  # in chunks of rows: long lengths x many trials would not fit in memory
            x, refs = _extra_rows(spec, fa, dist, batch * 1024 + r0 // chunk, min(chunk, k - r0), L, ns_refs, stream)
            vals = _values(x, refs, scheme, order, fa, comp, need)
            for n in need:
                got[n].append((vals[n], *refs[n]))
        for n in need:
            extra = min(len(cells[n][0]), spec.max_trials - len(cells[n][0]))  # this cell doubles (capped)
            add = [np.concatenate([p[i] for p in got[n]])[:extra] for i in range(5)]
            cells[n] = tuple(np.concatenate([a, b]) for a, b in zip(cells[n], add))
        batch += 1


def _unit_path(cache_dir: str, spec: Spec, acc: str, scheme: str) -> str:
    """The cache file of a unit's base rows (under the spec's digest without step refinement)."""
    safe = acc.replace("/", "_")
    return os.path.join(cache_dir, spec.base_digest(), f"{safe}__{scheme}.parquet")


def _refine_path(cache_dir: str, spec: Spec, acc: str, scheme: str) -> str | None:
    """The cache file of a unit's step-refinement rows (under the full digest); None without refinement."""
    if not spec.refine_steps:
        return None
    safe = acc.replace("/", "_")
    return os.path.join(cache_dir, spec.digest(), f"{safe}__{scheme}.refine.parquet")


def _store(df: pd.DataFrame, path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"  # one per process: two runs may store the same unit at once
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)  # atomic: a unit file is either complete or absent


def _run_and_store(spec: Spec, acc: str, scheme: str, path: str, rpath: str | None = None) -> str:
    if os.path.exists(path):
        df = pd.read_parquet(path)
    else:
        df = run_unit(spec, acc, scheme)
        _store(df, path)
    if rpath is not None and not os.path.exists(rpath):
        _store(refine_unit(spec, acc, scheme, df), rpath)
    return path


def _read_unit(path: str, rpath: str | None) -> list[pd.DataFrame]:
    out = [pd.read_parquet(path).assign(refined=False)]
    if rpath is not None:
        r = pd.read_parquet(rpath)
        if len(r):
            out.append(r)
    return out


def run(
    spec: Spec, cache_dir: str, jobs: int = 1, progress: bool = True,
    on_unit: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Run (or resume) every work unit of `spec`; returns the tidy table of all rows."""
    from tqdm import tqdm

    os.makedirs(os.path.join(cache_dir, spec.base_digest()), exist_ok=True)
    todo = []
    paths = []
    for acc, scheme in units(spec):
        p, rp = _unit_path(cache_dir, spec, acc, scheme), _refine_path(cache_dir, spec, acc, scheme)
        paths.append((p, rp))
        if not os.path.exists(p) or (rp is not None and not os.path.exists(rp)):
            todo.append((acc, scheme, p, rp))
    bar = tqdm(total=len(paths), initial=len(paths) - len(todo), desc=f"characterize[{spec.name}]",
               unit="unit", disable=not progress)
    if jobs <= 1 or len(todo) <= 1:
        for acc, scheme, p, rp in todo:
            bar.set_postfix_str(f"{acc} {scheme}")
            _run_and_store(spec, acc, scheme, p, rp)
            bar.update(1)
            if on_unit:
                on_unit(p)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as ex:
            futs = [ex.submit(_run_and_store, spec, acc, scheme, p, rp) for acc, scheme, p, rp in todo]
            for f in as_completed(futs):
                p = f.result()
                bar.update(1)
                if on_unit:
                    on_unit(p)
    bar.close()
    return pd.concat([f for p, rp in paths for f in _read_unit(p, rp)], ignore_index=True)


def single_sum(x: np.ndarray, scheme: str, acc, comp=None, order: str = "sequential") -> float:
    """Convenience: one golden sum of the vector x (used by the report's known-facts table)."""
    return float(accumulate(np.asarray(x, dtype=np.float64)[None, :], scheme, acc, comp, order).value[0])

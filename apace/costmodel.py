"""Closed-form hardware cost model fitted on synth_results/, with honest validation.

For every unit (a results file, e.g. `fp_add`, `acc_seq`) and every value of its structural
parameter `SCHEME` (one fit per accumulation scheme), each metric (LUTs, FFs, CARRY4 cells) is
modelled as

    cost(p) = sum_i c_i * f_i(p),   c_i >= 0,   f_i(p) >= 0

where the f_i are physically motivated features of the integer design parameters (a constant,
widths, shifter sizes w*log2(w), multiplier areas m_a*m_b, K times per-product widths, 2^e for
exact-accumulator registers, ...; see `features()`), plus indicators of the special-value and
overflow policies (`SPECIAL`, `OVF`, `SPA`, `SPB`) scaled by the format width.  Coefficients come from non-negative least
squares on *relative* residuals (each row weighted by 1/y, which is what MAPE measures).  The
constant's coefficient is bounded below by half a cell whenever every training row is non-zero,
so the model never predicts a negative cost and never a zero one for a resource the unit always
uses; it predicts zero only for a resource that some measured configuration of that group does not
use at all (e.g. FFs of a combinational unit).

Validation is k-fold over configurations (each fold's rows are held out of the fit), reported as
MAPE per unit and metric next to the targets (LUT <= 10 %, FF <= 5 %), plus the in-sample MAPE.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MODEL_METRICS = ("lut", "ff", "carry", "dsp")
CATEGORICAL = ("SCHEME",)  # structurally different datapaths: one fit per value
POLICY_PARAMS = ("SPECIAL", "OVF", "SPA", "SPB", "CSPECIAL", "COVF")  # small effects: indicator features
TARGETS = {"lut": 10.0, "ff": 5.0}


class CostModelError(ValueError):
    """A prediction was asked for a unit / group the model was not fitted on (message lists what exists)."""


def _lg(x: float) -> float:
    return math.log2(max(float(x), 1.0))


def _shifter(w: float) -> float:
    """Cells of a barrel shifter / normaliser over w bits: w * ceil(log2 w)."""
    return w * max(1.0, math.ceil(_lg(w)))


def _float_adder(e: float, m: float) -> dict[str, float]:
    w = m + 4  # significand with hidden, guard, round, sticky bits
    return {"m": m, "e": e, "shift": 2 * _shifter(w), "e_m": e * m}


# Rounded additions per element step of each acc_step SCHEME (0 naive .. 5 klein; src/acc_step.v), the
# acc_step instances per tree node (acc_combine.v: components fed) and the compensation registers kept.
STEP_ADDERS = {0: 1, 1: 4, 2: 4, 3: 7, 4: 4, 5: 7}
COMBINE_STEPS = {0: 1, 1: 2, 2: 2, 3: 2, 4: 2, 5: 3}
COMP_REGS = {0: 0, 1: 1, 2: 1, 3: 1, 4: 1, 5: 2}
# Magnitude comparators (fp_cmp_mag + operand swap) per acc_step, and the rounded additions of acc_final.v
# (s + c; klein s + (cs + ccs)); naive and kahan return s.
STEP_CMPS = {0: 0, 1: 0, 2: 1, 3: 0, 4: 1, 5: 2}
FINAL_ADDERS = {0: 0, 1: 0, 2: 1, 3: 1, 4: 1, 5: 2}
# Schemes whose finalised result differs from the state s (neumaier/twosum/fasttwosum/klein: s + c).
FINAL_DIFFERS = {0: False, 1: False, 2: True, 3: True, 4: True, 5: True}
# Units whose rows are fitted as one group across SCHEME (the scheme enters through the features).
POOLED = ("acc_tree", "acc_pairwise_seq")
# Held-out LUT MAPE is also reported per value of one parameter (validation_table), where the pooled
# number hides a structure: Kulisch per exponent width (Yosys' scatter is relatively largest on the small
# registers), the tree per scheme.
BREAKDOWN = {"acc_kulisch_seq": "EW", "acc_tree": "SCHEME", "acc_pairwise_seq": "SCHEME"}
# Composed designs: checked against the composition of their parts, never fitted themselves.
COMPOSED = ("mx_dot", "mx_tile")


def _clog2(x: float) -> int:
    return max(0, math.ceil(math.log2(max(float(x), 1.0))))


def kulisch_width(e: float, m: float, maxlen: float, special: float = 0) -> float:
    """Register width of acc_kulisch_seq.v: MW + MAXEF + clog2(MAXLEN + 1) + 1 (MAXEF = 2^EW - 2, or - 1
    without Inf/NaN codes)."""
    maxef = 2 ** e - (2 if special == 0 else 1)
    return m + maxef + _clog2(maxlen + 1) + 1


def features(top: str, p: Mapping[str, float]) -> dict[str, float]:
    """Named non-negative features of one configuration of `top` (unknown tops: params and pairwise products)."""
    g = {k: float(v) for k, v in p.items() if not isinstance(v, str)}
    f: dict[str, float] = {"const": 1.0}
    if top == "fp_add":
        f.update(_float_adder(g.get("EW", 8), g.get("MW", 23)))
        f["regs"] = g.get("LATENCY", 0) * (g.get("EW", 8) + g.get("MW", 23) + 1)
    elif top == "acc_seq":
        e, m = g.get("EW", 8), g.get("MW", 23)
        ce, cm = g.get("CEW", e), g.get("CMW", m)
        f.update(_float_adder(e, m))
        f.update({"state": e + m + 1, "cm": cm, "ce": ce, "cshift": 2 * _shifter(cm + 4), "cstate": ce + cm + 1})
    elif top == "acc_tree":
        # pooled over schemes: N-1 nodes of COMBINE_STEPS acc_steps of STEP_ADDERS adders each, N leaves
        # (a step from the zero state), and the pipeline registers of every level (tree_registers()).
        e, m = g.get("EW", 8), g.get("MW", 23)
        sc, n = int(g.get("SCHEME", 0)), g.get("N", 2)
        f.update(combine_nodes(e, m, sc, n - 1))
        f["leaf"] = n * STEP_ADDERS.get(sc, 4) * (e + m + 1)
        f.update(tree_registers(g))
    elif top == "acc_pairwise_seq":
        # one acc_combine node, acc_final, and a stack of D = clog2(MAXLEN+1) subtree states read through a
        # D-way mux (acc_pairwise_seq.v); the leaf acc_step adds the element to a constant zero state, which
        # synthesis reduces to (nearly) nothing, so it is not counted as adders
        f.update(combine_nodes(g.get("EW", 8), g.get("MW", 23), int(g.get("SCHEME", 0)), 1))
        f.update(pairwise_seq_registers(g))
    elif top == "acc_kulisch_seq":
        e, m = g.get("EW", 8), g.get("MW", 23)
        fw = kulisch_width(e, m, g.get("MAXLEN", 4096), g.get("SPECIAL", 0))
        # align: (MW+1)-bit significand shifted by an EW-bit amount into FW bits (EW mux levels over FW);
        # negate + add + absolute value over FW; fp_round: leading-zero count and normalising shift over FW.
        f.update({"width": fw, "align": fw * e, "norm": _shifter(fw), "m": m, "e": e})
    elif top.startswith("mx_"):
        k = g.get("K", 32)
        ea, ma, eb, mb = g.get("EWA", 4), g.get("MWA", 3), g.get("EWB", 4), g.get("MWB", 3)
        sha = 0.0 if ea == 0 else 2 ** ea - 2
        shb = 0.0 if eb == 0 else 2 ** eb - 2
        pw = ma + mb + 2 + sha + shb
        sw = pw + _lg(k) + 1
        f.update({"k_mul": k * (ma + 1) * (mb + 1), "k_pw": k * pw, "k_shift": k * (_shifter(ma + 1 + sha) if sha else 0)
                  + k * (_shifter(mb + 1 + shb) if shb else 0), "k_dec": k * (ea + ma + eb + mb), "sw": sw})
        if "EW" in g or "MW" in g or top in ("mx_block_value", "mx_fix2float"):
            e, m = g.get("EW", 8), g.get("MW", 23)
            w = g.get("W", sw)
            f.update({"norm": _shifter(w), "m": m, "e": e})
        if "SCHEME" in g or "N" in g:
            f.update(_float_adder(g.get("EW", 8), g.get("MW", 23)))
    else:
        names = sorted(n for n in g if n not in POLICY_PARAMS and n not in CATEGORICAL)
        f.update({n: g[n] for n in names})
        for i, a in enumerate(names):
            for b in names[i:]:
                f[f"{a}*{b}"] = g[a] * g[b]
    width = g.get("EW", g.get("EWA", 0)) + g.get("MW", g.get("MWA", 0)) + 1
    # an element operand's special-value decoding scales with K x its own width; the output policies
    # with the output width
    own = {"SPA": g.get("K", 1) * (g.get("EWA", 0) + g.get("MWA", 0) + 1),
           "SPB": g.get("K", 1) * (g.get("EWB", 0) + g.get("MWB", 0) + 1)}
    for name in POLICY_PARAMS:
        if name in g:
            for v in (0, 1, 2):
                f[f"{name}={v}*w"] = own.get(name, width) * (g[name] == v)
    return {k: max(float(v), 0.0) for k, v in f.items()}


def tree_registers(g: Mapping[str, float]) -> dict[str, float]:
    """Register bits of acc_tree.v: a state register (s, plus the scheme's compensation terms) per slot
    of every level, N, ceil(N/2), ..., 1; out_data, out_s (merged with out_data when the result is s),
    out_c1/out_c2; the valid pipeline."""
    e, m = g.get("EW", 8), g.get("MW", 23)
    ce, cm = g.get("CEW", e), g.get("CMW", m)
    sc, n = int(g.get("SCHEME", 0)), int(g.get("N", 2))
    aw, cw = e + m + 1, ce + cm + 1
    lv = _clog2(n)
    slots = sum(-(-n // 2 ** i) for i in range(lv + 1))
    # one feature (the total): its coefficient is learned once for every scheme
    return {"reg_bits": slots * (aw + COMP_REGS.get(sc, 1) * cw)
            + aw * (2 if FINAL_DIFFERS.get(sc, True) else 1) + COMP_REGS.get(sc, 1) * cw + lv + 2.0}


def combine_nodes(e: int, m: int, sc: int, nodes: int) -> dict[str, float]:
    """Features of `nodes` acc_combine nodes (COMBINE_STEPS acc_steps of STEP_ADDERS rounded additions
    each) plus acc_final's additions, in format (e, m): the adder features times the additions, their
    count, and the fp_cmp_mag |s| >= |x| comparators with the operand swap muxes of neumaier / fasttwosum
    / klein steps."""
    steps = nodes * COMBINE_STEPS.get(sc, 2)
    adders = steps * STEP_ADDERS.get(sc, 4) + FINAL_ADDERS.get(sc, 1)
    f = {f"add_{k}": adders * v for k, v in _float_adder(e, m).items()}
    f["adders"] = adders
    f["cmp"] = steps * STEP_CMPS.get(sc, 0) * (e + m + 1)
    return f


def pairwise_seq_registers(g: Mapping[str, float]) -> dict[str, float]:
    """Register bits of acc_pairwise_seq.v: D = clog2(MAXLEN+1) stack slots and the pending state, each a
    whole {c2, c1, s} state (the compensation terms a scheme leaves at zero are kept: the zero circulates
    through the slot registers and combine logic, which synthesis does not prove constant -- measured: a
    naive stack costs as many FFs per slot as a kahan one), the outputs m_data, m_s, m_c1, m_c2, and the
    control (occ, level k, flags).  The slot read mux grows with the same D x state bits: one feature."""
    e, m = g.get("EW", 8), g.get("MW", 23)
    ce, cm = g.get("CEW", e), g.get("CMW", m)
    aw, cw = e + m + 1, ce + cm + 1
    d = _clog2(int(g.get("MAXLEN", 4096)) + 1)
    stw = aw + 2 * cw
    return {"stack_bits": d * stw, "reg_bits": stw + 2 * aw + 2 * cw + d + _clog2(d + 1) + 3.0}


@dataclass
class MetricFit:
    """One metric of one (unit, group): feature names, non-negative coefficients, validation."""

    features: list[str]
    coef: list[float]
    cv_mape: float | None = None
    fit_mape: float | None = None
    n: int = 0
    loss: str = "lsq"  # "lsq": relative least squares, "lad": relative least absolute deviations (LP)

    def predict(self, f: Mapping[str, float]) -> float:
        return float(sum(c * f.get(name, 0.0) for name, c in zip(self.features, self.coef)))


def _solve_lsq(X: np.ndarray, y: np.ndarray, names: list[str]) -> list[float]:
    """Non-negative least squares on relative residuals; the constant >= 0.5 when every y > 0."""
    from scipy.optimize import lsq_linear

    w = 1.0 / np.maximum(y, 1.0)
    scale = np.maximum(X.max(axis=0), 1e-12)
    lb = np.zeros(len(names))
    if "const" in names and np.all(y > 0):
        lb[names.index("const")] = 0.5
    res = lsq_linear((X / scale) * w[:, None], y * w, bounds=(lb / scale, np.inf), method="bvls")
    return list(np.maximum(res.x, lb / scale) / scale)


def _solve_lad(X: np.ndarray, y: np.ndarray, names: list[str]) -> list[float]:
    """Non-negative coefficients minimising the mean absolute *relative* residual (what MAPE measures) as a
    linear program (HiGHS); the constant >= 0.5 when every y > 0.  Falls back to non-negative least
    squares on relative residuals if the LP solver fails."""
    from scipy.optimize import linprog, lsq_linear

    n, p = X.shape
    w = 1.0 / np.maximum(y, 1.0)
    scale = np.maximum(X.max(axis=0), 1e-12)
    A = (X / scale) * w[:, None]
    b = y * w
    lb = np.zeros(p)
    if "const" in names and np.all(y > 0):
        lb[names.index("const")] = 0.5
    lbs = lb / scale
    # variables [c (p), t (n)]: minimise sum t  s.t.  A c - b <= t,  -(A c - b) <= t,  c >= lb,  t >= 0
    cost = np.concatenate([np.zeros(p), np.ones(n)])
    A_ub = np.block([[A, -np.eye(n)], [-A, -np.eye(n)]])
    b_ub = np.concatenate([b, -b])
    bounds = [(lo, None) for lo in lbs] + [(0, None)] * n
    res = linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status == 0:
        x = res.x[:p]
    else:  # pragma: no cover - numerical trouble only
        x = lsq_linear(A, b, bounds=(lbs, np.inf), method="bvls").x
    return list(np.maximum(x, lbs) / scale)


def _mape(y: np.ndarray, pred: np.ndarray) -> float | None:
    nz = y > 0
    if not nz.any():
        return 0.0 if np.allclose(pred, 0) else None
    return float(np.mean(np.abs(pred[nz] - y[nz]) / y[nz]) * 100)


SOLVERS = {"lsq": _solve_lsq, "lad": _solve_lad}


def _cv_pred(X: np.ndarray, y: np.ndarray, fit, folds: int, seed: int) -> np.ndarray:
    """k-fold held-out predictions: every row predicted by coefficients fit(X_train, y_train) from the
    other folds (rows dealt to folds by a seeded permutation)."""
    k = min(folds, len(y))
    idx = np.random.default_rng(seed).permutation(len(y))
    pred = np.empty(len(y))
    for i in range(k):
        test = idx[i::k]
        train = np.setdiff1d(idx, test)
        pred[test] = X[test] @ np.array(fit(X[train], y[train]))
    return pred


def _choose_loss(X: np.ndarray, y: np.ndarray, names: list[str], folds: int, seed: int) -> str:
    """The loss (relative least squares or relative least absolute deviations) with the lower k-fold
    MAPE on these rows; least squares when there are too few rows to tell."""
    if len(y) < 8:
        return "lsq"
    scores = {n: _mape(y, _cv_pred(X, y, lambda Xt, yt, f=f: f(Xt, yt, names), folds, seed + 1))
              for n, f in SOLVERS.items()}
    return min(scores, key=lambda n: (scores[n] if scores[n] is not None else math.inf, n != "lsq"))


def _fit_metric(F: list[dict[str, float]], y: np.ndarray, folds: int, seed: int = 0,
                held_out: np.ndarray | None = None) -> MetricFit:
    names = sorted({k for f in F for k in f})
    X = np.array([[f.get(n, 0.0) for n in names] for f in F])
    keep = [i for i, n in enumerate(names) if n == "const" or np.ptp(X[:, i]) > 0]
    names = [names[i] for i in keep]
    X = X[:, keep]
    loss = _choose_loss(X, y, names, folds, seed)
    coef = SOLVERS[loss](X, y, names)
    mf = MetricFit(names, coef, n=len(y), loss=loss)
    mf.fit_mape = _mape(y, X @ np.array(coef))
    if len(y) >= 4 and folds >= 2:
        # nested: in every outer fold the loss is chosen on the training rows only, so the held-out
        # MAPE also pays for that choice
        def nested(Xt: np.ndarray, yt: np.ndarray) -> list[float]:
            return SOLVERS[_choose_loss(Xt, yt, names, folds, seed)](Xt, yt, names)

        pred = _cv_pred(X, y, nested, folds, seed)
        mf.cv_mape = _mape(y, pred)
        if held_out is not None:
            held_out[:] = pred
    return mf


def _group_key(row: Mapping[str, object]) -> str:
    parts = [f"{c}={int(row[c])}" for c in CATEGORICAL if c in row and row[c] == row[c] and row[c] is not None]
    return ",".join(parts) or "all"


@dataclass
class CostModel:
    """Fitted models: units[unit] = {'top': top, 'groups': {group_key: {metric: MetricFit}}}."""

    units: dict[str, dict] = field(default_factory=dict)
    source: str = ""
    data_hash: str = ""  # of the synthesis rows it was fitted on (data_hash()): a saved model is reused only for them

    # ------------------------------------------------------------------ prediction
    def predict(self, unit: str, params: Mapping[str, int], metric: str = "lut") -> float:
        """Predicted count of `metric` cells for one configuration of `unit` (>= 0, see module doc)."""
        if unit not in self.units:
            raise CostModelError(f"cost model has no unit {unit!r}; fitted units: {sorted(self.units)}")
        u = self.units[unit]
        key = _group_key({c: params[c] for c in CATEGORICAL if c in params and c in u["categorical"]})
        if key not in u["groups"]:
            raise CostModelError(f"cost model unit {unit!r} has no group {key!r}; fitted groups: {sorted(u['groups'])}")
        fits = u["groups"][key]
        if metric not in fits:
            raise CostModelError(f"cost model unit {unit!r} has no metric {metric!r}; fitted: {sorted(fits)}")
        full = {**u.get("defaults", {}), **params}
        return fits[metric].predict(features(u["top"], full))

    def has(self, unit: str) -> bool:
        return unit in self.units

    # ------------------------------------------------------------------ reporting
    def validation_rows(self) -> list[dict[str, object]]:
        rows = []
        for unit, u in sorted(self.units.items()):
            for metric in MODEL_METRICS:
                fits = [g[metric] for g in u["groups"].values() if metric in g]
                if not fits:
                    continue
                n = sum(f.n for f in fits)

                def wavg(attr, fits=fits):
                    vals = [(getattr(f, attr), f.n) for f in fits if getattr(f, attr) is not None]
                    return sum(v * w for v, w in vals) / sum(w for _, w in vals) if vals else None

                rows.append({"unit": unit, "metric": metric, "configs": n, "groups": len(fits),
                             "cv_mape": wavg("cv_mape"), "fit_mape": wavg("fit_mape"), "target": TARGETS.get(metric)})
        return rows

    def validation_table(self) -> str:
        lines = [f"{'unit':<22}{'metric':<7}{'configs':>8}{'groups':>7}{'held-out MAPE %':>17}{'fit MAPE %':>12}"
                 f"{'target %':>10}  verdict"]
        for r in self.validation_rows():
            cv = r["cv_mape"]
            verdict = "" if r["target"] is None or cv is None else ("meets" if cv <= r["target"] else "MISSES")
            fm = r["fit_mape"]
            cv_s = "n/a" if cv is None else f"{cv:.1f}"
            fm_s = "n/a" if fm is None else f"{fm:.1f}"
            tg_s = "" if r["target"] is None else f"{r['target']:.0f}"
            lines.append(f"{r['unit']:<22}{r['metric']:<7}{r['configs']:>8}{r['groups']:>7}"
                         f"{cv_s:>17}{fm_s:>12}{tg_s:>10}  {verdict}")
        lines += self.breakdown_lines()
        return "\n".join(lines)

    def breakdown_lines(self) -> list[str]:
        """Held-out LUT MAPE per value of the BREAKDOWN parameter (only right after fit(): a loaded model has
        no held-out predictions)."""
        held = getattr(self, "_held_out_lut", {})
        plists = getattr(self, "_held_out_params", {})
        out = []
        for unit, name in BREAKDOWN.items():
            if unit not in held or unit not in plists:
                continue
            meas, pred = held[unit]
            vals = np.array([p.get(name, -1) for p in plists[unit]])
            parts = []
            for v in sorted(set(vals.tolist())):
                i = (vals == v) & (meas > 0) & np.isfinite(pred)
                if i.any():
                    mape = float(np.mean(np.abs(pred[i] - meas[i]) / meas[i]) * 100)
                    parts.append(f"{name}={v}: {mape:.1f} % ({int(i.sum())})")
            if parts:
                out.append(f"  {unit} lut held-out MAPE by {name} (configs): " + ", ".join(parts))
        return (["", "held-out LUT MAPE per parameter value:"] + out) if out else []

    def plot_residuals(self, path: str | Path, df=None) -> Path:
        """Predicted vs measured (log-log) and relative residuals per unit, saved as PNG."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        df = self._last_df if df is None else df
        held = getattr(self, "_held_out_lut", {})
        fig, axes = plt.subplots(1, 3 if held else 2, figsize=(16 if held else 11, 4.5))
        for unit, (meas, pred) in sorted(held.items()):
            ok = (meas > 0) & np.isfinite(pred)
            axes[2].semilogx(meas[ok], 100 * (pred[ok] - meas[ok]) / meas[ok], "o", ms=3, label=unit)
        if held:
            axes[2].axhline(0, color="k", lw=0.8)
            for t in (-10, 10):
                axes[2].axhline(t, color="r", lw=0.6, ls=":")
            axes[2].set(xlabel="measured LUTs", ylabel="held-out residual %",
                        title="held-out (5-fold) relative residual, LUTs")
        for unit in sorted(self.units):
            sub = df[df["unit"] == unit]
            if sub.empty:
                continue
            meas = sub["lut"].to_numpy(float)
            pred = np.array([self.predict(unit, _params_of(r), "lut") for _, r in sub.iterrows()])
            axes[0].loglog(np.maximum(meas, 1), np.maximum(pred, 1), "o", ms=3, label=unit)
            nz = meas > 0
            axes[1].semilogx(meas[nz], 100 * (pred[nz] - meas[nz]) / meas[nz], "o", ms=3, label=unit)
        lim = axes[0].get_xlim()
        axes[0].plot(lim, lim, "k--", lw=0.8)
        axes[0].set(xlabel="measured LUTs (Yosys)", ylabel="model LUTs", title="LUTs: model vs synthesis (in-sample)")
        axes[1].axhline(0, color="k", lw=0.8)
        for t in (-10, 10):
            axes[1].axhline(t, color="r", lw=0.6, ls=":")
        axes[1].set(xlabel="measured LUTs", ylabel="residual %", title="in-sample relative residual (band ±10 %)")
        axes[0].legend(fontsize=7)
        fig.tight_layout()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        return {"source": self.source, "data_hash": self.data_hash, "units": {
            u: {"top": d["top"], "categorical": d["categorical"], "defaults": d.get("defaults", {}), "groups": {
                g: {m: vars(f) for m, f in fits.items()} for g, fits in d["groups"].items()}}
            for u, d in self.units.items()}}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True))

    @staticmethod
    def load(path: str | Path) -> CostModel:
        d = json.loads(Path(path).read_text())
        units = {u: {"top": v["top"], "categorical": v["categorical"], "defaults": v.get("defaults", {}), "groups": {
            g: {m: MetricFit(**f) for m, f in fits.items()} for g, fits in v["groups"].items()}}
            for u, v in d["units"].items()}
        return CostModel(units, d.get("source", ""), d.get("data_hash", ""))


def _params_of(row) -> dict[str, float]:
    p = json.loads(row["params"]) if isinstance(row["params"], str) else dict(row["params"])
    return p


def data_hash(df) -> str:
    """Content hash of the fitted rows (unit, design key, metrics) and of this module's feature code."""
    import hashlib

    h = hashlib.sha256(Path(__file__).read_bytes())
    if df is not None and len(df):
        cols = [c for c in ("unit", "key", *MODEL_METRICS) if c in df.columns]
        for row in sorted(map(tuple, df[cols].astype(str).itertuples(index=False))):
            h.update("\x1f".join(row).encode() + b"\n")
    return h.hexdigest()[:24]


def fit_cached(df, saved: str | Path | None, folds: int = 5) -> CostModel:
    """The model saved by `apace synth fit` if it was fitted on exactly these rows (and this code),
    else a fresh fit (not saved)."""
    want = data_hash(df)
    if saved is not None and Path(saved).exists():
        try:
            model = CostModel.load(saved)
        except (ValueError, KeyError, TypeError):
            model = None
        if model is not None and model.data_hash == want:
            return model
    return fit(df, folds=folds)


def fit(df, folds: int = 5, metrics=MODEL_METRICS) -> CostModel:
    """Fit every unit of a synth-results DataFrame (`apace.synth.load_results()`)."""
    if df is None or len(df) == 0 or not (set(df["unit"]) - set(COMPOSED)):
        raise CostModelError("no synthesis results to fit (run `apace synth sweep` first)")
    n_fit = int((~df["unit"].isin(COMPOSED)).sum())
    model = CostModel(source=f"{n_fit} synthesis rows")
    model._held_out_lut = {}  # type: ignore[attr-defined]  # unit -> (measured, k-fold held-out prediction)
    model._held_out_params = {}  # type: ignore[attr-defined]  # unit -> parameters of those rows
    for unit, sub in df.groupby("unit"):
        top = str(sub["top"].iloc[0])
        if top in COMPOSED or str(unit) in COMPOSED:
            continue  # composed designs check the composition (hwcost.composed_check); never fitted
        plist = [_params_of(r) for _, r in sub.iterrows()]
        cats = [] if top in POOLED else sorted({c for p in plist for c in p if c in CATEGORICAL})
        # parameters every configuration shares (e.g. CSPECIAL, COVF): filled in when a prediction omits them
        shared = {k: v for k, v in plist[0].items() if all(q.get(k) == v for q in plist)}
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(plist):
            groups.setdefault(_group_key({c: p[c] for c in cats if c in p}), []).append(i)
        fitted = {}
        held = np.full(len(sub), np.nan)
        for g, idx in groups.items():
            F = [features(top, plist[i]) for i in idx]
            fitted[g] = {}
            for m in metrics:
                if m not in sub:
                    continue
                ho = np.full(len(idx), np.nan)
                fitted[g][m] = _fit_metric(F, sub[m].to_numpy(float)[idx], folds, held_out=ho)
                if m == "lut":
                    held[np.array(idx)] = ho
        model._held_out_lut[str(unit)] = (sub["lut"].to_numpy(float), held)  # type: ignore[attr-defined]
        model._held_out_params[str(unit)] = plist  # type: ignore[attr-defined]
        model.units[str(unit)] = {"top": top, "categorical": cats, "groups": fitted, "defaults": shared}
    model.data_hash = data_hash(df)
    model._last_df = df  # type: ignore[attr-defined]
    return model

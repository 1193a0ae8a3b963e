"""Error-profile report: PNG plots (matplotlib Agg), a self-contained HTML file (plots embedded as
base64) and a Markdown file (plots linked from plots/), from a characterisation table.

Sections: known facts (BF16, 10 000 U[0,1) terms), error vs n per scheme with the classical bounds
and the n u = 1 line, the breakdown plot (every scheme, with and without a wider compensation
format), heatmaps scheme x format at fixed n, the narrowest-format table, bound violations, and the
error model's fit quality (power law and held-out lengths).
"""

from __future__ import annotations

import base64
import html
import math
import os

import numpy as np
import pandas as pd

from golden.accumulate import SCHEMES

from . import bounds
from .spec import RESOLVE_REL_SE, Spec, acc_format

PLOT_DISTS = ("uniform", "normal")  # error-vs-n figures: uniform for every format, normal for BF16 only


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _loglog_axes(ax, ylim=(1e-12, 10.0)) -> None:
    """Fixed y range and few ticks: matplotlib's default log locators are very slow on wide ranges."""
    from matplotlib.ticker import LogLocator, NullLocator

    ax.set_ylim(*ylim)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(base=10, numticks=8))
        axis.set_minor_locator(NullLocator())


# ---------------------------------------------------------------------- known facts
def known_facts(n: int = 10_000, seed: int = 0, acc: str = "BF16", comp: str = "FP32") -> pd.DataFrame:
    """Every scheme summing n U[0,1) values (rounded into acc) sequentially, with comp=None and with
    the wider compensation format; exact = the exact sum of the rounded values (fsum)."""
    from golden.accumulate import accumulate
    from golden.formats import rounder

    fa = acc_format(acc)
    x = rounder(fa)(np.random.default_rng(seed).random(n))
    exact = math.fsum(x)
    rows = []
    for scheme in SCHEMES:
        for c in (None, comp):
            if c is not None and scheme in ("naive", "kulisch"):
                continue
            v = float(accumulate(x[None, :], scheme, fa, c).value[0])
            rows.append({
                "scheme": scheme, "acc": fa.label(), "comp": c or "", "n": n, "result": v, "exact": exact,
                "rel_error": (v - exact) / exact, "ulps": (v - exact) / float(bounds.ulp(np.array(exact), fa)),
            })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- tables
def narrowest_table(df: pd.DataFrame, n: int, threshold: float) -> pd.DataFrame:
    """Per (dist, order, scheme): the narrowest accumulator format (fewest bits, then fewest mantissa
    bits) whose p99 |err|/|exact| at length n is below threshold (comp = acc only)."""
    d = df[(df["n"] == n) & (df["comp"] == "")].copy()
    d["bits"] = 1 + d["acc_e"] + d["acc_m"]
    out = []
    for (dist, order, scheme), g in d.groupby(["dist", "order", "scheme"], sort=False):
        ok = g[(g["rel_exact_p99"] < threshold) & (g["nonfinite"] == 0)].sort_values(["bits", "acc_m"])
        out.append({
            "dist": dist, "order": order, "scheme": scheme,
            "narrowest_acc": ok["acc"].iloc[0] if len(ok) else "none",
            "p99_rel_error": float(ok["rel_exact_p99"].iloc[0]) if len(ok) else np.nan,
        })
    t = pd.DataFrame(out)
    if t.empty:
        return t
    return t.pivot_table(index=["dist", "order"], columns="scheme", values="narrowest_acc", aggfunc="first")[
        [s for s in SCHEMES if s in set(t["scheme"])]
    ].reset_index()


def violations_table(df: pd.DataFrame) -> pd.DataFrame:
    g = df.groupby(["scheme", "order", "bound"], sort=False).agg(
        trials_checked=("bound_applies", "sum"), violations=("bound_violations", "sum"),
        max_err_over_bound=("bound_max_ratio", "max"),
    )
    return g.reset_index()


def model_quality_table(model) -> pd.DataFrame:
    rows = []
    for k, e in model.entries.items():
        scheme, order, acc, comp, dist = k.split("|")
        sp = e.fit.get("spread", {})
        rows.append({
            "scheme": scheme, "order": order, "acc": acc, "comp": "" if comp == "-" else comp, "dist": dist,
            "spread_a": sp.get("a"), "spread_b": sp.get("b"), "spread_r2": sp.get("r2"),
            "holdout_max_dev": e.holdout.get("max_abs_rel_dev"), "holdout_pass": e.holdout.get("pass"),
            "unit": getattr(e, "norm", ""), "fr_intervals": e.fit.get("fr_intervals", 0) if e.fit else 0,
            "holdout_points": e.holdout.get("points"), "holdout_points_pass": e.holdout.get("points_pass"),
            "holdout_points_fr": e.holdout.get("points_fr", 0),
            "holdout_points_unresolved": e.holdout.get("points_unresolved", 0),
            "holdout_trials_min": min(e.holdout.get("trials") or [0]) or None,
            "holdout_trials_max": max(e.holdout.get("trials") or [0]) or None,
            "outside_sawtooth": e.holdout.get("points_sawtooth", 0), "outside_noise": e.holdout.get("points_noise", 0),
            "outside_unexplained": e.holdout.get("points_unexplained", 0),
        })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- plots
def _bound_curve(g: pd.DataFrame, scheme: str, order: str, fmt) -> np.ndarray:
    """The classical bound divided by sum|x| along g's lengths (using the mean |S| / sum|x|)."""
    vals = []
    for _, r in g.iterrows():
        ratio = r["exact_abs_mean"] / r["sum_abs_mean"] if r["sum_abs_mean"] > 0 else 0.0
        b, holds = bounds.bound(scheme, order, int(r["n"]), fmt, np.array([ratio]), np.array([1.0]))
        vals.append(float(b[0]) if holds and np.isfinite(b[0]) else np.nan)
    return np.array(vals)


def plot_error_vs_n(df: pd.DataFrame, acc: str, order: str, dist: str, path: str) -> None:
    plt = _plt()
    d = df[(df["acc"] == acc) & (df["order"] == order) & (df["dist"] == dist)]
    if d.empty:
        return
    fmt = acc_format(d["acc_spec"].iloc[0])
    u = fmt.unit_roundoff
    schemes = [s for s in SCHEMES if s in set(d["scheme"])]
    fig, axes = plt.subplots(2, 4, figsize=(16, 7.5), sharex=True, sharey=True)
    axes = axes.ravel()
    for ax, scheme in zip(axes, schemes):
        for comp, ls in ((c, "-" if c == "" else "--") for c in sorted(d["comp"].unique())):
            g = d[(d["scheme"] == scheme) & (d["comp"] == comp)].sort_values("n")
            if g.empty:
                continue
            tag = "" if comp == "" else f" comp={comp}"
            ax.loglog(g["n"], g["rel_sumabs_p50"].clip(lower=1e-12), ls, color="C0", label=f"p50{tag}")
            ax.loglog(g["n"], g["rel_sumabs_p99"].clip(lower=1e-12), ls, color="C1", label=f"p99{tag}")
            ax.loglog(g["n"], g["rel_sumabs_max"].clip(lower=1e-12), ls, color="C3", lw=0.8, label=f"max{tag}")
            if comp == "":
                bc = _bound_curve(g, scheme, order, fmt)
                if np.isfinite(bc).any():
                    ax.loglog(g["n"], bc, ":", color="k", label=f"bound {bounds.bound_name(scheme, order)}")
        if 1 / u <= d["n"].max():
            ax.axvline(1 / u, color="grey", lw=0.8)
            ax.text(1 / u, 1e-11, " n u = 1", color="grey", fontsize=8)
        ax.set_title(scheme)
        _loglog_axes(ax)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=6)
    for ax in axes[len(schemes):]:
        ax.axis("off")
    fig.supxlabel("n (terms)")
    fig.supylabel("|computed - exact| / sum|x|   (1e-12 = exact)")
    fig.suptitle(f"Error vs n: acc {acc}, {order}, {dist} inputs ({int(d['trials'].iloc[0])} trials per point)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_breakdown(df: pd.DataFrame, acc: str, dist: str, path: str) -> bool:
    """All schemes, sequential, median |err|/|exact| vs n, solid comp=acc, dashed wider comp."""
    plt = _plt()
    d = df[(df["acc"] == acc) & (df["order"] == "sequential") & (df["dist"] == dist)]
    if d.empty:
        return False
    u = float(d["u"].iloc[0])
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for i, scheme in enumerate(s for s in SCHEMES if s in set(d["scheme"])):
        for comp in sorted(d["comp"].unique()):
            g = d[(d["scheme"] == scheme) & (d["comp"] == comp)].sort_values("n")
            if g.empty:
                continue
            ax.loglog(g["n"], g["rel_exact_p50"].clip(lower=1e-9), "-" if comp == "" else "--", color=f"C{i}",
                      label=scheme + ("" if comp == "" else f" comp={comp}"))
    ax.axvline(1 / u, color="grey", lw=1)
    ax.text(1 / u, 2e-9, " n u = 1", color="grey")
    _loglog_axes(ax, (1e-9, 10.0))
    ax.set_xlabel("n (terms)")
    ax.set_ylabel("median |computed - exact| / |exact|  (1e-9 = exact)")
    ax.set_title(f"Low-precision breakdown: acc {acc}, sequential, {dist} inputs")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def plot_heatmaps(df: pd.DataFrame, order: str, n: int, path: str) -> bool:
    plt = _plt()
    d = df[(df["order"] == order) & (df["n"] == n) & (df["comp"] == "")]
    if d.empty:
        return False
    dists = list(dict.fromkeys(d["dist"]))
    accs = list(d.sort_values(["acc_m", "acc_e"], ascending=False)["acc"].drop_duplicates())
    schemes = [s for s in SCHEMES if s in set(d["scheme"])]
    cols = min(4, len(dists))
    rows = math.ceil(len(dists) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False)
    for ax, dist in zip(axes.ravel(), dists):
        g = d[d["dist"] == dist].pivot_table(index="scheme", columns="acc", values="rel_exact_p99")
        g = g.reindex(index=schemes, columns=accs)
        with np.errstate(divide="ignore"):
            z = np.log10(np.maximum(g.to_numpy(dtype=float), 1e-12))
        im = ax.imshow(z, cmap="viridis_r", vmin=-12, vmax=1, aspect="auto")
        ax.set_xticks(range(len(accs)), accs, rotation=45, fontsize=7)
        ax.set_yticks(range(len(schemes)), schemes, fontsize=7)
        for (i, j), v in np.ndenumerate(z):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=6, color="w" if v > -5 else "k")
        ax.set_title(dist, fontsize=9)
    for ax in axes.ravel()[len(dists):]:
        ax.axis("off")
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8, label="log10 p99 |err|/|exact|")
    fig.suptitle(f"p99 relative error at n = {n}, {order} (log10; -12 = exact)")
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def plot_holdout(model, path: str) -> bool:
    plt = _plt()
    meas, pred, res = [], [], []
    for e in model.entries.values():
        h = e.holdout
        rs = h.get("resolved") or [True] * len(h.get("measured_std", []))
        for m, p, r in zip(h.get("measured_std", []), h.get("predicted_std", []), rs):
            if m and p and m > 0 and p > 0:
                meas.append(m)
                pred.append(p)
                res.append(bool(r))
    if not meas:
        return False
    fig, ax = plt.subplots(figsize=(6, 6))
    r = np.array(res)
    ma, pa = np.array(meas), np.array(pred)
    ax.loglog(ma[r], pa[r], ".", ms=3, alpha=0.5, label="resolved (validates the model)")
    if (~r).any():
        ax.loglog(ma[~r], pa[~r], "x", ms=3, alpha=0.4, color="grey", label="unresolved (excluded)")
    ax.legend(loc="upper left", fontsize=8)
    lo, hi = min(meas + pred), max(meas + pred)
    xs = np.array([lo, hi])
    ax.loglog(xs, xs, "k-", lw=0.8)
    ax.loglog(xs, xs * 1.2, "k:", lw=0.8)
    ax.loglog(xs, xs * 0.8, "k:", lw=0.8)
    _loglog_axes(ax, (lo / 2, hi * 2))
    ax.set_xlabel("measured spread at held-out n  (entry units: u sum|x| or ulp(sum|x|))")
    ax.set_ylabel("model prediction")
    ax.set_title("Error model on held-out lengths (dotted: +-20 %)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


# ---------------------------------------------------------------------- assembly
def _md_table(t: pd.DataFrame, floatfmt: str = "{:.3g}") -> str:
    def cell(v):
        if isinstance(v, float):
            return "" if math.isnan(v) else floatfmt.format(v)
        return str(v)

    cols = [str(c) for c in t.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in t.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in r) + " |")
    return "\n".join(lines)


def write_report(df: pd.DataFrame, spec: Spec, out: str, model=None, facts: pd.DataFrame | None = None,
                 progress: bool = True, extra_sections: list[tuple[str, str]] | None = None) -> dict[str, str]:
    """Write plots/, report.html and report.md under `out`; returns {'html': path, 'md': path}."""
    from tqdm import tqdm

    pdir = os.path.join(out, "plots")
    os.makedirs(pdir, exist_ok=True)
    sections: list[tuple[str, str, list[str], list[pd.DataFrame]]] = []  # title, text, images, tables
    if facts is None:
        facts = known_facts()
    sections.append((
        "Known facts: BF16 accumulator, 10 000 U[0,1) terms, sequential",
        "Separately accumulated compensation terms (neumaier, twosum, fasttwosum, klein) stagnate like a naive "
        "sum once n u >~ 1, while Kahan feeds its correction back into every element; a wider compensation "
        "format (comp=FP32) removes the stagnation.", [], [facts],
    ))
    accs = list(dict.fromkeys(df["acc"]))
    plots = []
    for acc in accs:
        sub = df[df["acc"] == acc]
        if sub["comp"].ne("").any() or acc in ("BF16", "E5M3"):
            plots.append(("breakdown", acc, "uniform"))
    for acc in accs:
        for order in spec.orders:
            for dist in PLOT_DISTS:
                if dist in spec.dists and (dist == PLOT_DISTS[0] or acc == "BF16"):
                    plots.append(("evn", acc, order, dist))
    for order in spec.orders:
        plots.append(("heat", order))
    images: dict[tuple, str] = {}
    for p in tqdm(plots, desc="report plots", disable=not progress):
        if p[0] == "breakdown":
            path = os.path.join(pdir, f"breakdown_{p[1]}_{p[2]}.png")
            if plot_breakdown(df, p[1], p[2], path):
                images[p] = path
        elif p[0] == "evn":
            path = os.path.join(pdir, f"error_vs_n_{p[1]}_{p[2]}_{p[3]}.png")
            plot_error_vs_n(df, p[1], p[2], p[3], path)
            if os.path.exists(path):
                images[p] = path
        else:
            path = os.path.join(pdir, f"heatmap_{p[1]}_n{spec.fixed_n}.png")
            if plot_heatmaps(df, p[1], spec.fixed_n, path):
                images[p] = path
    sections.append((
        "The n u = 1 breakdown",
        "Median relative error vs n, sequential, uniform inputs. Solid: compensation in the accumulator format; "
        "dashed: a wider compensation format. The grey line is n u = 1.",
        [v for k, v in images.items() if k[0] == "breakdown"], [],
    ))
    sections.append((
        "Error vs n per scheme, with classical bounds",
        "p50 / p99 / max of |err| / sum|x| over the trials; dotted black: the classical bound where it applies "
        "(see docs/characterize.md); dashed: wider compensation format.",
        [v for k, v in images.items() if k[0] == "evn"], [],
    ))
    sections.append((f"Heatmaps scheme x accumulator format at n = {spec.fixed_n}", "",
                     [v for k, v in images.items() if k[0] == "heat"], []))
    sections.append((
        f"Narrowest accumulator format with p99 relative error < {spec.p99_threshold:g} at n = {spec.fixed_n}",
        "Among the sweep's formats (comp = acc), fewest bits first; 'none' = no format of the sweep qualifies.",
        [], [narrowest_table(df, spec.fixed_n, spec.p99_threshold)],
    ))
    vt = violations_table(df)
    sections.append((
        "Classical bound violations",
        f"Total violations: {int(vt['violations'].sum())} over {int(vt['trials_checked'].sum())} checked trials "
        "(a trial is checked only where the bound's hypotheses hold).", [], [vt],
    ))
    if model is not None:
        mq = model_quality_table(model)
        hp = os.path.join(pdir, "model_holdout.png")
        imgs = [hp] if plot_holdout(model, hp) else []
        npass = int(mq["holdout_pass"].fillna(False).astype(bool).sum())
        worst = mq.sort_values("holdout_max_dev", ascending=False, na_position="first").head(15)
        pts = int(mq["holdout_points"].fillna(0).sum())
        ok = int(mq["holdout_points_pass"].fillna(0).sum())
        cls = {c: int(mq[f"outside_{c}"].fillna(0).sum()) for c in ("sawtooth", "noise", "unexplained")}
        nfr = int(mq["holdout_points_fr"].fillna(0).sum())
        nun = int(mq["holdout_points_unresolved"].fillna(0).sum())
        tr = df.loc[df["n"] > 1, "trials"]
        sections.append((
            "Fitted error model",
            f"{len(mq)} fitted configurations. Held-out check: at every held-out length (every other length of "
            f"the sweep; never used for fitting) the predicted spread against the measured one, pass within +-20 %. "
            f"A measured spread validates the model only when it is resolved: its standard error (from the trials' "
            f"4th moment) at most {100 * RESOLVE_REL_SE:.1f} % of it (the tolerance is 3 standard errors), or the "
            f"spread is resolved as negligible (spread + 3 standard errors < 0.01 u sum|x|). "
            f"Trials per point: {int(tr.min())} .. {int(tr.max())} (median {int(tr.median())}; "
            f"{int((tr > spec.trials).sum())} of {len(tr)} points got more than the base {spec.trials}"
            + (f": adaptive trials until resolved, cap {spec.max_trials}" if spec.rel_se_target > 0 else "")
            + f"). Resolved held-out points within +-20 %: {ok} / {pts} ({100.0 * ok / max(pts, 1):.1f} %), "
            f"{nfr} of them predicted in the final-rounding mode (from the held-out sums' sum|x|); "
            f"outside: {pts - ok} ({cls['sawtooth']} sawtooth, {cls['noise']} noise, {cls['unexplained']} unexplained). "
            f"Excluded as unresolved: {nun} held-out points"
            + (" (the trial cap was reached)" if spec.rel_se_target > 0 else
               f" ({spec.trials} trials cannot resolve their spread to +-20 %; the 'model' profile adds trials until they are)")
            + f". Configurations passing at every resolved held-out length: {npass} / {len(mq)}. "
            "Power law spread = a u n^b (units of sum|x|) fitted where n u <= 0.1. Worst held-out cases below; "
            "the full table is model_quality.csv (see docs/characterize.md).", imgs, [worst],
        ))
        mq.to_csv(os.path.join(out, "model_quality.csv"), index=False)
    for title, text in extra_sections or []:
        sections.append((title, text, [], []))

    head = (f"A-PACE error profiles — spec '{spec.name}' (digest {spec.digest()}): {len(df)} rows, "
            f"{spec.trials} trials per point, lengths 1..{spec.max_n}, seed {spec.seed}")
    # Markdown
    md = [f"# {head}", ""]
    for title, text, imgs, tables in sections:
        md += [f"## {title}", "", text, ""]
        for im in imgs:
            md += [f"![{os.path.basename(im)}](plots/{os.path.basename(im)})", ""]
        for t in tables:
            md += [_md_table(t), ""]
    md_path = os.path.join(out, "report.md")
    with open(md_path, "w") as fh:
        fh.write("\n".join(md))
    # HTML (self-contained)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>A-PACE error profiles</title>",
        "<style>body{font-family:sans-serif;max-width:1400px;margin:auto}table{border-collapse:collapse;"
        "font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}img{max-width:100%}</style></head><body>",
        f"<h1>{html.escape(head)}</h1>",
    ]
    for title, text, imgs, tables in sections:
        parts.append(f"<h2>{html.escape(title)}</h2><p>{html.escape(text)}</p>")
        for im in imgs:
            with open(im, "rb") as fh:
                b64 = base64.b64encode(fh.read()).decode()
            parts.append(f"<img alt='{html.escape(os.path.basename(im))}' src='data:image/png;base64,{b64}'><br>")
        for t in tables:
            parts.append(t.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep=""))
    parts.append("</body></html>")
    html_path = os.path.join(out, "report.html")
    with open(html_path, "w") as fh:
        fh.write("\n".join(parts))
    return {"html": html_path, "md": md_path}

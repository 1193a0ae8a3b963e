"""Design-space exploration: hardware cost (cost model) + perplexity (quant/) for every design point.

Flow of `run_dse(spec)`:
 1. fit the cost model on synth_results/ and cost every point (milliseconds per point);
 2. perplexity of every point in the sweep mode (default 'statistical'), on a local process pool
    (`jobs`) or a Dask cluster (`dask_address`), each result appended to `<out>/cache.jsonl` as it
    finishes under a content hash of (point, model, text, ppl settings, mode, evaluator) — a rerun
    recomputes nothing, an interrupted run loses nothing finished;
 3. Pareto front over the objectives with the sweep-mode perplexity, then the front (or only the
    best candidate) re-evaluated in the confirm mode (default 'exact'), and the front recomputed
    with confirmed values where they exist;
 4. results.csv + results.parquet (one row per point), front.png / front.svg, summary.json.

Perplexity comes from an *evaluator*: 'quant' (quant.evaluate_ppl, the real model), 'none'
(hardware only: ppl is left empty), or 'fake' (a deterministic analytic stand-in for tests).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .space import ACC_OF_STAGE, DesignPoint, Spec

EVALUATORS = ("quant", "none", "fake")


class PplEvaluator(Protocol):
    """Perplexity of one design point in one mode ('statistical' or 'exact').  Returns a dict with
    at least 'ppl' (float) and optionally 'tokens', 'wall_s', 'config_hash'."""

    def __call__(self, point: Mapping, mode: str, ppl: Mapping) -> dict: ...


def _quant_available() -> bool:
    try:
        import quant
    except ImportError:
        return False
    return hasattr(quant, "evaluate_ppl")


def quant_evaluator(point: Mapping, mode: str, ppl: Mapping) -> dict:
    """The real evaluator: builds a quant.PplConfig from the point and runs quant.evaluate_ppl."""
    import quant
    from quant.config import AttnConfig, PplConfig

    attn: dict = {"mode": mode, "seed": int(ppl.get("seed", 0))}
    for name, st in point["stages"].items():
        attn[name] = {"elem": st["elem"], "k": st["k"]}
        attn[ACC_OF_STAGE[name]] = {"scheme": st["scheme"], "acc": st["acc"]}
    ctx = int(ppl.get("seq_len", 256))
    cfg = PplConfig(model=point["model"], text=point["text"], ctx=ctx, stride=ctx,
                    max_tokens=int(ppl.get("tokens", 1024)), attn=AttnConfig(**attn))
    r = quant.evaluate_ppl(cfg, progress=False)
    return {"ppl": float(r.ppl), "tokens": int(r.tokens), "wall_s": float(r.wall_s),
            "config_hash": str(getattr(r, "config_hash", ""))}


def fake_evaluator(point: Mapping, mode: str, ppl: Mapping) -> dict:
    """Deterministic stand-in for tests: ppl grows with each stage's element and accumulator rounding
    error (2^-m terms), and is lower for compensated schemes; 'exact' differs from 'statistical' by
    a fixed 0.1 %.  Not a model of anything; it only gives the DSE a known landscape to explore."""
    from golden.formats import parse_format

    base = 10.0
    for st in point["stages"].values():
        e = 0.0
        if st["elem"] != "none":
            e += 2.0 ** -parse_format(st["elem"]).m
        acc_u = 2.0 ** -parse_format(st["acc"]).m
        growth = {"naive": st["length"], "kulisch": 0.0}.get(st["scheme"], 2.0)
        e += acc_u * growth
        base *= 1.0 + e
    if mode == "exact":
        base *= 1.001
    return {"ppl": base, "tokens": int(ppl.get("tokens", 0)), "wall_s": 0.0, "config_hash": ""}


def _evaluate_task(evaluator: str, point: dict, mode: str, ppl: dict) -> dict:
    """Top-level (picklable) task for process pools and Dask workers."""
    fn: Callable = {"quant": quant_evaluator, "fake": fake_evaluator}[evaluator]
    if evaluator == "quant":
        _quiet_libraries()
    t0 = time.monotonic()
    out = fn(point, mode, ppl)
    out.setdefault("wall_s", time.monotonic() - t0)
    return out


def _quiet_libraries() -> None:
    """Workers run many evaluations: their per-load progress bars (transformers' "Loading weights")
    would interleave with the DSE's own bar, so they are switched off (warnings still show)."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def _statistical_unavailable() -> str | None:
    """Why quant's statistical mode cannot run here (its error model is missing), or None."""
    try:
        from quant.ppl import load_error_model

        load_error_model()
    except (ImportError, ValueError, OSError) as exc:
        return str(exc).split(";")[0]
    return None


def resolve_evaluator(name: str | None) -> str:
    """'auto' -> 'quant' when quant.evaluate_ppl exists, else 'none'."""
    if name in (None, "auto"):
        return "quant" if _quant_available() else "none"
    if name not in EVALUATORS:
        raise ValueError(f"--evaluator must be one of {['auto', *EVALUATORS]}, got {name!r}")
    if name == "quant" and not _quant_available():
        raise ValueError("--evaluator quant: quant.evaluate_ppl is not available in this checkout")
    return name


# ---------------------------------------------------------------------------------------- cache
class ResultCache:
    """Append-only JSON-lines cache of perplexity results keyed by content hash."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.data: dict[str, dict] = {}
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by an interrupt: ignore it, the point is recomputed
                self.data[rec["key"]] = rec

    def get(self, key: str) -> dict | None:
        return self.data.get(key)

    def put(self, key: str, rec: dict) -> None:
        rec = {"key": key, **rec}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as fh:
            fh.write(json.dumps(rec, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.data[key] = rec


def ppl_key(point: DesignPoint, mode: str, evaluator: str, ppl: Mapping) -> str:
    """Cache key of one perplexity: the point, mode, evaluator and ppl settings, and for quant's
    statistical mode what its result also depends on (the error model's identity and the statistical
    kernel's version, quant.ppl), so that a new error model or kernel is not answered from the cache."""
    settings = {k: ppl.get(k) for k in ("tokens", "seq_len", "seed")}
    extra = {"statistical": statistical_identity()} if mode == "statistical" and evaluator == "quant" else {}
    return point.key({"mode": mode, "evaluator": evaluator, "ppl": settings, **extra})


def statistical_identity() -> dict | None:
    """quant's statistical-mode identity {error_model, kernel} (None if quant's error model cannot load:
    the run then does not use statistical mode)."""
    try:
        from quant.ppl import STATISTICAL_KERNEL, error_model_key, load_error_model

        return {"error_model": error_model_key(load_error_model()), "kernel": STATISTICAL_KERNEL}
    except (ImportError, ValueError, OSError):
        return None


_PREPARED: set[str] = set()  # evaluators that already completed one evaluation in this process


def _first_alone(todo: list, evaluator: str) -> list[list]:
    """The first task of a run alone, then the rest: the first evaluation prepares shared first-use
    artefacts (the converted model, the extracted text), which parallel workers would otherwise all
    build at once.  Later calls (e.g. the confirmation rounds) run everything in parallel."""
    if evaluator in _PREPARED or len(todo) < 2:
        return [todo]
    return [todo[:1], todo[1:]]


def evaluate_ppl_many(points: list[DesignPoint], mode: str, evaluator: str, ppl: Mapping, cache: ResultCache,
                      jobs: int = 1, dask_address: str | None = None, progress: bool = True,
                      desc: str = "perplexity") -> dict[str, dict]:
    """Perplexity of every point in `mode` (cached ones are not recomputed); returns {point_key: record}."""
    from tqdm import tqdm

    todo, out = [], {}
    for p in points:
        k = ppl_key(p, mode, evaluator, ppl)
        rec = cache.get(k)
        if rec is not None:
            out[p.key()] = rec
        elif k not in {t[1] for t in todo}:
            todo.append((p, k))
    if not todo:
        return _fill(points, mode, evaluator, ppl, cache, out)
    bar = tqdm(total=len(todo), desc=f"{desc} ({mode})", unit="point", disable=not progress)

    def done(p: DesignPoint, k: str, res: dict) -> None:
        _PREPARED.add(evaluator)
        cache.put(k, {"mode": mode, "point": p.to_dict(), **res})
        bar.update(1)

    try:
        if dask_address:
            from distributed import Client, as_completed

            with Client(dask_address) as client:
                for batch in _first_alone(todo, evaluator):
                    futs = {client.submit(_evaluate_task, evaluator, p.to_dict(), mode, dict(ppl), pure=False):
                            (p, k) for p, k in batch}
                    for fut in as_completed(futs):
                        done(*futs[fut], fut.result())
        elif jobs > 1:
            from concurrent.futures import ProcessPoolExecutor
            from concurrent.futures import as_completed as cf_done

            with ProcessPoolExecutor(max_workers=jobs) as pool:
                for batch in _first_alone(todo, evaluator):
                    futs = {pool.submit(_evaluate_task, evaluator, p.to_dict(), mode, dict(ppl)): (p, k)
                            for p, k in batch}
                    for fut in cf_done(futs):
                        done(*futs[fut], fut.result())
        else:
            for p, k in todo:
                done(p, k, _evaluate_task(evaluator, p.to_dict(), mode, dict(ppl)))
    finally:
        bar.close()
    return _fill(points, mode, evaluator, ppl, cache, out)


def _fill(points, mode, evaluator, ppl, cache, out):
    for p in points:
        rec = cache.get(ppl_key(p, mode, evaluator, ppl))
        if rec is not None:
            out[p.key()] = rec
    return out


# ---------------------------------------------------------------------------------------- runner
@dataclass
class DseResult:
    df: object  # pandas DataFrame, one row per point
    out_dir: Path
    evaluator: str
    objectives: list[str]
    weights: dict
    notes: list[str]


def cost_rows(spec: Spec, model) -> list[dict]:
    """Hardware cost of every point (one dict per point, with per-stage LUTs and provenance)."""
    from .hwcost import HW_METRICS, point_cost

    rows = []
    for p in spec.points:
        total, stages = point_cost(model, p, spec.parallelism)
        row: dict = {"point": p.key(), "label": p.label(), "model": p.model, "text": p.text}
        for name, st in p.stages:
            for f in ("elem", "k", "acc", "scheme", "length"):
                row[f"{name}_{f}"] = getattr(st, f)
            row[f"{name}_lut"] = round(stages[name].values["lut"], 1)
        for m in HW_METRICS:
            row[m] = round(total.values[m], 1)
        row["cost_parts"] = "; ".join(dict.fromkeys(total.parts))
        rows.append(row)
    return rows


def check_costable(spec: Spec, model) -> None:
    """One clear error for a point the cost model cannot price (e.g. a scheme with no synthesis data)."""
    from .costmodel import CostModelError
    from .hwcost import point_cost

    seen = set()
    for p in spec.points:
        sig = tuple((n, s.elem, s.acc, s.scheme) for n, s in p.stages)
        if sig in seen:
            continue
        seen.add(sig)
        try:
            point_cost(model, p, spec.parallelism)
        except CostModelError as exc:
            raise ValueError(f"design point {p.label()}: {exc}") from None


def run_dse(spec: Spec, out_dir: str | Path, results_dir: str | Path | None = None, evaluator: str | None = "auto",
            jobs: int = 1, dask_address: str | None = None, progress: bool = True,
            log: Callable[[str], None] = print) -> DseResult:
    import pandas as pd

    from . import costmodel, synth
    from .hwcost import composed_check
    from .pareto import plot_front, select

    if jobs < 1:
        raise ValueError(f"--jobs must be >= 1, got {jobs}")
    out = Path(out_dir) / spec.name
    out.mkdir(parents=True, exist_ok=True)
    evaluator = resolve_evaluator(evaluator)
    notes: list[str] = []
    df_synth = synth.load_results(results_dir or synth.RESULTS_DIR)
    model = costmodel.fit_cached(df_synth, Path(results_dir or synth.RESULTS_DIR) / "cost_model.json")
    check_costable(spec, model)
    rows = cost_rows(spec, model)
    df = pd.DataFrame(rows)
    log(f"{len(spec.points)} design points; hardware cost from {model.source} ({', '.join(sorted(model.units))})")
    objectives = list(spec.objectives)
    ppl_cfg = spec.ppl
    if evaluator == "none" or ppl_cfg["sweep_mode"] == "off":
        why = ("quant.evaluate_ppl not available" if _quant_available() is False else f"evaluator '{evaluator}'") \
            if evaluator == "none" else f"ppl.sweep_mode '{ppl_cfg['sweep_mode']}'"
        notes.append(f"HARDWARE ONLY: no perplexity ({why}); the front is over hardware objectives only")
        objectives = [o for o in objectives if o != "ppl"] or ["lut"]
        if len(objectives) == 1 and objectives[0] != "ff":
            objectives.append("ff")
        log(notes[-1])
    else:
        if evaluator == "quant" and "statistical" in (ppl_cfg["sweep_mode"], ppl_cfg["confirm_mode"]):
            reason = _statistical_unavailable()
            if reason:
                ppl_cfg = {**ppl_cfg, "sweep_mode": "exact" if ppl_cfg["sweep_mode"] == "statistical"
                           else ppl_cfg["sweep_mode"], "confirm": "none"}
                notes.append(f"statistical mode unavailable ({reason}); the sweep uses exact mode, "
                             "so no separate confirmation is needed")
                log("NOTE: " + notes[-1])
        cache = ResultCache(out / "cache.jsonl")
        sweep = evaluate_ppl_many(spec.points, ppl_cfg["sweep_mode"], evaluator, ppl_cfg, cache, jobs, dask_address,
                                  progress)
        df["ppl_" + ppl_cfg["sweep_mode"]] = [sweep.get(p.key(), {}).get("ppl", math.nan) for p in spec.points]
        df["ppl"] = df["ppl_" + ppl_cfg["sweep_mode"]]
        df["ppl_mode"] = ppl_cfg["sweep_mode"]
        confirm_mode = ppl_cfg["confirm_mode"]
        if ppl_cfg["confirm"] != "none" and confirm_mode not in ("off", ppl_cfg["sweep_mode"]):
            col = "ppl_" + confirm_mode
            df[col] = math.nan
            # Re-select after each confirmation round: a confirmed value can move the front, and a point
            # that joins it must be confirmed too.  Stops when every front (or best) point is confirmed.
            for _ in range(len(df)):
                sel = select(df, objectives, spec.weights)
                chosen = sel["best"] if ppl_cfg["confirm"] == "best" else sel["on_front"]
                need = chosen & df[col].isna()
                if not need.any():
                    break
                pts = [p for p, c in zip(spec.points, need) if c]
                conf = evaluate_ppl_many(pts, confirm_mode, evaluator, ppl_cfg, cache, jobs, dask_address,
                                         progress, desc="confirm front")
                for i in df.index[need]:
                    df.loc[i, col] = conf.get(spec.points[i].key(), {}).get("ppl", math.nan)
                    df.loc[i, "ppl"] = df.loc[i, col]
                    df.loc[i, "ppl_mode"] = confirm_mode
            notes.append(f"front confirmed in {confirm_mode} mode ({int(df[col].notna().sum())} point(s)); "
                         f"other points keep their {ppl_cfg['sweep_mode']} perplexity")
    df = select(df, objectives, spec.weights)
    df["evaluator"] = evaluator
    df.to_csv(out / "results.csv", index=False)
    try:
        df.to_parquet(out / "results.parquet", index=False)
    except (ImportError, ValueError) as exc:  # parquet engine missing: CSV is the record
        notes.append(f"parquet not written: {exc}")
    plot_front(df, objectives, [out / "front.png", out / "front.svg"], title=f"A-PACE DSE '{spec.name}'")
    meta = {"name": spec.name, "objectives": objectives, "weights": {o: spec.weights.get(o, 1.0) for o in objectives},
            "evaluator": evaluator, "notes": notes, "points": len(df), "cost_model": model.source,
            "validation": model.validation_rows(), "composed_check": composed_check(model, df_synth),
            "spec": spec.raw,
            "spec_hash": hashlib.sha256(json.dumps(spec.raw, sort_keys=True, default=str).encode()).hexdigest()[:16]}
    (out / "summary.json").write_text(json.dumps(meta, indent=1, default=str))
    return DseResult(df, out, evaluator, objectives, meta["weights"], notes)

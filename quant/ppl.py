"""Perplexity of a causal LM on a text, with the attention emulated (quant.emulate), cached by config.

Windows: window w starts at token w * stride and is at most ctx tokens long; it scores the targets
t in [max(end of the previous window, start + 1), end) from the logits at t - 1, so every token
after the first is scored once, with at least ctx - stride tokens of context after the first window
(and none lost when stride == ctx except the first token of each window, which has no context in
it).  Scoring stops after max_tokens targets (0: whole text); the last window is cut short to the
tokens it needs.  NLL is summed in float64 from the fp32 logits; ppl = exp(sum NLL / tokens).

Caching: the result of a configuration is results/ppl/<hash>.json, hash = quant.config.config_hash of
the normalised configuration (model spec and content key, text spec and content key, ctx, stride,
max_tokens, attention settings that matter for the mode, error model key for 'statistical').
Finished windows are appended to <hash>.partial.jsonl, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import functools
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .config import AttnConfig, PplConfig, config_hash
from .data import load_model, model_key, resolve_model, resolve_text, text_key

_MODELS: dict[str, tuple] = {}
_TOKENS: dict[tuple[str, str], list[int]] = {}


@dataclass
class PplResult:
    """ppl: perplexity; tokens: targets scored; wall_s / cpu_s: seconds of the run that computed it
    (process CPU time, all threads); config_hash: cache key; nll: summed negative log-likelihood (nats);
    cached: read from the cache rather than computed now."""

    ppl: float
    tokens: int
    wall_s: float
    cpu_s: float
    config_hash: str
    nll: float = 0.0
    windows: int = 0
    cached: bool = False
    config: dict = field(default_factory=dict)
    path: str = ""


def results_dir(override: str | os.PathLike | None = None) -> Path:
    """Where results go: `override`, else $APACE_RESULTS/ppl, else ./results/ppl."""
    if override is not None:
        return Path(override)
    return Path(os.environ.get("APACE_RESULTS", "results")) / "ppl"


@functools.lru_cache(maxsize=1)
def load_error_model():
    """The shipped characterisation error model (characterize.error_model.ErrorModel.load()) merged
    with the real-attention-row model of the softmax denominator (quant/data/attn_rows.json, built by
    `python -m quant.rowmodel`; see quant/rowmodel.py), loaded once per process."""
    try:
        from characterize.error_model import ErrorModel
    except ImportError as exc:
        raise ValueError(
            "parameter 'mode': 'statistical' needs the characterisation error model "
            f"(characterize.error_model), which is not available: {exc}"
        ) from None
    from .rowmodel import DEFAULT_PATH as ROWS_PATH

    em = ErrorModel.load()
    if os.path.exists(ROWS_PATH):
        em = em.merge(ErrorModel.load(ROWS_PATH))
    return em


def error_model_key(em) -> str:
    """Identity of an error model for the cache key: its `key` attribute, else a hash of its metadata
    and fitted entry names (characterize.error_model.ErrorModel), else its class name."""
    k = getattr(em, "key", None)
    if k:
        return str(k)
    if hasattr(em, "entries"):
        return config_hash({"meta": getattr(em, "meta", {}), "entries": sorted(em.entries)})
    return type(em).__name__


# what the statistical kernel draws, for the cache key (a change of it changes statistical results for the
# same configuration and error model): 2 = no draws for accumulators at FP32 precision or wider
# (quant.kernels.below_fp32_resolution)
STATISTICAL_KERNEL = 2


def normalised_attn(attn: AttnConfig) -> dict:
    """The attention settings that change the result for its mode (off: none; exact: no seed)."""
    d = attn.to_dict()
    if attn.mode == "off":
        return {"mode": "off"}
    if attn.mode == "exact":
        d.pop("seed")
    return d


def cache_key(cfg: PplConfig, model_dir: Path, error_model=None) -> tuple[str, dict]:
    d = {
        "model": cfg.model,
        "model_key": model_key(model_dir),
        "text": cfg.text,
        "text_key": text_key(cfg.text),
        "ctx": cfg.ctx,
        "stride": cfg.stride,
        "max_tokens": cfg.max_tokens,
        "attn": normalised_attn(cfg.attn),
    }
    if cfg.attn.mode == "statistical":
        d["error_model"] = error_model_key(error_model)
        d["statistical_kernel"] = STATISTICAL_KERNEL
    return config_hash(d), d


def windows(n_tokens: int, ctx: int, stride: int, max_tokens: int) -> list[tuple[int, int, int]]:
    """[(start, first scored target, end)] covering the targets as the module doc says."""
    out = []
    budget = max_tokens if max_tokens > 0 else n_tokens
    prev_end, scored, begin = 0, 0, 0
    while scored < budget and begin < n_tokens - 1:
        first = max(prev_end, begin + 1)
        end = min(begin + ctx, n_tokens, first + (budget - scored))
        if end > first:
            out.append((begin, first, end))
            scored += end - first
            prev_end = end
        begin += stride
    return out


def _model(path: Path):
    key = str(path)
    if key not in _MODELS:
        _MODELS[key] = load_model(path)
    return _MODELS[key]


def _tokens(path: Path, tok, text_spec: str) -> list[int]:
    key = (str(path), text_key(text_spec))
    if key not in _TOKENS:
        _TOKENS[key] = list(tok(resolve_text(text_spec))["input_ids"])
    return _TOKENS[key]


def _window_nll(model, ids, begin: int, first: int, end: int) -> float:
    import torch

    x = torch.tensor([ids[begin:end]])
    with torch.no_grad():
        logits = model(x).logits[0].to(torch.float64)
    lp = torch.log_softmax(logits[first - begin - 1 : end - begin - 1], dim=-1)
    tgt = torch.tensor(ids[first:end])
    return float(-lp.gather(1, tgt[:, None]).sum())


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def evaluate_ppl(
    config: PplConfig,
    *,
    error_model=None,
    results: str | os.PathLike | None = None,
    use_cache: bool = True,
    progress: bool = True,
    threads: int | None = 1,
) -> PplResult:
    """Perplexity of config.model on config.text with the emulated attention config.attn.

    A finished result for the same configuration hash is read from the cache (cached=True).
    threads: torch intra-op threads for the run (None: leave torch's setting); restored afterwards.
    Raises ValueError for a bad configuration (missing model/text, k not dividing head_dim, ...).
    """
    import torch
    from tqdm import tqdm

    from .emulate import emulate, head_dim_of

    if not isinstance(config, PplConfig):
        raise ValueError(f"parameter 'config' must be a PplConfig; got {type(config).__name__}")
    model_dir = resolve_model(config.model)
    resolve_text(config.text)
    if config.attn.mode == "statistical" and error_model is None:
        error_model = load_error_model()
    h, key_dict = cache_key(config, model_dir, error_model)
    out_dir = results_dir(results)
    final = out_dir / f"{h}.json"
    if use_cache and final.exists():
        d = json.loads(final.read_text())
        return PplResult(**{**d["result"], "cached": True, "path": str(final)})

    model, tok = _model(model_dir)
    config.attn.check_head_dim(head_dim_of(model))
    ids = _tokens(model_dir, tok, config.text)
    wins = windows(len(ids), config.ctx, config.stride, config.max_tokens)
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = out_dir / f"{h}.partial.jsonl"
    done: dict[int, dict] = {}
    if use_cache and partial.exists():
        for line in partial.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:  # a line cut by an interruption
                continue
            done[rec["window"]] = rec
    elif partial.exists():
        partial.unlink()

    old_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    t0, c0 = time.perf_counter(), time.process_time()
    prev_wall = sum(r.get("wall_s", 0.0) for r in done.values())
    prev_cpu = sum(r.get("cpu_s", 0.0) for r in done.values())
    try:
        bar = tqdm(total=len(wins), desc=f"ppl {config.attn.mode}", unit="win", disable=not progress)
        bar.update(len(done))
        with emulate(model, config.attn, error_model) as state, open(partial, "a") as fpart:
            for w, (begin, first, end) in enumerate(wins):
                if w in done:
                    continue
                if config.attn.mode == "statistical":  # window-local stream: a resumed run draws the same
                    import numpy as np

                    state.rng = np.random.default_rng([config.attn.seed, w])
                tw, tc = time.perf_counter(), time.process_time()
                nll = _window_nll(model, ids, begin, first, end)
                rec = {"window": w, "begin": begin, "first": first, "end": end, "nll": nll, "n": end - first,
                       "wall_s": time.perf_counter() - tw, "cpu_s": time.process_time() - tc}
                fpart.write(json.dumps(rec) + "\n")
                fpart.flush()
                done[w] = rec
                bar.update(1)
        bar.close()
    finally:
        if threads:
            torch.set_num_threads(old_threads)
    nll = math.fsum(done[w]["nll"] for w in range(len(wins)))
    ntok = sum(done[w]["n"] for w in range(len(wins)))
    if ntok == 0:
        raise ValueError(f"parameter 'text': too short to score any token with ctx={config.ctx}")
    res = PplResult(
        ppl=_exp(nll / ntok),
        tokens=ntok,
        wall_s=prev_wall + time.perf_counter() - t0,
        cpu_s=prev_cpu + time.process_time() - c0,
        config_hash=h,
        nll=nll,
        windows=len(wins),
        config=key_dict,
        path=str(final),
    )
    tmp = final.with_suffix(f".{os.getpid()}.tmp")  # concurrent evaluators of one config: no clash
    tmp.write_text(json.dumps({"result": {k: v for k, v in asdict(res).items() if k not in ("cached", "path")},
                               "config": key_dict}, indent=1))
    tmp.replace(final)
    partial.unlink(missing_ok=True)
    return res

"""The statistical mode's model of softmax-denominator errors, fitted on real attention rows.

The generic characterisation distribution 'softmax' (exp(z - max z), z ~ N(0, 1)) has many terms
near 1; real attention rows are far more peaked (often one 'sink' key near 1 at position 0 and most
numerators near 0), and a narrow naive accumulator stagnates very differently on them.  So the
softmax denominator's error is modelled on rows captured from the real model:

  1. capture: run the default model (SmolLM2-135M) on the *calibration* half of Pride and Prejudice
     (never the held-out half the perplexity runs score) in windows of `ctx` tokens with fp32
     attention; from every attention call keep `per_call` query rows (random head, query positions
     drawn log-uniformly so that short and long rows are equally represented) of softmax numerators
     e_j = FP32(exp(s_j - max s)) over the whole key axis (masked keys are exact zeros, as in exact mode);
  2. fit: for every accumulator configuration of the shipped characterisation model, golden.accumulate
     each row (in key order, zeros included) and fit characterize.error_model.RowEntry: quantiles of
     (computed - sum) / (u * sum) per (n, n_eff = sum / max) cell; the last window's rows are held out
     and checked (RowEntry.holdout);
  3. save as quant/data/attn_rows.json (dist 'attn_softmax'); quant.ppl.load_error_model merges it
     into the shipped characterisation model.

Regenerate with `python -m quant.rowmodel` (about 10 CPU-minutes; `--help` for options).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

DEFAULT_PATH = os.path.join(os.path.dirname(__file__), "data", "attn_rows.json")
CALIB_TEXT = "austen:prideprejudice:calib"


def capture_rows(model_spec: str | None = None, text: str = CALIB_TEXT, ctx: int = 512, windows: int = 6,
                 per_call: int = 64, seed: int = 0, progress: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows (R, ctx) float64 numerators, n (R,) allowed keys per row, window index (R,))."""
    import torch
    from tqdm import tqdm

    from . import emulate as emu
    from . import kernels
    from .config import AttnConfig
    from .data import load_model, resolve_model, resolve_text

    model, tok = load_model(resolve_model(model_spec))
    ids = tok(resolve_text(text))["input_ids"]
    if len(ids) < windows * ctx:
        raise ValueError(f"parameter 'windows': the text has {len(ids)} tokens, fewer than windows x ctx = {windows * ctx}")
    rng = np.random.default_rng(seed)
    got: list[tuple[np.ndarray, np.ndarray, int]] = []
    cur = {"w": 0}
    cfg = AttnConfig(mode="statistical")
    orig = emu.attention_statistical

    def capture(q, k, v, scaling, allowed, bias, c, model_, rng_):
        s = kernels._scores(q, kernels._repeat_kv(k, q.shape[1]), scaling, bias, kernels._mm32)
        e, count = kernels._softmax_parts(s, allowed, cfg)
        B, H, Sq, Sk = e.shape
        pos = np.minimum(np.floor(np.exp(rng.uniform(0, np.log(Sq), per_call))).astype(np.int64), Sq - 1)
        b = rng.integers(0, B, per_call)
        h = rng.integers(0, H, per_call)
        cnt = np.broadcast_to(count, e.shape[:-1])
        got.append((e[b, h, pos], cnt[b, h, pos], cur["w"]))
        return orig(q, k, v, scaling, allowed, bias, c, None, rng_)

    step = len(ids) // windows
    emu.attention_statistical = capture
    try:
        with emu.emulate(model, cfg, None):
            for w in tqdm(range(windows), desc="capture attention rows", disable=not progress):
                cur["w"] = w
                x = torch.tensor([ids[w * step : w * step + ctx]])
                with torch.no_grad():
                    model(x)
    finally:
        emu.attention_statistical = orig
    rows = np.concatenate([g[0] for g in got])
    n = np.concatenate([g[1] for g in got]).astype(np.int64)
    win = np.concatenate([np.full(len(g[0]), g[2]) for g in got])
    return rows, n, win


def shipped_configs() -> list[tuple[str, str, str, str | None]]:
    """(scheme, order, acc, comp) of every configuration in the shipped characterisation model."""
    from characterize.error_model import ErrorModel

    out = []
    for c in ErrorModel.load().configs():
        scheme, order, acc, comp = c.split("|")
        out.append((scheme, order, "E5M3-ieee" if acc == "E5M3" else acc,
                    None if comp == "-" else ("E5M3-ieee" if comp == "E5M3" else comp)))
    return out


def build(path: str = DEFAULT_PATH, ctx: int = 512, windows: int = 6, per_call: int = 64, seed: int = 0,
          progress: bool = True):
    from characterize.error_model import fit_rows

    t0 = time.process_time()
    rows, n, win = capture_rows(ctx=ctx, windows=windows, per_call=per_call, seed=seed, progress=progress)
    held = win == win.max()
    model = fit_rows(rows, n, shipped_configs(), held=held, progress=progress)
    model.meta.update({"command": "python -m quant.rowmodel", "text": CALIB_TEXT, "ctx": ctx, "windows": windows,
                       "per_call": per_call, "seed": seed, "held_out": "rows of the last window"})
    model.save(path)
    hs = [e.holdout for e in model.entries.values() if e.holdout]
    npts, npass = sum(h["points"] for h in hs), sum(h["points_pass"] for h in hs)
    print(f"row model: {len(rows)} rows ({int(held.sum())} held out), {len(model.entries)} configurations, "
          f"held-out spread within 20 %: {npass}/{npts} points; {time.process_time() - t0:.0f} CPU-s; written {path}")
    return model


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m quant.rowmodel", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_PATH)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--windows", type=int, default=6)
    ap.add_argument("--per-call", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    build(a.out, a.ctx, a.windows, a.per_call, a.seed, progress=not a.quiet)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

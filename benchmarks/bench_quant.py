"""quant/ speed, measured side by side in one run on one torch thread and one BLAS thread (CPU seconds,
best of N):

  1. one attention call: exact-mode emulation vs plain attention (torch sdpa; also the eager
     matmul-softmax-matmul formulation), real SmolLM2 shapes (9 query heads sharing 3 key-value
     heads), random Q, K, V (target <= 10x); every row is timed in alternation with the others (one
     call of each per round, best of the rounds), with Python's cyclic garbage collector paused while
     timing, as timeit does
  2. one model forward (the shipped SmolLM2, ctx tokens): exact mode vs unpatched
  3. one model forward: statistical mode vs unpatched (target <= 1.5x); the unpatched and statistical
     forwards are timed in alternation (best of --repeat rounds), so load changes hit both alike

Usage: python benchmarks/bench_quant.py [--ctx 128] [--repeat 3] [--statistical-only]
(--statistical-only: only the plain / unpatched baselines and the statistical rows)
Needs the shipped model (scripts/setup.sh); the statistical row uses the shipped error model
(characterize/data/error_model.json.gz) or, if it is absent, a stand-in with the same interface
(normal errors of size u*sum|x|*sqrt(n)); the row says which.
"""

from __future__ import annotations

import argparse
import gc
import os
import time

# one BLAS thread too (numpy's float64 matmuls in exact mode): CPU time then compares like for like with
# the one-thread torch baseline, instead of counting a second thread's spinning
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

EXACT_CONFIGS = {
    "MXFP8 E4M3 k=32, FP32 naive": dict(qk={"elem": "E4M3"}, pv={"elem": "E4M3"}),
    "MXFP8 + E5M3 kahan sum/PV (k=4)": dict(qk={"elem": "E4M3"}, pv={"elem": "E4M3", "k": 4},
                                            acc_sum={"scheme": "kahan", "acc": "E5M3-ieee"},
                                            acc_pv={"scheme": "kahan", "acc": "E5M3-ieee"}),
    "no MX, FP32 naive (all stages)": dict(),
}


class _StandInErrorModel:
    key = "bench-stand-in"

    def sample(self, *, scheme, order, acc, comp, dist, n, sum_abs, rng, max_abs=None):
        from golden.formats import parse_format

        u = 2.0 ** -(parse_format(acc).m + 1)
        return sum_abs * u * np.sqrt(n) * rng.standard_normal(np.shape(sum_abs))


def best(fn, repeat: int) -> float:
    """Best CPU time (s) of `repeat` calls (after one warm-up call)."""
    return best_interleaved({"f": fn}, repeat)["f"]


def best_interleaved(fns: dict, rounds: int) -> dict:
    """Best CPU time (s) of each function over `rounds` rounds, each round calling every function once
    in turn (after one warm-up call each), so that a change of machine speed during the run reaches all
    of them alike.  The cyclic garbage collector is paused while timing (as timeit does): a full
    collection of the loaded model's objects takes tens of ms and would land on whichever call it hit."""
    for fn in fns.values():
        fn()
    out = {name: [] for name in fns}
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for name, fn in fns.items():
                c = time.process_time()
                fn()
                out[name].append(time.process_time() - c)
    finally:
        if was:
            gc.enable()
    return {name: min(t) for name, t in out.items()}


def main() -> None:
    import torch

    from quant.config import AttnConfig
    from quant.data import load_model, resolve_model, resolve_text
    from quant.emulate import emulate
    from quant.kernels import attention_exact, attention_statistical

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ctx", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--statistical-only", action="store_true", help="skip the exact-mode rows")
    a, _ = ap.parse_known_args()
    exact_configs = {} if a.statistical_only else EXACT_CONFIGS
    torch.set_num_threads(1)
    model, tok = load_model(resolve_model())
    ids = torch.tensor([tok(resolve_text())["input_ids"][: a.ctx]])
    c = model.config
    H, D = c.num_attention_heads, c.head_dim if getattr(c, "head_dim", None) else c.hidden_size // c.num_attention_heads
    Hkv = getattr(c, "num_key_value_heads", None) or H
    S = a.ctx
    rng = np.random.default_rng(0)
    # the model's own shapes: H query heads sharing Hkv key / value heads (grouped-query attention)
    q, k, v = (rng.standard_normal((1, h, S, D)).astype(np.float32) for h in (H, Hkv, Hkv))
    tq, tk, tv = (torch.from_numpy(x) for x in (q, k, v))
    q64, k64, v64 = (x.astype(np.float64) for x in (q, k, v))
    allowed = np.tril(np.ones((S, S), bool))[None, None]
    allowed.flags.writeable = False  # as quant.emulate passes it: one shared read-only causal mask per shape

    try:
        from quant.ppl import load_error_model

        em, em_name = load_error_model(), "shipped error model"
    except ValueError:
        em, em_name = _StandInErrorModel(), "stand-in error model (shipped one absent)"

    print(f"quant benchmark: SmolLM2-135M, {S} tokens, {H} query heads / {Hkv} key-value heads x head_dim {D}, "
          f"1 torch and 1 BLAS thread, CPU s (best of {a.repeat})")
    # one attention call is short: best of max(20, 4 x repeat) rounds, so that every row reaches its
    # floor; the rows are timed in alternation (one call of each per round)
    n_call = max(20, 4 * a.repeat)
    causal_bias = torch.triu(torch.full((S, S), float("-inf")), 1)

    n_rep = H // Hkv

    def repeat_kv(x):  # transformers' repeat_kv
        return x if n_rep == 1 else x[:, :, None].expand(1, Hkv, n_rep, S, D).reshape(1, H, S, D)

    def eager():  # transformers' eager_attention_forward: repeat_kv, matmul, additive causal mask, fp32 softmax, matmul
        w = torch.matmul(tq, repeat_kv(tk).transpose(2, 3)) * D**-0.5 + causal_bias
        return torch.matmul(torch.softmax(w, dim=-1, dtype=torch.float32), repeat_kv(tv))

    # transformers' sdpa_attention_forward without a mask on the CPU: is_causal and enable_gqa
    calls = {"sdpa": lambda: torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=True,
                                                                                enable_gqa=n_rep > 1),
             "eager": eager}
    for name, kw in exact_configs.items():
        cfg = AttnConfig(mode="exact", **kw)
        calls["exact: " + name] = lambda cfg=cfg: attention_exact(q64, k64, v64, D**-0.5, allowed, None, cfg)
    stat_cfg = AttnConfig(mode="statistical", **EXACT_CONFIGS["MXFP8 E4M3 k=32, FP32 naive"])
    # float32 Q, K, V as quant.emulate passes them to the statistical kernel (exact mode: float64)
    calls["statistical"] = lambda: attention_statistical(q, k, v, D**-0.5, allowed, None, stat_cfg, em, rng)
    t_call = best_interleaved(calls, n_call)
    t_sdpa, t_eager = t_call["sdpa"], t_call["eager"]
    print(f"\n1. one attention call (best of {n_call} rounds, rows in alternation; ratios to sdpa, in brackets to eager)")
    print(f"   {'plain (torch sdpa, fp32)':40s} {t_sdpa * 1e3:9.2f} ms   1.0x")
    print(f"   {'plain (eager: matmul-softmax-matmul)':40s} {t_eager * 1e3:9.2f} ms {t_eager / t_sdpa:7.1f}x")
    for name in exact_configs:
        t = t_call["exact: " + name]
        print(f"   {'exact: ' + name:40s} {t * 1e3:9.2f} ms {t / t_sdpa:7.1f}x  ({t / t_eager:4.1f}x)   (target <= 10x)")
    t = t_call["statistical"]
    print(f"   {'statistical: MXFP8 (' + em_name[:10] + ')':40s} {t * 1e3:9.2f} ms {t / t_sdpa:7.1f}x")

    def fwd():
        with torch.no_grad():
            model(ids)

    # the unpatched and the statistical forwards are timed interleaved (one of each per round, best of
    # the rounds), so that a change of machine load between them does not skew the ratio
    stat_names = ("MXFP8 E4M3 k=32, FP32 naive", "MXFP8 + E5M3 kahan sum/PV (k=4)")
    runs = {None: []} | {n: [] for n in stat_names}

    def timed(name, keep=True):
        if name is None:
            c = time.process_time()
            fwd()
        else:
            with emulate(model, AttnConfig(mode="statistical", **EXACT_CONFIGS[name]), em):
                c = time.process_time()
                fwd()
        if keep:
            runs[name].append(time.process_time() - c)

    for name in runs:
        timed(name, keep=False)  # warm-up
    for _ in range(a.repeat):
        for name in runs:
            timed(name)
    t_base = min(runs[None])
    print("\n2./3. one model forward")
    print(f"   {'unpatched (sdpa)':40s} {t_base:9.3f} s    1.0x")
    for name, kw in exact_configs.items():
        with emulate(model, AttnConfig(mode="exact", **kw)):
            t = best(fwd, max(1, a.repeat - 1))
        print(f"   {'exact: ' + name:40s} {t:9.3f} s  {t / t_base:6.2f}x")
    for name in stat_names:
        t = min(runs[name])
        print(f"   {'statistical: ' + name:40s} {t:9.3f} s  {t / t_base:6.2f}x   (target <= 1.5x)")
    print(f"   statistical rows use the {em_name}")


if __name__ == "__main__":
    main()

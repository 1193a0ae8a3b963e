"""`apace ppl`: perplexity of a causal LM with each attention stage's numerics emulated (quant/).

Prints ppl, tokens scored, wall and CPU time and the result file; results are cached under
results/ppl/<config hash>.json (a rerun with the same configuration reads the cache).
"""

from __future__ import annotations

import argparse
import json

STAGE_HELP = {
    "qk": "stage 1: Q and K (MX blocks along head_dim)",
    "scores": "stage 2: scores entering softmax (MX blocks along the key axis)",
    "pv": "stage 3: P and V (MX blocks along the key axis)",
}
ACC_HELP = {"qk": "Q.K^T", "sum": "the softmax denominator", "pv": "P.V"}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "ppl",
        help="perplexity with emulated attention numerics (off / exact / statistical)",
        description=__doc__,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--model", default=None, help="'smollm2' (shipped GGUF, converted once), a .gguf file or a "
                   "local Hugging Face checkpoint directory [default: smollm2]")
    p.add_argument("--text", default=None, help="'austen[:book[:heldout|calib|all]]' or a text file / wikitext "
                   "directory [default: austen = Pride and Prejudice, held-out half]")
    p.add_argument("--ctx", type=int, default=None, help="context length in tokens [default: 512]")
    p.add_argument("--stride", type=int, default=None, help="tokens between window starts [default: ctx]")
    p.add_argument("--max-tokens", type=int, default=None, help="scored tokens (0: whole text) [default: 1024]")
    p.add_argument("--mode", choices=("off", "exact", "statistical"), default=None,
                   help="[default: exact if any stage/accumulator setting is given, else off]")
    p.add_argument("--config", default=None, help="YAML file with PplConfig fields (model, text, ctx, stride, "
                   "max_tokens, attn: {mode, qk, scores, pv, acc_qk, acc_sum, acc_pv, seed}); flags override it")
    for st, h in STAGE_HELP.items():
        g = p.add_argument_group(h)
        g.add_argument(f"--{st}-elem", default=None, help="element format: none, E4M3, E5M2, E2M1, E3M2, E2M3, "
                       "INT8, INT4, E<e>M<m>[-ieee|-fn|-finite] [default: none]")
        g.add_argument(f"--{st}-k", type=int, default=None, help="MX block size (power of two) [default: 32]")
        g.add_argument(f"--{st}-scale-rule", choices=("ocp", "ceil"), default=None, help="[default: ocp]")
    for a, h in ACC_HELP.items():
        g = p.add_argument_group(f"accumulator of {h}")
        g.add_argument(f"--acc-{a}-scheme", default=None,
                       help="naive, kahan, neumaier, twosum, fasttwosum, klein, kulisch [default: naive]")
        g.add_argument(f"--acc-{a}-acc", default=None, help="accumulator format [default: FP32]")
        g.add_argument(f"--acc-{a}-comp", default=None, help="compensation format [default: the acc format]")
        g.add_argument(f"--acc-{a}-order", choices=("sequential", "pairwise"), default=None,
                       help="[default: sequential]")
    p.add_argument("--seed", type=int, default=None, help="statistical-mode sampling seed [default: 0]")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--results", default=None, help="result directory [default: results/ppl]")
    p.add_argument("--no-cache", action="store_true", help="recompute even if a cached result exists")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def build_config(args):
    """PplConfig from the YAML file (if any) overridden by the flags."""
    from quant.config import PplConfig

    d: dict = {}
    if args.config:
        import yaml

        try:
            with open(args.config) as f:
                d = yaml.safe_load(f) or {}
        except OSError as exc:
            raise ValueError(f"parameter '--config': cannot read {args.config!r}: {exc}") from None
        if not isinstance(d, dict):
            raise ValueError(f"parameter '--config': {args.config!r} must hold a mapping of PplConfig fields")
    allowed = {"model", "text", "ctx", "stride", "max_tokens", "attn"}
    bad = set(d) - allowed
    if bad:
        raise ValueError(f"parameter '--config': unknown keys {sorted(bad)}; allowed: {sorted(allowed)}")
    attn = dict(d.get("attn") or {})
    attn = {k: (dict(v) if isinstance(v, dict) else v) for k, v in attn.items()}
    for key in ("model", "text", "ctx", "stride", "max_tokens"):
        v = getattr(args, key)
        if v is not None:
            d[key] = v
    if args.stride is None and "stride" not in d and "ctx" in d:
        d["stride"] = d["ctx"]
    if args.mode is not None:
        attn["mode"] = args.mode
    if args.seed is not None:
        attn["seed"] = args.seed
    for st in STAGE_HELP:
        for fld in ("elem", "k", "scale_rule"):
            v = getattr(args, f"{st}_{fld}")
            if v is not None:
                attn.setdefault(st, {})[fld] = v
    for a in ACC_HELP:
        for fld in ("scheme", "acc", "comp", "order"):
            v = getattr(args, f"acc_{a}_{fld}")
            if v is not None:
                attn.setdefault(f"acc_{a}", {})[fld] = v
    attn.setdefault("mode", "exact" if set(attn) - {"seed"} else "off")
    d["attn"] = attn
    try:
        return PplConfig(**d)
    except TypeError as exc:
        raise ValueError(f"parameter '--config': {exc}") from None


def run(args) -> int:
    from quant import evaluate_ppl

    cfg = build_config(args)
    res = evaluate_ppl(cfg, results=args.results, use_cache=not args.no_cache, progress=not args.quiet,
                       threads=args.threads)
    if args.json:
        print(json.dumps({"ppl": res.ppl, "tokens": res.tokens, "wall_s": res.wall_s, "cpu_s": res.cpu_s,
                          "config_hash": res.config_hash, "cached": res.cached, "path": res.path}))
        return 0
    src = "cached" if res.cached else "computed"
    print(f"ppl {res.ppl:.4f}  tokens {res.tokens}  wall {res.wall_s:.1f} s  cpu {res.cpu_s:.1f} s  ({src})")
    print(f"result: {res.path}")
    return 0

"""quant/: attention numerics emulated inside a real LLaMA-architecture model -> perplexity.

    from quant import PplConfig, AttnConfig, evaluate_ppl
    res = evaluate_ppl(PplConfig(ctx=256, stride=256, max_tokens=1024,
                                 attn=AttnConfig(mode="exact", qk={"elem": "E4M3", "k": 32})))

See docs/quant.md.
"""

from .config import AccSpec, AttnConfig, PplConfig, StageFormat, config_hash
from .ppl import PplResult, evaluate_ppl

__all__ = ["AccSpec", "AttnConfig", "PplConfig", "PplResult", "StageFormat", "config_hash", "evaluate_ppl"]

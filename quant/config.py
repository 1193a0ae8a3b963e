"""Configuration dataclasses for the attention emulation and perplexity runs.

Attention has three stages, each with an element format and MX block size:
    stage 1 'qk'     : Q and K, MX blocks along head_dim (k must divide head_dim)
    stage 2 'scores' : the scores entering softmax, MX blocks along the key axis
    stage 3 'pv'     : P (softmax output) and V, MX blocks along the key axis (the P.V reduction axis)
and three reductions, each with an accumulator (scheme, format, compensation format, order):
    'acc_qk' (Q.K^T), 'acc_sum' (softmax denominator), 'acc_pv' (P.V).
Element format 'none' means no MX quantisation (the fp32 values enter as they are).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache

from golden.accumulate import ORDERS, SCHEMES
from golden.formats import FloatFormat, parse_format
from golden.mx import SCALE_RULES, check_elem_k, check_k

MODES = ("off", "exact", "statistical")
STAGES = ("qk", "scores", "pv")
ACCS = ("acc_qk", "acc_sum", "acc_pv")
CONFIG_VERSION = 1


def _fmt(name: str, value: str, allow_none: bool) -> FloatFormat | None:
    if allow_none and str(value).lower() == "none":
        return None
    try:
        return _parse_name(value) if isinstance(value, str) else parse_format(value)
    except ValueError as exc:
        raise ValueError(f"parameter '{name}': {exc}") from None


@lru_cache(maxsize=256)  # formats are read on every attention call (StageFormat.fmt, AccSpec.acc_fmt)
def _parse_name(value: str) -> FloatFormat:
    return parse_format(value)


@dataclass(frozen=True)
class StageFormat:
    """One stage's element format ('none' or a golden format name: 'E4M3', 'E2M1', 'E3M4-ieee', 'INT8'),
    MX block size k (power of two) and scale rule ('ocp' or 'ceil')."""

    elem: str = "none"
    k: int = 32
    scale_rule: str = "ocp"

    def validate(self, name: str) -> None:
        f = _fmt(f"{name}.elem", self.elem, allow_none=True)
        try:
            check_k(self.k)
        except ValueError as exc:
            raise ValueError(f"parameter '{name}.k': {exc}") from None
        if f is not None:
            try:  # golden's exact block sums cover this element format and k?
                check_elem_k(f, f, self.k)
            except ValueError as exc:
                raise ValueError(f"parameter '{name}.elem': {exc}; use a narrower element format") from None
        if self.scale_rule not in SCALE_RULES:
            raise ValueError(f"parameter '{name}.scale_rule' must be one of {', '.join(SCALE_RULES)}; got {self.scale_rule!r}")

    @property
    def fmt(self) -> FloatFormat | None:
        return _fmt("elem", self.elem, allow_none=True)


@dataclass(frozen=True)
class AccSpec:
    """One reduction's accumulator: scheme (golden.accumulate.SCHEMES), format, compensation format
    (None: same as acc) and order ('sequential' or 'pairwise')."""

    scheme: str = "naive"
    acc: str = "FP32"
    comp: str | None = None
    order: str = "sequential"

    def validate(self, name: str) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(f"parameter '{name}.scheme' must be one of {', '.join(SCHEMES)}; got {self.scheme!r}")
        if self.order not in ORDERS:
            raise ValueError(f"parameter '{name}.order' must be one of {', '.join(ORDERS)}; got {self.order!r}")
        for fname in ("acc", "comp"):
            v = getattr(self, fname)
            if v is None:
                continue
            f = _fmt(f"{name}.{fname}", v, allow_none=False)
            if f.is_int:
                raise ValueError(f"parameter '{name}.{fname}' must be a floating-point format, not {v!r}")

    @property
    def acc_fmt(self) -> FloatFormat:
        return parse_format(self.acc)

    @property
    def comp_fmt(self) -> FloatFormat | None:
        return None if self.comp is None else parse_format(self.comp)


@dataclass(frozen=True)
class AttnConfig:
    """What the emulated attention does; see the module doc.  seed drives statistical-mode sampling."""

    mode: str = "exact"
    qk: StageFormat = field(default_factory=StageFormat)
    scores: StageFormat = field(default_factory=StageFormat)
    pv: StageFormat = field(default_factory=StageFormat)
    acc_qk: AccSpec = field(default_factory=AccSpec)
    acc_sum: AccSpec = field(default_factory=AccSpec)
    acc_pv: AccSpec = field(default_factory=AccSpec)
    seed: int = 0

    def __post_init__(self) -> None:
        for name in STAGES:
            v = getattr(self, name)
            if isinstance(v, dict):
                object.__setattr__(self, name, _build(StageFormat, v, name))
        for name in ACCS:
            v = getattr(self, name)
            if isinstance(v, dict):
                object.__setattr__(self, name, _build(AccSpec, v, name))
        self.validate()

    def validate(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"parameter 'mode' must be one of {', '.join(MODES)}; got {self.mode!r}")
        for name in STAGES:
            getattr(self, name).validate(name)
        for name in ACCS:
            getattr(self, name).validate(name)

    def check_head_dim(self, head_dim: int) -> None:
        """Stage 1 blocks run along head_dim, so its k must divide it."""
        if self.qk.fmt is not None and head_dim % self.qk.k:
            raise ValueError(f"parameter 'qk.k' (={self.qk.k}) must divide the model's head_dim (={head_dim})")

    def to_dict(self) -> dict:
        return asdict(self)


def _build(cls, d: dict, name: str):
    allowed = {f.name for f in fields(cls)}
    bad = set(d) - allowed
    if bad:
        raise ValueError(f"parameter '{name}' has unknown keys {sorted(bad)}; allowed: {sorted(allowed)}")
    return cls(**d)


@dataclass(frozen=True)
class PplConfig:
    """A perplexity run: model ('smollm2' or a checkpoint dir), text ('austen[:book[:part]]' or a file),
    context length ctx, stride (tokens between window starts; the last ctx-stride... see docs), a budget
    of max_tokens scored tokens (0: the whole text), and the attention emulation `attn`."""

    model: str = "smollm2"
    text: str = "austen"
    ctx: int = 512
    stride: int = 512
    max_tokens: int = 1024
    attn: AttnConfig = field(default_factory=lambda: AttnConfig(mode="off"))

    def __post_init__(self) -> None:
        if isinstance(self.attn, dict):
            object.__setattr__(self, "attn", AttnConfig(**self.attn))
        for name in ("ctx", "stride"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 2:
                raise ValueError(f"parameter '{name}' must be an integer >= 2; got {v!r}")
        if self.stride > self.ctx:
            raise ValueError(f"parameter 'stride' (={self.stride}) must be <= ctx (={self.ctx})")
        if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int) or self.max_tokens < 0:
            raise ValueError(f"parameter 'max_tokens' must be an integer >= 0 (0: whole text); got {self.max_tokens!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    def with_attn(self, **kw) -> PplConfig:
        return replace(self, attn=replace(self.attn, **kw))


def config_hash(d: dict) -> str:
    """Stable short hash of a JSON-able configuration dict."""
    blob = json.dumps({"version": CONFIG_VERSION, **d}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]

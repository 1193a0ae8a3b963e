"""The DSE spec: a YAML file where every list is a sweep, validated into concrete design points.

    name: default                 # results go to <out>/<name>/
    model: smollm2                # quant model spec (name or local HF checkpoint path); may be a list
    text: austen                  # quant text spec; may be a list
    ppl: {tokens: 2048, seq_len: 256, sweep_mode: statistical, confirm_mode: exact, confirm: front}
    parallelism:                  # units per query row, per stage (stage-level cost = count x unit cost)
      qk: {dot_units: 2, accumulators: 1}
      scores: {accumulators: 1}   # softmax denominator accumulators (exp units are not modelled)
      pv: {dot_units: 2, accumulators: 1}
    stages:                       # per attention stage (quant's names); lists are swept (Cartesian product)
      qk: {elem: [E4M3, E2M1], k: 32, acc: [BF16, FP32], scheme: [naive, kahan], length: 64}
      scores: {elem: none, k: 32, acc: FP32, scheme: naive, length: 256}
      pv: {elem: E4M3, k: 32, acc: FP32, scheme: naive, length: 256}
    objectives: [lut, ppl]        # minimised; any of lut, ff, carry, dsp, ppl
    weights: {lut: 1, ppl: 1}     # best-candidate rule, see apace.pareto

Stages left out keep quant's defaults (no quantisation, FP32 naive accumulation) and cost nothing.
`elem` / `acc` are golden format names (parse_format: 'E4M3', 'BF16', 'E3M4-ieee', 'INT8', ...),
`k` the MX block size (power of two dividing `length`, the dot-product length of that stage),
`scheme` one of golden.accumulate.SCHEMES.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from golden.accumulate import SCHEMES
from golden.formats import FormatError, parse_format

# Same names as quant/: 'qk' (Q.K^T: MX dot units + acc_qk), 'scores' (softmax input format + the
# softmax denominator accumulator acc_sum), 'pv' (P.V: MX dot units + acc_pv).
STAGES = ("qk", "scores", "pv")
ACC_OF_STAGE = {"qk": "acc_qk", "scores": "acc_sum", "pv": "acc_pv"}
STAGE_KEYS = ("elem", "k", "acc", "scheme", "length")
PPL_MODES = ("off", "exact", "statistical")
OBJECTIVES = ("lut", "ff", "carry", "dsp", "ppl")
TOP_KEYS = ("name", "model", "text", "ppl", "parallelism", "stages", "objectives", "weights", "description")
PPL_KEYS = ("tokens", "seq_len", "sweep_mode", "confirm_mode", "confirm", "seed")
PAR_KEYS = ("dot_units", "accumulators")
# Element formats the MX RTL supports (mx_elem_decode: EW 0..5, MW 1..10).
ELEM_E_RANGE = (0, 5)
ELEM_M_RANGE = (1, 10)


class SpecError(ValueError):
    """The DSE spec is invalid; the message names the key and the allowed values."""


@dataclass(frozen=True)
class StagePoint:
    """One stage of one design point: element format, MX block size, accumulator format and scheme."""

    elem: str
    k: int
    acc: str
    scheme: str
    length: int


@dataclass(frozen=True)
class DesignPoint:
    stages: tuple[tuple[str, StagePoint], ...]
    model: str
    text: str

    def stage(self, name: str) -> StagePoint:
        return dict(self.stages)[name]

    def to_dict(self) -> dict:
        return {"model": self.model, "text": self.text, "stages": {n: asdict(s) for n, s in self.stages}}

    def label(self) -> str:
        return " | ".join(f"{n}:{s.elem}/k{s.k}/{s.acc}/{s.scheme}" for n, s in self.stages)

    def key(self, extra: Mapping | None = None) -> str:
        payload = json.dumps([self.to_dict(), dict(extra or {})], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:20]


@dataclass
class Spec:
    name: str
    points: list[DesignPoint]
    ppl: dict = field(default_factory=dict)
    parallelism: dict = field(default_factory=dict)
    objectives: list[str] = field(default_factory=lambda: ["lut", "ppl"])
    weights: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)


def _as_list(v) -> list:
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _check_keys(d: Mapping, allowed: tuple[str, ...], where: str) -> None:
    if not isinstance(d, Mapping):
        raise SpecError(f"{where} must be a mapping with keys from {list(allowed)}, got {type(d).__name__}")
    bad = sorted(set(d) - set(allowed))
    if bad:
        raise SpecError(f"{where}: unknown key(s) {bad}; allowed: {list(allowed)}")


def _check_format(v, where: str, elem: bool) -> str:
    if elem and str(v).lower() == "none":
        return "none"
    try:
        fmt = parse_format(v)
    except (FormatError, ValueError, TypeError) as exc:
        raise SpecError(f"{where}: {exc}") from None
    if elem:
        if not (ELEM_E_RANGE[0] <= fmt.e <= ELEM_E_RANGE[1] and ELEM_M_RANGE[0] <= fmt.m <= ELEM_M_RANGE[1]):
            raise SpecError(f"{where}: element format {v!r} (e={fmt.e}, m={fmt.m}) is outside the MX RTL's "
                            f"range e in {ELEM_E_RANGE[0]}..{ELEM_E_RANGE[1]}, m in {ELEM_M_RANGE[0]}..{ELEM_M_RANGE[1]}")
    elif fmt.is_int:
        raise SpecError(f"{where}: accumulator format {v!r} must be a floating-point format (e >= 1), not an integer")
    return str(v)


def _check_stage(name: str, d: Mapping) -> list[StagePoint]:
    _check_keys(d, STAGE_KEYS, f"stages.{name}")
    missing = [k for k in STAGE_KEYS if k not in d]
    if missing:
        raise SpecError(f"stages.{name}: missing key(s) {missing}; each stage needs {list(STAGE_KEYS)}")
    lists = {}
    for key in STAGE_KEYS:
        vals = _as_list(d[key])
        if not vals:
            raise SpecError(f"stages.{name}.{key}: empty list (give at least one value)")
        lists[key] = vals
    for v in lists["scheme"]:
        if v not in SCHEMES:
            raise SpecError(f"stages.{name}.scheme: unknown scheme {v!r}; allowed: {list(SCHEMES)}")
    for key in ("k", "length"):
        for v in lists[key]:
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise SpecError(f"stages.{name}.{key}: must be a positive integer, got {v!r}")
    for v in lists["k"]:
        if v & (v - 1) or not 2 <= v <= 64:
            raise SpecError(f"stages.{name}.k: MX block size must be a power of two in 2..64, got {v}")
    if name != "scores" and "none" in [str(v).lower() for v in lists["elem"]]:
        raise SpecError(f"stages.{name}.elem: 'none' (unquantised) has no MX hardware to cost; give an MX element format")
    lists["elem"] = [_check_format(v, f"stages.{name}.elem", True) for v in lists["elem"]]
    lists["acc"] = [_check_format(v, f"stages.{name}.acc", False) for v in lists["acc"]]
    out = []
    for elem, k, acc, scheme, length in itertools.product(*(lists[k] for k in STAGE_KEYS)):
        if length % k:
            raise SpecError(f"stages.{name}: k={k} does not divide length={length} (k must divide the dot-product length)")
        out.append(StagePoint(elem, k, acc, scheme, length))
    return out


def load_spec(source: str | Path | Mapping) -> Spec:
    """Parse and validate a spec (path to YAML or an already-loaded mapping); expand every sweep."""
    import yaml

    if isinstance(source, Mapping):
        raw = dict(source)
    else:
        path = Path(source)
        if not path.exists():
            raise SpecError(f"spec file {str(path)!r} does not exist")
        try:
            raw = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise SpecError(f"spec file {str(path)!r} is not valid YAML: {exc}") from None
    _check_keys(raw, TOP_KEYS, "spec")
    if "stages" not in raw or not raw["stages"]:
        raise SpecError(f"spec: 'stages' is required (a mapping of stage name -> settings; stages: {list(STAGES)})")
    _check_keys(raw["stages"], STAGES, "stages")
    ppl = dict(raw.get("ppl") or {})
    _check_keys(ppl, PPL_KEYS, "ppl")
    ppl.setdefault("sweep_mode", "statistical")
    ppl.setdefault("confirm_mode", "exact")
    ppl.setdefault("confirm", "front")
    for key in ("sweep_mode", "confirm_mode"):
        if ppl[key] not in PPL_MODES:
            raise SpecError(f"ppl.{key}: must be one of {list(PPL_MODES)}, got {ppl[key]!r}")
    if ppl["confirm"] not in ("front", "best", "none"):
        raise SpecError(f"ppl.confirm: must be one of ['front', 'best', 'none'], got {ppl['confirm']!r}")
    for key in ("tokens", "seq_len"):
        if key in ppl and (isinstance(ppl[key], bool) or not isinstance(ppl[key], int) or ppl[key] < 2):
            raise SpecError(f"ppl.{key}: must be an integer >= 2, got {ppl[key]!r}")
    par = dict(raw.get("parallelism") or {})
    _check_keys(par, STAGES, "parallelism")
    for st in raw["stages"]:
        sp = dict(par.get(st) or {})
        _check_keys(sp, PAR_KEYS, f"parallelism.{st}")
        for key in PAR_KEYS:
            v = sp.setdefault(key, 1)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise SpecError(f"parallelism.{st}.{key}: must be a non-negative integer, got {v!r}")
        par[st] = sp
    objectives = _as_list(raw.get("objectives", ["lut", "ppl"]))
    if len(objectives) < 1 or any(o not in OBJECTIVES for o in objectives):
        raise SpecError(f"objectives: each must be one of {list(OBJECTIVES)}, got {objectives}")
    weights = dict(raw.get("weights") or {o: 1.0 for o in objectives})
    for k, v in weights.items():
        if k not in objectives:
            raise SpecError(f"weights: {k!r} is not an objective; objectives: {objectives}")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise SpecError(f"weights.{k}: must be a non-negative number, got {v!r}")
    name = str(raw.get("name", "dse"))
    per_stage = {st: _check_stage(st, raw["stages"][st]) for st in STAGES if st in raw["stages"]}
    points = []
    for model, text in itertools.product(_as_list(raw.get("model", "smollm2")), _as_list(raw.get("text", "austen"))):
        for combo in itertools.product(*per_stage.values()):
            points.append(DesignPoint(tuple(zip(per_stage, combo)), str(model), str(text)))
    return Spec(name, points, ppl, par, objectives, weights, raw)

"""Sweep specifications: what `apace characterize` measures, as a validated dataclass.

A spec is a YAML mapping (every key optional; defaults are the `default` profile):

    name: my-sweep
    schemes: [naive, kahan, neumaier, twosum, fasttwosum, klein, kulisch]
    orders: [sequential, pairwise]
    accs: [FP32, BF16, FP16, E5M3-ieee]      # accumulator formats (golden.formats.parse_format names)
    comps: {BF16: [FP32]}                     # extra compensation formats per accumulator (comp=None is always run)
    dists: [uniform, normal, lognormal, student_t, softmax, mx_products, cancellation, swamping]
    max_n: 4096                               # lengths 1 .. max_n, log-spaced (`per_octave` per factor 2)
    per_octave: 4                             # sequential lengths; pairwise uses the powers of two
    trials: 128                               # independent sums per (config, dist, n)
    seed: 0
    kappa: 1.0e4                              # target condition number of the 'cancellation' inputs
    fixed_n: 1024                             # length used by heatmaps and the narrowest-format table
    p99_threshold: 1.0e-2                     # X in "narrowest format with p99 relative error < X"
    rel_se_target: 0                          # > 0: adaptive trials (below); 0: every cell has `trials` trials
    max_trials: 65536                         # cap of the adaptive trial count per cell
    dense_nu: []                              # [lo, hi]: more sequential lengths where lo <= n u <= hi ...
    dense_per_octave: 16                      # ... this many per factor 2 (u: the accumulator's unit roundoff)
    refine_steps: false                       # true: extra training lengths inside steps of the spread (below)
    refine_ratio: 1.3                         # a step: spread ratio beyond the local power law by more than this
    refine_per_octave: 32                     # grid of the extra lengths (never a length of the sweep's own grid)

Adaptive trials (rel_se_target > 0): a cell (config, dist, n) whose measured spread has a relative
standard error (from the trials' 4th moment, the larger of the two units u*sum|x| and ulp(sum|x|))
above rel_se_target gets more independent trials -- the count doubles, with fresh input rows from their
own random stream -- until it is below the target or max_trials is reached; the table's `trials`
column is the count of each row.  Cells where errors are rare (e.g. 1 trial in 256 with any error:
relative SE 0.5) need thousands of trials before their spread means anything.

Step refinement (refine_steps: true; characterize/refine.py): after the sweep, for every sequential
(config, dist) the intervals between adjacent training lengths whose measured spread departs from the local
power law by more than refine_ratio get extra training lengths -- the refine_per_octave grid inside the
interval, without any length of the sweep's own grid (so held-out lengths stay exactly as they were) --
measured on their own random stream with the same adaptive trials, rows marked `refined`.

Bad values raise one ValueError naming the field and the allowed values.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields

import yaml

from golden.accumulate import ORDERS, SCHEMES
from golden.formats import FloatFormat, FormatError, parse_format

DISTS = ("uniform", "normal", "lognormal", "student_t", "softmax", "mx_products", "cancellation", "swamping")
MAX_LENGTH = 2**20
# layout of the engine's rows (bumped when columns are added: 2 = sum|x| quantiles sq0000..sq1000, 3 = standard errors
# of the spreads rel_sumabs_std_se, ulpsa_std_se, 4 = per-row trial counts of the adaptive trials)
TABLE_VERSION = 4
# the relative standard error of a measured spread that resolves the error model's +-20 % held-out
# tolerance: the tolerance is 3 standard errors (error_model.HOLDOUT_TOL / 3; the error model's rule for which
# held-out points can validate it)
RESOLVE_REL_SE = 0.2 / 3
# the `model` profile's rel_se_target: 1/30, half of RESOLVE_REL_SE.  The resolution rule bounds the sampling
# error of a held-out point, but the prediction there is interpolated from training lengths measured to the same
# target: at 1/15 both errors together put 6 identical FP16 `normal` points (n = 11) 1.3 % beyond +-20 %
# (a 3-SE miss of pure noise).  Written 0.0333, as the shipped sweep was run.
MODEL_REL_SE = 0.0333
# spreads below this many u*sum|x| count as equal in the held-out check (and resolve as negligible)
NEGLIGIBLE = 0.01
# a spread measured from fewer trials with any error than this is not a measurement (where errors are rare
# the standard error estimated from those few trials is itself unreliable)
MIN_ERRORS = 30


@dataclass(frozen=True)
class Spec:
    """One characterisation sweep (see module docstring for the meaning of every field)."""

    name: str = "default"
    schemes: tuple[str, ...] = SCHEMES
    orders: tuple[str, ...] = ORDERS
    accs: tuple[str, ...] = ("FP32", "BF16", "FP16", "E5M3-ieee")
    comps: dict[str, tuple[str, ...]] = field(default_factory=lambda: {"BF16": ("FP32",), "FP16": ("FP32",)})
    dists: tuple[str, ...] = DISTS
    max_n: int = 4096
    per_octave: int = 4
    trials: int = 128
    seed: int = 0
    kappa: float = 1.0e4
    fixed_n: int = 1024
    p99_threshold: float = 1.0e-2
    rel_se_target: float = 0.0
    max_trials: int = 65536
    dense_nu: tuple[float, ...] = ()
    dense_per_octave: int = 16
    refine_steps: bool = False
    refine_ratio: float = 1.3
    refine_per_octave: int = 32

    def __post_init__(self) -> None:
        _check_names("schemes", self.schemes, SCHEMES)
        _check_names("orders", self.orders, ORDERS)
        _check_names("dists", self.dists, DISTS)
        if not self.accs:
            raise ValueError("spec field 'accs' must list at least one accumulator format")
        for a in self.accs:
            acc_format(a, "accs")
        if not isinstance(self.comps, dict):
            raise ValueError(f"spec field 'comps' must be a mapping acc -> [comp formats]; got {self.comps!r}")
        for a, cs in self.comps.items():
            if a not in self.accs:
                raise ValueError(f"spec field 'comps' key {a!r} must be one of the spec's accs {list(self.accs)}")
            for c in cs:
                acc_format(c, f"comps[{a}]")
        for fname, lo, hi in (("max_n", 1, MAX_LENGTH), ("per_octave", 1, 16), ("trials", 2, 10**6)):
            v = getattr(self, fname)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ValueError(f"spec field '{fname}' must be an integer in {lo}..{hi}; got {v!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"spec field 'seed' must be a non-negative integer; got {self.seed!r}")
        if not isinstance(self.fixed_n, int) or not 1 <= self.fixed_n <= self.max_n:
            raise ValueError(f"spec field 'fixed_n' must be an integer n with 1 <= n <= max_n ({self.max_n}); got {self.fixed_n!r}")
        if not isinstance(self.kappa, (int, float)) or not 1.0 <= float(self.kappa) <= 1e12:
            raise ValueError(f"spec field 'kappa' must be a number in [1, 1e12]; got {self.kappa!r}")
        if not isinstance(self.p99_threshold, (int, float)) or not 0 < float(self.p99_threshold) < 1:
            raise ValueError(f"spec field 'p99_threshold' must be a number in (0, 1); got {self.p99_threshold!r}")
        if (isinstance(self.rel_se_target, bool) or not isinstance(self.rel_se_target, (int, float))
                or not 0 <= float(self.rel_se_target) < 1):
            raise ValueError(f"spec field 'rel_se_target' must be a number in [0, 1) (0 = fixed trials); got {self.rel_se_target!r}")
        dn = self.dense_nu
        if (isinstance(dn, str) or not hasattr(dn, "__len__") or len(dn) not in (0, 2)
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in dn)
                or (len(dn) == 2 and not dn[0] < dn[1])):
            raise ValueError(f"spec field 'dense_nu' must be [] or [lo, hi] with 0 < lo < hi (a range of n u); got {dn!r}")
        if isinstance(self.dense_per_octave, bool) or not isinstance(self.dense_per_octave, int) or not 1 <= self.dense_per_octave <= 64:
            raise ValueError(f"spec field 'dense_per_octave' must be an integer in 1..64; got {self.dense_per_octave!r}")
        if not isinstance(self.refine_steps, bool):
            raise ValueError(f"spec field 'refine_steps' must be true or false; got {self.refine_steps!r}")
        if (isinstance(self.refine_ratio, bool) or not isinstance(self.refine_ratio, (int, float))
                or not 1.0 < float(self.refine_ratio) <= 10.0):
            raise ValueError(f"spec field 'refine_ratio' must be a number in (1, 10] (a spread ratio); got {self.refine_ratio!r}")
        finest = max(self.per_octave, self.dense_per_octave if self.dense_nu else 1) if self.refine_steps else 1
        if (isinstance(self.refine_per_octave, bool) or not isinstance(self.refine_per_octave, int)
                or not finest < self.refine_per_octave <= 256):
            raise ValueError(f"spec field 'refine_per_octave' must be an integer in {finest + 1}..256 (finer than the "
                             f"sweep's own grid of {finest} lengths per octave); got {self.refine_per_octave!r}")
        if isinstance(self.max_trials, bool) or not isinstance(self.max_trials, int) or not self.trials <= self.max_trials <= 10**7:
            raise ValueError(f"spec field 'max_trials' must be an integer in trials ({self.trials})..10000000; got {self.max_trials!r}")

    # ------------------------------------------------------------------ derived
    def lengths(self, acc=None) -> list[int]:
        """Sequential lengths: 1 .. max_n, `per_octave` log-spaced values per factor of 2 (rounded); for an
        accumulator format `acc` also `dense_per_octave` per factor of 2 where n u lies in `dense_nu`
        (u = acc's unit roundoff: where the compensated sums stagnate and their spread changes fastest)."""
        import math

        top = math.log2(self.max_n)

        def grid(per):
            k = int(math.floor(top * per + 1e-9))
            return {int(round(2.0 ** (i / per))) for i in range(k + 1)}

        ns = grid(self.per_octave) | {self.max_n, self.fixed_n}
        if acc is not None and self.dense_nu:
            u = acc_format(acc).unit_roundoff
            lo, hi = self.dense_nu
            ns |= {n for n in grid(self.dense_per_octave) if lo <= n * u <= hi}
        return sorted(ns)

    def pairwise_lengths(self) -> list[int]:
        """Pairwise lengths: the powers of two up to max_n, plus max_n and fixed_n."""
        ns = {2**i for i in range(self.max_n.bit_length()) if 2**i <= self.max_n} | {self.max_n, self.fixed_n}
        return sorted(ns)

    def configs(self) -> list[tuple[str, str, str, str | None]]:
        """Every (scheme, order, acc, comp) of the sweep; comp None = the accumulator format."""
        out = []
        for acc in self.accs:
            for scheme in self.schemes:
                for order in self.orders:
                    out.append((scheme, order, acc, None))
                    if scheme in ("naive", "kulisch"):
                        continue  # no compensation register
                    for comp in self.comps.get(acc, ()):
                        out.append((scheme, order, acc, comp))
        return out

    def to_dict(self) -> dict:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, tuple):
                d[k] = list(v)
        d["comps"] = {a: list(c) for a, c in self.comps.items()}
        return d

    def digest(self) -> str:
        """Short hash of everything that changes the numbers (not the name)."""
        d = self.to_dict()
        if not d["refine_steps"]:  # no refinement: its parameters do not change the numbers
            for k in ("refine_steps", "refine_ratio", "refine_per_octave"):
                d.pop(k)
        return self._hash(d)

    def base_digest(self) -> str:
        """The digest of the sweep without step refinement (its base rows do not depend on it; the engine
        caches them under this digest and the refined rows under `digest()`)."""
        d = self.to_dict()
        for k in ("refine_steps", "refine_ratio", "refine_per_octave"):
            d.pop(k)
        return self._hash(d)

    @staticmethod
    def _hash(d: dict) -> str:
        d.pop("name")
        d.pop("p99_threshold")
        if not d["rel_se_target"]:  # fixed trials: the cap does not change the numbers
            d.pop("rel_se_target")
            d.pop("max_trials")
        if not d["dense_nu"]:
            d.pop("dense_nu")
            d.pop("dense_per_octave")
        d["table_version"] = TABLE_VERSION  # a cached unit of an older table layout is not reused
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]


def _check_names(fname: str, values, allowed) -> None:
    if isinstance(values, str) or not hasattr(values, "__iter__") or not list(values):
        raise ValueError(f"spec field '{fname}' must be a non-empty list drawn from {', '.join(allowed)}; got {values!r}")
    for v in values:
        if v not in allowed:
            raise ValueError(f"spec field '{fname}' has unknown value {v!r}; allowed: {', '.join(allowed)}")


def acc_format(name, fieldname: str = "acc") -> FloatFormat:
    """parse_format for accumulator/compensation formats (floating point only), errors naming the field."""
    try:
        f = parse_format(name)
    except FormatError as exc:
        raise ValueError(f"spec field '{fieldname}': {exc}") from None
    if f.is_int:
        raise ValueError(f"spec field '{fieldname}' must be a floating-point format (e >= 1), got integer format {name!r}")
    return f


PROFILES: dict[str, dict] = {
    # ~2-3 minutes on one core: every scheme, order, the four model formats, all eight distributions
    "default": {},
    # the shipped error model (characterize/data/error_model.json.gz): model formats x model distributions;
    # 8 sequential lengths per octave (the held-out check alternates lengths, so the training lengths are
    # the 4-per-octave grid and the held-out ones lie between them) and adaptive trials (at least 256, more
    # until the relative standard error of every measured spread is below MODEL_REL_SE = 1/30, half the
    # resolution rule's RESOLVE_REL_SE) and step refinement (characterize/refine.py)
    "model": {
        "name": "model",
        "dists": ["uniform", "normal", "softmax", "mx_products"],
        "comps": {"BF16": ["FP32"], "FP16": ["FP32"], "E5M3-ieee": ["FP32"]},
        "trials": 256,
        "per_octave": 8,
        "rel_se_target": MODEL_REL_SE,
        "dense_nu": [2, 32],
        "refine_steps": True,
    },
    # the long sweep (nox -s characterize-full): more formats, 64k lengths, 512 trials
    "full": {
        "name": "full",
        "accs": ["FP32", "E8M10", "BF16", "FP16", "E5M7", "E6M5", "E5M3-ieee", "E5M2"],
        "comps": {"BF16": ["FP32"], "FP16": ["FP32"], "E5M3-ieee": ["FP32", "BF16"], "E5M2": ["FP16"]},
        "max_n": 65536,
        "trials": 512,
        "fixed_n": 4096,
    },
    # a seconds-long sweep for tests and smoke runs
    "smoke": {
        "name": "smoke",
        "accs": ["BF16", "E5M3-ieee"],
        "comps": {"BF16": ["FP32"]},
        "dists": ["uniform", "normal", "softmax", "mx_products", "cancellation", "swamping"],
        "max_n": 256,
        "per_octave": 2,
        "trials": 32,
        "fixed_n": 64,
    },
}


def spec_from_dict(d: dict | None, base: str = "default") -> Spec:
    """Build a Spec from a mapping over the named base profile; unknown keys are an error."""
    if base not in PROFILES:
        raise ValueError(f"parameter 'profile' must be one of {', '.join(PROFILES)}; got {base!r}")
    d = dict(d or {})
    allowed = [f.name for f in fields(Spec)]
    for k in d:
        if k not in allowed:
            raise ValueError(f"spec field {k!r} is unknown; allowed fields: {', '.join(allowed)}")
    merged = {**PROFILES[base], **d}
    if "name" not in d and base != "default" and "name" not in PROFILES[base]:
        merged["name"] = base
    for k in ("schemes", "orders", "accs", "dists", "dense_nu"):
        if k in merged and isinstance(merged[k], list):
            merged[k] = tuple(merged[k])
    if "comps" in merged:
        c = merged["comps"]
        if c is None:
            c = {}
        if not isinstance(c, dict):
            raise ValueError(f"spec field 'comps' must be a mapping acc -> [comp formats]; got {c!r}")
        merged["comps"] = {str(a): tuple([v] if isinstance(v, str) else (v or ())) for a, v in c.items()}
    if "fixed_n" not in d and isinstance(merged.get("max_n"), int):
        merged["fixed_n"] = min(merged.get("fixed_n", Spec.fixed_n), max(merged["max_n"], 1))
    if "kappa" in merged and isinstance(merged["kappa"], str):
        try:
            merged["kappa"] = float(merged["kappa"])
        except ValueError:
            raise ValueError(f"spec field 'kappa' must be a number in [1, 1e12]; got {merged['kappa']!r}") from None
    return Spec(**merged)


def load_spec(path: str | None = None, profile: str = "default") -> Spec:
    """Read a YAML spec file (or none) over a named profile."""
    if path is None:
        return spec_from_dict({}, profile)
    with open(path) as fh:
        data = yaml.safe_load(fh)
    if data is not None and not isinstance(data, dict):
        raise ValueError(f"spec file {path!r} must hold a YAML mapping of spec fields; got {type(data).__name__}")
    return spec_from_dict(data, profile)

"""Random and adversarial input sequences for accumulator testbenches, as values already in a format.

Every generator returns float64 values that `fmt` represents exactly (drawn as codes or rounded with
golden's rounder), shape (count, length).  Kinds:
  random     normal(0, 1) scaled by 2^U(-4, 4)            uniform01  U(0, 1) (swamping over long sums)
  cancel     +-pairs of equal magnitude plus small noise  swamp      one huge value then tiny ones
  ties       integers around 2^(m+1) (sums land on midpoints)
  subnormal  values near the smallest subnormals/normals  overflow   values near max (saturation / Inf / NaN)
  codes      uniformly random codes (every special value the format has, NaN included)
"""

from __future__ import annotations

import numpy as np

from golden.formats import FloatFormat, all_values, round_to

KINDS = ("random", "uniform01", "cancel", "swamp", "ties", "subnormal", "overflow", "codes")


def make(kind: str, fmt: FloatFormat, count: int, length: int, rng: np.random.Generator) -> np.ndarray:
    if kind not in KINDS:
        raise ValueError(f"parameter 'kind' must be one of {', '.join(KINDS)}; got {kind!r}")
    shape = (count, length)
    if kind == "random":
        x = rng.standard_normal(shape) * 2.0 ** rng.uniform(-4, 4, shape)
    elif kind == "uniform01":
        x = rng.uniform(0, 1, shape)
    elif kind == "cancel":
        base = rng.standard_normal(shape) * 2.0 ** rng.uniform(-2, 6, shape)
        x = base.copy()
        x[:, 1::2] = -round_to(base[:, 0:-1:2], fmt) * (1 + rng.choice([0, 0, 2.0**-fmt.m], (count, length // 2)))
    elif kind == "swamp":
        x = rng.uniform(0, 1, shape) * 2.0 ** -(fmt.m + 2)
        x[:, 0] = rng.uniform(1, 2, count) * rng.choice([-1, 1], count)
    elif kind == "ties":
        p = fmt.m + 1
        x = rng.integers(2**p, 2 ** (p + 1), shape) * rng.choice([-1.0, 1.0], shape) * 2.0 ** rng.integers(-2, 3, (count, 1))
        x *= 2.0 ** min(0, fmt.emax - p - 3)
    elif kind == "subnormal":
        x = rng.integers(-(2 ** (fmt.m + 2)), 2 ** (fmt.m + 2), shape) * fmt.min_subnormal
    elif kind == "overflow":
        x = fmt.max_value * rng.uniform(0.25, 1.0, shape) * rng.choice([-1.0, 1.0, 1.0], shape)
    else:
        vals = all_values(fmt)
        x = vals[rng.integers(0, vals.size, shape)]
    out = round_to(x, fmt)
    return np.asarray(out, dtype=np.float64).reshape(shape)


def mixed(fmt: FloatFormat, count: int, length: int, rng: np.random.Generator, kinds=KINDS) -> np.ndarray:
    """count sequences, kinds cycling row by row."""
    out = np.zeros((count, length))
    for k, kind in enumerate(kinds):
        idx = np.arange(k, count, len(kinds))
        if idx.size:
            out[idx] = make(kind, fmt, idx.size, length, rng)
    return out

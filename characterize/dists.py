"""Input distributions for the characterisation sweeps, as float64 arrays of shape (trials, n).

Every generator is deterministic given its numpy Generator.  Values are float64; the engine rounds
them into the accumulator format (golden rounding) before summing, and the reference is the exact
sum of those rounded values, so only the accumulation error is measured.

    uniform       U[0, 1)
    normal        N(0, 1)
    lognormal     exp(N(0, 1))                                    heavy right tail, all positive
    student_t     Student-t with 3 degrees of freedom             heavy two-sided tails
    softmax       exp(z - max z), z ~ N(0, 1) per row             softmax numerators, all in (0, 1]
    mx_products   a_i * b_i with a, b ~ N(0, 1) MX-quantised (E4M3 elements, k = 32, OCP scale,
                  golden.mx) along the row: the terms of an attention dot product (exact in float64)
    cancellation  N(0, 1) values plus one value chosen so that sum|x| / |sum x| ~= kappa
                  (adversarial cancellation; position of that value is random)
    swamping      one large value 2^(m+2) first (m = the accumulator's mantissa bits, so its half-ulp
                  is 2 and every later term is swamped in naive summation), then U[0, 1)
"""

from __future__ import annotations

import math

import numpy as np

from .spec import DISTS

MX_ELEM = "E4M3"
MX_K = 32


def generate(
    dist: str, trials: int, n: int, rng: np.random.Generator, kappa: float = 1e4, acc_m: int = 23
) -> np.ndarray:
    """`trials` independent rows of `n` inputs from `dist` (see module doc); acc_m: the accumulator's
    stored mantissa bits (only 'swamping' depends on it)."""
    if dist not in DISTS:
        raise ValueError(f"parameter 'dist' must be one of {', '.join(DISTS)}; got {dist!r}")
    if n < 1:
        raise ValueError(f"parameter 'n' must be >= 1; got {n}")
    shape = (trials, n)
    if dist == "uniform":
        return rng.random(shape)
    if dist == "normal":
        return rng.standard_normal(shape)
    if dist == "lognormal":
        return np.exp(rng.standard_normal(shape))
    if dist == "student_t":
        return rng.standard_t(3, shape)
    if dist == "softmax":
        z = rng.standard_normal(shape)
        return np.exp(z - z.max(axis=1, keepdims=True))
    if dist == "mx_products":
        from golden.mx import mx_quantize

        npad = int(math.ceil(n / MX_K) * MX_K)
        a = mx_quantize(rng.standard_normal((trials, npad)), MX_ELEM, MX_K).values
        b = mx_quantize(rng.standard_normal((trials, npad)), MX_ELEM, MX_K).values
        return (a * b)[:, :n]
    if dist == "cancellation":
        x = rng.standard_normal(shape)
        if n == 1:
            return x
        rest = x[:, 1:]
        s = np.array([math.fsum(r) for r in rest])
        sabs = np.abs(rest).sum(axis=1)
        # choose x0 = -s + t with |t| = (sabs + |s|) / kappa so that sum|x| / |sum x| ~= kappa
        t = rng.choice([-1.0, 1.0], trials) * (sabs + np.abs(s)) / max(kappa, 1.0)
        x[:, 0] = -s + t
        for r in range(trials):  # random position of the cancelling term
            j = rng.integers(n)
            x[r, 0], x[r, j] = x[r, j], x[r, 0]
        return x
    # swamping
    x = rng.random(shape)
    x[:, 0] = 2.0 ** (acc_m + 2)
    return x

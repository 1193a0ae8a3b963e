"""Accumulation schemes, bit-exact, vectorised over a batch of independent sums.

Every '+'/'-' below is one operation rounded (RNE) into a destination format: `A(.)` rounds into the
accumulator format F_acc, `C(.)` into the compensation format F_comp (default F_acc).  Elements are
first rounded into F_acc.  For each new element x (docs/numerics.md has the full contract):

    naive       s = A(s + x)
    kahan       y = A(x - c); t = A(s + y); c = C(A(t - s) - y); s = t                 result s
    neumaier    t = A(s + x); e = A(A(s - t) + x) if |s| >= |x| else A(A(x - t) + s)
                c = C(c + e); s = t                                                    result A(s + c)
    twosum      t = A(s + x); x' = A(t - s); s' = A(t - x'); e = A(A(s - s') + A(x - x'))
                c = C(c + e); s = t                                                    result A(s + c)
    fasttwosum  (a, b) = (s, x) if |s| >= |x| else (x, s); t = A(a + b); e = A(b - A(t - a))
                c = C(c + e); s = t                                                    result A(s + c)
    klein       t = A(s + x); ci = A(A(s - t) + x) if |s| >= |x| else A(A(x - t) + s); s = t
                t = C(cs + ci); cc = C(C(cs - t) + ci) if |cs| >= |ci| else C(C(ci - t) + cs)
                cs = t; ccs = C(ccs + cc)                                              result A(s + C(cs + ccs))
    kulisch     exact sum of the F_acc-rounded elements, rounded once into F_acc at the end.

Orders: 'sequential' feeds x[0], x[1], ... into one state.  'pairwise' builds a balanced tree over
adjacent pairs: level by level, node i = combine(state[2i], state[2i+1]), an odd last state passes
up unchanged.  A leaf is the state after feeding its element into the zero state; combine(L, R)
feeds R's components into L's recurrence as elements (each first rounded into F_acc, like any
element), in this order: naive [s]; kahan [s, -c]; neumaier/twosum/fasttwosum [s, c];
klein [s, cs, ccs].  Kulisch is exact, so its order does not matter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .arith import round_pair, two_sum64
from .formats import FP32, FloatFormat, parse_format, rounder

SCHEMES = ("naive", "kahan", "neumaier", "twosum", "fasttwosum", "klein", "kulisch")
ORDERS = ("sequential", "pairwise")
STATE_KEYS: dict[str, tuple[str, ...]] = {
    "naive": ("s",),
    "kahan": ("s", "c"),
    "neumaier": ("s", "c"),
    "twosum": ("s", "c"),
    "fasttwosum": ("s", "c"),
    "klein": ("s", "cs", "ccs"),
    "kulisch": ("hi", "lo"),  # hi + lo: the exact sum's top >= 33 bits (+ sticky), |error| < 2^-32 |sum|
}


def check_scheme(scheme: str) -> str:
    if scheme not in SCHEMES:
        raise ValueError(f"parameter 'scheme' must be one of {', '.join(SCHEMES)}; got {scheme!r}")
    return scheme


def check_order(order: str) -> str:
    if order not in ORDERS:
        raise ValueError(f"parameter 'order' must be one of {', '.join(ORDERS)}; got {order!r}")
    return order


@dataclass(frozen=True)
class AccumConfig:
    """One accumulator design: scheme, accumulator format, compensation format (None: = acc), order."""

    scheme: str = "naive"
    acc: FloatFormat = FP32
    comp: FloatFormat | None = None
    order: str = "sequential"

    def __post_init__(self) -> None:
        check_scheme(self.scheme)
        check_order(self.order)
        if not isinstance(self.acc, FloatFormat):
            object.__setattr__(self, "acc", parse_format(self.acc))
        if self.comp is not None and not isinstance(self.comp, FloatFormat):
            object.__setattr__(self, "comp", parse_format(self.comp))
        if self.acc.is_int or (self.comp is not None and self.comp.is_int):
            raise ValueError("parameter 'acc'/'comp' must be a floating-point format (e >= 1), not an integer format")

    @property
    def comp_fmt(self) -> FloatFormat:
        return self.comp if self.comp is not None else self.acc

    def label(self) -> str:
        comp = "" if self.comp is None else f"/c{self.comp.label()}"
        return f"{self.scheme}[{self.acc.label()}{comp},{self.order}]"


@dataclass
class AccResult:
    """value: the rounded result per sum, shape (batch...); state: final internal registers."""

    value: np.ndarray
    state: dict[str, np.ndarray]


# ---------------------------------------------------------------------- one step of each recurrence
def init_state(scheme: str, shape) -> dict[str, np.ndarray]:
    check_scheme(scheme)
    if scheme == "kulisch":
        raise ValueError("kulisch has no step state; use accumulate()")
    return {k: np.zeros(shape) for k in STATE_KEYS[scheme]}


def _order_by_magnitude(s: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(s, x) where |s| >= |x|, else (x, s): the branch of Neumaier / Dekker / Klein."""
    keep = np.abs(s) >= np.abs(x)
    return np.where(keep, s, x), np.where(keep, x, s)


def step(scheme: str, st: dict[str, np.ndarray], x: np.ndarray, acc: FloatFormat, comp: FloatFormat | None = None):
    """Feed one element per sum (x already in F_acc) into state `st`; returns the new state."""
    A = rounder(acc)
    C = rounder(comp if comp is not None else acc)
    s = st["s"]
    if scheme == "naive":
        return {"s": A(s + x)}
    if scheme == "kahan":
        c = st["c"]
        y = A(x - c)
        t = A(s + y)
        return {"s": t, "c": C(A(t - s) - y)}
    if scheme in ("neumaier", "twosum", "fasttwosum"):
        c = st["c"]
        if scheme == "neumaier":
            t = A(s + x)
            big, small = _order_by_magnitude(s, x)
            e = A(A(big - t) + small)
        elif scheme == "twosum":
            t = A(s + x)
            xp = A(t - s)
            sp = A(t - xp)
            e = A(A(s - sp) + A(x - xp))
        else:
            a, b = _order_by_magnitude(s, x)
            t = A(a + b)
            e = A(b - A(t - a))
        return {"s": t, "c": C(c + e)}
    if scheme == "klein":
        cs, ccs = st["cs"], st["ccs"]
        t = A(s + x)
        big, small = _order_by_magnitude(s, x)
        ci = A(A(big - t) + small)
        t2 = C(cs + ci)
        big, small = _order_by_magnitude(cs, ci)
        cc = C(C(big - t2) + small)
        return {"s": t, "cs": t2, "ccs": C(ccs + cc)}
    raise ValueError(f"parameter 'scheme' must be one of {', '.join(SCHEMES[:-1])} for step(); got {scheme!r}")


def finalize(scheme: str, st: dict[str, np.ndarray], acc: FloatFormat, comp: FloatFormat | None = None) -> np.ndarray:
    """The scheme's result from its state (one or two more rounded operations)."""
    A = rounder(acc)
    C = rounder(comp if comp is not None else acc)
    if scheme in ("naive", "kahan"):
        return st["s"].copy()
    if scheme in ("neumaier", "twosum", "fasttwosum"):
        return A(st["s"] + st["c"])
    if scheme == "klein":
        return A(st["s"] + C(st["cs"] + st["ccs"]))
    raise ValueError(f"finalize: unknown scheme {scheme!r}")


def _components(scheme: str, st: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The order in which a right child's state is fed into its left sibling (see module doc)."""
    if scheme == "naive":
        return [st["s"]]
    if scheme == "kahan":
        return [st["s"], -st["c"]]
    if scheme == "klein":
        return [st["s"], st["cs"], st["ccs"]]
    return [st["s"], st["c"]]


# ---------------------------------------------------------------------- Kulisch (exact) accumulation
_LIMB_BITS = 32
_MAX_EXACT_TERMS = 2**20


def _kulisch(xa: np.ndarray, acc: FloatFormat) -> AccResult:
    """Exact sum of the rows of xa (values already in F_acc), then one rounding into F_acc.

    The sum is held in float64 'limbs': limb j counts units of 2^(32 j) quanta of the format
    (quantum = smallest subnormal).  A piece of one element per limb is an integer below 2^32, so a
    limb's sum of up to 2^20 pieces is an integer below 2^52 and every float64 addition is exact.
    The limbs are then carry-normalised (sign-magnitude), and the top two non-zero limbs plus a sticky
    bit for everything below decide the rounding: they hold >= 33 significant bits, more than the
    p + 2 <= 26 that RNE to the accumulator format needs.
    """
    n = xa.shape[-1]
    if n > _MAX_EXACT_TERMS:
        raise ValueError(f"kulisch: length n must be <= {_MAX_EXACT_TERMS}; got {n}")
    batch_shape = xa.shape[:-1]
    finite = np.isfinite(xa).all(axis=-1)
    base_exp = acc.emin - acc.m
    units = np.where(np.isfinite(xa), xa, 0.0) * 2.0 ** (-base_exp)  # exact integers
    span = acc.emax + 1 - base_exp + 1
    nlimbs = math.ceil(span / _LIMB_BITS) + 2
    B = 2.0**_LIMB_BITS
    limbs = np.zeros((nlimbs,) + batch_shape)
    rem = units
    for j in reversed(range(nlimbs - 1)):
        w = 2.0 ** (_LIMB_BITS * j)
        piece = np.trunc(rem * (1.0 / w))  # w is a power of two: the product is the exact quotient
        limbs[j] = piece.sum(axis=-1)
        rem = rem - piece * w

    def normalise(lb: np.ndarray) -> None:
        for j in range(nlimbs - 1):
            carry = np.floor(lb[j] / B)
            lb[j] -= carry * B
            lb[j + 1] += carry

    normalise(limbs)
    neg = limbs[-1] < 0
    limbs = np.where(neg, -limbs, limbs)
    normalise(limbs)  # now every limb is >= 0 and all but the top are < 2^32
    nz = limbs != 0
    any_nz = nz.any(axis=0)
    top = np.where(any_nz, nlimbs - 1 - np.argmax(nz[::-1], axis=0), 1)
    top = np.maximum(top, 1)
    lt = np.take_along_axis(limbs, top[None], axis=0)[0]
    lt1 = np.take_along_axis(limbs, (top - 1)[None], axis=0)[0]
    below = np.arange(nlimbs).reshape((nlimbs,) + (1,) * len(batch_shape)) < (top - 1)
    sticky = (np.where(below, limbs, 0.0) != 0).any(axis=0)
    v, r = two_sum64(lt * B, lt1)  # v + r == the top two limbs exactly
    lo = np.where(r != 0, r, np.where(sticky, v * 2.0**-80, 0.0))
    shift = (_LIMB_BITS * (top - 1) + base_exp).astype(np.int64)
    hi_s = np.ldexp(v, shift)
    lo_s = np.ldexp(lo, shift)
    sign = np.where(neg, -1.0, 1.0)
    value = round_pair(sign * hi_s, sign * lo_s, acc).reshape(batch_shape)
    hi = sign * (hi_s + lo_s)
    lo_state = sign * lo_s - (hi - sign * hi_s)
    if not finite.all():
        # Non-finite elements: IEEE semantics of the exact sum (Inf, -Inf, or NaN for Inf - Inf / NaN).
        special = np.sum(np.where(np.isfinite(xa), 0.0, xa), axis=-1)
        value = np.where(finite, value, rounder(acc)(special))
    return AccResult(value=np.asarray(value, dtype=np.float64), state={"hi": np.asarray(hi), "lo": np.asarray(lo_state)})


# ---------------------------------------------------------------------- public entry point
def accumulate(
    x,
    scheme: str = "naive",
    acc: FloatFormat | str = FP32,
    comp: FloatFormat | str | None = None,
    order: str = "sequential",
) -> AccResult:
    """Sum the last axis of x with `scheme` in `order`, arithmetic in `acc` (compensation in `comp`).

    x: array (..., n) of float64 values (any values; they are first rounded into acc).
    Returns AccResult(value (...,), state {name: (...,)}); see STATE_KEYS for each scheme's state.
    An empty sum (n = 0) is +0 with a zero state.
    """
    cfg = AccumConfig(scheme, acc, comp, order)
    acc, comp = cfg.acc, cfg.comp_fmt
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        raise ValueError("parameter 'x' must have at least one axis (the summation axis is the last)")
    A = rounder(acc)
    xa = A(x)
    n = x.shape[-1]
    batch = x.shape[:-1]
    if n == 0:
        if scheme == "kulisch":
            return AccResult(np.zeros(batch), {"hi": np.zeros(batch), "lo": np.zeros(batch)})
        st = init_state(scheme, batch)
        return AccResult(finalize(scheme, st, acc, comp), st)
    flat = xa.reshape(-1, n)
    if scheme == "kulisch":
        run, rows = _kulisch_rows, max(1, _KULISCH_CHUNK_ELEMS // n)
    else:
        run, rows = (_sequential if order == "sequential" else _pairwise), _CHUNK_ROWS
    values, states = [], []
    # Work on row chunks so that a chunk's state arrays stay in cache across the n steps.
    for lo in range(0, flat.shape[0], rows):
        v, st = run(scheme, flat[lo : lo + rows], acc, comp)
        values.append(v)
        states.append(st)
    value = np.concatenate(values).reshape(batch)
    state = {k: np.concatenate([st[k] for st in states]).reshape(batch) for k in STATE_KEYS[scheme]}
    return AccResult(value, state)


_CHUNK_ROWS = 16384
_KULISCH_CHUNK_ELEMS = 2**16  # elements per Kulisch pass: its limb temporaries stay in cache


def _kulisch_rows(scheme: str, rows: np.ndarray, acc: FloatFormat, comp: FloatFormat):
    res = _kulisch(rows, acc)
    return res.value, res.state


def _sequential(scheme: str, rows: np.ndarray, acc: FloatFormat, comp: FloatFormat):
    xt = np.ascontiguousarray(rows.T)  # (n, rows): each step reads one contiguous row
    st = init_state(scheme, xt.shape[1])
    for i in range(xt.shape[0]):
        st = step(scheme, st, xt[i], acc, comp)
    return finalize(scheme, st, acc, comp), st


def _pairwise(scheme: str, rows: np.ndarray, acc: FloatFormat, comp: FloatFormat):
    """Balanced tree over adjacent pairs; states carried as (width, rows) arrays, a level at once."""
    A = rounder(acc)
    xt = np.ascontiguousarray(rows.T)
    st = step(scheme, init_state(scheme, xt.shape), xt, acc, comp)  # leaves
    while st["s"].shape[0] > 1:
        w = st["s"].shape[0]
        half = w // 2
        left = {k: v[0 : 2 * half : 2] for k, v in st.items()}
        right = {k: v[1 : 2 * half : 2] for k, v in st.items()}
        for comp_val in _components(scheme, right):
            left = step(scheme, left, A(comp_val), acc, comp)
        if w % 2:
            left = {k: np.concatenate([left[k], st[k][w - 1 : w]], axis=0) for k in left}
        st = left
    st = {k: v[0] for k, v in st.items()}
    return finalize(scheme, st, acc, comp), st


def exact_sum(x) -> np.ndarray:
    """Correctly rounded float64 of the exact sum of each row (math.fsum), for reference metrics."""
    x = np.asarray(x, dtype=np.float64)
    flat = x.reshape(-1, x.shape[-1])
    return np.array([math.fsum(r) for r in flat]).reshape(x.shape[:-1])

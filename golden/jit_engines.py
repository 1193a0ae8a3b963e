"""Compiled (numba) loop of golden.fastsum's exact accumulation engines.

golden.accumulate's sequential recurrences (golden/accumulate.py: step, finalize) in golden's order, on
float64 values with every golden rounding A(.) done the way golden.fastsum documents it exact:
  * FP32 accumulator (compensation FP32): A(v) is the float64 -> float32 conversion (IEEE
    RNE, gradual underflow, overflow to Inf, NaN kept: golden's FP32 rounder, golden.fastsum.round_fp32).
    The operands of each + and - are FP32 values, so A(a +- b) of their float64 result is the float32
    operation itself (float64 keeps 53 >= 2 x 24 + 2 bits: the double rounding is innocuous).
  * accumulators of <= 9 bits (compensation the same format): A(v) is round_bits, golden.formats'
    rounder's operations written branch-free (so the loops vectorise), with the format's constants
    once golden.fastsum._TableArith has checked it against golden's rounding table on every key (which
    proves it equal everywhere); failing that, one lookup in that table (the value of the code
    rnd_t[key], key = (float64 bits >> sh) * 2 + (any bit under sh set)).  golden's step rounds the
    float64 result of each + and -, which is what is rounded here.
    Where the format's values are all float32 values and round_f32 passes its check on every pair of
    them (golden.fastsum._TableArith.engine_rv32), the state is held in float32 instead (eight values
    per AVX2 vector, not four): each + and - of two state values is the float32 operation, rounded by
    round_f32; each element (a float64 product or block sum) is rounded by round_bits and is then a
    float32 value exactly.
No fastmath: LLVM neither reassociates nor contracts the float64 operations.

The elements are computed inside the loop from two operand matrices: element t of sum (i, j) is
  x = A(sum over u < k of A_[l, i, t k + u] * B_[l, t k + u, j])   (float64, from +0)
when `plus_zero` (MX blocks: the block sum of dequantised MX values, exact in float64 where
golden.fastsum.block_sums_exact_in_float64 holds, +0 for a zero sum as in golden), or A(A_[l, i, t] *
B_[l, t, j]) when k = 1 and not plus_zero (golden's product sums: each float64 product is an element;
for an FP32 accumulator and float32 operands this runs in float32 throughout: the float32 product is
the FP32 rounding of the exact product, which the float64 product of two float32 values is).
Or the elements are given, X[l, t, i, j] (plain sums; MX block sums computed by a matmul), and only
rounded into the accumulator.

Schemes are numbered as SCHEME_IDS; each has its own loop over j, the innermost axis (independent sums
side by side, which the compiler vectorises where the rounding allows).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic, overload

SCHEME_IDS = {"naive": 0, "kahan": 1, "neumaier": 2, "twosum": 3, "fasttwosum": 4, "klein": 5}


def _bitcast(src, dst, doc: str):
    """An intrinsic reinterpreting a `src` scalar's bits as `dst` (a register bitcast, no conversion)."""

    @intrinsic
    def cast(typingctx, x):  # pragma: no cover - compiled
        if x == src:
            def codegen(context, builder, signature, args):
                return builder.bitcast(args[0], context.get_value_type(dst))

            return dst(src), codegen
        return None

    cast.__doc__ = doc
    return cast


f64_bits = _bitcast(types.float64, types.uint64, "The bit pattern of a float64 as uint64.")
bits_f64 = _bitcast(types.uint64, types.float64, "The float64 whose bit pattern is the uint64 x.")
f32_bits = _bitcast(types.float32, types.uint32, "The bit pattern of a float32 as uint32.")
bits_f32 = _bitcast(types.uint32, types.float32, "The float32 whose bit pattern is the uint32 x.")


BITS_2_100 = (100 + 127) << 23  # float32 bit pattern of 2^100 (the float32 MX path's limit)
MX_DONE, MX_NOT_HERE, MX_CLAIM_FALSE = 1, 0, 2  # mx_values_loop's results


@numba.njit(cache=True, nogil=True)
def mx_values_loop(x, k, emax, table, sh, mask, out, lim):  # pragma: no cover - compiled
    """golden.fastsum.mx_values_f32's loop (see there): x (A, R, L) float32 or float64, L a multiple of
    k, the blocks consecutive along L; out (A, R, L) float32 or float64, L contiguous.  Each x as
    float32 (MX_NOT_HERE if a float64 x is not a float32 value, or NaN); per block amax = the largest
    |x| bit pattern (patterns of non-negative floats order like their values), s = clamp(floor(log2
    amax) - emax, -127, 127) from its exponent field (E = 0: zero or subnormal amax -> -127); every
    element y = x * 2^-s (exact in float32), rounded by the table lookup (key (b >> sh) + ((b + mask)
    >> sh)), times 2^s (exact).  MX_NOT_HERE also for a block at or above 2^100 or holding Inf (out is
    then partly written).  Per row three passes, each a simple loop the compiler vectorises: float32
    conversion, block scales, elements.

    lim (R,) int64, or empty for no limits: the caller says that the blocks >= lim[r] of row r (of
    every a) are zero.  They are not quantised but checked: each x there must be +0 or -0 (its MX
    value is itself: an all-zero block keeps its zeros, whatever the scale), and that x is written to
    out.  MX_CLAIM_FALSE as soon as one is not (out is then partly written); else MX_DONE."""
    L = x.shape[2]
    x32 = np.empty(L, np.float32)
    xb = x32.view(np.uint32)
    nb = L // k
    inv = np.empty(nb, np.float32)
    sc = np.empty(nb, np.float32)
    limited = lim.shape[0] > 0
    for a in range(x.shape[0]):
        for r in range(x.shape[1]):
            xr = x[a, r]
            orow = out[a, r]
            n = min(max(lim[r], 0), nb) * k if limited else L
            nz = False
            for j in range(n, L):
                nz |= xr[j] != 0.0
                orow[j] = xr[j]
            if nz:
                return MX_CLAIM_FALSE
            bad = False
            for j in range(n):
                xf = np.float32(xr[j])
                bad |= np.float64(xf) != np.float64(xr[j])
                x32[j] = xf
            if bad:
                return MX_NOT_HERE
            for t in range(n // k):
                amax = np.uint32(0)
                for j in range(t * k, t * k + k):
                    amax = max(amax, xb[j] & np.uint32(0x7FFFFFFF))
                if amax >= BITS_2_100:
                    return MX_NOT_HERE
                e = min(max(np.int64(amax >> np.uint32(23)) - 127 - emax, -127), 127) + 127  # biased exp of 2^s
                inv[t] = bits_f32(np.uint32((254 - e) << 23))  # 2^-s (normal)
                sc[t] = bits_f32(np.uint32(max(e << 23, 0x00400000)))  # 2^s; 2^-127 is the subnormal 0x00400000
            for t in range(n // k):
                iv = inv[t]
                st = sc[t]
                for j in range(t * k, t * k + k):
                    b = f32_bits(x32[j] * iv)
                    orow[j] = table[((b + mask) >> sh) + (b >> sh)] * st
    return MX_DONE


@numba.njit(inline="always")
def round_bits(v, p):  # pragma: no cover - compiled
    """RNE of the float64 v into a narrow float format, branch-free so that loops over it vectorise: add
    and subtract C = 1.5 * 2^(e + 52 - m), e = max(v's exponent, emin) (the float64 addition rounds at
    the format's quantum 2^(e - m), RNE, which below 2^emin is the fixed 2^(emin - m); e at most emax + 1,
    where any result overflows), v's sign kept on a zero result; then the overflow value, with v's sign,
    where the result exceeds max (Inf included); a NaN stays a NaN.  p = golden.fastsum._round_params(fmt):
    (bits of 2^emin, bits of 2^(emax + 1), C's bits less e's, max, the overflow value's bits: +Inf
    ('inf'), max ('saturate') or NaN ('nan')).
    Not the rounding of record: golden.fastsum._rounds_like checks it against golden's rounding table
    on one value of every class of float64 inputs (sign, exponent, kept and guard bits, sticky) before the
    engine uses it, and the rounding depends on nothing else (the quantum is at least v's own 2^(e - m),
    so the guard bit is one of the class's bits)."""
    lo, hi, kc, mx, ovf_bits = p
    b = f64_bits(v)
    sgn = b & np.uint64(0x8000000000000000)
    # (a signed clamp: exponent fields are non-negative as int64, and signed compares vectorise best)
    big = bits_f64(np.uint64(min(max(np.int64(b & np.uint64(0x7FF0000000000000)), lo), hi)) + kc)
    r = (v + big) - big
    return bits_f64(_pick(abs(r) > mx, ovf_bits | sgn, f64_bits(r) | sgn))


@numba.njit(inline="always")
def round_f32(v, q):  # pragma: no cover - compiled
    """RNE of the float32 v to the m mantissa bits of a narrow float format whose values are all float32
    values: add and subtract C = 1.5 * 2^(e + 23 - m), e = v's exponent (the float32 addition rounds at
    2^(e - m), RNE), v's sign kept on a zero result; then the overflow value, with v's sign, where the
    result exceeds max; a NaN stays a NaN.  Not a rounding of every float32: below 2^emin it keeps bits
    under the format's fixed quantum 2^(emin - m).  It is used only on the float32 sum or difference of
    two of the format's values, which below 2^emin is a multiple of that quantum (kept as it is) and above
    it has gone through float32's RNE first, and only after golden.fastsum._TableArith has checked it
    against golden's addition and subtraction tables on every pair of the format's values
    (golden.fastsum._rounds_pairs_like).  q = golden.fastsum._round_params_f32(fmt): (C's bits less e's,
    max, the overflow value's bits) as uint32 / float32."""
    kc, mx, ovf_bits = q
    b = f32_bits(v)
    sgn = np.uint32(b & np.uint32(0x80000000))
    big = bits_f32(np.uint32(np.uint32(b & np.uint32(0x7F800000)) + kc))
    r = (v + big) - big
    return bits_f32(_pick32(abs(r) > mx, np.uint32(ovf_bits | sgn), np.uint32(f32_bits(r) | sgn)))


@numba.njit(inline="always")
def _pick32(cond, x, y):  # pragma: no cover - compiled
    """x if cond else y, for uint32 bit patterns, without a branch."""
    m = np.uint32(np.uint32(0) - np.uint32(cond))
    return np.uint32((x & m) | (y & np.uint32(~m)))


@numba.njit(cache=True, nogil=True)
def round_f32_array(x, q, out):  # pragma: no cover - compiled
    """out[i] = round_f32(x[i], q) (for golden.fastsum._rounds_pairs_like, the check against golden's tables)."""
    for i in range(x.size):
        out[i] = round_f32(x[i], q)


@numba.njit(inline="always")
def _pick(cond, x, y):  # pragma: no cover - compiled
    """x if cond else y, for uint64 bit patterns, without a branch."""
    m = np.uint64(0) - np.uint64(cond)
    return (x & m) | (y & ~m)


@numba.njit(cache=True, nogil=True)
def round_bits_array(x, p, out):  # pragma: no cover - compiled
    """out[i] = round_bits(x[i], p) (for golden.fastsum._rounds_like, the check against golden's rounding table)."""
    for i in range(x.size):
        out[i] = round_bits(x[i], p)


def rnd(v, rv, sh, sticky):  # pragma: no cover - replaced by the overload in compiled code
    """golden's rounding A(v) into the accumulator: FP32 when rv is None, round_bits when rv is its
    constants (a tuple), else the table lookup (rv the table's values)."""
    raise NotImplementedError


def _is_pair(rv) -> bool:
    """rv is (round_bits' constants, round_f32's constants): the float32 state of a narrow format."""
    return isinstance(rv, types.BaseTuple) and len(rv.types) == 2 and isinstance(rv.types[0], types.BaseTuple)


def state_array(n, A, rv):  # pragma: no cover - replaced by the overload in compiled code
    """An empty array of n accumulator values: float32 for the pair of roundings, else A's dtype."""
    raise NotImplementedError


@overload(state_array, inline="always")
def _state_array(n, A, rv):  # pragma: no cover - compiled
    if _is_pair(rv):
        def f32(n, A, rv):
            return np.empty(n, np.float32)

        return f32

    def same(n, A, rv):
        return np.empty(n, A.dtype)

    return same


@overload(rnd, inline="always")
def _rnd(v, rv, sh, sticky):  # pragma: no cover - compiled
    # chosen when the engine is compiled for rv's type, so each loop has a single, branch-free rounding
    if _is_pair(rv):  # a narrow format's values held as float32: the state's sums round in float32
        if v == types.float32:
            def pair32(v, rv, sh, sticky):
                return round_f32(v, rv[1])

            return pair32

        def pair64(v, rv, sh, sticky):  # an element (a float64 product or block sum): exact as float32
            return np.float32(round_bits(v, rv[0]))

        return pair64
    if v == types.float32:  # float32 operations are already FP32's rounding
        def same(v, rv, sh, sticky):
            return v

        return same
    if isinstance(rv, types.NoneType):
        def f32(v, rv, sh, sticky):
            return np.float64(np.float32(v))

        return f32
    if isinstance(rv, types.BaseTuple):  # golden.fastsum._round_params: the checked arithmetic rounding
        def arith(v, rv, sh, sticky):
            return round_bits(v, rv)

        return arith

    def table(v, rv, sh, sticky):
        b = f64_bits(v)
        return rv[((b >> sh) << np.uint64(1)) | ((b & sticky) != np.uint64(0))]

    return table


@numba.njit(inline="always")
def sum_error(a, b, t, rv, sh, sticky):  # pragma: no cover - compiled
    """golden's Neumaier / Klein error term of t = A(a + b): A(A(big - t) + small), big the operand of
    larger magnitude (a on ties; a NaN compares false, so then b)."""
    if abs(a) >= abs(b):
        return rnd(rnd(a - t, rv, sh, sticky) + b, rv, sh, sticky)
    return rnd(rnd(b - t, rv, sh, sticky) + a, rv, sh, sticky)


@numba.njit(inline="always")
def differs(a, b):  # pragma: no cover - compiled
    """a and b are not the same value bit for bit (NaN always differs; +0 differs from -0); no branch,
    so that a loop or-ing it over a row vectorises."""
    return (a != b) | (np.signbit(a) != np.signbit(b))


@numba.njit(cache=True, nogil=True)
def engine(A, B, X, k, plus_zero, row_t, row_n, n_terms, scheme, rv, sh, sticky, out, i0):  # pragma: no cover - compiled
    """The loop: A (L, M, K), B (L / rep, K, N) float64 operands (float32 for an FP32 accumulator's product
    sums: float32 products and sums are the FP32 roundings themselves; sums l of A use B[l // rep], as
    rep query heads share one KV head's B), or (when X is not empty) the elements
    themselves, X (L, T, M, N) float64: element t of sum (l, i, j) is A(X[l, t, i, j]) (A(X + 0.0) with
    plus_zero: block sums, a zero sum +0); out (L, >= i0 + M, N') float64: sum (l, i, j) goes to
    out[l, i0 + i, j] (a band of rows of a larger result), N' >= N.  row_t, row_n (M,) int64: sum (l, i, j) takes its elements t < row_t[i] as above
    and +0 for the others (A(+0) = +0 in every format: blocks of A that are known to be zero; those
    steps stop once a step leaves every state of the row unchanged, a fixed point), and only
    the sums j < row_n[i] are computed (out 0 for the others, up to N'); n_terms: the number of elements T of
    every sum when X is given and >= 0 (X then holds the first X.shape[1] <= T of them and row_t <=
    X.shape[1]: the others are +0; a band of rows whose later blocks are all zero), else T = X.shape[1];
    scheme a SCHEME_IDS number; rv None (FP32), round_bits' constants, the pair (round_bits' constants,
    round_f32's constants) for a float32 state, or the rounding table's values with sh and sticky (uint64)."""
    pre = X.shape[0] > 0
    rep = 1
    if pre:
        L, T, M, N = X.shape
        if n_terms >= 0:
            T = n_terms
    else:
        L, M, K = A.shape
        N = B.shape[2]
        T = K // k
        rep = L // B.shape[0] if B.shape[0] else 1
    n_full = N
    z = 0.0 if plus_zero else -0.0  # X + z: + 0.0 makes a zero MX block sum +0; + -0.0 changes nothing
    # the state: float32 for float32 operands (FP32 product sums) and for a narrow format held as float32
    s = state_array(N, A, rv)
    c = state_array(N, A, rv)
    cc = state_array(N, A, rv)
    x = state_array(N, A, rv)
    xs = np.empty(N, A.dtype)  # a block sum before its rounding
    s0 = state_array(N, A, rv)  # the state before a zero-tail step
    c0 = state_array(N, A, rv)
    cc0 = state_array(N, A, rv)
    for l in range(L):
        Bl = B[l // rep] if not pre else B[0]  # (a B shared by rep consecutive A: one KV head's)
        for i in range(M):
            s[:] = 0.0
            c[:] = 0.0
            cc[:] = 0.0
            ti = min(row_t[i], T)
            N = min(row_n[i], n_full)
            for t in range(T):
                if scheme == 0 and t < ti and (pre or (k == 1 and not plus_zero)):
                    # naive: element and step in one pass, the same two roundings as below
                    if pre:
                        for j in range(N):
                            s[j] = rnd(s[j] + rnd(X[l, t, i, j] + z, rv, sh, sticky), rv, sh, sticky)
                    else:
                        a = A[l, i, t]
                        for j in range(N):
                            s[j] = rnd(s[j] + rnd(a * Bl[t, j], rv, sh, sticky), rv, sh, sticky)
                    continue
                if t >= ti:
                    x[:N] = 0.0
                    s0[:N] = s[:N]
                    c0[:N] = c[:N]
                    cc0[:N] = cc[:N]
                elif pre:
                    for j in range(N):
                        x[j] = rnd(X[l, t, i, j] + z, rv, sh, sticky)
                elif k == 1 and not plus_zero:
                    a = A[l, i, t]
                    for j in range(N):
                        x[j] = rnd(a * Bl[t, j], rv, sh, sticky)
                else:
                    xs[:N] = 0.0
                    for u in range(t * k, t * k + k - 1):
                        a = A[l, i, u]
                        for j in range(N):
                            xs[j] += a * Bl[u, j]
                    a = A[l, i, t * k + k - 1]  # the last product, added and rounded in one pass
                    for j in range(N):
                        x[j] = rnd(xs[j] + a * Bl[t * k + k - 1, j], rv, sh, sticky)
                if scheme == 0:
                    for j in range(N):
                        s[j] = rnd(s[j] + x[j], rv, sh, sticky)
                elif scheme == 1:  # kahan: y = x - c, t = s + y, c = (t - s) - y
                    for j in range(N):
                        y = rnd(x[j] - c[j], rv, sh, sticky)
                        tt = rnd(s[j] + y, rv, sh, sticky)
                        c[j] = rnd(rnd(tt - s[j], rv, sh, sticky) - y, rv, sh, sticky)
                        s[j] = tt
                elif scheme == 2:  # neumaier
                    for j in range(N):
                        sj, xj = s[j], x[j]
                        tt = rnd(sj + xj, rv, sh, sticky)
                        c[j] = rnd(c[j] + sum_error(sj, xj, tt, rv, sh, sticky), rv, sh, sticky)
                        s[j] = tt
                elif scheme == 3:  # twosum
                    for j in range(N):
                        sj, xj = s[j], x[j]
                        tt = rnd(sj + xj, rv, sh, sticky)
                        xp = rnd(tt - sj, rv, sh, sticky)
                        sp = rnd(tt - xp, rv, sh, sticky)
                        e = rnd(rnd(sj - sp, rv, sh, sticky) + rnd(xj - xp, rv, sh, sticky),
                                rv, sh, sticky)
                        c[j] = rnd(c[j] + e, rv, sh, sticky)
                        s[j] = tt
                elif scheme == 4:  # fasttwosum: the larger magnitude first
                    for j in range(N):
                        sj, xj = s[j], x[j]
                        if abs(sj) >= abs(xj):
                            p, q = sj, xj
                        else:
                            p, q = xj, sj
                        tt = rnd(p + q, rv, sh, sticky)
                        e = rnd(q - rnd(tt - p, rv, sh, sticky), rv, sh, sticky)
                        c[j] = rnd(c[j] + e, rv, sh, sticky)
                        s[j] = tt
                else:  # klein: (s, cs, ccs) = (s, c, cc)
                    for j in range(N):
                        sj, xj, cs = s[j], x[j], c[j]
                        tt = rnd(sj + xj, rv, sh, sticky)
                        ci = sum_error(sj, xj, tt, rv, sh, sticky)
                        t2 = rnd(cs + ci, rv, sh, sticky)
                        cc[j] = rnd(cc[j] + sum_error(cs, ci, t2, rv, sh, sticky), rv, sh, sticky)
                        c[j] = t2
                        s[j] = tt
                if t >= ti:
                    # a +0 step is a fixed map of the state: once it leaves every state unchanged (bit
                    # for bit; a NaN counts as changed), the remaining +0 steps change nothing either
                    changed = False
                    for j in range(N):
                        changed |= differs(s[j], s0[j]) | differs(c[j], c0[j]) | differs(cc[j], cc0[j])
                    if not changed:
                        break
            o = out[l, i0 + i]
            for j in range(N, o.shape[0]):
                o[j] = 0.0
            for j in range(N):
                if scheme <= 1:
                    o[j] = s[j]
                elif scheme == 5:
                    o[j] = rnd(s[j] + rnd(c[j] + cc[j], rv, sh, sticky), rv, sh, sticky)
                else:
                    o[j] = rnd(s[j] + c[j], rv, sh, sticky)


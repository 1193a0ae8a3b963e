"""Compiled (numba) passes of the softmax numerators (statistical and exact kernels) and of the exact
kernel's FP32 scalings and divisions, each doing in one sweep
what quant.kernels did in several numpy passes, with the same IEEE operations in the same order, so
the values are bit-identical (tests/quant/test_fused.py checks them against the numpy formulation).

The exponential itself stays numpy's `np.exp` (the kernel calls it between the two passes): a compiled
exp may differ from numpy's in the last bit, and e = FP32(exp(s - m)) is defined by numpy's.

Arrays are 4-D (batch, heads, query rows, keys), any strides (bands of larger arrays, broadcast
masks with zero strides)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _kernels():
    import numba
    import numpy as np

    @numba.njit(cache=True, nogil=True)
    def shift(s, masked, d):  # pragma: no cover - compiled
        # d = float64(s) - m per row, masked keys -inf; m = the row maximum over the allowed keys as
        # np.max computes it after masked scores are set to -inf (NaN if any allowed score is NaN),
        # then 0 where it is not finite (no allowed key, NaN, +-inf)
        B, H, R, L = s.shape
        for b in range(B):
            for h in range(H):
                for r in range(R):
                    m = -np.inf
                    nan = False
                    for j in range(L):
                        if not masked[b, h, r, j]:
                            v = s[b, h, r, j]
                            if np.isnan(v):
                                nan = True
                            elif v > m:
                                m = v
                    mm = np.float64(m)
                    if nan or not np.isfinite(mm):
                        mm = 0.0
                    for j in range(L):
                        if masked[b, h, r, j]:
                            d[b, h, r, j] = -np.inf
                        else:
                            d[b, h, r, j] = np.float64(s[b, h, r, j]) - mm

    @numba.njit(cache=True, nogil=True)
    def store(d, e, emax):  # pragma: no cover - compiled
        # e = FP32(d) (the IEEE float64 -> float32 conversion), emax = the row maximum of e as np.max
        # gives it (NaN if any e is NaN)
        B, H, R, L = d.shape
        for b in range(B):
            for h in range(H):
                for r in range(R):
                    mx = np.float32(-np.inf)
                    nan = False
                    for j in range(L):
                        v = np.float32(d[b, h, r, j])
                        e[b, h, r, j] = v
                        if np.isnan(v):
                            nan = True
                        elif v > mx:
                            mx = v
                    emax[b, h, r] = np.float32(np.nan) if nan else mx

    @numba.njit(cache=True, nogil=True)
    def scale_fp32(x, scale):  # pragma: no cover - compiled
        # x = FP32(x * scale) in place: the float64 product, then the IEEE float64 -> float32 conversion
        for j in range(x.shape[0]):
            x[j] = np.float64(np.float32(x[j] * scale))

    @numba.njit(cache=True, nogil=True, error_model="numpy")  # x / 0 -> +-Inf / NaN, as numpy
    def divide_fp32(e, denom):  # pragma: no cover - compiled
        # e = FP32(e / denom[row]) in place, e (rows, L) float64, denom (rows,) float64
        for r in range(e.shape[0]):
            dr = denom[r]
            for j in range(e.shape[1]):
                e[r, j] = np.float64(np.float32(e[r, j] / dr))

    return shift, store, scale_fp32, divide_fp32


def softmax_shift(s, masked, d) -> None:
    """d[...] = float64(s) - m (masked keys: -inf), m the row maximum of s over the allowed keys (0 where
    it is not finite: no allowed key, a NaN or an infinite score).  s float32, masked bool broadcastable
    to s's shape, d a float64 array of s's shape; every row must have at least one key."""
    import numpy as np

    _kernels()[0](s, np.broadcast_to(masked, s.shape), d)


def softmax_store(d, e, emax) -> None:
    """e[...] = FP32(d), emax[...] = the row maxima of e (NaN where a row holds a NaN).  d float64,
    e float32 of d's shape, emax float32 of d.shape[:-1]; every row must have at least one key."""
    _kernels()[1](d, e, emax)


def scale_fp32_inplace(x, scale: float) -> None:
    """x[...] = FP32(x * scale) in place (float64 product, then the IEEE float64 -> float32 conversion,
    as golden.fastsum.round_fp32 on numpy's product; x a C-contiguous float64 array)."""
    import numpy as np

    if x.dtype != np.float64 or not x.flags.c_contiguous:
        raise ValueError("parameter 'x' must be a C-contiguous float64 array")
    _kernels()[2](x.reshape(-1), float(scale))


def divide_fp32_inplace(e, denom) -> None:
    """e[...] = FP32(e / denom[..., None]) in place (float64 quotient, then the float64 -> float32
    conversion; e a C-contiguous float64 array, denom float64 of e.shape[:-1])."""
    import numpy as np

    if e.dtype != np.float64 or not e.flags.c_contiguous or np.shape(denom) != e.shape[:-1]:
        raise ValueError("parameters 'e' (C-contiguous float64) and 'denom' (e.shape[:-1]) do not fit")
    _kernels()[3](e.reshape(-1, e.shape[-1]), np.ascontiguousarray(denom, dtype=np.float64).reshape(-1))

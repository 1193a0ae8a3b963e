"""Scoreboard helpers shared by the cocotb testbenches: lane packing and first-mismatch reports.

Expected values always come from golden/ (decode/encode/arith/accumulate); this module only moves bits
and formats messages.  Codes are compared exactly (NaN outputs must be golden's canonical NaN code).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from golden.formats import FloatFormat, decode


def pack(codes: Sequence[int] | np.ndarray, width: int) -> int:
    """Lane i's code at bits [i*width +: width] of one integer (lane 0 = LSBs); width <= 62."""
    c = np.asarray(codes, dtype=np.int64).ravel()
    bits = ((c[:, None] >> np.arange(width, dtype=np.int64)) & 1).astype(np.uint8).ravel()
    return int.from_bytes(np.packbits(bits, bitorder="little").tobytes(), "little")


def unpack(value: int, width: int, lanes: int) -> np.ndarray:
    """Inverse of pack: an int64 array of `lanes` codes."""
    nbytes = (width * lanes + 7) // 8
    raw = np.frombuffer(int(value).to_bytes(nbytes, "little"), dtype=np.uint8)
    bits = np.unpackbits(raw, bitorder="little")[: width * lanes].reshape(lanes, width).astype(np.int64)
    return (bits << np.arange(width, dtype=np.int64)).sum(axis=1)


def read_int(handle) -> int:
    """A DUT signal as an unsigned Python int (fails loudly on X/Z)."""
    return int(handle.value.to_unsigned()) if hasattr(handle.value, "to_unsigned") else int(handle.value)


def describe(code: int, fmt: FloatFormat) -> str:
    """'0b<s>_<e>_<m> (value)' for one code."""
    b = format(int(code), f"0{fmt.bits}b")
    s, e, m = b[0], b[1 : 1 + fmt.e], b[1 + fmt.e :]
    return f"0b{s}_{e}_{m} ({float(decode(int(code), fmt))!r})"


def check_codes(
    got: np.ndarray,
    exp: np.ndarray,
    fmt: FloatFormat,
    what: str,
    operands: Mapping[str, tuple[np.ndarray, FloatFormat]] | None = None,
    context: str = "",
) -> int:
    """Assert got == exp elementwise (codes); on mismatch raise with the first one in bits and values.

    operands: name -> (codes, format) printed for the failing index.  Returns the number checked."""
    got = np.asarray(got, dtype=np.int64).ravel()
    exp = np.asarray(exp, dtype=np.int64).ravel()
    if got.shape != exp.shape:
        raise AssertionError(f"{what}: got {got.size} results, expected {exp.size}")
    bad = np.flatnonzero(got != exp)
    if bad.size:
        i = int(bad[0])
        lines = [f"{what}: {bad.size} of {got.size} mismatches {context}; first at index {i}:"]
        for name, (codes, f) in (operands or {}).items():
            c = np.asarray(codes).ravel()
            lines.append(f"  {name:>8} = {describe(int(c[i]), f)}")
        lines.append(f"  {'rtl':>8} = {describe(int(got[i]), fmt)}")
        lines.append(f"  {'golden':>8} = {describe(int(exp[i]), fmt)}")
        raise AssertionError("\n".join(lines))
    return int(got.size)

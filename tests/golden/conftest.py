import numpy as np
import pytest

from golden.formats import BF16, E2M1, E2M3, E3M2, E4M3, E5M2, FP16, FloatFormat

from .oracle import Spec

# a 7-bit custom format and a 12-bit custom format, both IEEE-style with Inf on overflow
CUSTOM7 = FloatFormat(3, 3, special="ieee", overflow="inf", name="E3M3")
CUSTOM12 = FloatFormat(5, 6, special="ieee", overflow="inf", name="E5M6")
SMALL_FORMATS = [E2M1, E2M3, E3M2, E4M3, E5M2, CUSTOM7]
WIDE_FORMATS = [FP16, BF16, CUSTOM12]


def spec_of(fmt: FloatFormat) -> Spec:
    """The oracle's own description of a golden format (only the four defining fields)."""
    return Spec(fmt.e, fmt.m, "int" if fmt.e == 0 else fmt.special, fmt.overflow)


def same(a, b) -> np.ndarray:
    """Bitwise-equal float64 values (NaN == NaN, +0 != -0)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return (np.isnan(a) & np.isnan(b)) | ((a == b) & (np.signbit(a) == np.signbit(b)))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)

"""Bad input gets one clear error naming the parameter and what is allowed."""

import numpy as np
import pytest

from golden.accumulate import accumulate
from golden.formats import FloatFormat, FormatError, parse_format
from golden.mx import mx_quantize


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(e=9, m=3), r"'e' .* 0\.\.8"),
        (dict(e=4, m=24), r"'m' .* 0\.\.23"),
        (dict(e=4, m=3, special="weird"), r"'special' must be one of"),
        (dict(e=4, m=3, overflow="wrap"), r"'overflow' must be one of"),
        (dict(e=4, m=3, special="fn", overflow="inf"), r"overflow='inf' needs special='ieee'"),
        (dict(e=2, m=1, special="finite", overflow="nan"), r"overflow='nan' needs"),
        (dict(e=4, m=0, special="fn"), r"needs parameter 'm' >= 1"),
        (dict(e=4.5, m=3), r"'e' must be an integer"),
    ],
)
def test_bad_formats(kwargs, match):
    with pytest.raises(FormatError, match=match):
        FloatFormat(**kwargs)


def test_bad_format_names():
    with pytest.raises(FormatError, match="unknown format 'FP8'; allowed: presets"):
        parse_format("FP8")
    assert parse_format("bf16").m == 7 and parse_format("E3M4-ieee").special == "ieee"


def test_bad_scheme_and_order():
    with pytest.raises(ValueError, match=r"parameter 'scheme' must be one of naive, kahan, .*kulisch; got 'pairsum'"):
        accumulate(np.ones(4), "pairsum", "BF16")
    with pytest.raises(ValueError, match=r"parameter 'order' must be one of sequential, pairwise"):
        accumulate(np.ones(4), "naive", "BF16", order="tree")
    with pytest.raises(ValueError, match="must be a floating-point format"):
        accumulate(np.ones(4), "naive", "INT8")


@pytest.mark.parametrize("k", [0, 3, 12, 8192, 2.0])
def test_bad_block_size(k):
    with pytest.raises(ValueError, match=r"parameter 'k' \(MX block size\) must be a power of two"):
        mx_quantize(np.ones(32), "E4M3", k)


def test_block_size_must_divide():
    with pytest.raises(ValueError, match=r"parameter 'k' \(=32\) must divide the length of the quantised axis -1 \(=48\)"):
        mx_quantize(np.ones((2, 48)), "E4M3", 32)
    with pytest.raises(ValueError, match="parameter 'scale_rule' must be one of ocp, ceil"):
        mx_quantize(np.ones(32), "E4M3", 32, scale_rule="round")

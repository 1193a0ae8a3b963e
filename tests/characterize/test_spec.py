"""Spec validation: every bad field gets one ValueError naming the field and the allowed values."""

from __future__ import annotations

import pytest

from characterize.spec import DISTS, PROFILES, load_spec, spec_from_dict


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_profiles_are_valid(name):
    s = spec_from_dict({}, name)
    assert s.lengths()[0] == 1 and s.lengths()[-1] == s.max_n
    assert all(n & (n - 1) == 0 for n in s.pairwise_lengths() if n not in (s.max_n, s.fixed_n))


def test_default_profile_covers_the_model_grid():
    s = spec_from_dict({}, "model")
    assert s.max_n >= 4096
    assert {"uniform", "normal", "softmax", "mx_products"} <= set(s.dists)
    assert {"FP32", "BF16", "FP16"} <= set(s.accs)


@pytest.mark.parametrize(
    "bad, field, allowed",
    [
        ({"schemes": ["naive", "kahn"]}, "schemes", "kahan"),
        ({"orders": ["random"]}, "orders", "pairwise"),
        ({"accs": ["BF17"]}, "accs", "E<e>M<m>"),
        ({"accs": ["E9M3"]}, "accs", "0..8"),
        ({"accs": ["INT8"]}, "accs", "floating-point"),
        ({"comps": {"BF16": ["FP99"]}}, "comps[BF16]", "E<e>M<m>"),
        ({"comps": {"FP8": ["FP32"]}}, "comps", "accs"),
        ({"max_n": 0}, "max_n", "1.."),
        ({"max_n": -5}, "max_n", "1.."),
        ({"fixed_n": 0}, "fixed_n", "1 <= n"),
        ({"trials": 1}, "trials", "2.."),
        ({"dists": ["cauchy"]}, "dists", "uniform"),
        ({"dists": []}, "dists", "non-empty"),
        ({"kappa": 0.5}, "kappa", "[1, 1e12]"),
        ({"lengths": [1, 2]}, "lengths", "allowed fields"),
        ({"rel_se_target": 1.5}, "rel_se_target", "[0, 1)"),
        ({"dense_nu": [8, 2]}, "dense_nu", "0 < lo < hi"),
        ({"dense_nu": [2]}, "dense_nu", "[lo, hi]"),
        ({"dense_per_octave": 0}, "dense_per_octave", "1..64"),
        ({"rel_se_target": -0.1}, "rel_se_target", "[0, 1)"),
        ({"max_trials": 100}, "max_trials", "trials (128)"),
    ],
)
def test_bad_spec_names_field_and_allowed_values(bad, field, allowed):
    with pytest.raises(ValueError) as ei:
        spec_from_dict(bad)
    msg = str(ei.value)
    assert f"'{field}'" in msg or f"{field!r}" in msg, msg
    assert allowed in msg, msg


def test_unknown_distribution_message_lists_all():
    with pytest.raises(ValueError) as ei:
        spec_from_dict({"dists": ["uniform", "zipf"]})
    assert all(d in str(ei.value) for d in DISTS)


def test_yaml_file_and_unknown_profile(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("name: t\naccs: [BF16]\nmax_n: 64\ncomps: {BF16: FP32}\nkappa: 1e6\n")
    s = load_spec(str(p))
    assert s.accs == ("BF16",) and s.max_n == 64 and s.comps == {"BF16": ("FP32",)} and s.kappa == 1e6
    p.write_text("- not a mapping\n")
    with pytest.raises(ValueError, match="mapping"):
        load_spec(str(p))
    with pytest.raises(ValueError, match="'profile' must be one of"):
        load_spec(None, "huge")


def test_digest_tracks_numbers_not_name():
    a = spec_from_dict({"name": "a"})
    assert a.digest() == spec_from_dict({"name": "b"}).digest()
    assert a.digest() != spec_from_dict({"seed": 1}).digest()
    # the trial cap changes the numbers only with adaptive trials
    assert a.digest() == spec_from_dict({"max_trials": 1000}).digest()
    ad = spec_from_dict({"rel_se_target": 0.05})
    assert ad.digest() != a.digest() != spec_from_dict({"rel_se_target": 0.05, "max_trials": 1000}).digest() != ad.digest()


def test_dense_lengths_only_where_nu_is_in_range():
    """dense_nu adds dense_per_octave lengths per factor 2 only where lo <= n u <= hi for that accumulator."""
    base = spec_from_dict({"per_octave": 4})
    s = spec_from_dict({"per_octave": 4, "dense_nu": [2, 8], "dense_per_octave": 16})
    assert s.lengths() == base.lengths() == s.lengths("FP32")  # FP32: n u >= 2 needs n > max_n
    bf = s.lengths("BF16")  # u = 2^-8: the range is n = 512 .. 2048
    extra = sorted(set(bf) - set(base.lengths()))
    assert extra and min(extra) >= 512 and max(extra) <= 2048
    assert len([n for n in bf if 512 <= n <= 2048]) == 2 * 16 + 1  # 16 per octave, both ends included
    assert s.digest() != base.digest() == spec_from_dict({"per_octave": 4, "dense_per_octave": 8}).digest()

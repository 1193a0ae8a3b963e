"""apace.pareto: non-dominated set, normalised weighted best candidate, plot files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apace import pareto


def test_pareto_mask_hand_example():
    v = np.array([[1, 9], [2, 5], [3, 5], [4, 1], [5, 2], [2, 5], [np.nan, 0]])
    # (3,5) dominated by (2,5); (5,2) by (4,1); the duplicate (2,5) stays; NaN never on the front
    assert pareto.pareto_mask(v).tolist() == [True, True, False, True, False, True, False]


def test_best_candidate_rule_and_weights():
    v = np.array([[100.0, 20.0], [200.0, 11.0], [400.0, 10.0]])
    i, s = pareto.best_candidate(v)
    # scores: (1 + 2)/2 = 1.5, (2 + 1.1)/2 = 1.55, (4 + 1)/2 = 2.5
    assert i == 0 and s == pytest.approx([1.5, 1.55, 2.5])
    i, _ = pareto.best_candidate(v, [1, 10])  # perplexity weighted 10x: (2 + 11)/11 < (1 + 20)/11
    assert i == 1
    with pytest.raises(ValueError, match="weights"):
        pareto.best_candidate(v, [1, -1])


def test_select_and_plot(tmp_path):
    df = pd.DataFrame({"lut": [100, 200, 400, 300], "ppl": [20, 11, 10, 12], "label": list("abcd")})
    out = pareto.select(df, ["lut", "ppl"], {"lut": 1, "ppl": 1})
    assert out["on_front"].tolist() == [True, True, True, False]
    assert out["best"].tolist() == [True, False, False, False]
    files = pareto.plot_front(out, ["lut", "ppl"], [tmp_path / "f.png", tmp_path / "f.svg"])
    assert all(f.stat().st_size > 1000 for f in files)
    assert "<svg" in (tmp_path / "f.svg").read_text()[:500]
    with pytest.raises(ValueError, match="objective"):
        pareto.select(df, ["lut", "area"])

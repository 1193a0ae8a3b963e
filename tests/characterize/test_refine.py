"""Step refinement of the error model's training lengths (spec refine_steps, characterize/refine.py): steps are
found from training lengths only, extra lengths lie only inside them and never on the sweep's own grid, and the
held-out lengths are exactly those without refinement."""

from __future__ import annotations

import numpy as np
import pytest

from characterize import engine, error_model
from characterize.refine import fine_grid, holdout_split, refine_lengths, step_intervals
from characterize.spec import MODEL_REL_SE, spec_from_dict


def _train_ns(per_octave=8, max_n=4096):
    """Training lengths of a sweep with `per_octave` lengths per octave (every other length, n > 1)."""
    ns = [n for n in spec_from_dict({"per_octave": per_octave, "max_n": max_n}).lengths() if n > 1]
    return np.array(ns)[holdout_split(ns)], ns


def test_holdout_split_alternates_and_keeps_the_longest():
    assert holdout_split([2, 3, 4, 5, 6]).tolist() == [True, False, True, False, True]
    assert holdout_split([2, 3, 4, 5]).tolist() == [True, False, True, True]
    assert holdout_split([]).tolist() == []


def test_synthetic_step_is_detected_and_refined_only_inside_it():
    """A power law (slope 0.5) with a factor-2 step between two adjacent training lengths: that interval
    and no other is flagged; the extra lengths lie strictly inside it, on the 32-per-octave grid, and none
    is a length of the 8-per-octave sweep (training or held-out)."""
    tr, sweep = _train_ns()
    y = 0.3 * tr**0.5
    j = int(np.searchsorted(tr, 1500)) - 1  # the interval (tr[j], tr[j+1]) around n = 1500
    y[j + 1:] *= 2.0
    assert step_intervals(tr, y, 1.3) == [j]
    extra = refine_lengths(tr, [y], sweep, 32, 1.3)
    assert extra and all(tr[j] < n < tr[j + 1] for n in extra)
    assert not set(extra) & set(sweep)
    assert set(extra) <= set(fine_grid(int(tr[j]), int(tr[j + 1]), 32))
    # a smooth power law (and a bend of its slope) is not a step; neither is noise of a few per cent
    rng = np.random.default_rng(0)
    assert step_intervals(tr, 0.3 * tr**0.5 * rng.uniform(0.97, 1.03, tr.size), 1.3) == []
    bend = np.where(tr < 600, 0.3 * tr**0.5, 0.3 * 600**0.5 * (tr / 600) ** 1.0)
    assert step_intervals(tr, bend, 1.3) == []
    # a drop is a step too; spreads negligible at both ends (equal by the held-out rule) are not
    assert step_intervals(tr, np.where(tr > 1500, 0.5, 1.0) * 0.3 * tr**0.5, 1.3) == [j]
    assert step_intervals(tr, np.where(tr > 1500, 0.5, 1.0) * 1e-3, 1.3) == []


def _synthetic_rows(ns, refined_ns=()):
    """Engine-like rows of one (config, dist) whose spread is a power law with a factor-2 step at n = 1540."""
    from scipy.stats import norm

    probs = np.clip(engine.PROBS, 0.0005, 0.9995)
    u = error_model.acc_format("BF16").unit_roundoff
    rows = []
    for n, ref in [(n, False) for n in ns] + [(n, True) for n in refined_ns]:
        sd = 0.3 * n**0.5 * (2.0 if n >= 1540 else 1.0)
        row = {"spec": "syn", "spec_digest": "x", "trials": 10**6, "scheme": "naive", "order": "sequential",
               "acc": "BF16", "comp": "", "dist": "normal", "n": n, "u": u, "sum_abs_mean": 0.8 * n,
               "rel_sumabs_mean": 0.0, "rel_sumabs_std": sd * u, "ulpsa_mean": 0.0, "ulpsa_std": sd * 3.0,
               "refined": ref}
        row.update(dict(zip(engine.QCOLS, sd * norm.ppf(probs) * u)))
        row.update(dict(zip(engine.UQCOLS, sd * 3.0 * norm.ppf(probs))))
        rows.append(row)
    import pandas as pd

    return pd.DataFrame(rows)


def test_refinement_leaves_the_held_out_lengths_unchanged_and_fixes_the_step():
    """The fit with refined rows has exactly the held-out lengths of the fit without them; the refined lengths
    become training nodes (never held-out points), and the held-out point next to the step, mispredicted by
    interpolation across it, is predicted within +-20 % once the step's interval is refined."""
    tr, sweep = _train_ns()
    ns = [n for n in sweep if n <= 4096]
    base = _synthetic_rows(ns)
    extra = refine_lengths(tr, [base.set_index("n").loc[tr, "rel_sumabs_std"].to_numpy() / base["u"].iloc[0]],
                           sweep, 32, 1.3)
    assert extra and not set(extra) & set(ns)
    e0 = error_model.fit_entry(base.drop(columns="refined"))
    e1 = error_model.fit_entry(_synthetic_rows(ns, extra))
    assert e1.holdout["ns"] == e0.holdout["ns"]
    assert set(extra) <= set(e1.ns.astype(int)) and not set(extra) & set(e1.holdout["ns"])
    assert set(e0.ns.astype(int)) <= set(e1.ns.astype(int))
    assert not e0.holdout["pass"] and e1.holdout["pass"], (e0.holdout["outside"], e1.holdout["outside"])


def test_engine_refines_the_klein_breakdown_step(tmp_path):
    """End to end on golden sums: BF16 Klein, U(0,1) terms, sequential -- the spread steps up where the partial
    sums reach 768 (n ~ 1536).  The engine adds refined rows there, each on the 32-per-octave grid, none on the
    sweep's own grid, only for the sequential order; the held-out lengths of the fitted entry are the sweep's."""
    spec = spec_from_dict({"name": "rk", "schemes": ["klein"], "orders": ["sequential", "pairwise"], "accs": ["BF16"],
                           "comps": {}, "dists": ["uniform"], "max_n": 2048, "per_octave": 8, "trials": 256,
                           "fixed_n": 1024, "refine_steps": True})
    df = engine.run(spec, str(tmp_path / "cache"), progress=False)
    ref = df[df["refined"]]
    assert len(ref) and (ref["order"] == "sequential").all()
    grid = set(spec.lengths("BF16"))
    assert not set(ref["n"]) & grid
    assert set(ref["n"]) <= {int(round(2.0 ** (i / 32))) for i in range(32 * 11 + 1)}
    assert ((ref["n"] > 1448) & (ref["n"] < 1722)).any()  # inside the step
    m = error_model.fit_table(df)
    e = m.entries["klein|sequential|BF16|-|uniform"]
    seq = [n for n in spec.lengths("BF16") if n > 1]
    assert e.holdout["ns"] == [n for n, t in zip(seq, holdout_split(seq)) if not t]
    # a rerun resumes from the cache (base and refinement units)
    again = engine.run(spec, str(tmp_path / "cache"), progress=False)
    assert len(again) == len(df) and int(again["refined"].sum()) == len(ref)


def test_refine_spec_fields_are_validated_and_default_is_off():
    assert not spec_from_dict({}).refine_steps
    m = spec_from_dict({}, "model")
    assert m.refine_steps and m.rel_se_target == MODEL_REL_SE == pytest.approx(1 / 30, rel=0.01)
    # the refinement fields change the numbers only when refinement is on; the base rows never depend on them
    d = spec_from_dict({})
    assert d.digest() == spec_from_dict({"refine_ratio": 2.0}).digest() == d.base_digest()
    on = spec_from_dict({"refine_steps": True})
    assert on.digest() != d.digest() == on.base_digest()
    assert on.digest() != spec_from_dict({"refine_steps": True, "refine_ratio": 1.5}).digest()
    for bad, match in (({"refine_steps": "yes"}, "'refine_steps' must be true or false"),
                       ({"refine_ratio": 1.0}, r"'refine_ratio' must be a number in \(1, 10\]"),
                       ({"refine_ratio": "big"}, "'refine_ratio'"),
                       ({"refine_per_octave": 300}, "'refine_per_octave' must be an integer"),
                       ({"refine_steps": True, "per_octave": 8, "refine_per_octave": 8}, r"9\.\.256"),
                       ({"refine_steps": True, "dense_nu": [2, 32], "dense_per_octave": 32, "refine_per_octave": 32},
                        r"33\.\.256")):
        with pytest.raises(ValueError, match=match):
            spec_from_dict(bad)


def test_shipped_model_held_out_lengths_are_the_sweeps():
    """Every sequential entry of the shipped model is held out exactly at the model sweep's alternate lengths
    (refinement never moves or adds a held-out length), and its refined training nodes are off that grid."""
    shipped = error_model.ErrorModel.load()
    spec = spec_from_dict({}, "model")
    seen_refined = 0
    for k, e in shipped.entries.items():
        scheme, order, acc, comp, dist = k.split("|")
        if order != "sequential" or isinstance(e, error_model.RowEntry):
            continue
        seq = [n for n in spec.lengths(acc) if n > 1]
        split = holdout_split(seq)
        assert e.holdout["ns"] == [n for n, t in zip(seq, split) if not t], k
        extra = set(e.ns.astype(int)) - {n for n, t in zip(seq, split) if t}
        assert not extra & set(seq), k
        seen_refined += len(extra)
    assert seen_refined > 0

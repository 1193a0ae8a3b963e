"""RTL-in-the-loop check (`apace characterize --rtl`): recompute a small profile on the RTL
accumulators (src/acc_seq.v and src/acc_kulisch_seq.v through tb/acc_seq/acc_seq_lanes.v, driven by
cocotb via tb/common) and show that every result code, and hence every profile row, equals golden's.

Profile: BF16 accumulator (comp = acc), uniform and normal inputs (characterize.dists, seed 0),
16 trials each, sequential lengths 1, 2, 4, ..., 256; schemes naive, kahan, neumaier, twosum,
fasttwosum, klein, kulisch.  Until the RTL issue has landed it says the RTL is not yet available."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RTL_SCHEMES = ("naive", "kahan", "neumaier", "twosum", "fasttwosum", "klein", "kulisch")
RTL_MODULES = ("acc_seq", "acc_kulisch_seq", "acc_step", "acc_final", "fp_cmp_mag", "fp_add_mix", "fp_unpack",
               "fp_round", "fp_param_check")
LANES = 8


def rtl_available() -> tuple[bool, str]:
    need = [os.path.join(ROOT, "src", f"{m}.v") for m in RTL_MODULES]
    need += [os.path.join(ROOT, "tb", "common", "runner.py"), os.path.join(ROOT, "tb", "acc_seq", "acc_seq_lanes.v")]
    missing = [p for p in need if not os.path.exists(p)]
    if missing:
        return False, "RTL not yet available: missing " + ", ".join(os.path.relpath(p, ROOT) for p in missing)
    return True, ""


def profile_inputs(trials: int = 16, max_n: int = 256, acc: str = "BF16", seed: int = 0):
    from golden.formats import rounder

    from .dists import generate
    from .spec import DISTS, acc_format

    fa = acc_format(acc)
    dists = ("uniform", "normal")
    x = np.concatenate([generate(d, trials, max_n, np.random.default_rng([seed, DISTS.index(d)]), acc_m=fa.m)
                        for d in dists])
    lengths = [2**i for i in range(max_n.bit_length()) if 2**i <= max_n]
    return rounder(fa)(x), np.repeat(np.arange(len(dists)), trials), dists, lengths, fa


def profile_rows(values: dict, xa, didx, dists, lengths, fa) -> pd.DataFrame:
    """Profile rows (engine.row_metrics) from {(scheme, n): result values}."""
    from .engine import exact_prefix_sums, row_metrics

    hi, lo = exact_prefix_sums(xa, lengths)
    absx = np.abs(xa)
    rows = []
    for j, n in enumerate(lengths):
        sabs = absx[:, :n].sum(1)
        minnz = np.where(absx[:, :n] > 0, absx[:, :n], np.inf).min(1)
        for scheme in RTL_SCHEMES:
            v = values[(scheme, n)]
            for di, d in enumerate(dists):
                m = didx == di
                r = {"scheme": scheme, "order": "sequential", "acc": fa.label(), "dist": d, "n": n}
                r.update(row_metrics(v[m], hi[m, j], lo[m, j], sabs[m], minnz[m], scheme, "sequential", n, fa, None))
                rows.append(r)
    return pd.DataFrame(rows)


def run_rtl(out: str, sim: str = "verilator") -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
    """Drive the RTL; returns (golden profile, RTL profile, number of mismatching result codes,
    number of sums per scheme)."""
    import sys

    from golden.formats import decode, encode

    from .engine import sequential_prefix_values

    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    from tb.common.formats import fmt_to_json, rtl_params
    from tb.common.runner import SimJob, run_cocotb, src_files

    xa, didx, dists, lengths, fa = profile_inputs()
    gold = {}
    for scheme in RTL_SCHEMES:
        vals = sequential_prefix_values(xa, scheme, fa, None, lengths)
        for n in lengths:
            gold[(scheme, n)] = vals[n]
    work = os.path.abspath(os.path.join(out, "rtl"))
    os.makedirs(work, exist_ok=True)
    groups = []
    codes = encode(xa, fa)
    for n in lengths:
        p = os.path.join(work, f"codes_n{n}.npy")
        np.save(p, codes[:, :n])
        groups.append([n, p])
    res_path = os.path.join(work, "rtl_results.npz")
    params = {**rtl_params(fa), **rtl_params(fa, "C"), "LANES": LANES, "MAXLEN": 1024}
    sources = [*src_files(*RTL_MODULES), os.path.join(ROOT, "tb", "acc_seq", "acc_seq_lanes.v")]
    cfg = {"acc": fmt_to_json(fa), "comp": fmt_to_json(fa), "lanes": LANES, "groups": groups, "out": res_path}
    from pathlib import Path

    run_cocotb(SimJob(sim, "acc_seq_lanes", [Path(s) for s in sources], params, "characterize.rtl_tb",
                      Path(ROOT) / "characterize"), cfg)
    got = np.load(res_path)
    rtl_vals = {}
    mismatches = 0
    for n in lengths:
        arr = got[f"n{n}"]
        for k, scheme in enumerate(RTL_SCHEMES):
            rtl_vals[(scheme, n)] = decode(arr[k], fa)
            mismatches += int(np.sum(arr[k] != encode(gold[(scheme, n)], fa)))
    return (profile_rows(gold, xa, didx, dists, lengths, fa), profile_rows(rtl_vals, xa, didx, dists, lengths, fa),
            mismatches, xa.shape[0] * len(lengths))


def main(out: str, progress: bool = True, sim: str = "verilator") -> int:
    ok, why = rtl_available()
    if not ok:
        print(f"characterize --rtl: {why}; nothing to compare (golden profile unaffected)")
        return 3
    print(f"characterize --rtl: driving src/acc_seq.v + src/acc_kulisch_seq.v under {sim} through cocotb ...")
    g, r, mism, n_sums = run_rtl(out, sim)
    same = g.equals(r)
    g.to_csv(os.path.join(out, "rtl_profile_golden.csv"), index=False)
    r.to_csv(os.path.join(out, "rtl_profile_rtl.csv"), index=False)
    print(f"characterize --rtl: {n_sums} sums per scheme x {len(RTL_SCHEMES)} schemes "
          f"(every prefix length of each input row); result codes differing from golden: {mism}; "
          f"profile rows identical: {same} ({len(g)} rows, {os.path.join(out, 'rtl_profile_rtl.csv')})")
    return 0 if (mism == 0 and same) else 1

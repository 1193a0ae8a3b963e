#!/usr/bin/env python
"""verilator --lint-only -Wall over every module in src/ at several parameter sets.

Modules are found as src/<name>.v (one module per file); submodules resolve through `-y src`.
Parameter sets per module are listed in PARAM_SETS; a module not listed is linted at its defaults.
Waivers live in the RTL as `verilator lint_off` comments with a reason (see docs/rtl.md).

    python scripts/lint_rtl.py            # all modules, all sets; exit 1 on any warning
    python scripts/lint_rtl.py fp_add     # selected modules
Prints one line per (module, parameter set): OK or the first warnings.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

E4M3 = {"EW": 4, "MW": 3, "SPECIAL": 1, "OVF": 2}
E5M2 = {"EW": 5, "MW": 2, "SPECIAL": 0, "OVF": 1}
E2M1 = {"EW": 2, "MW": 1, "SPECIAL": 2, "OVF": 0}
FP16 = {"EW": 5, "MW": 10, "SPECIAL": 0, "OVF": 1}
BF16 = {"EW": 8, "MW": 7, "SPECIAL": 0, "OVF": 1}
FP32 = {"EW": 8, "MW": 23, "SPECIAL": 0, "OVF": 1}


def _c(fmt: dict, prefix: str) -> dict:
    return {prefix + k: v for k, v in fmt.items()}


def _ab(a: dict, b: dict) -> dict:
    return {**_c({k: v for k, v in a.items() if k != "OVF"}, "A"), **_c({k: v for k, v in b.items() if k != "OVF"}, "B")}


FMTS = [E4M3, E5M2, E2M1, FP16, BF16, FP32]
ACC_SETS = [{**E4M3, **_c(E4M3, "C")}, {**BF16, **_c(FP16, "C")}, {**E5M2, **_c(FP16, "C")}]
PARAM_SETS: dict[str, list[dict]] = {
    "fp_param_check": FMTS,
    "fp_unpack": [{k: v for k, v in f.items() if k != "OVF"} for f in FMTS],
    "fp_round": [{**f, "ZW": z} for f in (E4M3, FP16, E2M1) for z in (4, 40)]
    + [{**f, "ZW": z, "SUBEXACT": 1} for f in (E4M3, FP16) for z in (f["MW"] + 1, 40)],
    "fp_add": [*FMTS, {**BF16, "LATENCY": 2}],
    "fp_add_mix": [{**_ab(E4M3, FP16), **E5M2}, {**_ab(BF16, FP16), **BF16, "LATENCY": 1}, {**_ab(E2M1, E4M3), **E4M3}],
    "fp_cvt": [{**_c({k: v for k, v in FP16.items() if k != "OVF"}, "I"), **E4M3},
               {**_c({k: v for k, v in E4M3.items() if k != "OVF"}, "I"), **BF16}],
    "fp_cmp_mag": [_ab(E4M3, E4M3), _ab(BF16, FP16)],
    "acc_step": [{**s, "SCHEME": k} for s in ACC_SETS for k in range(6)],
    "acc_final": [{**s, "SCHEME": k} for s in ACC_SETS for k in range(6)],
    "acc_combine": [{**s, "SCHEME": k} for s in ACC_SETS[:2] for k in range(6)],
    "acc_seq": [{**s, "SCHEME": k} for s in ACC_SETS for k in range(6)],
    "acc_tree": [{**ACC_SETS[0], "SCHEME": k, "N": n} for k in range(6) for n in (1, 2, 5)]
    + [{**ACC_SETS[1], "SCHEME": 5, "N": 3}],
    "acc_pairwise_seq": [{**s, "SCHEME": k, "MAXLEN": 1024} for s in ACC_SETS[:2] for k in range(6)]
    + [{**ACC_SETS[0], "SCHEME": 5, "MAXLEN": 1}, {**ACC_SETS[2], "SCHEME": 1, "MAXLEN": 4095}],
    "acc_kulisch_seq": [{**E4M3, "MAXLEN": 1}, {**FP16, "MAXLEN": 1000}, {**BF16, "MAXLEN": 4096}],
    "acc_kulisch_tree": [{**E4M3, "N": 1}, {**E2M1, "N": 2}, {**FP16, "N": 31}, {**BF16, "N": 1000}],
    "kulisch_term": [{k: v for k, v in f.items() if k != "OVF"} for f in (E4M3, E2M1, FP16, BF16)]
    + [{"EW": 5, "MW": 10, "SPECIAL": 0, "FW": 42}],
}


def modules() -> list[str]:
    return sorted(p.stem for p in SRC.glob("*.v"))


def param_sets(module: str) -> list[dict]:
    return PARAM_SETS.get(module, [{}])


def lint(module: str, params: dict) -> tuple[bool, str]:
    """(clean, output) of one verilator --lint-only -Wall run."""
    exe = shutil.which("verilator")
    if exe is None:
        raise RuntimeError("verilator not on PATH; run `. scripts/setup.sh` first")
    cmd = [exe, "--lint-only", "-Wall", "--top-module", module, "-y", str(SRC), str(SRC / f"{module}.v")]
    cmd += [f"-G{k}={v}" for k, v in params.items()]
    r = subprocess.run(cmd, capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    bad = r.returncode != 0 or "%Warning" in out or "%Error" in out
    return not bad, out


def main(argv: list[str]) -> int:
    names = argv or modules()
    unknown = [n for n in names if n not in modules()]
    if unknown:
        print(f"unknown module(s) {unknown}; allowed: {modules()}", file=sys.stderr)
        return 2
    failed = 0
    for m in names:
        for p in param_sets(m):
            ok, out = lint(m, p)
            tag = ",".join(f"{k}={v}" for k, v in p.items()) or "defaults"
            if ok:
                print(f"OK    {m} [{tag}]")
            else:
                failed += 1
                first = "\n      ".join(line for line in out.splitlines() if line.startswith("%"))[:2000]
                print(f"FAIL  {m} [{tag}]\n      {first}")
    print(f"{failed} failing lint run(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

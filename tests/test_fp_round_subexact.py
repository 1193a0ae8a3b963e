"""fp_round's SUBEXACT=1 variant (used by acc_kulisch_seq) is a formal equivalent of the general
rounder under the Kulisch accumulator's guarantee (zexp = EMIN - MW, sticky = 0): a Yosys SAT proof
over every input, at the register widths the accumulator instantiates.  Simulation of acc_kulisch_seq
against golden (tb/acc_seq, tb/mx_dot) checks the values; this proves nothing else changed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from apace import costmodel

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

pytestmark = pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed")


def kulisch_width(ew: int, mw: int, special: int, maxlen: int) -> int:
    """acc_kulisch_seq's register width FW (the cost model's reading of the RTL)."""
    return int(costmodel.kulisch_width(ew, mw, maxlen, special))


def miter(ew: int, mw: int, special: int, ovf: int, zw: int, dut_zexp_offset: int = 0) -> str:
    """A module whose output `ok` is 1 iff the general rounder and the SUBEXACT=1 one (its zexp moved
    by dut_zexp_offset, 0 for the Kulisch guarantee) give the same code for the same input."""
    qexp = 1 - ((1 << (ew - 1)) - 1) - mw
    p = f".ZW({zw}), .EW({ew}), .MW({mw}), .SPECIAL({special}), .OVF({ovf})"
    ports = ".nan(nan), .inf(inf), .inf_sign(inf_sign), .sign(sign), .z(z), .sticky(1'b0)"
    return f"""module eqchk(input nan, input inf, input inf_sign, input sign, input [{zw - 1}:0] z, output ok);
  wire [{ew + mw}:0] y0, y1;
  fp_round #({p}, .SUBEXACT(0)) u_ref ({ports}, .zexp(-12'sd{-qexp}), .y(y0));
  fp_round #({p}, .SUBEXACT(1)) u_dut ({ports}, .zexp(-12'sd{-(qexp + dut_zexp_offset)}), .y(y1));
  assign ok = y0 == y1;
endmodule
"""


def prove(tmp_path: Path, ew: int, mw: int, special: int, ovf: int, zw: int, dut_zexp_offset: int = 0):
    (tmp_path / "eqchk.v").write_text(miter(ew, mw, special, ovf, zw, dut_zexp_offset))
    script = (f"read_verilog -sv {SRC / 'fp_round.v'} {SRC / 'fp_param_check.v'} {tmp_path / 'eqchk.v'}; "
              "hierarchy -top eqchk; proc; flatten; opt; sat -prove ok 1 -verify -show-inputs")
    return subprocess.run(["yosys", "-q", "-p", script], capture_output=True, text=True, timeout=600)


# (EW, MW, SPECIAL, OVF, MAXLEN): the element formats of the Kulisch tests and DSE, short and long sums
CASES = [
    (2, 1, 2, 0, 4),      # E2M1 finite, saturating
    (3, 2, 2, 0, 1),      # E3M2, MAXLEN 1: the narrowest register
    (4, 2, 0, 1, 64),     # the E4M2 widths where ABC's mapping jumped
    (4, 3, 1, 2, 16),     # E4M3 fn, NaN on overflow
    (5, 10, 0, 1, 1024),  # FP16
    (8, 7, 0, 1, 4096),   # BF16
    (8, 23, 0, 1, 1024),  # FP32
]


@pytest.mark.parametrize("ew,mw,special,ovf,maxlen", CASES,
                         ids=[f"E{c[0]}M{c[1]}-S{c[2]}-L{c[4]}" for c in CASES])
def test_subexact_rounder_is_equivalent_for_kulisch_inputs(tmp_path, ew, mw, special, ovf, maxlen):
    r = prove(tmp_path, ew, mw, special, ovf, kulisch_width(ew, mw, special, maxlen))
    assert r.returncode == 0, f"SAT found an input where SUBEXACT=1 differs:\n{(r.stdout + r.stderr)[-3000:]}"


def test_the_proof_can_fail(tmp_path):
    """With the guarantee broken (z's LSB one binade above the smallest subnormal) the two rounders
    differ, and the miter must find the counterexample: a passing proof above means something."""
    r = prove(tmp_path, 4, 2, 0, 1, kulisch_width(4, 2, 0, 64), dut_zexp_offset=1)
    assert r.returncode != 0 and "proof did fail" in r.stdout + r.stderr, (r.stdout + r.stderr)[-2000:]

"""cocotb: mx_dot_bench (mx_player -> L lockstep mx_dot units) against golden.mx.mx_dot, bit-exact.

The configuration (tb.common.runner.tb_config) names the formats, k, the reduction lengths (blocks per
dot product) and the stimulus sets (tb.mx_dot.mx_vectors.KINDS); every set has n dot products per
length and scheme.  With cfg['stall'] the source and sink randomly stall (valid/ready gaps).
The beats go through the shared drive loop tb/mx_dot/mx_drive.py.
"""

from __future__ import annotations

import numpy as np
from cocotb import test

from golden.formats import decode, encode, parse_format
from golden.mx import block_values, mx_dot
from tb.common.runner import tb_config
from tb.common.scoreboard import check_codes, describe
from tb.mx_dot.mx_drive import play, start
from tb.mx_dot.mx_vectors import make_set


def dot_fields(ta, tb, k: int, lanes: int):
    """The beats of n dot products of nb blocks, L lanes per beat (the last batch padded with copies of
    dot product 0): ([(codes, width)] in mx_dot_bench's payload order, last)."""
    n, nb = ta.scale_exp.shape
    nbatch = -(-n // lanes)
    order = np.arange(nbatch * lanes)
    order[order >= n] = 0

    def beats(codes: np.ndarray, per: int) -> np.ndarray:  # (dots, nb*per) -> (nbatch*nb, lanes*per)
        c = codes.reshape(n, nb, per)[order].reshape(nbatch, lanes, nb, per)
        return c.transpose(0, 2, 1, 3).reshape(nbatch * nb, lanes * per)

    fields = [(beats(ta.codes(), k), ta.elem.bits), (beats(tb.codes(), k), tb.elem.bits),
              (beats(ta.scale_codes(), 1), 8), (beats(tb.scale_codes(), 1), 8)]
    last = np.tile(np.arange(nb) == nb - 1, nbatch)
    return fields, last


def mismatch_report(ta, tb, acc, got: np.ndarray, exp: np.ndarray, scheme: str) -> str:
    """The first mismatching dot product: its blocks (scales, golden block values) in bits and values."""
    bad = np.flatnonzero(got != exp)
    if not bad.size:
        return ""
    i = int(bad[0])
    bv = block_values(ta, tb, acc)[i]
    lines = [f"dot product {i} ({scheme}, {ta.scale_exp.shape[1]} blocks): rtl {describe(int(got[i]), acc)} "
             f"golden {describe(int(exp[i]), acc)}"]
    bcodes = encode(bv, acc)
    for j in range(min(len(bv), 40)):
        lines.append(f"  block {j}: sa={int(ta.scale_codes()[i, j])} sb={int(tb.scale_codes()[i, j])} "
                     f"value {describe(int(bcodes[j]), acc)}")
    return "\n".join(lines)


@test()
async def dot_products_match_golden(dut):
    cfg = tb_config()
    fa, fb, acc = parse_format(cfg["elem_a"]), parse_format(cfg["elem_b"]), parse_format(cfg["acc"])
    comp = parse_format(cfg["comp"]) if cfg.get("comp") else None
    k, lanes, n, schemes = cfg["k"], cfg["lanes"], cfg["n"], cfg["schemes"]
    ns = len(schemes)  # lane i runs schemes[i % ns]; lanes is a multiple of ns, so dot d uses schemes[d % ns]
    await start(dut)
    total = 0
    for kind in cfg["kinds"]:
        for nb in cfg["lengths"]:
            seed = cfg["seed"] * 1000 + nb * 10 + ["random", "adversarial", "real"].index(kind)
            ta, tb = make_set(kind, seed, fa, fb, k, n * ns, nb, acc)
            fields, last = dot_fields(ta, tb, k, lanes)
            got_all = (await play(dut, fields, last, acc.bits, lanes, cfg["depth"], cfg.get("stall", False))
                       ).ravel()[: n * ns]
            for si, scheme in enumerate(schemes):
                sel = np.arange(si, n * ns, ns)
                sa_, sb_ = _subset(ta, sel), _subset(tb, sel)
                exp = encode(mx_dot(sa_, sb_, scheme, acc, comp).value, acc)
                got = got_all[sel]
                if np.any(got != exp):
                    dut._log.error(mismatch_report(sa_, sb_, acc, got, exp, scheme))
                total += check_codes(got, exp, acc, f"mx_dot {scheme} [{kind}, {nb} blocks]",
                                     context=f"{fa.label()}x{fb.label()} k={k} acc={acc.label()}")
            vals = decode(got_all, acc)
            dut._log.info("%s, %d blocks: %d dot products per scheme x %d schemes match golden "
                          "(%d distinct finite results, %d non-finite)", kind, nb, n, ns,
                          len(np.unique(vals[np.isfinite(vals)])), int(np.sum(~np.isfinite(vals))))
    dut._log.info("total %d dot products, 0 mismatches", total)


def _subset(t, sel: np.ndarray):
    """The dot products `sel` (rows) of an MXTensor quantised along axis 1."""
    return type(t)(t.elements[sel], t.scale_exp[sel], t.elem, t.k, t.axis, t.scale_rule)

"""cocotb: mx_block_value_lanes (one MX block -> accumulator format) against golden.mx.block_values."""

from __future__ import annotations

import numpy as np
from cocotb import test
from cocotb.triggers import Timer

from golden.formats import encode, parse_format
from golden.mx import block_values
from tb.common.runner import tb_config
from tb.common.scoreboard import check_codes, read_int, unpack
from tb.mx_dot.mx_vectors import make_set


def pack_blocks(codes: np.ndarray, width: int) -> list[int]:
    """(nblocks, k) element codes -> one int per block, element i at bits [i*width +: width]."""
    out = []
    for row in codes.tolist():
        v = 0
        for i, c in enumerate(row):
            v |= int(c) << (i * width)
        out.append(v)
    return out


def pack_lanes(words: list[int], width: int) -> int:
    v = 0
    for i, w in enumerate(words):
        v |= w << (i * width)
    return v


@test()
async def block_values_match_golden(dut):
    cfg = tb_config()
    fa, fb, acc = parse_format(cfg["elem_a"]), parse_format(cfg["elem_b"]), parse_format(cfg["acc"])
    k, lanes, n, nb = cfg["k"], cfg["lanes"], cfg["n"], cfg["nb"]
    for kind in cfg["kinds"]:
        ta, tb = make_set(kind, cfg["seed"], fa, fb, k, n, nb, acc)
        exp = encode(block_values(ta, tb, acc).ravel(), acc)
        ca = ta.codes().reshape(-1, k)
        cb = tb.codes().reshape(-1, k)
        sa = ta.scale_codes().ravel()
        sb = tb.scale_codes().ravel()
        wa, wb = pack_blocks(ca, fa.bits), pack_blocks(cb, fb.bits)
        got = []
        for j0 in range(0, len(wa), lanes):
            idx = list(range(j0, min(j0 + lanes, len(wa))))
            pad = lanes - len(idx)
            dut.a.value = pack_lanes([wa[j] for j in idx] + [0] * pad, k * fa.bits)
            dut.b.value = pack_lanes([wb[j] for j in idx] + [0] * pad, k * fb.bits)
            dut.sa.value = pack_lanes([int(sa[j]) for j in idx] + [0] * pad, 8)
            dut.sb.value = pack_lanes([int(sb[j]) for j in idx] + [0] * pad, 8)
            await Timer(1, "ns")
            got.extend(unpack(read_int(dut.y), acc.bits, lanes)[: len(idx)].tolist())
        bad = np.flatnonzero(np.array(got) != exp)
        if bad.size:
            i = int(bad[0])
            dut._log.error("first mismatching block %d: E8M0 scale codes sa=%d sb=%d (exponent %d); a codes %s; "
                           "b codes %s", i, sa[i], sb[i], int(sa[i]) + int(sb[i]) - 254,
                           [format(int(c), f"0{fa.bits}b") for c in ca[i]], [format(int(c), f"0{fb.bits}b") for c in cb[i]])
        check_codes(np.array(got), exp, acc, f"block value [{kind}]",
                    context=f"{fa.label()}x{fb.label()} k={k} acc={acc.label()}")
        dut._log.info("%s: %d blocks match golden", kind, len(exp))

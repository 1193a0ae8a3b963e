"""cocotb test of acc_tree (all six schemes) through acc_tree_lanes against golden.accumulate
(order 'pairwise'): final result and final state bit-identical, one vector per cycle with random
idle cycles; out_valid must follow in_valid after the documented latency clog2(N) + 2.

cfg: acc, comp (json formats), lanes, n, count, seed, schemes (names built into the wrapper, in
SCHEMES order; default all six).
"""

from __future__ import annotations

import math

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, Timer

from golden.formats import encode
from tb.acc_seq.cocotb_acc_seq import SCHEMES, compare, expected
from tb.common.drive import start
from tb.common.formats import fmt_from_json
from tb.common.runner import tb_config
from tb.common.scoreboard import pack, read_int, unpack
from tb.common.sequences import mixed


def tree_latency(n: int) -> int:
    """Cycles from in_valid to out_valid of a pipelined tree of n inputs: clog2(n) + 2."""
    return (math.ceil(math.log2(n)) if n > 1 else 0) + 2


def idle_schedule(count: int, rng: np.random.Generator) -> dict[int, int]:
    """cycle -> index of the vector entering then, for count vectors in order with random idle cycles
    (probability 0.3 before each vector)."""
    by_cycle, t = {}, 0
    for b in range(count):
        t += 1 + int(rng.random() < 0.3)
        by_cycle[t] = b
    return by_cycle


@cocotb.test()
async def acc_tree_vs_golden(dut):
    cfg = tb_config()
    acc, comp = fmt_from_json(cfg["acc"]), fmt_from_json(cfg["comp"])
    L, n = int(cfg["lanes"]), int(cfg["n"])
    rng = np.random.default_rng(int(cfg.get("seed", 1)))
    count = -(-int(cfg["count"]) // L) * L
    x = mixed(acc, count, n, rng)
    codes = encode(x, acc)
    schemes = list(cfg.get("schemes", SCHEMES))
    exp = expected(x, acc, comp, "pairwise", schemes)
    got = {sc: {f: np.full_like(v, -1) for f, v in fields.items()} for sc, fields in exp.items()}
    lat = tree_latency(n)
    nb = count // L
    by_cycle = idle_schedule(nb, rng)
    aw, cw = acc.bits, comp.bits
    nvalid = len(schemes) * L
    dut.in_valid.value = 0
    await start(dut)
    for cyc in range(1, max(by_cycle) + lat + 2):
        await FallingEdge(dut.clk)
        b = by_cycle.get(cyc)
        dut.in_valid.value = int(b is not None)
        if b is not None:
            dut.in_data.value = pack(codes[b * L : (b + 1) * L].ravel(), aw)
        await Timer(1, unit="ns")
        src = by_cycle.get(cyc - lat)
        ov = read_int(dut.out_valid)
        assert ov == ((1 << nvalid) - 1 if src is not None else 0), f"cycle {cyc}: out_valid {ov:#x}, expected latency {lat}"
        if src is not None:
            data = unpack(read_int(dut.out_data), aw, nvalid)
            s = unpack(read_int(dut.out_s), aw, nvalid)
            c1 = unpack(read_int(dut.out_c1), cw, nvalid)
            c2 = unpack(read_int(dut.out_c2), cw, nvalid)
            rows = slice(src * L, (src + 1) * L)
            for k, sc in enumerate(schemes):
                part = slice(k * L, (k + 1) * L)
                got[sc]["value"][rows] = data[part]
                got[sc]["s"][rows] = s[part]
                got[sc]["c1"][rows] = c1[part]
                got[sc]["c2"][rows] = c2[part]
    total = compare(got, exp, x, acc, comp, f"acc_tree N={n}:")
    dut._log.info("acc_tree N=%d %s/%s: %d sums x %s, %d codes, 0 mismatches", n, acc.label(), comp.label(),
                  count, "/".join(schemes), total)

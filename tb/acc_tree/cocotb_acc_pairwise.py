"""cocotb test of acc_pairwise_seq (streaming pairwise order, long sums) through acc_pairwise_lanes
against golden.accumulate(order='pairwise'): final result and final state bit-identical.

cfg: acc, comp (json formats), lanes, schemes (names built into the wrapper, SCHEMES order),
groups [[length, count], ...], seed, p_valid / p_ready (probability of an input beat / of m_ready per
cycle; 1.0 = back-to-back sums with the output always ready).
"""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, Timer

from golden.formats import encode
from tb.acc_seq.cocotb_acc_seq import compare, expected
from tb.common.drive import start
from tb.common.formats import fmt_from_json
from tb.common.runner import tb_config
from tb.common.scoreboard import pack, read_int, unpack
from tb.common.sequences import mixed


@cocotb.test()
async def acc_pairwise_vs_golden(dut):
    cfg = tb_config()
    acc, comp = fmt_from_json(cfg["acc"]), fmt_from_json(cfg["comp"])
    L = int(cfg["lanes"])
    schemes = list(cfg["schemes"])
    ns = len(schemes) * L
    all1 = (1 << ns) - 1
    rng = np.random.default_rng(int(cfg.get("seed", 1)))
    p_valid, p_ready = float(cfg.get("p_valid", 1.0)), float(cfg.get("p_ready", 1.0))
    # With m_ready held high, s_ready depends only on registered state: read it at the falling edge
    # before driving (one await per cycle).  With random m_ready it is combinational in m_ready, so
    # drive first and read 1 ns later.
    settle = p_ready < 1.0
    dut.s_valid.value = 0
    dut.s_last.value = 0
    dut.m_ready.value = 1
    await start(dut)
    total = 0
    for length, count in cfg["groups"]:
        n, count = int(length), -(-int(count) // L) * L
        x = mixed(acc, count, n, rng)
        codes = encode(x, acc)
        exp = expected(x, acc, comp, "pairwise", schemes)
        got = {sc: {f: np.full_like(v, -1) for f, v in fields.items()} for sc, fields in exp.items()}
        nb = count // L
        b_in, t_in, b_out = 0, 0, 0
        held = None
        cycles = 0
        limit = 4 * nb * (n + 16) + 100
        while b_out < nb:
            cycles += 1
            assert cycles < limit, f"length {n}: only {b_out} of {nb} batches came out after {cycles} cycles"
            await FallingEdge(dut.clk)
            v = int(b_in < nb and (p_valid >= 1.0 or rng.random() < p_valid))
            rdy = int(p_ready >= 1.0 or rng.random() < p_ready)
            if settle:
                dut.m_ready.value = rdy
                await Timer(1, unit="ns")
            sr, mv = read_int(dut.s_ready), read_int(dut.m_valid)
            assert sr in (0, all1) and mv in (0, all1), f"lanes disagree: s_ready {sr:#x} m_valid {mv:#x}"
            if mv:
                data = unpack(read_int(dut.m_data), acc.bits, ns)
                if held is not None:
                    assert np.array_equal(data, held), "held result changed under back-pressure"
                if rdy:
                    s = unpack(read_int(dut.m_s), acc.bits, ns)
                    c1 = unpack(read_int(dut.m_c1), comp.bits, ns)
                    c2 = unpack(read_int(dut.m_c2), comp.bits, ns)
                    rows = slice(b_out * L, (b_out + 1) * L)
                    for k, sc in enumerate(schemes):
                        part = slice(k * L, (k + 1) * L)
                        got[sc]["value"][rows] = data[part]
                        got[sc]["s"][rows] = s[part]
                        got[sc]["c1"][rows] = c1[part]
                        got[sc]["c2"][rows] = c2[part]
                    b_out += 1
                    held = None
                else:
                    held = data
            # drive this cycle's beat; it is taken at the next rising edge iff s_ready (now) is high
            dut.s_valid.value = v
            if v:
                dut.s_data.value = pack(codes[b_in * L : (b_in + 1) * L, t_in], acc.bits)
                dut.s_last.value = int(t_in == n - 1)
            if v and sr:
                t_in += 1
                if t_in == n:
                    b_in, t_in = b_in + 1, 0
        total += compare(got, exp, x, acc, comp, f"acc_pairwise_seq length {n}:")
        dut._log.info("length %4d: %d sums x %s, %d cycles, 0 mismatches", n, count, "/".join(schemes), cycles)
    dut.s_valid.value = 0
    dut._log.info("acc_pairwise_seq %s/%s: %d codes checked", acc.label(), comp.label(), total)

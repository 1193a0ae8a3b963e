"""cocotb test of acc_kulisch_tree through acc_kulisch_trees (trees of N = 1, 2, 3, 31, 32 and NBIG
inputs side by side) against golden.accumulate(x, 'kulisch'): the rounded exact sum, bit-identical,
one vector per cycle with random idle cycles; out_valid must follow in_valid after clog2(N) + 2 cycles.
Rows: tb.common.sequences' kinds, and first SPECIAL_ROWS rows of designed special values (only +Inf,
only -Inf, both, NaN, among +-max, +-0 and the smallest subnormal), which random codes of a wide format
almost never give.

cfg: acc (json format), ns (the six tree sizes, in the wrapper's order), count, seed.
"""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, Timer

from golden.accumulate import accumulate
from golden.formats import FloatFormat, encode
from tb.acc_tree.cocotb_acc_tree import idle_schedule, tree_latency
from tb.common.drive import start
from tb.common.formats import fmt_from_json
from tb.common.runner import tb_config
from tb.common.scoreboard import check_codes, pack, read_int, unpack
from tb.common.sequences import mixed

SPECIAL_ROWS = 64


def special_rows(fmt: FloatFormat, count: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """count rows of n values: row r draws from finite extremes plus, by r % 4, +Inf / -Inf / both / NaN
    (+-max where the format has no Inf)."""
    big = np.inf if fmt.special == "ieee" else fmt.max_value
    finite = np.array([fmt.max_value, -fmt.max_value, 0.0, -0.0, fmt.min_subnormal, -fmt.min_subnormal])
    extra = ([big], [-big], [big, -big], [np.nan])
    out = np.empty((count, n))
    for r in range(count):
        pool = np.concatenate([finite, extra[r % 4] * 3])  # specials three times as likely
        out[r] = pool[rng.integers(0, pool.size, n)]
    return out


@cocotb.test()
async def kulisch_tree_vs_golden(dut):
    cfg = tb_config()
    acc = fmt_from_json(cfg["acc"])
    ns, count = [int(n) for n in cfg["ns"]], int(cfg["count"])
    rng = np.random.default_rng(int(cfg.get("seed", 1)))
    xs = [mixed(acc, count, n, rng) for n in ns]
    k = min(count, SPECIAL_ROWS)
    for j, n in enumerate(ns):
        xs[j][:k] = special_rows(acc, k, n, rng)
    exp = [encode(accumulate(x, "kulisch", acc).value, acc) for x in xs]
    # one bus word per input vector: the six trees' rows side by side, in the wrapper's order
    codes = np.concatenate([encode(x, acc) for x in xs], axis=1)
    got = [np.full(count, -1, dtype=np.int64) for _ in ns]
    lats = [tree_latency(n) for n in ns]
    by_cycle = idle_schedule(count, rng)
    aw = acc.bits
    dut.in_valid.value = 0
    dut.in_data.value = 0  # idle data is defined, so every out_data bit is 0/1 from reset on
    await start(dut)
    for cyc in range(1, max(by_cycle) + max(lats) + 2):
        await FallingEdge(dut.clk)
        b = by_cycle.get(cyc)
        dut.in_valid.value = int(b is not None)
        if b is not None:
            dut.in_data.value = pack(codes[b], aw)
        await Timer(1, unit="ns")
        ov = read_int(dut.out_valid)
        srcs = [by_cycle.get(cyc - lat) for lat in lats]
        data = unpack(read_int(dut.out_data), aw, len(ns))
        for j, src in enumerate(srcs):
            assert (ov >> j) & 1 == int(src is not None), (
                f"cycle {cyc}: out_valid[{j}] (N = {ns[j]}) is {(ov >> j) & 1}, expected latency {lats[j]}")
            if src is not None:
                got[j][src] = data[j]
    total = 0
    for j, n in enumerate(ns):
        bad = np.flatnonzero(got[j] != exp[j])
        ctx = f"(row {bad[0]}, first elements {xs[j][bad[0], :8].tolist()})" if bad.size else ""
        total += check_codes(got[j], exp[j], acc, f"acc_kulisch_tree N={n}", context=ctx)
    dut._log.info("acc_kulisch_tree %s N=%s: %d sums each, %d results, 0 mismatches", acc.label(), ns, count, total)

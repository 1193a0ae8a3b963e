"""cocotb side of `apace characterize --rtl`: stream a profile's input rows through acc_seq_lanes
(LANES parallel accumulators per scheme, all six streaming schemes and Kulisch in lockstep) and save
every sum's result code.  Runs inside the simulator; configured by $APACE_TB_CFG:
    acc, comp (json formats), lanes, groups: [[length, "path/to/codes.npy"], ...], out: "path.npz"
Each codes file holds an int64 array (rows, length) of acc codes, rows a multiple of lanes."""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge

from tb.common.drive import start
from tb.common.formats import fmt_from_json
from tb.common.runner import tb_config
from tb.common.scoreboard import pack, read_int, unpack

NSCHEMES = 7  # naive, kahan, neumaier, twosum, fasttwosum, klein, kulisch (scheme-major output buses)


@cocotb.test()
async def characterize_profile(dut):
    cfg = tb_config()
    acc = fmt_from_json(cfg["acc"])
    L = int(cfg["lanes"])
    dut.s_valid.value = 0
    dut.s_last.value = 0
    dut.m_ready.value = 1
    await start(dut)
    results = {}
    for length, path in cfg["groups"]:
        codes = np.load(path)
        rows = codes.shape[0]
        got = np.full((NSCHEMES, rows), -1, dtype=np.int64)
        pending = None
        for b in range(rows // L):
            for t in range(int(length)):
                await FallingEdge(dut.clk)
                if pending is not None:
                    _collect(dut, got, pending, L, acc.bits)
                    pending = None
                dut.s_valid.value = 1
                dut.s_data.value = pack(codes[b * L : (b + 1) * L, t], acc.bits)
                dut.s_last.value = int(t == int(length) - 1)
            pending = b
        await FallingEdge(dut.clk)
        dut.s_valid.value = 0
        _collect(dut, got, pending, L, acc.bits)
        results[f"n{int(length)}"] = got
        dut._log.info("length %d: %d sums x %d schemes collected", int(length), rows, NSCHEMES)
    np.savez(cfg["out"], **results)


def _collect(dut, got: np.ndarray, b: int, L: int, width: int) -> None:
    mv = read_int(dut.m_valid)
    assert mv == (1 << (NSCHEMES * L)) - 1, f"m_valid should be all ones one cycle after s_last, got {mv:#x}"
    data = unpack(read_int(dut.m_data), width, NSCHEMES * L)
    for k in range(NSCHEMES):
        got[k, b * L : (b + 1) * L] = data[k * L : (k + 1) * L]

"""cocotb-side helpers: clock/reset and pushing many vectors through LANES parallel combinational or
pipelined instances (write on the falling edge, read 1 ns later; a result appears `latency` batches
after its operands)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer

from .scoreboard import pack, read_int, unpack


async def start(dut, reset: bool = True) -> None:
    """10 ns clock on dut.clk and an active-low reset pulse on dut.rst_n."""
    Clock(dut.clk, 10, unit="ns").start()
    if reset:
        dut.rst_n.value = 0
        await FallingEdge(dut.clk)
        await FallingEdge(dut.clk)
        dut.rst_n.value = 1


async def lanes_apply(
    dut, inputs: Sequence[tuple[str, np.ndarray, int]], output: str, out_width: int, lanes: int, latency: int = 0
) -> np.ndarray:
    """Apply equal-length code arrays [(port, codes, width)] `lanes` at a time; return the output codes."""
    n = len(inputs[0][1])
    nb = (n + lanes - 1) // lanes
    out = np.zeros(nb * lanes, dtype=np.int64)
    padded = []
    for port, codes, width in inputs:
        c = np.zeros(nb * lanes, dtype=np.int64)
        c[:n] = codes
        padded.append((getattr(dut, port), c, width))
    y = getattr(dut, output)
    for k in range(nb + latency):
        await FallingEdge(dut.clk)
        if k < nb:
            for h, c, w in padded:
                h.value = pack(c[k * lanes : (k + 1) * lanes], w)
        await Timer(1, unit="ns")
        j = k - latency
        if j >= 0:
            out[j * lanes : (j + 1) * lanes] = unpack(read_int(y), out_width, lanes)
    return out[:n]

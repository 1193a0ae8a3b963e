"""The one drive loop of the MX testbenches (mx_block_value, mx_dot, mx_tile): beats in, results out.

Every bench top (mx_block_value_bench.v, mx_dot_bench.v, tb/mx_tile/mx_tile_bench.v) puts the HDL
player tb/mx_dot/mx_player.v in front of the DUT.  Python builds the beats of a whole stimulus set as
one bit matrix with numpy (lane packing is vectorised: no Python loop per element or per lane), writes
them as one hex file per chunk of up to `depth` beats, pulses `go` and waits for `done`; the player
streams the beats through valid/ready at one per clock (with pseudo-random gaps on both sides when
`stall`) and writes every result word back.  So the simulator runs at its own speed: under Icarus the
per-clock VPI traffic of a cocotb-driven stream used to cost ~20x the simulation itself.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from cocotb import start_soon
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge
from cocotb.utils import get_sim_time

from tb.common.scoreboard import read_int

IN_FILE, OUT_FILE = "mx_beats.hex", "mx_res.hex"  # names fixed in mx_player.v, relative to the sim's cwd
PERIOD_NS = 10
# Without stalls a chunk of n beats must take at most n + SLACK clocks from `go` to `done`: one beat
# per clock sustained, including back-to-back dot products, plus the pipeline latency (mx_dot: 2) and
# the player's start and finish cycles (3 in all for mx_dot).  The throughput claim of docs/rtl_mx.md,
# checked on every unstalled chunk.
SLACK = 4


def lane_bits(codes: np.ndarray, width: int) -> np.ndarray:
    """(rows, m) codes -> (rows, m*width) bits; code i's bit j lands in column i*width + j (LSB first),
    i.e. code i at bits [i*width +: width] of the packed row."""
    c = np.asarray(codes, dtype=np.int64)
    c = c.reshape(c.shape[0], -1)
    return ((c[:, :, None] >> np.arange(width, dtype=np.int64)) & 1).astype(np.uint8).reshape(c.shape[0], -1)


def beat_bits(fields: Sequence[tuple[np.ndarray, int]], last: np.ndarray) -> np.ndarray:
    """One row per beat: the fields [(codes (beats, m), width)] concatenated LSB first, then `last`."""
    return np.concatenate([*(lane_bits(c, w) for c, w in fields), np.asarray(last, dtype=np.uint8).reshape(-1, 1)],
                          axis=1)


def unpack_words(words: np.ndarray, width: int, lanes: int) -> np.ndarray:
    """(n, nbytes) little-endian result bytes -> (n, lanes) codes of `width` bits."""
    bits = np.unpackbits(words, axis=1, bitorder="little")[:, : width * lanes]
    bits = bits.reshape(words.shape[0], lanes, width).astype(np.int64)
    return (bits << np.arange(width, dtype=np.int64)).sum(axis=2)


def _write_hex(path: str, bits: np.ndarray) -> None:
    ndig = -(-bits.shape[1] // 4)
    packed = np.packbits(bits, axis=1, bitorder="little")
    with open(path, "w") as f:
        f.write("".join(row[::-1].tobytes().hex()[-ndig:].rjust(ndig, "0") + "\n" for row in packed))


def _read_hex(path: str, nbytes: int, n: int) -> np.ndarray:
    with open(path) as f:
        lines = [ln.strip() for ln in f if ln.strip() and not ln.startswith("//")]
    if len(lines) != n:
        raise AssertionError(f"{path}: {len(lines)} result words, expected {n}")
    bad = [i for i, ln in enumerate(lines) if any(ch in ln for ch in "xXzZ")]
    if bad:
        raise AssertionError(f"result word {bad[0]} has X/Z bits: {lines[bad[0]]}")
    out = np.zeros((n, nbytes), dtype=np.uint8)
    for i, ln in enumerate(lines):
        out[i] = np.frombuffer(bytes.fromhex(ln.rjust(2 * nbytes, "0")[-2 * nbytes :])[::-1], dtype=np.uint8)
    return out


async def start(dut) -> None:
    """10 ns clock, reset pulse, player idle."""
    start_soon(Clock(dut.clk, PERIOD_NS, unit="ns").start())
    dut.rst_n.value = 0
    dut.go.value = 0
    dut.stall.value = 0
    dut.n_beats.value = 0
    dut.n_res.value = 0
    for _ in range(2):
        await RisingEdge(dut.clk)
    dut.rst_n.value = 1
    await RisingEdge(dut.clk)


async def play(dut, fields: Sequence[tuple[np.ndarray, int]], last: np.ndarray, out_width: int, lanes: int,
               depth: int, stall: bool = False) -> np.ndarray:
    """Stream beats through the DUT; return the results as (results, lanes) codes.

    fields: [(codes (beats, m), width)] concatenated LSB first into each beat's payload (the bench's
    port order); last: (beats,) 0/1.  One result is expected per beat with last = 1.  Chunks end after
    a `last` beat, so a chunk's results all arrive inside it (a group longer than `depth` beats is an
    error); the bit matrix is built per chunk, so memory stays small for long sets."""
    last = np.asarray(last).astype(bool)
    ends = np.flatnonzero(last) + 1
    if not ends.size or ends[-1] != len(last):
        raise ValueError("the final beat must have last = 1")
    nbytes = -(-out_width * lanes // 8)
    out, start_ = [], 0
    while start_ < len(last):
        fit = ends[(ends > start_) & (ends - start_ <= depth)]
        if not fit.size:
            raise ValueError(f"a dot product of more than depth={depth} beats")
        stop = int(fit[-1])
        nres = int(last[start_:stop].sum())
        _write_hex(os.path.join(os.getcwd(), IN_FILE),
                   beat_bits([(c[start_:stop], w) for c, w in fields], last[start_:stop]))
        dut.n_beats.value = stop - start_
        dut.n_res.value = nres
        dut.stall.value = int(stall)
        dut.go.value = 1
        await RisingEdge(dut.clk)
        t0 = get_sim_time("ns")
        dut.go.value = 0
        await RisingEdge(dut.done)
        if read_int(dut.timeout):
            raise AssertionError(f"timeout: the DUT did not return {nres} results for beats {start_}..{stop - 1}")
        clocks = round((get_sim_time("ns") - t0) / PERIOD_NS)
        if not stall and clocks > stop - start_ + SLACK:
            raise AssertionError(f"throughput: {stop - start_} beats took {clocks} clocks without stalls "
                                 f"(at most beats + {SLACK} expected: one block per clock)")
        out.append(unpack_words(_read_hex(os.path.join(os.getcwd(), OUT_FILE), nbytes, nres), out_width, lanes))
        start_ = stop
    return np.concatenate(out)

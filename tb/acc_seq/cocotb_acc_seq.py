"""cocotb tests of acc_seq (all six schemes) and acc_kulisch_seq through acc_seq_lanes, against
golden.accumulate (sequential order): final result and final state bit-identical.

cfg: acc, comp (json formats), lanes, groups [[length, count], ...], seed, handshake_sums.
"""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, Timer

from golden.accumulate import accumulate
from golden.formats import FloatFormat, encode
from tb.common.drive import start
from tb.common.formats import fmt_from_json
from tb.common.runner import tb_config
from tb.common.scoreboard import check_codes, pack, read_int, unpack
from tb.common.sequences import mixed

SCHEMES = ("naive", "kahan", "neumaier", "twosum", "fasttwosum", "klein")
STATE = {"kahan": ("c", None), "neumaier": ("c", None), "twosum": ("c", None), "fasttwosum": ("c", None),
         "klein": ("cs", "ccs")}


def expected(x: np.ndarray, acc: FloatFormat, comp: FloatFormat, order: str = "sequential", schemes=None) -> dict:
    """Golden codes per scheme: value (acc), s (acc), c1/c2 (comp; 0 where the scheme has none).

    schemes: the compensated schemes to compute (default all six, plus Kulisch's value); given a list,
    only those (no Kulisch)."""
    out = {}
    for sc in schemes or SCHEMES:
        r = accumulate(x, sc, acc, comp, order)
        c1n, c2n = STATE.get(sc, (None, None))
        zeros = np.zeros(x.shape[0], dtype=np.int64)
        out[sc] = {
            "value": encode(r.value, acc),
            "s": encode(r.state["s"], acc),
            "c1": encode(r.state[c1n], comp) if c1n else zeros,
            "c2": encode(r.state[c2n], comp) if c2n else zeros,
        }
    if schemes is None:
        out["kulisch"] = {"value": encode(accumulate(x, "kulisch", acc).value, acc)}
    return out


def compare(got: dict, exp: dict, x: np.ndarray, acc: FloatFormat, comp: FloatFormat, what: str) -> int:
    n = 0
    for sc, fields in exp.items():
        for f, codes in fields.items():
            fmt = comp if f in ("c1", "c2") else acc
            i_bad = np.flatnonzero(got[sc][f] != codes)
            ctx = ""
            if i_bad.size:
                row = x[i_bad[0]]
                ctx = f"(row {i_bad[0]}, length {row.size}, first elements {row[:8].tolist()})"
            n += check_codes(got[sc][f], codes, fmt, f"{what} {sc}.{f}", context=ctx)
    return n


class Outputs:
    """Reads and unpacks the scheme-major output buses of acc_seq_lanes."""

    def __init__(self, dut, lanes: int, acc: FloatFormat, comp: FloatFormat):
        self.dut, self.L, self.aw, self.cw = dut, lanes, acc.bits, comp.bits

    def read(self) -> dict:
        L, d = self.L, self.dut
        data = unpack(read_int(d.m_data), self.aw, 7 * L)
        s = unpack(read_int(d.m_s), self.aw, 6 * L)
        c1 = unpack(read_int(d.m_c1), self.cw, 6 * L)
        c2 = unpack(read_int(d.m_c2), self.cw, 6 * L)
        out = {sc: {"value": data[k * L : (k + 1) * L], "s": s[k * L : (k + 1) * L], "c1": c1[k * L : (k + 1) * L],
                    "c2": c2[k * L : (k + 1) * L]} for k, sc in enumerate(SCHEMES)}
        out["kulisch"] = {"value": data[6 * L :]}
        return out


def empty_like(exp: dict) -> dict:
    return {sc: {f: np.full_like(v, -1) for f, v in fields.items()} for sc, fields in exp.items()}


@cocotb.test()
async def acc_seq_streams(dut):
    """Back-to-back sums, every lane its own sequence, no idle cycles, m_ready held high."""
    cfg = tb_config()
    acc, comp = fmt_from_json(cfg["acc"]), fmt_from_json(cfg["comp"])
    L = int(cfg["lanes"])
    rng = np.random.default_rng(int(cfg.get("seed", 1)))
    outs = Outputs(dut, L, acc, comp)
    dut.s_valid.value = 0
    dut.s_last.value = 0
    dut.m_ready.value = 1
    await start(dut)
    total = 0
    for length, count in cfg["groups"]:
        count = -(-int(count) // L) * L
        x = mixed(acc, count, int(length), rng)
        codes = encode(x, acc)
        exp = expected(x, acc, comp)
        got = empty_like(exp)
        pending = None
        for b in range(count // L):
            rows = slice(b * L, (b + 1) * L)
            for t in range(length):
                await FallingEdge(dut.clk)
                if pending is not None:
                    pending = _collect(dut, outs, got, pending, L)
                dut.s_valid.value = 1
                dut.s_data.value = pack(codes[rows, t], acc.bits)
                dut.s_last.value = int(t == length - 1)
            pending = rows
        await FallingEdge(dut.clk)
        dut.s_valid.value = 0
        _collect(dut, outs, got, pending, L)
        total += compare(got, exp, x, acc, comp, f"acc_seq length {length}:")
        dut._log.info("length %4d: %d sums x 7 schemes, 0 mismatches", length, count)
    dut._log.info("acc_seq %s/%s: %d codes checked", acc.label(), comp.label(), total)


def _collect(dut, outs: Outputs, got: dict, rows: slice, L: int):
    mv = read_int(dut.m_valid)
    assert mv == (1 << (7 * L)) - 1, f"m_valid should be all ones one cycle after s_last, got {mv:#x}"
    r = outs.read()
    for sc, fields in r.items():
        for f, v in fields.items():
            got[sc][f][rows] = v
    return None


@cocotb.test()
async def acc_seq_handshake(dut):
    """Random idle input cycles and random output back-pressure: s_ready = !m_valid | m_ready, a held
    result stays stable, every sum (lengths 1..5, back to back) matches golden."""
    cfg = tb_config()
    nsums = int(cfg.get("handshake_sums", 0))
    if not nsums:
        return
    acc, comp = fmt_from_json(cfg["acc"]), fmt_from_json(cfg["comp"])
    L = int(cfg["lanes"])
    rng = np.random.default_rng(int(cfg.get("seed", 1)) + 1)
    lengths = rng.integers(1, 6, nsums)
    seqs = [mixed(acc, L, int(n), rng) for n in lengths]
    exps = [expected(x, acc, comp) for x in seqs]
    outs = Outputs(dut, L, acc, comp)
    all1 = (1 << (7 * L)) - 1
    dut.s_valid.value = 0
    dut.s_last.value = 0
    dut.m_ready.value = 0
    await start(dut)
    k_in, t_in, k_out = 0, 0, 0
    held = None
    p_valid, p_ready = float(cfg.get("p_valid", 0.6)), float(cfg.get("p_ready", 0.5))
    for _ in range(40 * int(lengths.sum()) + 100):
        await FallingEdge(dut.clk)
        v = int(k_in < nsums and rng.random() < p_valid)
        rdy = int(rng.random() < p_ready)
        if k_in < nsums:
            dut.s_data.value = pack(encode(seqs[k_in][:, t_in], acc), acc.bits)
            dut.s_last.value = int(t_in == lengths[k_in] - 1)
        dut.s_valid.value = v
        dut.m_ready.value = rdy
        await Timer(1, unit="ns")
        mv = read_int(dut.m_valid)
        sr = read_int(dut.s_ready)
        assert mv in (0, all1), f"instances disagree on m_valid: {mv:#x}"
        assert sr == (all1 if (mv == 0 or rdy) else 0), f"s_ready {sr:#x} != !m_valid | m_ready (m_valid {mv:#x})"
        if mv:
            r = outs.read()
            if held is not None:
                assert all(np.array_equal(r[s][f], held[s][f]) for s in r for f in r[s]), "held result changed"
            if rdy:
                check = {s: {f: r[s][f] for f in fs} for s, fs in r.items()}
                compare(check, exps[k_out], seqs[k_out], acc, comp, f"handshake sum {k_out}:")
                k_out += 1
                held = None
            else:
                held = r
        if v and sr:
            t_in += 1
            if t_in == lengths[k_in]:
                k_in, t_in = k_in + 1, 0
        if k_out == nsums:
            break
    assert k_out == nsums, f"only {k_out} of {nsums} sums came out"
    dut._log.info("handshake: %d sums with idle cycles and back-pressure, 0 mismatches", nsums)

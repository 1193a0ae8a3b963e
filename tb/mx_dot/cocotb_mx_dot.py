"""cocotb: mx_dot_lanes (L lockstep mx_dot units) against golden.mx.mx_dot, bit-exact.

The configuration (tb.common.runner.tb_config) names the formats, scheme, k, the reduction lengths
(blocks per dot product) and the stimulus sets (tb.mx_dot.mx_vectors.KINDS); every set has n dot
products per length.  With cfg['stall'] the source and sink randomly stall (valid/ready gaps).
"""

from __future__ import annotations

import random

import numpy as np
from cocotb import start_soon, test
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge

from golden.formats import decode, encode, parse_format
from golden.mx import block_values, mx_dot
from tb.common.runner import tb_config
from tb.common.scoreboard import check_codes, describe, read_int, unpack
from tb.mx_dot.mx_vectors import make_set


def pack_rows(codes: np.ndarray, width: int) -> list[int]:
    """(rows, m) codes -> one int per row, column i at bits [i*width +: width]."""
    out = []
    for row in codes.tolist():
        v = 0
        for i, c in enumerate(row):
            v |= int(c) << (i * width)
        out.append(v)
    return out


def block_stream(ta, tb, k: int, lanes: int) -> tuple[list[tuple[int, int, int, int, int]], int]:
    """The input beats for n dot products of nb blocks, L lanes per beat (the last batch padded
    with copies of dot product 0).  Returns (beats, number of batches)."""
    n, nb = ta.scale_exp.shape
    nbatch = -(-n // lanes)
    order = np.arange(nbatch * lanes)
    order[order >= n] = 0
    ca = ta.codes().reshape(n, nb, k)[order]
    cb = tb.codes().reshape(n, nb, k)[order]
    sa = ta.scale_codes()[order]
    sb = tb.scale_codes()[order]
    beats = []
    for g in range(nbatch):
        sl = slice(g * lanes, (g + 1) * lanes)
        for j in range(nb):
            wa = pack_rows(ca[sl, j, :].reshape(1, -1), ta.elem.bits)[0]
            wb = pack_rows(cb[sl, j, :].reshape(1, -1), tb.elem.bits)[0]
            wsa = pack_rows(sa[sl, j].reshape(1, -1), 8)[0]
            wsb = pack_rows(sb[sl, j].reshape(1, -1), 8)[0]
            beats.append((wa, wb, wsa, wsb, int(j == nb - 1)))
    return beats, nbatch


async def run_stream(dut, beats, nres: int, stall: bool, rng: random.Random) -> list[int]:
    """Drive beats through the valid/ready input, collect nres outputs (m_data ints)."""
    out: list[int] = []
    idx, shown = 0, -1
    limit = 200 * (len(beats) + nres) + 1000
    for _ in range(limit):
        if len(out) >= nres:
            return out
        go = idx < len(beats) and not (stall and rng.random() < 0.25)
        if go and shown != idx:
            wa, wb, wsa, wsb, last = beats[idx]
            dut.s_a.value = wa
            dut.s_b.value = wb
            dut.s_sa.value = wsa
            dut.s_sb.value = wsb
            dut.s_last.value = last
            shown = idx
        dut.s_valid.value = int(go)
        take = not (stall and rng.random() < 0.25)
        dut.m_ready.value = int(take)
        await ReadOnly()
        fire = go and dut.s_ready.value == 1
        if take and dut.m_valid.value == 1:
            out.append(read_int(dut.m_data))
        await RisingEdge(dut.clk)
        if fire:
            idx += 1
    raise AssertionError(f"timeout: {len(out)} of {nres} results after {limit} cycles ({idx} of {len(beats)} beats in)")


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
    rng = random.Random(cfg["seed"])
    start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst_n.value = 0
    dut.s_valid.value = 0
    dut.m_ready.value = 0
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst_n.value = 1
    total = 0
    for kind in cfg["kinds"]:
        for nb in cfg["lengths"]:
            seed = cfg["seed"] * 1000 + nb * 10 + ["random", "adversarial", "real"].index(kind)
            ta, tb = make_set(kind, seed, fa, fb, k, n * ns, nb, acc)
            beats, nbatch = block_stream(ta, tb, k, lanes)
            words = await run_stream(dut, beats, nbatch, cfg.get("stall", False), rng)
            got_all = np.concatenate([unpack(w, acc.bits, lanes) for w in words])[: n * ns]
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

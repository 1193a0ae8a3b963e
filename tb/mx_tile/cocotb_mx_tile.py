"""cocotb: mx_tile (R x C mx_dot units sharing row/column block streams) against golden.mx.mx_matmul."""

from __future__ import annotations

import random

import numpy as np
from cocotb import start_soon, test
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge

from golden.formats import encode, parse_format
from golden.mx import mx_matmul, mx_quantize
from tb.common.runner import tb_config
from tb.common.scoreboard import check_codes, unpack
from tb.mx_dot.cocotb_mx_dot import pack_rows, run_stream


def tile_beats(A: np.ndarray, B: np.ndarray, elem, k: int) -> list[tuple[int, int, int, int, int]]:
    """One beat per block column j: every row's block j of A and every column's block j of B."""
    qa = mx_quantize(A, elem, k, axis=1)
    qb = mx_quantize(B.T, elem, k, axis=1)
    nb = A.shape[1] // k
    ca, cb = qa.codes(), qb.codes()
    sa, sb = qa.scale_codes(), qb.scale_codes()
    beats = []
    for j in range(nb):
        wa = pack_rows(ca[:, j * k : (j + 1) * k].reshape(1, -1), elem.bits)[0]
        wb = pack_rows(cb[:, j * k : (j + 1) * k].reshape(1, -1), elem.bits)[0]
        beats.append((wa, wb, pack_rows(sa[:, j].reshape(1, -1), 8)[0], pack_rows(sb[:, j].reshape(1, -1), 8)[0],
                      int(j == nb - 1)))
    return beats


@test()
async def tile_matches_golden_matmul(dut):
    cfg = tb_config()
    elem, acc = parse_format(cfg["elem"]), parse_format(cfg["acc"])
    R, C, k, scheme = cfg["R"], cfg["C"], cfg["k"], cfg["scheme"]
    rng = np.random.default_rng(cfg["seed"])
    prng = random.Random(cfg["seed"])
    start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst_n.value = 0
    dut.s_valid.value = 0
    dut.m_ready.value = 0
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst_n.value = 1
    beats, exps, shapes = [], [], []
    for t in range(cfg["tiles"]):
        nb = int(rng.choice(cfg["lengths"]))
        heavy = t % 2 == 1
        draw = (lambda s: rng.standard_t(2, s)) if heavy else rng.standard_normal
        A = draw((R, nb * k)) * 2.0 ** rng.uniform(-10, 10)
        B = draw((nb * k, C)) * 2.0 ** rng.uniform(-10, 10)
        beats += tile_beats(A, B, elem, k)
        exps.append(encode(mx_matmul(A, B, elem, elem, k, scheme, acc), acc).ravel())
        shapes.append(nb)
    words = await run_stream(dut, beats, len(exps), cfg.get("stall", True), prng)
    got = np.concatenate([unpack(w, acc.bits, R * C) for w in words])
    n = check_codes(got, np.concatenate(exps), acc, "mx_tile vs golden mx_matmul",
                    context=f"R={R} C={C} {elem.label()} k={k} {scheme} acc={acc.label()} (index = tile*R*C + r*C + c)")
    dut._log.info("%d tiles (%d dot products, lengths %s) match golden mx_matmul", len(exps), n, sorted(set(shapes)))

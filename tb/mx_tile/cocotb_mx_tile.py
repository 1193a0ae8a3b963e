"""cocotb: mx_tile_bench (mx_player -> R x C mx_dot units sharing row/column block streams) against
golden.mx.mx_matmul.  Beats go through the shared drive loop tb/mx_dot/mx_drive.py."""

from __future__ import annotations

import numpy as np
from cocotb import test

from golden.formats import encode, parse_format
from golden.mx import mx_matmul, mx_quantize
from tb.common.runner import tb_config
from tb.common.scoreboard import check_codes
from tb.mx_dot.mx_drive import play, start


def tile_fields(A: np.ndarray, B: np.ndarray, elem, k: int) -> list[np.ndarray]:
    """One beat per block column j: every row's block j of A and every column's block j of B, as code
    arrays in mx_tile_bench's payload order (s_a, s_b, s_sa, s_sb)."""
    qa = mx_quantize(A, elem, k, axis=1)
    qb = mx_quantize(B.T, elem, k, axis=1)
    nb = A.shape[1] // k

    def per_block(codes: np.ndarray, per: int) -> np.ndarray:  # (rows, nb*per) -> (nb, rows*per)
        return codes.reshape(codes.shape[0], nb, per).transpose(1, 0, 2).reshape(nb, -1)

    return [per_block(qa.codes(), k), per_block(qb.codes(), k), per_block(qa.scale_codes(), 1),
            per_block(qb.scale_codes(), 1)]


@test()
async def tile_matches_golden_matmul(dut):
    cfg = tb_config()
    elem, acc = parse_format(cfg["elem"]), parse_format(cfg["acc"])
    R, C, k, scheme = cfg["R"], cfg["C"], cfg["k"], cfg["scheme"]
    rng = np.random.default_rng(cfg["seed"])
    await start(dut)
    parts, lasts, exps, shapes = [], [], [], []
    for t in range(cfg["tiles"]):
        nb = int(rng.choice(cfg["lengths"]))
        heavy = t % 2 == 1
        draw = (lambda s: rng.standard_t(2, s)) if heavy else rng.standard_normal
        A = draw((R, nb * k)) * 2.0 ** rng.uniform(-10, 10)
        B = draw((nb * k, C)) * 2.0 ** rng.uniform(-10, 10)
        parts.append(tile_fields(A, B, elem, k))
        lasts.append(np.arange(nb) == nb - 1)
        exps.append(encode(mx_matmul(A, B, elem, elem, k, scheme, acc), acc).ravel())
        shapes.append(nb)
    widths = (elem.bits, elem.bits, 8, 8)
    fields = [(np.concatenate([p[i] for p in parts]), w) for i, w in enumerate(widths)]
    got = (await play(dut, fields, np.concatenate(lasts), acc.bits, R * C, cfg["depth"], cfg.get("stall", True))
           ).ravel()
    n = check_codes(got, np.concatenate(exps), acc, "mx_tile vs golden mx_matmul",
                    context=f"R={R} C={C} {elem.label()} k={k} {scheme} acc={acc.label()} (index = tile*R*C + r*C + c)")
    dut._log.info("%d tiles (%d dot products, lengths %s) match golden mx_matmul", len(exps), n, sorted(set(shapes)))

"""cocotb: mx_block_value_bench (mx_player -> L mx_block_value lanes, registered) against
golden.mx.block_values.  Beats go through the shared drive loop tb/mx_dot/mx_drive.py."""

from __future__ import annotations

import numpy as np
from cocotb import test

from golden.formats import encode, parse_format
from golden.mx import block_values
from tb.common.runner import tb_config
from tb.common.scoreboard import check_codes
from tb.mx_dot.mx_drive import play, start
from tb.mx_dot.mx_vectors import make_set


def _lanes_of(c: np.ndarray, lanes: int) -> np.ndarray:
    """(blocks, m) codes -> (beats, lanes*m): block j in lane j % lanes, the last beat padded with block 0."""
    c = np.concatenate([c, np.repeat(c[:1], -len(c) % lanes, axis=0)])
    return c.reshape(-1, lanes * c.shape[1])


@test()
async def block_values_match_golden(dut):
    cfg = tb_config()
    fa, fb, acc = parse_format(cfg["elem_a"]), parse_format(cfg["elem_b"]), parse_format(cfg["acc"])
    k, lanes, n, nb = cfg["k"], cfg["lanes"], cfg["n"], cfg["nb"]
    await start(dut)
    for kind in cfg["kinds"]:
        ta, tb = make_set(kind, cfg["seed"], fa, fb, k, n, nb, acc)
        exp = encode(block_values(ta, tb, acc).ravel(), acc)
        ca, cb = ta.codes().reshape(-1, k), tb.codes().reshape(-1, k)
        sa, sb = ta.scale_codes().ravel(), tb.scale_codes().ravel()
        nblk = len(sa)
        fields = [(_lanes_of(ca, lanes), fa.bits), (_lanes_of(cb, lanes), fb.bits), (_lanes_of(sa[:, None], lanes), 8),
                  (_lanes_of(sb[:, None], lanes), 8)]
        nbeat = -(-nblk // lanes)
        got = (await play(dut, fields, np.ones(nbeat), acc.bits, lanes, cfg["depth"], cfg.get("stall", False))
               ).ravel()[:nblk]
        bad = np.flatnonzero(got != exp)
        if bad.size:
            i = int(bad[0])
            dut._log.error("first mismatching block %d: E8M0 scale codes sa=%d sb=%d (exponent %d); a codes %s; "
                           "b codes %s", i, sa[i], sb[i], int(sa[i]) + int(sb[i]) - 254,
                           [format(int(c), f"0{fa.bits}b") for c in ca[i]], [format(int(c), f"0{fb.bits}b") for c in cb[i]])
        check_codes(got, exp, acc, f"block value [{kind}]",
                    context=f"{fa.label()}x{fb.label()} k={k} acc={acc.label()}")
        dut._log.info("%s: %d blocks match golden", kind, len(exp))

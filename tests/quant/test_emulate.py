"""The emulated attention inside a (tiny, random) LLaMA model through transformers' AttentionInterface."""

from __future__ import annotations

import numpy as np
import pytest

from quant.config import AttnConfig, PplConfig
from quant.emulate import emulate

from .conftest import tiny_llama

torch = pytest.importorskip("torch")

KULISCH_FP32 = {"scheme": "kulisch", "acc": "FP32"}


def logits(model, ids):
    with torch.no_grad():
        return model(ids).logits


@pytest.fixture(scope="module")
def ids():
    g = torch.Generator().manual_seed(3)
    return torch.randint(0, 64, (1, 40), generator=g)


def test_off_equals_unpatched(tiny_model, ids):
    ref = logits(tiny_model, ids)
    with emulate(tiny_model, AttnConfig(mode="off")) as st:
        assert tiny_model.config._attn_implementation == "apace"
        out = logits(tiny_model, ids)
    assert st.calls == 0
    assert torch.equal(out, ref)
    assert tiny_model.config._attn_implementation == "sdpa"
    assert torch.equal(logits(tiny_model, ids), ref)


def test_exact_fp32_no_mx_kulisch_equals_off_within_fp32_rounding(tiny_model, ids):
    ref = logits(tiny_model, ids)
    cfg = AttnConfig(mode="exact", acc_qk=KULISCH_FP32, acc_sum=KULISCH_FP32, acc_pv=KULISCH_FP32)
    with emulate(tiny_model, cfg) as st:
        out = logits(tiny_model, ids)
    assert st.calls == 2  # one call per layer: the emulation did run
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)


def test_exact_mx4_changes_logits(tiny_model, ids):
    """A coarse format must visibly change the result (the patch is not a no-op)."""
    ref = logits(tiny_model, ids)
    cfg = AttnConfig(mode="exact", qk={"elem": "E2M1", "k": 16}, pv={"elem": "E2M1", "k": 16})
    with emulate(tiny_model, cfg):
        out = logits(tiny_model, ids)
    assert (out - ref).abs().max() > 1e-3


def test_attention_call_matches_kernel_on_real_layer(tiny_model, ids):
    """Inside the model the function receives what the kernel expects: compare one layer's output
    computed by hand (repeat_kv, causal mask) with what the model used."""
    from quant import emulate as em
    from quant.kernels import attention_exact

    cfg = AttnConfig(mode="exact", qk={"elem": "E4M3", "k": 8}, pv={"elem": "E4M3", "k": 8})
    seen = {}
    orig = em.attention_exact

    def spy(q, k, v, scaling, allowed, bias, c):
        out = orig(q, k, v, scaling, allowed, bias, c)
        seen.setdefault("args", (q, k, v, scaling, np.broadcast_to(allowed, q.shape[:2] + (q.shape[2], k.shape[2]))))
        seen.setdefault("out", out)
        return out

    em.attention_exact = spy
    try:
        with emulate(tiny_model, cfg):
            logits(tiny_model, ids)
    finally:
        em.attention_exact = orig
    q, k, v, scaling, allowed = seen["args"]
    S = q.shape[2]
    n_rep = q.shape[1] // k.shape[1]
    assert q.shape[1] == 4 and n_rep > 1  # KV heads as the model has them: the kernel repeats them
    assert scaling == pytest.approx(16**-0.5)
    assert np.array_equal(allowed[0, 0], np.tril(np.ones((S, S), bool)))
    assert np.array_equal(seen["out"], attention_exact(q, k, v, scaling, allowed, None, cfg))
    kr, vr = np.repeat(k, n_rep, axis=1), np.repeat(v, n_rep, axis=1)  # transformers' repeat_kv order
    assert np.array_equal(seen["out"], attention_exact(q, kr, vr, scaling, allowed, None, cfg))


class StubErrorModel:
    """Stand-in for characterize.error_model.ErrorModel: error = scale * sum_abs * 2^-(m+1) * sqrt(n) * N(0,1),
    with m the accumulator's mantissa bits; records the calls."""

    key = "stub-v1"

    def __init__(self, scale=1.0):
        self.scale = scale
        self.calls = []

    def sample(self, *, scheme, order, acc, comp, dist, n, sum_abs, rng, max_abs=None):
        from golden.formats import parse_format

        self.calls.append((scheme, order, acc, dist, np.shape(n), np.shape(sum_abs)))
        assert np.broadcast_shapes(np.shape(n), np.shape(sum_abs)) == np.shape(sum_abs)
        assert (max_abs is not None) == (dist == "attn_softmax")
        if max_abs is not None:
            assert np.shape(max_abs) == np.shape(sum_abs) and np.all(max_abs <= sum_abs)
        u = 2.0 ** -(parse_format(acc).m + 1)
        return self.scale * sum_abs * u * np.sqrt(n) * rng.standard_normal(np.shape(sum_abs))


def test_statistical_uses_error_model(tiny_model, ids):
    cfg = AttnConfig(mode="statistical", qk={"elem": "E4M3", "k": 8}, acc_qk={"acc": "E8M10"},
                     acc_sum={"acc": "E5M3-ieee"}, acc_pv={"acc": "BF16", "scheme": "kahan"})
    exact_sums = StubErrorModel(scale=0.0)
    with emulate(tiny_model, cfg, exact_sums):
        base = logits(tiny_model, ids)
    em = StubErrorModel()
    with emulate(tiny_model, cfg, em):
        out = logits(tiny_model, ids)
    dists = sorted({c[3] for c in em.calls})
    assert dists == ["attn_softmax", "mx_products"]
    assert ("kahan", "sequential", "BF16", "mx_products") in {c[:4] for c in em.calls}
    assert len(em.calls) == 3 * 2  # three sums per layer, two layers
    assert ("naive", "sequential", "E8M10", "mx_products") in {c[:4] for c in em.calls}
    assert (out - base).abs().max() > 0  # the sampled errors reach the logits
    # an FP32 accumulator (Q.K^T here) is below the mode's fp32 resolution: no draws for it
    em32 = StubErrorModel()
    with emulate(tiny_model, AttnConfig(**{**cfg.to_dict(), "acc_qk": {"acc": "FP32"}}), em32):
        logits(tiny_model, ids)
    assert len(em32.calls) == 2 * 2 and "FP32" not in {c[2] for c in em32.calls}
    # with zero errors, statistical == exact with exact (Kulisch FP32) sums, up to fp32 rounding of the sums
    ex = AttnConfig(mode="exact", qk={"elem": "E4M3", "k": 8},
                    acc_qk=KULISCH_FP32, acc_sum=KULISCH_FP32, acc_pv=KULISCH_FP32)
    with emulate(tiny_model, ex):
        ref = logits(tiny_model, ids)
    torch.testing.assert_close(base, ref, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------- bad configurations
@pytest.mark.parametrize(
    "kw, word",
    [
        ({"acc_sum": {"scheme": "bogus"}}, "acc_sum.scheme"),
        ({"acc_pv": {"order": "random"}}, "acc_pv.order"),
        ({"qk": {"elem": "E9M9"}}, "qk.elem"),
        ({"pv": {"elem": "E4M3", "k": 24}}, "pv.k"),
        ({"scores": {"elem": "E4M3", "scale_rule": "floor"}}, "scores.scale_rule"),
        ({"mode": "fast"}, "mode"),
        ({"acc_qk": {"acc": "INT8"}}, "acc_qk.acc"),
        ({"qk": {"elem": "BF16"}}, "qk.elem"),
        ({"qk": {"elemnt": "E4M3"}}, "qk"),
    ],
)
def test_bad_attention_config_is_one_clear_error(kw, word):
    with pytest.raises(ValueError, match=word.replace(".", r"\.")):
        AttnConfig(mode=kw.pop("mode", "exact"), **kw)


def test_k_not_dividing_head_dim():
    model = tiny_llama(head_dim=24)
    with pytest.raises(ValueError, match=r"qk\.k.*head_dim \(=24\)"):
        with emulate(model, AttnConfig(qk={"elem": "E4M3", "k": 16})):
            pass
    assert model.config._attn_implementation == "sdpa"


@pytest.mark.parametrize(
    "kw, word", [({"ctx": 1}, "ctx"), ({"ctx": 64, "stride": 128}, "stride"), ({"max_tokens": -1}, "max_tokens")]
)
def test_bad_ppl_config(kw, word):
    with pytest.raises(ValueError, match=word):
        PplConfig(**kw)


def test_padding_mask_batch(tiny_model, ids):
    """A right-padded batch of two (boolean 4D mask from transformers): the emulation honours it."""
    batch = torch.cat([ids, ids.flip(1)], 0)
    am = torch.ones_like(batch)
    am[1, 30:] = 0
    with torch.no_grad():
        ref = tiny_model(batch, attention_mask=am).logits
    cfg = AttnConfig(mode="exact", acc_qk=KULISCH_FP32, acc_sum=KULISCH_FP32, acc_pv=KULISCH_FP32)
    with emulate(tiny_model, cfg), torch.no_grad():
        out = tiny_model(batch, attention_mask=am).logits
    torch.testing.assert_close(out[0], ref[0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out[1, :30], ref[1, :30], rtol=1e-5, atol=1e-5)

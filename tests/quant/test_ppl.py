"""evaluate_ppl and `apace ppl` on a tiny saved checkpoint: windows, caching, resume, CLI, errors."""

from __future__ import annotations

import json
import math

import pytest

from quant import AttnConfig, PplConfig, evaluate_ppl
from quant.ppl import windows


def test_windows_score_each_target_once():
    w = windows(100, ctx=32, stride=16, max_tokens=0)
    scored = [t for _, first, end in w for t in range(first, end)]
    assert scored == list(range(1, 100))
    for begin, first, end in w:
        assert end - begin <= 32 and first > begin
        assert first == 1 or first - begin >= 32 - 16  # context after the first window
    w = windows(1000, ctx=64, stride=64, max_tokens=200)
    assert sum(end - first for _, first, end in w) == 200
    assert w[-1][2] - w[-1][0] < 64  # the last window is cut to what it needs


def test_ppl_tiny_checkpoint_cache_and_resume(tiny_checkpoint, tmp_path):
    ckpt, text = tiny_checkpoint
    cfg = PplConfig(model=str(ckpt), text=str(text), ctx=64, stride=32, max_tokens=150,
                    attn=AttnConfig(mode="exact", qk={"elem": "E4M3", "k": 16}))
    r1 = evaluate_ppl(cfg, results=tmp_path, progress=False)
    assert r1.tokens == 150 and not r1.cached and math.isfinite(r1.ppl) and r1.ppl > 1
    assert r1.wall_s > 0 and r1.cpu_s > 0
    f = tmp_path / f"{r1.config_hash}.json"
    assert json.loads(f.read_text())["result"]["ppl"] == r1.ppl
    r2 = evaluate_ppl(cfg, results=tmp_path, progress=False)
    assert r2.cached and r2.ppl == r1.ppl and r2.config_hash == r1.config_hash
    # a different setting is a different key; off differs from exact MX
    r3 = evaluate_ppl(cfg.with_attn(mode="off"), results=tmp_path, progress=False)
    assert r3.config_hash != r1.config_hash and r3.ppl != r1.ppl
    # resume: keep the first two finished windows of a fresh run, drop the final file
    f.unlink()
    partial = tmp_path / f"{r1.config_hash}.partial.jsonl"
    r4 = evaluate_ppl(cfg, results=tmp_path, progress=False, use_cache=False)
    assert r4.ppl == r1.ppl
    lines = [json.dumps({"window": 0, "begin": 0, "first": 1, "end": 64, "nll": 2000.0, "n": 63})]
    partial.write_text("\n".join(lines) + "\n{\"window\": 1, \"trunc")  # a cut line is ignored
    (tmp_path / f"{r1.config_hash}.json").unlink()
    r5 = evaluate_ppl(cfg, results=tmp_path, progress=False)
    assert r5.ppl > r1.ppl * 100  # the planted finished window was reused, not recomputed
    assert not partial.exists()


def test_ppl_errors(tiny_checkpoint, tmp_path):
    ckpt, text = tiny_checkpoint
    with pytest.raises(ValueError, match="parameter 'model'"):
        evaluate_ppl(PplConfig(model=str(tmp_path / "nope"), text=str(text)), results=tmp_path)
    with pytest.raises(ValueError, match="parameter 'text'"):
        evaluate_ppl(PplConfig(model=str(ckpt), text=str(tmp_path / "nope.txt")), results=tmp_path)
    bad_k = PplConfig(model=str(ckpt), text=str(text), attn=AttnConfig(qk={"elem": "E4M3", "k": 32}))
    with pytest.raises(ValueError, match=r"qk\.k"):  # head_dim 16
        evaluate_ppl(bad_k, results=tmp_path)
    assert not list(tmp_path.glob("*.json"))  # nothing half-written


def test_cli(tiny_checkpoint, tmp_path, capsys):
    from apace.cli import main

    ckpt, text = tiny_checkpoint
    yml = tmp_path / "c.yaml"
    yml.write_text("ctx: 64\nmax_tokens: 100\nattn:\n  qk: {elem: E4M3, k: 16}\n  acc_sum: {acc: BF16}\n")
    argv = ["ppl", "--model", str(ckpt), "--text", str(text), "--config", str(yml), "--results", str(tmp_path),
            "--quiet", "--acc-pv-scheme", "kahan", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tokens"] == 100 and not out["cached"]
    saved = json.loads((tmp_path / f"{out['config_hash']}.json").read_text())["config"]
    assert saved["attn"]["mode"] == "exact" and saved["attn"]["acc_pv"]["scheme"] == "kahan"
    assert saved["attn"]["acc_sum"]["acc"] == "BF16" and saved["stride"] == 64
    assert main(argv[:-1]) == 0
    assert "(cached)" in capsys.readouterr().out
    assert main(argv + ["--acc-qk-scheme", "bogus"]) == 2
    capsys.readouterr()
    assert main(argv + ["--acc-qk-scheme", "bogus"]) == 2
    assert "acc_qk.scheme" in capsys.readouterr().err

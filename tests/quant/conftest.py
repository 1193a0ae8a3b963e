"""Shared fixtures: a tiny random LLaMA model (and a saved checkpoint with a word-level tokenizer)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

WORDS = ("the a of and to in is was she he it that her his not with as for had you".split())


def tiny_llama(head_dim: int = 16, layers: int = 2, vocab: int = 64, seed: int = 0):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    heads, kv = 4, 2
    cfg = LlamaConfig(
        vocab_size=vocab, hidden_size=heads * head_dim, intermediate_size=96, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=kv, head_dim=head_dim, max_position_embeddings=256,
    )
    model = LlamaForCausalLM(cfg).eval()
    model.set_attn_implementation("sdpa")
    return model


@pytest.fixture(scope="module")
def tiny_model():
    return tiny_llama()


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """A saved tiny LLaMA checkpoint with a word-level tokenizer, and a text file in its words."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace
    from transformers import PreTrainedTokenizerFast

    d = tmp_path_factory.mktemp("tiny_ckpt")
    vocab = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate(WORDS)}}
    tk = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tk.pre_tokenizer = Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="[UNK]")
    model = tiny_llama(vocab=len(vocab))
    model.save_pretrained(d)
    tok.save_pretrained(d)
    rng = np.random.default_rng(1)
    text = " ".join(rng.choice(WORDS, size=400))
    tf = d / "text.txt"
    tf.write_text(text)
    return d, tf

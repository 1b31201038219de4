"""Embeddings: shapes, sentence-transformers' encode arguments, and bitwise agreement with the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

import edgebert
from conftest import run_cli


def test_encode_shape_is_the_bar(minilm):
    m = edgebert.Model(str(minilm))
    out = m.encode(["a cat"])
    assert out.shape == (1, 384) and out.dtype == np.float32
    assert out.flags["C_CONTIGUOUS"]


def test_info_describes_the_blob(minilm):
    m = edgebert.Model(minilm)
    info = m.info
    assert info["family"] == "bert" and info["head"] == "none" and info["labels"] == []
    assert info["dims"] == 384 and info["layers"] == 6 and info["max_seq_len"] == 256
    assert info["encodings"] == {"weights": "int8", "embeddings": "int8"}
    assert info["pooling"] == {"mode": "mean", "normalize": True}
    assert info["backend"] in edgebert.backend()
    assert info["file_bytes"] == minilm.stat().st_size
    assert "dims=384" in repr(m) and "head=none" in repr(m)


def test_embed_equals_cli_bitwise(minilm, golden, cli):
    texts = golden["sentences"]
    # The CLI prints f32 values with their shortest round-trip decimal (serde_json / ryu): read
    # back as float32 they are exactly the CLI's floats.
    lines = run_cli(cli, "embed", str(minilm), "--json", *texts)
    theirs = np.array([json.loads(line)["embedding"] for line in lines], dtype=np.float64).astype(np.float32)
    ours = edgebert.Model(minilm).embed(texts)
    assert ours.shape == theirs.shape == (len(texts), 384)
    assert np.array_equal(ours.view(np.uint32), theirs.view(np.uint32))
    # Each decimal the CLI printed is the shortest one that reads back as our float32.
    for row, line in zip(ours[:3], lines[:3]):
        printed = json.loads(line)["embedding"]
        assert [float(np.float32(p)) for p in printed] == [float(v) for v in row]


def test_batching_does_not_change_bits(minilm, golden):
    m = edgebert.Model(minilm)
    texts = golden["sentences"]
    whole = m.embed(texts, batch_size=32)
    assert np.array_equal(whole.view(np.uint32), m.embed(texts, batch_size=1).view(np.uint32))
    assert np.array_equal(whole.view(np.uint32), m.embed(texts, batch_size=5).view(np.uint32))


def test_embeddings_follow_the_reference(minilm, golden):
    """int8 embeddings against transformers' (golden): cosine close to 1."""
    texts = golden["sentences"]
    want = np.array([o["embedding"] for o in golden["models"]["all-minilm-l6-v2"]], dtype=np.float32)
    ours = edgebert.Model(minilm).embed(texts)
    cos = np.sum(ours * want, axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(want, axis=1))
    assert cos.min() > 0.97, cos.min()


def test_encode_arguments_mean_what_sentence_transformers_says(minilm):
    m = edgebert.Model(minilm)
    texts = ["A cat sat on the mat.", "A dog ran in the park.", "Stocks fell sharply."]
    base = m.embed(texts)
    assert np.array_equal(m.encode(texts), base)
    one = m.encode(texts[0])
    assert one.shape == (384,) and np.array_equal(one, base[0])
    listed = m.encode(texts, convert_to_numpy=False)
    assert isinstance(listed, list) and len(listed) == 3 and np.array_equal(listed[1], base[1])
    # all-MiniLM-L6-v2 normalises in its own pipeline: the flag changes nothing.
    assert np.array_equal(m.encode(texts, normalize_embeddings=True), base)
    assert np.allclose(np.linalg.norm(base, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(m.encode(texts, batch_size=1, show_progress_bar=True), base)
    prompted = m.encode(texts, prompt="query: ")
    assert np.array_equal(prompted, m.embed(["query: " + t for t in texts]))
    with pytest.raises(ValueError, match="defines no prompts"):
        m.encode(texts, prompt_name="query")


def test_similar_texts_are_closer(minilm):
    e = edgebert.Model(minilm).encode(["A man is eating food.", "A man is eating pasta.", "The stock market fell."])
    assert e[0] @ e[1] > e[0] @ e[2] + 0.2

"""classify, tag, answer, fill: the same answers as the CLI's --json for the same blob and input."""

from __future__ import annotations

import json

import numpy as np
import pytest

import edgebert
from conftest import ASSETS, run_cli

REVIEWS = ["A gem of a film.", "Dull, plodding and far too long.", "", "Café déjà vu — naïve résumé. 😀"]


def test_classify_equals_cli(sentiment, cli, golden):
    m = edgebert.Model(sentiment)
    texts = golden["sentences"]
    ours = m.classify(texts)
    theirs = [json.loads(line) for line in run_cli(cli, "classify", str(sentiment), "--json", *texts)]
    assert len(ours) == len(theirs) == len(texts)
    for o, t in zip(ours, theirs):
        assert o["label"] == t["label"]
        assert np.float32(o["score"]) == np.float32(t["score"])
        assert np.array_equal(np.array(o["probs"], np.float32), np.array(t["probs"], np.float64).astype(np.float32))
    assert m.info["labels"] == ["negative", "positive"]
    assert m.classify(texts[2]) == ours[2]


def test_classify_agrees_with_transformers(sentiment, golden):
    probs = np.array([r["probs"] for r in edgebert.Model(sentiment).classify(golden["sentences"])])
    want = np.array([o["probs"] for o in golden["models"]["minilm-l6-rt-sentiment"]])
    assert (probs.argmax(1) == want.argmax(1)).mean() >= 0.9
    assert np.abs(probs - want).max() < 0.15


def test_classify_pairs_equal_cli(tiny, cli):
    path = tiny("tiny-bert-pair-cls")
    pairs = [("A man is eating.", "Someone eats."), ("", "Nobody is here."), ("It rains.", "The sun shines.")]
    ours = edgebert.Model(path).classify(pairs)
    flat = [t for p in pairs for t in p]
    theirs = [json.loads(line) for line in run_cli(cli, "classify", str(path), "--pair", "--json", *flat)]
    assert [o["label"] for o in ours] == [t["label"] for t in theirs]
    for o, t in zip(ours, theirs):
        assert np.array_equal(np.array(o["probs"], np.float32), np.array(t["probs"]).astype(np.float32))


def test_tag_equals_cli(tiny, cli):
    path = tiny("tiny-bert-token-cls")
    texts = ["John Smith lives in New York.", "Ångström visited 東京 😀", ""]
    ours = edgebert.Model(path).tag(texts)
    theirs = [json.loads(line) for line in run_cli(cli, "tag", str(path), "--json", *texts)]
    assert len(ours) == 3
    for o, t in zip(ours, theirs):
        assert [(e["entity_group"], e["word"], e["start"], e["end"]) for e in o] == [
            (e["entity_group"], e["word"], e["start"], e["end"]) for e in t
        ]
        assert [np.float32(e["score"]) for e in o] == [np.float32(e["score"]) for e in t]
        for e in o:  # offsets are Python string indices into the text
            assert 0 <= e["start"] <= e["end"]
    assert edgebert.Model(path).tag(texts[0]) == ours[0]


def test_answer_equals_cli(tiny, cli):
    path = tiny("tiny-bert-qa")
    question, context = "Who wrote it?", "The book was written by Jane Austen in 1813. " * 30
    m = edgebert.Model(path)
    best = m.answer(question, context)
    top = m.answer(question, context, top_k=3)
    lines = run_cli(cli, "answer", str(path), "--question", question, "--context", context, "--top-k", "3", "--json")
    theirs = [json.loads(line) for line in lines]
    assert [(a["start"], a["end"], a["answer"]) for a in top] == [(a["start"], a["end"], a["answer"]) for a in theirs]
    assert [a["score"] for a in top] == [a["score"] for a in theirs]
    # top_k sets how many spans per window are kept (2·top_k + 10, as transformers), so the best
    # answer is compared with the CLI's default run, not with top[0].
    one = json.loads(run_cli(cli, "answer", str(path), "--question", question, "--context", context, "--json")[0])
    assert best == one and context[best["start"] : best["end"]] == best["answer"]


def test_fill_equals_cli(tiny, cli):
    path = tiny("tiny-bert-mlm")
    texts = ["The man went to the [MASK] to buy some milk.", "I [MASK] this movie, it was [MASK]."]
    ours = edgebert.Model(path).fill(texts, top_k=3)
    theirs = [json.loads(line) for line in run_cli(cli, "fill", str(path), "--top-k", "3", "--json", *texts)]
    assert [len(o) for o in ours] == [1, 2]
    for o, t in zip(ours, theirs):
        assert [[(g["token"], g["token_str"], g["sequence"]) for g in mask] for mask in o] == [
            [(g["token"], g["token_str"], g["sequence"]) for g in mask] for mask in t
        ]
        assert [[np.float32(g["score"]) for g in mask] for mask in o] == [[np.float32(g["score"]) for g in mask] for mask in t]


def test_every_family_opens_and_runs(tiny):
    for name in ["tiny-distilbert", "tiny-roberta", "tiny-albert"]:
        m = edgebert.Model(tiny(name))
        out = m.classify(REVIEWS)
        assert len(out) == len(REVIEWS) and all(abs(sum(r["probs"]) - 1) < 1e-4 for r in out)
        assert m.info["family"] == name.split("-")[1]


def test_bench_runs_the_cli_benchmark(tiny):
    rows = edgebert.bench(tiny("tiny-bert-pair-cls"), seq=[8, 16], batch=[2], seconds=0.0, warmup=1)
    assert [(r["seq"], r["batch"], r["threads"]) for r in rows] == [(8, 2, 1), (16, 2, 1)]
    for r in rows:
        assert r["iters"] >= 10 and 0 < r["p50_ms"] <= r["p99_ms"] and r["tokens_per_s"] > 0
        assert r["backend"] and r["file_bytes"] > 0


def test_convert_reports_and_is_idempotent(tiny, tmp_path):
    first = tiny("tiny-bert-qa")
    out = tmp_path / "qa.ebq"
    report = edgebert.convert(ASSETS / "models" / "tiny-bert-qa", out, progress=False)
    assert report["outcome"] == "created" and report["tensors"] > 10 and report["weights"] == "int8"
    assert out.read_bytes() == first.read_bytes()
    assert edgebert.convert(ASSETS / "models" / "tiny-bert-qa", out, progress=False)["outcome"] == "unchanged"
    f16 = edgebert.convert(ASSETS / "models" / "tiny-bert-qa", tmp_path / "f16.ebq", weights="f16", progress=False)
    assert f16["weights"] == "f16" and edgebert.Model(f16["output"]).info["encodings"]["weights"] == "f16"


def test_convert_takes_vocab_from_and_calib(tmp_path):
    src = ASSETS / "models" / "tiny-bert-pair-cls"
    dev = ASSETS / "data" / "rt_polarity" / "dev.tsv"
    plain = edgebert.convert(src, tmp_path / "plain.ebq", progress=False)
    assert plain["recipe"] is None
    a = edgebert.convert(src, tmp_path / "a.ebq", calib=dev, calib_limit=16, max_drop=0.0, progress=False)
    b = edgebert.convert(src, tmp_path / "b.ebq", calib=dev, calib_limit=16, max_drop=0.0, progress=False)
    assert a["recipe"] and a["recipe"] == b["recipe"]
    assert (tmp_path / "a.ebq").read_bytes() == (tmp_path / "b.ebq").read_bytes()
    small = edgebert.convert(src, tmp_path / "small.ebq", vocab_from=[dev], progress=False)
    assert small["blob_bytes"] < plain["blob_bytes"]
    with pytest.raises(ValueError):
        edgebert.convert(src, tmp_path / "x.ebq", max_drop=1.0, progress=False)

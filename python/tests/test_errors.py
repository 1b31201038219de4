"""Bad input gets a Python exception with the engine's message, never a crash."""

from __future__ import annotations

import pytest

import edgebert


@pytest.fixture(scope="module")
def model(tiny):
    return edgebert.Model(tiny("tiny-bert-pair-cls"))


@pytest.mark.parametrize("method", ["embed", "classify", "tag", "fill"])
def test_none_is_a_type_error(model, method):
    with pytest.raises(TypeError, match="not None"):
        getattr(model, method)(None)


@pytest.mark.parametrize("method", ["embed", "classify", "tag", "fill"])
def test_empty_list_is_a_value_error(model, method):
    with pytest.raises(ValueError, match="texts is empty"):
        getattr(model, method)([])


@pytest.mark.parametrize("bad", [123, 4.5, object(), b"bytes", ["fine", 7], [None]])
def test_wrong_types_are_type_errors(model, bad):
    with pytest.raises(TypeError, match="must be"):
        model.embed(bad)
    with pytest.raises(TypeError, match="must be"):
        model.classify(bad)


def test_a_str_that_is_not_valid_text(model):
    lone_surrogate = "broken \ud800 text"
    with pytest.raises(ValueError, match=r"texts\[1\] is not valid text"):
        model.embed(["fine", lone_surrogate])
    with pytest.raises(ValueError, match="not valid text"):
        model.classify(lone_surrogate)
    with pytest.raises(ValueError, match="not valid text"):
        model.encode([lone_surrogate])


def test_encode_names_its_argument(model):
    with pytest.raises(TypeError, match="sentences must be a str or a list of str, not None"):
        model.encode(None)
    with pytest.raises(ValueError, match="sentences is empty"):
        model.encode([])


def test_bad_counts(model):
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        model.embed(["a"], batch_size=0)
    with pytest.raises(OverflowError):
        model.embed(["a"], batch_size=-1)
    with pytest.raises(ValueError, match="threads must be at least 1"):
        edgebert.Model(model.info["path"], threads=0)


def test_wrong_task_for_the_head(model, tiny):
    with pytest.raises(ValueError, match="masked-LM"):
        model.fill(["a [MASK] b"])
    with pytest.raises(ValueError, match="token-classification or question-answering"):
        model.tag(["John lives here."])
    with pytest.raises(ValueError, match="no \\[MASK\\] token"):
        edgebert.Model(tiny("tiny-bert-mlm")).fill(["no mask here"])
    qa = edgebert.Model(tiny("tiny-bert-qa"))
    with pytest.raises(ValueError, match="question is empty"):
        qa.answer("", "Some context.")
    with pytest.raises(TypeError, match="context must be str"):
        qa.answer("Why?", None)


def test_files_that_are_not_blobs(tmp_path, model):
    with pytest.raises(FileNotFoundError, match="missing.ebq does not exist"):
        edgebert.Model(tmp_path / "missing.ebq")
    junk = tmp_path / "junk.ebq"
    junk.write_bytes(b"not a blob at all" * 10)
    with pytest.raises(edgebert.BlobError):
        edgebert.Model(junk)
    good = open(model.info["path"], "rb").read()
    truncated = tmp_path / "truncated.ebq"
    truncated.write_bytes(good[: len(good) // 2])
    with pytest.raises(edgebert.BlobError) as err:
        edgebert.Model(truncated)
    assert isinstance(err.value, edgebert.Error) and str(err.value)
    with pytest.raises(edgebert.BlobError):
        edgebert.bench(truncated, seconds=0)


def test_convert_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        edgebert.convert(tmp_path / "no-such-dir", tmp_path / "out.ebq", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises((edgebert.ConvertError, FileNotFoundError)):
        edgebert.convert(tmp_path / "empty", tmp_path / "out.ebq", progress=False)
    with pytest.raises(ValueError, match='weights must be "int8", "f16" or "f32"'):
        edgebert.convert(tmp_path, tmp_path / "out.ebq", weights="int4")


def test_bench_rejects_bad_grids(model):
    with pytest.raises(ValueError, match="at least 2 tokens"):
        edgebert.bench(model.info["path"], seq=[1], seconds=0)
    with pytest.raises(ValueError, match="longer than the model"):
        edgebert.bench(model.info["path"], seq=[100000], seconds=0)

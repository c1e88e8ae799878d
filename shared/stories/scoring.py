"""How alike two articles are as reports of one event (pure functions).

``score = w_text·text + w_entities·entities + w_time·time`` where ``text`` is the cosine of the lead-term
sets, ``entities`` the salience-weighted cosine of the salient entities and ``time`` falls linearly from 1
(same moment) to 0 (a window apart).  When either article has no entities (a language without NER), the
entity weight goes to the text.  An article joins the story of its best-scoring candidate when the score
reaches the threshold (single link), else it starts a story."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Self

from shared.settings import Settings
from shared.stories.signature import StorySignature


@dataclass(frozen=True, slots=True)
class StoryRules:
    threshold: float = 0.35
    weight_text: float = 0.5
    weight_entities: float = 0.35
    weight_time: float = 0.15
    window_hours: float = 72.0
    syndication: float = 0.8

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(
            threshold=settings.story_threshold,
            weight_text=settings.story_weight_text,
            weight_entities=settings.story_weight_entities,
            weight_time=settings.story_weight_time,
            window_hours=settings.story_window_hours,
            syndication=settings.story_syndication_similarity,
        )


@dataclass(frozen=True, slots=True)
class MatchScore:
    total: float
    text: float
    entities: float | None  # None: one of the articles has no entities
    time: float


def text_similarity(a: frozenset[int], b: frozenset[int]) -> float:
    """Cosine of two term sets: shared / sqrt(|a|·|b|)."""
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def entity_similarity(a: dict[int, float], b: dict[int, float]) -> float:
    """Salience-weighted cosine of two entity sets."""
    if not a or not b:
        return 0.0
    dot = sum(w * b[k] for k, w in a.items() if k in b)
    return dot / math.sqrt(sum(w * w for w in a.values()) * sum(w * w for w in b.values()))


def time_proximity(a: datetime | None, b: datetime | None, *, window_hours: float) -> float:
    """1 at the same moment, 0 a window (or more) apart; 1 when a time is unknown."""
    if a is None or b is None or window_hours <= 0:
        return 1.0
    hours = abs((a - b).total_seconds()) / 3600.0
    return max(0.0, 1.0 - hours / window_hours)


def match_score(a: StorySignature, b: StorySignature, *, rules: StoryRules) -> MatchScore:
    text = text_similarity(a.terms, b.terms)
    time = time_proximity(a.at, b.at, window_hours=rules.window_hours)
    if a.entities and b.entities:
        entities: float | None = entity_similarity(a.entities, b.entities)
        total = (
            rules.weight_text * text + rules.weight_entities * (entities or 0.0) + rules.weight_time * time
        )
    else:
        entities = None
        total = (rules.weight_text + rules.weight_entities) * text + rules.weight_time * time
    return MatchScore(total=round(total, 6), text=round(text, 6), entities=entities, time=round(time, 6))


@dataclass(frozen=True, slots=True)
class Candidate:
    """An article already in a story."""

    article_id: int
    story_id: int
    signature: StorySignature


@dataclass(frozen=True, slots=True)
class Match:
    candidate: Candidate
    score: MatchScore

    def syndicated(self, rules: StoryRules) -> bool:
        """The article is a syndicated copy of the matched one (nearly the same lead)."""
        return self.score.text >= rules.syndication


def best_match(
    signature: StorySignature, candidates: Iterable[Candidate], *, rules: StoryRules
) -> Match | None:
    """The best-scoring candidate at or above the threshold (ties: the older article), or None."""
    best: Match | None = None
    for candidate in candidates:
        score = match_score(signature, candidate.signature, rules=rules)
        if score.total < rules.threshold:
            continue
        if best is None or (score.total, -candidate.article_id) > (
            best.score.total,
            -best.candidate.article_id,
        ):
            best = Match(candidate, score)
    return best

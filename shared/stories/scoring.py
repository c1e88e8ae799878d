"""How alike two articles are as reports of one event (pure functions).

``score = w_text·text + w_entities·entities + w_time·time`` where ``text`` is the cosine of the lead-term
sets, ``entities`` the salience-weighted cosine of the salient entities and ``time`` falls linearly from 1
(same moment) to 0 (a window apart).  When either article has no entities (a language without NER), the
entity weight goes to the text.

The text part also reads the multilingual embeddings of the two leads, centred on the mean article
embedding (:func:`embedding_similarity`).  That cosine is put on the term cosine's scale by a straight line
fitted on English pairs (``embedding_floor`` maps to 0, ``embedding_ceiling`` to 1, clipped): for two
articles in different languages, whose terms cannot overlap, ``text`` is that mapped cosine alone; for two
in one language it is the blend ``(1 - weight_embedding)·terms + weight_embedding·mapped``.  Without an
embedding on either side the text part is the term cosine, as before.  An article joins the story of its
best-scoring candidate when the score reaches the threshold (single link), else it starts a story."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Self

import numpy as np

from shared.settings import Settings
from shared.stories.signature import StorySignature, Vector, centred


@dataclass(frozen=True, slots=True)
class StoryRules:
    threshold: float = 0.4
    weight_text: float = 0.5
    weight_entities: float = 0.35
    weight_time: float = 0.15
    window_hours: float = 72.0
    syndication: float = 0.8
    weight_embedding: float = 1.0
    embedding_floor: float = 0.102
    embedding_ceiling: float = 0.6

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(
            threshold=settings.story_threshold,
            weight_text=settings.story_weight_text,
            weight_entities=settings.story_weight_entities,
            weight_time=settings.story_weight_time,
            window_hours=settings.story_window_hours,
            syndication=settings.story_syndication_similarity,
            weight_embedding=settings.story_weight_embedding,
            embedding_floor=settings.story_embedding_floor,
            embedding_ceiling=settings.story_embedding_ceiling,
        )


@dataclass(frozen=True, slots=True)
class MatchScore:
    total: float
    text: float  # the text part: term cosine, mapped embedding cosine, or their blend
    entities: float | None  # None: one of the articles has no entities
    time: float
    terms: float = 0.0  # the lead-term cosine
    embedding: float | None = None  # the embedding cosine; None: an article has no embedding
    crosslingual: bool = False  # the articles are in different languages


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


def embedding_similarity(
    a: Vector | None, b: Vector | None, *, language_a: str | None = None, language_b: str | None = None
) -> float | None:
    """Cosine of two embeddings, each seen from the mean article embedding of its language
    (:func:`centred`): about 0 for unrelated articles, where the raw cosines of every pair crowd between
    0.75 and 0.9.  None when either is missing or their sizes differ."""
    if a is None or b is None or a.shape != b.shape:
        return None
    ca, cb = centred(a, language_a), centred(b, language_b)
    if ca is None or cb is None:
        return None
    return float(np.dot(ca, cb))


def embedding_on_text_scale(cosine: float, *, floor: float, ceiling: float) -> float:
    """The embedding cosine on the term cosine's 0..1 scale: 0 at ``floor``, 1 at ``ceiling``."""
    if ceiling <= floor:
        return 1.0 if cosine >= ceiling else 0.0
    return min(1.0, max(0.0, (cosine - floor) / (ceiling - floor)))


def crosslingual(a: StorySignature, b: StorySignature) -> bool:
    """Both languages are known and differ."""
    return a.language is not None and b.language is not None and a.language != b.language


def time_proximity(a: datetime | None, b: datetime | None, *, window_hours: float) -> float:
    """1 at the same moment, 0 a window (or more) apart; 1 when a time is unknown."""
    if a is None or b is None or window_hours <= 0:
        return 1.0
    hours = abs((a - b).total_seconds()) / 3600.0
    return max(0.0, 1.0 - hours / window_hours)


def text_part(
    a: StorySignature, b: StorySignature, *, rules: StoryRules
) -> tuple[float, float, float | None]:
    """``(text part, term cosine, embedding cosine)`` of two signatures."""
    terms = text_similarity(a.terms, b.terms)
    cosine = embedding_similarity(a.embedding, b.embedding, language_a=a.language, language_b=b.language)
    if cosine is None:
        return terms, terms, None
    mapped = embedding_on_text_scale(cosine, floor=rules.embedding_floor, ceiling=rules.embedding_ceiling)
    if crosslingual(a, b) or not a.terms or not b.terms:
        return mapped, terms, cosine
    return (1.0 - rules.weight_embedding) * terms + rules.weight_embedding * mapped, terms, cosine


def match_score(a: StorySignature, b: StorySignature, *, rules: StoryRules) -> MatchScore:
    text, terms, cosine = text_part(a, b, rules=rules)
    time = time_proximity(a.at, b.at, window_hours=rules.window_hours)
    if a.entities and b.entities:
        entities: float | None = entity_similarity(a.entities, b.entities)
        total = (
            rules.weight_text * text + rules.weight_entities * (entities or 0.0) + rules.weight_time * time
        )
    else:
        entities = None
        total = (rules.weight_text + rules.weight_entities) * text + rules.weight_time * time
    return MatchScore(
        total=round(total, 6),
        text=round(text, 6),
        entities=entities,
        time=round(time, 6),
        terms=round(terms, 6),
        embedding=None if cosine is None else round(cosine, 6),
        crosslingual=crosslingual(a, b),
    )


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
        """The article is a syndicated copy of the matched one (nearly the same lead terms)."""
        return self.score.terms >= rules.syndication


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

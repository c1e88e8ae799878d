"""Story signatures and scoring on hand-made texts: pure functions, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from shared.stories.scoring import (
    Candidate,
    StoryRules,
    best_match,
    embedding_on_text_scale,
    embedding_similarity,
    entity_similarity,
    match_score,
    text_similarity,
    time_proximity,
)
from shared.stories.signature import (
    EMBEDDING_BANDS,
    ENTITY_KEYS,
    TERM_KEYS,
    build_signature,
    embedding_centre,
    embedding_keys,
    entity_key,
    lead_terms,
    normalise_term,
    quantise,
    restore,
)

T0 = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
QUAKE = "A magnitude 7.1 earthquake struck central Chile near Valparaiso, prompting a tsunami warning."
QUAKE_2 = "Chile lifted its tsunami warning after the 7.1 earthquake near Valparaiso shook Santiago."
MATCH = "Arsenal beat Chelsea 3-1 at the Emirates to go top of the Premier League table."
CHILE = [("GPE", "Chile", 0.9), ("GPE", "Valparaiso", 0.6)]


def test_terms_drop_stop_words_and_fold_plurals() -> None:
    assert normalise_term("The") is None
    assert normalise_term("of") is None
    assert normalise_term("Warnings") == "warning"
    assert normalise_term("cities") == "city"
    assert normalise_term("press") == "press"  # not a plural
    assert normalise_term("12") is None
    assert normalise_term("2024") == "2024"
    assert lead_terms("Quake hits Chile", "The earthquakes shook the cities.") == {
        "quake",
        "hit",
        "chile",
        "earthquake",
        "shook",
        "city",
    }


def test_lead_terms_read_only_the_lead() -> None:
    body = "first words here " + "filler " * 200 + "faraway"
    assert "faraway" not in lead_terms("", body)
    assert "faraway" in lead_terms("", body, lead_words=300)


def test_signature_is_deterministic_and_keys_are_entities_and_sampled_terms() -> None:
    one = build_signature(title="Quake", text=QUAKE, entities=CHILE, at=T0)
    two = build_signature(title="Quake", text=QUAKE, entities=list(reversed(CHILE)), at=T0)
    assert one == two
    assert entity_key("GPE", "Chile") in one.keys
    assert len(one.keys) <= ENTITY_KEYS + TERM_KEYS
    assert set(one.keys) - {entity_key(t, n) for t, n, _ in CHILE} <= one.terms
    assert one.entities[entity_key("GPE", "Chile")] == pytest.approx(0.9)
    empty = build_signature(title="", text="", entities=[], at=None)
    assert (empty.terms, empty.entities, empty.keys) == (frozenset(), {}, ())


def test_similarities() -> None:
    assert text_similarity(frozenset({1, 2, 3, 4}), frozenset({1, 2, 3, 4})) == pytest.approx(1.0)
    assert text_similarity(frozenset({1, 2, 3, 4}), frozenset({3, 4, 5, 6})) == pytest.approx(0.5)
    assert text_similarity(frozenset(), frozenset({1})) == 0.0
    assert entity_similarity({1: 0.9, 2: 0.1}, {1: 0.9, 2: 0.1}) == pytest.approx(1.0)
    # sharing the main entity counts far more than sharing a minor one
    assert entity_similarity({1: 0.9, 2: 0.1}, {1: 0.8, 3: 0.1}) > 0.9
    assert entity_similarity({1: 0.9, 2: 0.1}, {2: 0.8, 3: 0.9}) < 0.1
    assert time_proximity(T0, T0 + timedelta(hours=36), window_hours=72) == pytest.approx(0.5)
    assert time_proximity(T0, T0 - timedelta(hours=100), window_hours=72) == 0.0
    assert time_proximity(None, T0, window_hours=72) == 1.0


def test_same_event_scores_above_the_threshold_and_another_event_below() -> None:
    rules = StoryRules()
    quake = build_signature(title="Earthquake hits Chile", text=QUAKE, entities=CHILE, at=T0)
    quake_2 = build_signature(
        title="Chile lifts tsunami warning", text=QUAKE_2, entities=CHILE, at=T0 + timedelta(hours=5)
    )
    football = build_signature(
        title="Arsenal top the table",
        text=MATCH,
        entities=[("ORG", "Arsenal", 0.9)],
        at=T0 + timedelta(hours=1),
    )
    related = match_score(quake, quake_2, rules=rules)
    unrelated = match_score(quake, football, rules=rules)
    assert related.total >= rules.threshold > unrelated.total
    assert related.entities == pytest.approx(1.0)
    assert unrelated.entities == 0.0
    # the same pair a week apart: the time term is gone
    late = match_score(
        quake,
        build_signature(title="x", text=QUAKE_2, entities=CHILE, at=T0 + timedelta(days=7)),
        rules=rules,
    )
    assert late.time == 0.0


def test_without_entities_the_entity_weight_goes_to_the_text() -> None:
    rules = StoryRules(weight_text=0.5, weight_entities=0.35, weight_time=0.15)
    a = build_signature(title="", text=QUAKE, entities=[], at=T0)
    b = build_signature(title="", text=QUAKE, entities=[], at=T0)
    score = match_score(a, b, rules=rules)
    assert score.entities is None
    assert score.total == pytest.approx(1.0)


def test_best_match_takes_the_best_candidate_at_or_above_the_threshold() -> None:
    rules = StoryRules(threshold=0.35)
    article = build_signature(title="Earthquake hits Chile", text=QUAKE, entities=CHILE, at=T0)
    same = build_signature(title="Earthquake hits Chile", text=QUAKE, entities=CHILE, at=T0)
    near = build_signature(title="Chile lifts warning", text=QUAKE_2, entities=CHILE, at=T0)
    other = build_signature(title="Arsenal", text=MATCH, entities=[], at=T0)
    candidates = [Candidate(3, 30, near), Candidate(2, 20, same), Candidate(4, 40, other)]
    match = best_match(article, candidates, rules=rules)
    assert match is not None
    assert (match.candidate.article_id, match.candidate.story_id) == (2, 20)
    assert match.syndicated(rules)  # the same lead
    assert best_match(article, [Candidate(4, 40, other)], rules=rules) is None
    # a tie goes to the older article
    tie = best_match(article, [Candidate(9, 90, same), Candidate(5, 50, same)], rules=rules)
    assert tie is not None
    assert tie.candidate.article_id == 5


def _unit(v: np.ndarray) -> np.ndarray:
    out: np.ndarray = (v / np.linalg.norm(v)).astype(np.float32)
    return out


def _near(v: np.ndarray, noise: float, seed: int) -> np.ndarray:
    return _unit(v + noise * np.random.default_rng(seed).standard_normal(v.size).astype(np.float32))


def test_quantised_embeddings_keep_their_direction() -> None:
    v = _unit(np.random.default_rng(1).standard_normal(384).astype(np.float32))
    data = quantise(v)
    assert len(data) == 384  # one byte a dimension
    back = restore(data)
    assert back is not None
    assert float(np.dot(back, v)) > 0.999
    assert quantise(back) == data  # stable: a reassignment stores the same bytes
    assert restore(quantise(np.zeros(384, dtype=np.float32))) is None
    assert restore(None) is None


def _article_like(rng: np.random.Generator) -> np.ndarray:
    """Like a news-article embedding: the mean article direction plus an article's own part."""
    own = rng.standard_normal(384).astype(np.float32)
    return _unit(embedding_centre(384) + 0.5 * own / np.linalg.norm(own))


def test_embedding_keys_find_near_vectors_and_rarely_far_ones() -> None:
    assert np.linalg.norm(embedding_centre(384)) > 0.5  # the shipped centre is found
    # each language with a shipped mean is centred on it; any other on the mean of all
    assert not np.array_equal(embedding_centre(384, "de"), embedding_centre(384))
    assert np.array_equal(embedding_centre(384, "xx"), embedding_centre(384))
    rng = np.random.default_rng(2)
    base = [_article_like(rng) for _ in range(40)]
    near = [_near(v, 0.005, i) for i, v in enumerate(base)]  # centred cosine about 0.97
    assert embedding_keys(base[0]) == embedding_keys(base[0].copy())  # deterministic
    assert len(embedding_keys(base[0])) == EMBEDDING_BANDS
    found = sum(
        bool(set(embedding_keys(a)) & set(embedding_keys(b))) for a, b in zip(base, near, strict=True)
    )
    unrelated = sum(
        bool(set(embedding_keys(a)) & set(embedding_keys(b))) for a, b in zip(base, base[1:], strict=False)
    )
    # near vectors always share a band; unrelated ones share one of the 24 six-bit bands with probability
    # 1 - (63/64)^24 = 0.31: candidates to score, not matches
    assert found == 40
    assert unrelated <= 20


def test_articles_in_two_languages_are_compared_by_their_embeddings() -> None:
    rules = StoryRules(embedding_floor=0.8, embedding_ceiling=0.95, weight_embedding=0.0)
    v = _unit(np.random.default_rng(3).standard_normal(384).astype(np.float32))
    w = _near(v, 0.01, 4)
    english = build_signature(title="Quake", text=QUAKE, entities=[], at=T0, embedding=v, language="en")
    german = build_signature(
        title="Erdbeben",
        text="Ein schweres Erdbeben erschütterte das Land.",
        entities=[],
        at=T0,
        embedding=w,
        language="de",
    )
    assert set(english.keys) & set(german.keys)  # found through an embedding key: they share no term
    score = match_score(german, english, rules=rules)
    assert score.crosslingual
    assert score.terms == 0.0
    assert score.embedding is not None
    assert score.embedding > 0.9  # near vectors, each centred on its own language's mean
    assert score.text == pytest.approx(
        embedding_on_text_scale(score.embedding, floor=0.8, ceiling=0.95), abs=1e-5
    )
    assert score.total >= rules.threshold
    # one language: the term cosine, unless the rules blend the embedding in
    same = build_signature(title="Quake", text=QUAKE_2, entities=[], at=T0, embedding=w, language="en")
    plain = match_score(english, same, rules=rules)
    assert plain.text == plain.terms
    blended = match_score(english, same, rules=replace(rules, weight_embedding=0.5))
    assert blended.text == pytest.approx(
        0.5 * plain.terms + 0.5 * embedding_on_text_scale(plain.embedding or 0.0, floor=0.8, ceiling=0.95),
        abs=1e-5,
    )
    # a translation is not a syndicated copy: syndication reads the term cosine
    match = best_match(german, [Candidate(1, 10, english)], rules=rules)
    assert match is not None
    assert not match.syndicated(rules)


def test_embedding_scale() -> None:
    assert embedding_on_text_scale(0.8, floor=0.8, ceiling=0.95) == 0.0
    assert embedding_on_text_scale(0.5, floor=0.8, ceiling=0.95) == 0.0
    assert embedding_on_text_scale(0.875, floor=0.8, ceiling=0.95) == pytest.approx(0.5)
    assert embedding_on_text_scale(0.99, floor=0.8, ceiling=0.95) == 1.0
    assert embedding_similarity(None, np.ones(3, dtype=np.float32)) is None

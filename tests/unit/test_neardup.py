"""Unit tests of the near-duplicate keys and the revision diff (pure functions, hand-made texts)."""

from __future__ import annotations

import pytest

from services.ingest.articles.neardup import (
    BANDS,
    NUM_PERM,
    Fingerprint,
    band_keys,
    best_match,
    decode_signature,
    encode_signature,
    fingerprint,
    is_near_duplicate,
    shingles,
    signature,
    similarity,
    unified_diff,
)

STORY = (
    "The city council voted on Tuesday to build a new bridge across the river, ending a decade of debate "
    "about how to connect the two halves of the town. The mayor said construction would start next spring "
    "and take about three years. Opponents argued that the money would be better spent on schools and "
    "on repairing the roads that already exist, and they promised to challenge the decision in court. "
    "Engineers estimate the bridge will carry twenty thousand cars a day once it opens to traffic. "
    "Local businesses on both banks welcomed the vote, saying customers had long avoided the detour."
)
OTHER = (
    "A heatwave across the south of the country pushed temperatures above forty degrees for a third day, "
    "and officials urged older people to stay indoors during the afternoon. Hospitals reported a rise in "
    "admissions for dehydration, while farmers warned that the harvest of wheat and barley could be the "
    "smallest in twenty years. The weather service expects cooler air to arrive from the west by Sunday, "
    "bringing thunderstorms and the risk of flash floods in the valleys that burned last summer."
)


def test_shingles_are_runs_of_words_after_normalising() -> None:
    assert shingles("The Cat, the HAT!", size=2) == {"the cat", "cat the", "the hat"}
    assert shingles("one two", size=4) == {"one two"}
    assert shingles("  ", size=4) == set()


def test_same_text_in_other_quotes_case_and_spacing_has_the_same_signature() -> None:
    a = "He said: “we will win”. It’s   done — finally."
    b = 'he said "we will win" it\'s done - finally'
    assert signature(shingles(a)) == signature(shingles(b))


def test_signature_is_deterministic_and_the_right_length() -> None:
    sig = signature(shingles(STORY))
    assert len(sig) == NUM_PERM
    assert sig == signature(shingles(STORY))
    assert decode_signature(encode_signature(sig)) == sig
    assert len(band_keys(sig)) == BANDS


def test_band_keys_are_signed_64_bit_and_differ_by_band() -> None:
    keys = band_keys(signature(shingles(STORY)))
    assert all(-(2**63) <= k < 2**63 for k in keys)
    assert len(set(keys)) == BANDS
    zeros = band_keys((0,) * NUM_PERM)  # equal values in every band still give one key per band
    assert len(set(zeros)) == BANDS


def test_similarity_estimates_jaccard() -> None:
    a, b = shingles(STORY), shingles(STORY.rsplit(". ", 2)[0])  # the last two sentences cut
    exact = len(a & b) / len(a | b)
    estimate = similarity(signature(a), signature(b))
    assert abs(estimate - exact) < 0.15
    assert similarity(signature(a), signature(a)) == 1.0
    assert similarity(signature(a), signature(shingles(OTHER))) < 0.1
    with pytest.raises(ValueError, match="lengths"):
        similarity((1, 2), (1, 2, 3))


def test_short_texts_get_no_fingerprint() -> None:
    assert fingerprint("Breaking: markets fall sharply", min_words=50) is None
    fp = fingerprint(STORY, min_words=50)
    assert isinstance(fp, Fingerprint)


def test_syndicated_copy_is_a_near_duplicate_and_another_story_is_not() -> None:
    copy = (
        "Reporting by our correspondent.\n\n" + STORY.replace("Tuesday", "Tuesday evening").rsplit(". ", 1)[0]
    )
    copy += "\n\nCopyright 2024. All rights reserved."
    a, b, c = (fingerprint(t, min_words=50) for t in (STORY, copy, OTHER))
    score = is_near_duplicate(a, b, threshold=0.45)
    assert score is not None
    assert 0.45 <= score < 1.0
    assert is_near_duplicate(a, c, threshold=0.45) is None
    assert is_near_duplicate(a, None, threshold=0.0) is None
    assert is_near_duplicate(a, b, threshold=1.0) is None  # below the threshold


def test_best_match_takes_the_most_similar_then_the_oldest() -> None:
    fp = fingerprint(STORY, min_words=50)
    assert fp is not None
    half = signature(shingles(STORY[: len(STORY) // 2]))
    other = signature(shingles(OTHER))
    assert best_match(fp, [(5, other), (7, half), (9, fp.signature)], threshold=0.4) == (9, 1.0)
    assert best_match(fp, [(9, fp.signature), (3, fp.signature)], threshold=0.4) == (3, 1.0)
    assert best_match(fp, [(5, other)], threshold=0.4) is None
    assert best_match(fp, [], threshold=0.4) is None


def test_unified_diff_shows_changed_lines() -> None:
    diff = unified_diff("a\nb\nc", "a\nB\nc\nd", old_label="revision 1", new_label="revision 2")
    assert diff.startswith("--- revision 1\n+++ revision 2\n")
    assert {"-b\n", "+B\n", "+d\n"} <= set(diff.splitlines(keepends=True))
    assert unified_diff("same", "same", old_label="x", new_label="y") == ""


def test_the_chaos_feeds_templated_briefs_are_not_near_duplicates() -> None:
    """`newswire chaos` pushes one 60-word template with other names and numbers: different articles that
    must all be stored and enriched.  They are below the minimum length, so only the exact hash applies."""
    from newswire_cli.dev.chaos import make_article
    from services.ingest.cleaning import clean_text
    from shared.settings import get_settings

    min_words = get_settings().neardup_min_words
    texts = [clean_text(make_article("run", n)["text"]).text for n in range(200)]
    assert all(fingerprint(t, min_words=min_words) is None for t in texts)

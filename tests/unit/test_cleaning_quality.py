"""Extraction confidence and its reason codes, on small hand-made articles."""

from __future__ import annotations

from datetime import UTC, datetime

from services.ingest.cleaning import clean_text
from services.ingest.cleaning.models import FLAGS
from services.ingest.cleaning.service import with_feed_date
from services.ingest.cleaning.text import line_hash

PARA = (
    "The city council approved the new budget on Monday after a long debate about the cost of the "
    "tram extension, which opponents said would strain the finances of the smaller districts."
)
DATED = "Published 14 May 2024\n\n"


def _body(paragraphs: int) -> str:
    return "\n\n".join(f"{PARA} Council member {i} voted against it." for i in range(paragraphs))


def test_a_full_dated_article_has_full_confidence() -> None:
    article = clean_text(DATED + _body(4))
    assert article.flags == []
    assert article.confidence == 1.0


def test_short_body_is_flagged() -> None:
    article = clean_text(DATED + "The council met on Monday and approved the budget, officials said.")
    assert "too_short" in article.flags
    assert article.confidence < 1.0


def test_body_ending_mid_sentence_is_truncated() -> None:
    article = clean_text(DATED + _body(3) + "\n\nThe mayor, who had argued for the tram since her election")
    assert "truncated" in article.flags
    ellipsis = clean_text(DATED + _body(3) + "\n\nThe mayor said the decision was only the beginning...")
    assert "truncated" in ellipsis.flags
    assert "truncated" not in clean_text(DATED + _body(3)).flags


def test_paywall_wording_near_a_short_body_is_likely_paywall() -> None:
    text = DATED + _body(1) + "\n\nSubscribe to continue reading. Already a subscriber? Log in."
    article = clean_text(text)
    assert "likely_paywall" in article.flags
    long_article = clean_text(DATED + _body(12) + "\n\nSubscribe to continue reading.")
    assert "likely_paywall" not in long_article.flags


def test_date_flags_page_feed_or_none() -> None:
    undated = clean_text(_body(4))
    assert undated.flags == ["no_date"]
    from_feed = with_feed_date(undated, datetime(2024, 5, 14, tzinfo=UTC))
    assert from_feed.flags == ["date_from_feed"]
    assert undated.confidence < from_feed.confidence < 1.0
    dated = clean_text(DATED + _body(4))
    assert with_feed_date(dated, datetime(2024, 5, 14, tzinfo=UTC)).flags == []
    assert set(undated.flags + from_feed.flags) <= FLAGS


def test_known_source_boilerplate_goes_with_its_reason() -> None:
    footer = "Reporting for the Valley Gazette since 1921, independent and reader funded."
    text = DATED + _body(3) + "\n\n" + footer
    plain = clean_text(text)
    assert footer in plain.text, "the footer reads like prose: only the source's history catches it"
    assert line_hash(footer) in plain.line_hashes
    learned = clean_text(text, known_boilerplate={line_hash(footer)})
    assert footer not in learned.text
    assert [p.reason for p in learned.removed if p.text == footer] == ["repeated_for_source"]
    assert _body(3).split("\n\n")[0] in learned.text


def test_line_hash_ignores_case_spacing_punctuation_and_numbers_but_not_long_prose() -> None:
    assert line_hash("Copyright 2024, Valley Gazette.") == line_hash("copyright 2025  valley gazette")
    assert line_hash("Valley Gazette") != line_hash("Valley Herald")
    assert line_hash(" ".join(["word"] * 41)) is None
    assert line_hash("...") is None

"""The cleaning report contract (``articles.cleaning``): what ingest writes and the API reads."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.schemas import CleaningReport, RemovedText


def test_a_report_round_trips_through_its_json() -> None:
    report = CleaningReport(
        removed=[RemovedText(text="Subscribe now", reason="newsletter_prompt")],
        page_title="Title",
        page_canonical_url="https://example.com/a",
        published_at_from="content",
        confidence=0.8,
        flags=["truncated"],
    )
    stored = report.to_json()
    assert stored == {
        "removed": [{"text": "Subscribe now", "reason": "newsletter_prompt"}],
        "page_title": "Title",
        "page_canonical_url": "https://example.com/a",
        "published_at_from": "content",
        "confidence": 0.8,
        "flags": ["truncated"],
    }
    assert CleaningReport.from_json(stored) == report


def test_old_rows_with_missing_keys_read_with_defaults() -> None:
    assert CleaningReport.from_json(None) == CleaningReport.from_json({}) == CleaningReport()
    # a row written before confidence and flags were measured
    old = CleaningReport.from_json(
        {
            "removed": [{"text": "Share", "reason": "share_widget"}],
            "page_title": None,
            "published_at_from": None,
        }
    )
    assert (old.confidence, old.flags, old.removed[0].reason) == (None, [], "share_widget")


def test_a_malformed_report_is_refused() -> None:
    with pytest.raises(ValidationError):
        CleaningReport(published_at_from="guess")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        CleaningReport.from_json({"removed": [{"text": "x"}]})

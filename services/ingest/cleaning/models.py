"""Value objects returned by the cleaning domain module."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

#: Every reason a piece of text can be dropped for.
REASONS: Final[frozenset[str]] = frozenset(
    {
        "caption",
        "newsletter_prompt",
        "share_widget",
        "comment_widget",
        "teaser_list",
        "footer",
        "byline",
        "date_line",
        "navigation",
        "advertisement",
        "related_links",
        "empty",
        "other",
        "html_boilerplate",
        "repeated_for_source",
        "cookie_notice",  # a cookie or consent banner
        "reader_comments",  # readers' comments below the article (flattened text)
        "outside_main_text",  # body-like text outside the article's main block (flattened text)
    }
)

#: Every reason code that lowers an article's extraction confidence.
FLAGS: Final[frozenset[str]] = frozenset(
    {
        "too_short",  # little body text
        "truncated",  # the body ends mid-sentence
        "likely_paywall",  # subscription/paywall wording next to a short body
        "date_from_feed",  # the page gave no date: the feed's date is used
        "no_date",  # neither the page nor the feed gave a date
        "timeout",  # the extractor ran past its time limit: cheap fallback used
        "too_large",  # the page is past the size (or memory) limit: cheap fallback used
        "extractor_error",  # the extractor failed or its process died: cheap fallback used
        "extractor_busy",  # no extractor process was free in time: cheap fallback used
        "fallback_extractor",  # the main extractor found no body: a simpler one was used
        "stock_body",  # only stock lines ("More to follow.", "BREAKING NEWS"): the short body kept as sent
        "cleaning_fallback",  # cleaning would have kept < 1/5 of the text's words: the text was kept whole
    }
)


@dataclass(frozen=True, slots=True)
class RemovedPiece:
    """A piece of the input that did not make it into the article body."""

    text: str
    reason: str  # one of REASONS

    def to_dict(self) -> dict[str, str]:
        return {"text": self.text, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class CleanedArticle:
    """The article body with its metadata, plus what was removed and why."""

    text: str  # paragraphs separated by "\n\n", no leading/trailing space
    title: str | None
    published_at: datetime | None  # timezone-aware
    modified_at: datetime | None  # timezone-aware
    authors: list[str]
    site_name: str | None
    language: str | None  # ISO 639-1 hint from the page, else None
    canonical_url: str | None
    removed: list[RemovedPiece]
    confidence: float = 1.0  # 0..1: how far the body can be trusted
    flags: list[str] = field(default_factory=list)  # reason codes (FLAGS) behind the confidence
    #: hashes of the input's short lines (see ``source_lines``), for per-source boilerplate learning
    line_hashes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes as ISO 8601 strings)."""
        return {
            "text": self.text,
            "title": self.title,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "modified_at": self.modified_at.isoformat() if self.modified_at else None,
            "authors": list(self.authors),
            "site_name": self.site_name,
            "language": self.language,
            "canonical_url": self.canonical_url,
            "removed": [piece.to_dict() for piece in self.removed],
            "confidence": self.confidence,
            "flags": list(self.flags),
        }

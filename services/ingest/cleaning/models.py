"""Value objects returned by the cleaning domain module."""

from __future__ import annotations

from dataclasses import dataclass
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
        }

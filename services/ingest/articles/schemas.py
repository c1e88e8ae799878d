"""What feeds send and what they get back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.settings import get_settings

IngestStatus = Literal["queued", "revised", "duplicate"]
DuplicateMethod = Literal["external_id", "url", "exact", "near"]


def date_problem(value: datetime, *, now: datetime | None = None) -> str | None:
    """Why an aware date is outside the window an article's date may have (None: inside)."""
    settings = get_settings()
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 is in year 10000 in UTC
        return "date is out of range"
    if utc.year < settings.min_article_year:
        return f"date is before {settings.min_article_year}"
    now = now or datetime.now(UTC)
    if utc > now + timedelta(hours=settings.max_future_hours):
        return f"date is more than {settings.max_future_hours:g} hours in the future"
    return None


class ArticleIn(BaseModel):
    """One article pushed by a feed. Exactly one of `html` or `text`."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "url": "https://example.com/world/2024/05/nato-summit",
                    "title": "NATO leaders meet in Brussels",
                    "text": "BRUSSELS (Reuters) - NATO leaders met on Tuesday...",
                    "source": "reuters",
                    "published_at": "2024-05-14T09:30:00Z",
                    "external_id": "reuters-123",
                }
            ]
        },
    )

    url: str = Field(min_length=1, description="Where the article lives (http or https).")
    title: str = Field(min_length=1, description="Headline as the feed knows it.")
    html: str | None = Field(default=None, description="The page's HTML (cleaned with trafilatura).")
    text: str | None = Field(default=None, description="Plain text (cleaned of web boilerplate).")
    source: str | None = Field(default=None, max_length=200, description="Feed or publisher identifier.")
    published_at: AwareDatetime | None = Field(
        default=None,
        description="Publication time with a time zone; else taken from the content. From "
        "NEWSWIRE_MIN_ARTICLE_YEAR (1900) to NEWSWIRE_MAX_FUTURE_HOURS (48) ahead; else 422.",
    )
    modified_at: AwareDatetime | None = Field(
        default=None,
        description="Last modification time with a time zone; else taken from the content. Same window "
        "as `published_at`.",
    )
    language: str | None = Field(default=None, max_length=16, description="Language hint (ISO 639-1).")
    external_id: str | None = Field(
        default=None, max_length=500, description="The feed's own id; (source, external_id) is unique."
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        settings = get_settings()
        if len(value) > settings.max_url_chars:
            raise ValueError(f"url is longer than {settings.max_url_chars} characters")
        lowered = value.lower()
        if not (lowered.startswith("http://") or lowered.startswith("https://")) or " " in value:
            raise ValueError("url must be an absolute http(s) URL")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError as exc:
            raise ValueError(f"url is not a valid URL: {exc}") from exc
        if not parts.hostname:
            raise ValueError("url has no host")
        return value

    @field_validator("published_at", "modified_at")
    @classmethod
    def _date(cls, value: datetime | None) -> datetime | None:
        if value is not None:
            problem = date_problem(value)
            if problem is not None:
                raise ValueError(problem)
            return value.astimezone(UTC)  # stored and served in UTC; no offset can overflow a year
        return value

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        limit = get_settings().max_title_chars
        if len(value) > limit:
            raise ValueError(f"title is longer than {limit} characters")
        return value

    @model_validator(mode="after")
    def _one_body(self) -> Self:
        settings = get_settings()
        if (self.html is None) == (self.text is None):
            raise ValueError("exactly one of 'html' or 'text' is required")
        if self.html is not None:
            if not self.html.strip():
                raise ValueError("html is empty")
            if len(self.html) > settings.max_html_chars:
                raise ValueError(f"html is longer than {settings.max_html_chars} characters")
        if self.text is not None:
            if not self.text.strip():
                raise ValueError("text is empty")
            if len(self.text) > settings.max_text_chars:
                raise ValueError(f"text is longer than {settings.max_text_chars} characters")
        return self

    @field_validator("url", "title", "html", "text", "source", "language", "external_id")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:  # PostgreSQL text cannot hold NUL
            raise ValueError("NUL characters are not allowed")
        return value


class IngestResult(BaseModel):
    id: int = Field(description="The stored article (for a duplicate: its own row, or the row it repeats).")
    status: IngestStatus = Field(
        description="queued: a new article; revised: a new revision of the article at this URL (queued for "
        "enrichment again); duplicate: nothing new to enrich."
    )
    canonical_url: str
    duplicate_of: int | None = Field(default=None, description="For a duplicate: the original it repeats.")
    duplicate_method: DuplicateMethod | None = Field(
        default=None,
        description="How the duplicate was found: external_id (same source and feed id, same text), url "
        "(same canonical URL, same text), exact (same cleaned text elsewhere), near (MinHash/LSH).",
    )
    similarity: float | None = Field(
        default=None,
        description="For a duplicate: estimated Jaccard similarity of the texts (1.0: same text).",
    )
    revision: int | None = Field(
        default=None, description="The article's revision number (1: as first stored)."
    )
    dedup_reason: dict[str, Any] | None = Field(
        default=None,
        description="For a duplicate, why: `method`, `score`, the `matched` article and what `differs` "
        "(`conflicts`: numbers or names substituted, none for a duplicate; word counts only in one text or "
        "replaced); `unchanged` when the same input was pushed again.",
    )


class NotDuplicateResult(BaseModel):
    id: int = Field(description="The article, now an original.")
    status: str = Field(description="`queued`: it is enriched, listed, streamed and sent to webhooks.")
    was_duplicate_of: int = Field(
        description="The original it was linked to; the pair is never merged again."
    )
    dedup_reason: dict[str, Any] = Field(
        description="The decision recorded on the article, with the old one."
    )


class BatchItemResult(BaseModel):
    index: int
    ok: bool
    result: IngestResult | None = None
    error: str | None = None
    detail: object | None = None


class BatchResult(BaseModel):
    items: list[BatchItemResult]
    accepted: int = Field(description="New articles and new revisions.")
    duplicates: int
    rejected: int


class ArticleRef(BaseModel):
    """Identity of a stored article (used internally)."""

    id: int
    canonical_url: str
    created_at: datetime | None = None

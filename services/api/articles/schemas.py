from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from shared.http import MAX_ROW_ID

ArticleSort = Literal["ingested", "published", "relevance"]
EntityMode = Literal["all", "any"]
StatusName = Literal["queued", "enriched", "failed", "duplicate"]  # shared.models.ArticleStatus
MAX_VALUES = 50  # values of one repeated parameter
MAX_QUERY_CHARS = 500
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_text(value: Any) -> Any:
    """Query dates are ISO 8601: a bare number (pydantic would read it as a Unix time) is refused."""
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("a date must be ISO 8601, e.g. 2026-11-01T00:00:00Z")
    return value


IsoQueryDatetime = Annotated[datetime, BeforeValidator(_iso_text)]


class ArticleQuery(BaseModel):
    """The article filter as the caller sends it: the query parameters of GET /v1/articles, its facets,
    export and stream (``Annotated[ArticleQuery, Query()]``), and what a subscription saves.
    ``service.build_filter`` checks it further (422) and resolves it to the repository's ``ArticleFilter``
    (entity names to ids, topic labels to codes). Other query parameters (sort, limit, ...) are ignored."""

    model_config = ConfigDict(frozen=True)

    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        description='Full-text search of title and body, web-search syntax: words (all of them), "a '
        'phrase", `OR`, `-word` to exclude. English stemming.',
        examples=['"central bank" rates -crypto'],
    )
    entity: list[str] = Field(
        default=[],
        description="Entity id, canonical name or any alias seen (exact, case-insensitive); repeat, "
        "combined by `entity_mode`.",
        examples=["NATO"],
    )
    entity_mode: EntityMode = Field(
        default="all", description="all: every `entity` is mentioned; any: at least one is.", examples=["any"]
    )
    entity_type: list[str] = Field(
        default=[],
        description="Mentions an entity of this type (PERSON, ORG, GPE, ...); repeat for OR.",
        examples=["ORG"],
    )
    topic: list[str] = Field(
        default=[], description="Topic code or label; repeat for OR.", examples=["politics"]
    )
    min_topic_score: float = Field(
        default=0.0, ge=0, le=1, description="Lowest score of the topic filter.", examples=[0.5]
    )
    source: list[str] = Field(default=[], description="Source; repeat for OR.", examples=["reuters"])
    language: list[str] = Field(default=[], description="Detected language (ISO 639-1).", examples=["en"])
    status: list[StatusName] = Field(
        default=[],
        description="queued, enriched, failed or duplicate; repeat for OR.",
        examples=["enriched"],
    )
    include_duplicates: bool = Field(
        default=False,
        description="Also list near-duplicates (status duplicate; excluded by default).",
        examples=[True],
    )
    published_from: IsoQueryDatetime | None = Field(
        default=None, description="Published at or after (ISO 8601).", examples=["2026-11-01T00:00:00Z"]
    )
    published_to: IsoQueryDatetime | None = Field(
        default=None, description="Published before (ISO 8601).", examples=["2026-11-23T00:00:00Z"]
    )
    ingested_from: IsoQueryDatetime | None = Field(
        default=None, description="Stored at or after (ISO 8601).", examples=["2026-11-01T00:00:00Z"]
    )
    ingested_to: IsoQueryDatetime | None = Field(
        default=None, description="Stored before (ISO 8601).", examples=["2026-11-23T00:00:00Z"]
    )
    story: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ROW_ID,
        description="Only articles of this story (its id).",
        examples=[42],
    )


class TopicOut(BaseModel):
    code: str = Field(examples=["medtop:11000000"])
    label: str = Field(examples=["politics"])
    score: float = Field(examples=[0.87])


class KeyphraseOut(BaseModel):
    phrase: str = Field(examples=["interest rates"], description="As first written in the article.")
    score: float = Field(ge=0.0, le=1.0, examples=[1.0], description="Salience relative to the best (1).")


class MentionOut(BaseModel):
    field: Literal["title", "text"]
    start: int
    end: int
    text: str


class ArticleAliasOut(BaseModel):
    alias: str = Field(examples=["Mrs. Clinton"])
    count: int = Field(description="Mentions under this form in the article.")


class SalienceOut(BaseModel):
    score: float = Field(
        ge=0.0,
        le=1.0,
        examples=[0.93],
        description="0.35·in_title + 0.20·in_lead + 0.30·log(1+mentions)/log(1+most mentions in the article) "
        "+ 0.15·(1 − first body offset / body length).",
    )
    in_title: bool
    in_lead: bool = Field(description="Mentioned in the first paragraph of the body.")
    first_offset: int | None = Field(
        description="Offset of the first mention in the body (null: title only)."
    )


class ArticleEntityOut(BaseModel):
    id: int
    name: str = Field(examples=["Hillary Clinton"], description="Canonical name.")
    type: str = Field(examples=["PERSON"])
    mention_count: int
    aliases: list[ArticleAliasOut] = Field(description="Surface forms in this article, most used first.")
    salience: SalienceOut
    mentions: list[MentionOut]


class RemovedOut(BaseModel):
    text: str
    reason: str


class ArticleSummary(BaseModel):
    id: int
    url: str
    canonical_url: str
    source: str | None
    external_id: str | None
    title: str
    published_at: datetime | None
    language: str | None
    status: str
    created_at: datetime
    enriched_at: datetime | None
    story_id: int | None = Field(description="The story (event) the article covers: GET /v1/stories/{id}.")
    topics: list[TopicOut]


class ArticleStages(BaseModel):
    """When the article went through each stage (null: not reached, or stored before it was recorded)."""

    published_at: datetime | None = Field(description="Publication date (feed or page).")
    received_at: datetime | None = Field(description="The ingest request arrived.")
    cleaned_at: datetime | None = Field(description="Cleaning finished.")
    stored_at: datetime | None = Field(description="The row was written, with its outbox job.")
    queued_at: datetime | None = Field(description="The job reached the broker (first publish).")
    enrich_started_at: datetime | None = Field(description="A worker picked it up (latest attempt).")
    enriched_at: datetime | None = Field(description="Enriched: available to readers.")
    failed_at: datetime | None = Field(description="Marked failed (dead-lettered).")
    available_after_s: float | None = Field(
        description="Seconds from receipt to enrichment (null until both are known).", examples=[2.4]
    )
    published_to_available_s: float | None = Field(
        description="Seconds from publication to enrichment (null until both are known).", examples=[5400.0]
    )


class DuplicateOut(BaseModel):
    """Why this row is a duplicate (decided at ingest)."""

    duplicate_of: int = Field(description="The original article.")
    method: Literal["exact", "near", "url"] = Field(
        description="exact: the same title and cleaned text; near: MinHash/LSH near-duplicate; url: another "
        "writer's article at the same canonical URL (a syndicated copy)."
    )
    score: float | None = Field(description="Estimated Jaccard similarity (1.0: same text).", examples=[0.82])
    reason: dict[str, Any] | None = Field(
        default=None,
        description="What the decision saw (null for rows stored before it was kept): `method`, `score`, the "
        "`matched` article and what `differs` (`conflicts`: numbers or names substituted; word counts only "
        "in one text or replaced).  Wrong? `POST /v1/ops/articles/{id}/not-duplicate`.",
    )


class ArticleDetail(ArticleSummary):
    text: str
    authors: list[str]
    site_name: str | None
    modified_at: datetime | None
    language_confidence: float | None
    error: str | None
    model_versions: dict[str, str] | None
    entities: list[ArticleEntityOut]
    keyphrases: list[KeyphraseOut] = Field(
        default_factory=list,
        description="A few salient phrases, best first (empty until enriched, and for non-English articles).",
    )
    removed: list[RemovedOut] = Field(description="What the cleaner dropped, with the reason.")
    extraction_confidence: float | None = Field(
        default=None,
        description="0..1: how far the cleaned body can be trusted (null: stored before it existed).",
        examples=[0.9],
    )
    extraction_flags: list[str] = Field(
        default_factory=list,
        description="Reason codes behind the confidence: too_short, truncated, likely_paywall, "
        "date_from_feed, no_date, timeout, too_large, extractor_error, extractor_busy, fallback_extractor, "
        "cleaning_fallback.",
        examples=[["no_date"]],
    )
    raw_format: str
    stages: ArticleStages = Field(description="Stage timestamps: where the time to availability went.")
    revision_count: int = Field(
        default=1, description="Revisions of the text (1: never changed); see `/v1/articles/{id}/revisions`."
    )
    duplicate: DuplicateOut | None = Field(default=None, description="For a duplicate row: its original.")
    duplicate_count: int = Field(default=0, description="Duplicate rows linked to this article.")


class HighlightOut(BaseModel):
    title: str = Field(examples=["<b>Central</b> <b>bank</b> raises rates"])
    text: str = Field(
        description="Up to two fragments of the body around the matches, matches in <b>…</b>.",
        examples=["The <b>central</b> <b>bank</b> raised its main interest rate"],
    )


class ArticleHit(ArticleSummary):
    rank: float | None = Field(
        default=None, description="ts_rank_cd of the search (null without `q`).", examples=[0.4]
    )
    highlight: HighlightOut | None = Field(default=None, description="Search snippets (null without `q`).")


#: What `fields=` may name (id is always returned).
ARTICLE_FIELDS = tuple(ArticleHit.model_fields)


class ArticlePage(BaseModel):
    items: list[ArticleHit] = Field(
        description="With `fields=`, each item carries only those fields (and id)."
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` (with the same filter and sort) for the next page; null: the last."
    )


class CountOut(BaseModel):
    value: str | None = Field(examples=["reuters"], description="The value (null: not known).")
    count: int = Field(examples=[412])


class TopicCountOut(BaseModel):
    code: str = Field(examples=["medtop:04000000"])
    label: str = Field(examples=["economy, business and finance"])
    count: int


class EntityCountOut(BaseModel):
    id: int
    name: str = Field(examples=["European Central Bank"])
    count: int = Field(description="Matching articles mentioning it.")


class FacetsOut(BaseModel):
    matched: int = Field(description="Articles matching the filter (exact).")
    capped: bool = Field(
        default=False, description="Always false: the counts are exact (kept for older clients)."
    )
    method: Literal["counts", "scan"] = Field(
        default="counts",
        description="counts: summed from counts kept up to date by every write (a published range in "
        "whole UTC days, source, language); scan: counted over the matches of a richer filter, under "
        "NEWSWIRE_QUERY_TIMEOUT_MS (503 `query_timeout` above it).",
    )
    topics: list[TopicCountOut] = Field(description="Topics with at least `min_topic_score`, most first.")
    sources: list[CountOut]
    languages: list[CountOut]
    entities: dict[str, list[EntityCountOut]] = Field(
        description="Top entities per type (PERSON, ORG, GPE, ...).", examples=[{"ORG": []}]
    )


class ExportEntityOut(BaseModel):
    id: int
    name: str = Field(examples=["European Central Bank"])
    type: str = Field(examples=["ORG"])
    mention_count: int
    salience: float


class ExportItem(ArticleSummary):
    """One line of the NDJSON export: the article's summary with its enrichments."""

    text: str = Field(description="The cleaned body.")
    entities: list[ExportEntityOut]


class ExportEnd(BaseModel):
    """The last line of a complete export: a stream that ends without it was cut short."""

    count: int = Field(description="Articles in the stream.")
    last_id: int | None = Field(description="Resume with `after_id` set to this to continue later.")


class RevisionOut(BaseModel):
    revision: int = Field(examples=[2])
    title: str
    text: str
    content_hash: str
    created_at: datetime
    diff: str | None = Field(
        description="Unified diff of the text from the previous revision (null: the first)."
    )


class RevisionList(BaseModel):
    article_id: int
    revisions: list[RevisionOut] = Field(description="Oldest first.")

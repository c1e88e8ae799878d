from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.api.articles.schemas import ArticleStages


class QueueOut(BaseModel):
    queue: str = Field(examples=["enrich"])
    depth: int | None = Field(description="Messages waiting in the broker (null: broker unreachable).")
    workers: list[str] = Field(description="Workers that answered (empty when not asked or none).")
    active: int = Field(description="Tasks running now.")
    reserved: int = Field(description="Tasks prefetched by a worker, not started.")
    retrying: int = Field(description="Tasks waiting for their retry countdown.")
    statuses: dict[str, int] = Field(description="Articles by status.")
    failed: int = Field(description="Dead-lettered articles (status failed).")
    retried_articles: int = Field(description="Articles that needed more than one attempt.")
    outbox_pending: int = Field(description="Jobs not yet completed by a worker.")
    outbox_unpublished: int = Field(description="Jobs that never reached the broker.")
    oldest_queued_id: int | None = Field(description="The article waiting longest.")
    oldest_queued_age_s: float | None = Field(description="Seconds it has been waiting.")
    rates_per_min: dict[str, float] = Field(
        description="received, enriched and failed articles per minute over the window."
    )
    window_s: float = Field(description="Window of the rates (NEWSWIRE_OPS_RATE_WINDOW).")
    database: bool = Field(description="Whether the database figures were read.")
    errors: list[str] = Field(description="What could not be read.")


class QueuesOut(BaseModel):
    items: list[QueueOut]


class FailedArticle(BaseModel):
    id: int
    source: str | None
    title: str
    url: str
    error: str | None
    error_type: str | None = Field(description="The exception class, from the stored error.")
    attempts: int
    failed_at: datetime | None
    received_at: datetime | None


class FailedPage(BaseModel):
    items: list[FailedArticle]
    total: int = Field(description="Failed articles matching the filters.")
    by_error_type: dict[str, int] = Field(description="Failed articles matching the filters, by error type.")
    next_cursor: str | None


class OutboxJob(BaseModel):
    id: int
    created_at: datetime
    published_at: datetime | None
    completed_at: datetime | None
    publish_attempts: int


class FailedDetail(FailedArticle):
    status: str
    canonical_url: str
    language: str | None
    text_chars: int
    stages: ArticleStages
    outbox: list[OutboxJob]


class RetryResult(BaseModel):
    retried: list[int] = Field(description="Articles reset to queued and published again.")
    remaining: int = Field(description="Failed articles matching the filters left for another call.")


class SourceCounts(BaseModel):
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    failed: int = Field(default=0, description="Articles of the source marked failed (by failure time).")

    @property
    def pushed(self) -> int:
        return self.accepted + self.duplicates + self.rejected


class SourceOut(BaseModel):
    source: str = Field(description='The feed\'s source ("": articles pushed without one).')
    first_seen: datetime = Field(description="Start of its first hour in the ledger window.")
    last_seen: datetime = Field(description="Start of the last hour it pushed anything.")
    judged: bool = Field(description="Whether it has a day of history (needed to know its usual rate).")
    silent: bool = Field(description="It usually sends, but sent nothing for too long.")
    silent_s: float = Field(description="Seconds since the end of the last hour it pushed anything.")
    expected_since_last: float = Field(
        description="Articles its usual rate (same hours on earlier days) would have sent meanwhile."
    )
    usual_per_hour: float | None = Field(
        description="Mean articles per hour over its complete hours in the window (null: none yet)."
    )
    this_hour: int = Field(description="Articles pushed in the current hour so far.")
    usual_this_hour: float | None = Field(
        description="Mean pushed in this hour of the day on earlier days (null: no earlier day)."
    )
    recent: SourceCounts = Field(description="The last 3 hours (the current one included).")
    duplicate_share: float | None = Field(description="Duplicates among the recent pushes.")
    usual_duplicate_share: float | None = Field(description="... and before them, in the window.")
    failure_share: float | None = Field(description="Rejected or failed among the recent pushes.")
    usual_failure_share: float | None = Field(description="... and before them, in the window.")
    duplicates_jump: bool
    failures_jump: bool
    hours: list[int] = Field(description="Articles pushed in each of the last 24 hours, oldest first.")


class SourcesOut(BaseModel):
    items: list[SourceOut] = Field(description="Flagged sources first, then by name.")
    now: datetime
    days: int = Field(description="Days of the ledger read (NEWSWIRE_LEDGER_DAYS).")
    flagged: int = Field(description="Sources silent or with a jump.")

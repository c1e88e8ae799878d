"""Ops logic: queue figures, dead-lettered articles, their retry through the outbox."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from celery import Celery
from sqlalchemy.orm import Session

from services.api.articles.service import stages
from services.api.ops import repository
from services.api.ops.schemas import (
    FailedArticle,
    FailedDetail,
    FailedPage,
    OutboxJob,
    QueueOut,
    RetryResult,
    SourceCounts,
    SourceOut,
    SourcesOut,
)
from services.api.pagination import decode_cursor, encode_cursor
from shared.errors import NotFailed, NotFound
from shared.jobs.contract import EnrichJob
from shared.jobs.enqueue import Publisher, enqueue_enrich
from shared.jobs.queues import QueueStats, collect
from shared.models import Article, ArticleStatus
from shared.settings import Settings

log = structlog.get_logger("newswire.ops")


def queue_out(stats: QueueStats) -> QueueOut:
    return QueueOut(
        queue=stats.queue,
        depth=stats.depth,
        workers=stats.workers,
        active=stats.active,
        reserved=stats.reserved,
        retrying=stats.retrying,
        statuses=stats.statuses,
        failed=stats.failed,
        retried_articles=stats.retried_articles,
        outbox_pending=stats.outbox_pending,
        outbox_unpublished=stats.outbox_unpublished,
        oldest_queued_id=stats.oldest_queued_id,
        oldest_queued_age_s=stats.oldest_queued_age_s,
        rates_per_min=stats.rates,
        window_s=stats.window_s,
        database=stats.database,
        errors=stats.errors,
    )


def queue_stats(
    *,
    session: Session | None,
    celery: Celery | None,
    broker_url: str,
    queue: str,
    window_s: float,
    timeout: float = 1.0,
) -> QueueOut:
    stats = collect(
        session=session, celery=celery, broker_url=broker_url, queue=queue, timeout=timeout, window_s=window_s
    )
    return queue_out(stats)


def error_type(error: str | None) -> str | None:
    if not error:
        return None
    head, sep, _ = error.partition(":")
    return head.strip() if sep and head.strip() else None


def _failed_article(article: Article) -> FailedArticle:
    return FailedArticle(
        id=article.id,
        source=article.source,
        title=article.title,
        url=article.url,
        error=article.error,
        error_type=error_type(article.error),
        attempts=article.attempts,
        failed_at=article.failed_at,
        received_at=article.received_at,
    )


def list_failed(
    *,
    session: Session,
    sources: Sequence[str] = (),
    error_types: Sequence[str] = (),
    limit: int = 50,
    cursor: str | None = None,
) -> FailedPage:
    before_id = None
    if cursor is not None:
        (before_id,) = decode_cursor(cursor, kind="failed", arity=1)
        if not isinstance(before_id, int):
            before_id = None
    rows = repository.list_failed(
        session, sources=sources, error_types=error_types, before_id=before_id, limit=limit + 1
    )
    by_type = repository.count_failed_by_type(session, sources=sources, error_types=error_types)
    items = [_failed_article(a) for a in rows[:limit]]
    next_cursor = encode_cursor("failed", [items[-1].id]) if len(rows) > limit and items else None
    return FailedPage(
        items=items, total=sum(by_type.values()), by_error_type=by_type, next_cursor=next_cursor
    )


def get_failed(*, session: Session, article_id: int) -> FailedDetail:
    """One article as an operator inspects a failure (any status: a retried one shows its new state)."""
    article = repository.get_article(session, article_id=article_id)
    if article is None:
        raise NotFound(f"no article {article_id}")
    jobs = repository.outbox_jobs(session, article_id=article_id)
    return FailedDetail(
        **_failed_article(article).model_dump(),
        status=article.status,
        canonical_url=article.canonical_url,
        language=article.language,
        text_chars=len(article.text),
        stages=stages(article),
        outbox=[
            OutboxJob(
                id=j.id,
                created_at=j.created_at,
                published_at=j.published_at,
                completed_at=j.completed_at,
                publish_attempts=j.publish_attempts,
            )
            for j in jobs
        ],
    )


def _requeue(
    session: Session, ids: Sequence[int], *, request_id: str | None, publish: Publisher | None
) -> list[int]:
    requeued = repository.requeue(session, ids=ids)
    enqueue_enrich(
        session, article_ids=requeued, job=EnrichJob(request_id=request_id, retry=True), publish=publish
    )
    if requeued:
        log.info("failed_requeued", article_ids=requeued[:100], count=len(requeued))
    return requeued


def retry_one(
    *, session: Session, article_id: int, request_id: str | None = None, publish: Publisher | None = None
) -> RetryResult:
    """Reset one failed article to queued and publish its job (after the commit, through the outbox)."""
    article = repository.get_article(session, article_id=article_id)
    if article is None:
        raise NotFound(f"no article {article_id}")
    if article.status != ArticleStatus.FAILED:
        raise NotFailed(f"article {article_id} is {article.status}, not failed")
    retried = _requeue(session, [article_id], request_id=request_id, publish=publish)
    if not retried:  # retried by someone else between the read and the update
        raise NotFailed(f"article {article_id} is no longer failed")
    return RetryResult(retried=retried, remaining=0)


def retry_failed(
    *,
    session: Session,
    sources: Sequence[str] = (),
    error_types: Sequence[str] = (),
    limit: int = 1000,
    request_id: str | None = None,
    publish: Publisher | None = None,
) -> RetryResult:
    """Retry up to `limit` failed articles (oldest first) matching the filters."""
    ids = repository.failed_ids(session, sources=sources, error_types=error_types, limit=limit)
    retried = _requeue(session, ids, request_id=request_id, publish=publish)
    remaining = sum(
        repository.count_failed_by_type(session, sources=sources, error_types=error_types).values()
    )
    return RetryResult(retried=retried, remaining=remaining)


# --- the coverage ledger: per source, per hour, against the source's usual rate --------------------------

HOUR = timedelta(hours=1)
RECENT_HOURS = 3  # the window a duplicate or failure share is judged on


@dataclass(frozen=True, slots=True)
class CoverageRules:
    days: int = 7  # of history read
    silent_expected: float = 5.0  # articles the usual rate would have sent during the silence
    jump: float = 0.25  # rise of a share over its usual value
    jump_min_articles: int = 20  # pushes needed, recently and before, to judge a share

    @classmethod
    def from_settings(cls, settings: Settings) -> CoverageRules:
        return cls(
            days=settings.ledger_days,
            silent_expected=settings.source_silent_expected,
            jump=settings.source_jump,
            jump_min_articles=settings.source_jump_min_articles,
        )


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _share(part: int, whole: int) -> float | None:
    return min(1.0, part / whole) if whole else None


def _total(counts: Iterable[SourceCounts]) -> SourceCounts:
    total = SourceCounts()
    for c in counts:
        total.accepted += c.accepted
        total.duplicates += c.duplicates
        total.rejected += c.rejected
        total.failed += c.failed
    return total


def _jumped(recent: float | None, usual: float | None, *, enough: bool, rules: CoverageRules) -> bool:
    return enough and recent is not None and usual is not None and recent - usual >= rules.jump


def assess_source(
    *, source: str, hours: Mapping[datetime, SourceCounts], now: datetime, rules: CoverageRules
) -> SourceOut | None:
    """Judge one source from its hourly counts (keys: UTC hour starts; missing hours pushed nothing).

    Silent: the source has pushed nothing since the end of its last active hour, while on its usual rate
    -- the mean of the same hours of the day on earlier days, which follows a feed's day and night -- it
    would have pushed at least `silent_expected` articles (5: a Poisson chance of none below 1%).
    A jump: over the last 3 hours the share of duplicates, or of rejected and failed articles, is
    `jump` above the share before them. None when the source pushed nothing in the window."""
    current = hour_of(now)
    start = current - timedelta(days=rules.days)
    active = sorted(h for h, c in hours.items() if start <= h <= current and c.pushed > 0)
    if not active:
        return None
    first, last = active[0], active[-1]

    def pushed(hour: datetime) -> int:
        counts = hours.get(hour)
        return counts.pushed if counts is not None else 0

    def usual_at(hour: datetime) -> float | None:
        earlier = [hour - timedelta(days=d) for d in range(1, rules.days + 1)]
        earlier = [h for h in earlier if h >= first and h >= start]
        return sum(pushed(h) for h in earlier) / len(earlier) if earlier else None

    judged = current - first >= timedelta(days=1)
    silent_from = last + HOUR
    expected = 0.0
    hour = silent_from
    while hour <= current:
        fraction = 1.0 if hour < current else (now - current) / HOUR
        expected += (usual_at(hour) or 0.0) * fraction
        hour += HOUR
    complete = int((current - first) / HOUR)  # hours since its first, the current one left out
    in_window = [c for h, c in hours.items() if first <= h < current]

    recent_from = current - (RECENT_HOURS - 1) * HOUR
    recent = _total(c for h, c in hours.items() if recent_from <= h <= current)
    before = _total(c for h, c in hours.items() if start <= h < recent_from)
    enough = recent.pushed >= rules.jump_min_articles and before.pushed >= rules.jump_min_articles
    dup, usual_dup = _share(recent.duplicates, recent.pushed), _share(before.duplicates, before.pushed)
    fail = _share(recent.rejected + recent.failed, recent.pushed)
    usual_fail = _share(before.rejected + before.failed, before.pushed)
    return SourceOut(
        source=source,
        first_seen=first,
        last_seen=last,
        judged=judged,
        silent=judged and expected >= rules.silent_expected,
        silent_s=max(0.0, (now - silent_from).total_seconds()),
        expected_since_last=round(expected, 2),
        usual_per_hour=round(sum(c.pushed for c in in_window) / complete, 2) if complete else None,
        this_hour=pushed(current),
        usual_this_hour=usual_at(current),
        recent=recent,
        duplicate_share=dup,
        usual_duplicate_share=usual_dup,
        failure_share=fail,
        usual_failure_share=usual_fail,
        duplicates_jump=_jumped(dup, usual_dup, enough=enough, rules=rules),
        failures_jump=_jumped(fail, usual_fail, enough=enough, rules=rules),
        hours=[pushed(current - i * HOUR) for i in range(23, -1, -1)],
    )


def flagged(source: SourceOut) -> bool:
    return source.silent or source.duplicates_jump or source.failures_jump


def source_coverage(*, session: Session, rules: CoverageRules, now: datetime | None = None) -> SourcesOut:
    """Every source seen in the ledger window, judged against its usual rate; flagged ones first."""
    now = now or repository.database_now(session)
    since = hour_of(now) - timedelta(days=rules.days)
    by_source: dict[str, dict[datetime, SourceCounts]] = defaultdict(dict)
    for source, hour, accepted, duplicates, rejected in repository.source_hours(session, since=since):
        by_source[source][hour_of(hour)] = SourceCounts(
            accepted=accepted, duplicates=duplicates, rejected=rejected
        )
    for source, hour, failed in repository.failed_by_source_hour(session, since=since):
        if source in by_source:  # failures of articles pushed before the window have no source row
            by_source[source].setdefault(hour_of(hour), SourceCounts()).failed += failed
    items = [
        out
        for source, hours in by_source.items()
        if (out := assess_source(source=source, hours=hours, now=now, rules=rules)) is not None
    ]
    items.sort(key=lambda s: (not flagged(s), s.source))
    return SourcesOut(items=items, now=now, days=rules.days, flagged=sum(1 for s in items if flagged(s)))

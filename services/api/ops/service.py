"""Ops logic: queue figures, dead-lettered articles, their retry through the outbox."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
)
from services.api.pagination import decode_cursor, encode_cursor
from services.enrich.celery_app import ENRICH_TASK
from services.enrich.queues import QueueStats, collect
from services.ingest.outbox import repository as outbox_repository
from shared.db import on_commit
from shared.errors import NewswireError, NotFound
from shared.models import Article, ArticleStatus

log = structlog.get_logger("newswire.ops")

Publisher = Callable[[list[int]], None]


class NotFailed(NewswireError):
    """Only failed articles can be retried."""

    status_code = 409
    error = "not_failed"


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
    redis_url: str,
    queue: str,
    window_s: float,
    timeout: float = 1.0,
) -> QueueOut:
    stats = collect(
        session=session, celery=celery, redis_url=redis_url, queue=queue, timeout=timeout, window_s=window_s
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
    outbox_ids = [
        outbox_repository.add(
            session,
            article_id=article_id,
            task=ENRICH_TASK,
            payload={"request_id": request_id, "retry": True},
        )
        for article_id in requeued
    ]
    if publish is not None and outbox_ids:
        on_commit(session, lambda: publish(outbox_ids))
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

"""All SQL of the ops views."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from shared.models import Article, ArticleStatus, OutboxEvent, SourceHour

ERROR_TYPE = func.nullif(func.split_part(func.coalesce(Article.error, ""), ":", 1), "")


def _failed(*, sources: Sequence[str], error_types: Sequence[str]) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Article.status == ArticleStatus.FAILED]
    if sources:
        where.append(Article.source.in_(list(sources)))
    if error_types:
        where.append(ERROR_TYPE.in_(list(error_types)))
    return where


def list_failed(
    session: Session,
    *,
    sources: Sequence[str],
    error_types: Sequence[str],
    before_id: int | None,
    limit: int,
) -> list[Article]:
    """Newest first (by id), keyset: rows with an id below `before_id`."""
    where = _failed(sources=sources, error_types=error_types)
    if before_id is not None:
        where.append(Article.id < before_id)
    return list(session.scalars(select(Article).where(*where).order_by(Article.id.desc()).limit(limit)))


def count_failed_by_type(
    session: Session, *, sources: Sequence[str], error_types: Sequence[str]
) -> dict[str, int]:
    kind = func.coalesce(ERROR_TYPE, "unknown")
    rows = session.execute(
        select(kind, func.count()).where(*_failed(sources=sources, error_types=error_types)).group_by(kind)
    )
    return {str(kind): int(count) for kind, count in rows}


def failed_ids(
    session: Session, *, sources: Sequence[str], error_types: Sequence[str], limit: int
) -> list[int]:
    """The oldest failed articles first, locked (others retrying at the same time skip them)."""
    stmt = (
        select(Article.id)
        .where(*_failed(sources=sources, error_types=error_types))
        .order_by(Article.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def get_article(session: Session, *, article_id: int) -> Article | None:
    return session.get(Article, article_id)


def outbox_jobs(session: Session, *, article_id: int) -> list[OutboxEvent]:
    return list(
        session.scalars(
            select(OutboxEvent).where(OutboxEvent.article_id == article_id).order_by(OutboxEvent.id)
        )
    )


def requeue(session: Session, *, ids: Sequence[int]) -> list[int]:
    """Failed -> queued, clearing the error and the stages of the failed run; the ids that changed."""
    if not ids:
        return []
    rows = session.execute(
        update(Article)
        .where(Article.id.in_(list(ids)), Article.status == ArticleStatus.FAILED)
        .values(
            status=ArticleStatus.QUEUED,
            error=None,
            failed_at=None,
            queued_at=None,
            enrich_started_at=None,
            enriched_at=None,
            enrich_attempts=0,  # an operator's retry gives a poison article its attempts back
        )
        .returning(Article.id)
    )
    return sorted(int(r[0]) for r in rows)


def source_hours(session: Session, *, since: datetime) -> list[tuple[str, datetime, int, int, int]]:
    """(source, hour, accepted, duplicates, rejected) of the ledger from the hour `since` on."""
    rows = session.execute(
        select(SourceHour.source, SourceHour.hour)
        .add_columns(SourceHour.accepted, SourceHour.duplicates, SourceHour.rejected)
        .where(SourceHour.hour >= since)
        .order_by(SourceHour.source, SourceHour.hour)
    )
    return [(str(s), h, int(a), int(d), int(r)) for s, h, a, d, r in rows]


def failed_by_source_hour(session: Session, *, since: datetime) -> list[tuple[str, datetime, int]]:
    """(source, hour, articles marked failed in that hour) from `since` on."""
    hour = func.date_trunc("hour", Article.failed_at, "UTC")
    source = func.coalesce(Article.source, "")
    rows = session.execute(
        select(source, hour, func.count())
        .where(Article.failed_at >= since, Article.status == ArticleStatus.FAILED)
        .group_by(source, hour)
    )
    return [(str(s), h, int(n)) for s, h, n in rows]


def database_now(session: Session) -> datetime:
    now: datetime = session.scalar(select(func.now()))  # type: ignore[assignment]
    return now

"""All SQL of reprocessing and completeness."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from shared.models import Article, ArticleStatus, OutboxEvent

#: What reprocessing may take: never duplicates, never articles still waiting for their first run.
REPROCESSABLE = (ArticleStatus.ENRICHED.value, ArticleStatus.FAILED.value)

PENDING_JOB = exists(
    select(OutboxEvent.id).where(OutboxEvent.article_id == Article.id, OutboxEvent.completed_at.is_(None))
)


def where(
    *,
    current: str,
    stale: bool,
    statuses: Sequence[str],
    sources: Sequence[str],
    ids: Sequence[int],
    since: datetime | None,
    until: datetime | None,
    by_received: bool,
) -> list[ColumnElement[bool]]:
    """The articles a reprocess request selects; an article whose job is pending is never taken twice."""
    wanted = [s for s in statuses if s in REPROCESSABLE] if statuses else list(REPROCESSABLE)
    clauses: list[ColumnElement[bool]] = [Article.status.in_(wanted), ~PENDING_JOB]
    if stale:
        clauses.append(Article.enrichment_version.is_distinct_from(current))
    if sources:
        clauses.append(Article.source.in_(list(sources)))
    if ids:
        clauses.append(Article.id.in_(list(ids)))
    moment = Article.received_at if by_received else Article.published_at
    if since is not None:
        clauses.append(moment >= since)
    if until is not None:
        clauses.append(moment < until)
    return clauses


def next_batch(
    session: Session, *, clauses: Sequence[ColumnElement[bool]], after_id: int, limit: int
) -> list[int]:
    """Keyset batch (ids above `after_id`, ascending), locked; rows another reprocess holds are skipped."""
    stmt = (
        select(Article.id)
        .where(*clauses, Article.id > after_id)
        .order_by(Article.id)
        .limit(limit)
        .with_for_update(of=Article, skip_locked=True)
    )
    return list(session.scalars(stmt))


def count(session: Session, *, clauses: Sequence[ColumnElement[bool]]) -> int:
    return int(session.scalar(select(func.count()).select_from(Article).where(*clauses)) or 0)


def by_status_and_version(session: Session) -> list[tuple[str, str | None, int]]:
    """(status, enrichment version, articles) over all articles (the version index answers it)."""
    rows = session.execute(
        select(Article.status, Article.enrichment_version, func.count()).group_by(
            Article.status, Article.enrichment_version
        )
    )
    return [(str(s), v, int(n)) for s, v, n in rows]


def enriched_with_pending_job(session: Session) -> int:
    """Enriched articles whose re-enrichment is queued (they keep their current results until then)."""
    stmt = (
        select(func.count()).select_from(Article).where(Article.status == ArticleStatus.ENRICHED, PENDING_JOB)
    )
    return int(session.scalar(stmt) or 0)

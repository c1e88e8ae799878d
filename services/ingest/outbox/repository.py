"""All SQL of the outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from shared.models import Article, OutboxEvent


def add(session: Session, *, article_id: int, task: str, payload: dict[str, Any]) -> int:
    return session.execute(
        insert(OutboxEvent)
        .values(article_id=article_id, task=task, payload=payload)
        .returning(OutboxEvent.id)
    ).scalar_one()


def lock_for_publish(session: Session, *, ids: list[int]) -> list[OutboxEvent]:
    stmt = (
        select(OutboxEvent)
        .where(OutboxEvent.id.in_(ids), OutboxEvent.completed_at.is_(None))
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def lock_due(
    session: Session,
    *,
    unpublished_grace: timedelta,
    redeliver_after: timedelta | None,
    limit: int,
) -> list[OutboxEvent]:
    """Events never published (after a short grace, so the request that wrote them can publish first)
    and, when `redeliver_after` is given, events published that long ago and still not completed."""
    now = func.now()
    due = and_(OutboxEvent.published_at.is_(None), OutboxEvent.created_at < now - unpublished_grace)
    if redeliver_after is not None:
        due = or_(due, OutboxEvent.published_at < now - redeliver_after)
    stmt = (
        select(OutboxEvent)
        .where(OutboxEvent.completed_at.is_(None), due)
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def mark_published(session: Session, *, ids: list[int]) -> None:
    if ids:
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(ids))
            .values(published_at=func.now(), publish_attempts=OutboxEvent.publish_attempts + 1)
        )
        # the article's "queued" stage: its job first reached the broker (a retry clears it)
        session.execute(
            update(Article)
            .where(
                Article.id.in_(select(OutboxEvent.article_id).where(OutboxEvent.id.in_(ids))),
                Article.queued_at.is_(None),
            )
            .values(queued_at=func.clock_timestamp())
        )


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(OutboxEvent.completed_at.is_(None))) or 0

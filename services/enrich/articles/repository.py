"""All SQL of enrichment writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from shared.models import Article, ArticleEntity, ArticleStatus, ArticleTopic, Entity, OutboxEvent


def get_for_enrichment(session: Session, *, article_id: int) -> Article | None:
    return session.get(Article, article_id)


def lock_article(session: Session, *, article_id: int) -> Article | None:
    return session.scalars(select(Article).where(Article.id == article_id).with_for_update()).one_or_none()


def upsert_entities(session: Session, *, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(type, name) -> id, creating missing entities. Sorted, so concurrent workers lock in one order."""
    if not keys:
        return {}
    ordered = sorted(set(keys))
    session.execute(
        pg_insert(Entity)
        .values([{"type": t, "name": n} for t, n in ordered])
        .on_conflict_do_nothing(index_elements=["type", "name"])
    )
    rows = session.execute(
        select(Entity.type, Entity.name, Entity.id).where(tuple_(Entity.type, Entity.name).in_(ordered))
    )
    return {(r.type, r.name): r.id for r in rows}


def replace_enrichment(
    session: Session,
    *,
    article_id: int,
    entity_rows: list[dict[str, Any]],
    topic_rows: list[dict[str, Any]],
    language: str,
    language_confidence: float,
    model_versions: dict[str, str],
    attempts: int,
) -> None:
    """Delete-and-insert in the caller's transaction: running it twice leaves the same rows."""
    session.execute(delete(ArticleEntity).where(ArticleEntity.article_id == article_id))
    session.execute(delete(ArticleTopic).where(ArticleTopic.article_id == article_id))
    if entity_rows:
        session.execute(pg_insert(ArticleEntity).values(entity_rows))
    if topic_rows:
        session.execute(pg_insert(ArticleTopic).values(topic_rows))
    session.execute(
        update(Article)
        .where(Article.id == article_id)
        .values(
            status=ArticleStatus.ENRICHED,
            language=language,
            language_confidence=language_confidence,
            model_versions=model_versions,
            enriched_at=func.clock_timestamp(),  # when written, not when the transaction began
            error=None,
            attempts=attempts,
            failed_at=None,
        )
    )


def mark_failed(session: Session, *, article_id: int, error: str, attempts: int) -> None:
    session.execute(
        update(Article)
        .where(Article.id == article_id, Article.status != ArticleStatus.DUPLICATE)
        .values(status=ArticleStatus.FAILED, error=error, attempts=attempts, failed_at=func.clock_timestamp())
    )


def mark_started(session: Session, *, article_id: int) -> None:
    session.execute(
        update(Article).where(Article.id == article_id).values(enrich_started_at=func.clock_timestamp())
    )


def stage_times(
    session: Session, *, article_id: int
) -> tuple[datetime | None, datetime | None, datetime | None]:
    """(received_at, published_at, enriched_at) of the article."""
    row = session.execute(
        select(Article.received_at, Article.published_at, Article.enriched_at).where(Article.id == article_id)
    ).first()
    return (row[0], row[1], row[2]) if row is not None else (None, None, None)


def enriched_at(session: Session, *, article_id: int) -> datetime | None:
    return session.scalar(select(Article.enriched_at).where(Article.id == article_id))


def complete_outbox(session: Session, *, article_id: int) -> None:
    """The article's jobs are done: the relay must not republish them."""
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.article_id == article_id, OutboxEvent.completed_at.is_(None))
        .values(completed_at=func.now())
    )

"""All SQL of enrichment writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, load_only

from shared.models import (
    Article,
    ArticleEntity,
    ArticleStatus,
    ArticleTopic,
    Entity,
    EntityAlias,
    EntityOverride,
)
from shared.versions import version_key

#: What enrichment reads of an article: never the raw page (often hundreds of kB of HTML).
_ENRICH_COLUMNS = load_only(Article.id, Article.title, Article.text, Article.content_hash, Article.status)


def get_for_enrichment(session: Session, *, article_id: int) -> Article | None:
    return session.get(Article, article_id, options=[_ENRICH_COLUMNS])


def lock_article(session: Session, *, article_id: int) -> Article | None:
    stmt = select(Article).options(_ENRICH_COLUMNS).where(Article.id == article_id).with_for_update()
    return session.scalars(stmt).one_or_none()


def article_entities(session: Session, *, article_id: int) -> list[tuple[str, str, list[str]]]:
    """``(type, name, mention surfaces)`` of the article's stored entities (what it contributes now)."""
    rows = session.execute(
        select(Entity.type, Entity.name, ArticleEntity.mentions)
        .join(ArticleEntity, ArticleEntity.entity_id == Entity.id)
        .where(ArticleEntity.article_id == article_id)
    )
    return [(r.type, r.name, [str(m.get("text", "")) for m in r.mentions]) for r in rows]


def apply_entity_deltas(
    session: Session, *, deltas: dict[tuple[str, str], tuple[int, int]]
) -> dict[tuple[str, str], int]:
    """``{(type, name): (articles, mentions)}`` added to the global counts, creating missing entities;
    returns ``(type, name) -> id``.  One statement, rows in sorted order (concurrent workers lock entity
    rows in one order: no deadlock), increments computed by the database (no lost update)."""
    if not deltas:
        return {}
    stmt = pg_insert(Entity)
    upsert = stmt.on_conflict_do_update(
        index_elements=["type", "name"],
        set_={
            "article_count": Entity.article_count + stmt.excluded.article_count,
            "mention_count": Entity.mention_count + stmt.excluded.mention_count,
            "updated_at": func.now(),
        },
    ).returning(Entity.type, Entity.name, Entity.id)
    # parameters in sorted order, sent as one multi-row statement (a compiled form cached across calls)
    rows = [
        {"type": t, "name": n, "article_count": deltas[(t, n)][0], "mention_count": deltas[(t, n)][1]}
        for t, n in sorted(deltas)
    ]
    return {(r.type, r.name): r.id for r in session.execute(upsert, rows)}


def apply_alias_deltas(session: Session, *, deltas: dict[tuple[int, str], tuple[int, int]]) -> None:
    """``{(entity_id, alias): (mentions, articles)}`` added to the alias counts (sorted, atomic); an
    alias no article carries any more is removed."""
    changed = sorted(key for key, delta in deltas.items() if delta != (0, 0))
    if not changed:
        return
    stmt = pg_insert(EntityAlias)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["entity_id", "alias"],
            set_={
                "mention_count": EntityAlias.mention_count + stmt.excluded.mention_count,
                "article_count": EntityAlias.article_count + stmt.excluded.article_count,
            },
        ),
        [
            {
                "entity_id": e,
                "alias": a,
                "mention_count": deltas[(e, a)][0],
                "article_count": deltas[(e, a)][1],
            }
            for e, a in changed
        ],
    )
    session.execute(
        delete(EntityAlias).where(
            tuple_(EntityAlias.entity_id, EntityAlias.alias).in_(changed), EntityAlias.article_count <= 0
        )
    )


def replace_enrichment(
    session: Session,
    *,
    article_id: int,
    entity_rows: list[dict[str, Any]],
    topic_rows: list[dict[str, Any]],
    keyphrases: list[dict[str, Any]],
    language: str,
    language_confidence: float,
    model_versions: dict[str, str],
    attempts: int,
) -> None:
    """Delete-and-insert in the caller's transaction: running it twice leaves the same rows."""
    session.execute(delete(ArticleEntity).where(ArticleEntity.article_id == article_id))
    session.execute(delete(ArticleTopic).where(ArticleTopic.article_id == article_id))
    if entity_rows:
        session.execute(insert(ArticleEntity), entity_rows)
    if topic_rows:
        session.execute(insert(ArticleTopic), topic_rows)
    session.execute(
        update(Article)
        .where(Article.id == article_id)
        .values(
            status=ArticleStatus.ENRICHED,
            language=language,
            language_confidence=language_confidence,
            keyphrases=keyphrases,
            model_versions=model_versions,
            enrichment_version=version_key(model_versions),
            enriched_at=func.clock_timestamp(),  # when written, not when the transaction began
            error=None,
            attempts=attempts,
            failed_at=None,
            enrich_attempts=0,  # the attempt ended
        )
    )


def mark_failed(
    session: Session, *, article_id: int, error: str, attempts: int, keep_unfinished: bool = False
) -> None:
    """Failed (an attempt that ended with an error: its unfinished count goes back to 0, unless the
    article is poison, whose count is the reason)."""
    values: dict[str, Any] = {
        "status": ArticleStatus.FAILED,
        "error": error,
        "attempts": attempts,
        "failed_at": func.clock_timestamp(),
    }
    if not keep_unfinished:
        values["enrich_attempts"] = 0
    session.execute(
        update(Article)
        .where(Article.id == article_id, Article.status != ArticleStatus.DUPLICATE)
        .values(values)
    )


def lock_for_start(session: Session, *, article_id: int) -> tuple[str, int] | None:
    """Lock the article row (first: the lock order of `shared.jobs`); (status, unfinished attempts)."""
    row = session.execute(
        select(Article.status, Article.enrich_attempts).where(Article.id == article_id).with_for_update()
    ).first()
    return (row[0], int(row[1])) if row is not None else None


def count_attempt(session: Session, *, article_id: int) -> None:
    session.execute(
        update(Article).where(Article.id == article_id).values(enrich_attempts=Article.enrich_attempts + 1)
    )


def end_attempt(session: Session, *, article_id: int) -> None:
    """The attempt ended (whatever its outcome): it is no longer counted as unfinished."""
    session.execute(update(Article).where(Article.id == article_id).values(enrich_attempts=0))


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


def list_overrides(session: Session) -> list[EntityOverride]:
    return list(session.scalars(select(EntityOverride).order_by(EntityOverride.id)))


def override_version_key(session: Session) -> tuple[int, int]:
    """``(count, max id)`` of the entity overrides: ids are never reused and rows are only added or
    deleted, so any change of the table changes this pair (a cheap check per task)."""
    count, top = session.execute(
        select(func.count(), func.coalesce(func.max(EntityOverride.id), 0)).select_from(EntityOverride)
    ).one()
    return int(count), int(top)

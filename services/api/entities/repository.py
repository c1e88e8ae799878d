"""All SQL of the entity read side (the global entity table kept by the enrichment transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from shared.models import Article, ArticleEntity, Entity, EntityAlias


def like_prefix(prefix: str) -> str:
    return prefix.lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"


def list_entities(
    session: Session,
    *,
    types: list[str],
    prefix: str | None,
    limit: int,
    after: tuple[int, int] | None,
) -> list[Entity]:
    """Entities in at least one article, most articles first (article count desc, id asc), keyset on
    (count, id).  ``prefix`` matches the canonical name or any alias (case-insensitive)."""
    stmt = select(Entity).where(Entity.article_count > 0)
    if types:
        stmt = stmt.where(Entity.type.in_(types))
    if prefix:
        pattern = like_prefix(prefix)
        stmt = stmt.where(
            or_(
                func.lower(Entity.name).like(pattern),
                exists().where(
                    EntityAlias.entity_id == Entity.id, func.lower(EntityAlias.alias).like(pattern)
                ),
            )
        )
    if after is not None:
        count, entity_id = after
        stmt = stmt.where(
            or_(Entity.article_count < count, and_(Entity.article_count == count, Entity.id > entity_id))
        )
    return list(session.scalars(stmt.order_by(Entity.article_count.desc(), Entity.id).limit(limit)))


def get_entity(session: Session, *, entity_id: int) -> Entity | None:
    return session.get(Entity, entity_id)


def aliases_for(
    session: Session, *, entity_ids: Sequence[int], per_entity: int
) -> dict[int, list[EntityAlias]]:
    """The most used aliases of each entity (mentions desc, then alias)."""
    out: dict[int, list[EntityAlias]] = {i: [] for i in entity_ids}
    if not entity_ids:
        return out
    ranked = (
        select(
            EntityAlias,
            func.row_number()
            .over(
                partition_by=EntityAlias.entity_id,
                order_by=(EntityAlias.mention_count.desc(), EntityAlias.alias),
            )
            .label("rank"),
        )
        .where(EntityAlias.entity_id.in_(entity_ids), EntityAlias.article_count > 0)
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.entity_id, ranked.c.alias, ranked.c.mention_count, ranked.c.article_count)
        .where(ranked.c.rank <= per_entity)
        .order_by(ranked.c.entity_id, ranked.c.rank)
    )
    for r in rows:
        out[r.entity_id].append(
            EntityAlias(
                entity_id=r.entity_id,
                alias=r.alias,
                mention_count=r.mention_count,
                article_count=r.article_count,
            )
        )
    return out


def related(
    session: Session, *, entity_id: int, window: int, types: Sequence[str], limit: int
) -> tuple[int, list[tuple[int, str, str, int]]]:
    """Entities co-occurring with ``entity_id`` over its ``window`` newest articles: (articles counted,
    [(id, name, type, shared articles)])."""
    articles = (
        select(ArticleEntity.article_id)
        .where(ArticleEntity.entity_id == entity_id)
        .order_by(ArticleEntity.article_id.desc())
        .limit(window)
        .cte("articles")
    )
    counted = int(session.scalar(select(func.count()).select_from(articles)) or 0)
    shared = func.count().label("n")
    stmt = (
        select(Entity.id, Entity.name, Entity.type, shared)
        .join(ArticleEntity, ArticleEntity.entity_id == Entity.id)
        .where(ArticleEntity.article_id.in_(select(articles.c.article_id)), Entity.id != entity_id)
        .group_by(Entity.id)
        .order_by(shared.desc(), Entity.id)
        .limit(limit)
    )
    if types:
        stmt = stmt.where(Entity.type.in_(types))
    return counted, [(r[0], r[1], r[2], r[3]) for r in session.execute(stmt)]


def timeline(session: Session, *, entity_id: int, start: date, end: date) -> dict[date, int]:
    """Articles mentioning the entity per UTC day of publication (the stored day when undated)."""
    when = func.coalesce(Article.published_at, Article.created_at)
    day = func.date(func.timezone("UTC", when)).label("day")
    low = datetime.combine(start, time.min, tzinfo=UTC)
    high = datetime.combine(end, time.min, tzinfo=UTC)
    rows = session.execute(
        select(day, func.count())
        .join(ArticleEntity, ArticleEntity.article_id == Article.id)
        .where(ArticleEntity.entity_id == entity_id, when >= low, when < high)
        .group_by(day)
    )
    return {r[0]: r[1] for r in rows}

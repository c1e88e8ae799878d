"""All SQL of the entity read side."""

from __future__ import annotations

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.orm import Session

from shared.models import ArticleEntity, Entity


def list_entities(
    session: Session,
    *,
    types: list[str],
    prefix: str | None,
    limit: int,
    after: tuple[int, int] | None,
) -> list[Row[tuple[int, str, str, int]]]:
    """Most-mentioned first (article count desc, id asc), keyset on (count, id)."""
    counts = (
        select(ArticleEntity.entity_id, func.count().label("article_count"))
        .group_by(ArticleEntity.entity_id)
        .subquery()
    )
    article_count = counts.c.article_count
    stmt = select(Entity.id, Entity.name, Entity.type, article_count).join(
        counts, counts.c.entity_id == Entity.id
    )
    if types:
        stmt = stmt.where(Entity.type.in_(types))
    if prefix:
        escaped = prefix.lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        stmt = stmt.where(func.lower(Entity.name).like(escaped + "%"))
    if after is not None:
        count, entity_id = after
        stmt = stmt.where(or_(article_count < count, and_(article_count == count, Entity.id > entity_id)))
    return list(session.execute(stmt.order_by(article_count.desc(), Entity.id).limit(limit)))


def get_entity(session: Session, *, entity_id: int) -> Row[tuple[int, str, str, int]] | None:
    count = (
        select(func.count()).where(ArticleEntity.entity_id == Entity.id).correlate(Entity).scalar_subquery()
    )
    return session.execute(
        select(Entity.id, Entity.name, Entity.type, count.label("article_count")).where(
            Entity.id == entity_id
        )
    ).first()

"""All SQL of entity override changes and the articles an override affects (reads: the enrich repository)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, delete, exists, func, literal_column, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from shared.models import Article, ArticleEntity, ArticleStatus, Entity, EntityOverride


def insert(session: Session, *, values: dict[str, object]) -> EntityOverride | None:
    """The new row, or None when an override with the same (kind, surface, type) exists."""
    row_id = session.scalar(
        pg_insert(EntityOverride)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=[
                EntityOverride.kind,
                EntityOverride.surface_key,
                literal_column("coalesce(type, '')"),
            ]
        )
        .returning(EntityOverride.id)
    )
    return None if row_id is None else session.get(EntityOverride, row_id)


def delete_override(session: Session, *, override_id: int) -> EntityOverride | None:
    return session.scalars(
        delete(EntityOverride).where(EntityOverride.id == override_id).returning(EntityOverride)
    ).one_or_none()


def _named(surface_key: str, entity_type: str | None) -> ColumnElement[bool]:
    condition = func.lower(Entity.name) == surface_key
    return condition if entity_type is None else and_(condition, Entity.type == entity_type)


def affected_articles(
    session: Session,
    *,
    surface_key: str,
    entity_type: str | None,
    target: tuple[str, str | None] | None = None,
    in_text: bool = False,
) -> list[int]:
    """Enriched articles an override touches: with an entity named ``surface_key`` (of ``entity_type``),
    or a mention with that surface; with ``target``, also those with the target entity (where a removed
    alias or merge moved the mentions); with ``in_text``, also those whose title or body contains the
    surface (an ignored surface left no mention behind)."""
    mention = text("lower(m->>'text') = :surface_key").bindparams(surface_key=surface_key)
    has_mention = exists(
        select(literal_column("1"))
        .select_from(func.jsonb_array_elements(ArticleEntity.mentions).table_valued("value").alias("m"))
        .where(mention)
    )
    conditions: list[ColumnElement[bool]] = [
        _named(surface_key, entity_type),
        has_mention if entity_type is None else and_(has_mention, Entity.type == entity_type),
    ]
    if target is not None:
        conditions.append(_named(target[0].lower(), target[1]))
    ids = set(
        session.scalars(
            select(ArticleEntity.article_id)
            .join(Entity, Entity.id == ArticleEntity.entity_id)
            .join(Article, Article.id == ArticleEntity.article_id)
            .where(Article.status == ArticleStatus.ENRICHED, or_(*conditions))
            .distinct()
        )
    )
    if in_text:
        ids.update(
            session.scalars(
                select(Article.id).where(
                    Article.status == ArticleStatus.ENRICHED,
                    or_(
                        func.strpos(func.lower(Article.title), surface_key) > 0,
                        func.strpos(func.lower(Article.text), surface_key) > 0,
                    ),
                )
            )
        )
    return sorted(ids)


def list_overrides(session: Session) -> list[EntityOverride]:
    return list(session.scalars(select(EntityOverride).order_by(EntityOverride.id)))


def entity_table(session: Session) -> list[tuple[str, str, int, list[str]]]:
    """``(name, type, article_count, aliases)`` of every entity seen in at least one article."""
    from shared.models import EntityAlias

    aliases: dict[int, list[str]] = {}
    for entity_id, alias in session.execute(select(EntityAlias.entity_id, EntityAlias.alias)):
        aliases.setdefault(entity_id, []).append(alias)
    rows = session.execute(
        select(Entity.id, Entity.name, Entity.type, Entity.article_count).where(Entity.article_count > 0)
    )
    return [(name, kind, count, aliases.get(entity_id, [])) for entity_id, name, kind, count in rows]

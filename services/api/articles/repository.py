"""All SQL of the article read side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from shared.models import Article, ArticleEntity, ArticleRevision, ArticleTopic, Entity, EntityAlias, Topic


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    entity_ids: Sequence[int] = ()
    entity_names: Sequence[str] = ()
    topic_codes: Sequence[str] = ()
    min_topic_score: float = 0.0
    sources: Sequence[str] = ()
    languages: Sequence[str] = ()
    statuses: Sequence[str] = ()
    published_from: datetime | None = None
    published_to: datetime | None = None
    story_id: int | None = None


def _filtered(f: ArticleFilter) -> Select[Any]:
    stmt = select(Article)
    for entity_id in f.entity_ids:  # several entities: the article mentions all of them
        stmt = stmt.where(
            exists().where(ArticleEntity.article_id == Article.id, ArticleEntity.entity_id == entity_id)
        )
    for name in f.entity_names:  # the canonical name or any alias the entity was seen under
        lowered = name.lower()
        matching = (
            select(Entity.id)
            .where(func.lower(Entity.name) == lowered)
            .union(select(EntityAlias.entity_id).where(func.lower(EntityAlias.alias) == lowered))
        )
        stmt = stmt.where(
            exists().where(ArticleEntity.article_id == Article.id, ArticleEntity.entity_id.in_(matching))
        )
    if f.topic_codes:  # several topics: any of them
        stmt = stmt.where(
            exists().where(
                ArticleTopic.article_id == Article.id,
                ArticleTopic.topic_code.in_(f.topic_codes),
                ArticleTopic.score >= f.min_topic_score,
            )
        )
    if f.sources:
        stmt = stmt.where(Article.source.in_(f.sources))
    if f.languages:
        stmt = stmt.where(Article.language.in_(f.languages))
    if f.statuses:
        stmt = stmt.where(Article.status.in_(f.statuses))
    else:  # one record per article: duplicate rows only when asked for (status=duplicate)
        stmt = stmt.where(Article.duplicate_of.is_(None))
    if f.story_id is not None:
        stmt = stmt.where(Article.story_id == f.story_id)
    if f.published_from is not None:
        stmt = stmt.where(Article.published_at >= f.published_from)
    if f.published_to is not None:
        stmt = stmt.where(Article.published_at < f.published_to)
    return stmt


def list_articles_by_id(
    session: Session, *, f: ArticleFilter, limit: int, before_id: int | None
) -> list[Article]:
    """Newest ingested first; keyset on id (monotonic), so new arrivals never shift later pages."""
    stmt = _filtered(f)
    if before_id is not None:
        stmt = stmt.where(Article.id < before_id)
    return list(session.scalars(stmt.order_by(Article.id.desc()).limit(limit)))


def list_articles_by_published(
    session: Session, *, f: ArticleFilter, limit: int, after: tuple[datetime, int] | None
) -> list[Article]:
    """Newest published first; articles without a date are not in this order."""
    stmt = _filtered(f).where(Article.published_at.is_not(None))
    if after is not None:
        published, article_id = after
        stmt = stmt.where(
            or_(
                Article.published_at < published,
                and_(Article.published_at == published, Article.id < article_id),
            )
        )
    return list(session.scalars(stmt.order_by(Article.published_at.desc(), Article.id.desc()).limit(limit)))


def topics_for(session: Session, *, article_ids: Sequence[int]) -> dict[int, list[tuple[str, str, float]]]:
    out: dict[int, list[tuple[str, str, float]]] = {i: [] for i in article_ids}
    if not article_ids:
        return out
    rows = session.execute(
        select(ArticleTopic.article_id, Topic.code, Topic.label, ArticleTopic.score)
        .join(Topic, Topic.code == ArticleTopic.topic_code)
        .where(ArticleTopic.article_id.in_(article_ids))
        .order_by(ArticleTopic.article_id, ArticleTopic.score.desc())
    )
    for r in rows:
        out[r.article_id].append((r.code, r.label, r.score))
    return out


def get_article(session: Session, *, article_id: int) -> Article | None:
    return session.get(Article, article_id)


def entities_for(session: Session, *, article_id: int) -> list[tuple[Entity, ArticleEntity]]:
    rows = session.execute(
        select(Entity, ArticleEntity)
        .join(ArticleEntity, ArticleEntity.entity_id == Entity.id)
        .where(ArticleEntity.article_id == article_id)
        .order_by(ArticleEntity.salience.desc(), ArticleEntity.mention_count.desc(), Entity.name)
    )
    return [(r[0], r[1]) for r in rows]


def topic_codes_matching(session: Session, *, values: Sequence[str]) -> list[str]:
    """Topic filter values may be codes or labels (case-insensitive)."""
    lowered = [v.lower() for v in values]
    rows = session.scalars(select(Topic.code).where(or_(Topic.code.in_(values), Topic.label.in_(lowered))))
    return list(rows)


def revisions_of(session: Session, *, article_id: int) -> list[ArticleRevision]:
    return list(
        session.scalars(
            select(ArticleRevision)
            .where(ArticleRevision.article_id == article_id)
            .order_by(ArticleRevision.revision)
        )
    )


def count_duplicates_of(session: Session, *, article_id: int) -> int:
    return session.scalar(select(func.count()).where(Article.duplicate_of == article_id)) or 0

"""All SQL of the export: keyset chunks in id order, with every article's entities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from services.api.articles.repository import SUMMARY_COLUMNS, ArticleFilter, conditions
from shared.models import Article, ArticleEntity, Entity


class EntityRow(NamedTuple):
    id: int
    name: str
    type: str
    mention_count: int
    salience: float


EXPORT_COLUMNS = load_only(
    Article.text, Article.authors, Article.site_name, Article.modified_at, Article.language_confidence,
    raiseload=True,
)  # fmt: skip


def chunk(session: Session, *, f: ArticleFilter, after_id: int, size: int) -> list[Article]:
    """The next ``size`` matching articles with an id above ``after_id``, oldest first."""
    stmt = (
        select(Article)
        .options(SUMMARY_COLUMNS, EXPORT_COLUMNS)
        .where(*conditions(f), Article.id > after_id)
        .order_by(Article.id)
        .limit(size)
    )
    return list(session.scalars(stmt))


def entities_of(session: Session, *, article_ids: Sequence[int]) -> dict[int, list[EntityRow]]:
    """Each article's entities, most salient first (plain columns: the mention offsets are not read)."""
    out: dict[int, list[EntityRow]] = {i: [] for i in article_ids}
    if not article_ids:
        return out
    rows = session.execute(
        select(
            ArticleEntity.article_id,
            Entity.id,
            Entity.name,
            Entity.type,
            ArticleEntity.mention_count,
            ArticleEntity.salience,
        )
        .join(Entity, Entity.id == ArticleEntity.entity_id)
        .where(ArticleEntity.article_id.in_(article_ids))
        .order_by(ArticleEntity.article_id, ArticleEntity.salience.desc(), Entity.id)
    )
    for article_id, *entity in rows:
        out[article_id].append(EntityRow(*entity))
    return out

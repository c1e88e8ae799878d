"""The bulk export: every article matching a filter with its enrichments, one chunk at a time."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from services.api.articles import repository as articles_repository
from services.api.articles.repository import ArticleFilter
from services.api.articles.service import _summary
from services.api.export import repository
from services.api.export.schemas import ExportArticle, ExportEntityOut


def pin(*, session: Session, f: ArticleFilter) -> ArticleFilter:
    """The filter fixed to the articles stored now: an export does not chase articles arriving meanwhile."""
    return replace(f, max_id=articles_repository.max_article_id(session))


def chunk(*, session: Session, f: ArticleFilter, after_id: int, size: int) -> list[ExportArticle]:
    """The next chunk of the export (keyset on id, oldest first); empty at the end."""
    articles = repository.chunk(session, f=f, after_id=after_id, size=size)
    ids = [a.id for a in articles]
    topics = articles_repository.topics_for(session, article_ids=ids)
    entities = repository.entities_of(session, article_ids=ids)
    return [
        ExportArticle(
            **_summary(a, topics[a.id]).model_dump(),
            text=a.text,
            authors=list(a.authors or []),
            site_name=a.site_name,
            modified_at=a.modified_at,
            language_confidence=a.language_confidence,
            entities=[ExportEntityOut(**e._asdict()) for e in entities[a.id]],
        )
        for a in articles
    ]

"""All SQL of the story read side."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from shared.models import Article, Story, StorySignature


def list_stories(
    session: Session, *, min_articles: int, limit: int, after: tuple[datetime, int] | None
) -> list[Story]:
    """Most recently seen first; keyset on (last_seen, id), so new arrivals never shift later pages
    (a story that grows moves up: it is listed again only by a new first page)."""
    stmt = select(Story).where(Story.article_count >= min_articles, Story.last_seen.is_not(None))
    if after is not None:
        last_seen, story_id = after
        stmt = stmt.where(
            or_(Story.last_seen < last_seen, and_(Story.last_seen == last_seen, Story.id < story_id))
        )
    return list(session.scalars(stmt.order_by(Story.last_seen.desc(), Story.id.desc()).limit(limit)))


def get_story(session: Session, *, story_id: int) -> Story | None:
    story = session.get(Story, story_id)
    return story if story is not None and story.article_count > 0 else None


def story_articles(session: Session, *, story_id: int, limit: int) -> list[Any]:
    """The story's articles, earliest first: ``(Article, StorySignature)`` rows."""
    rows = session.execute(
        select(Article, StorySignature)
        .join(StorySignature, StorySignature.article_id == Article.id)
        .where(Article.story_id == story_id)
        .order_by(StorySignature.at, Article.id)
        .limit(limit)
    )
    return list(rows)

"""Read side of stories (lists, detail) and the operators' reassignment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from services.api.pagination import decode_cursor, encode_cursor
from services.api.stories import repository
from services.api.stories.schemas import (
    ReassignRequest,
    ReassignResult,
    StoryArticleOut,
    StoryDetail,
    StoryEntityOut,
    StoryMatchOut,
    StoryPage,
    StorySummary,
)
from shared.errors import InvalidCursor, NotFound
from shared.models import Story
from shared.stories import service as assignment
from shared.stories.scoring import StoryRules


def _summary(story: Story) -> StorySummary:
    return StorySummary(
        id=story.id,
        label=story.label,
        article_count=story.article_count,
        source_count=story.source_count,
        first_seen=story.first_seen,
        last_seen=story.last_seen,
        top_entities=[StoryEntityOut(**e) for e in story.top_entities],
    )


def list_stories(*, session: Session, min_articles: int, limit: int, cursor: str | None) -> StoryPage:
    after = None
    if cursor:
        last_seen_s, story_id = decode_cursor(cursor, kind="stories", arity=2)
        try:
            after = (datetime.fromisoformat(last_seen_s), int(story_id))
        except (TypeError, ValueError) as exc:
            raise InvalidCursor("the cursor is not one this API issued") from exc
    rows = repository.list_stories(session, min_articles=min_articles, limit=limit + 1, after=after)
    page, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more and page and page[-1].last_seen is not None:
        next_cursor = encode_cursor("stories", [page[-1].last_seen.isoformat(), page[-1].id])
    return StoryPage(items=[_summary(s) for s in page], next_cursor=next_cursor)


def get_story(*, session: Session, story_id: int, max_articles: int) -> StoryDetail:
    story = repository.get_story(session, story_id=story_id)
    if story is None:
        raise NotFound(f"story {story_id} does not exist")
    rows = repository.story_articles(session, story_id=story_id, limit=max_articles + 1)
    articles = [
        StoryArticleOut(
            id=article.id,
            title=article.title,
            url=article.url,
            source=article.source,
            published_at=article.published_at,
            language=article.language,
            at=signature.at,
            syndicated=signature.syndicated,
            match=StoryMatchOut(**signature.match) if signature.match else None,
        )
        for article, signature in rows[:max_articles]
    ]
    return StoryDetail(
        **_summary(story).model_dump(), articles=articles, more_articles=len(rows) > max_articles
    )


def reassign(*, session: Session, request: ReassignRequest, rules: StoryRules) -> ReassignResult:
    result = assignment.reassign(session=session, since=request.since, until=request.until, rules=rules)
    return ReassignResult(
        articles=result.articles,
        stories=result.stories,
        joined=result.joined,
        removed=result.removed,
        threshold=rules.threshold,
        window_hours=rules.window_hours,
    )

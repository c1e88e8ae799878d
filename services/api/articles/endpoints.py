from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.api.articles import service
from services.api.articles.schemas import ArticleDetail, ArticlePage, ArticleSort, RevisionList
from shared.auth.dependencies import RequireRead
from shared.http import ERROR_RESPONSES, MAX_ROW_ID, RowId, SessionDep
from shared.settings import get_settings

StatusName = Literal["queued", "enriched", "failed", "duplicate"]  # shared.models.ArticleStatus

router = APIRouter(
    prefix="/v1/articles", tags=["articles"], dependencies=[RequireRead], responses=ERROR_RESPONSES
)
_settings = get_settings()


@router.get("", response_model=ArticlePage, summary="List articles, newest first, with filters")
def list_articles(
    session: SessionDep,
    entity: Annotated[
        list[str],
        Query(
            description="Entity id, canonical name or any alias seen (exact, case-insensitive); repeat: AND.",
            examples=["NATO"],
        ),
    ] = [],  # noqa: B006 - FastAPI copies defaults
    topic: Annotated[
        list[str], Query(description="Topic code or label; repeat for OR.", examples=["politics"])
    ] = [],  # noqa: B006
    min_topic_score: Annotated[
        float, Query(ge=0, le=1, description="Lowest score of the topic filter.")
    ] = 0.0,
    source: Annotated[list[str], Query(description="Source; repeat for OR.", examples=["reuters"])] = [],  # noqa: B006
    language: Annotated[list[str], Query(description="Detected language (ISO 639-1).", examples=["en"])] = [],  # noqa: B006
    status: Annotated[
        list[StatusName],
        Query(description="queued, enriched, failed or duplicate; repeat for OR.", examples=["enriched"]),
    ] = [],  # noqa: B006
    published_from: Annotated[datetime | None, Query(description="Published at or after (ISO 8601).")] = None,
    published_to: Annotated[datetime | None, Query(description="Published before (ISO 8601).")] = None,
    story: Annotated[
        int | None, Query(ge=1, le=MAX_ROW_ID, description="Only articles of this story (its id).")
    ] = None,
    sort: Annotated[
        ArticleSort, Query(description="ingested (default) or published, newest first.")
    ] = "ingested",
    limit: Annotated[int, Query(ge=1, le=_settings.page_size_max, description="Page size.")] = (
        _settings.page_size_default
    ),
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> ArticlePage:
    f = service.build_filter(
        session=session,
        entity=entity,
        topic=topic,
        min_topic_score=min_topic_score,
        source=source,
        language=language,
        status=status,
        published_from=published_from,
        published_to=published_to,
        story=story,
    )
    return service.list_articles(session=session, f=f, sort=sort, limit=limit, cursor=cursor)


@router.get("/{article_id}", response_model=ArticleDetail, summary="One article with its entities and topics")
def get_article(session: SessionDep, article_id: RowId) -> ArticleDetail:
    return service.get_article(session=session, article_id=article_id)


@router.get(
    "/{article_id}/revisions",
    response_model=RevisionList,
    summary="The revisions of an article's text, oldest first, each with a diff from the previous one",
)
def list_revisions(session: SessionDep, article_id: RowId) -> RevisionList:
    return service.list_revisions(session=session, article_id=article_id)

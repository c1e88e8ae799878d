"""HTTP edge of stories: the read routes (read scope) and reassignment (admin scope, under /v1/ops)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.api.readdb import ReadSessionDep
from services.api.stories import service
from services.api.stories.schemas import ReassignRequest, ReassignResult, StoryDetail, StoryPage
from shared.auth.dependencies import RequireAdmin, RequireRead
from shared.http import (
    AT_MOST_PAGE_SIZE_MAX,
    ERROR_RESPONSES,
    RowId,
    SessionDep,
    SettingsDep,
    page_size_query,
)
from shared.stories.scoring import StoryRules

router = APIRouter(
    prefix="/v1/stories", tags=["stories"], dependencies=[RequireRead], responses=ERROR_RESPONSES
)
ops_router = APIRouter(
    prefix="/v1/ops/stories", tags=["ops"], dependencies=[RequireAdmin], responses=ERROR_RESPONSES
)


@router.get(
    "", response_model=StoryPage, summary="Stories (articles about one event), most recently seen first"
)
def list_stories(
    session: ReadSessionDep,
    *,
    min_articles: Annotated[
        int, Query(ge=1, le=1_000_000, description="Only stories with at least this many articles.")
    ] = 1,
    limit: Annotated[int, page_size_query(description="Page size."), AT_MOST_PAGE_SIZE_MAX],
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> StoryPage:
    return service.list_stories(session=session, min_articles=min_articles, limit=limit, cursor=cursor)


@router.get("/{story_id}", response_model=StoryDetail, summary="One story with its articles, earliest first")
def get_story(session: ReadSessionDep, settings: SettingsDep, story_id: RowId) -> StoryDetail:
    return service.get_story(session=session, story_id=story_id, max_articles=settings.page_size_max)


@ops_router.post(
    "/reassign",
    response_model=ReassignResult,
    summary="Re-run story assignment over a date range (after changing the story settings), in time order",
)
def reassign(session: SessionDep, settings: SettingsDep, body: ReassignRequest) -> ReassignResult:
    return service.reassign(session=session, request=body, rules=StoryRules.from_settings(settings))

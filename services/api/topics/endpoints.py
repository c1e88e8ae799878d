from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.api.readdb import ReadSessionDep
from services.api.topics import service
from services.api.topics.schemas import TopicList
from shared.auth.dependencies import RequireRead
from shared.http import ERROR_RESPONSES

router = APIRouter(
    prefix="/v1/topics", tags=["topics"], dependencies=[RequireRead], responses=ERROR_RESPONSES
)


@router.get(
    "", response_model=TopicList, summary="The topic taxonomy (IPTC Media Topics) with article counts"
)
def list_topics(
    session: ReadSessionDep,
    min_score: Annotated[
        float, Query(ge=0, le=1, description="Count articles with at least this score.")
    ] = 0.0,
) -> TopicList:
    return service.list_topics(session=session, min_score=min_score)

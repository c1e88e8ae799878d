from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from services.api.entities import service
from services.api.entities.schemas import EntityOut, EntityPage, RelatedPage, TimelineOut
from services.api.readdb import ReadSessionDep
from shared.auth.dependencies import RequireRead
from shared.http import AT_MOST_PAGE_SIZE_MAX, ERROR_RESPONSES, RowId, page_size_query

router = APIRouter(
    prefix="/v1/entities", tags=["entities"], dependencies=[RequireRead], responses=ERROR_RESPONSES
)


@router.get(
    "",
    response_model=EntityPage,
    summary="Canonical entities with aliases and article counts, most articles first",
)
def list_entities(
    session: ReadSessionDep,
    *,
    type: Annotated[
        list[str],
        Query(description="spaCy entity type (PERSON, ORG, GPE, ...); repeat for OR.", examples=["ORG"]),
    ] = [],  # noqa: B006
    prefix: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Prefix of the canonical name or of an alias (case-insensitive).",
            examples=["hil"],
        ),
    ] = None,
    limit: Annotated[int, page_size_query(), AT_MOST_PAGE_SIZE_MAX],
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> EntityPage:
    return service.list_entities(session=session, types=type, prefix=prefix, limit=limit, cursor=cursor)


@router.get(
    "/{entity_id}", response_model=EntityOut, summary="One canonical entity with its aliases and counts"
)
def get_entity(session: ReadSessionDep, entity_id: RowId) -> EntityOut:
    return service.get_entity(session=session, entity_id=entity_id)


@router.get(
    "/{entity_id}/related",
    response_model=RelatedPage,
    summary="Entities mentioned in the same articles, with the number of shared articles",
)
def related_entities(
    session: ReadSessionDep,
    entity_id: RowId,
    type: Annotated[
        list[str],
        Query(description="Only related entities of this type; repeat for OR.", examples=["PERSON"]),
    ] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=100, description="Entities returned.", examples=[20])] = 20,
) -> RelatedPage:
    return service.related(session=session, entity_id=entity_id, types=type, limit=limit)


@router.get(
    "/{entity_id}/timeline",
    response_model=TimelineOut,
    summary="Articles mentioning the entity per day (UTC publication day)",
)
def entity_timeline(
    session: ReadSessionDep,
    entity_id: RowId,
    start: Annotated[
        date | None, Query(description="First day (default: 30 days before `end`).", examples=["2026-11-01"])
    ] = None,
    end: Annotated[
        date | None,
        Query(description="Day after the last (default: tomorrow, UTC).", examples=["2026-11-24"]),
    ] = None,
) -> TimelineOut:
    return service.timeline(session=session, entity_id=entity_id, start=start, end=end)

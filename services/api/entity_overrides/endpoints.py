"""HTTP edge of entity overrides (admin scope): list, add, remove; a change re-enqueues affected articles."""

from __future__ import annotations

from fastapi import APIRouter, Request

from services.api.entity_overrides import service
from services.api.entity_overrides.schemas import OverrideDeleted, OverrideIn, OverrideList, OverrideSaved
from shared.auth.dependencies import RequireAdmin
from shared.http import ERROR_RESPONSES, ErrorBody, RowId, SessionDep
from shared.jobs.enqueue import request_publisher

router = APIRouter(
    prefix="/v1/ops/entity-overrides",
    tags=["ops"],
    dependencies=[RequireAdmin],
    responses=ERROR_RESPONSES,
)


@router.get("", response_model=OverrideList, summary="Entity overrides in force, oldest first")
def list_overrides(session: SessionDep) -> OverrideList:
    return service.list_overrides(session=session)


@router.post(
    "",
    response_model=OverrideSaved,
    status_code=201,
    summary="Add an entity override (alias, merge, ignore); the affected articles are re-enriched",
    responses={
        409: {"model": ErrorBody, "description": "An override with this kind, surface and type exists"}
    },
)
def add_override(request: Request, session: SessionDep, body: OverrideIn) -> OverrideSaved:
    principal = getattr(request.state, "principal", None)
    return service.add_override(
        session=session,
        data=body,
        created_by=f"key:{principal.name}" if principal is not None else None,
        request_id=request.state.request_id,
        publish=request_publisher(request),
    )


@router.delete(
    "/{override_id}",
    response_model=OverrideDeleted,
    summary="Remove an entity override; the affected articles are re-enriched",
)
def remove_override(request: Request, session: SessionDep, override_id: RowId) -> OverrideDeleted:
    return service.remove_override(
        session=session,
        override_id=override_id,
        request_id=request.state.request_id,
        publish=request_publisher(request),
    )

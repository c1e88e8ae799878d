"""HTTP edge of ingest's operator routes: undo a duplicate decision (admin scope).  No logic here.

On the ingest service because the duplicate decision is ingest's (its keys, fingerprints and tables);
the read API's ops routes (``/v1/ops/queues``, ``/failed``, ``/reprocess``) are on the API service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request

from services.ingest.articles import undo
from services.ingest.articles.schemas import NotDuplicateResult
from shared.auth.dependencies import RequireAdmin
from shared.auth.service import Principal
from shared.http import ERROR_RESPONSES, ErrorBody, RowId, SessionDep
from shared.jobs.enqueue import request_publisher

router = APIRouter(prefix="/v1/ops", tags=["ops"], dependencies=[RequireAdmin], responses=ERROR_RESPONSES)


@router.post(
    "/articles/{article_id}/not-duplicate",
    response_model=NotDuplicateResult,
    status_code=202,
    summary="Undo a duplicate decision: the article becomes an original, queued for enrichment; the pair "
    "is never merged again",
    responses={
        409: {
            "model": ErrorBody,
            "description": "`not_a_duplicate`: the article is an original; `same_article`: it has the same "
            "title and text as a stored original",
        }
    },
)
def not_duplicate(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, RequireAdmin],
    article_id: RowId,
) -> NotDuplicateResult:
    done = undo.mark_not_duplicate(
        session=session,
        article_id=article_id,
        decided_by=f"api key {principal.name}",
        request_id=request.state.request_id,
        publish=request_publisher(request),
    )
    return NotDuplicateResult(
        id=done.id, status=done.status, was_duplicate_of=done.was_duplicate_of, dedup_reason=done.dedup_reason
    )

"""HTTP edge of the ops views. Every ops route is on this one router (an admin-scope dependency goes here)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.api.ops import service
from services.api.ops.schemas import FailedDetail, FailedPage, QueuesOut, RetryResult, SourcesOut
from services.api.reprocess import service as reprocess_service
from services.api.reprocess.schemas import CompletenessOut, ReprocessRequest, ReprocessResult
from shared.auth.dependencies import RequireAdmin
from shared.http import (
    AT_MOST_PAGE_SIZE_MAX,
    ERROR_RESPONSES,
    ErrorBody,
    RowId,
    SessionDep,
    SettingsDep,
    page_size_query,
)
from shared.jobs import broker
from shared.jobs.enqueue import request_publisher
from shared.versions import current as current_versions

router = APIRouter(prefix="/v1/ops", tags=["ops"], dependencies=[RequireAdmin], responses=ERROR_RESPONSES)

SourceQuery = Annotated[list[str], Query(description="Source; repeat for OR.", examples=["reuters"])]
ErrorTypeQuery = Annotated[
    list[str], Query(description="Error type (exception class); repeat for OR.", examples=["OSError"])
]


@router.get("/queues", response_model=QueuesOut, summary="Queue depth, workers, rates, oldest item, failures")
def get_queues(
    session: SessionDep,
    settings: SettingsDep,
    workers: Annotated[
        bool, Query(description="Ask the workers what they run (a broadcast that waits up to 1 s).")
    ] = True,
) -> QueuesOut:
    item = service.queue_stats(
        session=session,
        celery=broker.publisher() if workers else None,
        broker_url=broker.broker_url(settings),
        queue=settings.enrich_queue,
        window_s=settings.ops_rate_window,
    )
    return QueuesOut(items=[item])


@router.get(
    "/sources",
    response_model=SourcesOut,
    summary="Coverage ledger: each source's recent hours against its usual rate; silent sources, jumps",
)
def get_sources(
    session: SessionDep,
    settings: SettingsDep,
    flagged: Annotated[bool, Query(description="Only sources silent or with a jump.")] = False,
) -> SourcesOut:
    out = service.source_coverage(session=session, rules=service.CoverageRules.from_settings(settings))
    if flagged:
        out.items = [s for s in out.items if service.flagged(s)]
    return out


@router.get("/failed", response_model=FailedPage, summary="Dead-lettered (failed) articles, newest first")
def list_failed(
    session: SessionDep,
    *,
    source: SourceQuery = [],  # noqa: B006 - FastAPI copies defaults
    error_type: ErrorTypeQuery = [],  # noqa: B006
    limit: Annotated[int, page_size_query(description="Page size."), AT_MOST_PAGE_SIZE_MAX],
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> FailedPage:
    return service.list_failed(
        session=session, sources=source, error_types=error_type, limit=limit, cursor=cursor
    )


@router.post(
    "/failed/retry",
    response_model=RetryResult,
    status_code=202,
    summary="Retry failed articles (oldest first, up to `limit`): back to queued, published again",
)
def retry_failed(
    request: Request,
    session: SessionDep,
    source: SourceQuery = [],  # noqa: B006
    error_type: ErrorTypeQuery = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=10_000, description="Most articles retried by this call.")] = 1000,
) -> RetryResult:
    return service.retry_failed(
        session=session,
        sources=source,
        error_types=error_type,
        limit=limit,
        request_id=request.state.request_id,
        publish=request_publisher(request),
    )


@router.get("/failed/{article_id}", response_model=FailedDetail, summary="One article's failure and stages")
def get_failed(session: SessionDep, article_id: RowId) -> FailedDetail:
    return service.get_failed(session=session, article_id=article_id)


@router.post(
    "/failed/{article_id}/retry",
    response_model=RetryResult,
    status_code=202,
    summary="Retry one failed article",
    responses={409: {"model": ErrorBody, "description": "The article is not failed"}},
)
def retry_one(request: Request, session: SessionDep, article_id: RowId) -> RetryResult:
    return service.retry_one(
        session=session,
        article_id=article_id,
        request_id=request.state.request_id,
        publish=request_publisher(request),
    )


@router.post(
    "/reprocess",
    response_model=ReprocessResult,
    status_code=202,
    summary="Re-enrich articles enriched at an older version (or matching the filters), oldest first",
)
def reprocess(
    request: Request, session: SessionDep, settings: SettingsDep, body: ReprocessRequest
) -> ReprocessResult:
    current = current_versions(session, model=settings.spacy_model).key
    matched = reprocess_service.count_matching(session=session, selection=body, current=current)
    limit = min(body.limit or settings.reprocess_max_per_request, settings.reprocess_max_per_request)
    ids: list[int] = []
    if not body.dry_run:
        ids = reprocess_service.queue_batch(
            session=session,
            selection=body,
            current=current,
            limit=limit,
            request_id=request.state.request_id,
            publish=request_publisher(request),
        )
    return ReprocessResult(
        current_version=current,
        matched=matched,
        queued=len(ids),
        remaining=matched - len(ids),
        article_ids=reprocess_service.ids_preview(ids),
        dry_run=body.dry_run,
    )


@router.get(
    "/completeness",
    response_model=CompletenessOut,
    summary="Articles enriched at the current version, at an older one, or not at all; per version",
)
def completeness(session: SessionDep, settings: SettingsDep) -> CompletenessOut:
    return reprocess_service.completeness(session=session, model=settings.spacy_model)

"""HTTP edge of ingest: parse, validate, hand to the service. No logic here."""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from services.ingest.articles import service
from services.ingest.articles.schemas import ArticleIn, BatchItemResult, BatchResult, IngestResult
from services.ingest.metrics import ARTICLES_ACCEPTED, ARTICLES_DUPLICATE, ARTICLES_REJECTED
from services.ingest.outbox.service import publish_now
from shared.body import json_body
from shared.db import session_scope
from shared.errors import NewswireError, PayloadTooLarge, ValidationFailed
from shared.http import SessionDep, app_session_factory, error_body
from shared.settings import get_settings

router = APIRouter(prefix="/v1", tags=["articles"])
log = structlog.get_logger("newswire.ingest")

JsonBody = Annotated[Any, Depends(json_body)]


def _validation_detail(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]


def _parse(raw: Any) -> ArticleIn:
    if not isinstance(raw, dict):
        raise ValidationFailed("the body must be a JSON object")
    try:
        return ArticleIn.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed(_validation_detail(exc)) from exc


def _source_of(raw: Any) -> Any:
    return raw.get("source") if isinstance(raw, dict) else None


def _record(session: Session, outcomes: list[tuple[Any, service.Outcome]]) -> None:
    """Count the outcomes in the coverage ledger; a rejection is answered even if the count fails."""
    try:
        with session.begin_nested():
            service.record_outcomes(session=session, outcomes=outcomes)
    except DBAPIError as exc:
        if any(outcome != "rejected" for _, outcome in outcomes):
            raise
        log.warning("ledger_write_failed", error=f"{type(exc).__name__}: {exc}"[:300])


def _ingest_one(request: Request, session: Session, payload: ArticleIn) -> IngestResult:
    settings = get_settings()
    factory = request.app.state.session_factory

    def publish(ids: list[int]) -> None:
        publish_now(ids=ids, factory=factory)

    result = service.ingest_article(
        session=session,
        payload=payload,
        request_id=request.state.request_id,
        publish=publish,
        min_clean_chars=settings.min_clean_chars,
    )
    (ARTICLES_DUPLICATE if result.status == "duplicate" else ARTICLES_ACCEPTED).inc()
    return result


@router.post(
    "/articles",
    response_model=IngestResult,
    status_code=202,
    summary="Push one article",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ArticleIn"}}},
        }
    },
    responses={
        200: {
            "description": "A duplicate of a stored article: its id, `status: duplicate`",
            "model": IngestResult,
        },
        202: {"description": "Accepted and queued for enrichment"},
        413: {"description": "Body or a field too large"},
        415: {"description": "Not JSON"},
        422: {"description": "Invalid article"},
    },
)
def post_article(request: Request, raw: JsonBody, session: SessionDep) -> JSONResponse:
    try:
        payload = _parse(raw)
        result = _ingest_one(request, session, payload)
    except NewswireError as exc:
        ARTICLES_REJECTED.labels(exc.error).inc()
        session.rollback()  # nothing of the article is kept; the rejection is counted
        _record(session, [(_source_of(raw), "rejected")])
        body = error_body(exc.error, exc.detail)
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
    _record(session, [(payload.source, "accepted" if result.status == "queued" else "duplicate")])
    return JSONResponse(
        result.model_dump(mode="json"), status_code=200 if result.status == "duplicate" else 202
    )


@router.post(
    "/articles/batch",
    response_model=BatchResult,
    summary="Push several articles; each is answered on its own",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["articles"],
                        "properties": {
                            "articles": {"type": "array", "items": {"$ref": "#/components/schemas/ArticleIn"}}
                        },
                    }
                }
            },
        }
    },
)
def post_batch(request: Request, raw: JsonBody) -> BatchResult:
    """Each article is stored in a transaction of its own: one holds only its own rows' locks, so
    concurrent batches of one source never deadlock, and a failure part-way keeps what was answered."""
    settings = get_settings()
    if not isinstance(raw, dict) or set(raw) != {"articles"} or not isinstance(raw["articles"], list):
        raise ValidationFailed('the body must be {"articles": [...]}')
    items: list[Any] = raw["articles"]
    if not items:
        raise ValidationFailed("the batch is empty")
    if len(items) > settings.max_batch_size:
        raise PayloadTooLarge(f"a batch holds at most {settings.max_batch_size} articles, got {len(items)}")
    factory = app_session_factory(request.app)
    results: list[BatchItemResult] = []
    rejected: list[tuple[Any, service.Outcome]] = []
    for index, item in enumerate(items):
        try:
            payload = _parse(item)
            with session_scope(factory) as session:
                result = _ingest_one(request, session, payload)
                _record(session, [(payload.source, "accepted" if result.status == "queued" else "duplicate")])
            results.append(BatchItemResult(index=index, ok=True, result=result))
        except NewswireError as exc:
            ARTICLES_REJECTED.labels(exc.error).inc()
            results.append(BatchItemResult(index=index, ok=False, error=exc.error, detail=exc.detail))
            rejected.append((_source_of(item), "rejected"))
    if rejected:
        with session_scope(factory) as session:
            _record(session, rejected)
    return BatchResult(
        items=results,
        accepted=sum(1 for r in results if r.result and r.result.status == "queued"),
        duplicates=sum(1 for r in results if r.result and r.result.status == "duplicate"),
        rejected=sum(1 for r in results if not r.ok),
    )

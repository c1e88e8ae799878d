"""HTTP edge of ingest: parse, validate, hand to the service. No logic here."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from services.ingest.articles import service
from services.ingest.articles.schemas import ArticleIn, BatchItemResult, BatchResult, IngestResult
from services.ingest.cleaning import CleanedArticle
from services.ingest.idempotency import service as idempotency
from services.ingest.metrics import ARTICLES_ACCEPTED, ARTICLES_DUPLICATE, ARTICLES_REJECTED
from shared.auth import service as auth_service
from shared.auth.dependencies import IngestPrincipal, RequireIngest
from shared.auth.service import Principal
from shared.body import json_body
from shared.db import session_scope
from shared.errors import NewswireError, PayloadTooLarge, ValidationFailed
from shared.http import ERROR_RESPONSES, ErrorBody, SettingsDep, app_session_factory, error_body
from shared.jobs.enqueue import request_publisher
from shared.settings import Settings

router = APIRouter(prefix="/v1", tags=["articles"], dependencies=[RequireIngest], responses=ERROR_RESPONSES)
log = structlog.get_logger("newswire.ingest")

JsonBody = Annotated[Any, Depends(json_body)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=idempotency.MAX_KEY_CHARS,
        description="Any unique string (a UUID): a retry with the same key and body gets the first answer "
        "(same status and body, `Idempotent-Replayed: true`) instead of doing the work again; the same key "
        "with another body is refused (422). Remembered for NEWSWIRE_IDEMPOTENCY_TTL_HOURS.",
    ),
]
REPLAYED_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same "
        "Idempotency-Key",
        "schema": {"type": "string"},
    }
}

IN_PROGRESS: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "A request with this Idempotency-Key is in progress"}
}


#: a retry waits this long for its twin to answer, then 409 with Retry-After (the wait holds a thread)
IDEMPOTENCY_WAIT_S = 5.0


def _claim(
    request: Request, *, settings: Settings, principal_id: int, key: str | None, raw: Any
) -> idempotency.Claimed | idempotency.Replay | None:
    """Claim the Idempotency-Key in a short transaction of its own (None: no key sent)."""
    if key is None:
        return None
    return idempotency.claim_or_replay(
        factory=app_session_factory(request.app),
        api_key_id=principal_id,
        key=key,
        request_hash=idempotency.request_hash(method=request.method, path=request.url.path, body=raw),
        ttl=timedelta(hours=settings.idempotency_ttl_hours),
        wait=IDEMPOTENCY_WAIT_S,
    )


def _replayed(replay: idempotency.Replay) -> JSONResponse:
    return JSONResponse(replay.body, status_code=replay.status_code, headers={"Idempotent-Replayed": "true"})


def _validation_detail(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]


def _parse(raw: Any, principal: Principal) -> ArticleIn:
    """The validated article, its `source` the one it is stored under (403 when the key may not write
    the source it names; see shared.auth.service.write_source)."""
    if not isinstance(raw, dict):
        raise ValidationFailed("the body must be a JSON object")
    try:
        payload = ArticleIn.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed(_validation_detail(exc)) from exc
    source = auth_service.write_source(principal, payload.source)
    return payload if source == payload.source else payload.model_copy(update={"source": source})


def _source_of(raw: Any, principal: Principal) -> Any:
    """The ledger's source of a rejected body: only one the key may write (a key cannot count rejections
    against another feed's source)."""
    source = raw.get("source") if isinstance(raw, dict) else None
    if source is not None and not isinstance(source, str):
        return source
    try:
        return auth_service.write_source(principal, source.strip() if source else None)
    except NewswireError:
        return None


def _record(session: Session, outcomes: list[tuple[Any, service.Outcome]]) -> None:
    """Count the outcomes in the coverage ledger; a rejection is answered even if the count fails."""
    try:
        with session.begin_nested():
            service.record_outcomes(session=session, outcomes=outcomes)
    except DBAPIError as exc:
        if any(outcome != "rejected" for _, outcome in outcomes):
            raise
        log.warning("ledger_write_failed", error=f"{type(exc).__name__}: {exc}"[:300])


def _ingest_one(
    request: Request,
    session: Session,
    payload: ArticleIn,
    cleaned: CleanedArticle,
    principal: Principal,
    *,
    settings: Settings,
) -> IngestResult:
    result = service.ingest_article(
        session=session,
        payload=payload,
        cleaned=cleaned,
        request_id=request.state.request_id,
        publish=request_publisher(request),
        min_clean_chars=settings.min_clean_chars,
        writer_key_id=principal.id if payload.source is None else None,
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
            "description": "A duplicate: the same text at the same feed id or canonical URL (`id`: the "
            "stored row), or the text (`exact`) or a near-duplicate (`near`) of another article, stored as a "
            "duplicate row (`id`) linked to its original (`duplicate_of`) with the `similarity`",
            "model": IngestResult,
            "headers": REPLAYED_HEADER,
        },
        202: {
            "description": "Accepted and queued for enrichment: a new article (`queued`), or changed text at "
            "a stored feed id or canonical URL (`revised`: its next revision, with a diff)",
            "headers": REPLAYED_HEADER,
        },
        **IN_PROGRESS,
    },
)
def post_article(
    request: Request,
    principal: IngestPrincipal,
    settings: SettingsDep,
    raw: JsonBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Extraction runs before any transaction opens; the article, its outbox job, its ledger count and
    the Idempotency-Key's answer are written in one short transaction; publishing follows the commit."""
    factory = app_session_factory(request.app)
    claim: idempotency.Claimed | None = None
    try:
        outcome = _claim(request, settings=settings, principal_id=principal.id, key=idempotency_key, raw=raw)
        if isinstance(outcome, idempotency.Replay):
            return _replayed(outcome)
        claim = outcome
        payload = _parse(raw, principal)
        cleaned = service.clean_payload(payload)  # the slow part: no transaction, no connection held
        with session_scope(factory) as session:
            result = _ingest_one(request, session, payload, cleaned, principal, settings=settings)
            _record(session, [(payload.source, "duplicate" if result.status == "duplicate" else "accepted")])
            status_code, body = (200 if result.status == "duplicate" else 202), result.model_dump(mode="json")
            if claim is not None:
                idempotency.finish(session=session, claim=claim, status_code=status_code, body=body)
        return JSONResponse(body, status_code=status_code)
    except NewswireError as exc:
        ARTICLES_REJECTED.labels(exc.error).inc()
        # nothing of the article (nor an idempotency claim: a corrected retry may reuse the key) is kept;
        # the rejection is counted in the coverage ledger
        if claim is not None:
            idempotency.release(factory=factory, claim=claim)
        with session_scope(factory) as session:
            _record(session, [(_source_of(raw, principal), "rejected")])
        return JSONResponse(
            error_body(exc.error, exc.detail), status_code=exc.status_code, headers=exc.headers
        )
    except BaseException:
        if claim is not None:
            idempotency.release(factory=factory, claim=claim)
        raise


@router.post(
    "/articles/batch",
    response_model=BatchResult,
    summary="Push several articles; each is answered on its own",
    responses={
        200: {"description": "One result per article, in order", "headers": REPLAYED_HEADER},
        **IN_PROGRESS,
    },
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
def post_batch(
    request: Request,
    principal: IngestPrincipal,
    settings: SettingsDep,
    raw: JsonBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    # the Idempotency-Key is claimed, and later answered, in short transactions of their own: each
    # item has its own, and none stays open across the items' extraction
    factory = app_session_factory(request.app)
    outcome = _claim(request, settings=settings, principal_id=principal.id, key=idempotency_key, raw=raw)
    if isinstance(outcome, idempotency.Replay):
        return _replayed(outcome)
    try:
        body = _batch(request, raw, principal, settings=settings).model_dump(mode="json")
        if outcome is not None:
            with session_scope(factory) as session:
                idempotency.finish(session=session, claim=outcome, status_code=200, body=body)
    except BaseException:
        if outcome is not None:
            idempotency.release(factory=factory, claim=outcome)
        raise
    return JSONResponse(body, status_code=200)


def _batch(request: Request, raw: Any, principal: Principal, *, settings: Settings) -> BatchResult:
    """Each article is stored in a transaction of its own: one holds only its own rows' locks, so
    concurrent batches of one source never deadlock, and a failure part-way keeps what was answered."""
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
            payload = _parse(item, principal)  # each item's source is checked against the key
            cleaned = service.clean_payload(payload)  # before the item's transaction opens
            with session_scope(factory) as session:
                result = _ingest_one(request, session, payload, cleaned, principal, settings=settings)
                _record(
                    session, [(payload.source, "duplicate" if result.status == "duplicate" else "accepted")]
                )
            results.append(BatchItemResult(index=index, ok=True, result=result))
        except NewswireError as exc:
            ARTICLES_REJECTED.labels(exc.error).inc()
            results.append(BatchItemResult(index=index, ok=False, error=exc.error, detail=exc.detail))
            rejected.append((_source_of(item, principal), "rejected"))
    if rejected:
        with session_scope(factory) as session:
            _record(session, rejected)
    return BatchResult(
        items=results,
        accepted=sum(1 for r in results if r.result and r.result.status != "duplicate"),
        duplicates=sum(1 for r in results if r.result and r.result.status == "duplicate"),
        rejected=sum(1 for r in results if not r.ok),
    )

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from services.api.articles import service as articles_service
from services.api.articles.endpoints import QueryDep
from services.api.articles.repository import ArticleFilter
from services.api.articles.schemas import ArticleQuery
from services.api.readdb import ReadSessionDep, read_factory
from services.api.stream import service
from shared.auth.dependencies import RequireRead
from shared.auth.ratelimit import STREAM_LEASE_SECONDS, StreamSlots, stream_slots_for
from shared.errors import RateLimited, ServiceUnavailable
from shared.http import ERROR_RESPONSES, SettingsDep
from shared.settings import Settings

router = APIRouter(
    prefix="/v1/stream", tags=["stream"], dependencies=[RequireRead], responses=ERROR_RESPONSES
)

log = structlog.get_logger("newswire.stream")

_open_streams = 0  # in this process: each one polls the database, so they are capped

SSE_DOC = """Server-Sent Events, one per newly enriched article matching the filter:

    id: <opaque position>
    event: article
    data: {"id": 42, "title": "...", "topics": [...], ...}   (the fields of a GET /v1/articles item)

A comment line (`: heartbeat`) is sent on an idle stream every NEWSWIRE_STREAM_HEARTBEAT_SECONDS, with an
`id:` line when the position moved past articles that did not match (a reconnect then skips them).
Reconnect with `Last-Event-ID` (EventSource does it by itself) to get every matching article enriched
since, none twice.  An article enriched again (reprocessing) is sent again."""


@router.get(
    "",
    summary="Live stream (SSE) of newly enriched articles matching the same filters as GET /v1/articles",
    description=SSE_DOC,
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The event stream."}},
)
async def stream(
    request: Request,
    session: ReadSessionDep,
    settings: SettingsDep,
    query: QueryDep,
    last_event_id: Annotated[
        str | None,
        Header(
            max_length=200,
            description="The `id` of the last event received: the stream resumes right after it.",
            examples=["WyJzdHJlYW0iLDQyXQ"],
        ),
    ] = None,
    limit: Annotated[
        int | None,
        Query(ge=1, le=100_000, description="End the stream after this many articles.", examples=[100]),
    ] = None,
    max_seconds: Annotated[
        float, Query(gt=0, le=86_400, description="End the stream after this many seconds.", examples=[300])
    ] = 3_600,
) -> StreamingResponse:
    f, position = await run_in_threadpool(_open, session, query, last_event_id)
    if _open_streams >= settings.stream_max_connections:
        raise ServiceUnavailable(
            f"{settings.stream_max_connections} streams are open on this server; retry later",
            headers={"Retry-After": "10"},
        )
    slot = await run_in_threadpool(_take_slot, request, settings)
    return StreamingResponse(
        _events(
            request,
            settings=settings,
            f=f,
            position=position,
            limit=limit,
            max_seconds=max_seconds,
            slot=slot,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


Slot = tuple[StreamSlots, str, str] | None  # (slots, key prefix, member) while a stream holds one


def _take_slot(request: Request, settings: Settings) -> Slot:
    """One of the key's NEWSWIRE_STREAM_MAX_PER_KEY open streams (all API processes), else 429."""
    principal = getattr(request.state, "principal", None)
    cap = settings.stream_max_per_key
    if cap <= 0 or principal is None or not settings.redis_url:
        return None
    slots = stream_slots_for(settings.redis_url)
    member = uuid.uuid4().hex
    taken = slots.acquire(principal.prefix, cap, member)
    if taken is False:
        raise RateLimited(
            f"key {principal.prefix} already has {cap} streams open (NEWSWIRE_STREAM_MAX_PER_KEY); close one "
            "or retry later",
            headers={"Retry-After": "30"},
        )
    return None if taken is None else (slots, principal.prefix, member)


def _open(session: Session, query: ArticleQuery, last_event_id: str | None) -> tuple[ArticleFilter, int]:
    f = articles_service.build_filter(session=session, query=query)
    return f, service.start_position(session=session, last_event_id=last_event_id)


async def _events(
    request: Request,
    *,
    settings: Settings,
    f: ArticleFilter,
    position: int,
    limit: int | None,
    max_seconds: float,
    slot: Slot = None,
) -> AsyncIterator[str]:
    """Poll, send, sleep; ends at `limit` articles, after `max_seconds`, or when the client goes (Starlette
    cancels this generator at its next await)."""
    global _open_streams
    factory = read_factory(request.app)

    def batch(after: int) -> tuple[int, list[tuple[int, dict[str, Any]]]]:
        with factory() as session:
            return service.next_batch(session=session, f=f, after=after)

    _open_streams += 1
    renewed = time.monotonic()
    try:
        deadline = time.monotonic() + max_seconds
        announced = position
        sent = 0
        last_write = time.monotonic()
        yield f"retry: 2000\nid: {service.event_id(position)}\n\n"
        while time.monotonic() < deadline:
            try:
                moved, items = await run_in_threadpool(batch, position)
            except DBAPIError as exc:  # end cleanly: the client reconnects with its Last-Event-ID
                log.warning("stream_database_error", error=f"{type(exc).__name__}: {exc}"[:300])
                return
            for seq, data in items:
                yield f"id: {service.event_id(seq)}\nevent: article\ndata: {json.dumps(data)}\n\n"
                announced = seq
                sent += 1
                if limit is not None and sent >= limit:
                    return
            if items:
                last_write = time.monotonic()
            if moved != position:
                position = moved
                continue  # maybe more to catch up
            if time.monotonic() - last_write >= settings.stream_heartbeat_seconds:
                moved_id = f"id: {service.event_id(position)}\n" if position != announced else ""
                yield f": heartbeat\n{moved_id}\n"
                announced = position
                last_write = time.monotonic()
            if slot is not None and time.monotonic() - renewed > STREAM_LEASE_SECONDS / 3:
                await run_in_threadpool(slot[0].renew, slot[1], slot[2])
                renewed = time.monotonic()
            await asyncio.sleep(min(settings.stream_poll_seconds, max(0.0, deadline - time.monotonic())))
        if position != announced:
            yield f"id: {service.event_id(position)}\n\n"
    finally:
        _open_streams -= 1
        if slot is not None:  # not awaited: a cancelled stream (the client went) cannot await any more
            slot[0].release(slot[1], slot[2])

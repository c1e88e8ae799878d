"""The ingest service: feeds push articles here."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import structlog
from fastapi import FastAPI
from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool

from services.enrich.queues import broker_depth
from services.ingest.articles.endpoints import router as articles_router
from services.ingest.idempotency.service import purge_expired
from services.ingest.metrics import OUTBOX_RELAYED
from services.ingest.outbox.service import relay_once
from shared import __version__
from shared.auth.dependencies import RequireAdmin
from shared.db import session_scope
from shared.http import create_base_app, health_router, set_thread_limit
from shared.settings import get_settings

log = structlog.get_logger("newswire.ingest")


def _relay_pass(redeliver_after: timedelta) -> int:
    """Publish what never reached the broker. Jobs published but never completed are redelivered only
    when the queue is empty (then they were lost: a Redis restart without its data, a flushed queue);
    with a backlog they are most likely still waiting their turn."""
    settings = get_settings()
    try:
        queue_empty = broker_depth(settings.redis_url or "", settings.enrich_queue) == 0
    except RedisError:
        queue_empty = False
    with session_scope() as session:
        purge_expired(session=session)  # idempotency records past their TTL
        return relay_once(session, redeliver_after=redeliver_after if queue_empty else None)


async def _relay_loop(interval: float, redeliver_after: timedelta) -> None:
    """Republish outbox events that were never published or never completed (Redis was down, a
    publish was lost, a process died between commit and publish)."""
    while True:
        await asyncio.sleep(interval)
        try:
            count = await run_in_threadpool(_relay_pass, redeliver_after)
            OUTBOX_RELAYED.inc(count)
        except Exception as exc:  # the relay must survive a database or broker outage
            log.warning("outbox_relay_failed", error=f"{type(exc).__name__}: {exc}"[:300])


def create_app(*, run_relay: bool = True) -> FastAPI:
    settings = get_settings()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        set_thread_limit(settings.http_threads)
        task = None
        if run_relay:
            task = asyncio.create_task(
                _relay_loop(
                    settings.outbox_relay_interval, timedelta(seconds=settings.outbox_redeliver_after)
                )
            )
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = create_base_app(
        title="Newswire ingest", service="ingest", max_body_bytes=settings.max_body_bytes, version=__version__
    )
    app.router.lifespan_context = lifespan
    app.include_router(
        health_router(metrics_dependencies=[RequireAdmin] if settings.metrics_require_key else None)
    )
    app.include_router(articles_router)
    return app

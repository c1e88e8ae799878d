"""The ingest service: feeds push articles here."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import structlog
from fastapi import FastAPI
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from services.ingest.articles.endpoints import router as articles_router
from services.ingest.idempotency.service import purge_expired
from services.ingest.metrics import OUTBOX_RELAYED
from shared import __version__
from shared.auth.dependencies import RequireAdmin
from shared.http import create_base_app, health_router
from shared.jobs.relay import relay_pass
from shared.settings import get_settings

log = structlog.get_logger("newswire.ingest")


def _purge(session: Session) -> None:
    purge_expired(session=session)  # idempotency records past their TTL


async def _relay_loop(interval: float, redeliver_after: timedelta) -> None:
    """Republish outbox events that were never published or never completed (Redis was down, a
    publish was lost, a process died between commit and publish)."""
    while True:
        await asyncio.sleep(interval)
        try:
            count = await run_in_threadpool(relay_pass, redeliver_after, housekeeping=[_purge])
            OUTBOX_RELAYED.inc(count)
        except Exception as exc:  # the relay must survive a database or broker outage
            log.warning("outbox_relay_failed", error=f"{type(exc).__name__}: {exc}"[:300])


def create_app(*, run_relay: bool = True) -> FastAPI:
    settings = get_settings()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
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

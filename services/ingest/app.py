"""The ingest service: feeds push articles here (the outbox relay and the idempotency purge run in their
own process, `newswire relay`)."""

from __future__ import annotations

import structlog
from fastapi import FastAPI

from services.ingest.articles.endpoints import router as articles_router
from services.ingest.articles.ops_endpoints import router as dedup_ops_router
from shared import __version__
from shared.http import create_base_app
from shared.settings import get_settings

log = structlog.get_logger("newswire.ingest")


def create_app() -> FastAPI:
    settings = get_settings()

    app = create_base_app(
        title="Newswire ingest",
        service="ingest",
        max_body_bytes=settings.max_body_bytes,
        threads=settings.http_threads,
        version=__version__,
    )
    app.include_router(articles_router)
    app.include_router(dedup_ops_router)
    return app

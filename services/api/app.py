"""The read API over the enriched records."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from services.api.articles.endpoints import router as articles_router
from services.api.entities.endpoints import router as entities_router
from services.api.entity_overrides.endpoints import router as entity_overrides_router
from services.api.keys.endpoints import router as keys_router
from services.api.ops.endpoints import router as ops_router
from services.api.readdb import ReadFromMiddleware
from services.api.stories.endpoints import ops_router as stories_ops_router
from services.api.stories.endpoints import router as stories_router
from services.api.stream.endpoints import router as stream_router
from services.api.subscriptions.endpoints import router as subscriptions_router
from services.api.topics.endpoints import router as topics_router
from shared import __version__
from shared.http import ETagMiddleware, create_base_app
from shared.settings import get_settings


def create_app() -> FastAPI:
    """The read API (webhooks are delivered by their own process, `newswire webhooks`)."""
    settings = get_settings()

    app = create_base_app(
        title="Newswire API",
        service="api",
        max_body_bytes=settings.max_body_bytes,
        threads=settings.http_threads,
        version=__version__,
    )
    app.include_router(articles_router)
    app.include_router(entities_router)
    app.include_router(topics_router)
    app.include_router(stories_router)
    app.include_router(ops_router)
    app.include_router(entity_overrides_router)
    app.include_router(stories_ops_router)
    app.include_router(stream_router)
    app.include_router(subscriptions_router)
    app.include_router(keys_router)
    app.add_middleware(ReadFromMiddleware)  # X-Read-From: replica | primary on the read routes
    app.add_middleware(ETagMiddleware)  # inside gzip: the tag names the uncompressed answer
    app.add_middleware(GZipMiddleware, minimum_size=settings.gzip_min_bytes)
    return app


def create_serving_app() -> FastAPI:
    """What `newswire serve api` runs."""
    return create_app()

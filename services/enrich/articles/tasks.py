"""Celery tasks: take ids, re-read the row, call the service, idempotent."""

from __future__ import annotations

import random
import time
from typing import Any

import structlog
from celery import Task
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, OperationalError

from services.enrich.articles import service
from services.enrich.celery_app import ENRICH_TASK, celery_app
from services.enrich.metrics import (
    DEAD_LETTERED,
    FAILURES,
    LAG_PUBLISHED,
    LAG_RECEIVED,
    MODEL_LOAD_SECONDS,
    RETRIES,
    TASK_SECONDS,
    TASKS,
    error_type,
)
from services.enrich.nlp import Enricher
from shared.db import session_scope
from shared.settings import get_settings

log = structlog.get_logger("newswire.enrich")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    RedisConnectionError,
    RedisTimeoutError,
    KombuOperationalError,
    ConnectionError,
    TimeoutError,
)

_enricher: Enricher | None = None


def get_enricher() -> Enricher:
    """Models load once per worker process, on first use (after the fork)."""
    global _enricher
    if _enricher is None:
        settings = get_settings()
        model = settings.spacy_model
        start = time.perf_counter()
        try:
            _enricher = Enricher(model, topic_threshold=settings.topic_threshold)
        except Exception:
            MODEL_LOAD_SECONDS.labels(model, "error").observe(time.perf_counter() - start)
            raise
        MODEL_LOAD_SECONDS.labels(model, "ok").observe(time.perf_counter() - start)
    return _enricher


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, TRANSIENT_ERRORS)


def backoff_seconds(retries: int, *, cap: float) -> float:
    """Exponential backoff (1, 2, 4 ... s, capped) times a random factor in [0.5, 1.5)."""
    base: float = min(cap, 2.0**retries)
    return base * (0.5 + random.random())


def run_enrich(article_id: int, *, attempts: int = 1) -> str:
    with session_scope() as session:
        item = service.load_input(session=session, article_id=article_id)
        if item is not None:
            service.mark_started(session=session, article_id=article_id)
    if item is None:
        return "missing"
    enrichment = service.enrich_input(item=item, enricher=get_enricher())
    lags = None
    with session_scope() as session:
        outcome = service.save_enrichment(
            session=session, item=item, enrichment=enrichment, attempts=attempts
        )
        if outcome == "enriched":
            lags = service.lags(session=session, article_id=article_id)
    if lags is not None:  # committed: the article is available now
        if lags.from_received_s is not None:
            LAG_RECEIVED.observe(lags.from_received_s)
        if lags.from_published_s is not None:
            LAG_PUBLISHED.observe(lags.from_published_s)
    return outcome


def _fail(article_id: int, exc: BaseException, attempts: int) -> None:
    error = f"{type(exc).__name__}: {exc}"
    try:
        with session_scope() as session:
            service.mark_failed(session=session, article_id=article_id, error=error, attempts=attempts)
    except Exception:
        log.exception("mark_failed_failed", article_id=article_id)
        raise
    DEAD_LETTERED.labels(error_type(exc)).inc()
    log.error("article_failed", article_id=article_id, error=error[:500], attempts=attempts)


def _retry_later(task: Task[Any, Any], exc: Exception, event: str, *, max_retries: int) -> BaseException:
    """Count, log and schedule a retry of ``task`` after a jittered backoff; the exception to raise."""
    retries = int(task.request.retries or 0)
    RETRIES.labels(error_type(exc)).inc()
    TASKS.labels("retry").inc()
    countdown = backoff_seconds(retries, cap=get_settings().task_retry_backoff_max)
    log.warning(
        event, error=f"{type(exc).__name__}: {exc}"[:300], retries=retries, countdown=round(countdown, 2)
    )
    return task.retry(exc=exc, countdown=countdown, max_retries=max_retries)


@celery_app.task(name=ENRICH_TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
def enrich_article(self: Task[Any, Any], article_id: int, outbox_id: int | None = None) -> str:
    settings = get_settings()
    request_id = getattr(self.request, "request_id", None) or (self.request.headers or {}).get("request_id")
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(
        service="enrich", article_id=article_id, request_id=request_id, task_id=self.request.id
    )
    retries = int(self.request.retries or 0)
    start = time.perf_counter()
    try:
        outcome = run_enrich(article_id, attempts=retries + 1)
    except Exception as exc:
        FAILURES.labels(error_type(exc)).inc()
        if is_transient(exc) and retries < settings.task_max_retries:
            TASK_SECONDS.labels("retry").observe(time.perf_counter() - start)
            raise _retry_later(self, exc, "enrich_retry", max_retries=settings.task_max_retries) from exc
        try:
            _fail(article_id, exc, attempts=retries + 1)
        except Exception as fail_exc:
            if not is_transient(fail_exc):
                raise
            # The database is down, so the article cannot even be marked failed. Giving up now would
            # ack the message (acks_late acks a task that raised) and leave the article queued until
            # the outbox relay redelivers it; instead try again later, past the retry limit.
            raise _retry_later(self, fail_exc, "enrich_fail_deferred", max_retries=retries + 1) from fail_exc
        TASKS.labels("failed").inc()
        TASK_SECONDS.labels("failed").observe(time.perf_counter() - start)
        return "failed"
    TASKS.labels(outcome).inc()
    TASK_SECONDS.labels(outcome).observe(time.perf_counter() - start)
    log.info("enrich_done", outcome=outcome, outbox_id=outbox_id)
    return outcome

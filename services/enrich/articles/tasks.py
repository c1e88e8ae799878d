"""Celery tasks: take ids, re-read the row, call the service, idempotent."""

from __future__ import annotations

import os
import random
import time
from datetime import timedelta
from typing import Any

import structlog
from celery import Task
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from services.enrich.articles import service
from services.enrich.celery_app import ENRICH_TASK, celery_app
from services.enrich.metrics import (
    DEAD_LETTERED,
    DUPLICATES,
    FAILURES,
    LAG_PUBLISHED,
    LAG_RECEIVED,
    MODEL_LOAD_SECONDS,
    POISONED,
    RETRIES,
    TASK_SECONDS,
    TASKS,
    error_type,
)
from services.enrich.nlp import Enricher, Enrichment
from shared.db import session_scope
from shared.jobs.broker import broker_url
from shared.jobs.outbox import publish_now
from shared.jobs.queues import DEPTH_ERRORS, broker_depth
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
            _enricher = Enricher(
                model,
                topic_threshold=settings.topic_threshold,
                multilingual=settings.multilingual_embedding,
            )
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


def batch_limit() -> int:
    """How many other queued articles a task takes into its model call: none unless the broker queue is
    at least NEWSWIRE_ENRICH_BATCH_MIN_DEPTH deep (below that, a batch would only delay its articles)."""
    settings = get_settings()
    if settings.enrich_batch_size <= 1:
        return 0
    try:
        depth = broker_depth(broker_url(settings), settings.enrich_queue)
    except DEPTH_ERRORS:
        return 0
    return settings.enrich_batch_size - 1 if depth >= settings.enrich_batch_min_depth else 0


def _save(item: service.EnrichInput, result: Enrichment | Exception, *, attempts: int, outbox_id: int | None,
          factory: sessionmaker[Session] | None) -> str:  # fmt: skip
    """Write one article's enrichment in its own transaction (or raise the error it got instead)."""
    if isinstance(result, Exception):
        raise result
    lags = None
    with session_scope(factory) as session:
        outcome = service.save_enrichment(
            session=session, item=item, enrichment=result, attempts=attempts, outbox_id=outbox_id
        )
        if outcome == "enriched":
            lags = service.lags(session=session, article_id=item.article_id)
    if outcome == "duplicate":
        DUPLICATES.labels("saved_elsewhere").inc()
    if lags is not None:  # committed: the article is available now
        if lags.from_received_s is not None:
            LAG_RECEIVED.observe(lags.from_received_s)
        if lags.from_published_s is not None:
            LAG_PUBLISHED.observe(lags.from_published_s)
    return outcome


def _requeue_alone(claimed: service.Claimed, exc: Exception, factory: sessionmaker[Session] | None) -> None:
    """A batched article that failed goes back to the queue as its own job: its own task then retries
    or fails it alone. If even that fails, the relay redelivers the job (its lease runs out)."""
    log.warning(
        "batch_article_requeued",
        other_article_id=claimed.item.article_id,
        error=f"{type(exc).__name__}: {exc}"[:300],
    )
    try:
        with session_scope(factory) as session:
            service.run_alone(session=session, outbox_id=claimed.outbox_id)
        publish_now(ids=[claimed.outbox_id], factory=factory)
    except Exception:
        log.exception("batch_requeue_failed", other_article_id=claimed.item.article_id)


def worker_lease() -> timedelta:
    """How long a started job is this worker's: the hard time limit, then the relay's redelivery delay."""
    settings = get_settings()
    return timedelta(seconds=settings.task_time_limit + settings.outbox_redeliver_after)


def _chaos_poison(items: list[service.EnrichInput]) -> None:
    """Test only (`newswire chaos`): die like a worker hitting a fatal bug when an article's title
    carries the run's random marker. Inert unless NEWSWIRE_CHAOS_POISON_MARKER is set (a random
    ``chaos-poison-<32 hex>`` token) and the database is on loopback."""
    settings = get_settings()
    marker = settings.chaos_poison_marker
    if not marker or not _database_on_loopback(settings.database_url):
        return
    if any(marker in item.title for item in items):
        log.error("chaos_poison_exit", article_ids=[i.article_id for i in items])
        os._exit(70)


def _database_on_loopback(url: str | None) -> bool:
    if not url:
        return False
    host = make_url(url).host or ""
    return host in ("127.0.0.1", "localhost", "::1")


def run_enrich(
    article_id: int,
    *,
    attempts: int = 1,
    outbox_id: int | None = None,
    batch: int = 0,
    factory: sessionmaker[Session] | None = None,
    count_attempt: bool = True,
) -> str:
    """Start the job (a committed transaction before any work: the attempt is counted, a duplicate
    message stops here), enrich the article and, with ``batch`` > 0, up to that many other queued
    articles in the same model call. Each article is saved in its own transaction; a batched article
    that fails is requeued alone; this article's own error is raised (the task retries or fails it)."""
    settings = get_settings()
    with session_scope(factory) as session:
        started = service.start(
            session=session,
            article_id=article_id,
            outbox_id=outbox_id,
            count_attempt=count_attempt,
            max_attempts=settings.enrich_max_attempts,
            lease=worker_lease(),
        )
        if started.state != "run" or started.item is None:
            claimed: list[service.Claimed] = []
        else:
            claimed = service.claim_batch(
                session=session,
                article_id=article_id,
                limit=0 if started.alone else batch,
                task=ENRICH_TASK,
                lease=worker_lease(),
            )
    if started.state in ("done", "batched"):
        DUPLICATES.labels(started.state).inc()
        return "duplicate" if started.state == "done" else "batched"
    if started.state == "poison":
        POISONED.inc()
        return "poison"
    if started.item is None:
        return "missing"
    item = started.item
    items = [item, *(c.item for c in claimed)]
    _chaos_poison(items)
    results = service.enrich_inputs(
        items=items, enricher=get_enricher(), batch_size=settings.enrich_batch_size
    )
    for other, result in zip(claimed, results[1:], strict=True):
        try:
            outcome = _save(other.item, result, attempts=1, outbox_id=other.outbox_id, factory=factory)
        except Exception as exc:
            _requeue_alone(other, exc, factory)
            continue
        TASKS.labels(outcome).inc()
    return _save(item, results[0], attempts=attempts, outbox_id=outbox_id, factory=factory)


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


# No reject_on_worker_lost: a message whose worker died is acknowledged, and the job's lease in the
# outbox brings it back (counted per article in PostgreSQL: past NEWSWIRE_ENRICH_MAX_ATTEMPTS it is
# poison) instead of an endless requeue. Time limits: NEWSWIRE_TASK_SOFT_TIME_LIMIT / _TIME_LIMIT.
@celery_app.task(name=ENRICH_TASK, bind=True, acks_late=True, reject_on_worker_lost=False)
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
        outcome = run_enrich(
            article_id,
            attempts=retries + 1,
            outbox_id=outbox_id,
            batch=batch_limit(),
            # a Celery retry follows an attempt that ended (it raised): only a first delivery counts
            count_attempt=retries == 0,
        )
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

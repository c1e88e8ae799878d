"""Queue statistics for operators: broker depth, worker activity, article outcomes, rates, oldest item.

Used by `newswire queues`, `GET /v1/ops/queues` and the API's scrape-time Prometheus gauges."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import redis
from amqp.exceptions import AMQPError, NotFound
from celery import Celery
from celery.exceptions import DuplicateNodenameWarning
from kombu import Connection
from kombu.exceptions import OperationalError as KombuOperationalError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.jobs.broker import is_amqp
from shared.models import Article, ArticleStatus, OutboxEvent
from shared.redisconn import redis_client
from shared.settings import get_settings

RATE_KINDS = ("received", "enriched", "failed")


@dataclass(slots=True)
class ArticleFigures:
    """What the database says about the work (one consistent read)."""

    statuses: dict[str, int] = field(default_factory=dict)  # articles by status
    retried_articles: int = 0  # articles that needed more than one attempt
    outbox_pending: int = 0  # jobs not yet completed by a worker
    outbox_unpublished: int = 0  # jobs that never reached the broker
    oldest_queued_id: int | None = None  # the article waiting longest
    oldest_queued_age_s: float | None = None  # seconds since it was queued (or received)
    recent: dict[str, int] = field(default_factory=dict)  # received/enriched/failed within the window
    window_s: float = 300.0


@dataclass(slots=True)
class QueueStats:
    queue: str
    depth: int | None  # messages waiting in the broker (None: broker unreachable)
    workers: list[str] = field(default_factory=list)
    active: int = 0  # running now
    reserved: int = 0  # prefetched by a worker, not started
    retrying: int = 0  # waiting for their retry countdown
    statuses: dict[str, int] = field(default_factory=dict)  # articles by status
    retried_articles: int = 0  # articles that needed more than one attempt
    outbox_pending: int = 0  # jobs not yet completed by a worker
    outbox_unpublished: int = 0  # jobs that never reached the broker
    oldest_queued_id: int | None = None
    oldest_queued_age_s: float | None = None
    rates: dict[str, float] = field(default_factory=dict)  # per minute over the window, by RATE_KINDS
    window_s: float = 300.0
    database: bool = False  # whether the database figures were read
    errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return self.statuses.get(ArticleStatus.FAILED.value, 0)


def queue_depth(client: redis.Redis, queue: str) -> int:
    """Messages waiting in `queue`, read with an open client (one round trip)."""
    # kombu keeps a Redis list per queue (plus one per priority level when priorities are used)
    keys = [queue, *(f"{queue}\x06\x16{p}" for p in range(1, 10))]
    pipe = client.pipeline(transaction=False)
    for k in keys:
        pipe.llen(k)
    return sum(int(n) for n in pipe.execute())


class BrokerUnavailable(Exception):
    """The broker did not answer the depth question (in time)."""


def broker_depth(url: str, queue: str) -> int:
    """Messages waiting in `queue` on the broker at `url` (Redis or RabbitMQ); the waits are bounded
    (NEWSWIRE_REDIS_SOCKET_TIMEOUT / NEWSWIRE_REDIS_CONNECT_TIMEOUT). Raises redis.RedisError or
    BrokerUnavailable when the broker does not answer, ValueError for no or a malformed URL."""
    if is_amqp(url):
        return _amqp_depth(url, queue)
    client = redis_client(url)
    try:
        return queue_depth(client, queue)
    finally:
        client.close()


#: What `broker_depth` raises when it cannot tell.
DEPTH_ERRORS: tuple[type[Exception], ...] = (redis.RedisError, BrokerUnavailable, ValueError)


def _amqp_depth(url: str, queue: str) -> int:
    settings = get_settings()
    wait = settings.redis_socket_timeout
    try:
        with Connection(
            url,
            connect_timeout=settings.redis_connect_timeout,
            transport_options={"read_timeout": wait, "write_timeout": wait},
        ) as conn:
            try:  # passive: ask about the queue without creating it
                channel: Any = conn.channel()
                return int(channel.queue_declare(queue=queue, passive=True).message_count)
            except NotFound:  # not declared yet: nothing waits in it
                return 0
    except NotFound:
        return 0
    except (OSError, AMQPError, KombuOperationalError) as exc:
        raise BrokerUnavailable(f"{type(exc).__name__}: {exc}") from exc


def article_figures(session: Session, *, window_s: float = 300.0) -> ArticleFigures:
    figures = ArticleFigures(window_s=window_s)
    rows = session.execute(select(Article.status, func.count()).group_by(Article.status))
    figures.statuses = {status: int(count) for status, count in rows}
    figures.retried_articles = int(session.scalar(select(func.count()).where(Article.attempts > 1)) or 0)
    figures.outbox_pending = int(
        session.scalar(select(func.count()).where(OutboxEvent.completed_at.is_(None))) or 0
    )
    figures.outbox_unpublished = int(
        session.scalar(
            select(func.count()).where(OutboxEvent.completed_at.is_(None), OutboxEvent.published_at.is_(None))
        )
        or 0
    )
    waiting_since = func.coalesce(Article.queued_at, Article.received_at, Article.created_at)
    oldest = session.execute(
        select(Article.id, func.extract("epoch", func.now() - waiting_since))
        .where(Article.status == ArticleStatus.QUEUED)
        .order_by(Article.id)
        .limit(1)
    ).first()
    if oldest is not None:
        figures.oldest_queued_id = int(oldest[0])
        figures.oldest_queued_age_s = max(0.0, float(oldest[1]))
    since = func.now() - timedelta(seconds=window_s)
    columns = {"received": Article.received_at, "enriched": Article.enriched_at, "failed": Article.failed_at}
    for kind, column in columns.items():
        figures.recent[kind] = int(session.scalar(select(func.count()).where(column > since)) or 0)
    return figures


def collect(
    *,
    session: Session | None,
    celery: Celery | None,
    broker_url: str,
    queue: str,
    timeout: float = 1.0,
    window_s: float = 300.0,
) -> QueueStats:
    """Everything an operator wants to know about one queue; what cannot be read is listed in `errors`.

    `celery=None` skips asking the workers (a broadcast that waits `timeout` seconds)."""
    stats = QueueStats(queue=queue, depth=None, window_s=window_s)
    if celery is not None:
        try:
            inspect = celery.control.inspect(timeout=timeout)
            # two workers with one node name make Celery warn on stderr, which would tear the live view:
            # the warning is shown as one of the view's errors instead
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", DuplicateNodenameWarning)
                consumers = inspect.active_queues() or {}
                active = inspect.active() or {}
                reserved = inspect.reserved() or {}
                scheduled = inspect.scheduled() or {}
            # every worker on the broker answers a broadcast: count those consuming this queue only
            # (another app's, or another queue's, workers may share the Redis)
            ours = {node for node, queues in consumers.items() if any(q.get("name") == queue for q in queues)}
            stats.workers = sorted(ours)
            for warning in caught:
                if not issubclass(warning.category, DuplicateNodenameWarning):
                    warnings.warn(warning.message, stacklevel=1)
                    continue
                first = str(warning.message).strip().replace("\n", " ").split(". ")[0]
                error = f"workers: {first}: two workers share a name, give each a unique --hostname"
                if error not in stats.errors:
                    stats.errors.append(error)
            stats.active = sum(len(v) for node, v in active.items() if node in ours)
            stats.reserved = sum(len(v) for node, v in reserved.items() if node in ours)
            stats.retrying = sum(len(v) for node, v in scheduled.items() if node in ours)
        except Exception as exc:  # a monitoring view reports what it cannot see
            stats.errors.append(f"workers: {type(exc).__name__}: {exc}")
    # read right before the database figures (after the seconds the broadcasts take), so the depth
    # and the article counts describe the same moment
    try:
        stats.depth = broker_depth(broker_url, queue)
    except DEPTH_ERRORS as exc:  # ValueError: no or a malformed URL
        stats.errors.append(f"broker: {type(exc).__name__}: {exc}")
    if session is not None:
        figures = article_figures(session, window_s=window_s)
        stats.database = True
        stats.statuses = figures.statuses
        stats.retried_articles = figures.retried_articles
        stats.outbox_pending = figures.outbox_pending
        stats.outbox_unpublished = figures.outbox_unpublished
        stats.oldest_queued_id = figures.oldest_queued_id
        stats.oldest_queued_age_s = figures.oldest_queued_age_s
        minutes = window_s / 60.0
        stats.rates = {kind: figures.recent.get(kind, 0) / minutes for kind in RATE_KINDS}
    return stats

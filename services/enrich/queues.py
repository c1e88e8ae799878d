"""Queue statistics for operators: broker depth, worker activity, article outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis
from celery import Celery
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.models import Article, OutboxEvent


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
    database: bool = False  # whether the database figures were read
    errors: list[str] = field(default_factory=list)


def broker_depth(redis_url: str, queue: str) -> int:
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        # kombu keeps a Redis list per queue (plus one per priority level when priorities are used)
        keys = [queue, *(f"{queue}\x06\x16{p}" for p in range(1, 10))]
        return sum(int(client.llen(k)) for k in keys)
    finally:
        client.close()


def collect(
    *, session: Session | None, celery: Celery, redis_url: str, queue: str, timeout: float = 1.0
) -> QueueStats:
    stats = QueueStats(queue=queue, depth=None)
    try:
        stats.depth = broker_depth(redis_url, queue)
    except redis.RedisError as exc:
        stats.errors.append(f"broker: {type(exc).__name__}: {exc}")
    try:
        inspect = celery.control.inspect(timeout=timeout)
        active = inspect.active() or {}
        reserved = inspect.reserved() or {}
        scheduled = inspect.scheduled() or {}
        stats.workers = sorted(set(active) | set(reserved) | set(scheduled))
        stats.active = sum(len(v) for v in active.values())
        stats.reserved = sum(len(v) for v in reserved.values())
        stats.retrying = sum(len(v) for v in scheduled.values())
    except Exception as exc:  # a monitoring view reports what it cannot see
        stats.errors.append(f"workers: {type(exc).__name__}: {exc}")
    if session is not None:
        stats.database = True
        rows = session.execute(select(Article.status, func.count()).group_by(Article.status))
        stats.statuses = {status: int(count) for status, count in rows}
        stats.retried_articles = int(session.scalar(select(func.count()).where(Article.attempts > 1)) or 0)
        stats.outbox_pending = int(
            session.scalar(select(func.count()).where(OutboxEvent.completed_at.is_(None))) or 0
        )
    return stats

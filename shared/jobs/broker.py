"""The broker side of jobs: the task name, the Celery configuration, and publishing by name.

Importing this module is cheap (no models, no task modules): every service publishes with `publisher()`
(a Celery app that only sends), the worker builds its own app with `create_celery(include=[...])`."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from celery import Celery
from kombu import Queue

from shared.settings import Settings, get_settings

#: The one enrich task, published by name (the worker registers it under this name).
ENRICH_TASK = "newswire.enrich_article"

# The longest task (one huge article through spaCy) takes well under a minute; a message not acked
# within the visibility timeout is redelivered to another worker.
VISIBILITY_TIMEOUT_S = 3600


def broker_url(settings: Settings) -> str:
    if not settings.redis_url:
        raise RuntimeError("NEWSWIRE_REDIS_URL is not set (use `newswire run` for an embedded Redis)")
    return settings.redis_url


def create_celery(
    settings: Settings | None = None, *, include: list[str] | None = None, set_as_current: bool = True
) -> Celery:
    settings = settings or get_settings()
    app = Celery("newswire", include=include or [], set_as_current=set_as_current)
    conf: dict[str, Any] = {
        "broker_url": settings.redis_url or "redis://127.0.0.1:6379/0",
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 3,
        "broker_transport_options": {
            "visibility_timeout": VISIBILITY_TIMEOUT_S,
            "socket_connect_timeout": 3,
            "socket_timeout": 10,
        },
        "task_default_queue": settings.enrich_queue,
        "task_queues": [Queue(settings.enrich_queue)],
        "task_routes": {ENRICH_TASK: {"queue": settings.enrich_queue}},
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "result_backend": None,
        "task_acks_late": True,
        # a dead worker's message is not requeued forever: the outbox lease redelivers the job, and the
        # article's attempt count in PostgreSQL fails a poison article (services.enrich.articles.tasks)
        "task_reject_on_worker_lost": False,
        "task_soft_time_limit": settings.task_soft_time_limit,
        "task_time_limit": settings.task_time_limit,
        "worker_prefetch_multiplier": 1,
        "worker_concurrency": settings.worker_concurrency,
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "worker_hijack_root_logger": False,
        "task_publish_retry_policy": {
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 1,
        },
    }
    app.conf.update(conf)
    return app


@lru_cache(maxsize=1)
def publisher() -> Celery:
    """The process's publishing app (sends by task name, asks the workers for the queue figures)."""
    return create_celery(set_as_current=False)


def send_enrich(*, article_id: int, outbox_id: int | None, request_id: str | None) -> None:
    """Publish one enrich job (raises kombu/redis errors if the broker is unreachable)."""
    publisher().send_task(
        ENRICH_TASK,
        args=[article_id],
        kwargs={"outbox_id": outbox_id},
        queue=get_settings().enrich_queue,
        headers={"request_id": request_id} if request_id else None,
    )

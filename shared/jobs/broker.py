"""The broker side of jobs: the task name, the Celery configuration, and publishing by name.

Importing this module is cheap (no models, no task modules): every service publishes with `publisher()`
(a Celery app that only sends), the worker builds its own app with `create_celery(include=[...])`."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from celery import Celery
from kombu import Exchange, Queue

from shared.jobs.redis_transport import TRANSPORT as REDIS_TRANSPORT
from shared.settings import Settings, get_settings

#: The one enrich task, published by name (the worker registers it under this name).
ENRICH_TASK = "newswire.enrich_article"

# The longest task (one huge article through spaCy) takes well under a minute; a message not acked
# within the visibility timeout is redelivered to another worker.
VISIBILITY_TIMEOUT_S = 3600


def broker_url(settings: Settings) -> str:
    """NEWSWIRE_BROKER_URL, else the Redis of NEWSWIRE_REDIS_URL ("" when neither is set)."""
    return settings.broker_url or settings.redis_url or ""


def is_amqp(url: str) -> bool:
    return url.split("://", 1)[0].lower() in ("amqp", "amqps", "pyamqp")


def uses_amqp(settings: Settings) -> bool:
    """Whether Celery runs on RabbitMQ (NEWSWIRE_BROKER_URL=amqp://...)."""
    return is_amqp(broker_url(settings))


def _broker_conf(settings: Settings) -> dict[str, Any]:
    """What differs between the brokers: the queue and the transport's bounded waits."""
    queue = settings.enrich_queue
    if uses_amqp(settings):
        # a quorum queue (replicated, durable; a message survives a broker node) bound to a topic exchange,
        # which Celery's native delayed delivery (retries with a countdown on quorum queues) needs
        return {
            "broker_url": broker_url(settings),
            "broker_transport_options": {
                "confirm_publish": True,  # a publish returns once RabbitMQ has the message
                "read_timeout": settings.redis_socket_timeout,
                "write_timeout": settings.redis_socket_timeout,
            },
            "broker_heartbeat": 30,
            "task_queues": [
                Queue(
                    queue,
                    Exchange(queue, type="topic"),
                    routing_key=queue,
                    durable=True,
                    queue_arguments={"x-queue-type": "quorum"},
                )
            ],
            "task_default_exchange": queue,
            "task_default_exchange_type": "topic",
            "task_default_routing_key": queue,
            "task_routes": {ENRICH_TASK: {"queue": queue, "exchange": queue, "routing_key": queue}},
        }
    return {
        "broker_url": broker_url(settings) or "redis://127.0.0.1:6379/0",
        # kombu's Redis transport, except that an ack which times out frees its prefetch slot
        "broker_transport": REDIS_TRANSPORT,
        "broker_transport_options": {
            "visibility_timeout": VISIBILITY_TIMEOUT_S,
            "socket_connect_timeout": settings.redis_connect_timeout,
            "socket_timeout": settings.redis_socket_timeout,
        },
        "task_queues": [Queue(queue)],
        "task_routes": {ENRICH_TASK: {"queue": queue}},
    }


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration of every app of the platform (the worker's, the publishers')."""
    return {
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 3,
        "task_default_queue": settings.enrich_queue,
        **_broker_conf(settings),
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


def create_celery(
    settings: Settings | None = None, *, include: list[str] | None = None, set_as_current: bool = True
) -> Celery:
    app = Celery("newswire", include=include or [], set_as_current=set_as_current)
    app.conf.update(celery_config(settings or get_settings()))
    return app


def publisher() -> Celery:
    """The process's publishing app (sends by task name, asks the workers for the queue figures), one
    per broker and queue (a test or a command that changes the settings gets its own)."""
    settings = get_settings()
    return _publisher(broker_url(settings), settings.enrich_queue)


@lru_cache(maxsize=4)
def _publisher(url: str, queue: str) -> Celery:
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

"""RabbitMQ as the broker (NEWSWIRE_BROKER_URL=amqp://...): the enrich queue is a quorum queue, jobs
are published with confirms, and the queue depth is read from RabbitMQ. RabbitMQ runs on the
development and CI machines at 127.0.0.1:5672 (guest/guest)."""

from __future__ import annotations

import contextlib
import os

import pytest
from amqp.exceptions import PreconditionFailed
from kombu import Connection

from shared.jobs.broker import ENRICH_TASK, broker_url, create_celery, uses_amqp
from shared.jobs.queues import broker_depth
from shared.settings import Settings, get_settings
from tests.conftest import RUN_ID

RABBITMQ_URL = os.environ.get("NEWSWIRE_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


def require_rabbitmq() -> None:
    try:
        with Connection(RABBITMQ_URL, connect_timeout=2) as conn:
            conn.connect()
    except Exception as exc:
        message = f"RabbitMQ at {RABBITMQ_URL} is unreachable: {type(exc).__name__}: {exc}"
        if get_settings().require_services:
            pytest.fail(message + " (NEWSWIRE_REQUIRE_SERVICES=1)")
        pytest.skip(message)


def delete_queue(queue: str) -> None:
    with contextlib.suppress(Exception), Connection(RABBITMQ_URL, connect_timeout=2) as conn:
        conn.channel().queue_delete(queue)


def test_the_broker_is_redis_unless_an_amqp_url_is_set() -> None:
    assert broker_url(Settings(redis_url="redis://r:6379/0")) == "redis://r:6379/0"
    settings = Settings(redis_url="redis://r:6379/0", broker_url=RABBITMQ_URL)
    assert broker_url(settings) == RABBITMQ_URL
    assert uses_amqp(settings)
    assert not uses_amqp(Settings(redis_url="redis://r:6379/0"))


def test_jobs_go_to_a_quorum_queue_whose_depth_is_read_from_rabbitmq() -> None:
    require_rabbitmq()
    queue = f"enrich-rmq-it-{RUN_ID}"
    settings = Settings(broker_url=RABBITMQ_URL, enrich_queue=queue)
    app = create_celery(settings, set_as_current=False)
    try:
        assert app.conf.broker_transport_options["confirm_publish"] is True
        for article_id in (1, 2, 3):
            app.send_task(ENRICH_TASK, args=[article_id], kwargs={"outbox_id": None}, queue=queue)
        assert broker_depth(RABBITMQ_URL, queue) == 3
        # the queue RabbitMQ holds is a quorum queue: declaring it as a classic one is refused
        with Connection(RABBITMQ_URL, connect_timeout=2) as conn, pytest.raises(PreconditionFailed):
            conn.channel().queue_declare(queue, durable=True, arguments={"x-queue-type": "classic"})
    finally:
        delete_queue(queue)
        app.close()
    assert broker_depth(RABBITMQ_URL, f"no-such-queue-{RUN_ID}") == 0  # not declared yet: nothing waits

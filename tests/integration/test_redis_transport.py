"""A worker whose ack times out (Redis hung) must go on consuming: shared.jobs.redis_transport.

Kombu's own Redis QoS keeps the prefetch slot of a message whose ack failed, so a worker with a
prefetch of one never asks Redis for another message (the chaos run's redis-hang fault left a worker
idle with the queue full). The stock transport is run beside ours so the test shows the difference."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from kombu import Connection, Exchange, Queue
from kombu.transport import redis as kombu_redis

from shared.jobs import redis_transport

PAUSE_MS = 1500
SOCKET_TIMEOUT_S = 0.3


@pytest.fixture
def queue_name(redis_client: redis.Redis) -> Iterator[str]:
    name = f"test-ack-{uuid.uuid4().hex[:8]}"
    yield name
    redis_client.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")


def _ack_during_pause(redis_url: str, queue_name: str, transport: type) -> tuple[bool, bool, int]:
    """Take one message with a prefetch of one, ack it while Redis pauses writes; returns
    (whether the ack raised, whether the channel may take another message, messages left unacked)."""
    queue = Queue(queue_name, Exchange(queue_name), routing_key=queue_name)
    with Connection(
        redis_url, transport=transport, transport_options={"socket_timeout": SOCKET_TIMEOUT_S}
    ) as conn:
        channel: Any = conn.channel()
        queue(channel).declare()
        producer = conn.Producer(channel)
        for n in range(2):
            producer.publish({"n": n}, exchange=queue.exchange, routing_key=queue_name)
        channel.basic_qos(0, 1, False)
        message = queue(channel).get(no_ack=False)
        assert message is not None
        assert message.payload == {"n": 0}
        assert not channel.qos.can_consume()  # the one slot is taken until the ack

        admin = redis.Redis.from_url(redis_url)
        try:
            unacked_key = channel.qos.unacked_key
            admin.client_pause(PAUSE_MS, all=False)  # writes wait; the ack is a write
            try:
                message.ack()
                raised = False
            except redis.exceptions.TimeoutError:
                raised = True
            can_consume = channel.qos.can_consume()
            admin.client_unpause()
            left = int(admin.hlen(unacked_key))
            admin.delete(unacked_key, channel.qos.unacked_index_key)
        finally:
            admin.client_unpause()
            admin.close()
        queue(channel).purge()
        channel.close()
    return raised, can_consume, left


def test_a_timed_out_ack_frees_the_prefetch_slot(redis_url: str, queue_name: str) -> None:
    raised, can_consume, left = _ack_during_pause(redis_url, queue_name, redis_transport.Transport)
    assert raised  # Celery logs "Couldn't ack" and goes on
    assert can_consume  # the worker asks for its next message
    assert left == 1  # the message stays in the unacked index: redelivered after the visibility timeout


def test_the_stock_transport_keeps_the_slot(redis_url: str, queue_name: str) -> None:
    """What the repair is for: if kombu ever frees the slot itself, this fails and the module can go."""
    raised, can_consume, _ = _ack_during_pause(redis_url, queue_name, kombu_redis.Transport)
    assert raised
    assert not can_consume

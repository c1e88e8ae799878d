"""Kombu's Redis transport with one repair: an ack that fails still frees its prefetch slot.

With acks_late and a prefetch of one, a worker holds one unacked message at a time. Kombu's Redis QoS
removes a message from its local "delivered" set only after the Redis commands of the ack succeed; when
Redis hangs long enough for the ack to time out (``redis.exceptions.TimeoutError``), Celery logs
"Couldn't ack ..." and goes on, but the slot stays taken, ``can_consume()`` is false for ever and the
worker never sends another BRPOP: it sits idle while the queue grows (seen in the chaos run's
``redis-hang`` fault). Here the slot is freed whatever Redis answered. The message itself stays in
Redis's unacked index and comes back after the visibility timeout; the task is idempotent (the
article's lease in PostgreSQL says it is done), and the outbox relay republishes any job whose lease
expired long before that, so nothing waits on the redelivery.

Selected by ``broker_transport`` in :mod:`shared.jobs.broker` for ``redis://`` brokers."""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis
from kombu.transport.virtual import QoS as VirtualQoS


class QoS(kombu_redis.QoS):
    def ack(self, delivery_tag: Any) -> None:
        try:
            super().ack(delivery_tag)
        except BaseException:
            VirtualQoS.ack(self, delivery_tag)  # the local bookkeeping only: frees the prefetch slot
            raise

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        try:
            super().reject(delivery_tag, requeue=requeue)
        except BaseException:
            VirtualQoS.ack(self, delivery_tag)
            raise


class Channel(kombu_redis.Channel):
    QoS = QoS


class Transport(kombu_redis.Transport):
    Channel = Channel


#: the ``broker_transport`` value that selects this module's transport
TRANSPORT = f"{__name__}:Transport"

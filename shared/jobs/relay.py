"""The outbox relay: publishes jobs that never reached the broker, and redelivers lost ones.

Runs as its own process (`newswire relay`): a pass every `NEWSWIRE_OUTBOX_RELAY_INTERVAL` seconds,
plus whatever housekeeping the command adds (the idempotency purge). It survives database and broker
outages: a failed pass is logged and the next one tries again."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import timedelta

import structlog
from prometheus_client import Counter, Gauge
from sqlalchemy.orm import Session

from shared.db import session_scope
from shared.jobs.outbox import relay_once

log = structlog.get_logger("newswire.relay")

OUTBOX_RELAYED = Counter("newswire_outbox_relayed_total", "Outbox events published by the relay")
LAST_PASS = Gauge("newswire_relay_last_pass_timestamp_seconds", "When the relay last finished a pass")

#: Work done in the relay's transaction before each pass (e.g. purging expired idempotency records).
Housekeeping = Callable[[Session], object]


def relay_pass(redeliver_after: timedelta, *, housekeeping: Sequence[Housekeeping] = ()) -> int:
    """Publish what never reached the broker, and republish the jobs whose lease ran out (lost in the
    broker, or their worker died), whatever the queue depth: the lease doubles with each republish, and
    a message whose job is already completed is a no-op for the worker."""
    if housekeeping:
        with session_scope() as session:
            for job in housekeeping:
                job(session)
    with session_scope() as session:
        return relay_once(session, redeliver_after=redeliver_after)


def run_forever(
    *,
    interval: float,
    redeliver_after: timedelta,
    housekeeping: Sequence[Housekeeping] = (),
    on_pass: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run a pass every `interval` seconds until `stop` is set."""
    stop = stop or threading.Event()
    log.info("relay_started", interval=interval, redeliver_after_s=redeliver_after.total_seconds())
    while not stop.wait(interval):
        try:
            count = relay_pass(redeliver_after, housekeeping=housekeeping)
        except Exception as exc:  # the relay must survive a database or broker outage
            log.warning("outbox_relay_failed", error=f"{type(exc).__name__}: {exc}"[:300])
            continue
        OUTBOX_RELAYED.inc(count)
        LAST_PASS.set_to_current_time()
        if on_pass is not None:
            on_pass(count)
    log.info("relay_stopped")

"""`newswire webhooks`: the webhook delivery process.

Each pass (every NEWSWIRE_WEBHOOK_INTERVAL_SECONDS, sooner when a POST finishes): match new enrichment
events to subscriptions (one transaction), claim due deliveries for subscriptions with free slots (one
short transaction), and hand each claimed delivery to a thread of a pool that POSTs it outside any
transaction and records the outcome in a transaction of its own. A subscription has at most
NEWSWIRE_WEBHOOK_SUBSCRIPTION_CONCURRENCY POSTs in flight, the process NEWSWIRE_WEBHOOK_CONCURRENCY: a slow
subscriber fills its own slots, never another's. Several processes can run side by side (SKIP LOCKED)."""

from __future__ import annotations

import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import httpx
import structlog
from sqlalchemy.orm import Session, sessionmaker

from services.api.subscriptions import egress, metrics, service
from shared.db import session_scope
from shared.settings import get_settings

log = structlog.get_logger("newswire.webhooks")


class Dispatcher:
    def __init__(self, factory: sessionmaker[Session], *, http: httpx.Client | None = None) -> None:
        settings = get_settings()
        self.factory = factory
        self.concurrency = settings.webhook_concurrency
        self.per_subscription = settings.webhook_subscription_concurrency
        self.http = http or egress.guarded_client(
            allow_private=settings.webhook_allow_private, max_connections=self.concurrency * 2
        )
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="webhook")
        self._lock = threading.Lock()
        self._busy: dict[int, int] = defaultdict(int)
        self._wake = threading.Event()
        self._stop = threading.Event()

    def in_flight(self) -> int:
        with self._lock:
            return sum(self._busy.values())

    def run_pass(self) -> tuple[int, int]:
        """(deliveries created, deliveries claimed and handed to the pool)."""
        with session_scope(self.factory) as session:
            added = service.match(session=session)
        if added:
            metrics.MATCHED.inc(added)
        with self._lock:
            busy = {k: v for k, v in self._busy.items() if v}
            free = self.concurrency - sum(busy.values())
        if free <= 0:
            return added, 0
        with session_scope(self.factory) as session:
            claimed = service.claim(
                session=session, busy=busy, per_subscription=self.per_subscription, limit=free
            )
        with self._lock:
            for c in claimed:
                self._busy[c.subscription_id] += 1
        for c in claimed:
            metrics.IN_FLIGHT.inc()
            self._pool.submit(self._deliver, c)
        return added, len(claimed)

    def _deliver(self, claimed: service.Claimed) -> None:
        try:
            attempt = service.send(http=self.http, claimed=claimed)
            metrics.ATTEMPTS.labels(attempt.outcome).inc()
            metrics.ATTEMPT_SECONDS.labels(attempt.outcome).observe(attempt.seconds)
            if attempt.truncated:
                metrics.TRUNCATED.inc()
            with session_scope(self.factory) as session:
                result = service.record(session=session, claimed=claimed, attempt=attempt)
            metrics.RESULTS_TOTAL.labels(result).inc()
        except Exception as exc:  # the lease expires and the delivery is tried again (same id)
            log.warning(
                "webhook_attempt_unrecorded",
                delivery_id=claimed.delivery_id,
                error=f"{type(exc).__name__}: {exc}"[:300],
            )
        finally:
            metrics.IN_FLIGHT.dec()
            with self._lock:
                self._busy[claimed.subscription_id] -= 1
                if self._busy[claimed.subscription_id] <= 0:
                    del self._busy[claimed.subscription_id]
            self._wake.set()

    def run_forever(self) -> None:
        """Until :meth:`stop`; survives a database or subscriber outage."""
        log.info("webhooks_started", concurrency=self.concurrency, per_subscription=self.per_subscription)
        while not self._stop.is_set():
            try:
                self.run_pass()
            except Exception as exc:
                metrics.PASS_ERRORS.inc()
                log.warning("webhook_pass_failed", error=f"{type(exc).__name__}: {exc}"[:300])
            self._wake.wait(get_settings().webhook_interval_seconds)
            self._wake.clear()

    def request_stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def stop(self, *, wait: bool = True) -> None:
        self.request_stop()
        self._pool.shutdown(wait=wait, cancel_futures=True)
        self.http.close()


def run_webhooks() -> None:
    """What `newswire webhooks` runs (SIGTERM / Ctrl-C: in-flight POSTs finish within their deadline)."""
    import signal

    from shared.db import session_factory

    dispatcher = Dispatcher(session_factory())

    def _stop(signum: int, frame: object) -> None:
        dispatcher.request_stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        dispatcher.run_forever()
    finally:
        dispatcher.stop()
        log.info("webhooks_stopped")

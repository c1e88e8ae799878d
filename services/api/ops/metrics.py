"""Gauges computed at scrape time on the API's /metrics: queue depth, backlog, articles by status."""

from __future__ import annotations

from collections.abc import Iterator

import structlog
from fastapi import FastAPI
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker

from services.enrich.queues import article_figures, broker_depth
from shared.db import session_scope
from shared.http import app_session_factory
from shared.settings import get_settings

log = structlog.get_logger("newswire.ops")


class QueueCollector(Collector):
    """Reads the broker and the database on every scrape (a few indexed counts)."""

    def __init__(
        self, factory: sessionmaker[Session], *, redis_url: str, queue: str, window_s: float
    ) -> None:
        self.factory = factory
        self.redis_url = redis_url
        self.queue = queue
        self.window_s = window_s

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "newswire_ops_source_up", "Whether the scrape-time figures could be read", labels=["source"]
        )
        depth = GaugeMetricFamily("newswire_queue_depth", "Messages waiting in the broker", labels=["queue"])
        try:
            depth.add_metric([self.queue], broker_depth(self.redis_url, self.queue))
            up.add_metric(["broker"], 1)
            yield depth
        except Exception as exc:  # a scrape reports what it cannot see
            log.warning("metrics_broker_unavailable", error=f"{type(exc).__name__}: {exc}"[:300])
            up.add_metric(["broker"], 0)
        try:
            with session_scope(self.factory) as session:
                figures = article_figures(session, window_s=self.window_s)
        except Exception as exc:
            log.warning("metrics_database_unavailable", error=f"{type(exc).__name__}: {exc}"[:300])
            up.add_metric(["database"], 0)
            yield up
            return
        up.add_metric(["database"], 1)
        yield up
        articles = GaugeMetricFamily("newswire_articles", "Stored articles by status", labels=["status"])
        for status in ("queued", "enriched", "failed", "duplicate"):
            articles.add_metric([status], figures.statuses.get(status, 0))
        yield articles
        yield GaugeMetricFamily(
            "newswire_outbox_backlog",
            "Outbox jobs not yet completed by a worker",
            value=figures.outbox_pending,
        )
        yield GaugeMetricFamily(
            "newswire_outbox_unpublished",
            "Outbox jobs that never reached the broker",
            value=figures.outbox_unpublished,
        )
        oldest = GaugeMetricFamily(
            "newswire_queue_oldest_age_seconds",
            "Seconds the longest-waiting queued article has waited (0: none waiting)",
            labels=["queue"],
        )
        oldest.add_metric([self.queue], figures.oldest_queued_age_s or 0.0)
        yield oldest


def queue_collector(app: FastAPI) -> Collector:
    settings = get_settings()
    return QueueCollector(
        app_session_factory(app),
        redis_url=settings.redis_url or "",
        queue=settings.enrich_queue,
        window_s=settings.ops_rate_window,
    )

"""Gauges computed at scrape time on the API's internal /metrics: queue depth, backlog, articles by status,
and the coverage ledger's verdict on each source.

Cheap and closed: each collector is wrapped in ``shared.metrics.Cached`` (computed at most every
NEWSWIRE_METRICS_CACHE_SECONDS, whatever the scrape rate), the broker is read over one long-lived Redis
client, and the `source` label takes at most NEWSWIRE_METRICS_MAX_SOURCES values (the sources with the
most accepted articles; the rest are summed as `other`)."""

from __future__ import annotations

from collections.abc import Iterator

import redis
import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker

from services.api.ops.schemas import SourceOut
from services.api.ops.service import CoverageRules, source_coverage
from shared.db import session_scope
from shared.jobs.broker import broker_url as jobs_broker_url
from shared.jobs.broker import is_amqp
from shared.jobs.queues import article_figures, broker_depth, queue_depth
from shared.metrics import Cached
from shared.redisconn import redis_client
from shared.settings import get_settings

OTHER_SOURCE = "other"

log = structlog.get_logger("newswire.ops")


class QueueCollector(Collector):
    """Reads the broker (over one client, kept) and the database (a few counts) when collected."""

    def __init__(
        self, factory: sessionmaker[Session], *, broker_url: str, queue: str, window_s: float
    ) -> None:
        self.factory = factory
        self.broker_url = broker_url
        self.queue = queue
        self.window_s = window_s
        self._redis: redis.Redis | None = None

    def _client(self) -> redis.Redis:
        if self._redis is None:  # connections are pooled by the client: no new one per scrape
            self._redis = redis_client(self.broker_url)
        return self._redis

    @staticmethod
    def families() -> dict[str, GaugeMetricFamily]:
        """The (empty) families this collector yields, by name."""
        gauges = (
            GaugeMetricFamily(
                "newswire_ops_source_up", "Whether the scrape-time figures could be read", labels=["source"]
            ),
            GaugeMetricFamily("newswire_queue_depth", "Messages waiting in the broker", labels=["queue"]),
            GaugeMetricFamily("newswire_articles", "Stored articles by status", labels=["status"]),
            GaugeMetricFamily("newswire_outbox_backlog", "Outbox jobs not yet completed by a worker"),
            GaugeMetricFamily("newswire_outbox_unpublished", "Outbox jobs that never reached the broker"),
            GaugeMetricFamily(
                "newswire_queue_oldest_age_seconds",
                "Seconds the longest-waiting queued article has waited (0: none waiting)",
                labels=["queue"],
            ),
        )
        return {g.name: g for g in gauges}

    def describe(self) -> Iterator[Metric]:
        yield from self.families().values()

    def collect(self) -> Iterator[Metric]:
        f = self.families()
        up, depth = f["newswire_ops_source_up"], f["newswire_queue_depth"]
        try:
            depth.add_metric(
                [self.queue],
                broker_depth(self.broker_url, self.queue)
                if is_amqp(self.broker_url)
                else queue_depth(self._client(), self.queue),
            )
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
        articles = f["newswire_articles"]
        for status in ("queued", "enriched", "failed", "duplicate"):
            articles.add_metric([status], figures.statuses.get(status, 0))
        yield articles
        f["newswire_outbox_backlog"].add_metric([], figures.outbox_pending)
        f["newswire_outbox_unpublished"].add_metric([], figures.outbox_unpublished)
        f["newswire_queue_oldest_age_seconds"].add_metric([self.queue], figures.oldest_queued_age_s or 0.0)
        yield from (
            f["newswire_outbox_backlog"],
            f["newswire_outbox_unpublished"],
            f["newswire_queue_oldest_age_seconds"],
        )


class SourceCollector(Collector):
    """The coverage ledger's verdict per source (a read of the last days of ``source_hours``)."""

    def __init__(self, factory: sessionmaker[Session], *, rules: CoverageRules, max_sources: int) -> None:
        self.factory = factory
        self.rules = rules
        self.max_sources = max_sources

    @staticmethod
    def families() -> dict[str, GaugeMetricFamily]:
        gauges = (
            GaugeMetricFamily(
                "newswire_source_silent",
                "1 when a source that usually sends has sent nothing for too long (coverage ledger)",
                labels=["source"],
            ),
            GaugeMetricFamily(
                "newswire_source_silent_seconds",
                "Seconds since the end of the last hour a source pushed anything",
                labels=["source"],
            ),
            GaugeMetricFamily(
                "newswire_source_usual_per_hour",
                "A source's mean articles per hour over the ledger window",
                labels=["source"],
            ),
            GaugeMetricFamily(
                "newswire_source_rate_jump",
                "1 when a source's duplicate or failure share over the last 3 hours jumped above its usual",
                labels=["source", "kind"],
            ),
        )
        return {g.name: g for g in gauges}

    def describe(self) -> Iterator[Metric]:
        yield from self.families().values()

    def collect(self) -> Iterator[Metric]:
        try:
            with session_scope(self.factory) as session:
                coverage = source_coverage(session=session, rules=self.rules)
        except Exception as exc:  # newswire_ops_source_up{source="database"} already says so
            log.warning("metrics_ledger_unavailable", error=f"{type(exc).__name__}: {exc}"[:300])
            return
        f = self.families()
        kept, rest = bounded_sources(coverage.items, self.max_sources)
        for s in kept:
            f["newswire_source_silent"].add_metric([s.source], 1 if s.silent else 0)
            f["newswire_source_silent_seconds"].add_metric([s.source], s.silent_s)
            if s.usual_per_hour is not None:
                f["newswire_source_usual_per_hour"].add_metric([s.source], s.usual_per_hour)
            f["newswire_source_rate_jump"].add_metric([s.source, "duplicates"], 1 if s.duplicates_jump else 0)
            f["newswire_source_rate_jump"].add_metric([s.source, "failures"], 1 if s.failures_jump else 0)
        if rest:  # one series for all the others: counts summed, flags when any of them is flagged
            f["newswire_source_silent"].add_metric([OTHER_SOURCE], 1 if any(s.silent for s in rest) else 0)
            f["newswire_source_silent_seconds"].add_metric([OTHER_SOURCE], min(s.silent_s for s in rest))
            f["newswire_source_usual_per_hour"].add_metric(
                [OTHER_SOURCE], sum(s.usual_per_hour or 0.0 for s in rest)
            )
            for kind, flag in (("duplicates", "duplicates_jump"), ("failures", "failures_jump")):
                jumped = any(getattr(s, flag) for s in rest)
                f["newswire_source_rate_jump"].add_metric([OTHER_SOURCE, kind], 1 if jumped else 0)
        yield from f.values()


def bounded_sources(items: list[SourceOut], max_sources: int) -> tuple[list[SourceOut], list[SourceOut]]:
    """(sources that get a label of their own, the rest): the `max_sources` - 1 busiest by usual rate,
    ties by name, so the label set stays small whatever feeds send as `source`; a source literally named
    `other` or the empty one always goes with the rest."""
    named = [s for s in items if s.source and s.source != OTHER_SOURCE]
    named.sort(key=lambda s: (-(s.usual_per_hour or 0.0), s.source))
    room = max_sources - 1 if len(named) >= max_sources else len(named)
    keep = {id(s) for s in named[:room]}
    return [s for s in items if id(s) in keep], [s for s in items if id(s) not in keep]


def api_collectors(factory: sessionmaker[Session], *, cache_seconds: float | None = None) -> list[Collector]:
    """The scrape-time collectors of the API's /metrics, cached."""
    settings = get_settings()
    seconds = settings.metrics_cache_seconds if cache_seconds is None else cache_seconds
    queue = QueueCollector(
        factory,
        broker_url=jobs_broker_url(settings),
        queue=settings.enrich_queue,
        window_s=settings.ops_rate_window,
    )
    sources = SourceCollector(
        factory,
        rules=CoverageRules.from_settings(settings),
        max_sources=settings.metrics_max_sources,
    )
    return [Cached(queue, seconds=seconds), Cached(sources, seconds=seconds)]

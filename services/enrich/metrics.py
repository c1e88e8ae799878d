"""Prometheus metrics of the enrich worker (prometheus-client multiprocess mode: the prefork children write,
the worker's main process serves them on NEWSWIRE_WORKER_METRICS_PORT)."""

from __future__ import annotations

import structlog
from prometheus_client import Counter, Histogram, start_http_server

from shared.metrics import multiprocess_dir, scrape_registry

log = structlog.get_logger("newswire.enrich")

# Seconds from under a second (a short article on a warm model) to the minutes of a stuck task.
RUNTIME_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)
# Seconds from receipt (or publication) to availability: seconds on an idle platform, hours in a backlog,
# days for an article published long before a feed pushed it.
LAG_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 12 * 3600, 86400, 7 * 86400)
LOAD_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120)

TASKS = Counter("newswire_enrich_tasks_total", "Enrich tasks finished, by outcome", ["outcome"])
TASK_SECONDS = Histogram(
    "newswire_enrich_task_seconds", "Runtime of one enrich task attempt", ["outcome"], buckets=RUNTIME_BUCKETS
)
RETRIES = Counter("newswire_enrich_retries_total", "Enrich attempts scheduled for a retry", ["error"])
FAILURES = Counter(
    "newswire_enrich_failures_total", "Enrich attempts that raised (retried or not), by error type", ["error"]
)
DEAD_LETTERED = Counter(
    "newswire_enrich_dead_lettered_total",
    "Articles marked failed (retries exhausted or permanent)",
    ["error"],
)
DUPLICATES = Counter(
    "newswire_enrich_duplicate_messages_total",
    "Enrich messages that had nothing to do: their job was already completed (done: a duplicate or late "
    "message; saved_elsewhere: another delivery saved first) or taken over by a batch (batched)",
    ["reason"],
)
POISONED = Counter(
    "newswire_enrich_poison_total",
    "Articles failed as poison: their enrich attempts kept dying past NEWSWIRE_ENRICH_MAX_ATTEMPTS",
)
LAG_RECEIVED = Histogram(
    "newswire_enrich_lag_seconds",
    "Seconds from an article's receipt by ingest until it is enriched (available)",
    buckets=LAG_BUCKETS,
)
LAG_PUBLISHED = Histogram(
    "newswire_enrich_publication_lag_seconds",
    "Seconds from an article's publication date until it is enriched (available)",
    buckets=LAG_BUCKETS,
)
MODEL_LOAD_SECONDS = Histogram(
    "newswire_model_load_seconds",
    "Time to load the NLP models in a worker process",
    ["model", "outcome"],
    buckets=LOAD_BUCKETS,
)


def error_type(exc: BaseException) -> str:
    return type(exc).__name__


def serve_worker_metrics(*, port: int, host: str) -> bool:
    """Serve every pool process's metrics on ``host:port`` from this (the worker's main) process."""
    if not port:
        return False
    if not multiprocess_dir():
        log.warning("worker_metrics_single_process", detail="PROMETHEUS_MULTIPROC_DIR is not set")
    try:
        start_http_server(port, addr=host, registry=scrape_registry())
    except OSError as exc:  # a busy port must not stop the worker from working
        log.warning("worker_metrics_unavailable", port=port, error=f"{type(exc).__name__}: {exc}")
        return False
    log.info("worker_metrics_serving", url=f"http://{host}:{port}/metrics")
    return True

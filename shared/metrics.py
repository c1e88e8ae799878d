"""Prometheus plumbing: multiprocess directories and one exposition for every kind of process.

Processes that fork (Celery's prefork pool, uvicorn with several workers) keep their metrics in files
under ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode); whoever serves ``/metrics``
reads them all. Each process group (one ``newswire worker``, one ``newswire serve``) gets a directory of
its own, created empty at start and removed at exit, so counters never mix runs or machines."""

from __future__ import annotations

import atexit
import math
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import structlog
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, start_http_server, values
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

log = structlog.get_logger("newswire.metrics")


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def default_base_dir() -> Path:
    return Path(tempfile.gettempdir()) / "newswire-metrics"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare_multiprocess_dir(base: Path, role: str) -> Path:
    """Create ``<base>/<role>-<pid>`` empty, point ``PROMETHEUS_MULTIPROC_DIR`` at it (children inherit
    it) and remove it when this process exits. Directories left by process groups that died are removed.

    Call it before the metrics are created: metrics made earlier in this process stay in memory only."""
    base.mkdir(parents=True, exist_ok=True)
    for stale in base.iterdir():
        _, _, pid = stale.name.rpartition("-")
        if stale.is_dir() and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    path = base / f"{role}-{os.getpid()}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    os.environ[MULTIPROC_ENV] = str(path)
    # prometheus-client picks the value class when it is imported: pick again, now with the directory
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    owner = os.getpid()

    def _remove() -> None:
        if os.getpid() == owner:  # not in a forked child that happens to run atexit handlers
            shutil.rmtree(path, ignore_errors=True)

    atexit.register(_remove)
    return path


class _Forward(Collector):
    """The process's default registry, as one collector of another registry."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def scrape_registry(extra: Iterable[Collector] = ()) -> CollectorRegistry:
    """A registry for one scrape: every process's metrics (multiprocess mode) or this process's
    (otherwise), plus collectors computed now (queue depth, backlog)."""
    registry = CollectorRegistry(auto_describe=False)
    path = multiprocess_dir()
    if path:
        MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward())
    for collector in extra:
        registry.register(collector)
    return registry


def render(extra: Iterable[Collector] = ()) -> bytes:
    return generate_latest(scrape_registry(extra))


class Cached(Collector):
    """Another collector's families, computed at most every `seconds` (scrapes in between, from several
    Prometheus servers or a short interval, cost nothing)."""

    def __init__(self, inner: Collector, *, seconds: float) -> None:
        self.inner = inner
        self.seconds = seconds
        self._lock = threading.Lock()
        self._at = -math.inf
        self._families: list[Metric] = []

    def describe(self) -> Iterator[Metric]:
        describe = getattr(self.inner, "describe", None)
        return iter(describe() if describe is not None else [])

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            now = time.monotonic()
            if now - self._at >= self.seconds:
                self._families = list(self.inner.collect())
                self._at = now
            return iter(list(self._families))


def serve_metrics(*, port: int, host: str, collectors: Iterable[Collector] = (), role: str) -> bool:
    """Serve /metrics of this process (or process group) on an internal ``host:port``, apart from the
    public port; a busy port is logged, never fatal."""
    if not port:
        return False
    try:
        start_http_server(port, addr=host, registry=scrape_registry(collectors))
    except OSError as exc:
        log.warning("metrics_unavailable", role=role, port=port, error=f"{type(exc).__name__}: {exc}")
        return False
    log.info("metrics_serving", role=role, url=f"http://{host}:{port}/metrics")
    return True

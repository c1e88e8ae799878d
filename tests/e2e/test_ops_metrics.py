"""End to end: /metrics of the running processes count exactly what was pushed and enriched.

The ingest service runs two uvicorn workers and the enrich worker two pool processes, so every count below
is a sum over processes (prometheus-client multiprocess mode): a scrape that saw one process only would
show less."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import RUN_ID, bearer
from tests.e2e.harness import (
    Processes,
    forget_queue,
    free_port,
    log_tails,
    platform_env,
    running,
    start,
    stop,
    wait_ready,
)
from tests.factories import article_payload

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    """Every sample of a /metrics page: (name, labels) -> value."""
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name` over the samples whose labels include `labels` (0 when there is none)."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def wait_statuses(
    api_url: str,
    ids: list[int],
    want: str,
    processes: Processes,
    logs: Path,
    timeout: float = 180,
    *,
    key: str,
) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    details: list[dict[str, object]] = []
    with httpx.Client(base_url=api_url, timeout=10, headers=bearer(key)) as api:
        while time.monotonic() < deadline:
            for name, proc in processes.items():
                if proc.poll() is not None:
                    pytest.fail(f"{name} exited with {proc.returncode}\n{log_tails(logs)}")
            details = [api.get(f"/v1/articles/{i}").json() for i in ids]
            if all(d["status"] == want for d in details):
                return details
            time.sleep(0.5)
    pytest.fail(
        f"not all {want} in {timeout} s: {[(d['id'], d['status']) for d in details]}\n{log_tails(logs)}"
    )


@dataclass
class Platform:
    ingest_url: str
    api_url: str
    worker_metrics_url: str
    env: dict[str, str]
    logs: Path
    queue: str
    processes: Processes

    @property
    def key(self) -> str:
        return self.env["NEWSWIRE_API_KEY"]


@pytest.fixture(scope="module")
def platform(
    fresh_database: object, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    database_url: str = fresh_database("ops_metrics")  # type: ignore[operator]
    logs = tmp_path_factory.mktemp("ops-metrics-logs")
    queue = f"enrich-ops-metrics-{RUN_ID}"
    ingest_port, api_port, worker_port = free_port(), free_port(), free_port()
    env = platform_env(
        database_url=database_url,
        redis_url=redis_url,
        queue=queue,
        NEWSWIRE_WORKER_METRICS_PORT=str(worker_port),
        NEWSWIRE_METRICS_DIR=str(tmp_path_factory.mktemp("metrics")),
    )
    with running() as processes:
        start(
            processes, "ingest", ["serve", "ingest", "--port", str(ingest_port), "--workers", "2"], env, logs
        )
        start(processes, "api", ["serve", "api", "--port", str(api_port)], env, logs)
        start(processes, "relay", ["relay"], env, logs)
        start(
            processes,
            "worker",
            ["worker", "--concurrency", "2", "--hostname", f"ops-m-{RUN_ID}@%h"],
            env,
            logs,
        )
        ingest_url, api_url = f"http://127.0.0.1:{ingest_port}", f"http://127.0.0.1:{api_port}"
        worker_metrics_url = f"http://127.0.0.1:{worker_port}/metrics"
        wait_ready(f"{ingest_url}/readyz", processes, logs)
        wait_ready(f"{api_url}/readyz", processes, logs)
        wait_ready(worker_metrics_url, processes, logs)
        try:
            yield Platform(ingest_url, api_url, worker_metrics_url, env, logs, queue, processes)
        finally:
            forget_queue(redis_url, queue)


def test_metrics_count_what_was_pushed(platform: Platform) -> None:
    payloads = [article_payload(published_at="2024-05-14T09:30:00Z") for _ in range(6)]
    ids = []
    with httpx.Client(base_url=platform.ingest_url, timeout=60, headers=bearer(platform.key)) as ingest:
        for payload in payloads:
            response = ingest.post("/v1/articles", json=payload)
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
        for payload in payloads[:2]:  # duplicates
            assert ingest.post("/v1/articles", json=payload).status_code == 200
        bad = ingest.post("/v1/articles", json={**article_payload(), "colour": "red"})  # unknown field
        assert bad.status_code == 422, bad.text
        empty_batch = ingest.post("/v1/articles/batch", json={"articles": [{"url": "x"}]})
        assert empty_batch.status_code == 200, empty_batch.text

    wait_statuses(platform.api_url, ids, "enriched", platform.processes, platform.logs, key=platform.key)

    # ingest: two uvicorn workers, each scrape answered by either: every scrape shows the sums
    for _ in range(6):
        ingest = scrape(f"{platform.ingest_url}/metrics")
        assert value(ingest, "newswire_ingest_articles_accepted_total") == 6, ingest
        assert value(ingest, "newswire_ingest_articles_duplicate_total") == 2
        assert value(ingest, "newswire_ingest_articles_rejected_total", reason="validation_error") == 2
        posts = value(ingest, "newswire_http_requests_total", method="POST", route="/v1/articles")
        assert posts == 9

    # worker: two pool processes; the main process serves what both counted
    worker = scrape(platform.worker_metrics_url)
    assert value(worker, "newswire_enrich_tasks_total", outcome="enriched") == 6, worker
    assert value(worker, "newswire_enrich_task_seconds_count", outcome="enriched") == 6
    assert value(worker, "newswire_enrich_task_seconds_sum", outcome="enriched") > 0
    assert value(worker, "newswire_enrich_lag_seconds_count") == 6
    assert value(worker, "newswire_enrich_publication_lag_seconds_count") == 6
    assert value(worker, "newswire_enrich_failures_total") == 0
    assert value(worker, "newswire_enrich_dead_lettered_total") == 0
    loads = value(worker, "newswire_model_load_seconds_count", outcome="ok")
    assert 1 <= loads <= 2, loads  # once per pool process that got work
    assert value(worker, "newswire_model_load_seconds_sum", outcome="ok") > 0

    # api: queue depth and backlog computed at scrape time, plus the articles by status
    api = scrape(f"{platform.api_url}/metrics")
    assert value(api, "newswire_articles", status="enriched") == 6, api
    assert value(api, "newswire_articles", status="queued") == 0
    assert value(api, "newswire_queue_depth", queue=platform.queue) == 0
    assert (("newswire_queue_depth", frozenset({("queue", platform.queue)}))) in api
    assert value(api, "newswire_outbox_backlog") == 0
    assert value(api, "newswire_ops_source_up", source="broker") == 1
    assert value(api, "newswire_ops_source_up", source="database") == 1


def test_queue_depth_and_backlog_follow_a_stopped_worker(platform: Platform) -> None:
    stop(platform.processes, "worker")
    with httpx.Client(base_url=platform.ingest_url, timeout=60, headers=bearer(platform.key)) as ingest:
        ids = [ingest.post("/v1/articles", json=article_payload()).json()["id"] for _ in range(3)]
    api = scrape(f"{platform.api_url}/metrics")
    assert value(api, "newswire_queue_depth", queue=platform.queue) == 3, api
    assert value(api, "newswire_outbox_backlog") == 3
    assert value(api, "newswire_articles", status="queued") == 3
    assert value(api, "newswire_queue_oldest_age_seconds", queue=platform.queue) >= 0

    start(
        platform.processes,
        "worker",
        ["worker", "--concurrency", "1", "--hostname", f"ops-m2-{RUN_ID}@%h"],
        platform.env,
        platform.logs,
    )
    wait_statuses(platform.api_url, ids, "enriched", platform.processes, platform.logs, key=platform.key)
    api = scrape(f"{platform.api_url}/metrics")
    assert value(api, "newswire_queue_depth", queue=platform.queue) == 0
    assert value(api, "newswire_outbox_backlog") == 0
    # a new worker process group starts its counts from zero (its own multiprocess directory)
    wait_ready(platform.worker_metrics_url, platform.processes, platform.logs)
    worker = scrape(platform.worker_metrics_url)
    assert value(worker, "newswire_enrich_tasks_total", outcome="enriched") == 3, worker

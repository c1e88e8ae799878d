"""End to end on RabbitMQ: with NEWSWIRE_BROKER_URL=amqp://..., an article goes ingest -> RabbitMQ
(a quorum queue) -> a real worker -> enriched, while Redis stays the cache and rate-limit store and
carries no job; the queue figures read the depth from RabbitMQ."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import RUN_ID, bearer
from tests.e2e.harness import log_tails, platform_env, running, start_platform
from tests.factories import article_payload
from tests.integration.test_rabbitmq import RABBITMQ_URL, delete_queue, require_rabbitmq

pytestmark = pytest.mark.e2e


def test_an_article_is_enriched_through_rabbitmq(
    fresh_database: object, redis_url: str, tmp_path: Path
) -> None:
    require_rabbitmq()
    database_url: str = fresh_database("rabbitmq")  # type: ignore[operator]
    queue = f"enrich-rmq-{RUN_ID}"
    env = platform_env(
        database_url=database_url,
        redis_url=redis_url,
        queue=queue,
        scopes=("ingest", "read", "admin"),
        NEWSWIRE_BROKER_URL=RABBITMQ_URL,
    )
    key = env["NEWSWIRE_API_KEY"]
    logs = tmp_path
    try:
        with running() as processes:
            ingest_url, api_url = start_platform(processes, env, logs, worker=f"rmq-{RUN_ID}")
            with httpx.Client(timeout=30, headers=bearer(key)) as client:
                response = client.post(f"{ingest_url}/v1/articles", json=article_payload(source="rmq-wire"))
                assert response.status_code == 202, response.text
                article_id = response.json()["id"]
                deadline = time.monotonic() + 240
                status = "queued"
                while time.monotonic() < deadline:
                    status = client.get(f"{api_url}/v1/articles/{article_id}").json()["status"]
                    if status in ("enriched", "failed"):
                        break
                    time.sleep(0.5)
                assert status == "enriched", f"article {article_id} is {status!r}\n{log_tails(logs)}"
                figures = client.get(f"{api_url}/v1/ops/queues").json()["items"][0]
                assert figures["depth"] == 0, figures  # read from RabbitMQ (None: broker unreadable)
                assert not [e for e in figures["errors"] if e.startswith("broker")], figures
            worker_log = (logs / "worker.log").read_text(errors="replace")
            assert "amqp://" in worker_log, log_tails(logs)
        # the job never went through Redis
        client_ = redis.Redis.from_url(redis_url)
        try:
            assert client_.exists(queue) == 0
        finally:
            client_.close()
    finally:
        delete_queue(queue)

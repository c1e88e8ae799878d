"""End to end: `newswire webhooks` as its own process, next to `newswire serve api`, delivering to a real
local receiver; its metrics on their internal port; SIGTERM stops it cleanly. The API process no longer
delivers anything by itself."""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import time
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, pool
from sqlalchemy.orm import sessionmaker

from tests.conftest import RUN_ID
from tests.e2e.harness import free_port, log_tails, platform_env, running, start, wait_ready
from tests.factories import Committed
from tests.support.receiver import receiver


def _enrich(database_url: str, source: str) -> int:
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        writes = Committed(sessionmaker(bind=engine, expire_on_commit=False))
        (article_id,) = writes.stored(source=source)
        writes.enrich(article_id)
        return article_id
    finally:
        engine.dispose()


def test_the_webhooks_process_delivers_and_serves_its_metrics(
    fresh_database: Any, redis_url: str, tmp_path: Path
) -> None:
    logs = tmp_path
    database_url: str = fresh_database("webhooks_process")
    api_port, metrics_port = free_port(), free_port()
    env = platform_env(
        database_url=database_url,
        redis_url=redis_url,
        queue=f"enrich-webhooks-{RUN_ID}",
        NEWSWIRE_WEBHOOK_ALLOW_PRIVATE="true",  # the receiver is on loopback
        NEWSWIRE_WEBHOOK_INTERVAL_SECONDS="0.2",
        NEWSWIRE_WEBHOOKS_METRICS_PORT=str(metrics_port),
    )
    api_url, metrics_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{metrics_port}/metrics"
    headers = {"Authorization": f"Bearer {env['NEWSWIRE_API_KEY']}"}
    secret = "an-end-to-end-secret-0123"
    with receiver() as (hook_url, received), running() as processes:
        start(processes, "api", ["serve", "api", "--port", str(api_port)], env, logs)
        wait_ready(f"{api_url}/readyz", processes, logs)
        created = httpx.post(
            f"{api_url}/v1/subscriptions",
            headers=headers,
            json={
                "name": "e2e",
                "url": hook_url,
                "secret": secret,
                "filter": {"source": ["e2e-hooks"]},
            },
        )
        assert created.status_code == 201, created.text
        article_id = _enrich(database_url, "e2e-hooks")
        time.sleep(3)
        assert received == [], "the API process delivers nothing: that is the webhooks process's job"

        start(processes, "webhooks", ["webhooks"], env, logs)
        deadline = time.monotonic() + 60
        while not received and time.monotonic() < deadline:
            time.sleep(0.2)
        assert received, f"no delivery\n{log_tails(logs)}"
        wait_ready(metrics_url, processes, logs)
        page = httpx.get(metrics_url).text
        webhooks = processes["webhooks"]
        webhooks.send_signal(signal.SIGTERM)
        code = webhooks.wait(30)
    hook_headers, body = received[0].headers, received[0].body
    assert json.loads(body)["article"]["id"] == article_id
    fields = dict(part.split("=", 1) for part in hook_headers["Newswire-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(page)
        for s in family.samples
    }
    assert samples[("newswire_webhook_attempts_total", (("outcome", "delivered"),))] == 1
    assert samples[("newswire_webhook_results_total", (("result", "delivered"),))] == 1
    assert code == 0, f"SIGTERM ends it cleanly\n{log_tails(logs)}"

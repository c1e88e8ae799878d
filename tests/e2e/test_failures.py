"""End to end, when things go wrong: real ingest, API and worker processes, real PostgreSQL and Redis.

Each test has its own database and its own queue, and starts (and always stops) its own processes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, pool, select
from sqlalchemy.orm import Session

from newswire_cli.dev.embedded import EmbeddedRedis
from shared.models import OutboxEvent
from tests.conftest import RUN_ID, bearer
from tests.e2e import harness
from tests.e2e.harness import (
    Processes,
    check_alive,
    free_port,
    log_tails,
    platform_env,
    running,
    start,
    start_platform,
)
from tests.factories import article_payload
from tests.support.cli import newswire

pytestmark = pytest.mark.e2e


def _auth(env: dict[str, str]) -> dict[str, str]:
    return bearer(env["NEWSWIRE_API_KEY"])


def _wait_status(
    api_url: str, article_id: int, want: str, processes: Processes, logs: Path, timeout: float, *, key: str
) -> dict[str, Any]:
    """Poll the read API until the article has status `want` (fail at once on another final status)."""
    deadline = time.monotonic() + timeout
    detail: dict[str, Any] = {}
    with httpx.Client(base_url=api_url, timeout=10, headers=bearer(key)) as api:
        while time.monotonic() < deadline:
            check_alive(processes, logs)
            response = api.get(f"/v1/articles/{article_id}")
            assert response.status_code == 200, response.text
            detail = response.json()
            if detail["status"] == want:
                return detail
            if detail["status"] in {"enriched", "failed", "duplicate"}:
                pytest.fail(
                    f"article {article_id} is {detail['status']!r} (error {detail.get('error')!r}), "
                    f"wanted {want!r}\n{log_tails(logs)}"
                )
            time.sleep(0.5)
    pytest.fail(
        f"article {article_id} still {detail.get('status')!r} after {timeout:g} s, wanted {want!r}\n"
        f"{log_tails(logs)}"
    )


def _wait_log(logs: Path, name: str, event: str, count: int, processes: Processes, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check_alive(processes, logs)
        if (logs / f"{name}.log").read_text(errors="replace").count(f'"{event}"') >= count:
            return
        time.sleep(0.25)
    pytest.fail(f"{name} did not log {event!r} {count} time(s) in {timeout:g} s\n{log_tails(logs)}")


def _outbox_rows(database_url: str, article_id: int) -> list[OutboxEvent]:
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with Session(engine, expire_on_commit=False) as session:
            rows = session.scalars(select(OutboxEvent).where(OutboxEvent.article_id == article_id))
            return list(rows)
    finally:
        engine.dispose()


@pytest.fixture
def forget_queue(redis_url: str) -> Iterator[list[str]]:
    """Queue names appended here are deleted from the shared Redis after the test."""
    names: list[str] = []
    yield names
    for name in names:
        harness.forget_queue(redis_url, name)


def _queues_table(env: dict[str, str], queue: str) -> dict[str, str]:
    """`newswire queues` as a user runs it; the row of `queue` as {column: value}."""
    result = newswire("queues", env={**env, "COLUMNS": "250", "NO_COLOR": "1"}, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr

    def cells(line: str) -> list[str]:
        return [c.strip() for c in line.replace("┃", "│").strip().strip("│").split("│")]

    lines = result.stdout.splitlines()
    header = next((cells(line) for line in lines if "waiting" in line and "failed" in line), None)
    row = next((cells(line) for line in lines if f" {queue} " in line), None)
    assert header is not None, result.stdout
    assert row is not None, f"no row for {queue}:\n{result.stdout}"
    assert len(header) == len(row), result.stdout
    return dict(zip(header, row, strict=True))


# -------------------------------------------------------------------------------------------------
# a permanent failure is recorded, listed and counted
# -------------------------------------------------------------------------------------------------


def test_permanent_failure_is_recorded(
    fresh_database: Any, redis_url: str, tmp_path: Path, forget_queue: list[str]
) -> None:
    database_url: str = fresh_database("fail_model")
    queue = f"enrich-fail-model-{RUN_ID}"
    forget_queue.append(queue)
    env = platform_env(
        database_url=database_url, redis_url=redis_url, queue=queue, NEWSWIRE_SPACY_MODEL="no_such_model"
    )
    logs = tmp_path / "logs"
    logs.mkdir()

    with running() as processes:
        ingest_url, api_url = start_platform(processes, env, logs, worker=f"fail-model-{RUN_ID}")

        accepted = httpx.post(
            f"{ingest_url}/v1/articles", json=article_payload(), timeout=30, headers=_auth(env)
        )
        assert accepted.status_code == 202, accepted.text
        article_id = accepted.json()["id"]

        detail = _wait_status(
            api_url, article_id, "failed", processes, logs, timeout=60, key=env["NEWSWIRE_API_KEY"]
        )
        assert detail["error"], detail
        assert "no_such_model" in detail["error"], detail["error"]
        assert "OSError" in detail["error"], detail["error"]
        assert detail["entities"] == []
        assert detail["topics"] == []
        assert detail["enriched_at"] is None

        with httpx.Client(base_url=api_url, timeout=10, headers=_auth(env)) as api:
            failed = api.get("/v1/articles", params={"status": "failed"}).json()
            assert [a["id"] for a in failed["items"]] == [article_id], failed
            assert failed["items"][0]["status"] == "failed"
            enriched = api.get("/v1/articles", params={"status": "enriched"}).json()
            assert enriched["items"] == [], enriched

        # a permanent error is not retried: one attempt, and the outbox job is closed
        (event,) = _outbox_rows(database_url, article_id)
        assert event.published_at is not None
        assert event.completed_at is not None, "a failed job must not be redelivered forever"

        stats = _queues_table(env, queue)
        assert stats["failed"] == "1", stats
        assert stats["enriched"] == "0", stats
        assert stats["queued"] == "0", stats
        assert stats["outbox"] == "0", stats


# -------------------------------------------------------------------------------------------------
# Redis down: ingest still accepts; enrichment catches up when Redis is back
# -------------------------------------------------------------------------------------------------


def test_redis_down_then_back(fresh_database: Any, tmp_path: Path) -> None:
    database_url: str = fresh_database("redis_down")
    redis_port = free_port()  # nothing listens here until the test starts a Redis on it
    queue = f"enrich-redis-down-{RUN_ID}"
    env = platform_env(
        database_url=database_url,
        redis_url=f"redis://127.0.0.1:{redis_port}/0",
        queue=queue,
        NEWSWIRE_RATE_LIMIT_PER_MINUTE="1000",  # rate limits live in Redis: they must fail open
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    embedded_redis = EmbeddedRedis(tmp_path / "redis-data", redis_port)

    try:
        with running() as processes:
            ingest_url, api_url = start_platform(processes, env, logs)

            # --- Redis is down: the article is accepted and kept in the outbox ----------------------
            payload = article_payload()
            accepted = httpx.post(f"{ingest_url}/v1/articles", json=payload, timeout=60, headers=_auth(env))
            assert accepted.status_code == 202, f"{accepted.text}\n{log_tails(logs)}"
            body = accepted.json()
            assert body["status"] == "queued", body
            article_id = body["id"]

            (event,) = _outbox_rows(database_url, article_id)
            assert event.published_at is None, "nothing can have been published: no broker"
            assert event.completed_at is None

            # the relay retries in the background (after its 5 s grace) and fails too, without dying
            _wait_log(logs, "ingest", "outbox_publish_failed", 1, processes, timeout=60)  # after the commit
            _wait_log(logs, "relay", "outbox_publish_failed", 1, processes, timeout=60)
            (event,) = _outbox_rows(database_url, article_id)
            assert event.published_at is None
            assert event.completed_at is None
            with httpx.Client(base_url=api_url, timeout=10, headers=_auth(env)) as api:
                assert api.get(f"/v1/articles/{article_id}").json()["status"] == "queued"
                # ingest keeps accepting while the broker is away
                second = httpx.post(
                    f"{ingest_url}/v1/articles", json=article_payload(), timeout=60, headers=_auth(env)
                )
                assert second.status_code == 202, second.text

            # --- Redis comes back, a worker starts: the relay publishes, the worker enriches --------
            embedded_redis.start()
            start(
                processes,
                "worker",
                ["worker", "--concurrency", "1", "--hostname", f"redis-down-{RUN_ID}@%h"],
                env,
                logs,
            )
            ids = [article_id, second.json()["id"]]
            for i in ids:
                detail = _wait_status(
                    api_url, i, "enriched", processes, logs, timeout=120, key=env["NEWSWIRE_API_KEY"]
                )
                assert detail["language"] == "en", detail
                assert detail["topics"], detail
                assert detail["error"] is None

            for i in ids:
                (event,) = _outbox_rows(database_url, i)
                assert event.published_at is not None, f"outbox of {i} never marked published"
                assert event.completed_at is not None, f"outbox of {i} not completed"
                assert event.publish_attempts >= 1
            relayed = [
                json.loads(line)
                for line in (logs / "relay.log").read_text().splitlines()
                if line.startswith("{") and '"outbox_relayed"' in line
            ]
            assert sum(r["published"] for r in relayed) >= 2, "the relay published the kept jobs"
    finally:
        embedded_redis.stop()

"""End to end: near-duplicates across real ingest processes (race-safety and restart), over real HTTP,
PostgreSQL and Redis."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RUN_ID, bearer
from tests.e2e import harness
from tests.e2e.harness import free_port, platform_env, running, start, stop, wait_ready
from tests.factories import article_payload, story_text, syndicated_copy

pytestmark = pytest.mark.e2e

ROUNDS = 30
SENDERS = 4  # per round: the story and three syndicated copies, at the same moment, to two processes


def _start_ingest(processes: harness.Processes, name: str, env: dict[str, str], logs: Path) -> str:
    port = free_port()
    start(processes, name, ["serve", "ingest", "--port", str(port)], env, logs)
    url = f"http://127.0.0.1:{port}"
    wait_ready(f"{url}/readyz", processes, logs)
    return url


def test_near_identical_articles_at_once_give_one_original_and_a_restart_forgets_nothing(
    fresh_database: Any, redis_url: str, tmp_path: Path
) -> None:
    database_url: str = fresh_database("neardup")
    queue = f"enrich-neardup-{RUN_ID}"
    env = platform_env(database_url=database_url, redis_url=redis_url, queue=queue, scopes=("ingest", "read"))
    headers = bearer(env["NEWSWIRE_API_KEY"])
    originals: list[tuple[int, str, str]] = []
    try:
        with running() as processes:
            urls = [_start_ingest(processes, f"ingest-{i}", env, tmp_path) for i in range(2)]
            clients = [httpx.Client(base_url=u, headers=headers, timeout=60) for u in urls]
            with ThreadPoolExecutor(SENDERS) as pool:
                for n in range(ROUNDS):
                    text = story_text(f"race-{RUN_ID}-{n}")
                    title = f"Harbour plan approved ({n})"  # copies keep the headline (part of the key)
                    payloads = [article_payload(text=text, title=title)] + [
                        article_payload(
                            text=syndicated_copy(text, outlet=f"Outlet {i}"),
                            source=f"outlet-{i}",
                            title=title,
                        )
                        for i in range(1, SENDERS)
                    ]
                    barrier = threading.Barrier(SENDERS)

                    def send(
                        i: int, payloads: list[dict[str, Any]] = payloads, barrier: Any = barrier
                    ) -> Any:
                        barrier.wait()
                        return clients[i % 2].post("/v1/articles", json=payloads[i])

                    answers = list(pool.map(send, range(SENDERS)))
                    assert all(a.status_code in (200, 202) for a in answers), [a.text for a in answers]
                    bodies = [a.json() for a in answers]
                    queued = [b for b in bodies if b["status"] == "queued"]
                    assert len(queued) == 1, (n, bodies)
                    others = [b for b in bodies if b["status"] != "queued"]
                    assert {(b["status"], b["duplicate_of"]) for b in others} == {
                        ("duplicate", queued[0]["id"])
                    }
                    originals.append((queued[0]["id"], text, title))
            for client in clients:
                client.close()
            stop(processes)

            # a new ingest process, started after the others are gone, still sees every stored article
            url = _start_ingest(processes, "ingest-restarted", env, tmp_path)
            with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
                for original_id, text, title in (originals[0], originals[-1]):
                    copy = article_payload(text=syndicated_copy(text, outlet="After Restart"), title=title)
                    body = client.post("/v1/articles", json=copy).json()
                    assert (body["status"], body["duplicate_method"], body["duplicate_of"]) == (
                        "duplicate",
                        "near",
                        original_id,
                    ), body
                fresh = client.post("/v1/articles", json=article_payload(text=story_text(f"new-{RUN_ID}")))
                assert fresh.json()["status"] == "queued"
    finally:
        harness.forget_queue(redis_url, queue)

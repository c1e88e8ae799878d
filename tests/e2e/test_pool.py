"""End to end: the pool never starves. 50 concurrent slow HTML posts (large pages, with an
Idempotency-Key, as `newswire ingest` sends) plus reads against a real ingest process whose pool is far
smaller than its request threads: extraction holds no connection and no transaction, so every post is
answered (no 500, no 503 `database_busy`), no request waits on the pool past its timeout, and /readyz
stays green throughout."""

from __future__ import annotations

import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, pool, select

from shared.models import Article
from tests.conftest import RUN_ID, bearer
from tests.e2e.harness import forget_queue, free_port, log_tails, platform_env, running, start, wait_ready

pytestmark = pytest.mark.e2e

POSTS = 50
WORDS = [
    "market",
    "bank",
    "rate",
    "inflation",
    "minister",
    "policy",
    "growth",
    "report",
    "analysts",
    "said",
    "quarter",
    "energy",
    "prices",
    "city",
    "council",
    "vote",
    "election",
    "court",
    "ruling",
    "budget",
    "workers",
    "union",
    "strike",
    "harbour",
    "museum",
]


def big_html(seed: int, paragraphs: int = 200) -> str:
    """A large page (~100 KB): navigation junk around a long article, slow for the extractor."""
    rnd = random.Random(seed)
    nav = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(200))
    body = "".join(
        "<p>" + " ".join(rnd.choice(WORDS) for _ in range(60)) + f" ({seed}-{i}).</p>"
        for i in range(paragraphs)
    )
    return (
        f"<html><head><title>Story {seed}</title></head><body><nav><ul>{nav}</ul></nav>"
        f"<article><h1>Story {seed}</h1>{body}</article><footer><ul>{nav}</ul></footer></body></html>"
    )


def test_concurrent_slow_html_posts_never_starve_the_pool(
    fresh_database: object, redis_url: str, tmp_path: Path
) -> None:
    database_url: str = fresh_database("pool")  # type: ignore[operator]
    queue = f"enrich-pool-{RUN_ID}"
    port = free_port()
    env = platform_env(
        database_url=database_url,
        redis_url=redis_url,
        queue=queue,
        scopes=("ingest", "read"),
        # far more request threads than connections: only short transactions make that work
        NEWSWIRE_HTTP_THREADS="12",
        NEWSWIRE_DB_POOL_SIZE="2",
        NEWSWIRE_DB_MAX_OVERFLOW="2",
        NEWSWIRE_DB_POOL_TIMEOUT="5",
        NEWSWIRE_EXTRACT_TIMEOUT="5",
    )
    key = env["NEWSWIRE_API_KEY"]
    base = f"http://127.0.0.1:{port}"
    logs = tmp_path
    with running() as processes:
        start(processes, "ingest", ["serve", "ingest", "--port", str(port)], env, logs)
        try:
            wait_ready(f"{base}/readyz", processes, logs)
            stop = threading.Event()
            probes: list[tuple[int, float]] = []

            def probe() -> None:  # /readyz (and an authenticated no-op) while the posts run
                with httpx.Client(base_url=base, timeout=10) as client:
                    while not stop.is_set():
                        started = time.monotonic()
                        try:
                            status = client.get("/readyz").status_code
                        except httpx.HTTPError:
                            status = 0
                        probes.append((status, time.monotonic() - started))
                        time.sleep(0.5)

            def post(serial: int) -> int:
                payload = {
                    "url": f"https://slow.example.com/{uuid.uuid4().hex[:8]}/{serial}",
                    "title": f"Story {serial}",
                    "html": big_html(serial),
                    "source": "slow-wire",
                }
                headers = {**bearer(key), "Idempotency-Key": f"slow-{serial}"}
                with httpx.Client(base_url=base, timeout=300) as client:
                    response = client.post("/v1/articles", json=payload, headers=headers)
                    assert response.status_code in (200, 202), response.text
                    return response.status_code

            prober = threading.Thread(target=probe, daemon=True)
            prober.start()
            with ThreadPoolExecutor(max_workers=POSTS) as executor:
                statuses = list(executor.map(post, range(POSTS)))
            stop.set()
            prober.join(15)

            assert statuses.count(202) == POSTS, statuses
            assert probes, "no probe ran"
            bad = [p for p in probes if p[0] != 200 or p[1] > 5.0]
            assert not bad, f"/readyz failed or was slow during the load: {bad}\n{log_tails(logs)}"
            log = (logs / "ingest.log").read_text(errors="replace")
            for event in ("database_pool_timeout", "unhandled_error", "database_unavailable"):
                assert f'"{event}"' not in log, f"{event} logged\n{log_tails(logs)}"
            engine = create_engine(database_url, poolclass=pool.NullPool)
            try:
                with engine.connect() as conn:
                    count = conn.scalar(select(func.count()).select_from(Article))
            finally:
                engine.dispose()
            assert count == POSTS
        finally:
            forget_queue(redis_url, queue)

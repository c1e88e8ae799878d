"""End to end: a wrongly flagged duplicate is restored by `newswire dedup undo` and then flows through the
real ingest, API and worker processes like any original (enriched, listed, an event for streams and
webhooks), its pair is never merged again and its later revisions are accepted."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, pool, text

from tests.conftest import RUN_ID, bearer
from tests.e2e import harness
from tests.e2e.harness import platform_env, running, start_platform
from tests.factories import article_payload, story_text, syndicated_copy
from tests.support.cli import newswire

pytestmark = pytest.mark.e2e

TITLE = "Harbour council approves the ferry plan"


def _wait_status(api: httpx.Client, article_id: int, status: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    detail: dict[str, Any] = {}
    while time.monotonic() < deadline:
        detail = api.get(f"/v1/articles/{article_id}").json()
        if detail.get("status") == status:
            return detail
        time.sleep(0.5)
    pytest.fail(f"article {article_id} not {status} in {timeout} s: {detail}")


def test_undo_restores_an_article_end_to_end(fresh_database: Any, redis_url: str, tmp_path: Path) -> None:
    database_url: str = fresh_database("dedup_undo")
    queue = f"enrich-undo-{RUN_ID}"
    env = platform_env(
        database_url=database_url, redis_url=redis_url, queue=queue, scopes=("ingest", "read", "admin")
    )
    headers = bearer(env["NEWSWIRE_API_KEY"])
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with running() as processes:
            ingest_url, api_url = start_platform(
                processes, env, tmp_path, worker=f"undo-{RUN_ID}", relay=False
            )
            with (
                httpx.Client(base_url=ingest_url, headers=headers, timeout=60) as ingest,
                httpx.Client(base_url=api_url, headers=headers, timeout=60) as api,
            ):
                body = story_text(f"undo-{RUN_ID}")
                original = ingest.post("/v1/articles", json=article_payload(title=TITLE, text=body))
                assert original.status_code == 202, original.text
                original_id = original.json()["id"]
                copy_payload = article_payload(
                    title=TITLE, text=syndicated_copy(body, outlet="Daily Planet"), source="daily-planet"
                )
                copy = ingest.post("/v1/articles", json=copy_payload)
                assert copy.status_code == 200, copy.text
                copy_id = copy.json()["id"]
                assert (copy.json()["duplicate_of"], copy.json()["dedup_reason"]["method"]) == (
                    original_id,
                    "near",
                )
                _wait_status(api, original_id, "enriched")

                why = newswire("dedup", "why", str(copy_id), env=env)
                assert why.returncode == 0, why.stderr
                assert json.loads(why.stdout)["dedup_reason"]["matched"] == original_id

                undone = newswire("dedup", "undo", str(copy_id), "--by", "e2e operator", env=env)
                assert undone.returncode == 0, undone.stdout + undone.stderr
                assert json.loads(undone.stdout.strip().splitlines()[-1])["was_duplicate_of"] == original_id

                detail = _wait_status(api, copy_id, "enriched")
                assert detail["duplicate"] is None
                listed = {a["id"] for a in api.get("/v1/articles", params={"limit": 100}).json()["items"]}
                assert {original_id, copy_id} <= listed
                with engine.connect() as conn:
                    events = conn.execute(
                        text("SELECT count(*) FROM article_events WHERE article_id = :i"), {"i": copy_id}
                    ).scalar_one()
                    pairs = conn.execute(
                        text("SELECT article_id, other_id, decided_by FROM dedup_decisions")
                    ).all()
                assert events == 1, "an enrichment event: streams and webhooks see it"
                assert [tuple(p) for p in pairs] == [(*sorted((original_id, copy_id)), "e2e operator")]

                again = ingest.post(f"/v1/ops/articles/{copy_id}/not-duplicate")  # admin key
                assert (again.status_code, again.json()["error"]) == (409, "not_a_duplicate")
                revised_text = copy_payload["text"].replace(
                    "\n\n", "\n\nCorrection: the plan was delayed.\n\n", 1
                )
                revised = ingest.post("/v1/articles", json={**copy_payload, "text": revised_text})
                assert revised.status_code == 202, revised.text
                assert (revised.json()["id"], revised.json()["status"]) == (copy_id, "revised")
                _wait_status(api, copy_id, "enriched")
    finally:
        engine.dispose()
        harness.forget_queue(redis_url, queue)

"""End to end: a German and an English report of one event, pushed through the real ingest API and
enriched by the real worker, are one story on the read API; a German report of another event is not."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RUN_ID, bearer
from tests.e2e import harness
from tests.e2e.harness import platform_env, running, start_platform
from tests.support.bilingual import BUDGET_DE, FERRY_DE, FERRY_EN

pytestmark = pytest.mark.e2e


def _push(ingest: httpx.Client, article: tuple[str, str], *, source: str, published: str) -> int:
    title, text = article
    body = ingest.post(
        "/v1/articles",
        json={
            "url": f"https://{source}.example.com/{RUN_ID}/{abs(hash(title))}",
            "title": title,
            "text": text,
            "source": source,
            "published_at": published,
        },
    )
    assert body.status_code in (200, 202), body.text
    assert body.json()["status"] == "queued", body.json()
    return int(body.json()["id"])


def _wait_enriched(api: httpx.Client, article_id: int, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        detail: dict[str, Any] = api.get(f"/v1/articles/{article_id}").json()
        if detail["status"] in ("enriched", "failed"):
            assert detail["status"] == "enriched", detail
            return detail
        time.sleep(0.3)
    pytest.fail(f"article {article_id} not enriched in {timeout} s")


def test_german_and_english_reports_of_one_event_are_one_story(
    fresh_database: Any, redis_url: str, tmp_path: Path
) -> None:
    database_url: str = fresh_database("stories_xl")
    queue = f"enrich-stories-xl-{RUN_ID}"
    env = platform_env(database_url=database_url, redis_url=redis_url, queue=queue, scopes=("ingest", "read"))
    headers = bearer(env["NEWSWIRE_API_KEY"])
    try:
        with running() as processes:
            ingest_url, api_url = start_platform(processes, env, tmp_path, worker=f"stories-xl-{RUN_ID}")
            with (
                httpx.Client(base_url=ingest_url, headers=headers, timeout=30) as ingest,
                httpx.Client(base_url=api_url, headers=headers, timeout=30) as api,
            ):
                # one after the other, as a wire and a German outlet would publish them
                english = _push(ingest, FERRY_EN, source="wire-en", published="2026-09-15T19:40:00Z")
                english_detail = _wait_enriched(api, english)
                german = _push(ingest, FERRY_DE, source="zeitung-de", published="2026-09-15T21:05:00Z")
                other = _push(ingest, BUDGET_DE, source="zeitung-de", published="2026-09-15T21:30:00Z")
                german_detail, other_detail = _wait_enriched(api, german), _wait_enriched(api, other)

                assert (english_detail["language"], german_detail["language"]) == ("en", "de")
                story_id = english_detail["story_id"]
                assert story_id is not None
                assert german_detail["story_id"] == story_id
                assert other_detail["story_id"] not in (None, story_id)

                story = api.get(f"/v1/stories/{story_id}").json()
                assert story["article_count"] == 2
                assert story["source_count"] == 2
                members = {a["id"]: a for a in story["articles"]}
                assert set(members) == {english, german}
                assert members[german]["language"] == "de"
                match = members[german]["match"]
                assert match["article_id"] == english
                assert match["crosslingual"] is True
                assert match["embedding"] is not None
                assert match["score"] >= 0.0
                assert members[german]["syndicated"] is False  # a translation, not the same lead

                listing = api.get("/v1/articles", params={"story": story_id}).json()["items"]
                assert {a["id"] for a in listing} == {english, german}
    finally:
        harness.forget_queue(redis_url, queue)

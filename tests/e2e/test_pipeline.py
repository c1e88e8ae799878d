"""End to end: the real ingest, API and worker processes over real HTTP, PostgreSQL and Redis."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import RUN_ID, bearer
from tests.e2e.harness import (
    platform_env,
    running,
    start_platform,
)
from tests.factories import SAMPLES
from tests.support.cli import newswire

pytestmark = pytest.mark.e2e

JUNK_ONLY_NAMES = {
    "Russia",
    "Ukraine",
    "Kenya",
    "Malaysia",
    "RFE/RL",
    "Al Jazeera",
    "Confronting the Caliphate",
}


@dataclass
class Platform:
    ingest_url: str
    api_url: str
    env: dict[str, str]
    logs: Path


@pytest.fixture(scope="module")
def platform(
    fresh_database: object, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    database_url: str = fresh_database("e2e")  # type: ignore[operator]
    logs = tmp_path_factory.mktemp("e2e-logs")
    # `newswire ingest` sends the key too
    env = platform_env(
        database_url=database_url,
        redis_url=redis_url,
        queue=f"enrich-e2e-{RUN_ID}",
        scopes=("ingest", "read"),
    )
    with running() as processes:
        ingest_url, api_url = start_platform(processes, env, logs, worker=f"e2e-{RUN_ID}")
        yield Platform(ingest_url, api_url, env, logs)


def _push_samples(platform: Platform) -> dict[str, object]:
    result = newswire(
        "ingest", str(SAMPLES), "--url", platform.ingest_url, "--source", "samples", env=platform.env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return summary


def _wait_enriched(client: httpx.Client, ids: list[int], timeout: float = 240) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        details = [client.get(f"/v1/articles/{i}").json() for i in ids]
        if all(d["status"] in ("enriched", "failed") for d in details):
            return details
        time.sleep(0.5)
    pytest.fail(f"not enriched in {timeout} s: {[(d['id'], d['status']) for d in details]}")


def test_samples_flow_through_the_platform(platform: Platform) -> None:
    summary = _push_samples(platform)
    assert summary["queued"] == 5, summary
    ids = summary["ids"]
    assert isinstance(ids, list)

    headers = bearer(platform.env["NEWSWIRE_API_KEY"])
    with httpx.Client(base_url=platform.api_url, timeout=10, headers=headers) as api:
        details = _wait_enriched(api, ids)
        assert [d["status"] for d in details] == ["enriched"] * 5, [d.get("error") for d in details]

        entities = {(e["name"], e["type"]) for d in details for e in d["entities"]}  # type: ignore[attr-defined]
        assert ("Hillary Clinton", "PERSON") in entities
        assert ("NATO", "ORG") in entities
        assert ("Pakistan", "GPE") in entities
        names = {name for name, _ in entities}
        assert not names & JUNK_ONLY_NAMES, "entities came from boilerplate the cleaner should have dropped"
        for d in details:
            assert d["language"] == "en"
            assert d["topics"], "every article gets topics"
            assert d["model_versions"]

        listing = api.get("/v1/articles", params={"status": "enriched", "limit": 50}).json()
        assert {a["id"] for a in listing["items"]} == set(ids)
        clinton = api.get("/v1/entities", params={"prefix": "Hillary", "type": "PERSON"}).json()["items"]
        assert clinton[0]["name"] == "Hillary Clinton"
        assert clinton[0]["article_count"] >= 2
        by_entity = api.get("/v1/articles", params={"entity": "Hillary Clinton"}).json()["items"]
        assert len(by_entity) == clinton[0]["article_count"]

        # the worker gave every article a story; the stories list and detail agree with the articles
        story_ids = {d["id"]: d["story_id"] for d in details}
        assert all(story_ids.values()), story_ids
        stories = api.get("/v1/stories", params={"limit": 50}).json()["items"]
        assert {s["id"] for s in stories} == set(story_ids.values())
        assert sum(s["article_count"] for s in stories) == 5
        for story in stories:
            members = api.get(f"/v1/stories/{story['id']}").json()["articles"]
            assert {a["id"] for a in members} == {i for i, s in story_ids.items() if s == story["id"]}

    # a re-push is answered as a duplicate and stores nothing new
    again = _push_samples(platform)
    assert again["duplicates"] == 5, again
    assert again["queued"] == 0, again
    assert sorted(again["ids"]) == sorted(ids)  # type: ignore[arg-type]

    # the worker logs carry the article id and the ingest request id
    worker_log = (platform.logs / "worker.log").read_text()
    done = [
        json.loads(line) for line in worker_log.splitlines() if line.startswith("{") and "enrich_done" in line
    ]
    assert {d["article_id"] for d in done} >= set(ids)
    assert all(d.get("request_id") for d in done)


def test_queues_command_reports_the_run(platform: Platform) -> None:
    result = newswire("queues", env={**platform.env, "COLUMNS": "200"}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"enrich-e2e-{RUN_ID}" in result.stdout
    assert "enriched" in result.stdout

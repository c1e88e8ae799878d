"""The ops endpoints on a real PostgreSQL and Redis: queues, dead-lettered articles, retry, scrape gauges."""

from __future__ import annotations

import httpx
import redis
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services.api.ops.metrics import api_collectors
from services.enrich.articles import service as enrich_service
from shared.metrics import render
from shared.models import Article, OutboxEvent
from shared.settings import get_settings
from tests.factories import article_payload


def _push(ingest_client: httpx.Client, **overrides: str) -> int:
    response = ingest_client.post("/v1/articles", json=article_payload(**overrides))
    assert response.status_code == 202, response.text
    article_id: int = response.json()["id"]
    return article_id


def _fail(db_session: Session, article_id: int, error: str) -> None:
    enrich_service.mark_failed(session=db_session, article_id=article_id, error=error, attempts=1)
    db_session.commit()


def test_stage_timestamps_are_set_at_ingest(
    ingest_client: httpx.Client, api_client: httpx.Client, redis_client: redis.Redis
) -> None:
    article_id = _push(ingest_client, published_at="2024-05-14T09:30:00Z")
    stages = api_client.get(f"/v1/ops/failed/{article_id}").json()["stages"]
    assert stages["received_at"] is not None
    assert stages["received_at"] <= stages["cleaned_at"] <= stages["stored_at"] <= stages["queued_at"]
    assert stages["published_at"].startswith("2024-05-14T09:30:00")
    assert stages["enrich_started_at"] is None
    assert stages["enriched_at"] is None


def test_failed_list_detail_and_retry(
    ingest_client: httpx.Client, api_client: httpx.Client, db_session: Session, redis_client: redis.Redis
) -> None:
    ok_id = _push(ingest_client, source="wire-a")
    model_id = _push(ingest_client, source="wire-a")
    db_id = _push(ingest_client, source="wire-b")
    _fail(db_session, model_id, "OSError: spaCy model 'x' is not installed")
    _fail(db_session, db_id, "IntegrityError: boom")
    queue = get_settings().enrich_queue
    assert redis_client.llen(queue) == 3

    page = api_client.get("/v1/ops/failed").json()
    assert [i["id"] for i in page["items"]] == [db_id, model_id]  # newest first
    assert page["total"] == 2
    assert page["by_error_type"] == {"OSError": 1, "IntegrityError": 1}
    assert page["items"][1]["error_type"] == "OSError"
    assert page["items"][1]["failed_at"] is not None
    only = api_client.get("/v1/ops/failed", params={"error_type": "OSError"}).json()
    assert [i["id"] for i in only["items"]] == [model_id]
    by_source = api_client.get("/v1/ops/failed", params={"source": "wire-b"}).json()
    assert [i["id"] for i in by_source["items"]] == [db_id]
    first = api_client.get("/v1/ops/failed", params={"limit": 1}).json()
    second = api_client.get("/v1/ops/failed", params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert [i["id"] for i in first["items"] + second["items"]] == [db_id, model_id]
    assert second["next_cursor"] is None

    detail = api_client.get(f"/v1/ops/failed/{model_id}").json()
    assert detail["status"] == "failed"
    assert detail["error"].startswith("OSError")
    assert detail["stages"]["failed_at"] is not None
    assert len(detail["outbox"]) == 1
    assert detail["outbox"][0]["completed_at"] is not None  # the failed job is closed

    # retrying a non-failed or missing article is refused
    conflict = api_client.post(f"/v1/ops/failed/{ok_id}/retry")
    assert conflict.status_code == 409, conflict.text
    assert conflict.json()["error"] == "not_failed"
    assert api_client.post("/v1/ops/failed/999999999/retry").status_code == 404

    retried = api_client.post(f"/v1/ops/failed/{model_id}/retry")
    assert retried.status_code == 202, retried.text
    assert retried.json() == {"retried": [model_id], "remaining": 0}
    detail = api_client.get(f"/v1/ops/failed/{model_id}").json()
    assert detail["status"] == "queued"
    assert detail["error"] is None
    assert detail["stages"]["failed_at"] is None
    assert detail["stages"]["queued_at"] is not None  # published again, after the commit
    assert len(detail["outbox"]) == 2
    assert detail["outbox"][1]["completed_at"] is None
    assert detail["outbox"][1]["published_at"] is not None
    assert redis_client.llen(queue) == 4
    assert api_client.post(f"/v1/ops/failed/{model_id}/retry").status_code == 409  # not failed any more

    # retry-all with a filter takes only the matching ones
    none = api_client.post("/v1/ops/failed/retry", params={"error_type": "OSError"}).json()
    assert none == {"retried": [], "remaining": 0}  # none left of that type
    assert api_client.get("/v1/ops/failed").json()["total"] == 1
    everything = api_client.post("/v1/ops/failed/retry").json()
    assert everything == {"retried": [db_id], "remaining": 0}
    assert redis_client.llen(queue) == 5
    assert api_client.get("/v1/ops/failed").json()["total"] == 0
    pending = db_session.scalar(
        select(func.count()).where(OutboxEvent.completed_at.is_(None), OutboxEvent.article_id.in_([db_id]))
    )
    assert pending == 1


def test_queues_endpoint_and_scrape_gauges(
    ingest_client: httpx.Client,
    api_client: httpx.Client,
    db_session: Session,
    redis_client: redis.Redis,
    session_factory: sessionmaker[Session],
) -> None:
    ids = [_push(ingest_client) for _ in range(3)]
    _fail(db_session, ids[0], "ValueError: bad")
    queue = get_settings().enrich_queue

    body = api_client.get("/v1/ops/queues", params={"workers": "false"}).json()
    (item,) = body["items"]
    assert item["queue"] == queue
    assert item["depth"] == redis_client.llen(queue) == 3
    assert item["database"] is True
    assert item["statuses"]["queued"] == 2
    assert item["failed"] == 1
    assert item["outbox_pending"] == 2
    assert item["oldest_queued_id"] == ids[1]
    assert item["oldest_queued_age_s"] >= 0
    assert item["rates_per_min"]["received"] == 3 / (item["window_s"] / 60)
    assert item["rates_per_min"]["failed"] == 1 / (item["window_s"] / 60)
    assert item["errors"] == []

    assert api_client.get("/metrics").status_code == 404, "not on the public port"
    metrics = render(api_collectors(session_factory, cache_seconds=0)).decode()  # the internal port's page
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics)
        for s in family.samples
    }
    assert samples[("newswire_queue_depth", (("queue", queue),))] == 3
    assert samples[("newswire_articles", (("status", "queued"),))] == 2
    assert samples[("newswire_articles", (("status", "failed"),))] == 1
    assert samples[("newswire_outbox_backlog", ())] == 2
    assert samples[("newswire_queue_oldest_age_seconds", (("queue", queue),))] >= 0
    # the process's own metrics are still there
    assert any(name == "newswire_http_requests_total" for name, _ in samples)


def test_failed_bad_input_is_a_4xx(api_client: httpx.Client) -> None:
    assert api_client.get("/v1/ops/failed", params={"cursor": "nonsense"}).status_code == 400
    assert api_client.get("/v1/ops/failed", params={"limit": 0}).status_code == 422
    assert api_client.get("/v1/ops/failed/0").status_code == 422
    assert api_client.get("/v1/ops/failed/999999999").status_code == 404
    assert api_client.post("/v1/ops/failed/retry", params={"limit": 100000}).status_code == 422


def test_stored_article_row_carries_stages(ingest_client: httpx.Client, db_session: Session) -> None:
    article_id = _push(ingest_client)
    article = db_session.get(Article, article_id)
    assert article is not None
    assert article.received_at is not None
    assert article.stored_at is not None
    assert article.received_at <= article.stored_at

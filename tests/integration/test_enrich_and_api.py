"""Enrichment writes and the read API on a real PostgreSQL, with the real models."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newswire_cli.files import payloads
from services.enrich.articles import service
from services.enrich.nlp import Enricher
from shared.models import Article, ArticleEntity, ArticleTopic, Entity, OutboxEvent
from tests.factories import article_payload, sample_texts


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


@pytest.fixture
def sample_ids(ingest_client: httpx.Client) -> Iterator[list[int]]:
    ids = []
    for path in sample_texts():
        (payload,) = payloads(path, base_url="https://samples.test/a", source="samples")
        response = ingest_client.post("/v1/articles", json=payload)
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    return ids


def _rows(session: Session, article_id: int) -> tuple[list[tuple[int, int, int]], list[tuple[str, float]]]:
    entities = session.execute(
        select(
            ArticleEntity.entity_id,
            ArticleEntity.mention_count,
            func.jsonb_array_length(ArticleEntity.mentions),
        )
        .where(ArticleEntity.article_id == article_id)
        .order_by(ArticleEntity.entity_id)
    ).all()
    topics = session.execute(
        select(ArticleTopic.topic_code, ArticleTopic.score)
        .where(ArticleTopic.article_id == article_id)
        .order_by(ArticleTopic.topic_code)
    ).all()
    return [tuple(r) for r in entities], [tuple(r) for r in topics]  # type: ignore[misc]


def test_enrichment_is_written_once_and_is_idempotent(
    db_session: Session, sample_ids: list[int], enricher: Enricher
) -> None:
    article_id = sample_ids[0]
    assert service.enrich_article(session=db_session, article_id=article_id, enricher=enricher) == "enriched"
    db_session.commit()
    first = _rows(db_session, article_id)
    assert first[0]
    assert first[1]
    assert service.enrich_article(session=db_session, article_id=article_id, enricher=enricher) == "enriched"
    db_session.commit()
    assert _rows(db_session, article_id) == first, "running the task twice gives the same rows"

    article = db_session.get(Article, article_id)
    assert article is not None
    db_session.refresh(article)
    assert article.status == "enriched"
    assert article.language == "en"
    assert article.model_versions
    assert {"spacy", "ner_model", "topics", "topic_embedder", "code"} <= set(article.model_versions)
    assert article.keyphrases
    assert 1 <= len(article.keyphrases) <= 5
    assert article.keyphrases[0]["score"] == 1.0
    pending = db_session.scalar(
        select(func.count()).where(OutboxEvent.article_id == article_id, OutboxEvent.completed_at.is_(None))
    )
    assert pending == 0, "the worker completes the outbox job"
    for entity_id, count, n_mentions in first[0]:
        assert count == n_mentions
        assert db_session.get(Entity, entity_id) is not None


def test_mention_offsets_point_into_the_stored_text(
    db_session: Session, sample_ids: list[int], enricher: Enricher
) -> None:
    for article_id in sample_ids:
        service.enrich_article(session=db_session, article_id=article_id, enricher=enricher)
    db_session.commit()
    checked = 0
    for article_id in sample_ids:
        article = db_session.get(Article, article_id)
        assert article is not None
        for ae in db_session.scalars(select(ArticleEntity).where(ArticleEntity.article_id == article_id)):
            for m in ae.mentions:
                source = article.title if m["field"] == "title" else article.text
                assert source[m["start"] : m["end"]] == m["text"]
                checked += 1
    assert checked > 50


def test_failure_is_recorded_with_its_error(db_session: Session, sample_ids: list[int]) -> None:
    service.mark_failed(
        session=db_session, article_id=sample_ids[1], error="RuntimeError: model crashed", attempts=6
    )
    db_session.commit()
    article = db_session.get(Article, sample_ids[1])
    assert article is not None
    db_session.refresh(article)
    assert (article.status, article.error, article.attempts) == ("failed", "RuntimeError: model crashed", 6)


def test_read_api_filters_detail_and_pagination(
    db_session: Session, sample_ids: list[int], enricher: Enricher, api_client: httpx.Client
) -> None:
    for article_id in sample_ids:
        service.enrich_article(session=db_session, article_id=article_id, enricher=enricher)
    db_session.commit()

    listing = api_client.get("/v1/articles", params={"status": "enriched", "limit": 100}).json()
    assert {a["id"] for a in listing["items"]} >= set(sample_ids)
    assert listing["next_cursor"] is None

    # keyset pagination: pages of 2 cover everything exactly once, newest first
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 2, "source": "samples"}
        if cursor:
            params["cursor"] = cursor
        page = api_client.get("/v1/articles", params=params).json()
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(sample_ids, reverse=True)

    by_person = api_client.get("/v1/articles", params={"entity": "Hillary Clinton"}).json()["items"]
    assert by_person
    assert all(a["id"] in sample_ids for a in by_person)
    nato = api_client.get("/v1/entities", params={"prefix": "nato", "type": "ORG"}).json()["items"]
    assert nato
    assert nato[0]["name"] == "NATO"
    by_id = api_client.get("/v1/articles", params={"entity": str(nato[0]["id"])}).json()["items"]
    assert len(by_id) == nato[0]["article_count"]
    both = api_client.get("/v1/articles", params={"entity": ["Hillary Clinton", "NATO"]}).json()["items"]
    assert {a["id"] for a in both} <= {a["id"] for a in by_person}

    detail = api_client.get(f"/v1/articles/{sample_ids[0]}").json()
    assert detail["entities"]
    assert detail["topics"]
    assert detail["topics"][0]["label"] in {"politics", "conflict, war and peace"}
    assert all(0.0 <= t["score"] <= 1.0 for t in detail["topics"])
    assert detail["keyphrases"]
    assert all(k["phrase"] in detail["title"] + detail["text"] for k in detail["keyphrases"])
    assert detail["removed"], "the cleaner's removals are shown with reasons"
    types = {(e["name"], e["type"]) for e in detail["entities"]}
    assert ("Pakistan", "GPE") in types

    topics = api_client.get("/v1/topics").json()["items"]
    assert len(topics) == 17
    top = max(topics, key=lambda t: t["article_count"])
    filtered = api_client.get("/v1/articles", params={"topic": top["label"], "limit": 100}).json()["items"]
    assert len(filtered) == top["article_count"]

    persons = api_client.get("/v1/entities", params={"type": "PERSON", "limit": 3}).json()
    assert all(e["type"] == "PERSON" for e in persons["items"])
    counts = [e["article_count"] for e in persons["items"]]
    assert counts == sorted(counts, reverse=True)
    if persons["next_cursor"]:
        more = api_client.get(
            "/v1/entities", params={"type": "PERSON", "limit": 3, "cursor": persons["next_cursor"]}
        )
        assert not {e["id"] for e in more.json()["items"]} & {e["id"] for e in persons["items"]}

    dated = api_client.get(
        "/v1/articles", params={"published_from": "2023-01-01T00:00:00Z", "sort": "published"}
    )
    assert all(a["published_at"] >= "2023-01-01" for a in dated.json()["items"])


def test_new_articles_do_not_shift_later_pages(api_client: httpx.Client, ingest_client: httpx.Client) -> None:
    for _ in range(3):
        ingest_client.post("/v1/articles", json=article_payload(source="pager"))
    first = api_client.get("/v1/articles", params={"source": "pager", "limit": 2}).json()
    ingest_client.post("/v1/articles", json=article_payload(source="pager"))  # arrives meanwhile
    second = api_client.get(
        "/v1/articles", params={"source": "pager", "limit": 2, "cursor": first["next_cursor"]}
    )
    ids = [a["id"] for a in first["items"]] + [a["id"] for a in second.json()["items"]]
    assert len(ids) == 3
    assert len(set(ids)) == 3


@pytest.mark.parametrize(
    ("path", "params", "status", "error"),
    [
        ("/v1/articles", {"cursor": "garbage!"}, 400, "invalid_cursor"),
        ("/v1/articles", {"limit": 0}, 422, "validation_error"),
        ("/v1/articles", {"status": "bogus"}, 422, "validation_error"),
        ("/v1/articles", {"topic": "no-such-topic"}, 422, "validation_error"),
        ("/v1/articles", {"published_from": "not a date"}, 422, "validation_error"),
        ("/v1/articles/999999999", {}, 404, "not_found"),
        ("/v1/articles/abc", {}, 422, "validation_error"),
        ("/v1/entities/999999999", {}, 404, "not_found"),
    ],
)
def test_read_api_errors_are_json(
    api_client: httpx.Client, path: str, params: dict[str, object], status: int, error: str
) -> None:
    response = api_client.get(path, params=params)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error


def test_article_detail_shows_its_stage_timestamps(
    db_session: Session, api_client: httpx.Client, sample_ids: list[int], enricher: Enricher
) -> None:
    article_id = sample_ids[0]
    queued = api_client.get(f"/v1/articles/{article_id}").json()["stages"]
    assert all(queued[k] for k in ("received_at", "cleaned_at", "stored_at")), queued
    assert queued["enriched_at"] is None
    assert queued["available_after_s"] is None

    service.mark_started(session=db_session, article_id=article_id)  # as the task does
    assert service.enrich_article(session=db_session, article_id=article_id, enricher=enricher) == "enriched"
    db_session.commit()
    stages = api_client.get(f"/v1/articles/{article_id}").json()["stages"]
    order = ["received_at", "cleaned_at", "stored_at", "enrich_started_at", "enriched_at"]
    times = [datetime.fromisoformat(stages[k]) for k in order]
    assert times == sorted(times), stages
    assert stages["available_after_s"] == pytest.approx((times[-1] - times[0]).total_seconds(), abs=0.01)
    assert stages["failed_at"] is None

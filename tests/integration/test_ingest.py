"""The ingest service over HTTP (in-process ASGI) on a real PostgreSQL and Redis."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.models import Article, OutboxEvent
from shared.settings import get_settings
from tests.factories import article_payload, sample_texts


def _queued_article_ids(client: redis.Redis) -> list[int]:
    """Decode the Celery messages waiting in the enrich queue: (args, kwargs, embed) JSON bodies."""
    ids = []
    for raw in client.lrange(get_settings().enrich_queue, 0, -1):
        message = json.loads(raw)
        assert message["headers"]["task"] == "newswire.enrich_article"
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        ids.append(args[0])
    return ids


def test_accepts_article_stores_it_with_outbox_and_publishes(
    ingest_client: httpx.Client, db_session: Session, redis_client: redis.Redis
) -> None:
    payload = article_payload(url="https://News.Example.com/a/story?utm_source=x&id=7#top")
    response = ingest_client.post("/v1/articles", json=payload)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued"
    assert body["canonical_url"] == "https://news.example.com/a/story?id=7"
    article = db_session.get(Article, body["id"])
    assert article is not None
    assert article.status == "queued"
    assert article.raw_content == payload["text"]
    assert article.raw_format == "text"
    assert "interest rate" in article.text
    event = db_session.scalars(select(OutboxEvent).where(OutboxEvent.article_id == article.id)).one()
    assert event.published_at is not None, "the job is published right after the commit"
    assert article.id in _queued_article_ids(redis_client)


def test_exact_duplicates_by_url_and_by_text(ingest_client: httpx.Client, db_session: Session) -> None:
    first = article_payload()
    original = ingest_client.post("/v1/articles", json=first).json()

    again = ingest_client.post("/v1/articles", json=first)
    assert again.status_code == 200
    assert again.json() == {
        **again.json(),
        "id": original["id"],
        "status": "duplicate",
        "duplicate_method": "url",
    }

    same_text_other_url = {**first, "url": first["url"] + "-syndicated", "text": first["text"].upper() + "  "}
    dup = ingest_client.post("/v1/articles", json=same_text_other_url).json()
    assert (dup["status"], dup["duplicate_of"]) == ("duplicate", original["id"])
    assert (dup["duplicate_method"], dup["similarity"]) == ("exact", 1.0)
    row = db_session.get(Article, dup["id"])  # the copy is kept, linked to its original, never queued
    assert row is not None
    assert (row.status, row.duplicate_of, row.duplicate_method) == ("duplicate", original["id"], "exact")
    assert not db_session.scalars(select(OutboxEvent).where(OutboxEvent.article_id == row.id)).all()

    stored = db_session.scalars(select(Article).where(Article.duplicate_of.is_(None))).all()
    assert len([a for a in stored if a.title == first["title"]]) == 1


def test_external_id_makes_retries_idempotent(ingest_client: httpx.Client) -> None:
    payload = article_payload(external_id="feed-42")
    first = ingest_client.post("/v1/articles", json=payload).json()
    retried = ingest_client.post("/v1/articles", json={**payload, "url": payload["url"] + "?v=2"}).json()
    assert retried["status"] == "duplicate"
    assert retried["id"] == first["id"]
    assert retried["duplicate_method"] == "external_id"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"title": "x", "text": "y"}, 422, "validation_error"),  # no url
        ({"url": "ftp://a.b/c", "title": "x", "text": "y"}, 422, "validation_error"),
        ({"url": "https://a.b/c", "title": "x", "text": "y", "html": "<p>y</p>"}, 422, "validation_error"),
        ({"url": "https://a.b/c", "title": "x"}, 422, "validation_error"),  # neither html nor text
        ({"url": "https://a.b/c", "title": "x", "text": "y", "colour": "red"}, 422, "validation_error"),
        (
            {"url": "https://a.b/c", "title": "x", "text": "y", "published_at": "yesterday"},
            422,
            "validation_error",
        ),
        (
            {"url": "https://a.b/c", "title": "x", "text": "y", "published_at": "2024-01-01T00:00:00"},
            422,
            "validation_error",
        ),  # no time zone
        ({"url": "https://a.b/c", "title": "x", "text": "   "}, 422, "validation_error"),
        (["not", "an", "object"], 422, "validation_error"),
    ],
)
def test_invalid_articles_get_422_with_json_error(
    ingest_client: httpx.Client, body: object, status: int, error: str
) -> None:
    response = ingest_client.post("/v1/articles", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.json()["detail"]


def test_malformed_json_wrong_type_and_bad_bytes(ingest_client: httpx.Client) -> None:
    r = ingest_client.post("/v1/articles", content=b'{"url": ', headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["error"]) == (422, "malformed_json")
    r = ingest_client.post("/v1/articles", content=b"url=x", headers={"content-type": "text/plain"})
    assert (r.status_code, r.json()["error"]) == (415, "unsupported_media_type")
    r = ingest_client.post(
        "/v1/articles", content=b'{"a": "\xff\xfe"}', headers={"content-type": "application/json"}
    )
    assert (r.status_code, r.json()["error"]) == (422, "malformed_body")
    r = ingest_client.post(
        "/v1/articles", content="[" * 100_000, headers={"content-type": "application/json"}
    )
    assert (r.status_code, r.json()["error"]) == (422, "malformed_json")


def test_limits_answer_413_and_422(ingest_client: httpx.Client) -> None:
    settings = get_settings()
    huge = "word " * (settings.max_body_bytes // 5 + 10)
    r = ingest_client.post("/v1/articles", json=article_payload(text=huge))
    assert (r.status_code, r.json()["error"]) == (413, "payload_too_large")

    long_text = "word " * (settings.max_text_chars // 5 + 10)
    if len(long_text) < settings.max_body_bytes:
        r = ingest_client.post("/v1/articles", json=article_payload(text=long_text))
        assert r.status_code == 422
        assert "longer than" in json.dumps(r.json()["detail"])

    items = [article_payload() for _ in range(settings.max_batch_size + 1)]
    r = ingest_client.post("/v1/articles/batch", json={"articles": items})
    assert (r.status_code, r.json()["error"]) == (413, "payload_too_large")


def test_chunked_body_without_length_is_limited(ingest_client: httpx.Client) -> None:
    settings = get_settings()

    def chunks() -> object:
        yield b'{"url": "https://a.b/c", "title": "t", "text": "'
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b"a" * 65536
        yield b'"}'

    r = ingest_client.post("/v1/articles", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_junk_only_text_is_rejected_not_stored(ingest_client: httpx.Client, db_session: Session) -> None:
    junk = "Share this article\nSign up for our newsletter\nCopyright 2024 Example News. All rights reserved."
    r = ingest_client.post("/v1/articles", json=article_payload(text=junk))
    assert r.status_code == 422
    assert r.json()["error"] == "empty_article"


def test_html_is_cleaned_and_script_never_stored_as_text(
    ingest_client: httpx.Client, db_session: Session
) -> None:
    html = (
        "<html><head><title>Storm hits coast</title><script>var tracking = 'SECRET-SCRIPT';</script>"
        "<style>.x{color:red}</style></head><body><nav>Home | World | Sport</nav>"
        "<article><h1>Storm hits coast</h1>"
        "<p>A powerful storm hit the northern coast on Monday, cutting power to thousands of homes and "
        "forcing the closure of several schools, officials said.</p><p>Emergency crews worked through the "
        "night to clear fallen trees from the main roads, and the weather service warned of more rain.</p>"
        "</article><footer>Copyright 2024 Example News</footer></body></html>"
    )
    r = ingest_client.post(
        "/v1/articles", json=article_payload(html=html, text=None, title="Storm hits coast")
    )
    assert r.status_code == 202, r.text
    article = db_session.get(Article, r.json()["id"])
    assert article is not None
    assert "powerful storm" in article.text
    assert "SECRET-SCRIPT" not in article.text
    assert "color:red" not in article.text
    assert article.raw_format == "html"
    assert article.raw_content == html


def test_batch_answers_per_item(ingest_client: httpx.Client) -> None:
    good = article_payload()
    items = [good, {"url": "nope", "title": "x", "text": "y"}, good, article_payload()]
    r = ingest_client.post("/v1/articles/batch", json={"articles": items})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [i["ok"] for i in body["items"]] == [True, False, True, True]
    assert body["items"][1]["error"] == "validation_error"
    assert body["items"][2]["result"]["status"] == "duplicate"
    assert body["items"][2]["result"]["id"] == body["items"][0]["result"]["id"]
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 1, 1)


def test_samples_are_cleaned_and_date_prefix_lifted(ingest_client: httpx.Client, db_session: Session) -> None:
    from newswire_cli.files import payloads

    ids = []
    for path in sample_texts():
        (payload,) = payloads(path, base_url="https://samples.test/a", source="samples")
        r = ingest_client.post("/v1/articles", json=payload)
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    articles = [db_session.get(Article, i) for i in ids]
    assert all(a is not None and a.text for a in articles)
    dated = [a for a in articles if a is not None and a.published_at is not None]
    assert any(a.published_at.year == 2023 for a in dated), (
        "the 'date 2023-02-12' prefix becomes published_at"
    )
    for a in articles:
        assert a is not None
        assert "Success! Check your inbox" not in a.text
        assert "See all newsletters" not in a.text
        assert a.cleaning["removed"], "what the cleaner dropped is kept with reasons"


def test_health_and_openapi(ingest_client: httpx.Client) -> None:
    assert ingest_client.get("/healthz").json() == {"status": "ok"}
    ready = ingest_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"
    spec = ingest_client.get("/openapi.json").json()
    assert "/v1/articles" in spec["paths"]
    assert ingest_client.get("/docs").status_code == 200
    r = ingest_client.get("/nope")
    assert (r.status_code, r.json()["error"]) == (404, "not_found")


@pytest.mark.parametrize("url", ["https://example.com:99999/a", "http://[::1/a", "https://:80/a"])
def test_malformed_urls_are_422_not_500(ingest_client: httpx.Client, url: str) -> None:
    r = ingest_client.post("/v1/articles", json=article_payload(url=url))
    assert (r.status_code, r.json()["error"]) == (422, "validation_error")

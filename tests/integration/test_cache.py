"""Answers cached in Redis (issue 16) by (normalised query, data version): a repeat is a hit with the same
body and ETag (304 kept), a new article or enrichment event makes a miss with the new answer, and a Redis
outage never errors (the answer is computed)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from services.api import cache
from shared.settings import get_settings
from tests.factories import stored_article


@pytest.fixture
def cache_on(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    monkeypatch.setattr(get_settings(), "api_cache_seconds", 30.0)
    monkeypatch.setattr(get_settings(), "redis_url", redis_url)


@pytest.mark.usefixtures("cache_on")
def test_repeats_hit_until_the_data_version_moves(api_client: httpx.Client, db_session: Session) -> None:
    first = stored_article(db_session, title="Copper prices climb")
    db_session.commit()
    params: dict[str, str | int] = {"q": "copper", "fields": "id,title", "limit": 5}
    miss = api_client.get("/v1/articles", params=params)
    assert (miss.status_code, miss.headers["X-Cache"]) == (200, "miss")
    reordered = api_client.get("/v1/articles", params=dict(reversed(list(params.items()))))
    assert reordered.headers["X-Cache"] == "hit", "the parameters' order is normalised away"
    assert (reordered.content, reordered.headers["ETag"]) == (miss.content, miss.headers["ETag"])
    not_modified = api_client.get(
        "/v1/articles", params=params, headers={"If-None-Match": miss.headers["ETag"]}
    )
    assert not_modified.status_code == 304
    for path in (f"/v1/articles/{first.id}", "/v1/articles/facets"):
        assert api_client.get(path).headers["X-Cache"] == "miss"
        assert api_client.get(path).headers["X-Cache"] == "hit"

    second = stored_article(db_session, title="Copper mines reopen")  # a new article: a new version
    db_session.commit()
    fresh = api_client.get("/v1/articles", params=params)
    assert fresh.headers["X-Cache"] == "miss"
    assert {i["id"] for i in fresh.json()["items"]} == {first.id, second.id}

    db_session.execute(
        text("UPDATE articles SET title = 'Copper output falls' WHERE id = :i"), {"i": first.id}
    )
    db_session.execute(text("INSERT INTO article_events (article_id) VALUES (:i)"), {"i": first.id})
    db_session.commit()  # what a re-enrichment writes at commit (the deferred trigger of migration 0013)
    detail = api_client.get(f"/v1/articles/{first.id}")
    assert (detail.headers["X-Cache"], detail.json()["title"]) == ("miss", "Copper output falls")


def test_a_redis_outage_never_errors(
    api_client: httpx.Client, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "api_cache_seconds", 30.0)
    monkeypatch.setattr(get_settings(), "redis_url", "redis://127.0.0.1:1/0")  # nothing listens there
    monkeypatch.setattr(cache, "_caches", {})
    stored_article(db_session, title="Wheat harvest")
    db_session.commit()
    for _ in range(3):
        response = api_client.get("/v1/articles", params={"q": "wheat"})
        assert response.status_code == 200, response.text
        assert response.headers["X-Cache"] == "miss"
        assert response.json()["items"]

"""Every read path of the read API, for tests that prove nothing a feed sends can make one answer 5xx:
the article list in each sort (followed over a few keyset pages, with and without duplicates), facets,
export, each article's detail and revisions, entities (list, detail, related, timeline), topics, stories,
the live stream (a short one), subscriptions' deliveries and the ops views. Works with an in-process
TestClient and with an httpx.Client on a real server alike."""

from __future__ import annotations

from typing import Any

from services.api.stream.service import event_id

STREAM_SECONDS = "0.3"


def _get(client: Any, seen: list[tuple[str, int, str]], path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    seen.append((f"{path}?{params}" if params else path, response.status_code, response.text[:300]))
    return response


def _pages(client: Any, seen: list[tuple[str, int, str]], path: str, pages: int, **params: Any) -> list[int]:
    ids: list[int] = []
    cursor = None
    for _ in range(pages):
        query = dict(params, limit=3, **({"cursor": cursor} if cursor else {}))
        response = _get(client, seen, path, **query)
        if response.status_code != 200:
            break
        body = response.json()
        ids += [item["id"] for item in body.get("items", [])]
        cursor = body.get("next_cursor")
        if not cursor:
            break
    return ids


def read_every_path(
    client: Any, *, article_ids: tuple[int, ...] = (), pages: int = 4
) -> list[tuple[str, int, str]]:
    """(request, status, start of the body) of every read; the caller asserts on the statuses."""
    seen: list[tuple[str, int, str]] = []
    listed: list[int] = []
    for sort in ("ingested", "published"):
        for extra in ({}, {"include_duplicates": "true"}):
            listed += _pages(client, seen, "/v1/articles", pages, sort=sort, **extra)
    _pages(client, seen, "/v1/articles", pages, sort="relevance", q="news")
    _pages(client, seen, "/v1/articles", pages, sort="published", published_from="1900-01-01T00:00:00Z")
    _pages(client, seen, "/v1/articles", pages, published_to="2100-01-01T00:00:00Z")
    _get(client, seen, "/v1/articles/facets")
    _get(client, seen, "/v1/articles/facets", include_duplicates="true")
    _get(client, seen, "/v1/articles/export")
    _get(client, seen, "/v1/articles/export", include_duplicates="true")
    for article_id in sorted(set(listed) | set(article_ids)):
        _get(client, seen, f"/v1/articles/{article_id}")
        _get(client, seen, f"/v1/articles/{article_id}/revisions")
    entities = _get(client, seen, "/v1/entities", limit=5)
    if entities.status_code == 200:
        for entity in entities.json().get("items", [])[:5]:
            _get(client, seen, f"/v1/entities/{entity['id']}")
            _get(client, seen, f"/v1/entities/{entity['id']}/related")
            _get(client, seen, f"/v1/entities/{entity['id']}/timeline")
    _get(client, seen, "/v1/topics")
    stories = _get(client, seen, "/v1/stories")
    if stories.status_code == 200:
        for story in stories.json().get("items", [])[:5]:
            _get(client, seen, f"/v1/stories/{story['id']}")
    _get(client, seen, "/v1/stream", max_seconds=STREAM_SECONDS)
    # from the start of the event log: every enriched article is serialised into the stream
    response = client.get(
        "/v1/stream",
        params={"max_seconds": STREAM_SECONDS},
        headers={"Last-Event-ID": event_id(0)},
    )
    seen.append(("/v1/stream from the start", response.status_code, response.text[:300]))
    _get(client, seen, "/v1/ops/sources")
    _get(client, seen, "/v1/ops/failed")
    _get(client, seen, "/v1/ops/completeness")
    return seen


def server_errors(seen: list[tuple[str, int, str]]) -> list[tuple[str, int, str]]:
    return [item for item in seen if item[1] >= 500]

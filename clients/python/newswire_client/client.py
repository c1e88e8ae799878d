"""A small typed client of the read API (httpx): search and list with filters, every page, facets, entity
views.  Errors raise `ApiError` carrying the JSON error body.

    with NewswireClient("http://127.0.0.1:8000", api_key="nw_...") as nw:
        for article in nw.iter_articles(q='"central bank" -crypto', entity=["ECB"], fields=["title"]):
            print(article["id"], article["title"])
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Literal, Self

import httpx

ParamValue = str | int | float | bool | date | datetime | Sequence[str] | None
Sort = Literal["ingested", "published", "relevance"]


class ApiError(Exception):
    def __init__(self, status_code: int, error: str, detail: Any) -> None:
        super().__init__(f"{status_code} {error}: {detail}")
        self.status_code = status_code
        self.error = error
        self.detail = detail


class ExportTruncated(Exception):
    """The export ended without its `{"end": {"count", "last_id"}}` line, or with another count: call
    `export` again with ``after_id`` = the last id received."""


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One Server-Sent Event of GET /v1/stream: ``event`` "article" with the article in ``data``; an event
    with ``data`` None only moves the position (``id``) a reconnect resumes from."""

    id: str | None
    event: str
    data: dict[str, Any] | None


def parse_sse(lines: Iterable[str]) -> Iterator[StreamEvent]:
    """The events of a text/event-stream (comment lines skipped), ``id`` carried over as the spec says."""
    last_id: str | None = None
    event, data, has_id = "message", list[str](), False
    for line in lines:
        if not line:
            if data or has_id:
                body = json.loads("\n".join(data)) if data else None
                yield StreamEvent(id=last_id, event=event, data=body)
            event, data, has_id = "message", [], False
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "id":
            last_id, has_id = value, True
        elif name == "event":
            event = value
        elif name == "data":
            data.append(value)


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    response.read()
    try:
        body = response.json()
        error, detail = body["error"], body["detail"]
    except (ValueError, KeyError, TypeError):
        error, detail = "http_error", response.text[:500]
    raise ApiError(response.status_code, error, detail)


def _params(values: Mapping[str, ParamValue]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or (isinstance(value, list | tuple) and not value):
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, date | datetime):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


class NewswireClient:
    """``http``: an httpx.Client to use as is (its base URL and headers), e.g. an app's test client."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = http or httpx.Client(base_url=base_url, headers=headers, timeout=timeout)
        self._owned = http is None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._owned:
            self.http.close()

    def get(self, path: str, **params: ParamValue) -> dict[str, Any]:
        response = self.http.get(path, params=_params(params))
        _raise_for(response)
        data: dict[str, Any] = response.json()
        return data

    def articles(
        self,
        *,
        sort: Sort | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        fields: Sequence[str] = (),
        **filters: ParamValue,
    ) -> dict[str, Any]:
        """One page: ``{"items": [...], "next_cursor": ...}``; ``filters`` as GET /v1/articles takes them
        (q, entity, entity_mode, entity_type, topic, min_topic_score, source, language, status,
        include_duplicates, published_from/_to, ingested_from/_to)."""
        return self.get(
            "/v1/articles",
            sort=sort,
            limit=limit,
            cursor=cursor,
            fields=",".join(fields) if fields else None,
            **filters,
        )

    def iter_articles(
        self,
        *,
        sort: Sort | None = None,
        limit: int | None = None,
        fields: Sequence[str] = (),
        **filters: ParamValue,
    ) -> Iterator[dict[str, Any]]:
        """Every matching article, page after page (the cursor pins a snapshot: no skips, no repeats)."""
        cursor = None
        while True:
            page = self.articles(sort=sort, limit=limit, cursor=cursor, fields=fields, **filters)
            yield from page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return

    def export(self, *, after_id: int | None = None, **filters: ParamValue) -> Iterator[dict[str, Any]]:
        """Every matching article with its body, entities and topics, streamed (NDJSON); raises
        `ExportTruncated` when the stream ends without its end line (cut short: call again with
        ``after_id`` = the last id received)."""
        params = _params({"after_id": after_id, **filters})
        with self.http.stream("GET", "/v1/articles/export", params=params) as response:
            if response.status_code >= 400:
                response.read()
                body = response.json()
                raise ApiError(response.status_code, body.get("error", "http_error"), body.get("detail"))
            count = 0
            for line in response.iter_lines():
                if not line:
                    continue
                item: dict[str, Any] = json.loads(line)
                if "end" in item:
                    if item["end"].get("count") != count:
                        raise ExportTruncated(
                            f"the export announced {item['end'].get('count')}, {count} came"
                        )
                    return
                count += 1
                yield item
        raise ExportTruncated(f"the export ended after {count} articles without its end line")

    def article(self, article_id: int) -> dict[str, Any]:
        return self.get(f"/v1/articles/{article_id}")

    def facets(self, *, limit: int | None = None, **filters: ParamValue) -> dict[str, Any]:
        return self.get("/v1/articles/facets", limit=limit, **filters)

    def entity(self, entity_id: int) -> dict[str, Any]:
        return self.get(f"/v1/entities/{entity_id}")

    def related(
        self, entity_id: int, *, type: Sequence[str] = (), limit: int | None = None
    ) -> dict[str, Any]:
        return self.get(f"/v1/entities/{entity_id}/related", type=list(type), limit=limit)

    def timeline(
        self, entity_id: int, *, start: date | str | None = None, end: date | str | None = None
    ) -> dict[str, Any]:
        return self.get(f"/v1/entities/{entity_id}/timeline", start=start, end=end)

    def stream(
        self,
        *,
        last_event_id: str | None = None,
        limit: int | None = None,
        max_seconds: float | None = None,
        **filters: ParamValue,
    ) -> Iterator[StreamEvent]:
        """The live stream (GET /v1/stream) with the filters of `articles`; resume a broken one by passing
        the ``id`` of the last event received as ``last_event_id``."""
        headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        params = _params({"limit": limit, "max_seconds": max_seconds, **filters})
        timeout = httpx.Timeout(self.http.timeout.connect, read=None)  # quiet streams are normal
        with self.http.stream(
            "GET", "/v1/stream", params=params, headers=headers, timeout=timeout
        ) as response:
            _raise_for(response)
            yield from parse_sse(response.iter_lines())

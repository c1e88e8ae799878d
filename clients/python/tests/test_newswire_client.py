"""The client against a real HTTP server on loopback answering as the read API does (status, JSON error
shape, cursor pages, NDJSON export with its end line, Server-Sent Events)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from newswire_client import ApiError, ExportTruncated, NewswireClient, StreamEvent, parse_sse

Answer = tuple[int, str, bytes]  # status, content type, body
Route = Callable[[dict[str, list[str]], dict[str, str]], Answer]


class FakeApi:
    """Routes by path; records every request (path, query, headers)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []


def _json(status: int, body: Any) -> Answer:
    return status, "application/json", json.dumps(body).encode()


@pytest.fixture
def api() -> Iterator[tuple[FakeApi, str]]:
    fake = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            headers = {k.lower(): v for k, v in self.headers.items()}
            fake.requests.append((parts.path, query, headers))
            route = fake.routes.get(parts.path)
            status, ctype, body = route(query, headers) if route else _json(404, {"error": "not_found"})
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_iter_articles_follows_the_cursor_and_encodes_filters(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    pages = {None: ([{"id": 3}, {"id": 2}], "c1"), "c1": ([{"id": 1}], None)}

    def articles(query: dict[str, list[str]], _: dict[str, str]) -> Answer:
        items, nxt = pages[query.get("cursor", [None])[0]]
        return _json(200, {"items": items, "next_cursor": nxt})

    fake.routes["/v1/articles"] = articles
    with NewswireClient(url, api_key="nw_secret") as nw:
        got = list(
            nw.iter_articles(
                entity=["ECB", "Fed"],
                include_duplicates=True,
                published_from=date(2026, 11, 1),
                source=None,
                topic=[],
                fields=["title", "id"],
                limit=2,
            )
        )
    assert [a["id"] for a in got] == [3, 2, 1]
    assert len(fake.requests) == 2
    _, query, headers = fake.requests[0]
    assert headers["authorization"] == "Bearer nw_secret"
    assert query["entity"] == ["ECB", "Fed"]
    assert query["include_duplicates"] == ["true"]
    assert query["published_from"] == ["2026-11-01"]
    assert query["fields"] == ["title,id"]
    assert query["limit"] == ["2"]
    assert not {"source", "topic", "cursor"} & query.keys()
    assert fake.requests[1][1]["cursor"] == ["c1"]


def test_an_error_answer_raises_api_error_with_the_json_body(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    fake.routes["/v1/articles"] = lambda q, h: _json(422, {"error": "validation_error", "detail": ["bad"]})
    fake.routes["/v1/articles/9"] = lambda q, h: (502, "text/html", b"<h1>Bad gateway</h1>")
    with NewswireClient(url) as nw:
        with pytest.raises(ApiError) as caught:
            nw.articles(q="x")
        assert (caught.value.status_code, caught.value.error, caught.value.detail) == (
            422,
            "validation_error",
            ["bad"],
        )
        with pytest.raises(ApiError) as caught:
            nw.article(9)
        assert caught.value.status_code == 502
        assert caught.value.error == "http_error"
        assert "Bad gateway" in caught.value.detail
    assert "authorization" not in fake.requests[0][2]


def _ndjson(*items: Any) -> Answer:
    return 200, "application/x-ndjson", "".join(json.dumps(i) + "\n" for i in items).encode()


def test_export_checks_the_end_line(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    with NewswireClient(url) as nw:
        fake.routes["/v1/articles/export"] = lambda q, h: _ndjson({"id": 1}, {"id": 2}, {"end": {"count": 2}})
        assert [a["id"] for a in nw.export(after_id=0, source=["wire"])] == [1, 2]
        assert fake.requests[-1][1] == {"after_id": ["0"], "source": ["wire"]}

        fake.routes["/v1/articles/export"] = lambda q, h: _ndjson({"id": 1}, {"id": 2})
        received: list[int] = []
        with pytest.raises(ExportTruncated):
            received.extend(a["id"] for a in nw.export())
        assert received == [1, 2]  # what came is kept: resume with after_id=2

        fake.routes["/v1/articles/export"] = lambda q, h: _ndjson({"id": 1}, {"end": {"count": 5}})
        with pytest.raises(ExportTruncated):
            list(nw.export())

        fake.routes["/v1/articles/export"] = lambda q, h: _json(
            403, {"error": "forbidden", "detail": "scope"}
        )
        with pytest.raises(ApiError) as caught:
            list(nw.export())
        assert caught.value.error == "forbidden"


def test_stream_resumes_from_the_last_event_id(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    body = b': hello\n\nretry: 2000\nid: p1\n\nid: p2\nevent: article\ndata: {"id": 7}\n\n'
    fake.routes["/v1/stream"] = lambda q, h: (200, "text/event-stream", body)
    with NewswireClient(url) as nw:
        events = list(nw.stream(last_event_id="p0", entity=["ECB"], max_seconds=1))
    assert events == [
        StreamEvent(id="p1", event="message", data=None),
        StreamEvent("p2", "article", {"id": 7}),
    ]
    _, query, headers = fake.requests[0]
    assert headers["last-event-id"] == "p0"
    assert query == {"entity": ["ECB"], "max_seconds": ["1"]}


def test_parse_sse_joins_data_lines_and_carries_the_id() -> None:
    lines = [
        "id: a",
        "data: {",
        'data: "x": 1}',
        "",
        ": keep-alive",
        "",
        "event: article",
        'data: {"y": 2}',
        "",
    ]
    assert list(parse_sse(lines)) == [
        StreamEvent(id="a", event="message", data={"x": 1}),
        StreamEvent(id="a", event="article", data={"y": 2}),
    ]

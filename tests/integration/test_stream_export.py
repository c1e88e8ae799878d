"""The live stream (GET /v1/stream) and the export (GET /v1/articles/export) against a real PostgreSQL whose
transactions really commit: the enrichment events are written by a trigger that fires at commit time.  The
API runs in a uvicorn server in a thread and is read over real HTTP (webhooks: tests/integration/
test_webhooks.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, pool
from sqlalchemy.orm import sessionmaker

from newswire_client import ApiError, ExportTruncated, NewswireClient, StreamEvent
from services.api.stream import endpoints as stream_endpoints
from shared.models import ArticleEvent, Entity
from shared.settings import get_settings
from tests.factories import Committed, stored_article
from tests.support.live import live_server, wait_for
from tests.support.receiver import QuietHandler, serving


@dataclass
class Live(Committed):
    url: str
    key: str
    admin_key: str

    def client(self) -> NewswireClient:
        return NewswireClient(self.url, api_key=self.key, timeout=30)


@pytest.fixture(scope="module")
def live(fresh_database: Any) -> Iterator[Live]:
    from services.api.app import create_app
    from shared.auth import service as auth

    engine = create_engine(fresh_database("streams"), poolclass=pool.NullPool)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session:
        key = auth.create_key(session=session, name="streams", scopes=["read"]).key
        admin_key = auth.create_key(session=session, name="hooks", scopes=["admin"], any_source=True).key
        session.commit()
    app = create_app()
    app.state.session_factory = factory
    try:
        with live_server(app) as url:
            yield Live(factory=factory, url=url, key=key, admin_key=admin_key)
    finally:
        engine.dispose()


def _articles(events: Iterator[StreamEvent], n: int) -> list[StreamEvent]:
    out = []
    for event in events:
        if event.event == "article":
            out.append(event)
            if len(out) == n:
                break
    return out


def test_stream_sends_matching_articles_enriched_after_connecting(live: Live) -> None:
    before = live.stored(source="wire-a")
    live.enrich(*before)  # enriched before the connection: not sent
    a1, a2 = live.stored(2, source="wire-a")
    (b1,) = live.stored(source="wire-b")
    with live.client() as nw:
        events = nw.stream(source=["wire-a"], limit=2, max_seconds=60)
        opening = next(events)  # the stream is open: its position is sent first
        assert opening.data is None
        assert opening.id
        live.enrich(a1)
        live.enrich(b1)  # another source: filtered out
        live.enrich(a2)
        got = _articles(events, 2)
    assert [e.data["id"] for e in got if e.data] == [a1, a2]
    assert all(e.data and e.data["source"] == "wire-a" and e.data["status"] == "enriched" for e in got)


def test_reconnect_with_last_event_id_gets_what_was_missed_and_nothing_twice(live: Live) -> None:
    ids = live.stored(4, source="wire-c")
    with live.client() as nw:
        events = nw.stream(source=["wire-c"], max_seconds=60)
        start = next(events).id
        live.enrich(ids[0])
        (first,) = _articles(events, 1)
        events.close()  # the client goes: the server ends that stream
        wait_for(lambda: stream_endpoints._open_streams == 0, "the stream closed on the server", timeout=20)
        assert first.data
        assert first.data["id"] == ids[0]
        live.enrich(ids[1], ids[2])  # while disconnected
        resumed = nw.stream(source=["wire-c"], last_event_id=first.id, limit=3, max_seconds=60)
        missed = _articles(resumed, 2)
        live.enrich(ids[3])
        later = _articles(resumed, 1)
        again = nw.stream(source=["wire-c"], last_event_id=start, limit=4, max_seconds=60)
        replay = _articles(again, 4)
    assert [e.data["id"] for e in missed + later if e.data] == ids[1:]
    assert [e.data["id"] for e in replay if e.data] == ids, "from the opening position: all four, once each"
    assert len({e.id for e in replay}) == 4


def test_stream_sends_a_reenriched_article_again(live: Live) -> None:
    (article_id,) = live.stored(source="wire-d")
    live.enrich(article_id)
    with live.factory() as session:
        seqs = session.query(ArticleEvent.seq).filter(ArticleEvent.article_id == article_id).all()
    assert len(seqs) == 1, "one event per enrichment, written at commit"
    with live.client() as nw:
        events = nw.stream(source=["wire-d"], limit=1, max_seconds=60)
        next(events)
        live.enrich(article_id)
        (event,) = _articles(events, 1)
    assert event.data
    assert event.data["id"] == article_id


def test_heartbeats_move_the_position_past_articles_that_do_not_match(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "stream_heartbeat_seconds", 0.2)
    (other,) = live.stored(source="wire-other")
    with live.client() as nw:
        events = nw.stream(source=["wire-quiet"], max_seconds=60)
        opening = next(events)
        live.enrich(other)
        moved = next(e for e in events if e.id != opening.id)
        events.close()
        (quiet,) = live.stored(source="wire-quiet")
        live.enrich(quiet)
        (resumed,) = _articles(
            nw.stream(source=["wire-quiet"], last_event_id=moved.id, limit=1, max_seconds=60), 1
        )
    assert moved.event == "message"
    assert moved.data is None, "a position only, no article"
    assert resumed.data
    assert resumed.data["id"] == quiet


def test_stream_ends_after_max_seconds_and_refuses_a_foreign_event_id(live: Live) -> None:
    with live.client() as nw:
        assert all(e.event != "article" for e in nw.stream(source=["nobody"], max_seconds=0.5))
        with pytest.raises(ApiError) as bad:
            next(nw.stream(last_event_id="not-an-id"))
        assert bad.value.status_code == 400
        assert bad.value.error == "invalid_cursor"
        with pytest.raises(ApiError) as unknown_topic:
            next(nw.stream(topic=["no-such-topic"]))
        assert unknown_topic.value.status_code == 422
    response = httpx.get(f"{live.url}/v1/stream", params={"max_seconds": 1})
    assert response.status_code == 401


def test_export_streams_every_match_in_chunks_with_enrichments(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "export_chunk_size", 3)  # several chunks for a few articles
    with live.factory() as session:
        entity = Entity(name="Export Bank", type="ORG")
        session.add(entity)
        session.flush()
        for i in range(11):
            stored_article(session, source="wire-x", entities=[(entity, i + 1)] if i % 2 else [])
        stored_article(session, source="wire-y")
        stored_article(session, source="wire-x", status="duplicate")
        session.commit()
    with live.client() as nw:
        listed = [a["id"] for a in nw.iter_articles(source=["wire-x"], limit=4, fields=["id"])]
        exported = list(nw.export(source=["wire-x"]))
        with_entity = list(nw.export(source=["wire-x"], entity=[str(entity.id)]))
    assert len(listed) == 11
    assert sorted(listed) == [a["id"] for a in exported], "the same articles, oldest first, once each"
    assert len(with_entity) == 5
    assert all(a["entities"][0]["name"] == "Export Bank" and a["text"] for a in with_entity)
    compressed = httpx.get(
        f"{live.url}/v1/articles/export",
        params={"source": "wire-x"},
        headers={"Authorization": f"Bearer {live.key}", "Accept-Encoding": "gzip"},
    )
    assert compressed.headers["content-encoding"] == "gzip"
    lines = compressed.text.splitlines()  # httpx decompressed it
    assert json.loads(lines[-1])["end"]["count"] == 11


def test_export_without_its_end_line_is_detected() -> None:
    """A server that stops mid-export (a real HTTP server in a thread sending two lines and no end)."""

    class Cut(QuietHandler):
        def do_GET(self) -> None:
            body = b'{"id": 1}\n{"id": 2}\n'
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serving(Cut) as url, NewswireClient(url) as nw:
        items = nw.export()
        assert next(items)["id"] == 1
        with pytest.raises(ExportTruncated):
            list(items)


def test_new_routes_document_every_parameter_with_an_example(live: Live) -> None:
    spec = httpx.get(f"{live.url}/openapi.json").json()
    for path in ("/v1/stream", "/v1/articles/export", "/v1/subscriptions/{subscription_id}/deliveries"):
        parameters = spec["paths"][path]["get"]["parameters"]
        assert len(parameters) >= 2, path
        for parameter in parameters:
            assert parameter.get("description"), (path, parameter["name"])
            assert parameter.get("examples") or parameter["schema"].get("examples"), (path, parameter["name"])
    assert "text/event-stream" in spec["paths"]["/v1/stream"]["get"]["responses"]["200"]["content"]
    assert (
        "application/x-ndjson" in spec["paths"]["/v1/articles/export"]["get"]["responses"]["200"]["content"]
    )


def test_open_streams_are_capped_per_key_with_429(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "stream_max_per_key", 1)
    headers = {"Authorization": f"Bearer {live.key}"}
    with httpx.Client(base_url=live.url, headers=headers, timeout=30) as http:
        with http.stream("GET", "/v1/stream", params={"max_seconds": 30}) as first:
            assert first.status_code == 200
            lines = first.iter_lines()  # kept: a dropped line iterator closes the connection
            next(lines)  # the stream is open on the server
            second = http.get("/v1/stream", params={"max_seconds": 1})
        wait_for(lambda: stream_endpoints._open_streams == 0, "the first stream closed on the server")
        third = http.get("/v1/stream", params={"max_seconds": 0.5})
    assert second.status_code == 429, second.text
    assert second.json()["error"] == "rate_limited"
    assert "streams open" in second.json()["detail"]
    assert int(second.headers["Retry-After"]) > 0
    assert third.status_code == 200, "the slot came back when the first stream ended"

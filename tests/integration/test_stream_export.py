"""The live stream (GET /v1/stream), the export (GET /v1/articles/export) and the webhooks of saved
queries against a real PostgreSQL whose transactions really commit: the enrichment events are written by a
trigger that fires at commit time.  The API (with its webhook loop) runs in a uvicorn server in a thread and
is read over real HTTP; webhook receivers are real HTTP servers in threads."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, pool
from sqlalchemy.orm import Session, sessionmaker

from services.api.stream import endpoints as stream_endpoints
from services.enrich.articles.repository import replace_enrichment
from shared.client import ApiError, ExportTruncated, NewswireClient, StreamEvent
from shared.models import ArticleEvent, Entity
from shared.settings import get_settings
from tests.e2e.harness import free_port
from tests.factories import stored_article


@dataclass
class Live:
    factory: sessionmaker[Session]
    url: str
    key: str
    admin_key: str

    def client(self) -> NewswireClient:
        return NewswireClient(self.url, api_key=self.key, timeout=30)

    def stored(self, n: int = 1, **fields: Any) -> list[int]:
        """Queued articles (no event yet)."""
        with self.factory() as session:
            ids = [stored_article(session, status="queued", **fields).id for _ in range(n)]
            session.commit()
        return ids

    def enrich(self, *ids: int) -> None:
        """The worker's write of an enrichment (services.enrich), in one committed transaction."""
        with self.factory() as session:
            for article_id in ids:
                replace_enrichment(
                    session,
                    article_id=article_id,
                    entity_rows=[],
                    topic_rows=[],
                    keyphrases=[],
                    language="en",
                    language_confidence=0.99,
                    model_versions={},
                    attempts=1,
                )
            session.commit()


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
    app = create_app(run_webhooks=True)
    app.state.session_factory = factory
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            pytest.fail("the API server did not start")
        time.sleep(0.05)
    try:
        yield Live(factory=factory, url=f"http://127.0.0.1:{port}", key=key, admin_key=admin_key)
    finally:
        server.should_exit = True
        thread.join(30)
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
        _wait_for(lambda: stream_endpoints._open_streams == 0, "the stream closed on the server", timeout=20)
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

    class Cut(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"id": 1}\n{"id": 2}\n'
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Cut)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with NewswireClient(f"http://127.0.0.1:{server.server_address[1]}") as nw:
            items = nw.export()
            assert next(items)["id"] == 1
            with pytest.raises(ExportTruncated):
                list(items)
    finally:
        server.shutdown()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int


@contextlib.contextmanager
def receiver(fail_first: int) -> Iterator[tuple[str, list[Received]]]:
    """A webhook subscriber: answers 500 to its first ``fail_first`` requests, then 204."""
    received: list[Received] = []
    lock = threading.Lock()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                status = 500 if len(received) < fail_first else 204
                received.append(Received(dict(self.headers.items()), body, status))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not after {timeout} s: {what}")
        time.sleep(0.1)


def _admin(live: Live) -> httpx.Client:
    return httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {live.admin_key}"}, timeout=30)


def test_webhook_is_signed_retried_until_it_succeeds_with_one_delivery_id(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "webhook_retry_base_seconds", 0.2)
    secret = "s3cret-for-the-hook-test"
    with receiver(fail_first=2) as (url, received), _admin(live) as admin:
        created = admin.post(
            "/v1/subscriptions",
            json={"name": "hook a", "url": url, "secret": secret, "filter": {"source": ["hook-a"]}},
        )
        assert created.status_code == 201, created.text
        sub = created.json()
        assert sub["secret"] == secret
        (a1,) = live.stored(source="hook-a")
        (b1,) = live.stored(source="hook-b")  # does not match
        live.enrich(a1, b1)
        _wait_for(lambda: any(r.answered == 204 for r in received), "a delivery accepted")
        deliveries = admin.get(f"/v1/subscriptions/{sub['id']}/deliveries").json()["items"]
        listed = admin.get("/v1/subscriptions").json()["items"]
    assert [r.answered for r in received] == [500, 500, 204], "retried after each failure, then stopped"
    assert len({r.headers["Newswire-Delivery"] for r in received}) == 1, "the same delivery id every attempt"
    for r in received:
        fields = dict(part.split("=", 1) for part in r.headers["Newswire-Signature"].split(","))
        expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + r.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(fields["v1"], expected)
        payload = json.loads(r.body)
        assert payload["article"]["id"] == a1
        assert payload["delivery_id"] == r.headers["Newswire-Delivery"]
    (delivery,) = deliveries
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 3
    assert delivery["last_status_code"] == 204
    assert next(s for s in listed if s["id"] == sub["id"])["deliveries"] == {
        "pending": 0,
        "delivered": 1,
        "failed": 0,
    }
    assert "secret" not in listed[0]


def test_a_receiver_that_keeps_failing_ends_in_failed_deliveries(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "webhook_retry_base_seconds", 0.1)
    monkeypatch.setattr(get_settings(), "webhook_max_attempts", 2)
    with receiver(fail_first=1_000) as (url, received), _admin(live) as admin:
        sub = admin.post(
            "/v1/subscriptions", json={"name": "down", "url": url, "filter": {"source": ["hook-down"]}}
        ).json()
        ids = live.stored(2, source="hook-down")
        live.enrich(*ids)
        failed_url = f"/v1/subscriptions/{sub['id']}/deliveries"
        _wait_for(
            lambda: len(admin.get(failed_url, params={"status": "failed"}).json()["items"]) == 2,
            "both deliveries failed",
        )
        failed = admin.get(failed_url, params={"status": "failed"}).json()["items"]
        sent_before_retry = len(received)
        retried = admin.post(f"{failed_url}/retry").json()
        _wait_for(lambda: len(received) > sent_before_retry, "a failed delivery sent again")
        assert admin.post("/v1/subscriptions/999999/deliveries/retry").status_code == 404
    assert retried == {"requeued": 2}
    assert sorted(d["article_id"] for d in failed) == sorted(ids)
    assert all(d["attempts"] == 2 and d["last_status_code"] == 500 for d in failed)
    assert len({d["delivery_id"] for d in failed}) == 2
    assert sent_before_retry == 4


def test_subscriptions_are_validated_listed_and_deleted(live: Live) -> None:
    with _admin(live) as admin:
        bad_url = admin.post("/v1/subscriptions", json={"name": "x", "url": "ftp://nope"})
        bad_topic = admin.post(
            "/v1/subscriptions",
            json={"name": "x", "url": "http://127.0.0.1:9/", "filter": {"topic": ["no-such-topic"]}},
        )
        created = admin.post("/v1/subscriptions", json={"name": "gone", "url": "http://127.0.0.1:9/"})
        sub_id = created.json()["id"]
        assert len(created.json()["secret"]) >= 32, "a secret is made when none is given"
        assert admin.get(f"/v1/subscriptions/{sub_id}").status_code == 200
        assert admin.delete(f"/v1/subscriptions/{sub_id}").status_code == 204
        assert admin.get(f"/v1/subscriptions/{sub_id}").status_code == 404
        assert admin.delete(f"/v1/subscriptions/{sub_id}").status_code == 404
    assert bad_url.status_code == 422
    assert bad_topic.status_code == 422
    assert set(bad_topic.json()) == {"error", "detail"}
    read_only = httpx.get(f"{live.url}/v1/subscriptions", headers={"Authorization": f"Bearer {live.key}"})
    assert read_only.status_code == 403


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

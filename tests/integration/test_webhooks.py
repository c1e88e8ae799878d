"""Webhooks of saved queries, end to end over real HTTP: the read API (uvicorn in a thread) takes the
subscriptions, the webhook process's dispatcher (`newswire webhooks`, in a thread) matches, claims and POSTs
to real local receivers (HTTP servers in threads), against a real PostgreSQL whose transactions commit.

Local receivers are loopback addresses: the module runs with NEWSWIRE_WEBHOOK_ALLOW_PRIVATE=true, except
where a test proves a loopback URL is refused without it."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, pool
from sqlalchemy.orm import sessionmaker

from services.api.subscriptions import egress
from services.api.subscriptions.tasks import Dispatcher
from shared.settings import get_settings
from tests.factories import Committed
from tests.support.live import live_server, wait_for
from tests.support.receiver import receiver, status


@dataclass
class Hooks(Committed):
    url: str
    admin_key: str

    def admin(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.admin_key}"}, timeout=30
        )

    def subscribe(self, url: str, source: str, **extra: Any) -> dict[str, Any]:
        with self.admin() as admin:
            created = admin.post(
                "/v1/subscriptions",
                json={"name": source, "url": url, "filter": {"source": [source]}, **extra},
            )
        assert created.status_code == 201, created.text
        body: dict[str, Any] = created.json()
        return body

    def deliveries(self, sub_id: int, **params: str) -> list[dict[str, Any]]:
        with self.admin() as admin:
            items: list[dict[str, Any]] = admin.get(
                f"/v1/subscriptions/{sub_id}/deliveries", params=params
            ).json()["items"]
        return items


@pytest.fixture(scope="module")
def hooks(fresh_database: Any) -> Iterator[Hooks]:
    from services.api.app import create_app
    from shared.auth import service as auth

    settings = get_settings()
    saved = {
        name: getattr(settings, name)
        for name in ("webhook_allow_private", "webhook_interval_seconds", "webhook_timeout_seconds")
    }
    settings.webhook_allow_private = True
    settings.webhook_interval_seconds = 0.2
    settings.webhook_timeout_seconds = 5.0
    engine = create_engine(fresh_database("webhooks"), poolclass=pool.NullPool)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session:
        admin_key = auth.create_key(session=session, name="hooks", scopes=["admin"], any_source=True).key
        session.commit()
    app = create_app()
    app.state.session_factory = factory
    dispatcher = Dispatcher(factory)
    loop = threading.Thread(target=dispatcher.run_forever, daemon=True)
    try:
        with live_server(app) as url:
            loop.start()
            try:
                yield Hooks(factory=factory, url=url, admin_key=admin_key)
            finally:
                dispatcher.stop(wait=False)
                loop.join(30)
    finally:
        engine.dispose()
        for name, value in saved.items():
            setattr(settings, name, value)


def _signatures(header: str) -> tuple[str, list[str]]:
    parts = [p.split("=", 1) for p in header.split(",")]
    (t,) = [v for k, v in parts if k == "t"]
    return t, [v for k, v in parts if k == "v1"]


def _valid(secret: str, t: str, body: bytes, signature: str) -> bool:
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature, expected)


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- delivery, retries, failure -------------------------------------------------------------------


def test_webhook_is_signed_retried_until_it_succeeds_with_one_delivery_id(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "webhook_retry_base_seconds", 0.2)
    secret = "s3cret-for-the-hook-test"
    delivered_before = _sample("newswire_webhook_attempts_total", outcome="delivered")
    with receiver(fail_first=2) as (url, received):
        sub = hooks.subscribe(url, "hook-a", secret=secret)
        assert sub["secret"] == secret
        (a1,) = hooks.stored(source="hook-a")
        (b1,) = hooks.stored(source="hook-b")  # does not match
        hooks.enrich(a1, b1)
        wait_for(lambda: any(r.answered == 204 for r in received), "a delivery accepted")
        wait_for(lambda: hooks.deliveries(sub["id"])[0]["status"] == "delivered", "recorded")
        (delivery,) = hooks.deliveries(sub["id"])
        with hooks.admin() as admin:
            listed = admin.get("/v1/subscriptions").json()["items"]
    assert [r.answered for r in received] == [500, 500, 204], "retried after each failure, then stopped"
    assert len({r.headers["Newswire-Delivery"] for r in received}) == 1, "the same delivery id every attempt"
    for r in received:
        t, (v1,) = _signatures(r.headers["Newswire-Signature"])
        assert abs(int(t) - time.time()) < 60
        assert _valid(secret, t, r.body, v1)
        payload = json.loads(r.body)
        assert payload["article"]["id"] == a1
        assert payload["delivery_id"] == r.headers["Newswire-Delivery"]
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 3
    assert delivery["last_status_code"] == 204
    assert next(s for s in listed if s["id"] == sub["id"])["deliveries"] == {
        "pending": 0,
        "delivered": 1,
        "failed": 0,
    }
    assert "secret" not in listed[0]
    assert _sample("newswire_webhook_attempts_total", outcome="delivered") == delivered_before + 1


def test_a_receiver_that_keeps_failing_ends_in_failed_deliveries(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "webhook_retry_base_seconds", 0.1)
    monkeypatch.setattr(get_settings(), "webhook_max_attempts", 2)
    with receiver(fail_first=1_000) as (url, received), hooks.admin() as admin:
        sub = hooks.subscribe(url, "hook-down")
        ids = hooks.stored(2, source="hook-down")
        hooks.enrich(*ids)
        wait_for(lambda: len(hooks.deliveries(sub["id"], status="failed")) == 2, "both deliveries failed")
        failed = hooks.deliveries(sub["id"], status="failed")
        sent_before_retry = len(received)
        retried = admin.post(f"/v1/subscriptions/{sub['id']}/deliveries/retry").json()
        wait_for(lambda: len(received) > sent_before_retry, "a failed delivery sent again")
        assert admin.post("/v1/subscriptions/999999/deliveries/retry").status_code == 404
    assert retried == {"requeued": 2}
    assert sorted(d["article_id"] for d in failed) == sorted(ids)
    assert all(d["attempts"] == 2 and d["last_status_code"] == 500 for d in failed)
    assert len({d["delivery_id"] for d in failed}) == 2
    assert sent_before_retry == 4


def test_subscriptions_are_validated_listed_and_deleted(hooks: Hooks) -> None:
    with hooks.admin() as admin:
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


# --- aimed inward: refused ------------------------------------------------------------------------


def test_inside_addresses_and_credentials_are_refused_at_creation(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "webhook_allow_private", False)
    urls = [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/hook",
        "http://0.0.0.0/hook",
        "http://2130706433/hook",
        "http://[fd00:ec2::254]/hook",
        "http://[64:ff9b::a9fe:a9fe]/hook",
        "https://user:pass@alerts.example/hook",
    ]
    with hooks.admin() as admin:
        answers = {url: admin.post("/v1/subscriptions", json={"name": "in", "url": url}) for url in urls}
        listed = admin.get("/v1/subscriptions").json()["items"]
    for url, answer in answers.items():
        assert answer.status_code == 422, (url, answer.text)
        body = answer.json()
        assert set(body) == {"error", "detail"}
        assert "refused" in json.dumps(body["detail"]) or "credentials" in json.dumps(body["detail"]), body
    assert not any(s["url"] in urls for s in listed)
    loopback = answers["http://127.0.0.1:8000/hook"].json()["detail"]
    assert "loopback" in str(loopback)
    assert "NEWSWIRE_WEBHOOK_ALLOW_PRIVATE" in str(loopback)
    assert "credentials" in str(answers["https://user:pass@alerts.example/hook"].json()["detail"])


def test_a_loopback_target_is_refused_at_connection_time_without_the_setting() -> None:
    """The per-connection check (what catches DNS rebinding): the receiver never sees a request."""
    with receiver() as (url, received), egress.guarded_client(allow_private=False) as client:
        with pytest.raises(httpx.ConnectError, match="refused: .*loopback"):
            client.post(url, content=b"{}")
        with pytest.raises(httpx.ConnectError, match="credentials"):
            client.post(url.replace("http://", "http://u:p@"), content=b"{}")
    assert received == []


def test_dns_rebinding_connects_only_to_the_checked_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name whose answer changes between checks: public at creation, loopback at delivery. The
    connection-time check refuses it; when private targets are allowed, the socket goes to the address
    just checked while the Host header keeps the name."""
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])
    real = socket.getaddrinfo

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.newswire.test":
            ip = next(answers)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, int(port)))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with receiver() as (url, received):
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        target = f"http://rebind.newswire.test:{port}/hook"
        egress.check_url(target, allow_private=False)  # the first answer: a public address
        with egress.guarded_client(allow_private=False) as client, pytest.raises(httpx.ConnectError):
            client.post(target, content=b"{}")  # the second: loopback, refused before connecting
        assert received == []
        with egress.guarded_client(allow_private=True) as client:
            assert client.post(target, content=b"{}").status_code == 204
    (request,) = received
    assert request.headers["Host"] == f"rebind.newswire.test:{port}"


def test_redirects_are_not_followed(hooks: Hooks) -> None:
    with (
        receiver() as (elsewhere, reached),
        receiver(answer=status(302, {"Location": elsewhere})) as (
            url,
            received,
        ),
    ):
        sub = hooks.subscribe(url, "hook-redirect")
        hooks.enrich(*hooks.stored(source="hook-redirect"))
        wait_for(
            lambda: hooks.deliveries(sub["id"])[0]["attempts"] >= 1 if hooks.deliveries(sub["id"]) else False,
            "tried",
        )
        (delivery,) = hooks.deliveries(sub["id"])
    assert len(received) >= 1
    assert reached == []
    assert delivery["status"] == "pending"
    assert delivery["last_status_code"] == 302
    assert "redirects are not followed" in delivery["last_error"]


# --- bounded: deadline, answer size, one subscriber never delays another ---------------------------


@contextlib.contextmanager
def raw_receiver(serve: Callable[[socket.socket], None]) -> Iterator[tuple[str, dict[str, int]]]:
    """A TCP server speaking just enough HTTP, each connection handled by ``serve`` in a thread."""
    stats = {"connections": 0}
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            stats["connections"] += 1
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook", stats
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    while len(rest) < length:
        rest += conn.recv(65536)


def test_a_trickling_receiver_is_cut_at_the_total_deadline(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Headers one byte every 0.3 s: each read comes well within any per-phase timeout, but the delivery's
    total deadline (1.5 s) cuts it."""
    monkeypatch.setattr(get_settings(), "webhook_timeout_seconds", 1.5)
    monkeypatch.setattr(get_settings(), "webhook_retry_base_seconds", 600)
    done = threading.Event()
    cut_after: list[float] = []

    def trickle(conn: socket.socket) -> None:
        _read_request(conn)
        start = time.monotonic()
        try:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
                conn.sendall(bytes([byte]))
                time.sleep(0.3)
        except OSError:
            cut_after.append(time.monotonic() - start)
        finally:
            conn.close()
            done.set()

    timeouts_before = _sample("newswire_webhook_attempts_total", outcome="timeout")
    with raw_receiver(trickle) as (url, _):
        sub = hooks.subscribe(url, "hook-trickle")
        hooks.enrich(*hooks.stored(source="hook-trickle"))
        wait_for(
            lambda: bool(hooks.deliveries(sub["id"])) and hooks.deliveries(sub["id"])[0]["attempts"] == 1,
            "cut",
        )
        (delivery,) = hooks.deliveries(sub["id"])
        done.wait(10)
    assert delivery["status"] == "pending"
    assert delivery["last_status_code"] is None
    assert "timed out" in delivery["last_error"]
    assert cut_after, "the client hung up"
    assert cut_after[0] < 5, cut_after  # near the 1.5 s deadline
    assert _sample("newswire_webhook_attempts_total", outcome="timeout") == timeouts_before + 1


def test_a_2xx_whose_body_trickles_is_delivered_and_cut_at_the_deadline(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer's status came (the article got there); only its body trickles: not read past the
    deadline, and not a failure."""
    monkeypatch.setattr(get_settings(), "webhook_timeout_seconds", 1.5)
    hung_up: list[float] = []

    def slow_body(conn: socket.socket) -> None:
        _read_request(conn)
        start = time.monotonic()
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            for _ in range(100_000):
                conn.sendall(b"x")
                time.sleep(0.3)
        except OSError:
            hung_up.append(time.monotonic() - start)
        finally:
            conn.close()

    with raw_receiver(slow_body) as (url, _):
        sub = hooks.subscribe(url, "hook-slow-body")
        hooks.enrich(*hooks.stored(source="hook-slow-body"))
        wait_for(
            lambda: (
                bool(hooks.deliveries(sub["id"])) and hooks.deliveries(sub["id"])[0]["status"] == "delivered"
            ),
            "delivered",
        )
        wait_for(lambda: bool(hung_up), "the client hung up", timeout=10)
    (delivery,) = hooks.deliveries(sub["id"])
    assert delivery["attempts"] == 1
    assert delivery["last_status_code"] == 200
    assert hung_up[0] < 5, hung_up


def test_an_oversized_answer_is_read_only_up_to_the_cap(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 2xx with a 200 MB body: the delivery is recorded at once, after at most the cap was read."""
    monkeypatch.setattr(get_settings(), "webhook_max_response_bytes", 1_000)
    sent: list[int] = []

    def flood(conn: socket.socket) -> None:
        _read_request(conn)
        total = 200_000_000
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n".encode())
        chunk = b"x" * 65536
        n = 0
        try:
            while n < total:
                conn.sendall(chunk)
                n += len(chunk)
        except OSError:
            pass
        finally:
            sent.append(n)
            conn.close()

    truncated_before = _sample("newswire_webhook_answers_truncated_total")
    with raw_receiver(flood) as (url, _):
        sub = hooks.subscribe(url, "hook-flood")
        hooks.enrich(*hooks.stored(source="hook-flood"))
        wait_for(
            lambda: (
                bool(hooks.deliveries(sub["id"])) and hooks.deliveries(sub["id"])[0]["status"] == "delivered"
            ),
            "delivered",
        )
        wait_for(lambda: bool(sent), "the receiver saw the connection end")
    assert sent[0] < 50_000_000, "the client stopped reading and hung up long before the end"
    assert _sample("newswire_webhook_answers_truncated_total") == truncated_before + 1


def test_a_slow_subscriber_never_delays_another(hooks: Hooks) -> None:
    """Six deliveries to a receiver that takes 3 s each (its 4 slots full) and one to a fast receiver:
    the fast one gets its article while the slow one is still answering."""
    with receiver(delay=3.0) as (slow_url, slow), receiver() as (fast_url, fast):
        hooks.subscribe(slow_url, "hook-slow")
        hooks.subscribe(fast_url, "hook-fast")
        hooks.enrich(*hooks.stored(6, source="hook-slow"))
        wait_for(lambda: len(slow) >= 1, "the slow receiver got a request")
        start = time.monotonic()
        hooks.enrich(*hooks.stored(source="hook-fast"))
        wait_for(lambda: len(fast) == 1, "the fast receiver got its article", timeout=20)
        fast_after = time.monotonic() - start
        in_flight_slow = len(slow)
        wait_for(lambda: len(slow) == 6, "every slow delivery made", timeout=60)
    assert fast_after < 2.5, fast_after  # settle (1 s) + a pass, not behind 3 s answers
    assert in_flight_slow <= get_settings().webhook_subscription_concurrency


# --- secret rotation ------------------------------------------------------------------------------


def test_rotating_the_secret_signs_with_both_during_the_grace_period(hooks: Hooks) -> None:
    old = "the-old-secret-0123456789"
    new = "the-new-secret-9876543210"
    with receiver() as (url, received), hooks.admin() as admin:
        sub = hooks.subscribe(url, "hook-rotate", secret=old)
        rotated = admin.post(f"/v1/subscriptions/{sub['id']}/rotate-secret", json={"secret": new})
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["secret"] == new
        assert rotated.json()["previous_secret_valid_until"] is not None
        hooks.enrich(*hooks.stored(source="hook-rotate"))
        wait_for(lambda: len(received) == 1, "delivered during the grace period")
        ended = admin.post(f"/v1/subscriptions/{sub['id']}/rotate-secret", json={"grace_hours": 0})
        assert ended.status_code == 200
        newest = ended.json()["secret"]
        assert ended.json()["previous_secret_valid_until"] is None
        hooks.enrich(*hooks.stored(source="hook-rotate"))
        wait_for(lambda: len(received) == 2, "delivered after the grace period ended")
        missing = admin.post("/v1/subscriptions/999999/rotate-secret")
    t, both = _signatures(received[0].headers["Newswire-Signature"])
    assert len(both) == 2
    assert _valid(new, t, received[0].body, both[0])
    assert _valid(old, t, received[0].body, both[1])
    t, only = _signatures(received[1].headers["Newswire-Signature"])
    assert len(only) == 1
    assert _valid(newest, t, received[1].body, only[0])
    assert missing.status_code == 404

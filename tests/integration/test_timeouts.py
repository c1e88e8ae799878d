"""Every wait bounded: PostgreSQL statement and lock timeouts per process role answer a clear JSON error
(504 `query_timeout`, 503 `database_busy`) instead of a hang; a Redis that accepts connections and never
answers makes its callers fail fast."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from kombu.exceptions import OperationalError as KombuOperationalError
from sqlalchemy import create_engine, pool, text
from sqlalchemy.orm import sessionmaker

from shared.auth import service as auth_service
from shared.auth.ratelimit import RateLimiter
from shared.db import connect_args, session_options
from shared.deadline import DeadlineExceeded, ResponseTooLarge, send
from shared.jobs.broker import ENRICH_TASK, create_celery
from shared.jobs.queues import DEPTH_ERRORS, broker_depth
from shared.redisconn import redis_client
from shared.settings import Settings, get_settings
from tests.conftest import bearer

# --- PostgreSQL ---------------------------------------------------------------------------------


def test_each_role_gets_its_own_timeouts_as_libpq_options() -> None:
    settings = Settings(db_statement_timeout_api=2.5, db_lock_timeout_api=0, db_connect_timeout=3)
    assert session_options("api", settings) == {
        "statement_timeout": 2500,
        "lock_timeout": 0,
        "idle_in_transaction_session_timeout": 30_000,
    }
    args = connect_args("api", settings)
    assert args["connect_timeout"] == 3
    assert args["options"] == (
        "-c statement_timeout=2500 -c lock_timeout=0 -c idle_in_transaction_session_timeout=30000 -c jit=off"
    )
    assert session_options("worker", settings)["statement_timeout"] == 120_000
    assert connect_args("default", settings) == {"connect_timeout": 3}  # the CLI, migrations


@pytest.fixture(scope="module")
def timeouts_database(fresh_database: Any) -> str:
    url: str = fresh_database("timeouts")
    return url


def test_an_api_connection_starts_with_its_limits_and_without_jit(timeouts_database: str) -> None:
    engine = create_engine(
        timeouts_database,
        poolclass=pool.NullPool,
        connect_args=connect_args("api", Settings(db_statement_timeout_api=0.5)),
    )
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "500ms"
            assert conn.execute(text("SHOW jit")).scalar_one() == "off"
    finally:
        engine.dispose()


@contextlib.contextmanager
def _api(url: str, monkeypatch: pytest.MonkeyPatch, **limits: float) -> Iterator[TestClient]:
    """The read API as `newswire serve api` runs it with the given limits: its connections (the role's
    timeouts) and its per-query timeout read the same settings."""
    from services.api.app import create_app

    settings = get_settings()
    for name, value in limits.items():
        monkeypatch.setattr(settings, name, value)
    engine = create_engine(url, poolclass=pool.NullPool, connect_args=connect_args("api", settings))
    factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    with factory() as session:
        key = auth_service.create_key(session=session, name="timeouts", scopes=["read"]).key
        session.commit()
    app = create_app()
    app.state.session_factory = factory
    try:
        with TestClient(app, raise_server_exceptions=False, headers=bearer(key)) as client:
            yield client
    finally:
        engine.dispose()


@contextlib.contextmanager
def _articles_locked(url: str) -> Iterator[None]:
    """Another session holds ACCESS EXCLUSIVE on `articles`: every read of it waits."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("LOCK TABLE articles IN ACCESS EXCLUSIVE MODE"))
            yield
            conn.rollback()
    finally:
        engine.dispose()


@pytest.mark.parametrize("path", ["/v1/articles?q=bank", "/v1/articles/facets?q=bank"])
def test_a_query_past_its_statement_timeout_answers_504(
    timeouts_database: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The role's statement timeout (0.5 s) is below NEWSWIRE_QUERY_TIMEOUT_MS (30 s here): a search or a
    scanned facet is held to the shorter one."""
    limits = {"db_statement_timeout_api": 0.5, "db_lock_timeout_api": 0, "query_timeout_ms": 30_000}
    with _api(timeouts_database, monkeypatch, **limits) as client:
        with _articles_locked(timeouts_database):
            started = time.monotonic()
            response = client.get(path)
            elapsed = time.monotonic() - started
        assert response.status_code == 504, response.text
        assert response.json()["error"] == "query_timeout"
        assert response.headers["retry-after"]
        assert elapsed < 5
        assert client.get(path).status_code == 200  # the lock gone, the same query answers


def test_a_lock_not_granted_in_time_answers_503(
    timeouts_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _api(timeouts_database, monkeypatch, db_statement_timeout_api=30, db_lock_timeout_api=0.3) as client:
        with _articles_locked(timeouts_database):
            started = time.monotonic()
            response = client.get("/v1/articles")
            elapsed = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "database_busy"
        assert elapsed < 5


def test_a_database_that_does_not_answer_the_connect_fails_fast(silent_server: int) -> None:
    """A 'PostgreSQL' that accepts the TCP connection and never speaks: connect_timeout ends the wait."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/test"
    engine = create_engine(
        url, poolclass=pool.NullPool, connect_args=connect_args("api", Settings(db_connect_timeout=2))
    )
    started = time.monotonic()
    with pytest.raises(Exception, match="timeout|timed out"):
        engine.connect()
    assert time.monotonic() - started < 6


# --- Redis --------------------------------------------------------------------------------------


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A local TCP server that accepts connections and never answers (a hung Redis or PostgreSQL)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                conn, _ = server.accept()
                accepted.append(conn)  # kept open, never read

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(2)
        for conn in accepted:
            conn.close()
        server.close()


def test_a_redis_that_never_answers_fails_fast(silent_server: int) -> None:
    client = redis_client(f"redis://127.0.0.1:{silent_server}/0", socket_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(redis.TimeoutError):
        client.ping()
    assert time.monotonic() - started < 3


def test_the_rate_limiter_lets_requests_through_when_redis_hangs(silent_server: int) -> None:
    limiter = RateLimiter(f"redis://127.0.0.1:{silent_server}/0")
    started = time.monotonic()
    assert limiter.hit("key", 10) is None  # fail open
    assert limiter.hit("key", 10) is None  # and then skip Redis for a while: no wait at all
    assert time.monotonic() - started < 2


# --- outbound HTTP ------------------------------------------------------------------------------


@pytest.fixture
def trickling_server() -> Iterator[str]:
    """An HTTP server that answers 200 and then sends its body one byte every 0.2 s, forever."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n")
            while not stop.is_set():
                conn.sendall(b"x")
                time.sleep(0.2)

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                conn, _ = server.accept()
                threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join(2)
        server.close()


def test_an_outbound_call_has_a_total_deadline(trickling_server: str) -> None:
    with httpx.Client() as client:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            send(client, "GET", trickling_server, deadline=1.0)
        assert time.monotonic() - started < 2.5  # per-phase timeouts alone would never end it
        with pytest.raises(ResponseTooLarge):
            send(client, "GET", trickling_server, deadline=30.0, max_bytes=3)


def test_newswire_ingest_gives_up_on_a_trickling_server(trickling_server: str) -> None:
    from newswire_cli.push import post_with_retry

    with httpx.Client() as client:
        started = time.monotonic()
        with pytest.raises(httpx.TimeoutException):
            post_with_retry(client, trickling_server, {"title": "t"}, attempts=1, deadline=1.0)
        assert time.monotonic() - started < 2.5


def test_publishing_to_a_redis_broker_that_never_answers_fails_fast(silent_server: int) -> None:
    settings = Settings(
        redis_url=f"redis://127.0.0.1:{silent_server}/0",
        redis_socket_timeout=0.5,
        redis_connect_timeout=0.5,
        enrich_queue="enrich-silent",
    )
    app = create_celery(settings, set_as_current=False)
    try:
        started = time.monotonic()
        with pytest.raises((KombuOperationalError, redis.RedisError)):
            app.send_task(ENRICH_TASK, args=[1], kwargs={"outbox_id": None}, queue="enrich-silent")
        assert time.monotonic() - started < 10  # the outbox keeps the job; the relay publishes it later
    finally:
        app.close()


@pytest.mark.parametrize("scheme", ["redis", "amqp"])
def test_the_queue_depth_of_a_broker_that_never_answers_fails_fast(silent_server: int, scheme: str) -> None:
    url = (
        f"redis://127.0.0.1:{silent_server}/0"
        if scheme == "redis"
        else f"amqp://guest:guest@127.0.0.1:{silent_server}//"
    )
    started = time.monotonic()
    with pytest.raises(DEPTH_ERRORS):
        broker_depth(url, "enrich-silent")
    assert time.monotonic() - started < 10

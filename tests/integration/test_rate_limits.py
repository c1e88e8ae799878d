"""Costly reads are rate-limited per key by default (search, facets, export), apart from a key's overall
limit, counted in the real Redis; open streams are capped per key across processes."""

from __future__ import annotations

import time
import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from shared.auth.ratelimit import StreamSlots
from shared.settings import Settings, get_settings
from tests.conftest import MakeKey, bearer


@pytest.fixture
def api(session_factory: sessionmaker[Session], redis_url: str) -> FastAPI:
    from services.api.app import create_app

    app = create_app()
    app.state.session_factory = session_factory
    return app


def _until_limited(client: TestClient, path: str, params: dict[str, str], limit: int) -> list[int]:
    """`limit` + 1 requests; again in the next window if the minute turned over meanwhile."""
    for _ in range(2):
        statuses = [client.get(path, params=params).status_code for _ in range(limit + 1)]
        if statuses[-1] == 429:
            return statuses
    return statuses


def test_the_limits_are_on_by_default() -> None:
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert defaults.rate_limit_search_per_minute > 0
    assert defaults.rate_limit_facets_per_minute > 0
    assert defaults.rate_limit_export_per_minute > 0
    assert defaults.stream_max_per_key > 0


@pytest.mark.parametrize(
    ("setting", "path", "params"),
    [
        ("rate_limit_search_per_minute", "/v1/articles", {"q": "central bank"}),
        ("rate_limit_facets_per_minute", "/v1/articles/facets", {}),
        ("rate_limit_export_per_minute", "/v1/articles/export", {}),
    ],
)
def test_costly_reads_are_limited_per_key_with_retry_after(
    api: FastAPI,
    make_key: MakeKey,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    path: str,
    params: dict[str, str],
) -> None:
    monkeypatch.setattr(get_settings(), setting, 2)
    with TestClient(api, raise_server_exceptions=False, headers=bearer(make_key("read"))) as client:
        statuses = _until_limited(client, path, params, 2)
        limited = client.get(path, params=params)
        other_routes = client.get("/v1/topics").status_code
    assert statuses == [200, 200, 429]
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["X-RateLimit-Limit"] == "2"
    assert other_routes == 200, "only that kind of request is limited"
    with TestClient(api, raise_server_exceptions=False, headers=bearer(make_key("read"))) as client:
        assert client.get(path, params=params).status_code == 200, "another key has its own budget"


def test_a_list_without_a_search_is_not_counted_as_one(
    api: FastAPI, make_key: MakeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "rate_limit_search_per_minute", 1)
    with TestClient(api, raise_server_exceptions=False, headers=bearer(make_key("read"))) as client:
        assert [client.get("/v1/articles").status_code for _ in range(4)] == [200] * 4


def test_open_streams_are_capped_per_key_across_processes(redis_url: str) -> None:
    a, b = StreamSlots(redis_url), StreamSlots(redis_url)  # two API processes
    key = f"test-{uuid.uuid4().hex[:8]}"
    assert a.acquire(key, 2, "s1") is True
    assert b.acquire(key, 2, "s2") is True
    assert a.acquire(key, 2, "s3") is False, "the third stream of the key, in either process"
    assert b.acquire(f"{key}-other", 2, "s1") is True, "another key has its own slots"
    b.release(key, "s1")
    assert b.acquire(key, 2, "s3") is True
    a.release(key, "s2")
    a.release(key, "s3")


def test_a_stream_slot_left_by_a_dead_process_expires(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    slots = StreamSlots(redis_url)
    key = f"test-{uuid.uuid4().hex[:8]}"
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 3600)  # taken an hour ago, never renewed
    assert slots.acquire(key, 1, "dead") is True
    monkeypatch.setattr(time, "time", real_time)
    assert slots.acquire(key, 1, "alive") is True, "the dead process's lease ran out"


def test_stream_slots_fail_open_when_redis_is_down() -> None:
    assert StreamSlots("redis://127.0.0.1:1/0").acquire("k", 1, "m") is None

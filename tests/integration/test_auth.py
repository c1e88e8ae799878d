"""Access control over both apps (in-process ASGI, real PostgreSQL and Redis): every route, every kind of
key; rate limits; Idempotency-Key; (source, external_id); bad input to ingest."""

from __future__ import annotations

import gzip
import json
import re
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, pool, select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute

from shared.auth.ratelimit import RateLimiter
from shared.models import ApiKey, Article, IdempotencyRecord
from shared.settings import get_settings
from tests.conftest import MakeKey, bearer
from tests.factories import article_payload

OPEN_ROUTES = {"/healthz", "/readyz"}  # probes (/metrics is on an internal port, not on the public apps)
DOCS_ROUTES = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
# (app, path prefix, scope needed, a scope that is not enough): first match wins
POLICY = [
    ("ingest", "/v1/ops/", "admin", "ingest"),
    ("ingest", "/v1/", "ingest", "read"),
    ("api", "/v1/ops/", "admin", "read"),
    ("api", "/v1/subscriptions", "admin", "read"),
    ("api", "/v1/", "read", "ingest"),
]


@dataclass
class Apps:
    ingest: FastAPI
    api: FastAPI


@pytest.fixture
def apps(session_factory: sessionmaker[Session], redis_url: str) -> Iterator[Apps]:
    from services.api.app import create_app as create_api
    from services.ingest.app import create_app as create_ingest

    ingest, api = create_ingest(), create_api()
    for app in (ingest, api):
        app.state.session_factory = session_factory
    return Apps(ingest, api)


def _client(app: FastAPI, headers: dict[str, str] | None = None) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, headers=headers or {})


def _all_routes(app: FastAPI) -> list[BaseRoute]:
    """Every route of the app, included routers flattened (FastAPI >= 0.16x includes them lazily)."""
    flatten = getattr(fastapi_routing, "_iter_included_route_candidates", None)
    return list(flatten(app.routes)) if flatten is not None else list(app.routes)


def _routes(app_name: str, app: FastAPI) -> list[tuple[str, str, str, str]]:
    """(method, concrete path, scope needed, scope not enough) of every protected route; fails on a route
    that no policy covers, so a new route cannot escape the table."""
    out = []
    routes = _all_routes(app)
    documented = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
    assert documented <= {(m, getattr(r, "path", "")) for r in routes for m in getattr(r, "methods", ())}
    for route in routes:
        path = getattr(route, "path", "")
        if not isinstance(route, APIRoute):
            assert path in DOCS_ROUTES, f"{app_name}: unexpected non-API route {path}"
            continue
        if path in OPEN_ROUTES:
            continue
        policy = next((p for p in POLICY if p[0] == app_name and path.startswith(p[1])), None)
        assert policy is not None, f"{app_name}: no access policy covers {path}"
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        for method in sorted(route.methods):
            out.append((method, concrete, policy[2], policy[3]))
    return out


def test_every_route_needs_a_key_with_the_right_scope(apps: Apps, make_key: MakeKey) -> None:
    keys = {scope: make_key(scope) for scope in ("ingest", "read", "admin")}
    revoked = {scope: make_key(scope, revoked=True) for scope in ("ingest", "read", "admin")}
    unknown = "nw_0badc0de_" + "x" * 43
    checked = 0
    for app_name, app in (("ingest", apps.ingest), ("api", apps.api)):
        routes = _routes(app_name, app)
        assert routes, app_name
        with _client(app) as client:
            for method, path, needed, not_enough in routes:
                where = f"{app_name} {method} {path}"
                cases: list[tuple[str, dict[str, str], set[int] | None]] = [
                    ("no key", {}, {401}),
                    ("malformed key", bearer("not-a-key"), {401}),
                    ("unknown key", bearer(unknown), {401}),
                    ("unknown key in X-API-Key", {"X-API-Key": unknown}, {401}),
                    ("other auth scheme", {"Authorization": f"Basic {keys[needed]}"}, {401}),
                    ("revoked key", bearer(revoked[needed]), {401}),
                    ("wrong scope", bearer(keys[not_enough]), {403}),
                    ("good key", bearer(keys[needed]), None),
                    ("good key in X-API-Key", {"X-API-Key": keys[needed]}, None),
                    ("admin key", bearer(keys["admin"]), None),
                ]
                for label, headers, want in cases:
                    # max_seconds: GET /v1/stream ends at once
                    params = {"workers": "false", "max_seconds": "0.1"}
                    response = client.request(method, path, headers=headers, params=params)
                    if want is None:
                        assert response.status_code not in (401, 403, 500), (where, label, response.text)
                        continue
                    assert response.headers["content-type"].startswith("application/json"), where
                    assert response.status_code in want, (where, label, response.status_code, response.text)
                    body = response.json()
                    assert set(body) == {"error", "detail"}, (where, label, body)
                    if response.status_code == 401:
                        assert response.headers.get("www-authenticate") == "Bearer", (where, label)
                        assert body["error"] == "unauthorized"
                    else:
                        assert body["error"] == "forbidden"
                    checked += 1
    assert checked >= 7 * 10, checked  # 2 ingest routes + 8 api routes, 7 refusals each


def test_health_and_docs_stay_open(apps: Apps) -> None:
    for app in (apps.ingest, apps.api):
        with _client(app) as client:
            assert client.get("/healthz").status_code == 200
            assert client.get("/readyz").status_code == 200
            assert client.get("/metrics").status_code == 404, "metrics are served on an internal port"
            spec = client.get("/openapi.json").json()
            schemes = spec["components"]["securitySchemes"]
            assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}


def test_error_responses_are_documented(apps: Apps) -> None:
    with _client(apps.ingest) as client:
        spec = client.get("/openapi.json").json()
    responses = spec["paths"]["/v1/articles"]["post"]["responses"]
    for code in ("401", "403", "413", "415", "422", "429", "503"):
        schema = responses[code]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorBody"}, code


def test_a_revoked_key_stops_working_and_use_is_recorded(
    apps: Apps, make_key: MakeKey, db_session: Session
) -> None:
    from shared.auth import service

    key = make_key("read", name="dashboard")
    with _client(apps.api, bearer(key)) as client:
        assert client.get("/v1/topics").status_code == 200
        row = db_session.scalars(select(ApiKey).where(ApiKey.name == "dashboard")).one()
        db_session.refresh(row)
        assert row.last_used_at is not None
        assert key not in {row.key_hash, row.prefix}, "the key itself is never stored"
        service.revoke_key(session=db_session, ref=row.prefix)
        db_session.commit()
        response = client.get("/v1/topics")
        assert response.status_code == 401
        assert response.json()["detail"] == "the API key has been revoked"


def test_rate_limit_answers_429_with_retry_after(apps: Apps, make_key: MakeKey) -> None:
    key = make_key("read", rate_limit=3)
    with _client(apps.api, bearer(key)) as client:
        statuses = [client.get("/v1/topics").status_code for _ in range(3)]
        limited = client.get("/v1/topics")
    if limited.status_code == 200:  # the minute turned over during the loop: one more window
        with _client(apps.api, bearer(key)) as client:
            for _ in range(3):
                client.get("/v1/topics")
            limited = client.get("/v1/topics")
    assert statuses == [200, 200, 200]
    assert limited.status_code == 429, limited.text
    assert limited.json()["error"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    # another key has its own budget
    with _client(apps.api, bearer(make_key("read", rate_limit=3))) as client:
        assert client.get("/v1/topics").status_code == 200


def test_rate_limit_holds_across_processes_through_redis(redis_url: str) -> None:
    a, b = RateLimiter(redis_url), RateLimiter(redis_url)  # two processes' limiters
    subject, now = f"test-{time.time_ns()}", 60 * 16_667 + 20.0  # 20 s into a window
    decisions = [limiter.hit(subject, 3, now=now) for limiter in (a, b, a, b)]
    assert [d.allowed for d in decisions if d] == [True, True, True, False]
    assert decisions[-1] is not None
    assert decisions[-1].retry_after == 40


def test_rate_limit_fails_open_when_redis_is_down(
    apps: Apps, make_key: MakeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    down = RateLimiter("redis://127.0.0.1:1/0")
    started = time.monotonic()
    assert down.hit("anyone", 1) is None
    assert down.hit("anyone", 1) is None  # skipped without waiting for a timeout again
    assert time.monotonic() - started < 2
    monkeypatch.setattr(get_settings(), "redis_url", "redis://127.0.0.1:1/0")
    with _client(apps.ingest, bearer(make_key("ingest", rate_limit=1))) as client:
        for _ in range(3):
            assert client.post("/v1/articles", json=article_payload()).status_code == 202


# --- Idempotency-Key -------------------------------------------------------------------------------


def test_idempotency_key_replays_the_first_answer(ingest_client: httpx.Client, db_session: Session) -> None:
    payload = article_payload()
    headers = {"Idempotency-Key": "retry-1"}
    first = ingest_client.post("/v1/articles", json=payload, headers=headers)
    assert first.status_code == 202, first.text
    assert "idempotent-replayed" not in first.headers
    # the same JSON with other spacing and key order is the same request
    same = json.dumps(dict(reversed(list(payload.items()))), indent=2)
    again = ingest_client.post(
        "/v1/articles", content=same, headers={**headers, "content-type": "application/json"}
    )
    assert (again.status_code, again.json()) == (202, first.json())
    assert again.headers["idempotent-replayed"] == "true"
    count = db_session.scalar(select(func.count()).select_from(Article).where(Article.url == payload["url"]))
    assert count == 1
    # without the key, the article is a duplicate (200), not the first answer
    assert ingest_client.post("/v1/articles", json=payload).status_code == 200


def test_idempotency_key_reused_for_another_body_is_refused(ingest_client: httpx.Client) -> None:
    headers = {"Idempotency-Key": "retry-2"}
    assert ingest_client.post("/v1/articles", json=article_payload(), headers=headers).status_code == 202
    other = ingest_client.post("/v1/articles", json=article_payload(), headers=headers)
    assert other.status_code == 422
    assert other.json()["error"] == "idempotency_key_reused"
    batch = ingest_client.post("/v1/articles/batch", json={"articles": [article_payload()]}, headers=headers)
    assert batch.json()["error"] == "idempotency_key_reused"


def test_idempotency_keys_belong_to_an_api_key(
    apps: Apps, make_key: MakeKey, ingest_client: httpx.Client
) -> None:
    payload = article_payload()
    headers = {"Idempotency-Key": "shared-name"}
    assert ingest_client.post("/v1/articles", json=payload, headers=headers).status_code == 202
    with _client(apps.ingest, bearer(make_key("ingest"))) as other_feed:
        response = other_feed.post("/v1/articles", json=article_payload(), headers=headers)
    assert response.status_code == 202
    assert "idempotent-replayed" not in response.headers


def test_failed_requests_are_not_remembered_and_expired_keys_are_reusable(
    ingest_client: httpx.Client, db_session: Session
) -> None:
    headers = {"Idempotency-Key": "retry-3"}
    bad = ingest_client.post("/v1/articles", json={"url": "nope"}, headers=headers)
    assert bad.status_code == 422
    good = ingest_client.post("/v1/articles", json=article_payload(), headers=headers)
    assert good.status_code == 202, "the failed request stored nothing, not even its key"
    db_session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.key == "retry-3")
        .values(expires_at=func.now() - func.make_interval(0, 0, 0, 0, 1))
    )
    db_session.commit()
    later = ingest_client.post("/v1/articles", json=article_payload(), headers=headers)
    assert later.status_code == 202
    assert "idempotent-replayed" not in later.headers


def test_batch_with_idempotency_key(ingest_client: httpx.Client) -> None:
    body = {"articles": [article_payload(), article_payload()]}
    headers = {"Idempotency-Key": "batch-1"}
    first = ingest_client.post("/v1/articles/batch", json=body, headers=headers)
    assert first.status_code == 200
    assert first.json()["accepted"] == 2
    again = ingest_client.post("/v1/articles/batch", json=body, headers=headers)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"


@pytest.mark.parametrize("key", [b"", b"x" * 256, b"has space", "é".encode()])
def test_invalid_idempotency_keys(ingest_client: httpx.Client, key: bytes) -> None:
    response = ingest_client.post(
        "/v1/articles",
        json=article_payload(),
        headers={"Idempotency-Key": key},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] in ("invalid_idempotency_key", "validation_error")


# --- (source, external_id) -------------------------------------------------------------------------


def test_source_and_external_id_answer_the_first_article(
    ingest_client: httpx.Client, db_session: Session
) -> None:
    payload = article_payload(source=None, external_id="x-1")
    first = ingest_client.post("/v1/articles", json=payload)
    assert first.status_code == 202
    retried = ingest_client.post("/v1/articles", json={**payload, "url": payload["url"] + "-moved"})
    assert retried.status_code == 200
    assert (retried.json()["id"], retried.json()["duplicate_method"]) == (first.json()["id"], "external_id")
    # the unique index settles a race even without a source (NULLS NOT DISTINCT, per writing key)
    from services.ingest.articles.repository import insert_article

    row = db_session.get(Article, first.json()["id"])
    assert row is not None
    values = {
        c: getattr(row, c)
        for c in (
            "title",
            "text",
            "raw_format",
            "raw_content",
            "source",
            "writer_key_id",
            "external_id",
            "status",
        )
    }
    assert values["writer_key_id"] is not None  # a sourceless article is namespaced by its key
    twin = insert_article(
        db_session,
        values={
            **values,
            "url": "https://x.example/1",
            "canonical_url": "https://x.example/1",
            "content_hash": "0" * 64,
        },
    )
    assert twin is None


# --- bad input -------------------------------------------------------------------------------------


def _post_raw(client: httpx.Client, content: bytes, **headers: str) -> httpx.Response:
    return client.post(
        "/v1/articles", content=content, headers={"content-type": "application/json", **headers}
    )


def test_compressed_bodies(ingest_client: httpx.Client) -> None:
    for coding, pack in (("gzip", gzip.compress), ("deflate", zlib.compress)):
        body = json.dumps(article_payload()).encode()
        response = _post_raw(ingest_client, pack(body), **{"content-encoding": coding})
        assert response.status_code == 202, (coding, response.text)
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    packed = raw_deflate.compress(json.dumps(article_payload()).encode()) + raw_deflate.flush()
    assert _post_raw(ingest_client, packed, **{"content-encoding": "deflate"}).status_code == 202


def test_a_zip_bomb_is_refused_without_expanding_it(ingest_client: httpx.Client) -> None:
    limit = get_settings().max_body_bytes
    bomb = gzip.compress(b" " * (limit * 10), compresslevel=9)  # ~100 KB expanding to 100 MB
    assert len(bomb) < limit
    response = _post_raw(ingest_client, bomb, **{"content-encoding": "gzip"})
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "payload_too_large"


@pytest.mark.parametrize(
    ("content", "headers", "status", "error"),
    [
        (b"{}", {"content-encoding": "br"}, 415, "unsupported_media_type"),
        (b"{}", {"content-encoding": "zstd, gzip"}, 415, "unsupported_media_type"),
        (b"not gzip at all", {"content-encoding": "gzip"}, 422, "malformed_body"),
        (gzip.compress(b'{"url": 1}')[:-12], {"content-encoding": "gzip"}, 422, "malformed_body"),
        (b"{}", {"content-type": "text/html"}, 415, "unsupported_media_type"),
        (b"{}", {"content-type": "multipart/form-data; boundary=x"}, 415, "unsupported_media_type"),
        (b'{"url": "https://x.example", ', {}, 422, "malformed_json"),
        (b"\xff\xfe\x00{", {}, 422, "malformed_body"),
        (b"", {}, 422, "malformed_json"),
        (b"[1, 2]", {}, 422, "validation_error"),
        (json.dumps(article_payload(title="a\u0000b")).encode(), {}, 422, "validation_error"),
        (json.dumps(article_payload(source="s\u0000")).encode(), {}, 422, "validation_error"),
    ],
)
def test_bad_input_gets_a_json_4xx(
    ingest_client: httpx.Client, content: bytes, headers: dict[str, str], status: int, error: str
) -> None:
    response = ingest_client.post(
        "/v1/articles", content=content, headers={"content-type": "application/json", **headers}
    )
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.json()["detail"]


def test_nul_in_query_parameters(api_client: httpx.Client) -> None:
    for params in ({"status": "\x00"}, {"source": "a\x00b"}, {"cursor": "\x00"}):
        response = api_client.get("/v1/articles", params=params)
        assert response.status_code == 422, (params, response.text)
    assert api_client.get("/v1/entities", params={"prefix": "\x00"}).status_code == 422


def test_a_single_line_of_megabytes_and_deep_html_are_bounded(
    ingest_client: httpx.Client, db_session: Session
) -> None:
    limit = get_settings().max_text_chars
    words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    line = (words * (limit // len(words) + 1))[: limit - 10].strip()
    response = ingest_client.post("/v1/articles", json=article_payload(text=line))
    assert response.status_code in (202, 422), response.text
    too_long = ingest_client.post("/v1/articles", json=article_payload(text=line + " x" * 20))
    assert too_long.status_code == 422
    deep = "<div>" * 50_000 + "<p>Deep inside the page the story finally begins.</p>" + "</div>" * 50_000
    script = f"<script>var leaked = 'SCRIPT-{time.time_ns()}';</script>"
    html = f"<html><head>{script}</head><body>{deep}</body></html>"
    response = ingest_client.post("/v1/articles", json=article_payload(html=html, text=None))
    assert response.status_code in (202, 422), response.text
    if response.status_code == 202:
        article = db_session.get(Article, response.json()["id"])
        assert article is not None
        assert "SCRIPT-" not in article.text


def test_concurrent_retries_with_one_idempotency_key_store_one_article(
    fresh_database: Any, redis_url: str
) -> None:
    """Real concurrent transactions (not the rolled-back test transaction): the unique index settles it."""
    from services.ingest.app import create_app
    from shared.auth import service

    engine = create_engine(fresh_database("idempotency_race"), poolclass=pool.NullPool)
    factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    try:
        with factory() as session:
            key = service.create_key(session=session, name="race", scopes=["ingest"], any_source=True).key
            session.commit()
        app = create_app()
        app.state.session_factory = factory
        payload = article_payload()
        headers = {**bearer(key), "Idempotency-Key": "race-1"}
        with _client(app, headers) as client, ThreadPoolExecutor(max_workers=4) as pool_:
            responses = list(pool_.map(lambda _: client.post("/v1/articles", json=payload), range(4)))
        answers = {(r.status_code, json.dumps(r.json(), sort_keys=True)) for r in responses}
        assert len(answers) == 1, answers
        assert responses[0].status_code == 202
        assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 3
        with factory() as session:
            count = session.scalar(select(func.count()).select_from(Article))
        assert count == 1
    finally:
        engine.dispose()


def test_the_documented_status_values_are_the_models() -> None:
    from typing import get_args

    from services.api.articles.endpoints import StatusName
    from shared.models import ArticleStatus

    assert set(get_args(StatusName)) == {s.value for s in ArticleStatus}

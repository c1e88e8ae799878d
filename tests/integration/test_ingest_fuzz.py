"""Nothing a feed sends can break a reader: hypothesis generates ingest payloads (dates anywhere in and
far outside the window, with any offset; unicode and control characters; sizes from empty to large;
missing and extra fields; sources other keys own; colliding feed ids and URLs), pushes each through the
real ingest app with one of four keys (two bound to a source, two any-source), enriches what was queued
with the real enricher, then reads every read path of the real API app (tests/read_paths.py) and runs the
webhook pass. Asserts: no 5xx anywhere, and every ingest answer is one the API documents."""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, pool, select
from sqlalchemy.orm import Session, sessionmaker

from shared.auth import service as auth_service
from shared.models import Article
from shared.settings import get_settings
from tests.conftest import bearer
from tests.read_paths import read_every_path, server_errors

EXAMPLES = 150
INGEST_STATUSES = {200, 202, 403, 413, 422}


@dataclass
class Fuzz:
    factory: sessionmaker[Session]
    ingest: TestClient
    api: TestClient
    keys: dict[str, str]
    statuses: Counter[int | str]


@pytest.fixture(scope="module")
def fuzz(fresh_database: Any, redis_url: str) -> Iterator[Fuzz]:
    from services.api.app import create_app as create_api
    from services.ingest.app import create_app as create_ingest

    engine = create_engine(fresh_database("ingestfuzz"), poolclass=pool.NullPool)
    factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    with factory() as session:

        def key(name: str, **kw: Any) -> str:
            return auth_service.create_key(session=session, name=name, scopes=["ingest"], **kw).key

        keys = {
            "alpha": key("alpha", sources=["alpha"]),
            "beta": key("beta", sources=["beta"]),
            "any1": key("any1", any_source=True),
            "any2": key("any2", any_source=True),
        }
        admin = auth_service.create_key(session=session, name="reader", scopes=["admin"], any_source=True).key
        session.commit()
    ingest, api = create_ingest(), create_api()
    ingest.state.session_factory = api.state.session_factory = factory
    with (
        TestClient(ingest, raise_server_exceptions=False) as ingest_client,
        TestClient(api, raise_server_exceptions=False, headers=bearer(admin)) as api_client,
    ):
        yield Fuzz(factory, ingest_client, api_client, keys, Counter())
    engine.dispose()


_offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
_datetimes = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=_offsets),
    st.datetimes(
        min_value=datetime(1890, 1, 1), max_value=datetime.now() + timedelta(days=5), timezones=_offsets
    ),
).map(lambda d: d.isoformat())
_date_value = st.one_of(
    _datetimes,
    st.sampled_from(
        [
            "9999-12-31T23:00:00-05:00",
            "0001-01-01T00:00:00+14:00",
            "1899-12-31T23:59:59Z",
            "1900-01-01T00:00:00Z",
            "2024-02-30T10:00:00Z",
            "2024-05-14T09:30:00",  # no time zone
            "infinity",
            "-infinity",
            "10000-01-01T00:00:00Z",
        ]
    ),
    st.text(max_size=30),
    st.integers(),
    st.none(),
)
_words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=60)
_body = st.one_of(
    st.lists(_words, min_size=1, max_size=40).map(" ".join),
    st.lists(
        st.sampled_from(["The council met.", "More to follow.", "\n\n", "Read more", "\u200b", "\x00"]),
        max_size=80,
    ).map(" ".join),
    st.integers(min_value=0, max_value=200_000).map(lambda n: "word " * n),
    st.just("The minister said on Monday that the budget would be approved by parliament next week. " * 20),
)
_html = _body.map(
    lambda t: f"<html><head><title>t</title></head><body><article><p>{t}</p></article></body></html>"
)
_url = st.one_of(
    st.sampled_from(["https://shared.example/story-1", "https://shared.example/story-2", "http://a.b/c"]),
    st.builds(lambda s: f"https://fuzz.example/{s}", st.text(max_size=40)),
    st.text(max_size=30),
)
_source = st.one_of(
    st.none(),
    st.sampled_from(["alpha", "beta", "gamma", " alpha ", ""]),
    st.text(max_size=250),
    st.integers(),
)
_payload = st.fixed_dictionaries(
    {"url": _url, "title": st.one_of(_words, st.just(""), st.text(min_size=900, max_size=1100))},
    optional={
        "text": _body,
        "html": _html,
        "source": _source,
        "external_id": st.one_of(st.sampled_from(["1", "2", "3"]), st.text(max_size=10), st.integers()),
        "published_at": _date_value,
        "modified_at": _date_value,
        "language": st.one_of(st.sampled_from(["en", "de", "xx"]), st.text(max_size=20)),
        "unknown_field": st.just(1),
    },
)

_near_now = st.datetimes(
    min_value=datetime(1890, 1, 1), max_value=datetime.now() + timedelta(days=4), timezones=_offsets
).map(lambda d: d.isoformat())
_clean_words = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=0, max_size=60
)
_title = st.tuples(_clean_words, st.characters(codec="utf-8", categories=("L", "N", "So"))).map("".join)
# mostly accepted: real text, a URL from a small shared pool (collisions across keys), dates near the window
_valid = st.fixed_dictionaries(
    {
        "url": st.one_of(
            st.sampled_from([f"https://shared.example/story-{n}" for n in range(6)]),
            st.uuids().map(lambda u: f"https://fuzz.example/{u}"),
        ),
        "title": st.one_of(_title, st.just("Earthquake report")),
        "text": st.one_of(
            st.tuples(st.lists(_clean_words, min_size=3, max_size=40), st.uuids()).map(
                lambda wu: " ".join(wu[0]) + f" The council met on Monday about plan {wu[1].hex[:8]}."
            ),
            st.just("The minister said on Monday that the budget would be approved next week. " * 8),
            st.uuids().map(lambda u: f"A magnitude 4.{u.int % 10} earthquake struck near town {u.hex[:6]}."),
        ),
    },
    optional={
        "source": st.sampled_from(["alpha", "beta", "gamma"]),
        "external_id": st.sampled_from(["1", "2", "3"]),
        "published_at": st.one_of(_near_now, _date_value),
        "modified_at": _near_now,
    },
)


def test_fuzzed_ingest_never_makes_a_read_path_fail(fuzz: Fuzz, monkeypatch: pytest.MonkeyPatch) -> None:
    failures: list[str] = []
    counter = itertools.count(1)
    reasons: Counter[str] = Counter()

    @given(
        payload=st.one_of(_valid, _valid, _payload),
        who=st.sampled_from(["alpha", "beta", "any1", "any2"]),
        batch=st.booleans(),
        fresh=st.booleans(),
    )
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def push(payload: dict[str, Any], who: str, batch: bool, fresh: bool) -> None:
        headers = bearer(fuzz.keys[who])
        if fresh and isinstance(payload.get("text"), str):  # a new text (hypothesis repeats small ones)
            payload = {**payload, "text": f"{payload['text']} Report number {next(counter)} was filed."}
        if batch:
            response = fuzz.ingest.post("/v1/articles/batch", json={"articles": [payload]}, headers=headers)
        else:
            response = fuzz.ingest.post("/v1/articles", json=payload, headers=headers)
        fuzz.statuses[response.status_code] += 1
        if batch and response.status_code == 200:
            for item in response.json()["items"]:
                fuzz.statuses[f"batch {item['result']['status'] if item['ok'] else item['error']}"] += 1
        elif response.status_code < 300:
            fuzz.statuses[response.json()["status"]] += 1
        if response.status_code == 422:
            detail = response.json()["detail"]
            reasons[str(detail[0]["msg"] if isinstance(detail, list) else detail)[:60]] += 1
        if response.status_code not in INGEST_STATUSES:
            failures.append(f"{response.status_code} {json.dumps(payload)[:300]}: {response.text[:300]}")
        elif response.status_code >= 400:
            assert set(response.json()) == {"error", "detail"}

    push()
    assert not failures, failures[:5]
    stored = sum(fuzz.statuses[s] for s in ("queued", "revised", "batch queued", "batch revised"))
    print(f"\n422 reasons: {reasons.most_common(12)}")
    assert stored >= 20, fuzz.statuses  # enough got through to make the reads mean something

    from services.enrich.articles import service as enrich
    from services.enrich.nlp import Enricher

    enricher = Enricher()
    monkeypatch.setattr(get_settings(), "stream_settle_seconds", 0.0)
    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)  # the receiver below is local
    hook = fuzz.api.post("/v1/subscriptions", json={"name": "everything", "url": "http://127.0.0.1:9/hook"})
    assert hook.status_code == 201, hook.text
    with fuzz.factory() as session:
        queued = list(session.scalars(select(Article.id).where(Article.status == "queued")))
    for article_id in queued:
        with fuzz.factory() as session:
            enrich.enrich_article(session=session, article_id=article_id, enricher=enricher)
            session.commit()

    received: list[dict[str, Any]] = []

    def receiver(request: httpx.Request) -> httpx.Response:  # the subscriber, not one of our components
        received.append(json.loads(request.content))
        return httpx.Response(204)

    from services.api.subscriptions.tasks import Dispatcher

    with httpx.Client(transport=httpx.MockTransport(receiver)) as http:
        dispatcher = Dispatcher(fuzz.factory, http=http)
        added, delivered = dispatcher.run_pass()
        deadline = time.monotonic() + 60
        while len(received) < added and time.monotonic() < deadline:  # 4 in flight per subscription
            time.sleep(0.05)
            delivered += dispatcher.run_pass()[1]
        dispatcher.stop(wait=True)  # the claimed deliveries are POSTed on the dispatcher's threads

    with fuzz.factory() as session:
        ids = tuple(session.scalars(select(Article.id)))
    seen = read_every_path(fuzz.api, article_ids=ids)
    print(
        f"\ningest fuzz: {EXAMPLES} payloads, ingest answers {dict(fuzz.statuses)}, "
        f"{len(queued)} enriched, {len(ids)} rows, {len(seen)} reads, webhooks {added} matched / "
        f"{delivered} delivered"
    )
    assert not server_errors(seen), server_errors(seen)[:5]
    assert added == delivered == len(received) > 0, (added, delivered, len(received))
    assert all("article" in body for body in received)

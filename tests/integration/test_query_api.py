"""The query API (issue 8) against a Python oracle over factory data in real PostgreSQL: every filter with
every other (pairwise), search syntax, sorts and keyset pages while articles are inserted, field selection,
facets, entity views, ETag/304 and gzip, all through the typed client."""

from __future__ import annotations

import itertools
import json
import random
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from newswire_client import NewswireClient
from shared.models import Article, Entity
from tests.factories import stored_article

VOCAB = ["harbor", "wheat", "tariff", "vaccine", "orbit", "glacier", "senate", "copper", "drought", "ferry"]
SOURCES = ["alpha", "beta", "gamma"]
TOPICS = ["medtop:04000000", "medtop:11000000", "medtop:17000000"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Doc:
    id: int
    words: list[str]  # title words then body words, in order (the vector's positions)
    entities: set[int]
    types: set[str]
    topics: dict[str, float]
    source: str
    language: str | None
    status: str
    published_at: datetime | None
    created_at: datetime


@dataclass
class Corpus:
    docs: list[Doc]
    entities: list[Entity]


def _entities(session: Session) -> list[Entity]:
    made = [
        Entity(name="Ada Lovelace", type="PERSON"),
        Entity(name="Acme Corp", type="ORG"),
        Entity(name="Norway", type="GPE"),
        Entity(name="Globex", type="ORG"),
        Entity(name="Alan Turing", type="PERSON"),
    ]
    session.add_all(made)
    session.flush()
    return made


def _corpus(session: Session, *, n: int = 90, seed: int = 8) -> Corpus:
    rng = random.Random(seed)
    entities = _entities(session)
    docs = []
    for i in range(n):
        title = rng.sample(VOCAB, 2)
        body = [rng.choice(VOCAB) for _ in range(rng.randint(3, 12))]
        chosen = rng.sample(entities, rng.randint(0, 3))
        topics = {code: round(rng.random(), 2) for code in rng.sample(TOPICS, rng.randint(0, 2))}
        published = None if rng.random() < 0.15 else T0 + timedelta(hours=rng.randint(0, 200))
        values: dict[str, Any] = {
            "title": " ".join(title),
            "text": " ".join(body),
            "source": rng.choice(SOURCES),
            "language": rng.choice(["en", "en", "de", None]),
            "status": rng.choice(["enriched"] * 6 + ["duplicate", "queued"]),
            "published_at": published,
            "created_at": T0 + timedelta(minutes=i),
        }
        article = stored_article(
            session, entities=[(e, 1) for e in chosen], topics=list(topics.items()), **values
        )
        docs.append(
            Doc(
                id=article.id,
                words=title + body,
                entities={e.id for e in chosen},
                types={e.type for e in chosen},
                topics=topics,
                source=values["source"],
                language=values["language"],
                status=values["status"],
                published_at=published,
                created_at=values["created_at"],
            )
        )
    session.commit()
    return Corpus(docs, entities)


@pytest.fixture
def corpus(db_session: Session) -> Corpus:
    return _corpus(db_session)


@pytest.fixture
def client(api_client: httpx.Client) -> NewswireClient:
    return NewswireClient(http=api_client)


def _phrase(doc: Doc, *words: str) -> bool:
    n = len(words)
    return any(tuple(doc.words[i : i + n]) == words for i in range(len(doc.words) - n + 1))


Predicate = Callable[[Doc], bool]


def _options(c: Corpus) -> list[tuple[str, dict[str, Any], Predicate]]:
    ada, acme, norway, globex, _ = c.entities
    mid = T0 + timedelta(hours=100)
    return [
        ("q word", {"q": "harbor"}, lambda d: "harbor" in d.words),
        ("q phrase", {"q": '"wheat tariff"'}, lambda d: _phrase(d, "wheat", "tariff")),
        ("q minus", {"q": "glacier -orbit"}, lambda d: "glacier" in d.words and "orbit" not in d.words),
        ("q or", {"q": "vaccine OR copper"}, lambda d: "vaccine" in d.words or "copper" in d.words),
        ("entity name", {"entity": ["acme corp"]}, lambda d: acme.id in d.entities),
        (
            "entities all",
            {"entity": [str(ada.id), "Norway"]},
            lambda d: {ada.id, norway.id} <= d.entities,
        ),
        (
            "entities any",
            {"entity": ["Globex", str(norway.id)], "entity_mode": "any"},
            lambda d: bool({globex.id, norway.id} & d.entities),
        ),
        ("entity type", {"entity_type": ["org"]}, lambda d: "ORG" in d.types),
        (
            "topic score",
            {"topic": [TOPICS[0]], "min_topic_score": 0.5},
            lambda d: d.topics.get(TOPICS[0], -1) >= 0.5,
        ),
        ("topics any", {"topic": TOPICS[1:]}, lambda d: bool(set(TOPICS[1:]) & set(d.topics))),
        ("sources", {"source": ["alpha", "gamma"]}, lambda d: d.source in {"alpha", "gamma"}),
        ("language", {"language": ["de"]}, lambda d: d.language == "de"),
        (
            "published",
            {"published_from": (T0 + timedelta(hours=30)).isoformat(), "published_to": mid.isoformat()},
            lambda d: d.published_at is not None and T0 + timedelta(hours=30) <= d.published_at < mid,
        ),
        (
            "ingested",
            {"ingested_from": (T0 + timedelta(minutes=20)).isoformat()},
            lambda d: d.created_at >= T0 + timedelta(minutes=20),
        ),
        ("status", {"status": ["queued", "duplicate"]}, lambda d: d.status in {"queued", "duplicate"}),
        ("with duplicates", {"include_duplicates": True}, lambda d: True),
    ]


def _expected(c: Corpus, predicates: list[Predicate], params: dict[str, Any]) -> list[int]:
    def visible(d: Doc) -> bool:
        return "status" in params or params.get("include_duplicates") or d.status != "duplicate"

    return sorted((d.id for d in c.docs if visible(d) and all(p(d) for p in predicates)), reverse=True)


def test_every_filter_combines_with_every_other(client: NewswireClient, corpus: Corpus) -> None:
    options = _options(corpus)
    combos = [[o] for o in options] + [list(pair) for pair in itertools.combinations(options, 2)]
    checked = 0
    for combo in combos:
        params: dict[str, Any] = {}
        for _, p, _ in combo:
            if set(p) & set(params):
                break
            params.update(p)
        else:
            want = _expected(corpus, [pred for _, _, pred in combo], params)
            got = [a["id"] for a in client.iter_articles(limit=40, sort="ingested", fields=["id"], **params)]
            assert got == want, [name for name, _, _ in combo]
            checked += 1
    assert checked > 110
    assert any(_expected(corpus, [p], {}) for _, _, p in _options(corpus)), "the corpus exercises the filters"


def test_every_order_walks_every_match_across_pages(
    client: NewswireClient, corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lists under a search are read in windows of their order (issue 16), the others are not;
    paged in small pages, every order gives every match once, in order, as the filter alone says."""
    from shared.settings import get_settings

    monkeypatch.setattr(get_settings(), "rate_limit_search_per_minute", 0)  # many small pages
    by_published = {d.id: d.published_at for d in corpus.docs}
    checked = 0
    for name, params, predicate in _options(corpus):
        want = _expected(corpus, [predicate], params)
        got = [a["id"] for a in client.iter_articles(limit=3, sort="ingested", fields=["id"], **params)]
        assert got == want, name
        dated = [i for i in want if by_published[i] is not None]
        published = [
            a["id"] for a in client.iter_articles(limit=3, sort="published", fields=["id"], **params)
        ]
        assert published == sorted(dated, key=lambda i: (by_published[i], i), reverse=True), name
        if "q" in params:
            ranked = client.iter_articles(limit=3, sort="relevance", fields=["id", "rank"], **params)
            assert sorted(a["id"] for a in ranked) == sorted(want), name
        checked += bool(want)
    assert checked >= 10


@pytest.mark.parametrize(
    ("q", "detail"),
    [("the and of", "no searchable word"), ("   ", "characters"), ("x" * 501, None)],
)
def test_search_without_words_is_a_422(
    api_client: httpx.Client, corpus: Corpus, q: str, detail: str | None
) -> None:
    # English stop words: in English (in German or an undetected language "the" is a word)
    response = api_client.get("/v1/articles", params={"q": q, "language": "en"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    if detail:
        assert detail in str(body["detail"])


def test_relevance_ranks_title_matches_first_with_highlights(
    client: NewswireClient, db_session: Session
) -> None:
    in_body = stored_article(
        db_session, title="Quarterly report", text="The glacier retreated again this year."
    )
    in_title = stored_article(db_session, title="Glacier retreat", text="Scientists measured the ice again.")
    db_session.commit()
    page = client.articles(q="glacier", limit=10)
    assert [a["id"] for a in page["items"]] == [in_title.id, in_body.id]
    first = page["items"][0]
    assert first["rank"] > page["items"][1]["rank"] > 0
    assert first["highlight"]["title"] == "<b>Glacier</b> retreat"
    assert "<b>glacier</b>" in page["items"][1]["highlight"]["text"]
    stemmed = client.articles(q="glaciers measuring", limit=10)
    assert [a["id"] for a in stemmed["items"]] == [in_title.id], "english stemming, both words required"


def _drain(client: NewswireClient, params: dict[str, Any], between: Callable[[int], None]) -> list[int]:
    seen: list[int] = []
    cursor = None
    page_no = 0
    while True:
        page = client.articles(limit=6, cursor=cursor, fields=["id"], **params)
        seen.extend(a["id"] for a in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
        between(page_no)
        page_no += 1


@pytest.mark.parametrize(
    "params",
    [{"sort": "ingested"}, {"sort": "published"}, {"q": "harbor OR wheat", "sort": "relevance"}],
    ids=["ingested", "published", "relevance"],
)
def test_pages_never_skip_or_repeat_while_articles_arrive(
    client: NewswireClient, corpus: Corpus, db_session: Session, params: dict[str, Any]
) -> None:
    before = _drain(client, params, lambda _: None)
    rng = random.Random(3)

    def insert(page_no: int) -> None:  # between pages: new articles sorting before, among and after
        for _ in range(3):
            stored_article(
                db_session,
                title="harbor wheat news",
                text="harbor wheat harbor wheat",
                published_at=T0 + timedelta(hours=rng.randint(-50, 300)),
            )
        db_session.commit()

    during = _drain(client, params, insert)
    assert during == before, "the same articles, once each, in the same order"
    assert len(set(during)) == len(during) > 12


def test_cursor_belongs_to_its_sort_and_filter(
    client: NewswireClient, api_client: httpx.Client, corpus: Corpus
) -> None:
    cursor = client.articles(limit=2, sort="ingested")["next_cursor"]
    assert cursor
    for params in (
        {"sort": "published"},
        {"sort": "ingested", "source": "alpha"},
        {"sort": "ingested", "cursor": "!!"},
    ):
        response = api_client.get(
            "/v1/articles", params={"cursor": cursor, **params} if "cursor" not in params else params
        )
        assert response.status_code == 400, params
        assert response.json()["error"] == "invalid_cursor"


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"sort": "relevance"}, "needs a search"),
        ({"fields": "title,nope"}, "unknown field"),
        ({"published_from": "2026-02-01T00:00:00Z", "published_to": "2026-01-01T00:00:00Z"}, "before"),
        ({"ingested_from": "2026-02-01T00:00:00Z", "ingested_to": "2026-02-01T00:00:00Z"}, "before"),
        ({"entity_mode": "some"}, None),
        ({"topic": "no-such-topic"}, "unknown topic"),
        ({"entity": "99999999999999999999"}, "out of range"),
        ({"q": "-"}, "no searchable word"),
        ({"published_from": "yesterday"}, None),
        ({"ingested_to": "3875"}, "ISO 8601"),
        ({"min_topic_score": "2"}, None),
    ],
)
def test_bad_parameters_are_422_with_the_error_body(
    api_client: httpx.Client, params: dict[str, str], detail: str | None
) -> None:
    for path in ("/v1/articles", "/v1/articles/facets"):
        if path.endswith("facets") and set(params) & {"sort", "fields"}:
            continue
        response = api_client.get(path, params=params)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["error"] == "validation_error"
        if detail:
            assert detail in str(response.json()["detail"])


def test_fields_keep_answers_small(client: NewswireClient, corpus: Corpus) -> None:
    items = client.articles(limit=3, fields=["title", "published_at"])["items"]
    assert [set(i) for i in items] == [{"id", "title", "published_at"}] * 3
    full = client.articles(limit=1)["items"][0]
    assert {"topics", "url", "rank", "highlight"} <= set(full)


def test_facets_count_the_filtered_articles(client: NewswireClient, corpus: Corpus) -> None:
    acme = corpus.entities[1]
    docs = [d for d in corpus.docs if d.status != "duplicate" and acme.id in d.entities]
    facets = client.facets(entity=[str(acme.id)], min_topic_score=0.3)
    assert (facets["matched"], facets["capped"]) == (len(docs), False)
    assert {s["value"]: s["count"] for s in facets["sources"]} == Counter(d.source for d in docs)
    assert {s["value"]: s["count"] for s in facets["languages"]} == Counter(d.language for d in docs)
    topic_counts = Counter(code for d in docs for code, score in d.topics.items() if score >= 0.3)
    assert {t["code"]: t["count"] for t in facets["topics"]} == topic_counts
    orgs = {e["name"]: e["count"] for e in facets["entities"]["ORG"]}
    assert orgs["Acme Corp"] == len(docs)
    assert orgs.get("Globex", 0) == sum(corpus.entities[3].id in d.entities for d in docs)


def test_entity_views(client: NewswireClient, api_client: httpx.Client, corpus: Corpus) -> None:
    ada = corpus.entities[0]
    with_ada = [d for d in corpus.docs if ada.id in d.entities]
    related = client.related(ada.id)
    want = Counter(e for d in with_ada for e in d.entities if e != ada.id)
    assert {r["id"]: r["count"] for r in related["items"]} == want
    assert (related["articles"], related["capped"]) == (len(with_ada), False)
    counts = [r["count"] for r in related["items"]]
    assert counts == sorted(counts, reverse=True)
    timeline = client.timeline(ada.id, start="2025-12-31", end="2026-01-12")
    per_day = Counter((d.published_at or d.created_at).date().isoformat() for d in with_ada)
    assert len(timeline["days"]) == 12
    assert {p["day"]: p["articles"] for p in timeline["days"] if p["articles"]} == per_day
    assert api_client.get("/v1/entities/999999999/related").status_code == 404
    bad = api_client.get(
        f"/v1/entities/{ada.id}/timeline", params={"start": "2026-02-01", "end": "2026-01-01"}
    )
    assert (bad.status_code, bad.json()["error"]) == (422, "validation_error")


def test_etag_answers_304_and_large_answers_are_gzipped(api_client: httpx.Client, corpus: Corpus) -> None:
    first = api_client.get("/v1/articles", params={"limit": 50})
    etag = first.headers["ETag"]
    assert re.fullmatch(r'W/"[0-9a-f]{32}"', etag)
    again = api_client.get("/v1/articles", params={"limit": 50}, headers={"If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["ETag"]) == (304, b"", etag)
    other = api_client.get("/v1/articles", params={"limit": 49}, headers={"If-None-Match": etag})
    assert other.status_code == 200
    assert (
        api_client.get("/v1/articles", params={"limit": 50}, headers={"If-None-Match": "*"}).status_code
        == 304
    )
    zipped = api_client.get("/v1/articles", params={"limit": 50}, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.json() == first.json()
    small = api_client.get(
        "/v1/articles", params={"limit": 1, "fields": "id"}, headers={"Accept-Encoding": "gzip"}
    )
    assert "Content-Encoding" not in small.headers
    error = api_client.get("/v1/articles", params={"sort": "relevance"}, headers={"If-None-Match": "*"})
    assert error.status_code == 422
    assert "ETag" not in error.headers


def test_every_query_parameter_is_documented_with_an_example(api_client: httpx.Client) -> None:
    spec = api_client.get("/openapi.json").json()
    for path in (
        "/v1/articles",
        "/v1/articles/facets",
        "/v1/articles/export",
        "/v1/entities/{entity_id}/related",
        "/v1/entities/{entity_id}/timeline",
    ):
        for parameter in spec["paths"][path]["get"]["parameters"]:
            assert parameter.get("description"), (path, parameter["name"])
            assert (
                parameter.get("examples") or parameter["schema"].get("examples") or parameter.get("example")
            ), (
                path,
                parameter["name"],
            )


def test_default_list_leaves_out_duplicates(client: NewswireClient, db_session: Session) -> None:
    original = stored_article(db_session)
    copy = stored_article(db_session, status="duplicate")
    db_session.commit()
    ids = {a["id"] for a in client.iter_articles(fields=["id"])}
    assert original.id in ids
    assert copy.id not in ids
    assert copy.id in {a["id"] for a in client.iter_articles(fields=["id"], include_duplicates=True)}
    assert db_session.get(Article, copy.id) is not None


def test_pages_stay_whole_while_another_connection_inserts(
    fresh_database: Callable[[str], str], make_key: Any
) -> None:
    """A writer thread commits articles (dated before, among and after the pages) on its own connection
    for as long as a reader pages through published order: every article stored before the reader began
    comes exactly once, in order."""
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine, pool
    from sqlalchemy.orm import sessionmaker

    from services.api.app import create_app
    from shared.auth import service as auth

    url = fresh_database("query_pages")
    engine = create_engine(url, poolclass=pool.NullPool)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    rng = random.Random(5)

    def write(n: int) -> None:
        with factory() as session:
            for _ in range(n):
                stored_article(session, published_at=T0 + timedelta(minutes=rng.randint(-600, 6000)))
            session.commit()

    write(120)
    with factory() as session:
        existing = {a.id for a in session.query(Article).all()}
        key = auth.create_key(session=session, name="pages", scopes=["read"]).key
        session.commit()
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            write(5)

    app = create_app()
    app.state.session_factory = factory
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as http:
            seen = list(
                NewswireClient(http=http).iter_articles(sort="published", limit=7, fields=["published_at"])
            )
    finally:
        stop.set()
        thread.join()
        engine.dispose()
    ids = [a["id"] for a in seen]
    assert len(ids) == len(set(ids)), "no article twice"
    assert existing <= set(ids), "no article stored before the first page is skipped"
    keys = [(a["published_at"], a["id"]) for a in seen]
    assert keys == sorted(keys, reverse=True)


def test_a_published_range_sorts_by_published_unless_told(client: NewswireClient, corpus: Corpus) -> None:
    window = {"published_from": T0.isoformat(), "published_to": (T0 + timedelta(hours=300)).isoformat()}
    items = client.articles(limit=100, fields=["published_at"], **window)["items"]
    keys = [(a["published_at"], a["id"]) for a in items]
    assert keys == sorted(keys, reverse=True)
    assert [a["id"] for a in items] != sorted((a["id"] for a in items), reverse=True)
    by_id = client.articles(limit=100, sort="ingested", fields=["id"], **window)["items"]
    assert [a["id"] for a in by_id] == sorted((a["id"] for a in by_id), reverse=True)


def test_export_streams_every_match_with_enrichments(
    client: NewswireClient, api_client: httpx.Client, corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.settings import get_settings

    monkeypatch.setattr(get_settings(), "export_chunk_size", 7)  # many batches: no row cap, no batch lost
    acme = corpus.entities[1]
    want = sorted(d.id for d in corpus.docs if d.status != "duplicate" and acme.id not in d.entities)
    every = list(client.export())
    assert [a["id"] for a in every] == sorted(d.id for d in corpus.docs if d.status != "duplicate")
    by_id = {d.id: d for d in corpus.docs}
    for item in every:
        doc = by_id[item["id"]]
        assert {e["id"] for e in item["entities"]} == doc.entities
        assert {t["code"]: t["score"] for t in item["topics"]} == doc.topics
    one_entity = [a["id"] for a in client.export(entity=[str(acme.id)])]
    assert sorted(set(one_entity) | set(want)) == [a["id"] for a in every]
    resumed = [a["id"] for a in client.export(after_id=every[40]["id"])]
    assert resumed == [a["id"] for a in every[41:]]
    raw = api_client.get("/v1/articles/export", params={"source": "alpha"})
    assert raw.headers["content-type"].startswith("application/x-ndjson")
    *lines, end = raw.text.splitlines()
    alpha = [d.id for d in corpus.docs if d.status != "duplicate" and d.source == "alpha"]
    assert json.loads(end) == {"end": {"count": len(alpha), "last_id": max(alpha)}}
    assert len(lines) == len(alpha)
    bad = api_client.get("/v1/articles/export", params={"sort": "x", "published_from": "nope"})
    assert bad.status_code == 422

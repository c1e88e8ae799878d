"""Exact facets (issue 16): the counts the triggers keep (migration 0016) equal a COUNT(*) over the same
filter after factory writes, real enrichment, re-enrichment, an override, a duplicate undone, a revision and
a deletion; and equal a rebuild from scratch.  A filter the counts cannot answer is counted over the
matches, under a statement timeout that answers 504 `query_timeout`."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text, update
from sqlalchemy.orm import Session

from services.enrich.articles import service as enrich_service
from services.enrich.nlp import Enricher
from shared.models import Article
from tests.factories import stored_article
from tests.integration.test_query_api import SOURCES, T0, TOPICS, _corpus
from tests.support.timeouts import assert_query_timeout_answers_504

DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


def _oracle(session: Session, params: dict[str, Any]) -> dict[str, Any]:
    """COUNT(*) over the articles the filter selects, written independently of the API's SQL."""
    where = ["a.status <> 'duplicate'"]
    binds: dict[str, Any] = {}
    if "published_from" in params:
        where.append("a.published_at >= :pf")
        binds["pf"] = params["published_from"]
    if "published_to" in params:
        where.append("a.published_at < :pt")
        binds["pt"] = params["published_to"]
    if "source" in params:
        where.append("a.source = ANY(:src)")
        binds["src"] = list(params["source"])
    if "language" in params:
        where.append("a.language = ANY(:lang)")
        binds["lang"] = list(params["language"])
    cond = " AND ".join(where)
    matched = session.execute(text(f"SELECT count(*) FROM articles a WHERE {cond}"), binds).scalar_one()
    sources = session.execute(
        text(f"SELECT a.source, count(*) FROM articles a WHERE {cond} GROUP BY 1"), binds
    )
    languages = session.execute(
        text(f"SELECT a.language, count(*) FROM articles a WHERE {cond} GROUP BY 1"), binds
    )
    topics = session.execute(
        text(
            f"SELECT t.topic_code, count(*) FROM articles a JOIN article_topics t ON t.article_id = a.id "
            f"WHERE {cond} GROUP BY 1"
        ),
        binds,
    )
    entities = session.execute(
        text(
            f"SELECT e.entity_id, count(*) FROM articles a JOIN article_entities e ON e.article_id = a.id "
            f"WHERE {cond} GROUP BY 1"
        ),
        binds,
    )
    return {
        "matched": matched,
        "sources": dict(sources.tuples().all()),
        "languages": dict(languages.tuples().all()),
        "topics": dict(topics.tuples().all()),
        "entities": dict(entities.tuples().all()),
    }


def _answer(api_client: httpx.Client, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    response = api_client.get("/v1/articles/facets", params={**params, "limit": 100})
    assert response.status_code == 200, response.text
    body = response.json()
    return body["method"], {
        "matched": body["matched"],
        "sources": {s["value"]: s["count"] for s in body["sources"]},
        "languages": {s["value"]: s["count"] for s in body["languages"]},
        "topics": {t["code"]: t["count"] for t in body["topics"]},
        "entities": {e["id"]: e["count"] for group in body["entities"].values() for e in group},
    }


_ROLLUPS_KEPT = "SELECT grain, period::text, dim, key, language, n FROM facet_rollups WHERE n <> 0"
# what the rollups must hold: the folded counts summed over sources per day, ISO week and month
_ROLLUPS_OF_COUNTS = """
    SELECT g.grain, g.period::text, c.dim, c.key, c.language, sum(c.n)
      FROM facet_counts c, LATERAL (VALUES ('d', c.day), ('w', c.day - (extract(isodow FROM c.day)::int - 1)),
                                    ('m', make_date(extract(year FROM c.day)::int,
                                                    extract(month FROM c.day)::int, 1))) g(grain, period)
     WHERE c.dim <> 'all' AND c.day > '-infinity' AND c.day < 'infinity'
     GROUP BY 1, 2, 3, 4, 5 HAVING sum(c.n) <> 0
"""


def _rows(session: Session, sql: str) -> Counter[tuple[Any, ...]]:
    return Counter({tuple(r[:-1]): r[-1] for r in session.execute(text(sql))})


def _rebuilt_equals_kept(session: Session) -> None:
    """The kept counts (folded plus pending deltas) equal a rebuild from the articles; the rollups are
    the rollups of the folded counts, before and after the rebuild."""
    kept_sql = (
        "SELECT day::text, dim, key, source, language, sum(n) FROM (SELECT * FROM facet_counts UNION ALL "
        "SELECT * FROM facet_deltas) c GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0"
    )
    kept = _rows(session, kept_sql)
    assert _rows(session, _ROLLUPS_KEPT) == _rows(session, _ROLLUPS_OF_COUNTS)
    session.execute(text("SAVEPOINT rebuild"))
    session.execute(text("SELECT facet_rebuild()"))
    rebuilt = _rows(session, kept_sql)
    rolled = _rows(session, _ROLLUPS_KEPT)
    assert rolled == _rows(session, _ROLLUPS_OF_COUNTS)
    session.execute(text("ROLLBACK TO SAVEPOINT rebuild"))
    assert kept == rebuilt
    assert all(n > 0 for n in kept.values())
    assert rolled
    assert all(n > 0 for n in rolled.values())


FILTERS: list[dict[str, Any]] = [
    {},
    {"source": [SOURCES[0]]},
    {"source": SOURCES[:2], "language": ["en"]},
    {"language": ["de", "en"]},
    {"published_from": (T0 + DAY).isoformat(), "published_to": (T0 + 5 * DAY).isoformat()},
    {"published_to": (T0 + 3 * DAY).isoformat(), "source": [SOURCES[1]]},
    {"published_from": (T0 + 2 * DAY).isoformat()},
    # not on day boundaries: counted over the matches, still exact
    {"published_from": (T0 + timedelta(hours=30)).isoformat()},
]


def test_facets_equal_a_count_over_the_same_filter(api_client: httpx.Client, db_session: Session) -> None:
    _corpus(db_session)
    for params in FILTERS:
        method, answer = _answer(api_client, params)
        assert method == ("scan" if params.get("published_from", "").endswith("06:00:00+00:00") else "counts")
        assert answer == _oracle(db_session, params), params
    _rebuilt_equals_kept(db_session)


def _spread_over_months(session: Session, entities: list[Any]) -> None:
    """Articles published from November 2025 to March 2026, for ranges over months, weeks and days."""
    rng = random.Random(16)
    for _ in range(150):
        stored_article(
            session,
            entities=[(e, 1) for e in rng.sample(entities, rng.randint(0, 3))],
            topics=[(code, round(rng.random(), 2)) for code in rng.sample(TOPICS, rng.randint(0, 2))],
            source=rng.choice(SOURCES),
            language=rng.choice(["en", "en", "de", None]),
            status=rng.choice(["enriched"] * 6 + ["duplicate", "queued"]),
            published_at=None
            if rng.random() < 0.1
            else MONTHS_T0 + timedelta(hours=rng.randint(0, 150 * 24)),
        )
    session.commit()


MONTHS_T0 = datetime(2025, 11, 3, tzinfo=UTC)


def _days(start: str, end: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"published_from": f"{start}T00:00:00Z"} if start else {}
    if end:
        params["published_to"] = f"{end}T00:00:00Z"
    return params


RANGES: list[dict[str, Any]] = [
    _days("2025-11-20", "2026-02-10"),  # months, then weeks and days on either side
    _days("2025-12-01", "2026-02-01"),  # whole months
    _days("2026-01-05", "2026-01-26"),  # whole weeks
    _days("2026-01-07", "2026-01-09"),  # days inside a week
    _days("2026-01-15"),  # open ends
    _days("", "2026-01-15"),
    {**_days("2025-11-20", "2026-03-10"), "language": ["de"]},
    {**_days("2025-11-20", "2026-03-10"), "language": ["en", "de"]},
    {**_days("2025-11-20", "2026-03-10"), "source": SOURCES[:2]},
    {**_days("2025-12-29", "2026-01-12"), "source": [SOURCES[2]], "language": ["en"]},
    _days("2027-01-01", "2027-02-01"),  # no article
]


def test_ranges_over_months_weeks_and_days_equal_a_count(
    api_client: httpx.Client, db_session: Session
) -> None:
    """Before a fold (pending deltas), after it (month, week and day rollups) and after a deletion."""
    corpus = _corpus(db_session)
    _spread_over_months(db_session, corpus.entities)
    for params in RANGES:
        assert _answer(api_client, params) == ("counts", _oracle(db_session, params)), params
    db_session.execute(text("SELECT facet_fold()"))
    db_session.commit()
    assert db_session.execute(text("SELECT count(*) FROM facet_deltas")).scalar_one() == 0
    assert db_session.execute(text("SELECT count(DISTINCT grain) FROM facet_rollups")).scalar_one() == 3
    for params in RANGES:
        assert _answer(api_client, params) == ("counts", _oracle(db_session, params)), params
    # a change after the fold: pending deltas on top of the rollups
    victim = db_session.execute(
        text(
            "SELECT a.id FROM articles a JOIN article_entities e ON e.article_id = a.id "
            "WHERE a.status = 'enriched' AND a.published_at >= '2025-12-01' "
            "AND a.published_at < '2026-01-01' LIMIT 1"
        )
    ).scalar_one()
    db_session.execute(text("DELETE FROM articles WHERE id = :id"), {"id": victim})
    db_session.commit()
    for params in RANGES:
        assert _answer(api_client, params) == ("counts", _oracle(db_session, params)), params
    _rebuilt_equals_kept(db_session)


def test_counts_follow_status_day_source_and_deletion_changes(
    api_client: httpx.Client, db_session: Session
) -> None:
    corpus = _corpus(db_session)
    duplicate = next(d for d in corpus.docs if d.status == "duplicate")
    enriched = [d for d in corpus.docs if d.status == "enriched" and d.topics and d.entities]
    db_session.execute(update(Article).where(Article.id == duplicate.id).values(status="enriched"))  # undo
    db_session.execute(update(Article).where(Article.id == enriched[0].id).values(status="duplicate"))
    db_session.execute(
        update(Article)
        .where(Article.id == enriched[1].id)
        .values(published_at=T0 + 9 * DAY, source="delta", language="fr")
    )
    db_session.execute(update(Article).where(Article.id == enriched[2].id).values(title="revised title"))
    db_session.delete(db_session.get(Article, enriched[3].id))
    db_session.execute(text("DELETE FROM article_topics WHERE article_id = :a"), {"a": enriched[4].id})
    db_session.execute(
        text("UPDATE article_entities SET entity_id = :e WHERE article_id = :a AND entity_id <> :e"),
        {"a": enriched[5].id, "e": corpus.entities[4].id},
    )  # an entity merge moving the mention
    db_session.commit()
    for params in [*FILTERS, {"source": ["delta"]}]:
        assert _answer(api_client, params)[1] == _oracle(db_session, params), params
    _rebuilt_equals_kept(db_session)


def test_counts_are_exact_after_enrichment_re_enrichment_and_an_override(
    api_client: httpx.Client, ingest_client: httpx.Client, db_session: Session, enricher: Enricher
) -> None:
    published = datetime(2026, 3, 4, 15, tzinfo=UTC)
    ids = []
    for i, (who, where) in enumerate([("Angela Merkel", "Berlin"), ("Emmanuel Macron", "Paris")] * 2):
        token = uuid.uuid4().hex[:8]
        body = {
            "url": f"https://facets.test/{token}",
            "title": f"{who} meets ministers in {where}",
            "text": f"{who} met finance ministers in {where} on Monday to discuss the budget and "
            f"interest rates. The central bank said inflation was falling. {who} will travel to Brussels. "
            f"Ref {token}.",
            "source": SOURCES[i % 2],
            "published_at": (published + i * DAY).isoformat(),
        }
        response = ingest_client.post("/v1/articles", json=body)
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    day: dict[str, Any] = {"published_from": "2026-03-04T00:00:00Z", "published_to": "2026-03-08T00:00:00Z"}
    queued = _oracle(db_session, day)
    assert queued["matched"] == 4
    assert not queued["entities"]
    assert _answer(api_client, day)[1] == queued
    for article_id in ids:
        assert enrich_service.enrich_article(session=db_session, article_id=article_id, enricher=enricher)
        db_session.commit()
    enriched = _oracle(db_session, day)
    assert enriched["entities"]
    assert enriched["languages"] == {"en": 4}
    checks: list[dict[str, Any]] = [day, {**day, "source": [SOURCES[0]]}, {**day, "language": ["en"]}, {}]
    for params in checks:
        method, answer = _answer(api_client, params)
        assert (method, answer) == ("counts", _oracle(db_session, params))
    # re-enrichment under an override moves Berlin's mentions to another entity
    response = api_client.post(
        "/v1/ops/entity-overrides",
        json={"kind": "alias", "surface": "Berlin", "type": "GPE", "canonical": "German capital"},
    )
    assert response.status_code == 201, response.text
    for article_id in ids:
        enrich_service.enrich_article(session=db_session, article_id=article_id, enricher=enricher)
        db_session.commit()
    for params in [day, {**day, "source": [SOURCES[1]]}, {}]:
        assert _answer(api_client, params)[1] == _oracle(db_session, params)
    groups = api_client.get("/v1/articles/facets", params=day).json()["entities"].values()
    assert "German capital" in {e["name"] for group in groups for e in group}
    _rebuilt_equals_kept(db_session)


def test_a_scan_over_its_timeout_is_a_clear_504(
    api_client: httpx.Client, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another transaction holds a lock the scan must wait for."""
    assert_query_timeout_answers_504(
        api_client, engine, monkeypatch, path="/v1/articles/facets", params={"q": "budget"}, locked="topics"
    )

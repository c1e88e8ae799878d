"""The read API over canonical entities: article detail (aliases, salience), /v1/entities (aliases,
counts, type and prefix filters, keyset pages) and the articles' entity filter by name or alias."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.orm import Session

from services.enrich.articles import service
from services.enrich.nlp import Enricher
from tests.factories import push_samples


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


@pytest.fixture
def enriched_ids(ingest_client: httpx.Client, db_session: Session, enricher: Enricher) -> list[int]:
    ids = push_samples(ingest_client, host="api.test")
    for article_id in ids:
        assert (
            service.enrich_article(session=db_session, article_id=article_id, enricher=enricher) == "enriched"
        )
    db_session.commit()
    return ids


def test_article_detail_shows_canonical_entities(api_client: httpx.Client, enriched_ids: list[int]) -> None:
    with_clinton = api_client.get("/v1/articles", params={"entity": "Clinton"}).json()["items"]
    assert with_clinton, "the alias finds the articles of the canonical entity"
    detail = api_client.get(f"/v1/articles/{with_clinton[0]['id']}").json()
    entities = detail["entities"]
    scores = [e["salience"]["score"] for e in entities]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    clinton = next(e for e in entities if e["type"] == "PERSON" and e["name"].endswith("Clinton"))
    assert set(clinton) == {"id", "name", "type", "mention_count", "aliases", "salience", "mentions"}
    assert {a["alias"] for a in clinton["aliases"]} >= {"Clinton"}
    assert sum(a["count"] for a in clinton["aliases"]) == clinton["mention_count"] == len(clinton["mentions"])
    assert set(clinton["salience"]) == {"score", "in_title", "in_lead", "first_offset"}
    assert not [e for e in entities if e["name"] == "Clinton"]


def test_entities_list_with_aliases_and_filters(api_client: httpx.Client, enriched_ids: list[int]) -> None:
    us = api_client.get("/v1/entities", params={"type": "gpe", "prefix": "united st"}).json()["items"]
    assert [e["name"] for e in us] == ["United States"]
    united_states = us[0]
    assert united_states["article_count"] == 5
    aliases = {a["alias"]: a for a in united_states["aliases"]}
    assert {"U.S.", "US", "United States"} <= set(aliases)
    assert sum(a["mention_count"] for a in aliases.values()) == united_states["mention_count"]
    by_alias = api_client.get("/v1/entities", params={"prefix": "u.s."}).json()["items"]
    assert united_states["id"] in {e["id"] for e in by_alias}
    one = api_client.get(f"/v1/entities/{united_states['id']}").json()
    assert one == united_states
    assert all(
        e["type"] == "PERSON"
        for e in api_client.get("/v1/entities", params={"type": "PERSON"}).json()["items"]
    )

    # keyset pages: every entity exactly once, most articles first
    seen: list[dict[str, object]] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        page = api_client.get("/v1/entities", params=params).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids))
    counts = [e["article_count"] for e in seen]
    assert counts == sorted(counts, reverse=True)
    assert min(counts) >= 1


def test_article_entity_filter_by_name_or_alias(api_client: httpx.Client, enriched_ids: list[int]) -> None:
    def ids(**params: object) -> set[int]:
        return {a["id"] for a in api_client.get("/v1/articles", params=params).json()["items"]}

    assert ids(entity="United States") == ids(entity="u.s.") == ids(entity="US") == set(enriched_ids)
    # the alias "Clinton" belongs to every canonical Clinton (a sample spells her "Hilary": another entity)
    assert ids(entity="Hillary Clinton") < ids(entity="clinton")
    assert ids(entity="no such entity anywhere") == set()

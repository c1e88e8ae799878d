"""Entity overrides on a real PostgreSQL: the admin API (auth, 422, 409, 404, re-enqueued articles through
the outbox) and end to end in-process: enrich with the real model, add an override, enrich again."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.enrich.articles import service
from services.enrich.nlp import Enricher
from shared.models import Article, ArticleEntity, Entity, OutboxEvent
from tests.conftest import MakeKey, bearer

OVERRIDES = "/v1/ops/entity-overrides"
TITLE = "Washington hardens its stance on China trade"
TEXT = (
    "Officials in Washington said on Tuesday that they would not change course on trade with China. "
    "Washington has long argued that Chinese exports are unfairly subsidised, a senior official said in "
    "Beijing. Microsoft and Apple declined to comment on the talks in Washington. "
    "The talks with China resume next week."
)


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


def _push(ingest_client: httpx.Client) -> int:
    token = uuid.uuid4().hex[:8]
    response = ingest_client.post(
        "/v1/articles",
        json={"url": f"https://overrides.test/{token}", "title": TITLE, "text": f"{TEXT} Ref {token}."},
    )
    assert response.status_code == 202, response.text
    article_id: int = response.json()["id"]
    return article_id


def _entities(session: Session, article_id: int) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(Entity.name, Entity.type, ArticleEntity.mention_count)
        .join(ArticleEntity, ArticleEntity.entity_id == Entity.id)
        .where(ArticleEntity.article_id == article_id)
    )
    return {(r.name, r.type): r.mention_count for r in rows}


def _jobs(session: Session, article_id: int) -> int:
    return int(session.scalar(select(func.count()).where(OutboxEvent.article_id == article_id)) or 0)


def _counts(session: Session, name: str, kind: str) -> tuple[int, int] | None:
    row = session.execute(
        select(Entity.article_count, Entity.mention_count).where(Entity.name == name, Entity.type == kind)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def test_override_requeues_and_re_enrichment_applies_it(
    db_session: Session, ingest_client: httpx.Client, api_client: httpx.Client, enricher: Enricher
) -> None:
    article_id = _push(ingest_client)
    other_id = _push(ingest_client)
    assert service.enrich_article(session=db_session, article_id=article_id, enricher=enricher) == "enriched"
    db_session.commit()
    before = _entities(db_session, article_id)
    assert before[("Washington", "GPE")] == 4
    assert _counts(db_session, "Washington", "GPE") == (1, 4)
    jobs = _jobs(db_session, article_id)

    response = api_client.post(
        OVERRIDES,
        json={
            "kind": "alias",
            "surface": "  washington ",
            "type": "GPE",
            "canonical": "United States government",
            "canonical_type": "ORG",
            "note": "the city stands for the government",
        },
    )
    assert response.status_code == 201, response.text
    saved = response.json()
    assert saved["requeued"] == 1  # the enriched article; the other one was never enriched
    assert saved["override"]["surface"] == "washington"
    assert saved["override"]["created_by"] == "key:test"
    assert _jobs(db_session, article_id) == jobs + 1
    assert _jobs(db_session, other_id) == 1

    listed = api_client.get(OVERRIDES).json()
    assert [o["id"] for o in listed["items"]] == [saved["override"]["id"]]
    assert listed["version"].startswith("1-")

    assert service.enrich_article(session=db_session, article_id=article_id, enricher=enricher) == "enriched"
    db_session.commit()
    after = _entities(db_session, article_id)
    assert ("Washington", "GPE") not in after
    assert after[("United States government", "ORG")] == 4
    assert {k: v for k, v in after.items() if k[0] != "United States government"} == {
        k: v for k, v in before.items() if k[0] != "Washington"
    }
    assert _counts(db_session, "Washington", "GPE") == (0, 0)
    assert _counts(db_session, "United States government", "ORG") == (1, 4)
    article = db_session.get(Article, article_id)
    assert article is not None
    assert article.model_versions is not None
    assert article.model_versions["entity_overrides"] == listed["version"]

    # enriching again changes nothing: no duplicate rows, no inflated counts
    assert service.enrich_article(session=db_session, article_id=article_id, enricher=enricher) == "enriched"
    db_session.commit()
    assert _entities(db_session, article_id) == after
    assert _counts(db_session, "United States government", "ORG") == (1, 4)

    # removing the override re-enqueues the article; re-enrichment restores the model's entity
    removed = api_client.delete(f"{OVERRIDES}/{saved['override']['id']}")
    assert removed.status_code == 200, removed.text
    assert removed.json() == {"id": saved["override"]["id"], "requeued": 1}
    assert service.enrich_article(session=db_session, article_id=article_id, enricher=enricher) == "enriched"
    db_session.commit()
    assert _entities(db_session, article_id) == before
    assert _counts(db_session, "United States government", "ORG") == (0, 0)
    assert api_client.get(OVERRIDES).json() == {"items": [], "version": "0"}


def test_ignore_and_merge_end_to_end(
    db_session: Session, ingest_client: httpx.Client, api_client: httpx.Client, enricher: Enricher
) -> None:
    article_id = _push(ingest_client)
    service.enrich_article(session=db_session, article_id=article_id, enricher=enricher)
    db_session.commit()
    ignore = api_client.post(OVERRIDES, json={"kind": "ignore", "surface": "Apple", "type": "ORG"})
    assert ignore.status_code == 201, ignore.text
    assert ignore.json()["requeued"] == 1
    merge = api_client.post(OVERRIDES, json={"kind": "merge", "surface": "Beijing", "canonical": "China"})
    assert merge.status_code == 201, merge.text
    assert merge.json()["requeued"] == 1
    service.enrich_article(session=db_session, article_id=article_id, enricher=enricher)
    db_session.commit()
    after = _entities(db_session, article_id)
    assert ("Apple", "ORG") not in after
    assert ("Beijing", "GPE") not in after
    assert after[("China", "GPE")] == 4
    # removing the ignore finds the article by its text (the ignored name left no mention behind)
    removed = api_client.delete(f"{OVERRIDES}/{ignore.json()['override']['id']}")
    assert removed.json()["requeued"] == 1
    removed = api_client.delete(f"{OVERRIDES}/{merge.json()['override']['id']}")
    assert removed.json()["requeued"] == 1


def test_validation_conflict_and_not_found(api_client: httpx.Client) -> None:
    bad = [
        {"kind": "alias", "surface": "Washington"},  # no canonical
        {"kind": "ignore", "surface": "Apple", "canonical": "Pear"},
        {"kind": "rename", "surface": "x", "canonical": "y"},
        {"kind": "ignore", "surface": "   "},
        {"kind": "ignore", "surface": "a\x00b"},
        {"kind": "ignore", "surface": "Apple", "type": "FRUIT"},
        {"kind": "ignore", "surface": "Apple", "extra": 1},
    ]
    for body in bad:
        response = api_client.post(OVERRIDES, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]
    first = api_client.post(OVERRIDES, json={"kind": "ignore", "surface": "Monday"})
    assert first.status_code == 201
    assert first.json()["requeued"] == 0
    again = api_client.post(OVERRIDES, json={"kind": "ignore", "surface": "  MONDAY"})
    assert again.status_code == 409
    assert again.json()["error"] == "override_exists"
    typed = api_client.post(OVERRIDES, json={"kind": "ignore", "surface": "Monday", "type": "PERSON"})
    assert typed.status_code == 201  # another type: another override
    missing = api_client.delete(f"{OVERRIDES}/987654321")
    assert missing.status_code == 404
    assert missing.json()["error"]


def test_overrides_need_the_admin_scope(api_client: httpx.Client, make_key: MakeKey) -> None:
    read = bearer(make_key("read"))
    assert api_client.get(OVERRIDES, headers=read).status_code == 403
    denied = api_client.post(OVERRIDES, json={"kind": "ignore", "surface": "x"}, headers=read)
    assert denied.status_code == 403
    assert api_client.delete(f"{OVERRIDES}/1", headers=read).status_code == 403
    assert api_client.get(OVERRIDES, headers={"Authorization": ""}).status_code == 401

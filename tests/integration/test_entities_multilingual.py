"""One entity across languages on a real PostgreSQL: a German article naming "die Vereinigten Staaten" and
an English one naming "the United States" are stored under one entity, and one `entity=` filter of the
read API returns both (by the English canonical name or by either surface form).

The English article runs the real enricher end to end.  The German one runs the real enricher too
(language detection, versions) and the real canonicaliser for German; its NER spans are given by hand,
standing in for the German pipeline, then the worker's own write path (overrides, the entity ledger,
the global entity and alias tables) stores it."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.enrich.articles import service
from services.enrich.entities import RawSpan, canonicalise
from services.enrich.nlp import Enricher
from shared.models import Entity, EntityAlias

GERMAN_TITLE = "Berlin und Washington einigen sich auf neue Handelsregeln"
GERMAN_TEXT = (
    "Die Bundesregierung hat sich am Dienstag mit den Vereinigten Staaten auf neue Regeln für den Handel "
    "mit Stahl geeinigt. Die Gespräche in Washington hätten drei Tage gedauert, sagte ein Sprecher in "
    "Berlin. Auch Moskau beobachte die Verhandlungen genau, hieß es. Die USA wollen die Zölle im Sommer "
    "senken, wenn die Europäische Union ihre Quoten anpasst."
)
GERMAN_SPANS = [
    ("Bundesregierung", "ORG"),
    ("Vereinigten Staaten", "LOC"),
    ("Washington", "LOC"),
    ("Berlin", "LOC"),
    ("Moskau", "LOC"),
    ("USA", "LOC"),
    ("Europäische Union", "ORG"),
]
ENGLISH_TITLE = "Washington and Berlin agree on new steel trade rules"
ENGLISH_TEXT = (
    "The United States agreed on Tuesday with Germany on new rules for the steel trade, officials said "
    "in Washington after three days of talks. The United States will cut tariffs in the summer if the "
    "European Union changes its quotas, a spokesman for the German government said in Berlin."
)


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


def _push(ingest_client: httpx.Client, *, title: str, text: str) -> int:
    token = uuid.uuid4().hex[:8]
    response = ingest_client.post(
        "/v1/articles",
        json={"url": f"https://multilingual.test/{token}", "title": title, "text": f"{text} Ref {token}."},
    )
    assert response.status_code == 202, response.text
    article_id: int = response.json()["id"]
    return article_id


def _enrich_german(session: Session, *, article_id: int, enricher: Enricher) -> None:
    item = service.load_input(session=session, article_id=article_id)
    assert item is not None
    enrichment = enricher.enrich(title=item.title, text=item.text)
    assert enrichment.language.code == "de"
    spans = [
        RawSpan("text", m.start(), m.end(), label)
        for surface, label in GERMAN_SPANS
        for m in re.finditer(re.escape(surface), item.text)
    ]
    entities = canonicalise(title=item.title, text=item.text, spans=spans, language=enrichment.language.code)
    enrichment = service.with_overrides(
        enrichment=replace(enrichment, entities=entities), overrides=item.overrides, text=item.text
    )
    assert service.save_enrichment(session=session, item=item, enrichment=enrichment) == "enriched"


def _ids(api_client: httpx.Client, entity: str) -> set[int]:
    response = api_client.get("/v1/articles", params={"entity": entity, "limit": 100})
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def test_entity_filter_finds_the_german_and_the_english_article(
    db_session: Session, ingest_client: httpx.Client, api_client: httpx.Client, enricher: Enricher
) -> None:
    german = _push(ingest_client, title=GERMAN_TITLE, text=GERMAN_TEXT)
    english = _push(ingest_client, title=ENGLISH_TITLE, text=ENGLISH_TEXT)
    _enrich_german(db_session, article_id=german, enricher=enricher)
    assert service.enrich_article(session=db_session, article_id=english, enricher=enricher) == "enriched"
    db_session.commit()

    rows = db_session.execute(select(Entity.id, Entity.type).where(Entity.name == "United States")).all()
    assert [r.type for r in rows] == ["GPE"], "one entity, whatever the article's language"
    aliases = set(db_session.scalars(select(EntityAlias.alias).where(EntityAlias.entity_id == rows[0].id)))
    assert {"Vereinigten Staaten", "USA", "United States"} <= aliases

    both = {german, english}
    assert both <= _ids(api_client, "United States")
    assert both <= _ids(api_client, "Vereinigten Staaten")  # a surface form finds its entity's articles
    assert both <= _ids(api_client, "European Union")
    assert both <= _ids(api_client, "Berlin")
    moscow = _ids(api_client, "Moscow")
    assert german in moscow  # "Moskau" is Moscow
    assert english not in moscow  # the English text names no Moscow
    assert german in _ids(api_client, "Moskau")


def test_an_operator_override_applies_to_a_german_surface(
    db_session: Session, ingest_client: httpx.Client, api_client: httpx.Client, enricher: Enricher
) -> None:
    german = _push(ingest_client, title=GERMAN_TITLE, text=GERMAN_TEXT)
    _enrich_german(db_session, article_id=german, enricher=enricher)
    db_session.commit()
    assert german in _ids(api_client, "Bundesregierung")
    response = api_client.post(
        "/v1/ops/entity-overrides",
        json={"kind": "alias", "surface": "Bundesregierung", "canonical": "German government"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["requeued"] == 1  # the German article: its entity has that name

    _enrich_german(db_session, article_id=german, enricher=enricher)  # the worker re-enriches it
    db_session.commit()
    assert german in _ids(api_client, "German government")
    name = db_session.scalar(
        select(Entity.name).where(Entity.name == "Bundesregierung", Entity.article_count > 0)
    )
    assert name is None

"""Confidence, reason codes and per-source boilerplate learning through the ingest and API apps."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.ingest.cleaning.text import line_hash
from shared.models import Article, SourceLine
from shared.settings import get_settings
from tests.factories import article_payload, story_text

FOOTER = "Harbour Daily reporters cover the coast from four newsrooms, every day of the year."


ISLANDS = ["Arran", "Bute", "Coll", "Eigg", "Islay", "Jura", "Mull", "Rum", "Skye", "Tiree"]
SHOPS = ["bakers", "grocers", "chemists", "butchers", "cafes", "hotels", "garages", "pubs", "inns", "spas"]


def _story(n: int) -> str:
    island, shop = ISLANDS[n], SHOPS[n]
    return (
        f"Published 1{n} May 2024\n\n"
        f"The ferry company said on Monday that the {island} route would reopen after repairs to the pier, "
        f"ending a closure that had cut off several {island} villages from the mainland.\n\n"
        f"Residents of {island} had complained that the replacement bus took far longer than "
        f"the crossing, and local {shop} said trade had fallen by a third during the closure.\n\n"
        # each article's own report: one template with other names is a near-duplicate, not another article
        f"{story_text(f'harbour-{n}', paragraphs=2)}\n\n"
        f"{FOOTER}"
    )


def test_a_footer_recurring_across_a_sources_articles_is_learned(
    ingest_client: httpx.Client, api_client: httpx.Client, db_session: Session
) -> None:
    k = get_settings().source_boilerplate_min_articles
    ids = []
    for n in range(k + 1):
        payload = article_payload(text=_story(n), source="harbour-daily", title=f"Ferry route {n} reopens")
        response = ingest_client.post("/v1/articles", json=payload)
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])

    first = db_session.get(Article, ids[0])
    assert first is not None
    assert FOOTER in first.text, "nothing else catches the footer: the test needs the source's history"
    last = db_session.get(Article, ids[-1])
    assert last is not None
    assert FOOTER not in last.text
    assert "route would reopen" in last.text
    row = db_session.scalars(
        select(SourceLine).where(
            SourceLine.source == "harbour-daily", SourceLine.line_hash == line_hash(FOOTER)
        )
    ).one()
    assert row.count == k + 1

    detail = api_client.get(f"/v1/articles/{ids[-1]}").json()
    assert {"text": FOOTER, "reason": "repeated_for_source"} in detail["removed"]
    assert detail["extraction_flags"] == []
    assert detail["extraction_confidence"] == 1.0

    other_source = ingest_client.post(
        "/v1/articles", json=article_payload(text=_story(9), source="other-daily", title="Ferry route 9")
    ).json()
    other = db_session.get(Article, other_source["id"])
    assert other is not None
    assert FOOTER in other.text, "one source's boilerplate is not another's"


def test_confidence_and_reason_codes_are_stored_and_shown(
    ingest_client: httpx.Client, api_client: httpx.Client
) -> None:
    html = (
        "<html><head><title>Pier</title></head><body><article>"
        "<p>The ferry company said on Monday that the pier would reopen after repairs.</p>"
        "</article></body></html>"
    )
    payload = article_payload(text=None, html=html, published_at="2024-05-14T09:30:00Z")
    response = ingest_client.post("/v1/articles", json=payload)
    assert response.status_code == 202, response.text
    detail = api_client.get(f"/v1/articles/{response.json()['id']}").json()
    assert "too_short" in detail["extraction_flags"]
    assert "date_from_feed" in detail["extraction_flags"]
    assert "no_date" not in detail["extraction_flags"]
    assert 0 < detail["extraction_confidence"] < 0.7

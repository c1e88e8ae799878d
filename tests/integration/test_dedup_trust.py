"""Dedup that never hides a distinct event, undo, deterministic cleaning: through the ingest app and the
read API in-process on a real PostgreSQL (issue 14)."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scripts.templated_events import TEMPLATES, events
from services.ingest.articles import service as ingest_service
from services.ingest.articles.schemas import ArticleIn
from services.ingest.cleaning import CleanedArticle, clean
from shared.models import Article, ArticleMinHash, DedupDecision, OutboxEvent
from tests.conftest import MakeKey, bearer
from tests.factories import article_payload, story_text, syndicated_copy

TITLE = "Council approves the harbour plan"


def _outbox_count(db_session: Session, article_id: int) -> int:
    return db_session.scalar(select(func.count()).where(OutboxEvent.article_id == article_id)) or 0


def test_templated_distinct_events_are_all_stored_and_queued(
    ingest_client: httpx.Client, db_session: Session
) -> None:
    made = events(random.Random(11), per_template=3)
    assert len({e.template for e in made}) == len(TEMPLATES) >= 6
    ids = []
    for event in made:
        answer = ingest_client.post("/v1/articles", json=article_payload(title=event.title, text=event.text))
        assert answer.status_code == 202, (event.title, answer.text)
        assert answer.json()["status"] == "queued"
        ids.append(answer.json()["id"])
    for article_id in ids:
        row = db_session.get(Article, article_id)
        assert row is not None
        assert (row.status, row.duplicate_of) == ("queued", None)
        assert _outbox_count(db_session, article_id) == 1, "queued for enrichment"
        assert db_session.get(ArticleMinHash, article_id) is not None
    # a later fill of a template was a MinHash candidate of an earlier one: kept, and why is recorded
    kept = [db_session.get(Article, i) for i in ids]
    reasons = [a.dedup_reason for a in kept if a is not None and a.dedup_reason]
    assert reasons, "the near candidates that were told apart are recorded"
    assert all(r["kept"] == "distinct" and r["near"][0]["differs"]["conflicts"] for r in reasons)


@pytest.mark.parametrize(
    "body", ["More to follow.", "Details to follow.", "BREAKING NEWS", "Developing story."]
)
def test_headline_only_alerts_are_accepted_and_told_apart_by_title(
    ingest_client: httpx.Client, db_session: Session, body: str
) -> None:
    first = ingest_client.post("/v1/articles", json=article_payload(title="Quake hits Tokyo", text=body))
    second = ingest_client.post("/v1/articles", json=article_payload(title="Markets close higher", text=body))
    assert (first.status_code, second.status_code) == (202, 202), (first.text, second.text)
    assert first.json()["id"] != second.json()["id"]
    row = db_session.get(Article, second.json()["id"])
    assert row is not None
    assert row.text == body
    assert _outbox_count(db_session, row.id) == 1
    # the same alert again (another URL) is an exact duplicate of its first copy
    again = ingest_client.post("/v1/articles", json=article_payload(title="Quake hits Tokyo", text=body))
    assert (again.status_code, again.json()["duplicate_of"]) == (200, first.json()["id"])
    assert again.json()["dedup_reason"]["method"] == "exact"


def test_page_chrome_alone_is_still_refused(ingest_client: httpx.Client) -> None:
    junk = "Share this article\nSign up for our newsletter\nCopyright 2024 Example News. All rights reserved."
    answer = ingest_client.post("/v1/articles", json=article_payload(title="Quake hits Tokyo", text=junk))
    assert (answer.status_code, answer.json()["error"]) == (422, "empty_article")


def _original_and_copy(ingest_client: httpx.Client, seed: str) -> tuple[int, int, dict[str, object]]:
    text = story_text(seed)
    original = ingest_client.post("/v1/articles", json=article_payload(title=TITLE, text=text)).json()
    copy_payload = article_payload(
        title=TITLE, text=syndicated_copy(text, outlet="Daily Planet"), source="daily-planet"
    )
    copy = ingest_client.post("/v1/articles", json=copy_payload).json()
    assert (copy["status"], copy["duplicate_of"]) == ("duplicate", original["id"])
    return original["id"], copy["id"], copy_payload


def test_undo_restores_the_article_and_blocks_re_merging(
    ingest_client: httpx.Client, api_client: httpx.Client, db_session: Session, make_key: MakeKey
) -> None:
    from services.enrich.articles import service as enrich_service
    from services.enrich.nlp import Enricher

    original_id, copy_id, copy_payload = _original_and_copy(ingest_client, "undo-1")
    row = db_session.get(Article, copy_id)
    assert row is not None
    assert row.dedup_reason is not None
    assert row.dedup_reason["matched"] == original_id
    assert _outbox_count(db_session, copy_id) == 0

    forbidden = ingest_client.post(f"/v1/ops/articles/{copy_id}/not-duplicate")  # an ingest key
    assert forbidden.status_code == 403
    admin = bearer(make_key("admin", name="operator"))
    answer = ingest_client.post(f"/v1/ops/articles/{copy_id}/not-duplicate", headers=admin)
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert (body["id"], body["status"], body["was_duplicate_of"]) == (copy_id, "queued", original_id)
    assert body["dedup_reason"]["was"]["method"] == "near"

    db_session.refresh(row)
    assert (row.status, row.duplicate_of, row.duplicate_method, row.story_id) == ("queued", None, None, None)
    assert _outbox_count(db_session, copy_id) == 1, "queued for enrichment through the outbox"
    assert db_session.get(ArticleMinHash, copy_id) is not None, "later copies of it match it"
    decision = db_session.scalars(select(DedupDecision)).all()
    assert [(d.article_id, d.other_id) for d in decision] == [tuple(sorted((original_id, copy_id)))]

    undo = ingest_client.post
    assert undo(f"/v1/ops/articles/{copy_id}/not-duplicate", headers=admin).status_code == 409
    not_a_copy = undo(f"/v1/ops/articles/{original_id}/not-duplicate", headers=admin)
    assert not_a_copy.json()["error"] == "not_a_duplicate"
    assert undo("/v1/ops/articles/999999999/not-duplicate", headers=admin).status_code == 404

    # enriched, then listed like any original
    assert enrich_service.enrich_article(session=db_session, article_id=copy_id, enricher=Enricher()) == (
        "enriched"
    )
    listed = {a["id"] for a in api_client.get("/v1/articles", params={"limit": 200}).json()["items"]}
    assert {original_id, copy_id} <= listed
    detail = api_client.get(f"/v1/articles/{copy_id}").json()
    assert detail["duplicate"] is None

    # the same push again is its own copy, never the original's duplicate
    again = ingest_client.post("/v1/articles", json=copy_payload).json()
    assert (again["id"], again["duplicate_of"]) == (copy_id, copy_id)
    # and its later revision is accepted
    revised_text = str(copy_payload["text"]).replace(
        "\n\n", "\n\nCorrection: the ferry plan was delayed.\n\n", 1
    )
    revised = ingest_client.post("/v1/articles", json={**copy_payload, "text": revised_text})
    assert revised.status_code == 202, revised.text
    assert (revised.json()["id"], revised.json()["status"], revised.json()["revision"]) == (
        copy_id,
        "revised",
        2,
    )


def test_a_legacy_exact_duplicate_with_another_title_is_undone_with_the_new_key(
    ingest_client: httpx.Client, db_session: Session, make_key: MakeKey
) -> None:
    from services.ingest.articles.dedup import content_hash
    from tests.factories import stored_article

    body = "More to follow."
    legacy = content_hash(body)  # the key before titles were part of it
    original = stored_article(db_session, title="Quake hits Tokyo", text=body, content_hash=legacy)

    def legacy_copy(title: str) -> Any:
        """An exact duplicate of `original` stored under the legacy key, committed."""
        row = stored_article(
            db_session,
            title=title,
            text=body,
            content_hash=legacy,
            status="duplicate",
            duplicate_of=original.id,
            duplicate_method="exact",
            duplicate_score=1.0,
        )
        db_session.commit()
        return row

    copy = legacy_copy("Markets close higher")
    admin = bearer(make_key("admin", name="operator"))
    answer = ingest_client.post(f"/v1/ops/articles/{copy.id}/not-duplicate", headers=admin)
    assert answer.status_code == 202, answer.text
    db_session.refresh(copy)
    assert copy.content_hash == content_hash(body, title="Markets close higher")

    same = legacy_copy("Quake hits Tokyo")
    # its original keeps the legacy key: no original has this title and text under the new key yet
    assert ingest_client.post(f"/v1/ops/articles/{same.id}/not-duplicate", headers=admin).status_code == 202
    third = legacy_copy("Quake hits Tokyo")
    conflict = ingest_client.post(f"/v1/ops/articles/{third.id}/not-duplicate", headers=admin)
    assert (conflict.status_code, conflict.json()["error"]) == (409, "same_article")


HTML = (
    "<html><head><title>Storm hits coast</title></head><body><article><h1>Storm hits coast</h1>"
    "<p>A powerful storm hit the northern coast on Monday, cutting power to thousands of homes and forcing "
    "the closure of several schools, officials said.</p><p>Emergency crews worked through the night to "
    "clear fallen trees from the main roads, and the weather service warned of more rain.</p>"
    "<div class='share'>Share on Facebook | Share on Twitter</div></article></body></html>"
)


def _payload(html: str) -> ArticleIn:
    return ArticleIn.model_validate(
        {
            "url": "https://example.org/storm-coast",
            "title": "Storm hits coast",
            "html": html,
            "source": "wire",
        }
    )


def _fallback(payload: ArticleIn, flag: str) -> CleanedArticle:
    """What cleaning gives when the extractor is busy or times out: the page's visible text, flagged."""
    from dataclasses import replace

    from services.ingest.cleaning.service import _fallback as visible_text_fallback

    page = visible_text_fallback(payload.html or "", title=payload.title)
    cleaned = clean(text=page.text, title=payload.title)
    return replace(cleaned, flags=[flag, *cleaned.flags])


def test_the_same_input_never_makes_a_revision_and_a_fallback_never_replaces_a_full_extraction(
    db_session: Session,
) -> None:
    payload = _payload(HTML)
    first = ingest_service.ingest_article(session=db_session, payload=payload)
    assert first.status == "queued"
    stored_text = db_session.scalar(select(Article.text).where(Article.id == first.id))

    # the same page while the extractor is busy: a fallback text, but the same input -> no revision
    busy = _fallback(payload, "extractor_busy")
    assert busy.text != stored_text
    again = ingest_service.ingest_article(session=db_session, payload=payload, cleaned=busy)
    assert (again.status, again.id, again.dedup_reason) == (
        "duplicate",
        first.id,
        {"method": "url", "score": 1.0, "matched": first.id, "differs": None, "unchanged": "same_input"},
    )
    # the same page extracted again: the same text
    assert ingest_service.ingest_article(session=db_session, payload=payload).status == "duplicate"

    # a changed page that only the fallback could read: the full extraction stays
    changed = _payload(HTML.replace("more rain", "more rain on Tuesday"))
    with pytest.raises(ingest_service.ExtractorBusy):
        ingest_service.ingest_article(
            session=db_session, payload=changed, cleaned=_fallback(changed, "timeout")
        )
    with pytest.raises(ingest_service.ExtractionFailed):
        ingest_service.ingest_article(
            session=db_session,
            payload=changed,
            cleaned=_fallback(changed, "too_large"),
        )
    assert db_session.scalar(select(Article.text).where(Article.id == first.id)) == stored_text
    assert db_session.scalar(select(Article.revision).where(Article.id == first.id)) == 1
    # ... and once the extractor reads it, it is a revision
    revised = ingest_service.ingest_article(session=db_session, payload=changed)
    assert (revised.status, revised.revision) == ("revised", 2)

"""Near-duplicates and revisions through the ingest app and the read API (in-process, real PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import create_engine, func, pool, select, text
from sqlalchemy.orm import Session

from shared.models import Article, ArticleLshBand, ArticleMinHash, OutboxEvent
from tests.factories import article_payload, story_text, syndicated_copy

TITLE = "Council approves the harbour plan"  # copies and revisions keep the headline (part of the key)


def _outbox_count(db_session: Session, article_id: int) -> int:
    return db_session.scalar(select(func.count()).where(OutboxEvent.article_id == article_id)) or 0


def test_near_duplicate_is_stored_linked_to_its_original_and_not_enriched(
    ingest_client: httpx.Client, api_client: httpx.Client, db_session: Session
) -> None:
    text = story_text("near-1")
    title = "Harbour council approves the new ferry plan"  # a syndicated copy keeps the headline
    original = ingest_client.post("/v1/articles", json=article_payload(text=text, title=title))
    assert original.status_code == 202, original.text
    original_id = original.json()["id"]

    copy = article_payload(
        text=syndicated_copy(text, outlet="Daily Planet"), source="daily-planet", title=title
    )
    answer = ingest_client.post("/v1/articles", json=copy)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["status"], body["duplicate_method"], body["duplicate_of"]) == (
        "duplicate",
        "near",
        original_id,
    )
    assert 0.45 <= body["similarity"] < 1.0
    assert body["id"] != original_id
    reason = body["dedup_reason"]
    assert (reason["method"], reason["matched"], reason["differs"]["conflicts"]) == ("near", original_id, [])

    row = db_session.get(Article, body["id"])
    assert row is not None
    assert (row.status, row.duplicate_of, row.duplicate_method) == ("duplicate", original_id, "near")
    assert row.duplicate_score == body["similarity"]
    assert _outbox_count(db_session, row.id) == 0, "a duplicate is never queued for enrichment"
    assert db_session.get(ArticleMinHash, row.id) is None, "only originals are candidates"

    detail = api_client.get(f"/v1/articles/{row.id}").json()
    assert detail["duplicate"] == {
        "duplicate_of": original_id,
        "method": "near",
        "score": body["similarity"],
        "reason": body["dedup_reason"],
    }
    assert api_client.get(f"/v1/articles/{original_id}").json()["duplicate_count"] == 1
    listed = {a["id"] for a in api_client.get("/v1/articles", params={"limit": 200}).json()["items"]}
    assert original_id in listed
    assert row.id not in listed, "one record per article unless duplicates are asked for"
    duplicates = api_client.get("/v1/articles", params={"status": "duplicate", "limit": 200}).json()["items"]
    assert row.id in {a["id"] for a in duplicates}

    # the copy sent again is answered from its own row, still naming the original
    again = ingest_client.post("/v1/articles", json=copy).json()
    assert (again["id"], again["duplicate_of"], again["duplicate_method"]) == (row.id, original_id, "url")


def test_another_story_and_a_short_text_are_not_near_duplicates(
    ingest_client: httpx.Client, db_session: Session
) -> None:
    first = ingest_client.post("/v1/articles", json=article_payload(text=story_text("near-2a"))).json()
    other = ingest_client.post("/v1/articles", json=article_payload(text=story_text("near-2b"))).json()
    assert (first["status"], other["status"]) == ("queued", "queued")

    short = "Storm closes the harbour. The mayor said boats must stay in port until Friday."
    title = "Storm closes the harbour"
    stored = ingest_client.post("/v1/articles", json=article_payload(text=short, title=title)).json()
    almost = ingest_client.post(
        "/v1/articles", json=article_payload(text=short.replace("Friday", "Monday"), title=title)
    )
    assert (stored["status"], almost.json()["status"]) == ("queued", "queued"), "too short to judge"
    assert db_session.get(ArticleMinHash, stored["id"]) is None
    exact = ingest_client.post("/v1/articles", json=article_payload(text=short.upper(), title=title)).json()
    assert (exact["duplicate_method"], exact["duplicate_of"]) == ("exact", stored["id"])
    other_headline = ingest_client.post("/v1/articles", json=article_payload(text=short)).json()
    assert other_headline["status"] == "queued", "the exact key includes the title"


def test_changed_text_at_a_known_url_is_a_revision(
    ingest_client: httpx.Client, api_client: httpx.Client, db_session: Session
) -> None:
    url = "https://www.example.org/world/2024/storm-story"
    text1 = story_text("rev-1")
    first = ingest_client.post("/v1/articles", json=article_payload(title=TITLE, url=url, text=text1)).json()
    article_id = first["id"]
    assert first["revision"] == 1
    revisions = api_client.get(f"/v1/articles/{article_id}/revisions").json()["revisions"]
    assert [(r["revision"], r["diff"]) for r in revisions] == [(1, None)]

    # the mobile AMP edition of the same page, corrected: a new revision, queued again
    text2 = text1.replace("\n\n", "\n\nCorrection: an earlier version misnamed the council.\n\n", 1)
    mobile = "https://m.example.org/world/2024/storm-story/amp?utm_source=app"
    second = ingest_client.post("/v1/articles", json=article_payload(title=TITLE, url=mobile, text=text2))
    assert second.status_code == 202, second.text
    assert (second.json()["id"], second.json()["status"], second.json()["revision"]) == (
        article_id,
        "revised",
        2,
    )
    row = db_session.get(Article, article_id)
    assert row is not None
    db_session.refresh(row)
    assert (row.revision, row.status) == (2, "queued")
    assert "Correction: an earlier version" in row.text
    assert _outbox_count(db_session, article_id) == 2, "re-enriched through the outbox"

    # the same corrected text again is a duplicate, not a third revision
    same = ingest_client.post("/v1/articles", json=article_payload(title=TITLE, url=url, text=text2)).json()
    assert (same["status"], same["duplicate_method"], same["id"]) == ("duplicate", "url", article_id)

    text3 = text2.rsplit("\n\n", 1)[0]
    third = ingest_client.post("/v1/articles", json=article_payload(title=TITLE, url=url, text=text3)).json()
    assert (third["status"], third["revision"]) == ("revised", 3)

    listed = api_client.get(f"/v1/articles/{article_id}/revisions").json()
    assert [r["revision"] for r in listed["revisions"]] == [1, 2, 3]
    one, two, three = listed["revisions"]
    assert one["diff"] is None
    assert one["text"].strip() == text1.strip()
    assert "+Correction: an earlier version misnamed the council." in two["diff"].splitlines()
    assert two["diff"].startswith("--- revision 1\n+++ revision 2\n")
    assert any(line.startswith("-") and not line.startswith("---") for line in three["diff"].splitlines())
    assert api_client.get(f"/v1/articles/{article_id}").json()["revision_count"] == 3
    assert api_client.get("/v1/articles/999999999/revisions").status_code == 404


def test_a_revision_replaces_the_articles_lsh_bands(ingest_client: httpx.Client, db_session: Session) -> None:
    url = "https://example.org/rewritten"
    old, new = story_text("rev-old"), story_text("rev-new")
    article_id = ingest_client.post(
        "/v1/articles", json=article_payload(title=TITLE, url=url, text=old)
    ).json()["id"]
    bands = db_session.scalar(select(func.count()).where(ArticleLshBand.article_id == article_id))
    assert bands == 32
    revised = ingest_client.post("/v1/articles", json=article_payload(title=TITLE, url=url, text=new)).json()
    assert revised["status"] == "revised"
    assert db_session.scalar(select(func.count()).where(ArticleLshBand.article_id == article_id)) == 32

    copy_of_old = ingest_client.post(
        "/v1/articles", json=article_payload(text=syndicated_copy(old, outlet="Old News"))
    ).json()
    assert copy_of_old["status"] == "queued", "the old text is no longer the article's"
    copy_of_new = ingest_client.post(
        "/v1/articles", json=article_payload(title=TITLE, text=syndicated_copy(new, outlet="New News"))
    ).json()
    assert (copy_of_new["duplicate_method"], copy_of_new["duplicate_of"]) == ("near", article_id)


def test_batch_answers_carry_duplicate_information(ingest_client: httpx.Client) -> None:
    text = story_text("batch-1")
    items = [
        article_payload(text=text, title=TITLE),
        article_payload(text=syndicated_copy(text, outlet="Metro"), title=TITLE),
    ]
    result = ingest_client.post("/v1/articles/batch", json={"articles": items}).json()
    assert (result["accepted"], result["duplicates"]) == (1, 1)
    first, second = (item["result"] for item in result["items"])
    assert (second["duplicate_method"], second["duplicate_of"]) == ("near", first["id"])


def test_migration_0008_folds_stored_hosts_and_downgrades(fresh_database: Any) -> None:
    from alembic import command

    from shared.migrate import alembic_config, upgrade

    url: str = fresh_database("fold_0008")
    command.downgrade(alembic_config(url), "0007")
    stored = [
        "https://www.example.com/a",  # folds
        "https://m.example.com/b",  # folds
        "https://example.com/c",
        "https://www.example.com/c",  # would take /c: stays
        "https://www.example.net/d",  # two rows fold to one URL: the older takes it
        "https://m.example.net/d",
        "https://m.co/e",  # the site itself
    ]
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            for n, canonical in enumerate(stored):
                conn.execute(
                    text(
                        "INSERT INTO articles (url, canonical_url, title, text, content_hash, raw_format, "
                        "raw_content) VALUES (:u, :u, 't', 'x', :h, 'text', 'x')"
                    ),
                    {"u": canonical, "h": f"{n:064d}"},
                )
        upgrade(url)
        with engine.connect() as conn:
            after = conn.execute(text("SELECT canonical_url FROM articles ORDER BY id")).scalars().all()
        assert after == [
            "https://example.com/a",
            "https://example.com/b",
            "https://example.com/c",
            "https://www.example.com/c",
            "https://example.net/d",
            "https://m.example.net/d",
            "https://m.co/e",
        ]
        command.downgrade(alembic_config(url), "0007")
        upgrade(url)
    finally:
        engine.dispose()


def test_duplicates_are_in_their_originals_story_and_count_no_source(
    ingest_client: httpx.Client, db_session: Session
) -> None:
    from services.enrich.articles import service as enrich_service
    from services.enrich.nlp import Enricher
    from shared.models import Story

    text = story_text("story-copies")
    original_id = ingest_client.post(
        "/v1/articles", json=article_payload(text=text, source="wire", title=TITLE)
    ).json()["id"]
    early = ingest_client.post(
        "/v1/articles",
        json=article_payload(text=syndicated_copy(text, outlet="Early Post"), source="early", title=TITLE),
    ).json()
    assert early["duplicate_of"] == original_id

    # the copy that came before the original was enriched joins the story at assignment
    outcome = enrich_service.enrich_article(session=db_session, article_id=original_id, enricher=Enricher())
    assert outcome == "enriched"
    story_id = db_session.scalar(select(Article.story_id).where(Article.id == original_id))
    assert story_id is not None
    assert db_session.scalar(select(Article.story_id).where(Article.id == early["id"])) == story_id

    # a copy arriving later is stored in the original's story at once
    late = ingest_client.post(
        "/v1/articles",
        json=article_payload(text=syndicated_copy(text, outlet="Late Times"), source="late", title=TITLE),
    ).json()
    assert late["duplicate_of"] == original_id
    assert db_session.scalar(select(Article.story_id).where(Article.id == late["id"])) == story_id

    story = db_session.get(Story, story_id)
    assert story is not None
    db_session.refresh(story)
    assert (story.article_count, story.source_count) == (1, 1), "syndicated copies are counted once"

"""The hot read paths (issue 16) serialise rows straight to JSON with orjson: their answers must be exactly
what the documented pydantic models (the OpenAPI response models) would write for the same data."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy.orm import Session

from services.api.articles.schemas import ArticleDetail, ArticleHit, ArticlePage
from shared.models import Entity
from tests.factories import stored_article


def test_list_search_and_detail_answers_match_their_models(
    api_client: httpx.Client, db_session: Session
) -> None:
    ada = Entity(name="Ada Lovelace", type="PERSON")
    db_session.add(ada)
    db_session.flush()
    original = stored_article(
        db_session,
        title="Engines of analysis",
        text="Ada Lovelace wrote about the analytical engine.",
        published_at=datetime(2026, 2, 3, 4, 5, 6, 789000, tzinfo=UTC),
        language="en",
        language_confidence=0.99,
        authors=["A. Writer"],
        keyphrases=[{"phrase": "analytical engine", "score": 1.0}],
        cleaning={
            "removed": [{"text": "Subscribe", "reason": "boilerplate"}],
            "confidence": 0.9,
            "flags": [],
        },
        model_versions={"ner": "x"},
        received_at=datetime(2026, 2, 3, 5, tzinfo=UTC),
        enriched_at=datetime(2026, 2, 3, 5, 0, 2, tzinfo=UTC),
        entities=[(ada, 2)],
        topics=[("medtop:13000000", 0.7)],
    )
    stored_article(db_session, status="duplicate", duplicate_of=original.id, duplicate_method="near",
                   duplicate_score=0.9)  # fmt: skip
    db_session.commit()

    detail = api_client.get(f"/v1/articles/{original.id}")
    assert detail.status_code == 200, detail.text
    assert detail.headers["content-type"] == "application/json"
    body = detail.json()
    assert ArticleDetail.model_validate(body).model_dump(mode="json") == body
    assert body["duplicate_count"] == 1
    assert body["published_at"] == "2026-02-03T04:05:06.789000Z"
    assert body["stages"]["available_after_s"] == 2.0
    assert body["entities"][0]["name"] == "Ada Lovelace"

    checks: list[dict[str, str | int]] = [
        {"limit": 5},
        {"q": "analytical engine", "limit": 5},
        {"sort": "published"},
    ]
    for params in checks:
        page = api_client.get("/v1/articles", params=params)
        assert page.status_code == 200, page.text
        data = page.json()
        assert ArticlePage.model_validate(data).model_dump(mode="json") == data
        assert original.id in {i["id"] for i in data["items"]}
    hit = api_client.get("/v1/articles", params={"q": "analytical engine"}).json()["items"][0]
    assert hit["highlight"]["text"].count("<b>") >= 1
    assert set(hit) == set(ArticleHit.model_fields)
    small = api_client.get("/v1/articles", params={"fields": "title,topics"}).json()["items"][0]
    assert set(small) == {"id", "title", "topics"}
    assert api_client.get("/v1/articles/987654321").json()["error"] == "not_found"

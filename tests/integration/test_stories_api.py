"""Stories through the read API (httpx): list with keyset pages, detail with articles, the `story` filter
of the article list, the story id on articles, and reassignment on the admin route."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from services.enrich.articles import service
from services.enrich.articles.service import EnrichInput
from services.enrich.entities import ExtractedEntity, Mention, Salience
from services.enrich.nlp import Enrichment, LanguageGuess
from shared.settings import get_settings
from tests.conftest import MakeKey, bearer
from tests.factories import queued_article

T0 = datetime(2024, 5, 14, 9, 0, tzinfo=UTC)
SUMMIT = "NATO leaders meet in Brussels to agree new support for Ukraine and air defence"
SUMMIT_LEAD = (
    "NATO leaders meeting in Brussels agreed new support for Ukraine on Tuesday, including air defence "
    "systems, alliance secretary general Jens Stoltenberg said after the summit."
)
RATES = "Central bank raises interest rates by a quarter point as inflation stays high"
RATES_LEAD = (
    "The central bank raised its main interest rate by a quarter point on Thursday, citing inflation that "
    "has stayed above its target for a third year; governor Andrew Bailey said more rises were possible."
)


def _entity(name: str, kind: str, salience: float) -> ExtractedEntity:
    return ExtractedEntity(
        name, kind, (Mention("text", 0, len(name), name),), Salience(1, True, True, 0, salience)
    )


def _enriched(
    session: Session, title: str, text: str, at: datetime, source: str, *entities: ExtractedEntity
) -> int:
    article = queued_article(session, title=title, text=text, published_at=at, source=source)
    item = EnrichInput(article.id, title, text, article.content_hash)
    enrichment = Enrichment(LanguageGuess("en", 0.99), entities, (), (), {"code": "test"})
    assert service.save_enrichment(session=session, item=item, enrichment=enrichment) == "enriched"
    return article.id


@pytest.fixture
def articles(session_factory: sessionmaker[Session]) -> dict[str, int]:
    nato, ukraine = _entity("NATO", "ORG", 0.9), _entity("Ukraine", "GPE", 0.7)
    with session_factory() as session:
        ids = {
            "summit_a": _enriched(session, SUMMIT, SUMMIT_LEAD, T0, "wire-a", nato, ukraine),
            "summit_copy": _enriched(
                session, SUMMIT, SUMMIT_LEAD, T0 + timedelta(hours=1), "paper-b", nato, ukraine
            ),
            "summit_c": _enriched(
                session,
                "Alliance pledges air defence for Ukraine at Brussels summit",
                "At their Brussels summit NATO leaders pledged more air defence for Ukraine, "
                "Jens Stoltenberg "
                "said on Tuesday, as Kyiv asked for faster deliveries.",
                T0 + timedelta(hours=2),
                "paper-c",
                nato,
                ukraine,
                _entity("Jens Stoltenberg", "PERSON", 0.5),
            ),
            "rates": _enriched(
                session,
                RATES,
                RATES_LEAD,
                T0 + timedelta(days=2),
                "wire-a",
                _entity("Andrew Bailey", "PERSON", 0.8),
            ),
        }
        session.commit()
    return ids


def test_stories_list_detail_and_article_filter(api_client: httpx.Client, articles: dict[str, int]) -> None:
    page = api_client.get("/v1/stories", params={"limit": 1})
    assert page.status_code == 200, page.text
    (newest,) = page.json()["items"]
    assert newest["article_count"] == 1
    assert newest["label"] == RATES
    second = api_client.get("/v1/stories", params={"limit": 1, "cursor": page.json()["next_cursor"]}).json()
    (summit,) = second["items"]
    assert summit["label"] == SUMMIT
    assert summit["article_count"] == 3
    assert summit["source_count"] == 2  # paper-b carries a syndicated copy of wire-a's article
    assert [e["name"] for e in summit["top_entities"]][:2] == ["NATO", "Ukraine"]
    assert summit["top_entities"][0]["articles"] == 3
    assert summit["first_seen"].startswith("2024-05-14T09:00")
    assert summit["last_seen"].startswith("2024-05-14T11:00")
    big = api_client.get("/v1/stories", params={"min_articles": 2}).json()
    assert [s["id"] for s in big["items"]] == [summit["id"]]

    detail = api_client.get(f"/v1/stories/{summit['id']}").json()
    assert [a["id"] for a in detail["articles"]] == [
        articles["summit_a"],
        articles["summit_copy"],
        articles["summit_c"],
    ]
    assert [a["syndicated"] for a in detail["articles"]] == [False, True, False]
    assert detail["articles"][0]["match"] is None
    assert detail["articles"][1]["match"]["article_id"] == articles["summit_a"]
    assert detail["more_articles"] is False

    listed = api_client.get("/v1/articles", params={"story": summit["id"]}).json()
    assert sorted(a["id"] for a in listed["items"]) == sorted(
        [articles["summit_a"], articles["summit_copy"], articles["summit_c"]]
    )
    one = api_client.get(f"/v1/articles/{articles['rates']}").json()
    assert one["story_id"] == newest["id"]


def test_story_errors(api_client: httpx.Client, articles: dict[str, int]) -> None:
    missing = api_client.get("/v1/stories/999999999")
    assert missing.status_code == 404
    assert set(missing.json()) == {"error", "detail"}
    assert api_client.get("/v1/stories", params={"cursor": "bm90IG91cnM"}).status_code == 400
    assert api_client.get("/v1/stories", params={"min_articles": 0}).status_code == 422
    assert api_client.get("/v1/articles", params={"story": "x"}).status_code == 422
    assert api_client.get("/v1/articles", params={"story": 0}).status_code == 422


def test_reassign_route(api_client: httpx.Client, articles: dict[str, int], make_key: MakeKey) -> None:
    body = {"since": "2024-05-14T00:00:00Z", "until": "2024-05-15T00:00:00Z"}
    before = api_client.get(f"/v1/articles/{articles['summit_c']}").json()["story_id"]
    response = api_client.post("/v1/ops/stories/reassign", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["articles"], result["stories"], result["joined"], result["removed"]) == (3, 1, 2, 0)
    assert result["threshold"] == pytest.approx(get_settings().story_threshold)
    assert api_client.get(f"/v1/articles/{articles['summit_c']}").json()["story_id"] == before
    assert api_client.post("/v1/ops/stories/reassign", json=body).json() == result  # idempotent

    read_only = api_client.post("/v1/ops/stories/reassign", json=body, headers=bearer(make_key("read")))
    assert read_only.status_code == 403
    for bad in (
        {"since": "2024-05-15T00:00:00Z", "until": "2024-05-14T00:00:00Z"},
        {"since": 1715644800},
        {"since": "2024-05-14T00:00:00"},  # no zone
        {"until": "2024-05-14T00:00:00Z", "extra": 1},
    ):
        refused = api_client.post("/v1/ops/stories/reassign", json=bad)
        assert refused.status_code == 422, (bad, refused.text)
        assert set(refused.json()) == {"error", "detail"}

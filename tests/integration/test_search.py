"""Search (issue 16): phrase and prefix queries, a recency prior in the relevance order that stays stable
across pages, a bounded candidate window, and a statement timeout answered as 504 `query_timeout`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from services.api.articles.repository import split_prefixes
from tests.factories import stored_article
from tests.support.timeouts import assert_query_timeout_answers_504

NOW = datetime.now(UTC)


def _ids(api_client: httpx.Client, **params: str | int) -> list[int]:
    response = api_client.get("/v1/articles", params={"fields": "id", "limit": 50, **params})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_prefix_terms_are_split_from_the_web_search_outside_quotes() -> None:
    assert split_prefixes('"central bank" infla* -crypt*') == (
        '"central bank"',
        [(False, "infla"), (True, "crypt")],
    )
    assert split_prefixes('"star* wars" rates') == ('"star* wars" rates', [])
    assert split_prefixes("a*b* plain") == ("a*b* plain", [])


def test_phrase_prefix_and_exclusion(api_client: httpx.Client, db_session: Session) -> None:
    phrase = stored_article(db_session, title="Rates", text="The central bank raised interest rates.")
    apart = stored_article(db_session, title="Rates", text="The bank in the central square raised fees.")
    prefixed = stored_article(db_session, title="Economists", text="Economies slow as economists worry.")
    crypto = stored_article(
        db_session, title="Cryptocurrency", text="The central bank warned on cryptocurrencies."
    )
    db_session.commit()
    assert set(_ids(api_client, q='"central bank"')) == {crypto.id, phrase.id}
    assert apart.id not in _ids(api_client, q='"central bank"')
    assert set(_ids(api_client, q="econom*")) == {prefixed.id}
    assert set(_ids(api_client, q="bank crypto*")) == {crypto.id}
    assert set(_ids(api_client, q='"central bank" -crypto*')) == {phrase.id}
    body = api_client.get("/v1/articles", params={"q": "econom*"}).json()["items"][0]
    assert "<b>" in body["highlight"]["text"]
    # a stop word only (in English: in German "the" is a word, see test_search_languages)
    assert api_client.get("/v1/articles", params={"q": "the*", "language": "en"}).status_code == 422


def test_recency_prior_orders_equal_matches_newest_first_and_pages_stay_whole(
    api_client: httpx.Client, db_session: Session
) -> None:
    made = [
        stored_article(
            db_session,
            title="Harbor strike",
            text="Dock workers strike at the harbor.",
            published_at=NOW - timedelta(days=d),
        )
        for d in (400, 3, 90, 30, 1, 200)
    ]
    strong_old = stored_article(
        db_session,
        title="Harbor strike harbor strike",
        text="Harbor strike: the harbor strike goes on, harbor strike leaders say.",
        published_at=NOW - timedelta(days=45),
    )
    db_session.commit()
    by_age = [a.id for a in sorted(made, key=lambda a: a.published_at, reverse=True)]
    ranked = _ids(api_client, q="harbor strike")
    assert [i for i in ranked if i != strong_old.id] == by_age, "equal text rank: newest first"
    assert ranked.index(strong_old.id) < by_age.index(made[2].id), "a much better match beats recency"
    pages: list[int] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"q": "harbor strike", "limit": 2, "fields": "id"}
        if cursor:
            params["cursor"] = cursor
        page = api_client.get("/v1/articles", params=params).json()
        pages.extend(i["id"] for i in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == ranked


def test_the_rank_window_bounds_the_candidates(
    api_client: httpx.Client, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.settings import get_settings

    made = [stored_article(db_session, title="Ferry timetable", text=f"ferry news {i}") for i in range(5)]
    db_session.commit()
    monkeypatch.setattr(get_settings(), "search_rank_window", 3)
    assert set(_ids(api_client, q="ferry", sort="relevance")) == {a.id for a in made[-3:]}


def test_a_search_over_its_timeout_is_a_clear_504(
    api_client: httpx.Client, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another transaction holds a lock the search must wait for."""
    assert_query_timeout_answers_504(
        api_client, engine, monkeypatch, path="/v1/articles", params={"q": "harbor"}, locked="articles"
    )

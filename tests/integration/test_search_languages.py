"""Search per language (issue 18): each article indexed with its own language's configuration (migration
0024), searches parsed with every configuration (or the ``language=`` filter's), re-indexed when the
worker finds another language."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import create_engine, pool, text
from sqlalchemy.orm import Session

from services.enrich.articles.repository import replace_enrichment
from shared.textsearch import CONFIGS, search_config, search_configs
from tests.factories import stored_article

GERMAN = ("Die Häuser am Stadtrand", "Die Wahlen in Berlin brachten das Klimaschutzgesetz ins Parlament.")
FRENCH = ("Les élections législatives", "Les électeurs ont voté pour les députés de la majorité.")
ENGLISH = ("The elections were held", "Voters chose a new parliament on Sunday.")


def _ids(api_client: httpx.Client, **params: str | int) -> list[int]:
    response = api_client.get("/v1/articles", params={"fields": "id", "limit": 50, **params})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def _matches(session: Session, config: str, document: str, query: str) -> bool:
    return bool(
        session.scalar(
            text(
                "SELECT to_tsvector(CAST(:c AS regconfig), :d) "
                "@@ websearch_to_tsquery(CAST(:c AS regconfig), :q)"
            ),
            {"c": config, "d": document, "q": query},
        )
    )


def test_the_database_maps_languages_as_the_python_table_does(db_session: Session) -> None:
    cases: list[tuple[str | None, str | None]] = [(code, None) for code in CONFIGS]
    cases += [("de-AT", None), ("PT_br", None), ("und", "fr-FR"), (None, "nl"), (None, None), ("xx", "de")]
    cases += [("und", None), ("", "es"), ("ja", None)]
    for language, hint in cases:
        in_db = db_session.scalar(
            text("SELECT article_search_config(:l, :h)::text"), {"l": language, "h": hint}
        )
        assert in_db == search_config(language, hint), (language, hint)


def test_each_article_is_found_by_the_words_of_its_own_language(
    api_client: httpx.Client, db_session: Session
) -> None:
    # what English stemming would miss (the old index): checked, not assumed
    assert not _matches(db_session, "english", " ".join(GERMAN), "Haus")
    assert not _matches(db_session, "english", " ".join(GERMAN), "Wahl")
    assert not _matches(db_session, "english", " ".join(FRENCH), "votaient")
    german = stored_article(db_session, title=GERMAN[0], text=GERMAN[1], language="de")
    french = stored_article(db_session, title=FRENCH[0], text=FRENCH[1], language="fr")
    english = stored_article(db_session, title=ENGLISH[0], text=ENGLISH[1], language="en")
    db_session.commit()
    assert _ids(api_client, q="Haus") == [german.id]
    assert _ids(api_client, q="Wahl") == [german.id]
    assert _ids(api_client, q="Klimaschutzgesetze") == [german.id]
    assert _ids(api_client, q="votaient") == [french.id]
    assert _ids(api_client, q="élection") == [french.id]
    assert _ids(api_client, q="election") == [english.id]  # English stemming still
    assert _ids(api_client, q="parliaments") == [english.id]
    assert _ids(api_client, q="wahl*") == [german.id]  # a prefix, in every configuration too
    assert set(_ids(api_client, q="parlament OR parliament")) == {german.id, english.id}
    ranked = _ids(api_client, q="Wahl", sort="relevance")
    assert ranked == [german.id]
    item = api_client.get("/v1/articles", params={"q": "Wahl"}).json()["items"][0]
    assert "<b>Wahlen</b>" in item["highlight"]["text"]  # the headline parses the German body in German
    assert item["rank"] > 0


def test_the_language_filter_restricts_the_search_and_its_configuration(
    api_client: httpx.Client, db_session: Session
) -> None:
    german = stored_article(db_session, title="Berlin", text=GERMAN[1], language="de")
    english = stored_article(db_session, title="Berlin", text="Elections in Berlin.", language="en")
    db_session.commit()
    assert set(_ids(api_client, q="Berlin")) == {german.id, english.id}
    assert _ids(api_client, q="Berlin", language="de") == [german.id]
    assert _ids(api_client, q="Berlin", language="en") == [english.id]
    assert _ids(api_client, q="Wahl", language="de") == [german.id]
    assert _ids(api_client, q="Wahl", language="en") == []
    # "the" is an English stop word only: alone it is no search in English, a word in German
    stop = api_client.get("/v1/articles", params={"q": "the*", "language": "en"})
    assert stop.status_code == 422, stop.text
    assert api_client.get("/v1/articles", params={"q": "the*"}).status_code == 200
    assert api_client.get("/v1/articles", params={"q": "?!"}).status_code == 422  # no word in any


def test_an_exclusion_excludes_the_word_in_every_configuration(
    api_client: httpx.Client, db_session: Session
) -> None:
    voting = stored_article(db_session, title="Bank", text="The bank is voting on rates.", language="en")
    plain = stored_article(db_session, title="Bank", text="The bank kept its rates.", language="en")
    db_session.commit()
    assert set(_ids(api_client, q="bank")) == {voting.id, plain.id}
    # the simple configuration's "voting" is not the English vector's "vote": excluded all the same
    assert _ids(api_client, q="bank -voting") == [plain.id]
    assert _ids(api_client, q="bank -vot*") == [plain.id]
    assert voting.id not in _ids(api_client, q="-voting")


def test_a_new_language_from_the_worker_reindexes_the_article(
    api_client: httpx.Client, db_session: Session
) -> None:
    article = stored_article(db_session, title=GERMAN[0], text=GERMAN[1], status="queued")
    db_session.commit()
    assert _ids(api_client, q="Wahl") == []  # not detected yet: simple, the words as written
    assert _ids(api_client, q="Wahlen") == [article.id]

    def enrich(language: str) -> None:
        replace_enrichment(
            db_session, article_id=article.id, entity_rows=[], topic_rows=[], keyphrases=[],
            language=language, language_confidence=0.9, model_versions={}, attempts=1,
        )  # fmt: skip
        db_session.commit()

    enrich("de")
    assert _ids(api_client, q="Wahl") == [article.id]
    enrich("en")  # a new model says English: the English vector again
    assert _ids(api_client, q="Wahl") == []
    assert _ids(api_client, q="Wahlen") == [article.id]


def test_the_feeds_hint_indexes_an_article_before_detection(
    api_client: httpx.Client, db_session: Session
) -> None:
    article = stored_article(
        db_session, title=GERMAN[0], text=GERMAN[1], status="queued", language_hint="de-DE"
    )
    db_session.commit()
    assert _ids(api_client, q="Wahl") == [article.id]


def test_facets_and_export_follow_the_search_across_languages(
    api_client: httpx.Client, db_session: Session
) -> None:
    german = stored_article(db_session, title=GERMAN[0], text=GERMAN[1], language="de")
    french = stored_article(db_session, title="Wahl", text=FRENCH[1], language="fr")
    stored_article(db_session, title=ENGLISH[0], text=ENGLISH[1], language="en")
    db_session.commit()
    facets = api_client.get("/v1/articles/facets", params={"q": "Wahl"}).json()
    assert facets["matched"] == 2
    assert {c["value"]: c["count"] for c in facets["languages"]} == {"de": 1, "fr": 1}
    lines = api_client.get("/v1/articles/export", params={"q": "Wahl"}).text.splitlines()
    exported = [json.loads(line) for line in lines if line]
    assert [r["id"] for r in exported if "id" in r] == [german.id, french.id]
    first = api_client.get("/v1/articles", params={"q": "Wahl", "limit": 1, "fields": "id"}).json()
    second = api_client.get(
        "/v1/articles", params={"q": "Wahl", "limit": 1, "fields": "id", "cursor": first["next_cursor"]}
    ).json()
    assert second["next_cursor"] is None
    pages = [item["id"] for page in (first, second) for item in page["items"]]
    assert pages == [french.id, german.id]


def test_migration_0024_reindexes_stored_articles_per_language_and_downgrades(fresh_database: Any) -> None:
    from alembic import command

    from shared.migrate import alembic_config, upgrade

    url: str = fresh_database("search_0024")
    command.downgrade(alembic_config(url), "0023")
    engine = create_engine(url, poolclass=pool.NullPool)
    rows = [(GERMAN, "de", None), (FRENCH, None, "fr"), (ENGLISH, "en", None), (GERMAN, None, None)]

    def vectors() -> list[str]:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT search_tsv::text FROM articles ORDER BY id")).scalars())

    def matches(query: str, config: str) -> list[bool]:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text(
                        "SELECT search_tsv @@ websearch_to_tsquery(CAST(:c AS regconfig), :q) FROM articles "
                        "ORDER BY id"
                    ),
                    {"q": query, "c": config},
                ).scalars()
            )

    try:
        with engine.begin() as conn:
            for n, ((title, body), language, hint) in enumerate(rows):
                conn.execute(
                    text(
                        "INSERT INTO articles (url, canonical_url, title, text, content_hash, raw_format, "
                        "raw_content, language, language_hint) "
                        "VALUES (:u, :u, :t, :b, :h, 'text', '', :l, :lh)"
                    ),
                    {"u": f"https://m.example/{n}", "t": title, "b": body, "h": f"{n:064d}", "l": language,
                     "lh": hint},
                )  # fmt: skip
        english_vectors = vectors()
        assert matches("Wahl", "german") == [False, False, False, False]  # 0011: English for all
        upgrade(url)
        assert matches("Wahl", "german") == [True, False, False, False]
        assert matches("votaient", "french") == [False, True, False, False]
        assert matches("election", "english") == [False, False, True, False]
        assert matches("Wahlen", "simple") == [False, False, False, True]  # no language: simple
        assert vectors()[2] == english_vectors[2]  # English rows kept as they were
        with engine.begin() as conn:  # the trigger keeps new rows, as the generated column did
            conn.execute(
                text("UPDATE articles SET language = 'de' WHERE id = (SELECT max(id) FROM articles)")
            )
        assert matches("Wahl", "german") == [True, False, False, True]
        command.downgrade(alembic_config(url), "0023")
        assert vectors() == english_vectors
        upgrade(url)
        assert matches("Wahl", "german") == [True, False, False, True]
    finally:
        engine.dispose()


def test_every_configuration_searched_exists_on_the_server(db_session: Session) -> None:
    present = set(db_session.scalars(text("SELECT cfgname::text FROM pg_ts_config")))
    assert set(search_configs()) - present == set()

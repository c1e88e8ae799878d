"""Story assignment on a real PostgreSQL: related articles share a story and an unrelated one gets its
own; re-enrichment changes nothing; reassignment over a range is deterministic and idempotent; concurrent
workers assigning related articles make one story."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, pool, select, text
from sqlalchemy.orm import Session, sessionmaker

from services.enrich.articles import service
from services.enrich.articles.service import EnrichInput
from services.enrich.nlp import Enricher, Enrichment, LanguageGuess
from shared.models import Article, Story, StorySignature
from shared.stories import service as stories
from shared.stories.scoring import StoryRules
from tests.factories import queued_article
from tests.integration.test_cli import _newswire as run_newswire
from tests.support.bilingual import BUDGET_DE, FERRY_DE, FERRY_EN

T0 = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)

QUAKE_A = (
    "Strong earthquake strikes central Chile near Valparaiso",
    "A magnitude 7.1 earthquake struck central Chile on Monday near the port city of Valparaiso, "
    "shaking buildings in Santiago and prompting a tsunami warning along the coast, Chile's emergency "
    "office Onemi said. President Gabriel Boric said there were no immediate reports of deaths.",
)
QUAKE_B = (
    "Chile quake: tsunami warning lifted after 7.1 tremor near Valparaiso",
    "Chilean authorities lifted a tsunami warning on Monday after a 7.1 magnitude earthquake hit near "
    "Valparaiso, rattling Santiago. President Gabriel Boric said the emergency office Onemi had no reports "
    "of deaths, and the navy said sea levels along the coast were normal.",
)
FOOTBALL = (
    "Arsenal beat Chelsea 3-1 to go top of the Premier League",
    "Arsenal beat Chelsea 3-1 at the Emirates Stadium on Saturday, with Bukayo Saka scoring twice, to go "
    "top of the Premier League table. Mikel Arteta praised his side's pressing in the second half.",
)


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


def _article(session: Session, title: str, text: str, *, at: datetime, source: str = "wire") -> int:
    return int(queued_article(session, title=title, text=text, published_at=at, source=source).id)


def _story(session: Session, article_id: int) -> int | None:
    return session.scalar(select(Article.story_id).where(Article.id == article_id))


def _enrich(session: Session, enricher: Enricher, *ids: int) -> None:
    for article_id in ids:
        assert service.enrich_article(session=session, article_id=article_id, enricher=enricher) == "enriched"


def test_related_articles_share_a_story_and_reenrichment_is_idempotent(
    db_session: Session, enricher: Enricher
) -> None:
    a = _article(db_session, *QUAKE_A, at=T0, source="wire-a")
    b = _article(db_session, *QUAKE_B, at=T0 + timedelta(hours=3), source="wire-b")
    c = _article(db_session, *FOOTBALL, at=T0 + timedelta(hours=1), source="wire-a")
    _enrich(db_session, enricher, a, b, c)

    story_a, story_b, story_c = _story(db_session, a), _story(db_session, b), _story(db_session, c)
    assert story_a is not None
    assert story_c is not None
    assert story_a == story_b != story_c
    story = db_session.get(Story, story_a)
    assert story is not None
    db_session.refresh(story)
    assert (story.article_count, story.source_count) == (2, 2)
    assert (story.first_seen, story.last_seen) == (T0, T0 + timedelta(hours=3))
    assert story.label == QUAKE_A[0]
    names = [e["name"] for e in story.top_entities]
    assert "Chile" in names or "Valparaiso" in names, names
    signature_b = db_session.get(StorySignature, b)
    assert signature_b is not None
    assert signature_b.match is not None
    assert signature_b.match["article_id"] == a

    before = {s.id: (s.article_count, s.source_count, s.label) for s in db_session.scalars(select(Story))}
    _enrich(db_session, enricher, b, a, c)  # re-enriched, in another order
    assert (_story(db_session, a), _story(db_session, b), _story(db_session, c)) == (
        story_a,
        story_a,
        story_c,
    )
    db_session.expire_all()
    after = {s.id: (s.article_count, s.source_count, s.label) for s in db_session.scalars(select(Story))}
    assert after == before


def test_reassign_over_a_range_is_deterministic_and_idempotent(
    db_session: Session, enricher: Enricher
) -> None:
    a = _article(db_session, *QUAKE_A, at=T0)
    b = _article(db_session, *QUAKE_B, at=T0 + timedelta(hours=2))
    c = _article(db_session, *FOOTBALL, at=T0 + timedelta(hours=1))
    outside = _article(db_session, *FOOTBALL, at=T0 + timedelta(days=30))
    _enrich(db_session, enricher, b, c, a, outside)  # arrival order differs from time order
    story_outside = _story(db_session, outside)

    since, until = T0 - timedelta(hours=1), T0 + timedelta(days=1)
    strict = stories.reassign(session=db_session, since=since, until=until, rules=StoryRules(threshold=1.01))
    assert (strict.articles, strict.stories) == (3, 3)  # nothing reaches the threshold: one story each
    assert len({_story(db_session, i) for i in (a, b, c)}) == 3

    rules = StoryRules()
    first = stories.reassign(session=db_session, since=since, until=until, rules=rules)
    assert (first.articles, first.stories, first.joined) == (3, 2, 1)
    grouping = {i: _story(db_session, i) for i in (a, b, c)}
    assert grouping[a] == grouping[b] != grouping[c]
    again = stories.reassign(session=db_session, since=since, until=until, rules=rules)
    assert again == stories.ReassignResult(articles=3, stories=2, joined=1, removed=0)
    assert {i: _story(db_session, i) for i in (a, b, c)} == grouping  # same stories, same ids
    assert _story(db_session, outside) == story_outside  # out of range: untouched


def test_reports_in_two_languages_share_a_story_and_reassignment_keeps_it(
    db_session: Session, enricher: Enricher
) -> None:
    english = _article(db_session, *FERRY_EN, at=T0, source="wire-en")
    german = _article(db_session, *FERRY_DE, at=T0 + timedelta(hours=2), source="zeitung-de")
    other = _article(db_session, *BUDGET_DE, at=T0 + timedelta(hours=1), source="zeitung-de")
    _enrich(db_session, enricher, english, other, german)
    assert _story(db_session, english) == _story(db_session, german) != _story(db_session, other)
    signature = db_session.get(StorySignature, german)
    assert signature is not None
    assert signature.embedding is not None
    assert len(signature.embedding) == 384  # one signed byte a dimension
    assert signature.match is not None
    assert signature.match["article_id"] == english
    assert signature.match["crosslingual"] is True
    assert not signature.syndicated

    # a reassignment reuses the stored embeddings (it runs no model) and decides the same
    grouping = {i: _story(db_session, i) for i in (english, german, other)}
    result = stories.reassign(
        session=db_session, since=T0 - timedelta(hours=1), until=T0 + timedelta(hours=3), rules=StoryRules()
    )
    assert (result.articles, result.stories, result.joined) == (3, 2, 1)
    assert {i: _story(db_session, i) for i in (english, german, other)} == grouping


def test_concurrent_workers_assigning_related_articles_make_one_story(
    fresh_database: Callable[[str], str],
) -> None:
    url = fresh_database("stories_race")
    engine = create_engine(url, poolclass=pool.NullPool)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    # no entities (as for a language without NER): no entity rows whose locks would serialise the workers
    enrichment = Enrichment(LanguageGuess("de", 0.99), (), (), (), {"code": "test"})
    try:
        with factory.begin() as session:
            ids = [
                _article(session, *QUAKE_A, at=T0 + timedelta(minutes=i), source=f"wire-{i}")
                for i in range(8)
            ]
            items = [
                EnrichInput(
                    i,
                    *session.execute(
                        select(Article.title, Article.text, Article.content_hash).where(Article.id == i)
                    ).one(),
                )
                for i in ids
            ]
        barrier = threading.Barrier(len(items))
        errors: list[BaseException] = []

        def work(item: EnrichInput) -> None:
            try:
                barrier.wait()
                with factory.begin() as session:
                    assert (
                        service.save_enrichment(session=session, item=item, enrichment=enrichment)
                        == "enriched"
                    )
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(item,)) for item in items]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        with factory() as session:
            assert len({_story(session, i) for i in ids}) == 1
            (story,) = session.scalars(select(Story)).all()
            assert (story.article_count, story.source_count) == (8, 1)  # the same lead: syndicated copies
    finally:
        engine.dispose()


def test_cli_reassign_after_a_settings_change(fresh_database: Callable[[str], str]) -> None:
    url = fresh_database("stories_cli")
    engine = create_engine(url, poolclass=pool.NullPool)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    no_entities = Enrichment(LanguageGuess("en", 0.99), (), (), (), {"code": "test"})
    try:
        with factory.begin() as session:
            ids = [
                _article(session, *text, at=T0 + timedelta(hours=i))
                for i, text in enumerate((QUAKE_A, QUAKE_B, FOOTBALL))
            ]
            for article_id in ids:
                title, text, digest = session.execute(
                    select(Article.title, Article.text, Article.content_hash).where(Article.id == article_id)
                ).one()
                item = EnrichInput(article_id, title, text, digest)
                assert (
                    service.save_enrichment(session=session, item=item, enrichment=no_entities) == "enriched"
                )
        env = {"NEWSWIRE_DATABASE_URL": url}
        args = ("stories", "reassign", "--since", "2024-03-04", "--until", "2024-03-05T00:00:00Z")

        strict = run_newswire(*args, env_overrides={**env, "NEWSWIRE_STORY_THRESHOLD": "1"})
        assert strict.returncode == 0, strict.stderr
        assert json.loads(strict.stdout)["stories"] == 3
        with factory() as session:
            assert len({_story(session, i) for i in ids}) == 3

        loose = run_newswire(*args, env_overrides={**env, "NEWSWIRE_STORY_THRESHOLD": "0.2"})
        assert loose.returncode == 0, loose.stderr
        out = json.loads(loose.stdout)
        assert (out["articles"], out["stories"], out["joined"], out["threshold"]) == (3, 2, 1, 0.2)
        with factory() as session:
            stories_now = [_story(session, i) for i in ids]
        assert stories_now[0] == stories_now[1] != stories_now[2]

        bad = run_newswire(
            "stories", "reassign", "--since", "2024-03-05", "--until", "2024-03-04", env_overrides=env
        )
        assert bad.returncode != 0
        assert "Traceback" not in bad.stdout + bad.stderr
    finally:
        engine.dispose()


def test_articles_enriched_before_stories_get_them_by_reassignment(
    fresh_database: Callable[[str], str],
) -> None:
    from alembic import command

    from shared.migrate import alembic_config, upgrade

    url = fresh_database("stories_backfill")
    command.downgrade(alembic_config(url), "0007")  # before stories existed
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            for n, (title, body) in enumerate((QUAKE_A, QUAKE_B, FOOTBALL)):
                conn.execute(
                    text(
                        "INSERT INTO articles (url, canonical_url, title, text, content_hash, raw_format, "
                        "raw_content, status, published_at) "
                        "VALUES (:u, :u, :t, :x, :h, 'text', :x, 'enriched', :p)"
                    ),
                    {
                        "u": f"https://old.test/{n}",
                        "t": title,
                        "x": body,
                        "h": f"{n:064d}",
                        "p": T0 + timedelta(hours=n),
                    },
                )
        upgrade(url)
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        with factory.begin() as session:
            ids = list(session.scalars(select(Article.id).order_by(Article.id)))
            assert [_story(session, i) for i in ids] == [None, None, None]
            result = stories.reassign(
                session=session, since=None, until=None, rules=StoryRules(threshold=0.2)
            )
        assert (result.articles, result.stories, result.joined) == (3, 2, 1)
        with factory() as session:
            found = [_story(session, i) for i in ids]
            assert found[0] == found[1] != found[2]
            assert session.scalar(select(func.count()).select_from(Story)) == 2
    finally:
        engine.dispose()

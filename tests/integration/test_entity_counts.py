"""The global entity table on a real PostgreSQL: counts and aliases equal what the article rows say,
re-enrichment never inflates them, a changed enrichment adjusts them by difference, and concurrent
workers enriching articles that share entities lose no update."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import create_engine, pool, select
from sqlalchemy.orm import Session, sessionmaker

from services.enrich.articles import service
from services.enrich.articles.service import EnrichInput
from services.enrich.entities import ExtractedEntity, Mention, Salience
from services.enrich.nlp import Enricher, Enrichment, LanguageGuess
from shared.models import Article, ArticleEntity, Entity, EntityAlias
from tests.factories import push_samples


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


@pytest.fixture
def sample_ids(ingest_client: httpx.Client) -> list[int]:
    ids = push_samples(ingest_client, host="counts.test")
    return ids


def _state(session: Session) -> tuple[dict[int, tuple[int, int]], dict[tuple[int, str], tuple[int, int]]]:
    """(entity id -> (articles, mentions), (entity id, alias) -> (mentions, articles)) as stored."""
    entities = {
        r.id: (r.article_count, r.mention_count)
        for r in session.execute(select(Entity.id, Entity.article_count, Entity.mention_count))
        if (r.article_count, r.mention_count) != (0, 0)
    }
    aliases = {
        (r.entity_id, r.alias): (r.mention_count, r.article_count)
        for r in session.execute(
            select(
                EntityAlias.entity_id, EntityAlias.alias, EntityAlias.mention_count, EntityAlias.article_count
            )
        )
    }
    return entities, aliases


def _expected(session: Session) -> tuple[dict[int, tuple[int, int]], dict[tuple[int, str], tuple[int, int]]]:
    """The same, recomputed from the article rows."""
    articles: Counter[int] = Counter()
    mentions: Counter[int] = Counter()
    alias_mentions: Counter[tuple[int, str]] = Counter()
    alias_articles: Counter[tuple[int, str]] = Counter()
    for ae in session.scalars(select(ArticleEntity)):
        articles[ae.entity_id] += 1
        mentions[ae.entity_id] += len(ae.mentions)
        surfaces = Counter(m["text"] for m in ae.mentions)
        for surface, n in surfaces.items():
            alias_mentions[(ae.entity_id, surface)] += n
            alias_articles[(ae.entity_id, surface)] += 1
    return (
        {e: (articles[e], mentions[e]) for e in articles},
        {k: (alias_mentions[k], alias_articles[k]) for k in alias_mentions},
    )


def test_counts_match_rows_and_reenrichment_does_not_inflate(
    db_session: Session, sample_ids: list[int], enricher: Enricher
) -> None:
    for article_id in sample_ids:
        assert (
            service.enrich_article(session=db_session, article_id=article_id, enricher=enricher) == "enriched"
        )
    db_session.commit()
    first = _state(db_session)
    assert first == _expected(db_session)
    assert max(articles for articles, _ in first[0].values()) >= 4  # shared entities across samples
    for _ in range(2):
        for article_id in sample_ids:
            service.enrich_article(session=db_session, article_id=article_id, enricher=enricher)
        db_session.commit()
    assert _state(db_session) == first

    rows = db_session.execute(
        select(
            ArticleEntity.salience, ArticleEntity.in_title, ArticleEntity.in_lead, ArticleEntity.first_offset
        ).where(ArticleEntity.article_id.in_(sample_ids))
    ).all()
    assert all(0.0 <= r.salience <= 1.0 for r in rows)
    assert any(r.in_title for r in rows)
    assert any(r.in_lead for r in rows)
    assert any(r.salience > 0.5 for r in rows)


def _entity(name: str, kind: str, *surfaces: str) -> ExtractedEntity:
    mentions = tuple(Mention("text", i * 10, i * 10 + len(s), s) for i, s in enumerate(surfaces))
    return ExtractedEntity(name, kind, mentions, Salience(len(mentions), False, True, 0, 0.5))


def _enrichment(*entities: ExtractedEntity) -> Enrichment:
    return Enrichment(LanguageGuess("en", 0.99), tuple(entities), (), (), {"code": "test"})


def _article(session: Session) -> EnrichInput:
    token = uuid.uuid4().hex
    article = Article(
        url=f"https://counts.test/{token}",
        canonical_url=f"https://counts.test/{token}",
        title="t",
        text=f"text {token}",
        content_hash=token + token,
        raw_format="text",
        raw_content="x",
    )
    session.add(article)
    session.flush()
    return EnrichInput(article.id, article.title, article.text, article.content_hash)


def test_changed_enrichment_adjusts_by_difference(db_session: Session) -> None:
    a, b = _article(db_session), _article(db_session)
    clinton = ("Hillary Clinton", "PERSON")
    us = ("United States", "GPE")
    service.save_enrichment(
        session=db_session,
        item=a,
        enrichment=_enrichment(
            _entity(*clinton, "Hillary Clinton", "Clinton", "Clinton"), _entity(*us, "U.S.")
        ),
    )
    service.save_enrichment(session=db_session, item=b, enrichment=_enrichment(_entity(*clinton, "Clinton")))
    ids = {(e.name, e.type): e.id for e in db_session.scalars(select(Entity))}
    state = _state(db_session)
    assert state[0][ids[clinton]] == (2, 4)
    assert state[1][(ids[clinton], "Clinton")] == (3, 2)
    assert state[1][(ids[us], "U.S.")] == (1, 1)

    # a newer model sees "Mrs. Clinton" and no United States in article a
    service.save_enrichment(
        session=db_session, item=a, enrichment=_enrichment(_entity(*clinton, "Mrs. Clinton"))
    )
    state = _state(db_session)
    assert state == _expected(db_session)
    assert state[0][ids[clinton]] == (2, 2)
    assert ids[us] not in state[0]  # no article mentions it any more (the row stays, counted zero)
    assert (ids[us], "U.S.") not in state[1]
    assert (ids[clinton], "Hillary Clinton") not in state[1]
    assert state[1][(ids[clinton], "Mrs. Clinton")] == (1, 1)
    assert state[1][(ids[clinton], "Clinton")] == (1, 1)


def test_concurrent_workers_lose_no_update(fresh_database: Callable[[str], str]) -> None:
    url = fresh_database("entity_counts")
    engine = create_engine(url, poolclass=pool.NullPool)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    try:
        with factory.begin() as session:
            items = [_article(session) for _ in range(8)]
        shared = [_entity(f"Shared {i}", "ORG", f"Shared {i}", f"S{i}") for i in range(6)]
        variants = [
            _enrichment(*shared),
            _enrichment(*reversed(shared[:4]), _entity("Only A", "PERSON", "A")),
        ]
        barrier = threading.Barrier(len(items))
        errors: list[BaseException] = []

        def work(index: int) -> None:
            try:
                barrier.wait()
                for round_ in range(6):
                    with factory.begin() as session:
                        service.save_enrichment(
                            session=session, item=items[index], enrichment=variants[(index + round_) % 2]
                        )
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(items))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        with factory() as session:
            state = _state(session)
            assert state == _expected(session)
            by_name = {e.name: e.article_count for e in session.scalars(select(Entity))}
        assert by_name["Shared 0"] == 8
        assert by_name["Shared 5"] == 4  # half of the articles end on each variant
    finally:
        engine.dispose()

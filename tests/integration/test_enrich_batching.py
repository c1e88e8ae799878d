"""Batched enrichment on a real PostgreSQL and Redis with the real models: a task that takes over other
queued articles' jobs writes the same rows as one task per article, turns their messages into no-ops,
and gives a bad article back to the queue alone without failing the others."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
import redis
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from newswire_cli.files import payloads
from services.enrich.articles import service
from services.enrich.articles.tasks import get_enricher, run_enrich
from shared.jobs.contract import ALONE, BATCHED_INTO
from shared.models import Article, ArticleEntity, ArticleTopic, Entity, OutboxEvent
from shared.settings import get_settings
from tests.factories import article_payload, sample_texts

# longer than the pipeline's max_length (2,000,000): spaCy refuses it (E088), a permanent error
POISON = "Officials in London said the talks would resume in Paris next week. " * 30_000


def _ingest(ingest_client: httpx.Client, count: int, tag: str) -> list[int]:
    ids = []
    for n, path in enumerate(sample_texts()[:count]):
        (payload,) = payloads(path, base_url=f"https://batching.test/{tag}/{n}", source="batching")
        response = ingest_client.post("/v1/articles", json=payload)
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    assert len(ids) == count, "not enough sample articles"
    return ids


def _jobs(session: Session, article_id: int) -> list[OutboxEvent]:
    session.expire_all()
    return list(
        session.scalars(
            select(OutboxEvent).where(OutboxEvent.article_id == article_id).order_by(OutboxEvent.id)
        )
    )


def _rows(session: Session, article_ids: list[int]) -> dict[int, tuple[object, ...]]:
    """Everything enrichment writes for the articles, comparable across runs."""
    session.expire_all()
    out: dict[int, tuple[object, ...]] = {}
    for article_id in article_ids:
        article = session.get(Article, article_id)
        assert article is not None
        entities = session.execute(
            select(Entity.type, Entity.name, ArticleEntity.mention_count, ArticleEntity.mentions)
            .join(Entity, Entity.id == ArticleEntity.entity_id)
            .where(ArticleEntity.article_id == article_id)
            .order_by(Entity.type, Entity.name)
        ).all()
        topics = session.execute(
            select(ArticleTopic.topic_code, ArticleTopic.score)
            .where(ArticleTopic.article_id == article_id)
            .order_by(ArticleTopic.topic_code)
        ).all()
        out[article_id] = (
            article.status,
            article.language,
            article.enrichment_version,
            [tuple(r) for r in entities],
            [tuple(r) for r in topics],
        )
    return out


def _entity_counts(session: Session) -> list[tuple[str, str, int, int]]:
    rows = session.execute(
        select(Entity.type, Entity.name, Entity.article_count, Entity.mention_count).order_by(Entity.id)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _queued_messages(redis_client: redis.Redis) -> list[tuple[list[int], dict[str, object]]]:
    """``(args, kwargs)`` of the enrich messages waiting in the test queue."""
    messages = [json.loads(m) for m in redis_client.lrange(get_settings().enrich_queue, 0, -1)]
    bodies = [
        json.loads(base64.b64decode(m["body"])) for m in messages
    ]  # kombu: base64 of [args, kwargs, embed]
    return [(body[0], body[1]) for body in bodies]


def test_batch_writes_the_same_rows_as_one_task_per_article(
    ingest_client: httpx.Client, db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    ids = _ingest(ingest_client, 5, "same")
    first, others = ids[0], ids[1:]
    (own_job,) = _jobs(db_session, first)
    other_jobs = {a: _jobs(db_session, a) for a in others}

    assert run_enrich(first, outbox_id=own_job.id, batch=10, factory=session_factory) == "enriched"
    batched = _rows(db_session, ids)
    assert all(row[0] == "enriched" for row in batched.values()), batched
    assert all(row[3] and row[4] for row in batched.values()), "every article got entities and topics"
    for article_id in others:
        (old,), jobs = other_jobs[article_id], _jobs(db_session, article_id)
        assert len(jobs) == 2, "the batch moved the job into one of its own"
        assert jobs[0].id == old.id
        assert jobs[0].payload[BATCHED_INTO] == jobs[1].id
        assert all(job.completed_at is not None for job in jobs), "nothing left for the relay"
        # the article's own message, still in the queue, is now a no-op
        assert run_enrich(article_id, outbox_id=old.id, batch=10, factory=session_factory) == "batched"
    counts = _entity_counts(db_session)
    assert counts

    # the same articles, one model call each (as without batching): the same rows, counts not inflated
    enricher = get_enricher()
    for article_id in ids:
        with session_factory() as session:
            assert (
                service.enrich_article(session=session, article_id=article_id, enricher=enricher)
                == "enriched"
            )
            session.commit()
    assert _rows(db_session, ids) == batched
    assert _entity_counts(db_session) == counts


@pytest.mark.parametrize("poisoned", ["batched", "own"])
def test_one_bad_article_fails_alone(
    poisoned: str,
    ingest_client: httpx.Client,
    db_session: Session,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
) -> None:
    ids = _ingest(ingest_client, 4, f"poison-{poisoned}")
    bad = ids[1] if poisoned == "batched" else ids[0]
    db_session.execute(update(Article).where(Article.id == bad).values(text=POISON))
    db_session.commit()
    good = [a for a in ids if a != bad]
    (own_job,) = _jobs(db_session, ids[0])
    redis_client.delete(get_settings().enrich_queue)

    if poisoned == "own":  # the task's own article: its error is raised (the task retries or fails it)
        with pytest.raises(ValueError, match="E088"):
            run_enrich(ids[0], outbox_id=own_job.id, batch=10, factory=session_factory)
    else:
        assert run_enrich(ids[0], outbox_id=own_job.id, batch=10, factory=session_factory) == "enriched"

    rows = _rows(db_session, ids)
    assert all(rows[a][0] == "enriched" and rows[a][3] for a in good), rows
    article = db_session.get(Article, bad)
    assert article is not None
    assert (article.status, article.error, article.enriched_at) == ("queued", None, None)
    assert db_session.scalar(select(func.count()).where(ArticleEntity.article_id == bad)) == 0

    jobs = _jobs(db_session, bad)
    if poisoned == "own":
        assert [job.completed_at for job in jobs] == [None], "the task's error path decides (retry or fail)"
        return
    # the batch gave the bad article back as a job of its own, published again, and never batched again
    old, alone = jobs
    assert old.payload[BATCHED_INTO] == alone.id
    assert alone.payload.get(ALONE) is True
    assert alone.published_at is not None
    assert alone.completed_at is None
    assert _queued_messages(redis_client) == [([bad], {"outbox_id": alone.id})]
    later = [ingest_client.post("/v1/articles", json=article_payload()).json()["id"] for _ in range(2)]
    (later_job,) = _jobs(db_session, later[0])
    assert run_enrich(later[0], outbox_id=later_job.id, batch=10, factory=session_factory) == "enriched"
    assert len(_jobs(db_session, bad)) == 2, "a job that must run alone is not taken into a batch"
    # its own message runs it alone: the permanent error is this article's only
    with pytest.raises(ValueError, match="E088"):
        run_enrich(bad, outbox_id=alone.id, batch=10, factory=session_factory)

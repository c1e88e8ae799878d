"""The outbox relay against a real PostgreSQL and Redis."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import redis
from sqlalchemy import create_engine, func, pool, select, update
from sqlalchemy.orm import Session

from shared.db import on_commit
from shared.jobs import outbox
from shared.jobs.contract import EnrichJob
from shared.jobs.outbox import relay_once
from shared.models import OutboxEvent
from shared.settings import get_settings
from tests.factories import article_payload, stored_article
from tests.integration.test_cli import _newswire

LEASE = timedelta(minutes=5)


def _event(session: Session, article_id: int) -> OutboxEvent:
    event = session.scalars(select(OutboxEvent).where(OutboxEvent.article_id == article_id)).one()
    session.refresh(event)
    return event


def test_relay_publishes_what_never_reached_the_broker(
    ingest_client: httpx.Client, db_session: Session, redis_client: redis.Redis
) -> None:
    article_id = ingest_client.post("/v1/articles", json=article_payload()).json()["id"]
    queue = get_settings().enrich_queue
    redis_client.delete(queue)
    # as if the broker had been down at commit time, a minute ago
    db_session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.article_id == article_id)
        .values(
            published_at=None,
            publish_attempts=0,
            lease_until=func.now() - timedelta(seconds=1),  # what a failed publish leaves (`release`)
            created_at=OutboxEvent.created_at - timedelta(minutes=1),
        )
    )
    assert relay_once(db_session, redeliver_after=LEASE) >= 1
    event = _event(db_session, article_id)
    assert event.published_at is not None
    assert event.publish_attempts == 1
    assert redis_client.llen(queue) >= 1
    # published now: a second pass has nothing to do
    assert relay_once(db_session, redeliver_after=LEASE) == 0


def test_a_job_past_its_lease_is_republished_even_under_a_backlog(
    ingest_client: httpx.Client, db_session: Session, redis_client: redis.Redis
) -> None:
    """A lost message is found by its job's lease, not by an empty queue: a busy queue (here 50 other
    messages waiting) does not hide it. Each republish doubles the lease."""
    article_id = ingest_client.post("/v1/articles", json=article_payload()).json()["id"]
    queue = get_settings().enrich_queue
    redis_client.rpush(queue, *[json.dumps({"filler": n}) for n in range(50)])
    try:
        event = _event(db_session, article_id)
        assert event.published_at is not None
        assert event.lease_until is not None
        assert relay_once(db_session, redeliver_after=LEASE) == 0, "within its lease: left alone"
        db_session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.article_id == article_id)
            .values(lease_until=func.now() - timedelta(seconds=1))
        )
        assert relay_once(db_session, redeliver_after=LEASE) >= 1
        event = _event(db_session, article_id)
        assert event.publish_attempts == 2
        lease = db_session.scalar(
            select(func.extract("epoch", OutboxEvent.lease_until - func.now())).where(
                OutboxEvent.id == event.id
            )
        )
        assert lease is not None
        assert 2 * LEASE.total_seconds() - 30 < float(lease) <= 2 * LEASE.total_seconds()
        assert relay_once(db_session, redeliver_after=LEASE) == 0
    finally:
        redis_client.delete(queue)


def test_a_completed_job_is_never_republished(ingest_client: httpx.Client, db_session: Session) -> None:
    article_id = ingest_client.post("/v1/articles", json=article_payload()).json()["id"]
    db_session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.article_id == article_id)
        .values(completed_at=func.now(), lease_until=func.now() - timedelta(hours=1))
    )
    assert relay_once(db_session, redeliver_after=LEASE) == 0
    assert _event(db_session, article_id).publish_attempts == 1


def test_fresh_unpublished_events_wait_for_the_grace(
    ingest_client: httpx.Client, db_session: Session
) -> None:
    article_id = ingest_client.post("/v1/articles", json=article_payload()).json()["id"]
    db_session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.article_id == article_id)
        .values(published_at=None, lease_until=None)
    )
    relay_once(db_session, redeliver_after=LEASE, unpublished_grace=timedelta(minutes=10))
    assert _event(db_session, article_id).published_at is None


def test_on_commit_waits_for_the_real_commit_not_a_savepoint(db_session: Session) -> None:
    """A savepoint released after a job was registered must not publish it: the row is not committed,
    so a publisher on another connection would not see it (the relay would publish it seconds later)."""
    calls: list[str] = []
    db_session.execute(select(1))
    on_commit(db_session, lambda: calls.append("published"))
    with db_session.begin_nested():  # e.g. the ledger count written after the article
        db_session.execute(select(1))
    assert calls == []
    db_session.commit()
    assert calls == ["published"]
    with db_session.begin_nested():
        on_commit(db_session, lambda: calls.append("inner"))
    db_session.rollback()
    assert calls == ["published"], "rolled back with the outer transaction: never run"


def test_the_relay_process_publishes_a_kept_job_once_the_broker_answers(
    fresh_database: Any, redis_client: redis.Redis
) -> None:
    """`newswire relay --once`, run as a user runs it, against a database with a job that never reached
    the broker (the request's own publish failed): it publishes it, once."""
    url: str = fresh_database("relay_cli")
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with Session(engine) as session:
            article = stored_article(session, status="queued")
            job_id = outbox.add(session, article_id=article.id, job=EnrichJob(request_id="kept"))
            session.execute(  # older than the relay's grace for the request's own publish
                update(OutboxEvent)
                .where(OutboxEvent.id == job_id)
                .values(created_at=OutboxEvent.created_at - timedelta(minutes=1))
            )
            session.commit()
        queue = get_settings().enrich_queue
        depth = redis_client.llen(queue)
        env = {"NEWSWIRE_DATABASE_URL": url}
        first = _newswire("relay", "--once", env_overrides=env)
        assert first.returncode == 0, first.stderr
        assert json.loads(first.stdout.splitlines()[-1]) == {"published": 1}
        assert redis_client.llen(queue) == depth + 1
        again = _newswire("relay", "--once", env_overrides=env)
        assert json.loads(again.stdout.splitlines()[-1]) == {"published": 0}
        with Session(engine) as session:
            event = session.get(OutboxEvent, job_id)
            assert event is not None
            assert event.published_at is not None
            assert event.publish_attempts == 1
    finally:
        engine.dispose()


def test_publishing_survives_a_broker_that_lost_its_data(redis_client: redis.Redis) -> None:
    """A flushed Redis also loses the queue's binding (kombu's routing table) and the queue: the next
    publish still reaches the queue (the redis-flush fault of `make chaos` relies on it)."""
    from shared.jobs.broker import send_enrich

    queue = get_settings().enrich_queue
    send_enrich(article_id=1, outbox_id=None, request_id=None)  # declared and cached
    bindings = [k for k in redis_client.keys("_kombu.binding.*") if queue in k.decode()]
    assert bindings
    redis_client.delete(*bindings, queue)
    send_enrich(article_id=2, outbox_id=None, request_id=None)
    assert redis_client.llen(queue) == 1
    redis_client.delete(queue)

"""Exactly once against a real PostgreSQL (and Redis): a duplicate message is a no-op, two deliveries of
one job write once, the attempt cap fails a poison article while the rest of its batch runs alone, stream
events and webhook deliveries are never doubled by a redelivery, and the relay and a worker working on the
same rows at the same time never deadlock (one lock order)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine, create_engine, func, pool, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from services.api.ops import repository as ops_repository
from services.api.ops import service as ops
from services.api.subscriptions import service as subscriptions
from services.enrich.articles import repository as enrich_repository
from services.enrich.articles import service
from services.enrich.articles.tasks import get_enricher, run_enrich, worker_lease
from shared.jobs import outbox
from shared.jobs.contract import EnrichJob
from shared.jobs.outbox import relay_once
from shared.models import Article, ArticleEvent, OutboxEvent, Subscription, WebhookDelivery
from tests.factories import article_payload, stored_article

LEASE = timedelta(minutes=5)


def _job(session: Session, article_id: int) -> OutboxEvent:
    session.expire_all()
    return session.scalars(
        select(OutboxEvent).where(OutboxEvent.article_id == article_id).order_by(OutboxEvent.id.desc())
    ).first()  # type: ignore[return-value]


def _duplicates(reason: str) -> float:
    value = REGISTRY.get_sample_value("newswire_enrich_duplicate_messages_total", {"reason": reason})
    return value or 0.0


def _start(factory: sessionmaker[Session], article_id: int, outbox_id: int | None, cap: int = 3) -> Any:
    with factory() as session:
        started = service.start(
            session=session,
            article_id=article_id,
            outbox_id=outbox_id,
            count_attempt=True,
            max_attempts=cap,
            lease=worker_lease(),
        )
        session.commit()
    return started


# --- duplicate messages ---------------------------------------------------------------------------------


def test_a_duplicate_message_for_a_completed_job_is_a_no_op(
    ingest_client: httpx.Client, db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    article_id = ingest_client.post("/v1/articles", json=article_payload()).json()["id"]
    job = _job(db_session, article_id)
    assert run_enrich(article_id, outbox_id=job.id, factory=session_factory) == "enriched"
    db_session.expire_all()
    article = db_session.get(Article, article_id)
    assert article is not None
    assert article.status == "enriched"
    assert article.enrich_attempts == 0
    enriched_at = article.enriched_at
    before = _duplicates("done")
    # the same message again (the relay republished it, or the broker redelivered it)
    assert run_enrich(article_id, outbox_id=job.id, factory=session_factory) == "duplicate"
    assert _duplicates("done") == before + 1
    db_session.expire_all()
    article = db_session.get(Article, article_id)
    assert article is not None
    assert article.enriched_at == enriched_at, "nothing was written again"
    assert article.enrich_attempts == 0, "a duplicate is not an attempt"


def test_two_deliveries_running_at_once_write_once(
    ingest_client: httpx.Client, db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    """Both copies start before either finishes (the first one's lease ran out while it was slow): the
    second to save finds its job completed under the article lock and writes nothing."""
    article_id = ingest_client.post("/v1/articles", json=article_payload()).json()["id"]
    job = _job(db_session, article_id)
    first = _start(session_factory, article_id, job.id)
    second = _start(session_factory, article_id, job.id)
    assert first.state == second.state == "run"
    enrichment = service.enrich_input(item=first.item, enricher=get_enricher())
    outcomes = []
    for started in (first, second):
        with session_factory() as session:
            outcomes.append(
                service.save_enrichment(
                    session=session, item=started.item, enrichment=enrichment, outbox_id=job.id
                )
            )
            session.commit()
    assert outcomes == ["enriched", "duplicate"]


# --- poison -----------------------------------------------------------------------------------------------


def test_attempts_that_never_end_make_the_article_poison_after_the_cap(
    ingest_client: httpx.Client, db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    """Each start is committed before the work; a worker that dies never ends its attempt. Past the cap
    the article is failed as poison (listed by `newswire failed` / GET /v1/ops/failed), its jobs done."""
    article_id = ingest_client.post("/v1/articles", json=article_payload()).json()["id"]
    job = _job(db_session, article_id)
    states = [_start(session_factory, article_id, job.id, cap=3) for _ in range(3)]
    assert [s.state for s in states] == ["run"] * 3
    assert [s.alone for s in states] == [False, True, True], "an article that died before runs alone"
    db_session.expire_all()
    article = db_session.get(Article, article_id)
    assert article is not None
    assert (article.status, article.enrich_attempts) == ("queued", 3)
    # the 4th delivery (the relay republished the job when the dead worker's lease ran out)
    assert run_enrich(article_id, outbox_id=job.id, factory=session_factory) == "poison"
    db_session.expire_all()
    article = db_session.get(Article, article_id)
    assert article is not None
    assert article.status == "failed"
    assert article.error is not None
    assert article.error.startswith("poison: 3 enrich attempt(s) never ended")
    assert _job(db_session, article_id).completed_at is not None, "the relay will not bring it back"
    page = ops.list_failed(session=db_session, error_types=["poison"])
    assert [item.id for item in page.items] == [article_id]
    # an operator's retry gives it its attempts back
    assert ops_repository.requeue(db_session, ids=[article_id]) == [article_id]
    db_session.expire_all()
    article = db_session.get(Article, article_id)
    assert article is not None
    assert (article.status, article.enrich_attempts) == ("queued", 0)


def test_the_batch_mates_of_a_dead_batch_run_alone_and_are_enriched(
    ingest_client: httpx.Client, db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    ids = [ingest_client.post("/v1/articles", json=article_payload()).json()["id"] for _ in range(4)]
    head, mates = ids[0], ids[1:]
    job = _job(db_session, head)
    # the task starts and takes the others into its batch, then its worker dies (nothing saved)
    with session_factory() as session:
        started = service.start(
            session=session, article_id=head, outbox_id=job.id, count_attempt=True, max_attempts=3,
            lease=worker_lease(),
        )  # fmt: skip
        claimed = service.claim_batch(
            session=session, article_id=head, limit=10, task="newswire.enrich_article", lease=worker_lease()
        )
        session.commit()
    assert started.state == "run"
    assert sorted(c.item.article_id for c in claimed) == mates
    db_session.expire_all()
    assert all(db_session.get(Article, a).enrich_attempts == 1 for a in mates)  # type: ignore[union-attr]
    # the dead worker's leases run out: the relay republishes the batch's jobs
    db_session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.completed_at.is_(None), OutboxEvent.article_id.in_(ids))
        .values(lease_until=func.now() - timedelta(seconds=1))
    )
    db_session.commit()
    assert relay_once(db_session, redeliver_after=LEASE, sender=lambda _: None) == len(ids)
    # each batch mate's redelivered job runs alone (its batch died): enriched, and takes nobody along
    for mate, c in zip(mates, claimed, strict=False):
        assert run_enrich(mate, outbox_id=c.outbox_id, batch=10, factory=session_factory) == "enriched"
    db_session.expire_all()
    assert [db_session.get(Article, a).status for a in mates] == ["enriched"] * 3  # type: ignore[union-attr]
    head_article = db_session.get(Article, head)
    assert head_article is not None
    assert head_article.status == "queued", "nobody took the head along"


# --- events and deliveries on a real commit (the event trigger is deferred to the commit) -----------------


@pytest.fixture
def committed(fresh_database: Any) -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    url: str = fresh_database(f"exactly_{int(time.time() * 1000) % 10_000_000}")
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        yield engine, sessionmaker(bind=engine, expire_on_commit=False)
    finally:
        engine.dispose()


def test_a_redelivered_job_never_emits_a_second_event_or_delivery(
    committed: tuple[Engine, sessionmaker[Session]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, factory = committed
    with factory() as session:
        article = stored_article(session, status="queued")
        job_id = outbox.add(session, article_id=article.id, job=EnrichJob())
        session.add(
            Subscription(name="all", url="http://127.0.0.1:9/", secret="s" * 32, query={}, last_seq=0)
        )
        session.commit()
    assert run_enrich(article.id, outbox_id=job_id, factory=factory) == "enriched"
    assert run_enrich(article.id, outbox_id=job_id, factory=factory) == "duplicate"
    # an old worker without the pending check writing the same enrichment again (same version and
    # revision): the unique index keeps the event log at one event
    with factory() as session:
        current = session.get(Article, article.id)
        assert current is not None
        assert current.model_versions is not None
        for _ in range(2):
            enrich_repository.replace_enrichment(
                session, article_id=article.id, entity_rows=[], topic_rows=[], keyphrases=[],
                language="en", language_confidence=1.0, model_versions=dict(current.model_versions),
                attempts=1,
            )  # fmt: skip
            session.commit()
    with factory() as session:
        events = session.scalars(select(ArticleEvent).where(ArticleEvent.article_id == article.id)).all()
        assert len(events) == 1
        assert events[0].version == current.enrichment_version
        assert events[0].revision == current.revision
    time.sleep(1.2)  # the stream's settle lag
    with factory() as session:
        subscriptions.match(session=session)
        session.commit()
        subscriptions.match(session=session)
        session.commit()
        deliveries = session.scalars(select(WebhookDelivery)).all()
        assert [d.article_id for d in deliveries] == [article.id]
    # a new version is a new event (and a new delivery)
    with factory() as session:
        enrich_repository.replace_enrichment(
            session, article_id=article.id, entity_rows=[], topic_rows=[], keyphrases=[], language="en",
            language_confidence=1.0, model_versions={**current.model_versions, "spacy": "next"}, attempts=1,
        )  # fmt: skip
        session.commit()
    time.sleep(1.2)
    with factory() as session:
        subscriptions.match(session=session)
        session.commit()
        assert session.scalar(select(func.count()).select_from(ArticleEvent)) == 2
        assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 2


# --- lock order -----------------------------------------------------------------------------------------


def test_the_relay_and_a_worker_on_the_same_rows_never_deadlock(
    committed: tuple[Engine, sessionmaker[Session]],
) -> None:
    """The relay (claim, publish, mark) and workers (start, batch take-over, complete) hammer the same
    articles and jobs from several threads: no deadlock, no lock wait error, every job accounted for."""
    _, factory = committed
    with factory() as session:
        ids = [stored_article(session, status="queued").id for _ in range(12)]
        for article_id in ids:
            outbox.add(session, article_id=article_id, job=EnrichJob())
        session.commit()
    errors: list[BaseException] = []
    stop = time.monotonic() + 8.0

    def relay() -> None:
        while time.monotonic() < stop:
            try:
                with factory() as session:
                    expire = session.scalars(  # leases run out: the relay takes them again
                        select(OutboxEvent.id)
                        .where(OutboxEvent.completed_at.is_(None))
                        .order_by(OutboxEvent.id)
                        .with_for_update(skip_locked=True)
                    ).all()
                    session.execute(
                        update(OutboxEvent)
                        .where(OutboxEvent.id.in_(expire))
                        .values(lease_until=func.now() - timedelta(seconds=1))
                    )
                    session.commit()
                    relay_once(
                        session, redeliver_after=LEASE, unpublished_grace=timedelta(0),
                        sender=lambda _: time.sleep(0.002),
                    )  # fmt: skip
            except DBAPIError as exc:
                errors.append(exc)

    def worker(n: int) -> None:
        k = n
        while time.monotonic() < stop:
            article_id = ids[k % len(ids)]
            k += 1
            try:
                with factory() as session:
                    job = session.scalar(
                        select(OutboxEvent.id)
                        .where(OutboxEvent.article_id == article_id)
                        .order_by(OutboxEvent.id.desc())
                        .limit(1)
                    )
                    started = service.start(
                        session=session, article_id=article_id, outbox_id=job, count_attempt=False,
                        max_attempts=3, lease=timedelta(seconds=30),
                    )  # fmt: skip
                    if started.state == "run":
                        service.claim_batch(
                            session=session, article_id=article_id, limit=3, task="newswire.enrich_article",
                            lease=timedelta(seconds=30),
                        )  # fmt: skip
                    session.commit()
                with factory() as session:  # the save's locks: the article row, then its jobs
                    enrich_repository.lock_article(session, article_id=article_id)
                    outbox.complete_for_article(session, article_id=article_id)
                    session.commit()
                with factory() as session:  # new work for the next round (like a revision or a retry)
                    outbox.add(session, article_id=article_id, job=EnrichJob())
                    session.commit()
            except DBAPIError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=relay) for _ in range(2)]
    threads += [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, [str(e)[:300] for e in errors[:3]]
    with factory() as session:
        rounds = session.scalar(select(func.count()).select_from(OutboxEvent))
        assert rounds is not None
        assert rounds > 2 * len(ids), "both sides really worked"

"""The outbox: all its SQL, publishing right after the commit, and a batch's take-over of queued jobs.

A job is a row (`OutboxEvent`) written in the transaction that made the work necessary; it is published
after that transaction commits (`publish_now`), and again by the relay when it never reached the broker
or was lost (`relay_once`). A worker completes it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Literal

import structlog
from sqlalchemy import ColumnElement, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.jobs.broker import ENRICH_TASK, send_enrich
from shared.jobs.contract import ALONE, BATCH_OF, BATCHED_INTO, EnrichJob
from shared.models import Article, ArticleStatus, OutboxEvent
from shared.settings import get_settings

log = structlog.get_logger("newswire.outbox")

Sender = Callable[[OutboxEvent], None]

# --- repository -------------------------------------------------------------------------------------------


def add(session: Session, *, article_id: int, job: EnrichJob, task: str = ENRICH_TASK) -> int:
    return session.execute(
        insert(OutboxEvent)
        .values(article_id=article_id, task=task, payload=job.to_payload())
        .returning(OutboxEvent.id)
    ).scalar_one()


#: How long a relay (or a request's publish) holds the jobs it claimed before another may publish them.
PUBLISH_LEASE = timedelta(seconds=10)
#: A republished job's lease doubles with each publish, at most 2**MAX_LEASE_DOUBLINGS times the base.
MAX_LEASE_DOUBLINGS = 6


def claim_for_publish(session: Session, *, ids: list[int]) -> list[OutboxEvent]:
    """Claim the given unpublished, unfinished jobs (those another transaction holds are skipped): their
    lease is taken for PUBLISH_LEASE. Touches outbox rows only (see the lock order in `shared.jobs`)."""
    stmt = (
        select(OutboxEvent)
        .where(
            OutboxEvent.id.in_(ids),
            OutboxEvent.completed_at.is_(None),
            OutboxEvent.published_at.is_(None),
            or_(OutboxEvent.lease_until.is_(None), OutboxEvent.lease_until < func.now()),
        )
        .order_by(OutboxEvent.id)
        .with_for_update(skip_locked=True)
    )
    return _claim(session, list(session.scalars(stmt)))


def claim_due(
    session: Session,
    *,
    unpublished_grace: timedelta,
    redeliver_after: timedelta,
    limit: int,
) -> list[OutboxEvent]:
    """Claim the jobs due: never published (after a short grace, so the request that wrote them can
    publish first), or whose lease ran out (lost in the broker, or its worker died), whatever the queue
    depth. Jobs from before leases existed (published, no lease) are due `redeliver_after` after their
    publish. Touches outbox rows only."""
    now = func.now()
    unpublished = and_(
        OutboxEvent.published_at.is_(None),
        OutboxEvent.created_at < now - unpublished_grace,
        or_(OutboxEvent.lease_until.is_(None), OutboxEvent.lease_until < now),
    )
    expired = OutboxEvent.lease_until < now
    legacy = and_(OutboxEvent.lease_until.is_(None), OutboxEvent.published_at < now - redeliver_after)
    stmt = (
        select(OutboxEvent)
        .where(OutboxEvent.completed_at.is_(None), or_(unpublished, expired, legacy))
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return _claim(session, list(session.scalars(stmt)))


def _claim(session: Session, events: list[OutboxEvent]) -> list[OutboxEvent]:
    if events:
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_([e.id for e in events]))
            .values(lease_until=func.now() + PUBLISH_LEASE)
        )
    return events


def _lock_articles(session: Session, *, ids: list[int]) -> None:
    """Lock article rows in ascending id order (a multi-row UPDATE locks in scan order, which two
    statements may not share)."""
    session.execute(select(Article.id).where(Article.id.in_(ids)).order_by(Article.id).with_for_update())


def _lock_jobs(session: Session, *, where: ColumnElement[bool]) -> None:
    session.execute(select(OutboxEvent.id).where(where).order_by(OutboxEvent.id).with_for_update())


def mark_published(session: Session, *, ids: list[int], redeliver_after: timedelta) -> None:
    """The broker took these jobs: the articles are queued (article rows first, in id order), the jobs
    published with a lease of `redeliver_after` doubled per earlier publish."""
    if not ids:
        return
    ids = sorted(ids)
    articles = sorted(set(session.scalars(select(OutboxEvent.article_id).where(OutboxEvent.id.in_(ids)))))
    _lock_articles(session, ids=articles)
    # the article's "queued" stage: its job first reached the broker (a retry clears it)
    session.execute(
        update(Article)
        .where(Article.id.in_(articles), Article.queued_at.is_(None))
        .values(queued_at=func.clock_timestamp())
    )
    _lock_jobs(session, where=OutboxEvent.id.in_(ids))
    base = func.make_interval(0, 0, 0, 0, 0, 0, redeliver_after.total_seconds())
    doublings = func.least(OutboxEvent.publish_attempts, MAX_LEASE_DOUBLINGS)
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_(ids), OutboxEvent.completed_at.is_(None))
        .values(
            published_at=func.now(),
            publish_attempts=OutboxEvent.publish_attempts + 1,
            # a worker may have started the job meanwhile: its (longer) lease is kept
            lease_until=func.greatest(OutboxEvent.lease_until, func.now() + base * func.power(2, doublings)),
        )
    )


def release(session: Session, *, ids: list[int]) -> None:
    """Claimed jobs that were not published (the broker refused): due again at the next pass."""
    if ids:
        _lock_jobs(session, where=OutboxEvent.id.in_(ids))
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(sorted(ids)), OutboxEvent.completed_at.is_(None))
            .values(lease_until=func.now())
        )


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(OutboxEvent.completed_at.is_(None))) or 0


def complete_for_article(session: Session, *, article_id: int) -> None:
    """The article's jobs are done: the relay must not republish them (the caller holds the article row;
    its jobs are locked in id order)."""
    _lock_jobs(session, where=and_(OutboxEvent.article_id == article_id, OutboxEvent.completed_at.is_(None)))
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.article_id == article_id, OutboxEvent.completed_at.is_(None))
        .values(completed_at=func.now())
    )


# --- a batch taking over queued jobs ------------------------------------------------------------------------


def is_batched(session: Session, *, outbox_id: int) -> bool:
    """Whether a batch took over this outbox job (its message then has nothing left to do)."""
    return bool(
        session.scalar(select(OutboxEvent.payload.has_key(BATCHED_INTO)).where(OutboxEvent.id == outbox_id))
    )


def claim_queued(session: Session, *, exclude_article_id: int, limit: int) -> list[tuple[int, int]]:
    """Lock up to ``limit`` queued articles nobody has started since their job's publish, then their
    published, unfinished jobs (article rows first, then outbox rows: the lock order; rows another
    transaction holds are skipped); ``(outbox id, article id)``. Articles that already died in an
    attempt, and jobs of a batch that died (``batch_of``) or marked ``alone``, run alone: never batched."""
    job_ok = and_(
        OutboxEvent.completed_at.is_(None),
        OutboxEvent.published_at.is_not(None),
        ~OutboxEvent.payload.has_key(ALONE),
        ~OutboxEvent.payload.has_key(BATCH_OF),
    )
    articles = list(
        session.scalars(
            select(Article.id)
            .join(OutboxEvent, OutboxEvent.article_id == Article.id)
            .where(
                job_ok,
                Article.id != exclude_article_id,
                Article.status == ArticleStatus.QUEUED,
                Article.enrich_attempts == 0,
                or_(
                    Article.enrich_started_at.is_(None), Article.enrich_started_at < OutboxEvent.published_at
                ),
            )
            .order_by(OutboxEvent.id)
            .limit(limit)
            .with_for_update(of=Article, skip_locked=True)
        )
    )
    if not articles:
        return []
    rows = session.execute(
        select(OutboxEvent.id, OutboxEvent.article_id)
        .where(job_ok, OutboxEvent.article_id.in_(articles))
        .order_by(OutboxEvent.id)
        .with_for_update(skip_locked=True)
    )
    return [(r.id, r.article_id) for r in rows]


def take_over(
    session: Session,
    *,
    jobs: list[tuple[int, int]],
    batch_of: int,
    lease: timedelta,
    task: str = ENRICH_TASK,
) -> dict[int, int]:
    """Move the locked ``(outbox id, article id)`` jobs into new jobs owned by the batch (published now
    with the worker's lease, so the relay redelivers them, to run alone, if the batch never finishes);
    the old ones are completed and marked ``batched_into``. Marks the articles started and counts the
    attempt. Returns ``article id -> new outbox id``."""
    articles = sorted({article_id for _, article_id in jobs})
    payload = EnrichJob(batch_of=batch_of).to_payload()
    # article rows first (already locked by claim_queued), then outbox rows
    session.execute(
        update(Article)
        .where(Article.id.in_(articles))
        .values(enrich_started_at=func.clock_timestamp(), enrich_attempts=Article.enrich_attempts + 1)
    )
    rows = session.execute(
        insert(OutboxEvent)
        .values(
            [
                {
                    "article_id": a,
                    "task": task,
                    "payload": payload,
                    "published_at": func.now(),
                    "lease_until": func.now() + lease,
                }
                for a in articles
            ]
        )
        .returning(OutboxEvent.article_id, OutboxEvent.id)
    )
    new_ids = {r.article_id: r.id for r in rows}
    for outbox_id, article_id in sorted(jobs):
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == outbox_id)
            .values(
                completed_at=func.now(),
                payload=OutboxEvent.payload.op("||")(
                    func.jsonb_build_object(BATCHED_INTO, new_ids[article_id])
                ),
            )
        )
    return new_ids


# --- a worker starting a job -------------------------------------------------------------------------------

JobState = Literal["pending", "done", "batched", "missing"]


def lock_job(session: Session, *, outbox_id: int) -> tuple[JobState, EnrichJob | None]:
    """Lock a job (the caller locked its article row first: the lock order) and say whether it still
    has work to do: ``done`` (completed: a duplicate or late message), ``batched`` (a batch took it over)."""
    row = session.execute(
        select(OutboxEvent.completed_at, OutboxEvent.payload)
        .where(OutboxEvent.id == outbox_id)
        .with_for_update()
    ).first()
    if row is None:
        return "missing", None
    job = EnrichJob.from_payload(row.payload)
    if job.batched_into is not None:
        return "batched", job
    return ("done" if row.completed_at is not None else "pending"), job


def lease_job(session: Session, *, outbox_id: int, lease: timedelta) -> None:
    """A worker holds the job until ``lease`` from now (then the relay republishes it)."""
    session.execute(
        update(OutboxEvent).where(OutboxEvent.id == outbox_id).values(lease_until=func.now() + lease)
    )


def is_pending(session: Session, *, outbox_id: int) -> bool:
    return (
        session.scalar(select(OutboxEvent.completed_at.is_(None)).where(OutboxEvent.id == outbox_id)) is True
    )


def run_alone(session: Session, *, outbox_id: int) -> None:
    """Unpublish a batch's job and mark it to run alone (the caller publishes it again)."""
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id == outbox_id, OutboxEvent.completed_at.is_(None))
        .values(
            published_at=None,
            lease_until=None,
            payload=OutboxEvent.payload.op("||")(func.jsonb_build_object(ALONE, True)),
        )
    )


# --- publishing -------------------------------------------------------------------------------------------


def _send(event: OutboxEvent) -> None:
    if event.task != ENRICH_TASK:
        raise ValueError(f"unknown outbox task {event.task!r}")
    send_enrich(
        article_id=event.article_id,
        outbox_id=event.id,
        request_id=EnrichJob.from_payload(event.payload).request_id,
    )


def publish_claimed(events: list[OutboxEvent], *, sender: Sender = _send) -> tuple[list[int], list[int]]:
    """Send claimed jobs, outside any transaction; ``(sent, not sent)``. A broker error stops the pass:
    the rest stay for the relay."""
    sent: list[int] = []
    for event in events:
        try:
            sender(event)
        except Exception as exc:  # the broker is down or refused: the outbox keeps the job
            log.warning(
                "outbox_publish_failed",
                outbox_id=event.id,
                article_id=event.article_id,
                error=f"{type(exc).__name__}: {exc}"[:300],
            )
            break
        sent.append(event.id)
    return sent, [e.id for e in events[len(sent) :]]


def _redeliver_after() -> timedelta:
    return timedelta(seconds=get_settings().outbox_redeliver_after)


def publish_now(
    *, ids: list[int], factory: sessionmaker[Session] | None = None, sender: Sender = _send
) -> int:
    """Called after the commit that wrote the jobs: claim them (short transaction), publish them with no
    transaction open, then mark them published (short transaction)."""
    try:
        with session_scope(factory) as session:
            events = claim_for_publish(session, ids=ids)
        if not events:
            return 0
        sent, unsent = publish_claimed(events, sender=sender)
        with session_scope(factory) as session:
            mark_published(session, ids=sent, redeliver_after=_redeliver_after())
            release(session, ids=unsent)
        return len(sent)
    except Exception as exc:  # never fail a request that has already committed
        log.warning("outbox_publish_deferred", ids=ids, error=f"{type(exc).__name__}: {exc}"[:300])
        return 0


def relay_once(
    session: Session,
    *,
    redeliver_after: timedelta,
    unpublished_grace: timedelta = timedelta(seconds=5),
    limit: int = 500,
    sender: Sender = _send,
) -> int:
    """One pass of the relay, which owns `session` (the relay is an edge: it commits): claim the due jobs
    and commit, publish them with no row lock held, then mark them published and commit.

    Due: never published, or a lease that ran out. A lease is what makes redelivery safe under a backlog:
    a job waiting its turn in a deep queue may be republished (its lease doubles each time), and the
    copy that arrives second is a no-op (the task checks that its job is still pending)."""
    events = claim_due(
        session, unpublished_grace=unpublished_grace, redeliver_after=redeliver_after, limit=limit
    )
    session.commit()
    if not events:
        return 0
    sent, unsent = publish_claimed(events, sender=sender)
    mark_published(session, ids=sent, redeliver_after=redeliver_after)
    release(session, ids=unsent)
    session.commit()
    log.info("outbox_relayed", due=len(events), published=len(sent))
    return len(sent)

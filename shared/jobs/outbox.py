"""The outbox: all its SQL, publishing right after the commit, and a batch's take-over of queued jobs.

A job is a row (`OutboxEvent`) written in the transaction that made the work necessary; it is published
after that transaction commits (`publish_now`), and again by the relay when it never reached the broker
or was lost (`relay_once`). A worker completes it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import structlog
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.jobs.broker import ENRICH_TASK, send_enrich
from shared.jobs.contract import ALONE, BATCHED_INTO, EnrichJob
from shared.models import Article, ArticleStatus, OutboxEvent

log = structlog.get_logger("newswire.outbox")

Sender = Callable[[OutboxEvent], None]

# --- repository -------------------------------------------------------------------------------------------


def add(session: Session, *, article_id: int, job: EnrichJob, task: str = ENRICH_TASK) -> int:
    return session.execute(
        insert(OutboxEvent)
        .values(article_id=article_id, task=task, payload=job.to_payload())
        .returning(OutboxEvent.id)
    ).scalar_one()


def lock_for_publish(session: Session, *, ids: list[int]) -> list[OutboxEvent]:
    stmt = (
        select(OutboxEvent)
        .where(OutboxEvent.id.in_(ids), OutboxEvent.completed_at.is_(None))
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def lock_due(
    session: Session,
    *,
    unpublished_grace: timedelta,
    redeliver_after: timedelta | None,
    limit: int,
) -> list[OutboxEvent]:
    """Events never published (after a short grace, so the request that wrote them can publish first)
    and, when `redeliver_after` is given, events published that long ago and still not completed."""
    now = func.now()
    due = and_(OutboxEvent.published_at.is_(None), OutboxEvent.created_at < now - unpublished_grace)
    if redeliver_after is not None:
        due = or_(due, OutboxEvent.published_at < now - redeliver_after)
    stmt = (
        select(OutboxEvent)
        .where(OutboxEvent.completed_at.is_(None), due)
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def mark_published(session: Session, *, ids: list[int]) -> None:
    if ids:
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(ids))
            .values(published_at=func.now(), publish_attempts=OutboxEvent.publish_attempts + 1)
        )
        # the article's "queued" stage: its job first reached the broker (a retry clears it)
        session.execute(
            update(Article)
            .where(
                Article.id.in_(select(OutboxEvent.article_id).where(OutboxEvent.id.in_(ids))),
                Article.queued_at.is_(None),
            )
            .values(queued_at=func.clock_timestamp())
        )


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(OutboxEvent.completed_at.is_(None))) or 0


def complete_for_article(session: Session, *, article_id: int) -> None:
    """The article's jobs are done: the relay must not republish them."""
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
    """Lock up to ``limit`` published, unfinished jobs of queued articles nobody has started since the
    publish (oldest first; jobs another transaction holds are skipped); ``(outbox id, article id)``."""
    rows = session.execute(
        select(OutboxEvent.id, OutboxEvent.article_id)
        .join(Article, Article.id == OutboxEvent.article_id)
        .where(
            OutboxEvent.completed_at.is_(None),
            OutboxEvent.published_at.is_not(None),
            ~OutboxEvent.payload.has_key(ALONE),
            OutboxEvent.article_id != exclude_article_id,
            Article.status == ArticleStatus.QUEUED,
            or_(Article.enrich_started_at.is_(None), Article.enrich_started_at < OutboxEvent.published_at),
        )
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(of=OutboxEvent, skip_locked=True)
    )
    return [(r.id, r.article_id) for r in rows]


def take_over(
    session: Session, *, jobs: list[tuple[int, int]], batch_of: int, task: str = ENRICH_TASK
) -> dict[int, int]:
    """Move the locked ``(outbox id, article id)`` jobs into new jobs owned by the batch (published now, so
    the relay redelivers them if the batch never finishes); the old ones are completed and marked
    ``batched_into``. Marks the articles started. Returns ``article id -> new outbox id``."""
    articles = sorted({article_id for _, article_id in jobs})
    payload = EnrichJob(batch_of=batch_of).to_payload()
    rows = session.execute(
        insert(OutboxEvent)
        .values(
            [
                {"article_id": a, "task": task, "payload": payload, "published_at": func.now()}
                for a in articles
            ]
        )
        .returning(OutboxEvent.article_id, OutboxEvent.id)
    )
    new_ids = {r.article_id: r.id for r in rows}
    for outbox_id, article_id in jobs:
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
    session.execute(
        update(Article).where(Article.id.in_(articles)).values(enrich_started_at=func.clock_timestamp())
    )
    return new_ids


def run_alone(session: Session, *, outbox_id: int) -> None:
    """Unpublish a batch's job and mark it to run alone (the caller publishes it again)."""
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id == outbox_id, OutboxEvent.completed_at.is_(None))
        .values(published_at=None, payload=OutboxEvent.payload.op("||")(func.jsonb_build_object(ALONE, True)))
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


def publish_locked(session: Session, *, events: list[OutboxEvent], sender: Sender = _send) -> int:
    """Send the given (locked) events; mark the ones the broker took. A broker error stops the pass:
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
    mark_published(session, ids=sent)
    return len(sent)


def publish_now(
    *, ids: list[int], factory: sessionmaker[Session] | None = None, sender: Sender = _send
) -> int:
    """Called after the commit that wrote the jobs: publish them in a short transaction of its own."""
    try:
        with session_scope(factory) as session:
            events = lock_for_publish(session, ids=ids)
            return publish_locked(session, events=events, sender=sender)
    except Exception as exc:  # never fail a request that has already committed
        log.warning("outbox_publish_deferred", ids=ids, error=f"{type(exc).__name__}: {exc}"[:300])
        return 0


def relay_once(
    session: Session,
    *,
    redeliver_after: timedelta | None,
    unpublished_grace: timedelta = timedelta(seconds=5),
    limit: int = 500,
    sender: Sender = _send,
) -> int:
    """One pass of the relay: publish what was never published and, with `redeliver_after`, redeliver
    what was published that long ago but never completed.

    Redelivery is only safe to ask for when the broker queue is empty: under a backlog, an old
    uncompleted job is normally still waiting in the queue, not lost (see `shared.jobs.relay`)."""
    events = lock_due(
        session, unpublished_grace=unpublished_grace, redeliver_after=redeliver_after, limit=limit
    )
    if not events:
        return 0
    count = publish_locked(session, events=events, sender=sender)
    log.info("outbox_relayed", due=len(events), published=count)
    return count

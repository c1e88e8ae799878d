"""Publishing outbox events to the broker, right after commit and again from the relay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import structlog
from sqlalchemy.orm import Session, sessionmaker

from services.enrich.celery_app import ENRICH_TASK, send_enrich
from services.ingest.outbox import repository
from shared.db import session_scope
from shared.models import OutboxEvent

log = structlog.get_logger("newswire.outbox")

Sender = Callable[[OutboxEvent], None]


def _send(event: OutboxEvent) -> None:
    if event.task != ENRICH_TASK:
        raise ValueError(f"unknown outbox task {event.task!r}")
    send_enrich(
        article_id=event.article_id,
        outbox_id=event.id,
        request_id=event.payload.get("request_id") if event.payload else None,
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
    repository.mark_published(session, ids=sent)
    return len(sent)


def publish_now(
    *, ids: list[int], factory: sessionmaker[Session] | None = None, sender: Sender = _send
) -> int:
    """Called after the ingest commit: publish these events in a short transaction of its own."""
    try:
        with session_scope(factory) as session:
            events = repository.lock_for_publish(session, ids=ids)
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
    uncompleted job is normally still waiting in the queue, not lost (see `services.ingest.app`)."""
    events = repository.lock_due(
        session, unpublished_grace=unpublished_grace, redeliver_after=redeliver_after, limit=limit
    )
    if not events:
        return 0
    count = publish_locked(session, events=events, sender=sender)
    log.info("outbox_relayed", due=len(events), published=count)
    return count

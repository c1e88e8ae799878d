"""`enqueue_enrich`: the one way to start enrich jobs (ingest, revisions, retries, reprocess, overrides).

The jobs are written to the outbox in the caller's transaction and, with a `publish`, published right
after it commits; without one (or if that fails) the relay publishes them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from shared.db import on_commit
from shared.http import app_session_factory
from shared.jobs import outbox
from shared.jobs.contract import EnrichJob

#: Publishes outbox jobs (by id) after the commit.
Publisher = Callable[[list[int]], None]


def publisher_for(factory: sessionmaker[Session] | None = None) -> Publisher:
    """A publisher using `factory` for its short publishing transaction (the process default if None)."""

    def publish(ids: list[int]) -> None:
        outbox.publish_now(ids=ids, factory=factory)

    return publish


def enqueue_enrich(
    session: Session, *, article_ids: Sequence[int], job: EnrichJob, publish: Publisher | None
) -> list[int]:
    """One enrich job per article (same payload), published after the commit; the outbox ids."""
    ids = [outbox.add(session, article_id=article_id, job=job) for article_id in article_ids]
    if publish is not None and ids:
        on_commit(session, lambda: publish(ids))
    return ids


def request_publisher(request: Request) -> Publisher:
    """The HTTP edge's publisher: publishes with the app's session factory."""
    return publisher_for(app_session_factory(request.app))

"""Engines and sessions. Engines are created lazily, per process (so after a worker forks)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from shared import dates
from shared.settings import Settings, get_settings

dates.install()  # a stored date outside Python's range reads as a sentinel, never an error

_engines: dict[tuple[int, str], Engine] = {}


class DatabaseNotConfiguredError(RuntimeError):
    pass


def database_url(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    if not settings.database_url:
        raise DatabaseNotConfiguredError(
            "NEWSWIRE_DATABASE_URL is not set (use `newswire run` for embedded PostgreSQL)"
        )
    return settings.database_url


def get_engine(url: str | None = None) -> Engine:
    """One engine per process and URL; a forked child gets its own (pid is part of the key)."""
    settings = get_settings()
    url = url or database_url(settings)
    key = (os.getpid(), url)
    engine = _engines.get(key)
    if engine is None:
        engine = create_engine(
            url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_pre_ping=True,
            pool_recycle=1800,
        )
        _engines[key] = engine
    return engine


def dispose_engines() -> None:
    for key, engine in list(_engines.items()):
        if key[0] == os.getpid():
            engine.dispose()
        del _engines[key]


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False, autoflush=False)


@contextmanager
def session_scope(factory: sessionmaker[Session] | None = None) -> Iterator[Session]:
    """Unit of work at the edge (task wrapper, CLI): commit on success, roll back on error."""
    session = (factory or session_factory())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_AFTER_COMMIT = "newswire_after_commit"


def on_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's current transaction has committed (dropped on rollback).

    This is how jobs are published only after the rows they refer to are visible (the outbox pattern)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the real commit is still to come
        return
    callbacks: list[Callable[[], None]] = session.info.pop(_AFTER_COMMIT, [])
    for callback in callbacks:
        callback()


@event.listens_for(Session, "after_transaction_end")
def _drop_after_commit(session: Session, transaction: SessionTransaction) -> None:
    # after_commit has already run (and popped) the callbacks of a committed root transaction;
    # whatever is left when a root transaction ends was rolled back: drop it.
    if transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)

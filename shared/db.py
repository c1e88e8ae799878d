"""Engines and sessions. Engines are created lazily, per process (so after a worker forks)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from shared import dates
from shared.settings import Settings, get_settings

dates.install()  # a stored date outside Python's range reads as a sentinel, never an error

_engines: dict[tuple[int, str, str], Engine] = {}

Role = Literal["ingest", "api", "worker", "relay", "default"]
ROLES: tuple[Role, ...] = ("ingest", "api", "worker", "relay")
_role: Role = "default"


class DatabaseNotConfiguredError(RuntimeError):
    pass


def set_role(role: Role) -> None:
    """Name the process's role (`serve ingest`, `serve api`, `worker`): its engines get that role's
    statement, lock and idle-in-transaction timeouts (``NEWSWIRE_DB_*_TIMEOUT_<ROLE>``)."""
    global _role
    _role = role


def current_role() -> Role:
    return _role


def database_url(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    if not settings.database_url:
        raise DatabaseNotConfiguredError(
            "NEWSWIRE_DATABASE_URL is not set (use `newswire run` for embedded PostgreSQL)"
        )
    return settings.database_url


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def statement_timeout_ms(role: Role, settings: Settings | None = None) -> int:
    """The ``statement_timeout`` (milliseconds, 0: off) a connection of `role` starts with: known from the
    settings, so a caller that narrows it for one query (``SET LOCAL``) need not ask the server."""
    if role == "default":
        return 0
    return _ms(getattr(settings or get_settings(), f"db_statement_timeout_{role}"))


def session_options(role: Role, settings: Settings | None = None) -> dict[str, int]:
    """The PostgreSQL settings (milliseconds, 0: off) a connection of `role` starts with."""
    settings = settings or get_settings()
    if role == "default":  # the CLI, migrations, scripts: only the connect timeout
        return {}
    return {
        "statement_timeout": statement_timeout_ms(role, settings),
        "lock_timeout": _ms(getattr(settings, f"db_lock_timeout_{role}")),
        "idle_in_transaction_session_timeout": _ms(
            getattr(settings, f"db_idle_in_transaction_timeout_{role}")
        ),
    }


# The read API's statements are index walks and sums over a few hundred thousand rows at most: a JIT
# compile (50-300 ms on the 2-CPU machine, for any plan the planner costs above jit_above_cost, which the
# facet and search statements are at a million articles) costs more than it saves.
API_SETTINGS = {"jit": "off"}


def connect_args(role: Role, settings: Settings | None = None) -> dict[str, Any]:
    """libpq arguments: the connect timeout and the role's timeouts as `options` (`-c name=value`), and
    for the read API, ``API_SETTINGS``."""
    settings = settings or get_settings()
    args: dict[str, Any] = {"connect_timeout": settings.db_connect_timeout}
    options: dict[str, Any] = {**session_options(role, settings), **(API_SETTINGS if role == "api" else {})}
    if options:
        args["options"] = " ".join(f"-c {name}={value}" for name, value in options.items())
    return args


def get_engine(url: str | None = None, *, role: Role | None = None) -> Engine:
    """One engine per process, URL and role; a forked child gets its own (pid is part of the key).
    `role` defaults to the process's (:func:`set_role`)."""
    settings = get_settings()
    url = url or database_url(settings)
    role = role or _role
    key = (os.getpid(), url, role)
    engine = _engines.get(key)
    if engine is None:
        engine = create_engine(
            url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout,
            pool_pre_ping=True,
            pool_recycle=1800,
            connect_args=connect_args(role, settings),
        )
        _engines[key] = engine
    return engine


def dispose_engines() -> None:
    for key, engine in list(_engines.items()):
        if key[0] == os.getpid():
            engine.dispose()
        del _engines[key]


def session_factory(engine: Engine | None = None, *, role: Role | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=engine or get_engine(role=role), expire_on_commit=False, autoflush=False)


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
_COMMITTED = "newswire_committed"


def on_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's current transaction has committed (dropped on rollback).

    This is how jobs are published only after the rows they refer to are visible (the outbox pattern).
    The callbacks run once the transaction has ended and its connection is back in the pool, so a
    callback that opens a session of its own (publishing) never holds two connections at once."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the real commit is still to come
        return
    # committed: run at the end of the transaction, once its connection is released
    session.info[_COMMITTED] = session.info.pop(_AFTER_COMMIT, [])


@event.listens_for(Session, "after_transaction_end")
def _drop_after_commit(session: Session, transaction: SessionTransaction) -> None:
    # whatever is left in _AFTER_COMMIT when a root transaction ends was rolled back: drop it
    if transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)
        callbacks: list[Callable[[], None]] = session.info.pop(_COMMITTED, [])
        for callback in callbacks:
            callback()

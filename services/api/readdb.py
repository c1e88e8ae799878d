"""Reads on PostgreSQL streaming replicas (NEWSWIRE_READ_DATABASE_URL, one URL or several, comma-separated).

The read routes (lists, search, facets, details, entities, topics, stories, export, stream) take a
``ReadSessionDep``: a session on a replica, chosen round-robin among those that answer and are no more than
NEWSWIRE_READ_MAX_LAG_SECONDS behind, else on the primary.  Nothing 5xx because of a replica:
- a replica that refuses connections is skipped for NEWSWIRE_READ_RETRY_SECONDS (reads go to the others,
  or to the primary);
- its replay lag is measured at most once a second per process (caught up when it has replayed all the
  WAL it received; else the age of the last transaction replayed), and a lagging one is skipped the same way;
- read-your-writes: an article an ingest call just returned may not have reached a replica yet, so the
  detail routes answer a 404 from a replica by asking the primary.
Writes (ops routes, overrides, subscriptions) and API-key checks always use the primary."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, TypeVar

import structlog
from fastapi import Depends, FastAPI, Request
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.db import API_SETTINGS
from shared.errors import NotFound
from shared.http import SessionDep, app_session_factory
from shared.settings import get_settings

log = structlog.get_logger("newswire.api.replicas")

_LAG = text(
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0.0 "
    "WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0.0 "
    "ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 1e9) END"
)
LAG_CHECK_SECONDS = 1.0
T = TypeVar("T")


@dataclass
class Replica:
    url: str
    factory: sessionmaker[Session]
    engine: Engine
    skip_until: float = 0.0
    checked_at: float = 0.0
    lag: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class ReadPool:
    """The replicas of one API process, and the primary's session factory to fall back on."""

    def __init__(self, urls: list[str], primary: sessionmaker[Session]) -> None:
        settings = get_settings()
        self.primary = primary
        self.replicas: list[Replica] = []
        for url in urls:
            engine = create_engine(
                url,
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_max_overflow,
                pool_pre_ping=True,
                pool_recycle=1800,
                connect_args={
                    "connect_timeout": 2,
                    "options": " ".join(f"-c {k}={v}" for k, v in API_SETTINGS.items()),
                },
            )
            factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
            self.replicas.append(Replica(url=url, factory=factory, engine=engine))
        self._turn = itertools.count()

    def _usable(self, replica: Replica, now: float) -> bool:
        return now >= replica.skip_until

    def _skip(self, replica: Replica, reason: str) -> None:
        settings = get_settings()
        replica.skip_until = time.monotonic() + settings.read_retry_seconds
        log.warning("replica_skipped", replica=replica.engine.url.render_as_string(), reason=reason[:200])

    def _lag_ok(self, replica: Replica, session: Session, now: float) -> bool:
        """Measure the lag at most once a second (one small query); True while under the limit."""
        if now - replica.checked_at >= LAG_CHECK_SECONDS:
            with replica.lock:
                if now - replica.checked_at >= LAG_CHECK_SECONDS:
                    replica.lag = float(session.execute(_LAG).scalar_one())
                    replica.checked_at = now
        return replica.lag <= get_settings().read_max_lag_seconds

    def open(self, fallback: Session | None = None) -> tuple[Session, bool]:
        """A session on a usable replica (True) or ``fallback`` / a new one on the primary (False); the
        replica's connection is taken here, so a replica that is down is found before the route runs."""
        now = time.monotonic()
        n = len(self.replicas)
        start = next(self._turn)
        for i in range(n):
            replica = self.replicas[(start + i) % n]
            if not self._usable(replica, now):
                continue
            session = replica.factory()
            try:
                session.connection()
                if self._lag_ok(replica, session, now):
                    return session, True
                self._skip(replica, f"lag {replica.lag:.1f} s")
            except DBAPIError as exc:
                self._skip(replica, f"{type(exc).__name__}: {exc}")
            session.close()
        return (fallback if fallback is not None else self.primary()), False

    def dispose(self) -> None:
        for replica in self.replicas:
            replica.engine.dispose()


def read_urls() -> list[str]:
    raw = get_settings().read_database_url or ""
    return [u.strip() for u in raw.split(",") if u.strip()]


def read_pool(app: FastAPI) -> ReadPool | None:
    """The process's replicas (None: no NEWSWIRE_READ_DATABASE_URL: reads use the primary)."""
    pool: ReadPool | None = getattr(app.state, "read_pool", None)
    if pool is None:
        urls = read_urls()
        if not urls:
            return None
        pool = app.state.read_pool = ReadPool(urls, app_session_factory(app))
    return pool


@dataclass
class ReadSession:
    """A read-only session; ``on_replica`` says where it reads, ``primary`` opens one on the primary."""

    session: Session
    on_replica: bool
    primary: Callable[[], Session]

    def or_primary(self, read: Callable[[Session], T]) -> T:
        """``read(session)``; when it is not found on a replica, ``read`` again on the primary (an id an
        ingest call just returned may not have been replayed yet: read-your-writes)."""
        try:
            return read(self.session)
        except NotFound:
            if not self.on_replica:
                raise
        with self.primary() as session:
            return read(session)


def open_read(app: FastAPI, primary_session: Session | None = None) -> ReadSession:
    """A read session: on a usable replica, else ``primary_session`` (the request's own session, so a
    request never holds two connections of the primary's pool), else a new session on the primary."""
    pool = read_pool(app)
    primary = app_session_factory(app)
    if pool is not None:
        session, on_replica = pool.open(fallback=primary_session)
        return ReadSession(session, on_replica, primary)
    return ReadSession(primary_session if primary_session is not None else primary(), False, primary)


def read_factory(app: FastAPI) -> Callable[[], Session]:
    """Sessions for reads outside a request's dependency (the export's batches, the stream's polls)."""

    def make() -> Session:
        return open_read(app).session

    return make


READ_FROM = "newswire.read_from"


class ReadFromMiddleware:
    """``X-Read-From: replica|primary`` on the answers of read routes (where their first query ran)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def tagged(message: Message) -> None:
            where = scope.get(READ_FROM)
            if message["type"] == "http.response.start" and where:
                message = {**message, "headers": [*message.get("headers", []), (b"x-read-from", where)]}
            await send(message)

        await self.app(scope, receive, tagged)


def _get_read(request: Request, session: SessionDep) -> Iterator[ReadSession]:
    read = open_read(request.app, session)
    request.scope[READ_FROM] = b"replica" if read.on_replica else b"primary"
    if not read.on_replica:
        yield read  # the request's session: the edge commits and closes it
        return
    try:
        yield read
    finally:
        read.session.rollback()
        read.session.close()


ReadDep = Annotated[ReadSession, Depends(_get_read, scope="function")]


def _get_session(read: ReadDep) -> Session:
    return read.session


ReadSessionDep = Annotated[Session, Depends(_get_session)]

"""A statement timeout around a read query: past it, a clear 504 `query_timeout`, never a hang or a 500."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from shared.db import statement_timeout_ms
from shared.errors import QueryTimeout
from shared.settings import get_settings


def _canceled(exc: OperationalError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "57014"  # query_canceled


@contextmanager
def statement_timeout(session: Session, *, ms: int | None = None, what: str = "the query") -> Iterator[None]:
    """Run the block's statements under ``SET LOCAL statement_timeout`` (NEWSWIRE_QUERY_TIMEOUT_MS by
    default), restored afterwards; a canceled statement becomes QueryTimeout (the edge rolls back).

    Never longer than the read API connection's own limit (NEWSWIRE_DB_STATEMENT_TIMEOUT_API, which every
    statement of the API runs under): that one is known from the settings, so no query asks for it."""
    settings = get_settings()
    limit = ms if ms is not None else settings.query_timeout_ms
    connection_ms = statement_timeout_ms("api", settings)
    if connection_ms:
        limit = min(limit, connection_ms)
    previous = session.execute(
        text("SELECT current_setting('statement_timeout'), set_config('statement_timeout', :v, true)"),
        {"v": f"{limit}ms"},
    ).scalar_one()
    try:
        yield
    except OperationalError as exc:
        if _canceled(exc):
            raise QueryTimeout(
                f"{what} took longer than {limit} ms; narrow the filter (a date range, a source) and retry"
            ) from exc
        raise
    session.execute(text("SELECT set_config('statement_timeout', :v, true)"), {"v": previous})

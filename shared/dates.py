"""Dates that cannot break a read: PostgreSQL stores timestamps far outside Python's range (year 10000,
BC, +-infinity), and psycopg raises on loading one, which would turn every list that shows such a row into
a 500. The loaders here clamp such a value to a sentinel a day inside Python's range (``LATEST`` /
``EARLIEST``, in UTC), so any row already stored reads, serialises and paginates. New dates are kept in a
sane window at ingest (``services.ingest.articles.schemas.date_problem``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import psycopg
from psycopg import DataError, abc
from psycopg.abc import AdaptContext
from psycopg.adapt import AdaptersMap, Loader
from psycopg.pq import Format

LATEST = datetime(9999, 12, 30, tzinfo=UTC)
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)


def _too_early(data: Any, fmt: Format) -> bool:
    raw = bytes(data)
    if fmt == Format.BINARY:  # int64 microseconds (int32 days for a date) since 2000-01-01, big-endian
        return raw[:1] >= b"\x80"
    return raw.endswith(b"BC") or raw.startswith(b"-")


def _clamping(base: type[abc.Loader], *, as_date: bool, aware: bool) -> type[Loader]:
    class Clamped(Loader):
        format = base.format

        def __init__(self, oid: int, context: AdaptContext | None = None) -> None:
            super().__init__(oid, context)
            self._inner = base(oid, context)

        def load(self, data: Any) -> Any:
            try:
                return self._inner.load(data)
            except DataError:
                value = EARLIEST if _too_early(data, self.format) else LATEST
                if as_date:
                    return date(value.year, value.month, value.day)
                return value if aware else value.replace(tzinfo=None)

    Clamped.__name__ = f"Clamped{base.__name__}"
    return Clamped


def install(adapters: AdaptersMap | None = None) -> None:
    """Register the clamping loaders (on psycopg's global map by default: every later connection)."""
    target = adapters if adapters is not None else psycopg.adapters
    for name, as_date, aware in (
        ("timestamptz", False, True),
        ("timestamp", False, False),
        ("date", True, False),
    ):
        oid = target.types[name].oid
        for fmt in (Format.TEXT, Format.BINARY):
            base = target.get_loader(oid, fmt)
            if base is None or base.__name__.startswith("Clamped"):
                continue
            target.register_loader(oid, _clamping(base, as_date=as_date, aware=aware))

"""All SQL of ingest's article writes and duplicate look-ups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.models import Article, SourceHour

Existing = tuple[int, str, str]  # (id, canonical_url, method)


def find_duplicate(
    session: Session,
    *,
    source: str | None,
    external_id: str | None,
    canonical_url: str,
    content_hash: str,
) -> Existing | None:
    """The stored article this one repeats, by feed id, canonical URL or text hash (in that order)."""
    if external_id is not None:
        row = session.execute(
            select(Article.id, Article.canonical_url).where(
                and_(Article.source.is_not_distinct_from(source), Article.external_id == external_id)
            )
        ).first()
        if row is not None:
            return row.id, row.canonical_url, "external_id"
    row = session.execute(
        select(Article.id, Article.canonical_url).where(Article.canonical_url == canonical_url)
    ).first()
    if row is not None:
        return row.id, row.canonical_url, "url"
    row = session.execute(
        select(Article.id, Article.canonical_url).where(Article.content_hash == content_hash)
    ).first()
    if row is not None:
        return row.id, row.canonical_url, "content_hash"
    return None


def insert_article(session: Session, *, values: dict[str, Any]) -> int | None:
    """Insert inside a savepoint; None when a unique key was taken meanwhile (a concurrent twin)."""
    try:
        with session.begin_nested():
            return session.execute(insert(Article).values(**values).returning(Article.id)).scalar_one()
    except IntegrityError:
        return None


def add_to_ledger(session: Session, *, rows: Sequence[tuple[str, int, int, int]]) -> None:
    """Add (source, accepted, duplicates, rejected) to the sources' rows of the current UTC hour.

    Rows are written in source order, so two requests counting the same sources never deadlock."""
    if not rows:
        return
    hour = func.date_trunc("hour", func.clock_timestamp(), "UTC")
    values = [
        {"source": source, "hour": hour, "accepted": a, "duplicates": d, "rejected": r}
        for source, a, d, r in sorted(rows)
    ]
    stmt = pg_insert(SourceHour).values(values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[SourceHour.source, SourceHour.hour],
            set_={
                "accepted": SourceHour.accepted + stmt.excluded.accepted,
                "duplicates": SourceHour.duplicates + stmt.excluded.duplicates,
                "rejected": SourceHour.rejected + stmt.excluded.rejected,
            },
        )
    )

"""SQL of per-source boilerplate learning (table ``source_lines``).  The cleaning functions themselves
stay pure: the ingest service reads the known lines here and hands them to the cleaner."""

from __future__ import annotations

import math
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.models import SourceLine

__all__ = ["ARTICLES_ROW", "known_boilerplate", "record_lines"]

#: The ``line_hash`` of the row that counts a source's articles.
ARTICLES_ROW = "*"


def known_boilerplate(
    session: Session, *, source: str, hashes: Iterable[str], min_articles: int, min_share: float
) -> set[str]:
    """Those of ``hashes`` seen in at least ``min_articles`` stored articles of ``source`` and in at least
    ``min_share`` of them."""
    wanted = sorted(set(hashes) - {ARTICLES_ROW})
    if not wanted:
        return set()
    total = session.scalar(
        select(SourceLine.count).where(SourceLine.source == source, SourceLine.line_hash == ARTICLES_ROW)
    )
    threshold = max(min_articles, math.ceil(min_share * (total or 0)))
    rows = session.scalars(
        select(SourceLine.line_hash).where(
            SourceLine.source == source,
            SourceLine.line_hash.in_(wanted),
            SourceLine.count >= threshold,
        )
    )
    return set(rows)


def record_lines(session: Session, *, source: str, hashes: Iterable[str]) -> None:
    """Count one more article of ``source`` carrying each of ``hashes`` (rows locked in one sorted
    order, so concurrent ingests of a source never deadlock)."""
    keys = sorted(set(hashes) | {ARTICLES_ROW})
    stmt = insert(SourceLine).values([{"source": source, "line_hash": h, "count": 1} for h in keys])
    stmt = stmt.on_conflict_do_update(
        index_elements=[SourceLine.source, SourceLine.line_hash],
        set_={"count": SourceLine.count + 1, "last_seen": func.now()},
    )
    session.execute(stmt)

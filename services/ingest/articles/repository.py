"""All SQL of ingest's article writes and duplicate look-ups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.models import Article, ArticleLshBand, ArticleMinHash, ArticleRevision, DedupDecision, SourceHour


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored article an incoming one is matched to."""

    id: int
    canonical_url: str
    content_hash: str
    duplicate_of: int | None
    method: str  # "external_id" | "url" | "exact"


def _stored(row: Any, method: str) -> Stored:
    return Stored(row.id, row.canonical_url, row.content_hash, row.duplicate_of, method)


_COLUMNS = (Article.id, Article.canonical_url, Article.content_hash, Article.duplicate_of)


def _same_writer(source: str | None, writer_key_id: int | None) -> ColumnElement[bool]:
    """The articles of one writer: a source, or for articles without one the key that wrote them (NULL:
    sourceless articles stored before 0014 or written outside the HTTP API)."""
    if source is not None:
        return and_(Article.source == source, Article.writer_key_id.is_(None))
    if writer_key_id is not None:
        return and_(Article.source.is_(None), Article.writer_key_id == writer_key_id)
    return and_(Article.source.is_(None), Article.writer_key_id.is_(None))


def find_same_document(
    session: Session,
    *,
    source: str | None,
    writer_key_id: int | None,
    external_id: str | None,
    canonical_url: str,
) -> Stored | None:
    """The stored article of the same writer (source, or key for a sourceless one) this one is another copy
    or revision of: same feed id, else same canonical URL. Another writer's article never matches here."""
    writer = _same_writer(source, writer_key_id)
    if external_id is not None:
        row = session.execute(select(*_COLUMNS).where(writer, Article.external_id == external_id)).first()
        if row is not None:
            return _stored(row, "external_id")
    row = session.execute(select(*_COLUMNS).where(writer, Article.canonical_url == canonical_url)).first()
    return None if row is None else _stored(row, "url")


def find_original_by_url(session: Session, *, canonical_url: str) -> int | None:
    """The original stored at this canonical URL by any writer (the one a duplicate row there links to),
    the oldest first."""
    row = session.execute(
        select(Article.id, Article.duplicate_of)
        .where(Article.canonical_url == canonical_url)
        .order_by(Article.duplicate_of.is_not(None), Article.id)
        .limit(1)
    ).first()
    return None if row is None else (row.duplicate_of or row.id)


def lock_url(session: Session, *, canonical_url: str) -> None:
    """A transaction-scoped advisory lock on a canonical URL (two-key form: never the band keys' space),
    so two writers pushing one new URL at once do not both store it as an original."""
    session.execute(text("SELECT pg_advisory_xact_lock(14, hashtext(:url))"), {"url": canonical_url})


def find_original_by_hash(session: Session, *, content_hash: str) -> Stored | None:
    """The original (not a duplicate row) with exactly this text."""
    row = session.execute(
        select(*_COLUMNS).where(Article.content_hash == content_hash, Article.duplicate_of.is_(None))
    ).first()
    return None if row is None else _stored(row, "exact")


def lock_band_keys(session: Session, *, keys: Sequence[int]) -> None:
    """Take a transaction-scoped advisory lock on each LSH band key, in ascending order.

    Why locks and not a serialisable retry: two near-identical articles always share a band key (that is
    what makes them candidates), so whoever locks a shared key second waits until the first has committed
    its bands and then finds them: exactly one original, with no retry loop and no serialisation failures
    for the many unrelated articles ingested at the same time (they share no key).  Ascending order: two
    transactions wanting overlapping keys never wait on each other in a cycle."""
    if keys:
        session.execute(
            text(
                "SELECT count(pg_advisory_xact_lock(k)) "
                "FROM (SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY k) AS sorted_keys"
            ),
            {"keys": sorted(set(keys))},
        )


_CANDIDATES = text(
    "SELECT m.article_id, m.signature FROM article_minhash m WHERE m.article_id IN "
    "(SELECT b.article_id FROM article_lsh_bands b WHERE b.band_key = ANY(CAST(:keys AS bigint[]))) "
    "ORDER BY m.article_id"
)
_ADD_BANDS = text(
    "INSERT INTO article_lsh_bands (band_key, article_id) "
    "SELECT k, :article_id FROM unnest(CAST(:keys AS bigint[])) AS k ORDER BY k ON CONFLICT DO NOTHING"
)


def lsh_candidates(session: Session, *, keys: Sequence[int]) -> list[tuple[int, bytes]]:
    """(article_id, signature) of the originals sharing at least one band key (one statement, one
    array parameter: the band index is probed once per key)."""
    if not keys:
        return []
    rows = session.execute(_CANDIDATES, {"keys": list(keys)})
    return [(row.article_id, row.signature) for row in rows]


def add_fingerprint(session: Session, *, article_id: int, signature: bytes, keys: Sequence[int]) -> None:
    """Store an original's signature (replacing an earlier one) and its band keys."""
    stmt = pg_insert(ArticleMinHash).values(article_id=article_id, signature=signature)
    session.execute(
        stmt.on_conflict_do_update(index_elements=[ArticleMinHash.article_id], set_={"signature": signature})
    )
    if keys:
        session.execute(_ADD_BANDS, {"article_id": article_id, "keys": list(keys)})


def signature_of(session: Session, *, article_id: int) -> bytes | None:
    return session.scalar(select(ArticleMinHash.signature).where(ArticleMinHash.article_id == article_id))


def remove_fingerprint(session: Session, *, article_id: int, keys: Sequence[int]) -> None:
    """Forget an article's band keys (found by key: the primary key) and signature."""
    if keys:
        session.execute(
            delete(ArticleLshBand).where(
                ArticleLshBand.band_key.in_(list(set(keys))), ArticleLshBand.article_id == article_id
            )
        )
    session.execute(delete(ArticleMinHash).where(ArticleMinHash.article_id == article_id))


def lock_article(session: Session, *, article_id: int) -> Article | None:
    return session.scalar(select(Article).where(Article.id == article_id).with_for_update())


def count_revisions(session: Session, *, article_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(ArticleRevision).where(ArticleRevision.article_id == article_id)
        )
        or 0
    )


def add_revision(session: Session, *, values: dict[str, Any]) -> None:
    session.execute(insert(ArticleRevision).values(**values))


def story_of(session: Session, *, article_id: int) -> int | None:
    return session.scalar(select(Article.story_id).where(Article.id == article_id))


def update_article(session: Session, *, article_id: int, values: dict[str, Any]) -> None:
    session.execute(update(Article).where(Article.id == article_id).values(**values))


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


# --- the duplicate decision's reasons and an operator's undo (0015) -----------------------------------


def titles_and_texts(session: Session, *, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """(title, text) of stored articles, by id (what a near match is compared with)."""
    if not ids:
        return {}
    rows = session.execute(select(Article.id, Article.title, Article.text).where(Article.id.in_(list(ids))))
    return {row.id: (row.title, row.text) for row in rows}


def never_merged_with(session: Session, *, article_id: int) -> set[int]:
    """The articles an operator said `article_id` is not a duplicate of (either way round)."""
    rows = session.execute(
        select(DedupDecision.article_id, DedupDecision.other_id).where(
            or_(DedupDecision.article_id == article_id, DedupDecision.other_id == article_id)
        )
    )
    return {row.other_id if row.article_id == article_id else row.article_id for row in rows}


def add_decision(session: Session, *, article_id: int, other_id: int, decided_by: str | None) -> None:
    """Record that the pair is not a duplicate (kept once, lower id first)."""
    low, high = sorted((article_id, other_id))
    stmt = pg_insert(DedupDecision).values(article_id=low, other_id=high, decided_by=decided_by)
    session.execute(
        stmt.on_conflict_do_nothing(index_elements=[DedupDecision.article_id, DedupDecision.other_id])
    )

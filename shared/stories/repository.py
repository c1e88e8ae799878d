"""All SQL of story assignment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from shared.models import Article, ArticleEntity, ArticleStatus, Entity, Story, StoryKey, StorySignature

# advisory lock namespace (first int4 of the two-key form) of story assignment; object 0 is the global
# lock that reassignment takes exclusively and each assignment shares
LOCK_NAMESPACE = 0x5354  # "ST"
_INT4 = 1 << 31


def lock_for_assignment(session: Session, *, keys: Sequence[int]) -> None:
    """Share the global story lock, then take the article's lookup keys (folded to int4, ascending):
    two articles that could match share a key, so their assignments run one after the other, and the
    second sees the first's story once it has the lock."""
    session.execute(text("SELECT pg_advisory_xact_lock_shared(:ns, 0)"), {"ns": LOCK_NAMESPACE})
    folded = sorted({(k % (_INT4 - 1)) + 1 for k in keys})  # 1..2^31-1: never the global lock's 0
    if folded:  # a function scan over the array yields its elements in order: the locks are taken ascending
        session.execute(
            text("SELECT count(pg_advisory_xact_lock(:ns, k)) FROM unnest(CAST(:keys AS integer[])) AS k"),
            {"ns": LOCK_NAMESPACE, "keys": folded},
        )


def lock_for_reassignment(session: Session) -> None:
    """The global story lock, exclusively: no assignment runs until the caller's transaction ends."""
    session.execute(text("SELECT pg_advisory_xact_lock(:ns, 0)"), {"ns": LOCK_NAMESPACE})


def story_of(session: Session, *, article_id: int) -> int | None:
    return session.scalar(select(Article.story_id).where(Article.id == article_id))


def set_story(session: Session, *, article_ids: Sequence[int], story_id: int | None) -> None:
    """Put the articles, and the duplicate rows linked to them (never enriched), in the story."""
    session.execute(
        update(Article)
        .where(or_(Article.id.in_(article_ids), Article.duplicate_of.in_(article_ids)))
        .values(story_id=story_id)
    )


_CANDIDATES = text(
    """
    SELECT s.article_id, a.story_id, s.at, s.terms, s.entity_keys, s.entity_weights, s.embedding, a.language
    FROM (
        SELECT DISTINCT hit.article_id
        FROM unnest(CAST(:keys AS bigint[])) AS q(key)
        CROSS JOIN LATERAL (
            SELECT k.article_id FROM story_keys k
            WHERE k.key = q.key AND k.at >= :lo AND k.at <= :hi
            ORDER BY k.at DESC
            LIMIT :per_key
        ) AS hit
    ) AS c
    JOIN story_signatures s ON s.article_id = c.article_id
    JOIN articles a ON a.id = c.article_id
    WHERE a.story_id IS NOT NULL AND a.id <> :article_id
    """
)


def candidates(
    session: Session, *, keys: Sequence[int], lo: datetime, hi: datetime, article_id: int, per_key: int
) -> list[Any]:
    """Articles in a story sharing a lookup key with the article, within ``[lo, hi]`` (the most recent
    ``per_key`` per key): ``(article_id, story_id, at, terms, entity_keys, entity_weights, embedding,
    language)`` rows."""
    if not keys:
        return []
    rows = session.execute(
        _CANDIDATES,
        {"keys": list(keys), "lo": lo, "hi": hi, "per_key": per_key, "article_id": article_id},
    )
    return list(rows)


def save_signature(
    session: Session,
    *,
    article_id: int,
    at: datetime,
    terms: Sequence[int],
    entity_keys: Sequence[int],
    entity_weights: Sequence[float],
    embedding: bytes | None,
    keys: Sequence[int],
    match: dict[str, Any] | None,
    syndicated: bool,
) -> None:
    """Replace the article's signature and lookup keys."""
    values = {
        "at": at,
        "terms": list(terms),
        "entity_keys": list(entity_keys),
        "entity_weights": list(entity_weights),
        "embedding": embedding,
        "match": match,
        "syndicated": syndicated,
        "assigned_at": func.clock_timestamp(),
    }
    stmt = pg_insert(StorySignature).values(article_id=article_id, **values)
    session.execute(stmt.on_conflict_do_update(index_elements=["article_id"], set_=values))
    session.execute(delete(StoryKey).where(StoryKey.article_id == article_id))
    if keys:
        session.execute(insert(StoryKey), [{"key": k, "at": at, "article_id": article_id} for k in keys])


def create_story(session: Session) -> int:
    return int(session.execute(insert(Story).values(label="").returning(Story.id)).scalar_one())


def story_members(session: Session, *, story_id: int) -> int:
    return int(session.scalar(select(func.count()).where(Article.story_id == story_id)) or 0)


def lock_stories(session: Session, *, story_ids: Sequence[int]) -> list[int]:
    """Lock the stories' rows in id order (no deadlock between assignments); the ids that exist."""
    ids = sorted(set(story_ids))
    if not ids:
        return []
    return list(
        session.scalars(select(Story.id).where(Story.id.in_(ids)).order_by(Story.id).with_for_update())
    )


_REFRESH = text(
    """
    WITH m AS (
        SELECT a.id, a.title, a.source, sg.at, sg.syndicated
        FROM articles a JOIN story_signatures sg ON sg.article_id = a.id
        WHERE a.story_id = :story_id
    ), agg AS (
        SELECT count(*) AS n,
               count(DISTINCT coalesce(source, '#' || id)) FILTER (WHERE NOT syndicated) AS sources,
               min(at) AS first_seen, max(at) AS last_seen
        FROM m
    ), label AS (
        SELECT title FROM m ORDER BY at, id LIMIT 1
    ), top AS (
        SELECT e.id, e.name, e.type, count(*) AS articles, sum(ae.salience) AS weight
        FROM article_entities ae JOIN m ON m.id = ae.article_id JOIN entities e ON e.id = ae.entity_id
        GROUP BY e.id, e.name, e.type
        ORDER BY sum(ae.salience) DESC, e.id
        LIMIT :top
    )
    UPDATE stories SET
        article_count = agg.n,
        source_count = greatest(agg.sources, least(agg.n, 1)),
        first_seen = agg.first_seen,
        last_seen = agg.last_seen,
        label = coalesce((SELECT title FROM label), ''),
        top_entities = coalesce(
            (SELECT jsonb_agg(jsonb_build_object('id', id, 'name', name, 'type', type, 'articles', articles)
                              ORDER BY weight DESC, id) FROM top),
            '[]'::jsonb),
        updated_at = now()
    FROM agg
    WHERE stories.id = :story_id
    RETURNING agg.n
    """
)


def refresh_story(session: Session, *, story_id: int, top_entities: int) -> int:
    """Recompute the story's counts, times, label and top entities from its members; a story left
    without members is deleted.  Returns the member count."""
    members = session.execute(_REFRESH, {"story_id": story_id, "top": top_entities}).scalar()
    if not members:
        session.execute(delete(Story).where(Story.id == story_id))
        return 0
    return int(members)


_story_at = func.coalesce(Article.published_at, Article.received_at, Article.created_at)


def story_time(session: Session, *, article_id: int) -> datetime | None:
    return session.scalar(select(_story_at).where(Article.id == article_id))


def articles_in_range(session: Session, *, since: datetime | None, until: datetime | None) -> list[Any]:
    """Enriched articles whose story time (published, else received) is in ``[since, until)``, in that
    time's order: ``(id, story_id, at)`` rows."""
    stmt = select(Article.id, Article.story_id, _story_at.label("at")).where(
        Article.status == ArticleStatus.ENRICHED
    )
    if since is not None:
        stmt = stmt.where(_story_at >= since)
    if until is not None:
        stmt = stmt.where(_story_at < until)
    return list(session.execute(stmt.order_by(_story_at, Article.id)))


def entities_of(session: Session, *, article_ids: Sequence[int]) -> dict[int, list[tuple[str, str, float]]]:
    """``(type, name, salience)`` of the stored entities of each article."""
    out: dict[int, list[tuple[str, str, float]]] = {i: [] for i in article_ids}
    if not article_ids:
        return out
    rows = session.execute(
        select(ArticleEntity.article_id, Entity.type, Entity.name, ArticleEntity.salience)
        .join(Entity, Entity.id == ArticleEntity.entity_id)
        .where(ArticleEntity.article_id.in_(article_ids))
    )
    for r in rows:
        out[r.article_id].append((r.type, r.name, r.salience))
    return out


def story_inputs(
    session: Session, *, article_ids: Sequence[int]
) -> dict[int, tuple[str, str, str | None, bytes | None]]:
    """``(title, text, language, stored embedding)`` of each article (the embedding its last signature
    kept: the enrich worker computes embeddings, a reassignment reuses them)."""
    rows = session.execute(
        select(Article.id, Article.title, Article.text, Article.language, StorySignature.embedding)
        .outerjoin(StorySignature, StorySignature.article_id == Article.id)
        .where(Article.id.in_(article_ids))
    )
    return {r.id: (r.title, r.text, r.language, r.embedding) for r in rows}

"""Read side of articles: filters, keyset pages, detail."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from services.api.articles import repository
from services.api.articles.repository import ArticleFilter, SearchQuery
from services.api.articles.schemas import (
    ARTICLE_FIELDS,
    MAX_QUERY_CHARS,
    MAX_VALUES,
    ArticleQuery,
    ArticleSort,
    ArticleStages,
    ArticleSummary,
    CountOut,
    EntityCountOut,
    ExportEnd,
    FacetsOut,
    RevisionList,
    RevisionOut,
    TopicCountOut,
    TopicOut,
)
from services.api.jsonbody import dumps
from services.api.limits import statement_timeout
from services.api.pagination import decode_cursor, encode_cursor
from shared.errors import InvalidCursor, NotFound, ValidationFailed
from shared.http import MAX_ROW_ID
from shared.models import Article, ArticleStatus
from shared.schemas import CleaningReport
from shared.settings import get_settings
from shared.textsearch import search_configs


def _check_range(name: str, start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and start >= end:
        raise ValidationFailed(f"{name}_from must be before {name}_to")


def _is_id(value: str) -> bool:
    """An entity id (ASCII digits: "³".isdigit() is true too), else a name."""
    return value.isascii() and value.isdigit()


def build_filter(*, session: Session, query: ArticleQuery) -> ArticleFilter:
    """Validate the parameters (422 with what is wrong) and resolve names to ids and codes."""
    for name in ("entity", "entity_type", "topic", "source", "language", "status"):
        if len(getattr(query, name)) > MAX_VALUES:
            raise ValidationFailed(f"at most {MAX_VALUES} values of {name!r}")
    valid_status = {s.value for s in ArticleStatus}
    bad = [s for s in query.status if s not in valid_status]
    if bad:
        raise ValidationFailed(f"unknown status {bad[0]!r}; one of {sorted(valid_status)}")
    q = query.q.strip() if query.q is not None else None
    search: SearchQuery | None = None
    if q is not None:
        if not q or len(q) > MAX_QUERY_CHARS:
            raise ValidationFailed(f"q must have 1 to {MAX_QUERY_CHARS} characters")
        languages = sorted({lang.lower() for lang in query.language})
        search = repository.parse_search(session, q=q, configs=search_configs(languages))
        if search is None:
            raise ValidationFailed(f"q {q!r} has no searchable word (only stop words or punctuation)")
    topic_codes: list[str] = []
    if query.topic:
        topic_codes = repository.topic_codes_matching(session, values=query.topic)
        if not topic_codes:
            raise ValidationFailed(
                f"unknown topic {list(query.topic)!r}; see GET /v1/topics for codes and labels"
            )
    _check_range("published", query.published_from, query.published_to)
    _check_range("ingested", query.ingested_from, query.ingested_to)
    too_large = [e for e in query.entity if _is_id(e) and int(e) > MAX_ROW_ID]
    if too_large:
        raise ValidationFailed(f"entity id {too_large[0]} is out of range")
    named = repository.entity_ids_named(session, names=[e for e in query.entity if not _is_id(e)])
    groups = [[int(e)] if _is_id(e) else named[e.lower()] for e in query.entity]
    if query.entity_mode == "any":
        groups = [g for g in groups if g] or groups[:1]  # an unknown name adds nothing; all unknown: none
    return ArticleFilter(
        q=q,
        search=search,
        entity_groups=groups,
        entity_mode=query.entity_mode,
        entity_types=sorted({t.upper() for t in query.entity_type}),
        topic_codes=sorted(topic_codes),
        min_topic_score=query.min_topic_score,
        sources=sorted(set(query.source)),
        languages=sorted({lang.lower() for lang in query.language}),
        statuses=sorted(set(query.status)),
        include_duplicates=query.include_duplicates,
        published_from=query.published_from,
        published_to=query.published_to,
        ingested_from=query.ingested_from,
        ingested_to=query.ingested_to,
        story_id=query.story,
    )


def _summary(article: Article, topics: list[tuple[str, str, float]]) -> ArticleSummary:
    return ArticleSummary(
        id=article.id,
        url=article.url,
        canonical_url=article.canonical_url,
        source=article.source,
        external_id=article.external_id,
        title=article.title,
        published_at=article.published_at,
        language=article.language,
        status=article.status,
        created_at=article.created_at,
        enriched_at=article.enriched_at,
        story_id=article.story_id,
        topics=[TopicOut(code=c, label=label, score=s) for c, label, s in topics],
    )


def _fingerprint(f: ArticleFilter) -> str:
    """A short digest of the filter: a cursor only continues the list it came from."""
    raw = json.dumps(asdict(f), sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:12]


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidCursor("the cursor is not one this API issued")
    return value


def _rows(
    *, session: Session, f: ArticleFilter, sort: ArticleSort, limit: int, cursor: str | None
) -> tuple[list[tuple[Row[Any], float | None]], str | None]:
    """One page of (summary row, rank) and the next cursor.  The first page pins the newest article id in
    its cursor: later pages read the same snapshot, so articles arriving meanwhile neither shift nor join
    it."""
    kind = f"{sort}.{_fingerprint(f)}"
    arity = 2 if sort == "ingested" else 3
    values = decode_cursor(cursor, kind=kind, arity=arity) if cursor else None
    snapshot = _int(values[-1]) if values else repository.max_article_id(session)
    pinned = replace(f, max_id=snapshot)
    rows: list[tuple[Row[Any], float | None]]
    scores: dict[int, float] = {}
    if sort == "ingested":
        before = _int(values[0]) if values else None
        rows = [
            (a, None) for a in repository.list_by_id(session, f=pinned, limit=limit + 1, before_id=before)
        ]
    elif sort == "published":
        after = None
        if values:
            try:
                after = (datetime.fromisoformat(values[0]), _int(values[1]))
            except (TypeError, ValueError) as exc:
                raise InvalidCursor("the cursor is not one this API issued") from exc
        found = repository.list_by_published(session, f=pinned, limit=limit + 1, after=after)
        rows = [(a, None) for a in found]
    else:
        if f.search is None:
            raise ValidationFailed("sort=relevance needs a search (q)")
        ranked_after = None
        if values:
            if not isinstance(values[0], int | float) or isinstance(values[0], bool):
                raise InvalidCursor("the cursor is not one this API issued")
            ranked_after = (float(values[0]), _int(values[1]))
        settings = get_settings()
        found_ranked = repository.list_by_relevance(
            session,
            f=pinned,
            search=f.search,
            window=settings.search_rank_window,
            limit=limit + 1,
            after=ranked_after,
            half_life_days=settings.search_half_life_days,
        )
        rows = [(a, float(a.rank)) for a in found_ranked]
        scores = {a.id: float(a.score) for a in found_ranked}
    page = rows[:limit]
    if len(rows) <= limit or not page:
        return page, None
    last, rank = page[-1]
    key: list[Any]
    if sort == "ingested":
        key = [last.id]
    elif sort == "published":
        key = [last.published_at.isoformat() if last.published_at else None, last.id]
    else:
        key = [scores[last.id], last.id]
    return page, encode_cursor(kind, [*key, snapshot])


_SUMMARY_KEYS = tuple(c.key for c in repository.SUMMARY)


def _topics_json(topics: list[tuple[str, str, float]]) -> list[dict[str, Any]]:
    return [{"code": c, "label": label, "score": s} for c, label, s in topics]


def summary_json(row: Row[Any], topics: list[tuple[str, str, float]]) -> dict[str, Any]:
    """An ArticleSummary as plain data, straight from a row of ``repository.SUMMARY`` columns."""
    item = dict(zip(_SUMMARY_KEYS, row, strict=False))
    item["topics"] = _topics_json(topics)
    return item


def list_articles(
    *,
    session: Session,
    f: ArticleFilter,
    sort: ArticleSort,
    limit: int,
    cursor: str | None,
    fields: Sequence[str] = (),
) -> dict[str, Any]:
    """A page (ArticlePage) as plain data for orjson, built from rows, not ORM objects and models:
    ``fields`` (validated) keeps only those fields of each item, plus id."""
    unknown = sorted(set(fields) - set(ARTICLE_FIELDS))
    if unknown:
        raise ValidationFailed(f"unknown field {unknown[0]!r} in fields; one of {list(ARTICLE_FIELDS)}")
    wanted = set(fields) | {"id"} if fields else set(ARTICLE_FIELDS)
    if f.q is None:
        page, next_cursor = _rows(session=session, f=f, sort=sort, limit=limit, cursor=cursor)
    else:
        with statement_timeout(session, what="the search"):
            page, next_cursor = _rows(session=session, f=f, sort=sort, limit=limit, cursor=cursor)
    ids = [a.id for a, _ in page]
    topics = repository.topics_for(session, article_ids=ids) if "topics" in wanted else {}
    snippets = (
        repository.headlines(session, article_ids=ids, search=f.search)
        if f.search is not None and "highlight" in wanted
        else {}
    )
    items = []
    for row, rank in page:
        item = summary_json(row, topics.get(row.id, []))
        item["rank"] = None if rank is None else round(rank, 6)  # the cursor keeps the exact value
        snippet = snippets.get(row.id)
        item["highlight"] = None if snippet is None else {"title": snippet[0], "text": snippet[1]}
        items.append(item if not fields else {k: v for k, v in item.items() if k in wanted})
    return {"items": items, "next_cursor": next_cursor}


def _utc_day(value: datetime | None) -> tuple[bool, date | None]:
    """(whether the bound is a UTC midnight or none, its day)."""
    if value is None:
        return True, None
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return utc == datetime.combine(utc.date(), time(), UTC), utc.date()


def exact_counts_answer(f: ArticleFilter) -> tuple[date | None, date | None] | None:
    """The day range when the precomputed counts answer this filter exactly (no search, entity, topic,
    status, story or ingest-time filter; a published range on UTC day boundaries), else None."""
    if (
        f.q is not None
        or f.entity_groups
        or f.entity_types
        or f.topic_codes
        or f.min_topic_score > 0
        or f.statuses
        or f.include_duplicates
        or f.story_id is not None
        or f.ingested_from is not None
        or f.ingested_to is not None
        or f.max_id is not None
    ):
        return None
    whole_from, day_from = _utc_day(f.published_from)
    whole_to, day_to = _utc_day(f.published_to)
    return (day_from, day_to) if whole_from and whole_to else None


def facets(*, session: Session, f: ArticleFilter, limit: int) -> FacetsOut:
    """Exact counts: summed from the counts the triggers keep when the filter allows it (a date range in
    whole UTC days, sources, languages), else counted over every match under the statement timeout."""
    days = exact_counts_answer(f)
    if days is not None:
        counts = repository.exact_facet_counts(
            session,
            day_from=days[0],
            day_to=days[1],
            sources=f.sources,
            languages=f.languages,
            limit=limit,
            entities_per_type=limit,
        )
        method: Literal["counts", "scan"] = "counts"
    else:
        with statement_timeout(session, what="counting the facets of this filter"):
            counts = repository.facet_counts(session, f=f, limit=limit, entities_per_type=limit)
        method = "scan"
    entities: dict[str, list[EntityCountOut]] = {}
    for e in counts.entities:
        entities.setdefault(e.type, []).append(EntityCountOut(id=e.id, name=e.name, count=e.count))
    return FacetsOut(
        matched=counts.matched,
        capped=False,
        method=method,
        topics=[TopicCountOut(code=t.code, label=t.label, count=t.count) for t in counts.topics],
        sources=[CountOut(value=c.value, count=c.count) for c in counts.sources],
        languages=[CountOut(value=c.value, count=c.count) for c in counts.languages],
        entities=entities,
    )


def pinned(*, session: Session, f: ArticleFilter) -> ArticleFilter:
    """The filter limited to the articles stored now."""
    return replace(f, max_id=repository.max_article_id(session))


def export_batch(*, session: Session, f: ArticleFilter, after_id: int) -> tuple[bytes, int | None, int]:
    """The next NDJSON lines (ExportItem) of an export after ``after_id``: (lines, last id or None when
    done, count)."""
    page = repository.list_after_id(session, f=f, limit=get_settings().export_chunk_size, after_id=after_id)
    if not page:
        return b"", None, 0
    ids = [a.id for a in page]
    topics = repository.topics_for(session, article_ids=ids)
    entities = repository.entity_rows_for(session, article_ids=ids)
    lines = []
    for row in page:
        item = summary_json(row, topics[row.id])
        item["text"] = row.text
        item["entities"] = [
            {"id": i, "name": name, "type": type_, "mention_count": n, "salience": sal}
            for i, name, type_, n, sal in entities[row.id]
        ]
        lines.append(dumps(item) + b"\n")
    return b"".join(lines), page[-1].id, len(page)


def export_end(*, count: int, last_id: int | None) -> bytes:
    return b'{"end":' + ExportEnd(count=count, last_id=last_id).model_dump_json().encode() + b"}\n"


def stages(article: Article) -> ArticleStages:
    return ArticleStages(
        published_at=article.published_at,
        received_at=article.received_at,
        cleaned_at=article.cleaned_at,
        stored_at=article.stored_at,
        queued_at=article.queued_at,
        enrich_started_at=article.enrich_started_at,
        enriched_at=article.enriched_at,
        failed_at=article.failed_at,
        available_after_s=_seconds(article.received_at, article.enriched_at),
        published_to_available_s=_seconds(article.published_at, article.enriched_at),
    )


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else round((end - start).total_seconds(), 3)


def _entity_json(row: Row[Any]) -> dict[str, Any]:
    surfaces = Counter(str(m["text"]) for m in row.mentions)
    return {
        "id": row.id,
        "name": row.name,
        "type": row.type,
        "mention_count": row.mention_count,
        "aliases": [{"alias": a, "count": n} for a, n in surfaces.most_common()],
        "salience": {
            "score": row.salience,
            "in_title": row.in_title,
            "in_lead": row.in_lead,
            "first_offset": row.first_offset,
        },
        "mentions": [
            {"field": m["field"], "start": m["start"], "end": m["end"], "text": m["text"]}
            for m in row.mentions
        ],
    }


def get_article(*, session: Session, article_id: int) -> dict[str, Any]:
    """An ArticleDetail as plain data for orjson, from one row of the article and its entities' rows."""
    row = repository.article_row(session, article_id=article_id)
    if row is None:
        raise NotFound(f"article {article_id} does not exist")
    topics = repository.topics_for(session, article_ids=[row.id])[row.id]
    cleaning = CleaningReport.from_json(row.cleaning)
    item = summary_json(row, topics)
    item.update(
        text=row.text,
        authors=list(row.authors or []),
        site_name=row.site_name,
        modified_at=row.modified_at,
        language_confidence=row.language_confidence,
        error=row.error,
        model_versions=row.model_versions,
        entities=[_entity_json(e) for e in repository.entity_details_for(session, article_id=row.id)],
        keyphrases=[{"phrase": k["phrase"], "score": k["score"]} for k in row.keyphrases or []],
        removed=[{"text": r.text, "reason": r.reason} for r in cleaning.removed],
        extraction_confidence=cleaning.confidence,
        extraction_flags=list(cleaning.flags),
        raw_format=row.raw_format,
        stages={
            "published_at": row.published_at,
            "received_at": row.received_at,
            "cleaned_at": row.cleaned_at,
            "stored_at": row.stored_at,
            "queued_at": row.queued_at,
            "enrich_started_at": row.enrich_started_at,
            "enriched_at": row.enriched_at,
            "failed_at": row.failed_at,
            "available_after_s": _seconds(row.received_at, row.enriched_at),
            "published_to_available_s": _seconds(row.published_at, row.enriched_at),
        },
        revision_count=row.revision,
        duplicate=None
        if row.duplicate_of is None
        else {
            "duplicate_of": row.duplicate_of,
            "method": row.duplicate_method,
            "score": row.duplicate_score,
            "reason": row.dedup_reason,
        },
        duplicate_count=row.duplicates,
    )
    return item


def list_revisions(*, session: Session, article_id: int) -> RevisionList:
    """The article's revisions, oldest first; an article never revised has one, its current text."""
    article = repository.get_article(session, article_id=article_id)
    if article is None:
        raise NotFound(f"article {article_id} does not exist")
    rows = repository.revisions_of(session, article_id=article.id)
    revisions = [
        RevisionOut(
            revision=r.revision,
            title=r.title,
            text=r.text,
            content_hash=r.content_hash,
            created_at=r.created_at,
            diff=r.diff,
        )
        for r in rows
    ] or [
        RevisionOut(
            revision=article.revision,
            title=article.title,
            text=article.text,
            content_hash=article.content_hash,
            created_at=article.stored_at or article.created_at,
            diff=None,
        )
    ]
    return RevisionList(article_id=article.id, revisions=revisions)

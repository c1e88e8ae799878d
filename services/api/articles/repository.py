"""All SQL of the article read side: one filter layer shared by lists, search and facets."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Double,
    Select,
    Text,
    any_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, load_only
from sqlalchemy.sql.elements import BindParameter

from services.api.articles.schemas import EntityMode
from shared.models import (
    Article,
    ArticleEntity,
    ArticleRevision,
    ArticleStatus,
    ArticleTopic,
    Entity,
    EntityAlias,
    Topic,
)

# what a list item shows (not the body, the raw input or the cleaning report), in the answer's order
SUMMARY = (
    Article.id, Article.url, Article.canonical_url, Article.source, Article.external_id, Article.title,
    Article.published_at, Article.language, Article.status, Article.created_at, Article.enriched_at,
    Article.story_id,
)  # fmt: skip
SUMMARY_COLUMNS = load_only(*SUMMARY, raiseload=True)  # the same, as ORM objects (stream, webhooks)
# and what the detail shows besides
DETAIL = (
    *SUMMARY, Article.text, Article.authors, Article.site_name, Article.modified_at,
    Article.language_confidence, Article.error, Article.model_versions, Article.keyphrases, Article.cleaning,
    Article.raw_format, Article.received_at, Article.cleaned_at, Article.stored_at, Article.queued_at,
    Article.enrich_started_at, Article.failed_at, Article.revision, Article.duplicate_of,
    Article.duplicate_method, Article.duplicate_score, Article.dedup_reason,
)  # fmt: skip
HEADLINE_MAX_CHARS = 50_000  # snippets are cut from the start of the body (ts_headline reads it all)
HEADLINE_OPTIONS = (
    "StartSel=<b>, StopSel=</b>, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter= … "
)


@dataclass(frozen=True, slots=True)
class ValueCount:
    """A source's or a language's article count (value None: articles without one)."""

    value: str | None
    count: int


@dataclass(frozen=True, slots=True)
class TopicCount:
    code: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class EntityCount:
    id: int
    name: str
    type: str
    count: int


@dataclass(frozen=True, slots=True)
class FacetCounts:
    """What the facet queries count: the matches, and the top values of each facet."""

    matched: int = 0
    sources: list[ValueCount] = field(default_factory=list)
    languages: list[ValueCount] = field(default_factory=list)
    topics: list[TopicCount] = field(default_factory=list)
    entities: list[EntityCount] = field(default_factory=list)

    @classmethod
    def from_rows(cls, rows: Iterable[Row[Any]]) -> FacetCounts:
        """From the rows of a facet statement, (facet, value, label, id, n) by name: facet 'matched',
        'source', 'language', 'topic' (value: code, label: label) or 'entity' (value: name, label: type)."""
        matched = 0
        sources: list[ValueCount] = []
        languages: list[ValueCount] = []
        topics: list[TopicCount] = []
        entities: list[EntityCount] = []
        for row in rows:
            n = int(row.n)
            if row.facet == "matched":
                matched = n
            elif row.facet == "source":
                sources.append(ValueCount(value=row.value, count=n))
            elif row.facet == "language":
                languages.append(ValueCount(value=row.value, count=n))
            elif row.facet == "topic":
                topics.append(TopicCount(code=row.value, label=row.label, count=n))
            else:
                entities.append(EntityCount(id=row.id, name=row.value, type=row.label, count=n))
        return cls(matched=matched, sources=sources, languages=languages, topics=topics, entities=entities)


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    """What the caller asked for, resolved to ids and codes.  ``entity_groups``: one group of entity ids
    per requested entity (a name may name several entities, e.g. "Georgia" the GPE and the PERSON)."""

    q: str | None = None
    search: SearchQuery | None = None  # q parsed with each configuration searched (parse_search)
    entity_groups: Sequence[Sequence[int]] = ()
    entity_mode: EntityMode = "all"
    entity_types: Sequence[str] = ()
    topic_codes: Sequence[str] = ()
    min_topic_score: float = 0.0
    sources: Sequence[str] = ()
    languages: Sequence[str] = ()
    statuses: Sequence[str] = ()
    include_duplicates: bool = False
    published_from: datetime | None = None
    published_to: datetime | None = None
    story_id: int | None = None
    ingested_from: datetime | None = None
    ingested_to: datetime | None = None
    max_id: int | None = None  # the snapshot a cursor pins: articles stored after the first page are out


_PREFIX = re.compile(r"(?<![\w*])(-?)([^\W_]+)\*(?![\w*])")


def split_prefixes(q: str) -> tuple[str, list[tuple[bool, str]]]:
    """The web-search part of ``q`` and its prefix terms, ``word*`` (``-word*``: excluded), outside quotes:
    ``'"central bank" infla* -crypt*'`` -> ``('"central bank"', [(False, "infla"), (True, "crypt")])``."""
    parts = q.split('"')
    prefixes: list[tuple[bool, str]] = []
    for i in range(0, len(parts), 2):  # even parts are outside quotes
        prefixes.extend((m.group(1) == "-", m.group(2)) for m in _PREFIX.finditer(parts[i]))
        parts[i] = _PREFIX.sub(" ", parts[i])
    return '"'.join(parts).strip(), prefixes


_NEGATION = re.compile(r'(?<!\S)-("[^"]*"|[^\s"]+)')


def split_negations(q: str) -> tuple[str, list[str]]:
    """The web-search part of ``q`` without its exclusions, and the excluded words and "phrases" (``-word``,
    ``-"a phrase"``, outside quotes): ``'bank -"central bank" -crypto'`` -> ``('bank', ['"central bank"',
    'crypto'])``."""
    kept: list[str] = []
    negated: list[str] = []
    last = 0
    for m in _NEGATION.finditer(q):
        if q.count('"', 0, m.start()) % 2:  # inside a phrase
            continue
        kept.append(q[last : m.start()])
        negated.append(m.group(1))
        last = m.end()
    kept.append(q[last:])
    return " ".join(part.strip() for part in kept if part.strip()), negated


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A search parsed with each configuration searched: ``groups`` pairs the configurations (names) that
    parse it alike with that tsquery (text); an article matches the query of its own configuration."""

    groups: tuple[tuple[tuple[str, ...], str], ...]
    configs: tuple[str, ...]  # every configuration searched

    @property
    def any(self) -> str:
        """Matched by every article that matches its own configuration's query (and by a few more): the
        condition the GIN index answers."""
        queries = sorted({query for _, query in self.groups})
        return queries[0] if len(queries) == 1 else " | ".join(f"( {query} )" for query in queries)

    @property
    def uniform(self) -> bool:
        """One query for every configuration searched: ``any`` is exact."""
        return len(self.groups) == 1 and set(self.groups[0][0]) == set(self.configs)


def _and(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else " & ".join(f"( {part} )" for part in parts)


def parse_search(session: Session, *, q: str, configs: Sequence[str]) -> SearchQuery | None:
    """The search ``q`` (web-search syntax: words, "phrases", OR, -word, and prefix terms word*) parsed
    with each of ``configs`` (those this server has), in one statement; None when no configuration finds
    a searchable word in it (stop words or punctuation only).  Exclusions (``-word``, ``-"a phrase"``,
    ``-word*``) apply to the whole search; within a configuration, a part of stop words drops out, as
    ``websearch_to_tsquery`` drops them."""
    rest, prefixes = split_prefixes(q)
    positive, negated = split_negations(rest)
    parts: list[tuple[str, str, str]] = []  # (positive or not, function, text)
    if positive:
        parts.append(("yes", "web", positive))
    wanted = [word for excluded, word in prefixes if not excluded]
    if wanted:
        parts.append(("yes", "plain", " & ".join(f"{word}:*" for word in wanted)))
    parts.extend(("not", "web", phrase) for phrase in negated)
    parts.extend(("not", "plain", f"{word}:*") for excluded, word in prefixes if excluded)
    if not parts:
        return None
    rows = session.execute(
        text(
            "SELECT c.cfgname::text, k.part, (CASE WHEN k.fn = 'web' "
            "THEN websearch_to_tsquery(c.oid::regconfig, k.txt) "
            "ELSE to_tsquery(c.oid::regconfig, k.txt) END)::text "
            "FROM pg_ts_config c CROSS JOIN unnest(CAST(:parts AS text[]), CAST(:fns AS text[]), "
            "CAST(:txts AS text[])) WITH ORDINALITY AS k(part, fn, txt, n) "
            "WHERE c.cfgname = ANY(CAST(:configs AS text[])) ORDER BY 1, k.n"
        ),
        {
            "parts": [p[0] for p in parts],
            "fns": [p[1] for p in parts],
            "txts": [p[2] for p in parts],
            "configs": list(configs),
        },
    ).all()
    yes: dict[str, list[str]] = {}
    no: dict[str, list[str]] = {}
    for config, part, query in rows:
        yes.setdefault(config, [])
        no.setdefault(config, [])
        if query:
            (yes if part == "yes" else no)[config].append(query)
    by_query: dict[str, list[str]] = {}
    for config in yes:
        if yes[config] and no[config]:
            query = f"{_and(yes[config])} & !( {' | '.join(f'( {n} )' for n in no[config])} )"
        elif yes[config]:
            query = _and(yes[config])
        elif no[config] and not wanted and not positive:  # only exclusions: every other article
            query = "!( " + " | ".join(f"( {n} )" for n in no[config]) + " )"
        else:
            continue  # stop words only in this configuration: none of its articles matches
        by_query.setdefault(query, []).append(config)
    if not by_query:
        return None
    groups = tuple(sorted((tuple(sorted(cs)), query) for query, cs in by_query.items()))
    return SearchQuery(groups=groups, configs=tuple(sorted(yes)))


def _tsquery(tsquery: str) -> ColumnElement[Any]:
    """A tsquery text as a tsquery: one constant the planner sees (GIN, estimates)."""
    return cast(literal(tsquery, Text), TSQUERY)


def _article_config() -> ColumnElement[Any]:
    """The configuration an article is indexed with (migration 0024)."""
    return func.article_search_config(Article.language, Article.language_hint)


def _own_query(search: SearchQuery) -> ColumnElement[Any]:
    """Each article's query: the one of its own configuration (NULL: none, it cannot match)."""
    if search.uniform:
        return _tsquery(search.any)
    config = cast(_article_config(), Text)
    return case(
        *[
            (config == configs[0] if len(configs) == 1 else config.in_(configs), _tsquery(query))
            for configs, query in search.groups
        ],
        else_=null(),
    )


def search_matches(search: SearchQuery) -> list[ColumnElement[bool]]:
    """The article matches the search in its own configuration: the OR of every configuration's query
    (what the GIN index answers), then, when they differ, its own one (a row filter)."""
    where: list[ColumnElement[bool]] = [Article.search_tsv.bool_op("@@")(_tsquery(search.any))]
    if not search.uniform:
        where.append(Article.search_tsv.bool_op("@@")(_own_query(search)))
    return where


def conditions(f: ArticleFilter) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a filter, each one independent of the others (they AND together)."""
    where: list[ColumnElement[bool]] = []
    if f.search is not None:
        where.extend(search_matches(f.search))
    if f.entity_groups:
        if f.entity_mode == "all":
            where.extend(
                exists().where(ArticleEntity.article_id == Article.id, ArticleEntity.entity_id.in_(group))
                for group in f.entity_groups
            )
        else:
            ids = sorted({i for group in f.entity_groups for i in group})
            where.append(
                exists().where(ArticleEntity.article_id == Article.id, ArticleEntity.entity_id.in_(ids))
            )
    if f.entity_types:
        where.append(
            exists().where(
                ArticleEntity.article_id == Article.id,
                ArticleEntity.entity_id == Entity.id,
                Entity.type.in_(f.entity_types),
            )
        )
    if f.topic_codes:
        where.append(
            exists().where(
                ArticleTopic.article_id == Article.id,
                ArticleTopic.topic_code.in_(f.topic_codes),
                ArticleTopic.score >= f.min_topic_score,
            )
        )
    if f.sources:
        where.append(Article.source.in_(f.sources))
    if f.languages:
        where.append(Article.language.in_(f.languages))
    if f.statuses:
        where.append(Article.status.in_(f.statuses))
    elif not f.include_duplicates:
        where.append(Article.status != ArticleStatus.DUPLICATE)
    if f.story_id is not None:
        where.append(Article.story_id == f.story_id)
    if f.published_from is not None:
        where.append(Article.published_at >= f.published_from)
    if f.published_to is not None:
        where.append(Article.published_at < f.published_to)
    if f.ingested_from is not None:
        where.append(Article.created_at >= f.ingested_from)
    if f.ingested_to is not None:
        where.append(Article.created_at < f.ingested_to)
    if f.max_id is not None:
        where.append(Article.id <= f.max_id)
    return where


def _row(values: tuple[Any, int]) -> ColumnElement[Any]:
    """A (value, id) row to compare keyset columns with: (a, b) < (x, y), one index condition."""
    return tuple_(literal(values[0]), literal(values[1]))


def max_article_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(Article.id), 0))) or 0)


# --- newest first under a search: the planner cannot know how many articles it matches -----------------
# A word or a phrase may match half of the articles or none of them.  Asked for the
# newest few, the planner walks the id (or published) index backwards checking each row, betting it stops
# soon; when the filter matches (almost) nothing that walk reads the whole table: at a million articles a
# name that no article holds, or a phrase of two common words, ran into the 5 s timeout.  Instead the order
# is walked in windows, newest first, each window's matches computed whole (a MATERIALIZED CTE: no early
# stop to bet on), so a window costs at most its size and a rare word is answered from the GIN index: the
# same rows, in a bounded time.  The next window is sized by the matches found so far (twice what the rate
# seen predicts for the rows still missing; WINDOW_GROWTH times the last when none was found), and after
# WINDOWS of them the last one takes everything older.
WINDOW_FIRST = 4  # the first id window holds this many ids per row wanted
WINDOW_FIRST_HOURS = 1.0  # the first window of publication time
WINDOW_GROWTH = 16
WINDOWS = 5

Position = TypeVar("Position", int, datetime)
Span = TypeVar("Span", int, timedelta)


def walks_in_windows(f: ArticleFilter, *, order: Literal["id", "published"]) -> bool:
    """Whether to walk the order in windows: a search (the planner knows how common an entity or a topic
    is, not a word below the 1,000 most common, nor a phrase) and no range it can estimate (the range's
    index finds where the matches are, a walk from the newest would cross every window before them): no
    ingested range, and no published range in the id order (the published order starts its walk at the
    range's end)."""
    hard = f.q is not None
    ranged = f.ingested_from is not None or f.ingested_to is not None
    if order == "id":
        ranged = ranged or f.published_from is not None or f.published_to is not None
    return hard and not ranged


@dataclass(frozen=True, slots=True)
class Windows(Generic[Position, Span]):
    """A walk of an order from ``top`` back: ``between(low, high)`` is a window's condition (low included,
    high excluded), ``older(high)`` everything before ``high``; no window goes below ``floor``."""

    top: Position
    first: Span
    between: Callable[[Position, Position], ColumnElement[bool]]
    older: Callable[[Position], ColumnElement[bool]]
    floor: Position | None = None


def _next_size(size: Any, scanned: Any, found: int, missing: int) -> Any:
    grown = size * WINDOW_GROWTH
    if not found:
        return grown
    predicted = scanned * (2 * missing / found)
    if isinstance(size, int):
        predicted = math.ceil(predicted)
    return min(
        grown, max(predicted, size // WINDOW_GROWTH if isinstance(size, int) else size / WINDOW_GROWTH)
    )


def _windowed(
    session: Session,
    stmt: Select[Any],
    walk: Windows[Any, Any],
    *,
    limit: int,
    order: Callable[[Any], list[Any]],
) -> list[Row[Any]]:
    """The first ``limit`` rows of ``stmt`` in the order ``order`` (of its columns, newest first), read
    window by window (see above)."""
    rows: list[Row[Any]] = []
    high, size = walk.top, walk.first
    for n in range(WINDOWS + 1):
        try:
            low = high - size
        except OverflowError:  # a window of time reaching before year 1
            low = None
        last = n == WINDOWS or low is None or (walk.floor is not None and low <= walk.floor)
        window = walk.older(high) if last else walk.between(low, high)
        matches = stmt.where(window).cte("window_matches").prefix_with("MATERIALIZED")
        rows.extend(session.execute(select(matches).order_by(*order(matches.c)).limit(limit - len(rows))))
        if last or len(rows) >= limit:
            break
        size = _next_size(size, walk.top - low, len(rows), limit - len(rows))
        high = low
    return rows


def _by_id(top: int, limit: int) -> Windows[int, int]:
    return Windows(
        top=top + 1,
        first=WINDOW_FIRST * limit,
        between=lambda low, high: (Article.id >= low) & (Article.id < high),
        older=lambda high: Article.id < high,
        floor=1,
    )


def _top_id(f: ArticleFilter, before_id: int | None) -> int | None:
    tops = [t for t in (f.max_id, None if before_id is None else before_id - 1) if t is not None]
    return min(tops) if tops else None


def _newest_id_first(c: Any) -> list[Any]:
    return [c.id.desc()]


def list_by_id(session: Session, *, f: ArticleFilter, limit: int, before_id: int | None) -> list[Row[Any]]:
    """Newest ingested first: keyset on id (monotonic); summary rows (``SUMMARY``)."""
    top = _top_id(f, before_id)
    if walks_in_windows(f, order="id") and top is not None:
        stmt = select(*SUMMARY).where(*conditions(f))
        return _windowed(session, stmt, _by_id(top, limit), limit=limit, order=_newest_id_first)
    stmt = select(*SUMMARY).where(*conditions(f))
    if before_id is not None:
        stmt = stmt.where(Article.id < before_id)
    return list(session.execute(stmt.order_by(Article.id.desc()).limit(limit)))


def newest_match_ids(session: Session, *, f: ArticleFilter, limit: int) -> list[int]:
    """The ids of the ``limit`` newest matches of the filter (up to ``f.max_id``), newest first."""
    top = f.max_id if f.max_id is not None else max_article_id(session)
    stmt = select(Article.id).where(*conditions(f))
    return [r[0] for r in _windowed(session, stmt, _by_id(top, limit), limit=limit, order=_newest_id_first)]


def list_after_id(session: Session, *, f: ArticleFilter, limit: int, after_id: int) -> list[Row[Any]]:
    """Oldest stored first after ``after_id`` (the export's order: a consumer resumes from the last id);
    summary rows with the body."""
    stmt = select(*SUMMARY, Article.text).where(*conditions(f), Article.id > after_id)
    return list(session.execute(stmt.order_by(Article.id).limit(limit)))


def entity_rows_for(
    session: Session, *, article_ids: Sequence[int]
) -> dict[int, list[tuple[int, str, str, int, float]]]:
    """(id, name, type, mentions, salience) of each article's entities, most salient first."""
    out: dict[int, list[tuple[int, str, str, int, float]]] = {i: [] for i in article_ids}
    if not article_ids:
        return out
    rows = session.execute(
        select(
            ArticleEntity.article_id,
            Entity.id,
            Entity.name,
            Entity.type,
            ArticleEntity.mention_count,
            ArticleEntity.salience,
        )  # fmt: skip
        .join(Entity, Entity.id == ArticleEntity.entity_id)
        .where(ArticleEntity.article_id.in_(article_ids))
        .order_by(ArticleEntity.article_id, ArticleEntity.salience.desc(), Entity.id)
    )
    for r in rows:
        out[r[0]].append((r[1], r[2], r[3], r[4], r[5]))
    return out


def list_by_published(
    session: Session, *, f: ArticleFilter, limit: int, after: tuple[datetime, int] | None
) -> list[Row[Any]]:
    """Newest published first, ties by id; articles without a date are not in this order."""
    stmt = select(*SUMMARY).where(*conditions(f), Article.published_at.is_not(None))
    if after is not None:
        stmt = stmt.where(
            tuple_(Article.published_at, Article.id) < tuple_(literal(after[0]), literal(after[1]))
        )
    if walks_in_windows(f, order="published"):
        newest = after[0] if after is not None else session.scalar(select(func.max(Article.published_at)))
        if newest is None:
            return []
        top = newest if f.published_to is None else min(newest, f.published_to)
        walk: Windows[datetime, timedelta] = Windows(
            top=top + timedelta(microseconds=1),
            first=timedelta(hours=WINDOW_FIRST_HOURS),
            between=lambda low, high: (Article.published_at >= low) & (Article.published_at < high),
            older=lambda high: Article.published_at < high,
        )

        def order(c: Any) -> list[Any]:
            return [c.published_at.desc(), c.id.desc()]

        return _windowed(session, stmt, walk, limit=limit, order=order)
    return list(session.execute(stmt.order_by(Article.published_at.desc(), Article.id.desc()).limit(limit)))


def list_by_relevance(
    session: Session,
    *,
    f: ArticleFilter,
    search: SearchQuery,
    window: int,
    limit: int,
    after: tuple[float, int] | None,
    half_life_days: float,
) -> list[Row[Any]]:
    """Best score first, ties by id, among the ``window`` newest matches: the ranking reads each
    candidate's vector, and the window bounds that work when a common word matches most of the corpus
    (the newest matches are found window by window, ``newest_match_ids``; never a rank of every match).
    Summary rows with ``rank`` (ts_rank_cd) and ``score``, the sort key: ln(rank) plus a recency prior,
    ln 2 per ``half_life_days`` of publication (or storage) time, counted from a fixed epoch so that it
    does not change between two pages."""
    ts_rank = func.ts_rank_cd(Article.search_tsv, _own_query(search))
    days = func.extract("epoch", func.coalesce(Article.published_at, Article.created_at)) / 86400.0
    # as double precision the score survives the JSON of the cursor exactly
    score = cast(func.ln(ts_rank + 1e-6) + days * (math.log(2) / half_life_days), Double)
    found = select(Article.id.label("id"), cast(ts_rank, Double).label("rank"), score.label("score"))
    if walks_in_windows(f, order="id"):
        newest = newest_match_ids(session, f=f, limit=window)
        found = found.where(Article.id == any_(bindparam("candidates", newest, type_=ARRAY(BigInteger))))
    else:
        found = found.where(*conditions(f)).order_by(Article.id.desc()).limit(window)
    candidates = found.subquery()
    stmt = select(*SUMMARY, candidates.c.rank, candidates.c.score).join(
        candidates, candidates.c.id == Article.id
    )
    if after is not None:
        stmt = stmt.where(
            tuple_(candidates.c.score, candidates.c.id) < tuple_(literal(after[0]), literal(after[1]))
        )
    return list(
        session.execute(stmt.order_by(candidates.c.score.desc(), candidates.c.id.desc()).limit(limit))
    )


def headlines(
    session: Session, *, article_ids: Sequence[int], search: SearchQuery
) -> dict[int, tuple[str, str]]:
    """(title, body) snippets with the matches in <b>…</b>, for the page's rows only."""
    if not article_ids:
        return {}
    query = _own_query(search)
    config = _article_config()  # the article's own: its words stemmed as in its vector
    rows = session.execute(
        select(
            Article.id,
            func.ts_headline(config, Article.title, query, "HighlightAll=true"),
            func.ts_headline(config, func.left(Article.text, HEADLINE_MAX_CHARS), query, HEADLINE_OPTIONS),
        ).where(Article.id.in_(article_ids))
    )
    return {r[0]: (r[1], r[2]) for r in rows}


def topics_for(session: Session, *, article_ids: Sequence[int]) -> dict[int, list[tuple[str, str, float]]]:
    out: dict[int, list[tuple[str, str, float]]] = {i: [] for i in article_ids}
    if not article_ids:
        return out
    rows = session.execute(
        select(ArticleTopic.article_id, Topic.code, Topic.label, ArticleTopic.score)
        .join(Topic, Topic.code == ArticleTopic.topic_code)
        .where(ArticleTopic.article_id.in_(article_ids))
        .order_by(ArticleTopic.article_id, ArticleTopic.score.desc())
    )
    for r in rows:
        out[r.article_id].append((r.code, r.label, r.score))
    return out


def get_article(session: Session, *, article_id: int) -> Article | None:
    return session.get(Article, article_id)


def article_row(session: Session, *, article_id: int) -> Row[Any] | None:
    """The detail's columns of one article (``DETAIL``) and its duplicate count, in one statement."""
    duplicates = (
        select(func.count()).where(Article.duplicate_of == article_id).scalar_subquery().label("duplicates")
    )
    return session.execute(select(*DETAIL, duplicates).where(Article.id == article_id)).first()


def entity_details_for(session: Session, *, article_id: int) -> list[Row[Any]]:
    """The article's entities with their mention data, most salient first."""
    return list(
        session.execute(
            select(
                Entity.id,
                Entity.name,
                Entity.type,
                ArticleEntity.mention_count,
                ArticleEntity.mentions,
                ArticleEntity.salience,
                ArticleEntity.in_title,
                ArticleEntity.in_lead,
                ArticleEntity.first_offset,
            )  # fmt: skip
            .join(ArticleEntity, ArticleEntity.entity_id == Entity.id)
            .where(ArticleEntity.article_id == article_id)
            .order_by(ArticleEntity.salience.desc(), ArticleEntity.mention_count.desc(), Entity.name)
        )
    )


def entities_for(session: Session, *, article_id: int) -> list[tuple[Entity, ArticleEntity]]:
    rows = session.execute(
        select(Entity, ArticleEntity)
        .join(ArticleEntity, ArticleEntity.entity_id == Entity.id)
        .where(ArticleEntity.article_id == article_id)
        .order_by(ArticleEntity.salience.desc(), ArticleEntity.mention_count.desc(), Entity.name)
    )
    return [(r[0], r[1]) for r in rows]


def topic_codes_matching(session: Session, *, values: Sequence[str]) -> list[str]:
    """Topic filter values may be codes or labels (case-insensitive)."""
    lowered = [v.lower() for v in values]
    rows = session.scalars(select(Topic.code).where(or_(Topic.code.in_(values), Topic.label.in_(lowered))))
    return list(rows)


def revisions_of(session: Session, *, article_id: int) -> list[ArticleRevision]:
    return list(
        session.scalars(
            select(ArticleRevision)
            .where(ArticleRevision.article_id == article_id)
            .order_by(ArticleRevision.revision)
        )
    )


def count_duplicates_of(session: Session, *, article_id: int) -> int:
    return session.scalar(select(func.count()).where(Article.duplicate_of == article_id)) or 0


def entity_ids_named(session: Session, *, names: Sequence[str]) -> dict[str, list[int]]:
    """Entity ids per name: the canonical name or any alias seen, exact and case-insensitive."""
    lowered = sorted({n.lower() for n in names})
    out: dict[str, list[int]] = {n: [] for n in lowered}
    if not lowered:
        return out
    by_name = select(func.lower(Entity.name).label("key"), Entity.id.label("id")).where(
        func.lower(Entity.name).in_(lowered)
    )
    by_alias = select(func.lower(EntityAlias.alias).label("key"), EntityAlias.entity_id.label("id")).where(
        func.lower(EntityAlias.alias).in_(lowered)
    )
    for key, entity_id in session.execute(by_name.union(by_alias)):
        out[key].append(entity_id)
    return out


def facet_counts(session: Session, *, f: ArticleFilter, limit: int, entities_per_type: int) -> FacetCounts:
    """Counts by topic, source, language and the top entities per type over every match of the filter,
    in one statement (the matches are read once): what facets fall back to when the filter is not one the
    precomputed counts answer (run it under a statement timeout)."""
    sample = (
        select(Article.id.label("id"), Article.source.label("source"), Article.language.label("language"))
        .where(*conditions(f))
        .cte("sample")
    )
    found = sample
    in_sample = select(sample.c.id)
    n = func.count().label("n")

    def top(facet: str, value: Any, label: Any, id_: Any, stmt: Select[Any], order: Any) -> Select[Any]:
        ranked = func.row_number().over(order_by=(n.desc(), order)).label("rank")
        inner = stmt.add_columns(
            literal(facet).label("facet"),
            value.label("value"),
            label.label("label"),
            id_.label("id"),
            n,
            ranked,
        ).subquery()
        return select(inner.c.facet, inner.c.value, inner.c.label, inner.c.id, inner.c.n).where(
            inner.c.rank <= limit
        )

    nothing = literal(None, Text)
    no_id = literal(None, BigInteger)
    sources = top(
        "source", sample.c.source, nothing, no_id,
        select().select_from(sample).group_by(sample.c.source), sample.c.source,
    )  # fmt: skip
    languages = top(
        "language", sample.c.language, nothing, no_id,
        select().select_from(sample).group_by(sample.c.language), sample.c.language,
    )  # fmt: skip
    topics = top(
        "topic", Topic.code, Topic.label, no_id,
        select()
        .select_from(ArticleTopic)
        .join(Topic, Topic.code == ArticleTopic.topic_code)
        .where(ArticleTopic.article_id.in_(in_sample), ArticleTopic.score >= f.min_topic_score)
        .group_by(Topic.code, Topic.label),
        Topic.code,
    )  # fmt: skip
    per_entity = (
        select(ArticleEntity.entity_id.label("entity_id"), func.count().label("n"))
        .where(ArticleEntity.article_id.in_(in_sample))
        .group_by(ArticleEntity.entity_id)
        .subquery()
    )
    ranked = (
        select(
            Entity.id,
            Entity.name,
            Entity.type,
            per_entity.c.n,
            func.row_number()
            .over(partition_by=Entity.type, order_by=(per_entity.c.n.desc(), Entity.id))
            .label("rank"),
        )
        .join(per_entity, per_entity.c.entity_id == Entity.id)
        .subquery()
    )
    entities = select(
        literal("entity").label("facet"), ranked.c.name, ranked.c.type, ranked.c.id, ranked.c.n
    ).where(ranked.c.rank <= entities_per_type)
    matched = select(  # the union's first statement names its columns
        literal("matched").label("facet"),
        nothing.label("value"),
        nothing.label("label"),
        no_id.label("id"),
        select(func.count()).select_from(found).scalar_subquery().label("n"),
    )
    counts = FacetCounts.from_rows(session.execute(union_all(matched, sources, languages, topics, entities)))
    counts.sources.sort(key=lambda c: (-c.count, str(c.value)))  # str: None (no source) as "None"
    counts.languages.sort(key=lambda c: (-c.count, str(c.value)))
    counts.topics.sort(key=lambda c: (-c.count, c.label, c.code))
    counts.entities.sort(key=lambda c: (-c.count, c.type, c.name))
    return counts


# --- exact facets from the counts the triggers keep (migrations 0016, 0023) ------------------------

# the planner settings of the exact facet statement: its aggregates hash tens of thousands of keys (in
# memory, not on disk), in one process (a parallel plan hashed every key in each worker, then sorted and
# merged them: twice the time), and its joins with per-key sums hash (the planner cannot estimate how many
# keys a sum yields; a nested loop probed the entities index once per key)
FACET_PLANNER = {"work_mem": "32MB", "max_parallel_workers_per_gather": "0", "enable_nestloop": "off"}
MAX_LISTED_DAYS = 400  # a source filter over at most this many days reads each (day, source) directly
FACET_HEAD_PER_TYPE = 100  # entities ranked first, per entity wanted per type (see _EXACT_FACETS)

# ``{alls}``: the 'all' rows (columns source, language, n); ``{topics}``, ``{entities}``: the rows of that
# dim (key, n)
_EXACT_FACETS = """
WITH alls AS ({alls}),
topic_counts AS (
    SELECT key, sum(n)::bigint AS n FROM ({topics}) t GROUP BY key HAVING sum(n) > 0
),
entity_counts AS MATERIALIZED (
    SELECT key::bigint AS id, sum(n)::bigint AS n FROM ({entities}) e GROUP BY key HAVING sum(n) > 0
),
-- the top per type without joining every counted entity to its type and sorting them all: the :head most
-- counted (ties included) are joined first; a type with :per_type of them has its top among them (any
-- other entity counts less); only the types with fewer are read in full
floor AS (SELECT coalesce(min(n), 0) AS n FROM (SELECT n FROM entity_counts ORDER BY n DESC LIMIT :head) t),
head AS (
    SELECT e.id, e.name, e.type, k.n FROM entity_counts k JOIN entities e ON e.id = k.id
     WHERE k.n >= (SELECT n FROM floor)
),
dense AS (SELECT type FROM head GROUP BY type HAVING count(*) >= :per_type),
entity_ranked AS (
    SELECT id, name, type, n, row_number() OVER (PARTITION BY type ORDER BY n DESC, id) AS rank
      FROM (
        SELECT id, name, type, n FROM head
        UNION ALL
        SELECT e.id, e.name, e.type, k.n FROM entity_counts k JOIN entities e ON e.id = k.id
         WHERE k.n < (SELECT n FROM floor) AND e.type NOT IN (SELECT type FROM dense)
      ) c
)
SELECT 'matched' AS facet, NULL AS value, NULL AS label, NULL::bigint AS id, coalesce(sum(n), 0)::bigint AS n
  FROM alls
UNION ALL
(SELECT 'source', nullif(source, ''), NULL, NULL, sum(n)::bigint FROM alls GROUP BY source
  HAVING sum(n) > 0 ORDER BY sum(n) DESC, source LIMIT :limit)
UNION ALL
(SELECT 'language', nullif(language, ''), NULL, NULL, sum(n)::bigint FROM alls GROUP BY language
  HAVING sum(n) > 0 ORDER BY sum(n) DESC, language LIMIT :limit)
UNION ALL
(SELECT 'topic', t.code, t.label, NULL, k.n FROM topic_counts k JOIN topics t ON t.code = k.key
  ORDER BY k.n DESC, t.code LIMIT :limit)
UNION ALL
SELECT 'entity', name, type, id, n FROM entity_ranked WHERE rank <= :per_type
"""


@contextmanager
def planner_settings(session: Session, values: dict[str, str]) -> Iterator[None]:
    """The block's statements run with these settings (``SET LOCAL``); the previous values are put back
    after it (one round trip each way)."""
    names = {f"n{i}": name for i, name in enumerate(values)}
    new = {f"v{i}": value for i, value in enumerate(values.values())}
    set_all = ", ".join(f"current_setting(:n{i}), set_config(:n{i}, :v{i}, true)" for i in range(len(names)))
    row = session.execute(text(f"SELECT {set_all}"), {**names, **new}).one()
    yield
    restore = ", ".join(f"set_config(:n{i}, :p{i}, true)" for i in range(len(names)))
    previous = {f"p{i}": row[2 * i] for i in range(len(names))}
    session.execute(text(f"SELECT {restore}"), {**names, **previous})


def _month_after(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def rollup_periods(day_from: date, day_to: date) -> dict[str, list[date]]:
    """[day_from, day_to) as the fewest rollup periods (migration 0023): the whole calendar months in
    it, then the whole ISO weeks (Monday first) of what is left on either side, then single days."""
    periods: dict[str, list[date]] = {"m": [], "w": [], "d": []}
    first = day_from if day_from.day == 1 else _month_after(day_from)
    month = first
    while month < day_to and _month_after(month) <= day_to:
        periods["m"].append(month)
        month = _month_after(month)
    edges = [(day_from, first), (month, day_to)] if periods["m"] else [(day_from, day_to)]
    for start, end in edges:
        day = start
        while day < end:
            if day.weekday() == 0 and day + timedelta(days=7) <= end:
                periods["w"].append(day)
                day += timedelta(days=7)
            else:
                periods["d"].append(day)
                day += timedelta(days=1)
    return periods


def _counted(dim: str, where: str, delta_where: str) -> str:
    """The rows of ``dim`` in facet_counts and the pending deltas: (source, language, n) for 'all', else
    (key, n)."""
    columns = "source, language, n" if dim == "all" else "key, n"
    return (
        f"SELECT {columns} FROM facet_counts WHERE dim = '{dim}' AND {where} UNION ALL "
        f"SELECT {columns} FROM facet_deltas WHERE dim = '{dim}' AND {delta_where}"
    )


def _rolled(dim: str, lang: str, delta_where: str) -> str:
    """The (key, n) rows of ``dim`` in the rollups of the periods ``:periods_m``, ``:periods_w`` and
    ``:periods_d``, and the pending deltas."""
    return " UNION ALL ".join(
        [
            f"SELECT key, n FROM facet_rollups WHERE grain = '{grain}' AND period = ANY(:periods_{grain}) "
            f"AND dim = '{dim}'{lang}"
            for grain in ("m", "w", "d")
        ]
        + [f"SELECT key, n FROM facet_deltas WHERE dim = '{dim}' AND {delta_where}"]
    )


def _day_bounds(session: Session) -> tuple[date, date] | None:
    """The first and last publication day folded into the counts (None: no dated article)."""
    row = session.execute(
        text(
            "SELECT min(day), max(day) FROM facet_counts "
            "WHERE dim = 'all' AND day > '-infinity'::date AND day < 'infinity'::date"
        )
    ).one()
    return None if row[0] is None else (row[0], row[1])


def exact_facet_counts(
    session: Session,
    *,
    day_from: date | None,
    day_to: date | None,
    sources: Sequence[str],
    languages: Sequence[str],
    limit: int,
    entities_per_type: int,
) -> FacetCounts:
    """The facets of every non-duplicate article published in [day_from, day_to) (UTC days; no bound:
    all, undated ones too), of these sources and languages ("" stands for none), summed from the
    counts, exact; the same shape as ``facet_counts``.  Reads: the all-time totals without dates; the
    day, week and month rollups of the topic and entity counts for a date range without a source filter;
    the counts per day and source with one; and always the pending deltas."""
    params: dict[str, Any] = {
        "limit": limit, "per_type": entities_per_type, "head": entities_per_type * FACET_HEAD_PER_TYPE
    }  # fmt: skip
    binds: list[BindParameter[Any]] = []
    src = lang = ""
    if sources:
        params["sources"] = list(sources)
        binds.append(bindparam("sources", expanding=True))
        src = " AND source IN :sources"
    if languages:
        params["languages"] = list(languages)
        binds.append(bindparam("languages", expanding=True))
        lang = " AND language IN :languages"

    if day_from is None and day_to is None and not (sources and languages):
        # the all-time totals: 'all' per source and language, topics and entities per source or language
        inf = "day = 'infinity'::date"
        if sources:
            keyed = f"{inf}{src} AND language = '*'"
        elif languages:
            keyed = f"{inf}{lang} AND source = '*'"
        else:
            keyed = f"{inf} AND source = '*' AND language = '*'"
        every = f"{inf}{src}{lang}"
        parts = {"all": _counted("all", every, every)}
        parts.update({dim: _counted(dim, keyed, keyed) for dim in ("topic", "entity")})
    else:
        ranged = ["day < 'infinity'::date"]
        if day_from is not None or day_to is not None:
            ranged.append("day > '-infinity'::date")
        if day_from is not None:
            ranged.append("day >= :day_from")
            params["day_from"] = day_from
        if day_to is not None:
            ranged.append("day < :day_to")
            params["day_to"] = day_to
        in_range = " AND ".join(ranged) + src + lang
        parts = {"all": _counted("all", in_range, in_range)}
        if (
            sources
            and day_from is not None
            and day_to is not None
            and (day_to - day_from).days <= MAX_LISTED_DAYS
        ):
            # each (day, source) read directly from the index, not every source's rows of the range
            params["days"] = [day_from + timedelta(days=i) for i in range((day_to - day_from).days)]
            by_day = f"day = ANY(:days){src}{lang}"
            parts.update({dim: _counted(dim, by_day, in_range) for dim in ("topic", "entity")})
        elif sources:
            parts.update({dim: _counted(dim, in_range, in_range) for dim in ("topic", "entity")})
        else:
            bounds = _day_bounds(session) if day_from is None or day_to is None else (day_from, day_to)
            periods: dict[str, list[date]] = {"m": [], "w": [], "d": []}
            if bounds is not None:
                first = max(day_from or date.min, bounds[0])
                periods = rollup_periods(first, min(day_to or date.max, bounds[1] + timedelta(days=1)))
            params.update({f"periods_{grain}": values for grain, values in periods.items()})
            parts.update({dim: _rolled(dim, lang, in_range) for dim in ("topic", "entity")})
    stmt = text(
        _EXACT_FACETS.format(alls=parts["all"], topics=parts["topic"], entities=parts["entity"])
    ).bindparams(*binds)
    with planner_settings(session, FACET_PLANNER):
        counts = FacetCounts.from_rows(session.execute(stmt, params).all())
    counts.entities.sort(key=lambda c: (-c.count, c.type, c.id))
    return counts

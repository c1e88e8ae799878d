"""Read side of articles: filters, keyset pages, detail."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from services.api.articles import repository
from services.api.articles.repository import ArticleFilter
from services.api.articles.schemas import (
    ArticleAliasOut,
    ArticleDetail,
    ArticleEntityOut,
    ArticlePage,
    ArticleSort,
    ArticleStages,
    ArticleSummary,
    DuplicateOut,
    KeyphraseOut,
    MentionOut,
    RemovedOut,
    RevisionList,
    RevisionOut,
    SalienceOut,
    TopicOut,
)
from services.api.pagination import decode_cursor, encode_cursor
from shared.errors import InvalidCursor, NotFound, ValidationFailed
from shared.models import Article, ArticleEntity, ArticleStatus, Entity


def build_filter(
    *,
    session: Session,
    entity: Sequence[str],
    topic: Sequence[str],
    min_topic_score: float,
    source: Sequence[str],
    language: Sequence[str],
    status: Sequence[str],
    published_from: datetime | None,
    published_to: datetime | None,
    story: int | None = None,
) -> ArticleFilter:
    valid_status = {s.value for s in ArticleStatus}
    bad = [s for s in status if s not in valid_status]
    if bad:
        raise ValidationFailed(f"unknown status {bad[0]!r}; one of {sorted(valid_status)}")
    topic_codes: list[str] = []
    if topic:
        topic_codes = repository.topic_codes_matching(session, values=topic)
        if not topic_codes:
            raise ValidationFailed(f"unknown topic {list(topic)!r}; see GET /v1/topics for codes and labels")
    if published_from and published_to and published_from >= published_to:
        raise ValidationFailed("published_from must be before published_to")
    return ArticleFilter(
        entity_ids=[int(e) for e in entity if e.isdigit()],
        entity_names=[e for e in entity if not e.isdigit()],
        topic_codes=topic_codes,
        min_topic_score=min_topic_score,
        sources=list(source),
        languages=list(language),
        statuses=list(status),
        published_from=published_from,
        published_to=published_to,
        story_id=story,
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


def list_articles(
    *, session: Session, f: ArticleFilter, sort: ArticleSort, limit: int, cursor: str | None
) -> ArticlePage:
    if sort == "ingested":
        before_id = None
        if cursor:
            (before_id,) = decode_cursor(cursor, kind="ingested", arity=1)
            if not isinstance(before_id, int):
                raise InvalidCursor("the cursor is not one this API issued")
        rows = repository.list_articles_by_id(session, f=f, limit=limit + 1, before_id=before_id)
    else:
        after = None
        if cursor:
            published_s, article_id = decode_cursor(cursor, kind="published", arity=2)
            try:
                after = (datetime.fromisoformat(published_s), int(article_id))
            except (TypeError, ValueError) as exc:
                raise InvalidCursor("the cursor is not one this API issued") from exc
        rows = repository.list_articles_by_published(session, f=f, limit=limit + 1, after=after)
    page, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more and page:
        last = page[-1]
        next_cursor = (
            encode_cursor("ingested", [last.id])
            if sort == "ingested"
            else encode_cursor(
                "published", [last.published_at.isoformat() if last.published_at else None, last.id]
            )
        )
    topics = repository.topics_for(session, article_ids=[a.id for a in page])
    return ArticlePage(items=[_summary(a, topics[a.id]) for a in page], next_cursor=next_cursor)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else round((end - start).total_seconds(), 3)


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


def _entity_out(entity: Entity, row: ArticleEntity) -> ArticleEntityOut:
    surfaces = Counter(str(m["text"]) for m in row.mentions)
    return ArticleEntityOut(
        id=entity.id,
        name=entity.name,
        type=entity.type,
        mention_count=row.mention_count,
        aliases=[ArticleAliasOut(alias=a, count=n) for a, n in surfaces.most_common()],
        salience=SalienceOut(
            score=row.salience, in_title=row.in_title, in_lead=row.in_lead, first_offset=row.first_offset
        ),
        mentions=[MentionOut(**m) for m in row.mentions],
    )


def get_article(*, session: Session, article_id: int) -> ArticleDetail:
    article = repository.get_article(session, article_id=article_id)
    if article is None:
        raise NotFound(f"article {article_id} does not exist")
    topics = repository.topics_for(session, article_ids=[article.id])[article.id]
    entities = repository.entities_for(session, article_id=article.id)
    summary = _summary(article, topics)
    return ArticleDetail(
        **summary.model_dump(),
        text=article.text,
        authors=list(article.authors or []),
        site_name=article.site_name,
        modified_at=article.modified_at,
        language_confidence=article.language_confidence,
        error=article.error,
        model_versions=article.model_versions,
        entities=[_entity_out(e, ae) for e, ae in entities],
        keyphrases=[KeyphraseOut(**k) for k in article.keyphrases or []],
        removed=[RemovedOut(**r) for r in (article.cleaning or {}).get("removed", [])],
        extraction_confidence=(article.cleaning or {}).get("confidence"),
        extraction_flags=list((article.cleaning or {}).get("flags", [])),
        raw_format=article.raw_format,
        stages=stages(article),
        revision_count=article.revision,
        duplicate=None
        if article.duplicate_of is None
        else DuplicateOut(
            duplicate_of=article.duplicate_of,
            method=article.duplicate_method,  # type: ignore[arg-type]
            score=article.duplicate_score,
        ),
        duplicate_count=repository.count_duplicates_of(session, article_id=article.id),
    )


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

"""Ingest one article: validate -> clean -> dedup -> store + outbox (publish after commit)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Literal

import structlog
from sqlalchemy import func
from sqlalchemy.orm import Session

from services.enrich.celery_app import ENRICH_TASK
from services.ingest.articles import repository
from services.ingest.articles.dedup import canonical_url, content_hash
from services.ingest.articles.schemas import ArticleIn, IngestResult
from services.ingest.cleaning import CleanedArticle, clean
from services.ingest.cleaning import repository as lines_repository
from services.ingest.cleaning.service import drop_known_lines, with_feed_date
from services.ingest.outbox import repository as outbox_repository
from shared.db import on_commit
from shared.errors import ValidationFailed
from shared.models import ArticleStatus, RawFormat
from shared.settings import get_settings

log = structlog.get_logger("newswire.ingest")

Publisher = Callable[[list[int]], None]
Outcome = Literal["accepted", "duplicate", "rejected"]
LEDGER_SOURCE_MAX_CHARS = 200


class EmptyArticle(ValidationFailed):
    """Nothing of the article is left once boilerplate is removed."""

    error = "empty_article"


def clean_payload(payload: ArticleIn) -> CleanedArticle:
    """The CPU part of ingest, kept apart so it can run outside any transaction."""
    return clean(html=payload.html, text=payload.text, url=payload.url, title=payload.title)


def forget_source_boilerplate(
    *, session: Session, payload: ArticleIn, cleaned: CleanedArticle
) -> CleanedArticle:
    """Drop the lines the source's stored articles show to be its boilerplate (``repeated_for_source``)."""
    if not payload.source or not cleaned.line_hashes:
        return cleaned
    settings = get_settings()
    known = lines_repository.known_boilerplate(
        session,
        source=payload.source,
        hashes=cleaned.line_hashes,
        min_articles=settings.source_boilerplate_min_articles,
        min_share=settings.source_boilerplate_min_share,
    )
    if not known:
        return cleaned
    if payload.text is not None:  # cheap: clean again, so the lines around them are judged without them
        again = clean(text=payload.text, title=payload.title, known_boilerplate=known)
        return again if again.text.strip() else cleaned
    return drop_known_lines(cleaned, known)


def ingest_article(
    *,
    session: Session,
    payload: ArticleIn,
    cleaned: CleanedArticle | None = None,
    request_id: str | None = None,
    publish: Publisher | None = None,
    min_clean_chars: int = 1,
) -> IngestResult:
    received_at = datetime.now(UTC)
    cleaned = cleaned if cleaned is not None else clean_payload(payload)
    cleaned = forget_source_boilerplate(session=session, payload=payload, cleaned=cleaned)
    cleaned = with_feed_date(cleaned, payload.published_at)
    cleaned_at = datetime.now(UTC)
    if len(cleaned.text.strip()) < min_clean_chars:
        raise EmptyArticle("no article text is left after removing boilerplate")
    canon = canonical_url(payload.url)
    digest = content_hash(cleaned.text)

    existing = repository.find_duplicate(
        session,
        source=payload.source,
        external_id=payload.external_id,
        canonical_url=canon,
        content_hash=digest,
    )
    if existing is None:
        article_id = repository.insert_article(
            session,
            values={
                "url": payload.url,
                "canonical_url": canon,
                "source": payload.source,
                "external_id": payload.external_id,
                "title": payload.title or cleaned.title or "",
                "text": cleaned.text,
                "content_hash": digest,
                "raw_format": RawFormat.HTML if payload.html is not None else RawFormat.TEXT,
                "raw_content": payload.html if payload.html is not None else payload.text,
                "published_at": payload.published_at or cleaned.published_at,
                "modified_at": cleaned.modified_at,
                "authors": cleaned.authors,
                "site_name": cleaned.site_name,
                "language_hint": payload.language or cleaned.language,
                "cleaning": {
                    "removed": [{"text": p.text, "reason": p.reason} for p in cleaned.removed],
                    "page_title": cleaned.title,
                    "page_canonical_url": cleaned.canonical_url,
                    "published_at_from": "feed"
                    if payload.published_at
                    else ("content" if cleaned.published_at else None),
                    "confidence": cleaned.confidence,
                    "flags": list(cleaned.flags),
                },
                "status": ArticleStatus.QUEUED,
                "received_at": received_at,
                "cleaned_at": cleaned_at,
                "stored_at": func.clock_timestamp(),
            },
        )
        if article_id is None:  # lost a race with an identical article committed meanwhile
            existing = repository.find_duplicate(
                session,
                source=payload.source,
                external_id=payload.external_id,
                canonical_url=canon,
                content_hash=digest,
            )
            if existing is None:
                raise RuntimeError("insert conflicted but no conflicting article was found")
        else:
            if payload.source and cleaned.line_hashes:
                lines_repository.record_lines(session, source=payload.source, hashes=cleaned.line_hashes)
            outbox_id = outbox_repository.add(
                session, article_id=article_id, task=ENRICH_TASK, payload={"request_id": request_id}
            )
            if publish is not None:
                on_commit(session, lambda: publish([outbox_id]))
            log.info("article_accepted", article_id=article_id, canonical_url=canon)
            return IngestResult(id=article_id, status="queued", canonical_url=canon)

    dup_id, dup_url, method = existing
    log.info("article_duplicate", article_id=dup_id, method=method)
    return IngestResult(
        id=dup_id,
        status="duplicate",
        canonical_url=dup_url,
        duplicate_of=dup_id,
        duplicate_method=method,  # type: ignore[arg-type]
    )


def ledger_source(source: Any) -> str:
    """The coverage ledger's name for what a feed sent as its source ("": none, or not a short string,
    as in a rejected body)."""
    if isinstance(source, str) and len(source) <= LEDGER_SOURCE_MAX_CHARS:
        return source
    return ""


def record_outcomes(*, session: Session, outcomes: Iterable[tuple[Any, Outcome]]) -> None:
    """Count what each source pushed this hour in the coverage ledger (``source_hours``)."""
    counts: Counter[tuple[str, Outcome]] = Counter((ledger_source(s), o) for s, o in outcomes)
    sources = sorted({source for source, _ in counts})
    repository.add_to_ledger(
        session,
        rows=[
            (s, counts[(s, "accepted")], counts[(s, "duplicate")], counts[(s, "rejected")]) for s in sources
        ],
    )

"""Ingest one article: validate -> clean -> dedup -> store + outbox (publish after commit)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

import structlog
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.ingest.articles import neardup, repository
from services.ingest.articles.dedup import canonical_url, content_hash
from services.ingest.articles.neardup import Fingerprint
from services.ingest.articles.schemas import ArticleIn, IngestResult
from services.ingest.cleaning import CleanedArticle, clean
from services.ingest.cleaning import repository as lines_repository
from services.ingest.cleaning.service import drop_known_lines, with_feed_date
from shared.errors import ValidationFailed
from shared.jobs.contract import EnrichJob
from shared.jobs.enqueue import Publisher, enqueue_enrich
from shared.models import ArticleStatus, RawFormat
from shared.settings import get_settings

log = structlog.get_logger("newswire.ingest")

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


def _content_values(
    *,
    payload: ArticleIn,
    cleaned: CleanedArticle,
    digest: str,
    received_at: datetime,
    cleaned_at: datetime,
) -> dict[str, Any]:
    """The columns an article's content sets, for a new row and for a new revision alike."""
    return {
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
        "received_at": received_at,
        "cleaned_at": cleaned_at,
        "stored_at": func.clock_timestamp(),
    }


def _duplicate(
    *, stored_id: int, canonical: str, original: int, method: str, score: float | None
) -> IngestResult:
    log.info(
        "article_duplicate", article_id=stored_id, duplicate_of=original, method=method, similarity=score
    )
    return IngestResult(
        id=stored_id,
        status="duplicate",
        canonical_url=canonical,
        duplicate_of=original,
        duplicate_method=method,  # type: ignore[arg-type]
        similarity=score,
    )


def _enqueue(*, session: Session, article_id: int, request_id: str | None, publish: Publisher | None) -> None:
    enqueue_enrich(session, article_ids=[article_id], job=EnrichJob(request_id=request_id), publish=publish)


def _revise(
    *,
    session: Session,
    article_id: int,
    content: dict[str, Any],
    fp: Fingerprint | None,
    request_id: str | None,
    publish: Publisher | None,
) -> IngestResult | None:
    """Store changed content of a stored original as its next revision and queue it for enrichment again.
    A duplicate answer when the text is no longer new; None when a concurrent article took the text."""
    article = repository.lock_article(session, article_id=article_id)
    if article is None:  # deleted meanwhile
        return None
    digest = content["content_hash"]
    if article.content_hash == digest:  # a concurrent copy of the same revision got here first
        return _duplicate(
            stored_id=article.id,
            canonical=article.canonical_url,
            original=article.id,
            method="url",
            score=1.0,
        )
    other = repository.find_original_by_hash(session, content_hash=digest)
    if other is not None:  # the new text is another article's: nothing new to store
        return _duplicate(
            stored_id=other.id, canonical=other.canonical_url, original=other.id, method="exact", score=1.0
        )
    number = article.revision + 1
    old_signature = repository.signature_of(session, article_id=article.id)
    try:
        with session.begin_nested():
            if repository.count_revisions(session, article_id=article.id) == 0:
                repository.add_revision(
                    session,
                    values={
                        "article_id": article.id,
                        "revision": article.revision,
                        "title": article.title,
                        "text": article.text,
                        "content_hash": article.content_hash,
                        "created_at": article.stored_at or article.created_at,
                    },
                )
            repository.add_revision(
                session,
                values={
                    "article_id": article.id,
                    "revision": number,
                    "title": content["title"],
                    "text": content["text"],
                    "content_hash": digest,
                    "diff": neardup.unified_diff(
                        article.text,
                        content["text"],
                        old_label=f"revision {article.revision}",
                        new_label=f"revision {number}",
                    ),
                },
            )
            values = {
                **content,
                "revision": number,
                "status": ArticleStatus.QUEUED,
                "error": None,
                "attempts": 0,
                "queued_at": None,
                "enrich_started_at": None,
                "failed_at": None,
            }
            if values["published_at"] is None:  # a revision without a date keeps the article's
                del values["published_at"]
            repository.update_article(session, article_id=article.id, values=values)
            if old_signature is not None:
                old_keys = neardup.band_keys(neardup.decode_signature(old_signature))
                repository.remove_fingerprint(session, article_id=article.id, keys=old_keys)
            if fp is not None:
                repository.add_fingerprint(
                    session,
                    article_id=article.id,
                    signature=neardup.encode_signature(fp.signature),
                    keys=fp.band_keys,
                )
    except IntegrityError:  # the new text was stored meanwhile by an article without band locks (short)
        return None
    _enqueue(session=session, article_id=article.id, request_id=request_id, publish=publish)
    log.info("article_revised", article_id=article.id, revision=number)
    return IngestResult(id=article.id, status="revised", canonical_url=article.canonical_url, revision=number)


def _store(
    *,
    session: Session,
    payload: ArticleIn,
    cleaned: CleanedArticle,
    canon: str,
    content: dict[str, Any],
    fp: Fingerprint | None,
    request_id: str | None,
    publish: Publisher | None,
) -> IngestResult | None:
    """Decide what the article is and store it; None when a concurrent twin won an insert (decide again)."""
    settings = get_settings()
    digest = content["content_hash"]
    same = repository.find_same_document(
        session, source=payload.source, external_id=payload.external_id, canonical_url=canon
    )
    if same is not None:
        if same.content_hash == digest or same.duplicate_of is not None:
            return _duplicate(
                stored_id=same.id,
                canonical=same.canonical_url,
                original=same.duplicate_of or same.id,
                method=same.method,
                score=1.0 if same.content_hash == digest else None,
            )
        return _revise(
            session=session,
            article_id=same.id,
            content=content,
            fp=fp,
            request_id=request_id,
            publish=publish,
        )

    match: tuple[int, float, str] | None = None  # (original, similarity, method)
    exact = repository.find_original_by_hash(session, content_hash=digest)
    if exact is not None:
        match = (exact.id, 1.0, "exact")
    elif fp is not None:
        candidates = repository.lsh_candidates(session, keys=fp.band_keys)
        best = neardup.best_match(
            fp,
            ((i, neardup.decode_signature(sig)) for i, sig in candidates),
            threshold=settings.neardup_threshold,
        )
        if best is not None:
            match = (best[0], best[1], "near")

    values = {
        **content,
        "url": payload.url,
        "canonical_url": canon,
        "source": payload.source,
        "external_id": payload.external_id,
        "status": ArticleStatus.QUEUED if match is None else ArticleStatus.DUPLICATE,
    }
    if match is not None:
        values.update(
            duplicate_of=match[0],
            duplicate_score=match[1],
            duplicate_method=match[2],
            story_id=repository.story_of(session, article_id=match[0]),  # a copy is in its original's story
        )
    article_id = repository.insert_article(session, values=values)
    if article_id is None:  # lost a race with a twin (same URL, feed id or text) committed meanwhile
        return None
    if payload.source and cleaned.line_hashes:
        lines_repository.record_lines(session, source=payload.source, hashes=cleaned.line_hashes)
    if match is not None:
        return _duplicate(
            stored_id=article_id, canonical=canon, original=match[0], method=match[2], score=match[1]
        )
    if fp is not None:
        repository.add_fingerprint(
            session,
            article_id=article_id,
            signature=neardup.encode_signature(fp.signature),
            keys=fp.band_keys,
        )
    _enqueue(session=session, article_id=article_id, request_id=request_id, publish=publish)
    log.info("article_accepted", article_id=article_id, canonical_url=canon)
    return IngestResult(id=article_id, status="queued", canonical_url=canon, revision=1)


def ingest_article(
    *,
    session: Session,
    payload: ArticleIn,
    cleaned: CleanedArticle | None = None,
    request_id: str | None = None,
    publish: Publisher | None = None,
    min_clean_chars: int = 1,
) -> IngestResult:
    """Store a new article, a new revision of a stored one (same feed id or canonical URL, other text), or
    a duplicate: the same text again (answered, not stored), the text of another stored article (exact)
    or a near-duplicate of one (MinHash/LSH; stored as a duplicate row linked to its original, never
    enriched)."""
    received_at = datetime.now(UTC)
    cleaned = cleaned if cleaned is not None else clean_payload(payload)
    cleaned = forget_source_boilerplate(session=session, payload=payload, cleaned=cleaned)
    cleaned = with_feed_date(cleaned, payload.published_at)
    cleaned_at = datetime.now(UTC)
    if len(cleaned.text.strip()) < min_clean_chars:
        raise EmptyArticle("no article text is left after removing boilerplate")
    canon = canonical_url(payload.url)
    content = _content_values(
        payload=payload,
        cleaned=cleaned,
        digest=content_hash(cleaned.text),
        received_at=received_at,
        cleaned_at=cleaned_at,
    )
    fp = neardup.fingerprint(cleaned.text, min_words=get_settings().neardup_min_words)
    if fp is not None:  # held to commit: a near-identical article in flight elsewhere waits for this one
        repository.lock_band_keys(session, keys=fp.band_keys)
    for _ in range(3):
        result = _store(
            session=session,
            payload=payload,
            cleaned=cleaned,
            canon=canon,
            content=content,
            fp=fp,
            request_id=request_id,
            publish=publish,
        )
        if result is not None:
            return result
    raise RuntimeError("an insert conflicted but no conflicting article was found")


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

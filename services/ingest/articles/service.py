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

from services.ingest.articles import distinct, neardup, repository
from services.ingest.articles.dedup import canonical_url, content_hash
from services.ingest.articles.neardup import Fingerprint
from services.ingest.articles.schemas import ArticleIn, IngestResult, date_problem
from services.ingest.cleaning import CleanedArticle, clean
from services.ingest.cleaning import repository as lines_repository
from services.ingest.cleaning.service import drop_known_lines, with_feed_date
from shared.errors import ServiceUnavailable, ValidationFailed
from shared.jobs.contract import EnrichJob
from shared.jobs.enqueue import Publisher, enqueue_enrich
from shared.models import ArticleStatus, DuplicateMethod, RawFormat
from shared.schemas import CleaningReport, RemovedText
from shared.settings import get_settings

log = structlog.get_logger("newswire.ingest")

Outcome = Literal["accepted", "duplicate", "rejected"]
LEDGER_SOURCE_MAX_CHARS = 200


class EmptyArticle(ValidationFailed):
    """Nothing of the article is left once boilerplate is removed."""

    error = "empty_article"


class ExtractionFailed(ValidationFailed):
    """The new version of a page could not be extracted (too large, or the extractor failed on it); the
    article's stored extraction is kept."""

    error = "extraction_failed"


class ExtractorBusy(ServiceUnavailable):
    """The extractor was busy or timed out on the new version of a page whose full extraction is stored:
    retry later (a fallback extraction never replaces a better stored one)."""

    error = "extractor_busy"


#: Cleaning flags of a fallback extraction: the extractor could not run on the page (busy, timed out,
#: failed, too large) and the page's visible text was cleaned instead.
FALLBACK_FLAGS = frozenset({"timeout", "too_large", "extractor_error", "extractor_busy"})
#: Near-duplicate candidates compared word by word, the most similar first.
MAX_NEAR_COMPARED = 5


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


def _sane_date(value: datetime | None) -> datetime | None:
    """A date found in the content, in UTC, or None when it is outside the window a feed's own date must
    be in (schemas.date_problem): a page's meta tag cannot store a date no reader can show."""
    if value is None or value.tzinfo is None or date_problem(value) is not None:
        return None
    return value.astimezone(UTC)


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
        "published_at": payload.published_at or _sane_date(cleaned.published_at),
        "modified_at": payload.modified_at or _sane_date(cleaned.modified_at),
        "authors": cleaned.authors,
        "site_name": cleaned.site_name,
        "language_hint": payload.language or cleaned.language,
        "cleaning": CleaningReport(
            removed=[RemovedText(text=p.text, reason=p.reason) for p in cleaned.removed],
            page_title=cleaned.title,
            page_canonical_url=cleaned.canonical_url,
            published_at_from="feed"
            if payload.published_at
            else ("content" if _sane_date(cleaned.published_at) else None),
            confidence=cleaned.confidence,
            flags=list(cleaned.flags),
        ).to_json(),
        "received_at": received_at,
        "cleaned_at": cleaned_at,
        "stored_at": func.clock_timestamp(),
    }


def _duplicate(
    *,
    stored_id: int,
    canonical: str,
    original: int,
    method: str,
    score: float | None,
    reason: dict[str, Any] | None = None,
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
        dedup_reason=reason or _reason(method=method, score=score, matched=original),
    )


def _reason(
    *, method: str, score: float | None, matched: int, differs: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """Why an article is a duplicate (``dedup_reason``): the method, the score, the matching article and
    what differed."""
    return {
        "method": method,
        "score": None if score is None else round(score, 4),
        "matched": matched,
        "differs": differs,
        **extra,
    }


def _is_fallback(flags: Iterable[str]) -> bool:
    return any(f in FALLBACK_FLAGS for f in flags)


def _unchanged_input(article: Any, content: dict[str, Any]) -> str | None:
    """Why a push of a stored article's URL or feed id must not make a revision (None: it may).

    Cleaning the same input can give another text: the extractor busy or timed out (a fallback), or the
    source's boilerplate learnt since.  So the same input under the same title is the same revision,
    unless the stored text was a fallback and this one is a full extraction; and a fallback of a new
    input never replaces a full extraction (:class:`ExtractorBusy` / :class:`ExtractionFailed`)."""
    stored_fallback = _is_fallback(CleaningReport.from_json(article.cleaning).flags)
    new_flags = CleaningReport.from_json(content["cleaning"]).flags
    new_fallback = _is_fallback(new_flags)
    if article.raw_content == content["raw_content"] and article.title == content["title"]:
        if stored_fallback and not new_fallback:
            return None  # a full extraction replaces the fallback
        return "same_input"
    if new_fallback and not stored_fallback:
        if {"extractor_busy", "timeout"} & set(new_flags):
            raise ExtractorBusy(headers={"Retry-After": "30"})
        raise ExtractionFailed()
    return None


def _near_match(
    *, session: Session, fp: Fingerprint, title: str, text: str
) -> tuple[tuple[int, float, DuplicateMethod] | None, dict[str, Any] | None]:
    """The stored original this article is a near-duplicate of, and why; or None and, when near
    candidates were told apart (:mod:`~services.ingest.articles.distinct`: a number or a name differs),
    the record of it.  The candidates are compared the most similar first."""
    candidates = repository.lsh_candidates(session, keys=fp.band_keys)
    ranked = neardup.ranked_matches(
        fp,
        ((i, neardup.decode_signature(sig)) for i, sig in candidates),
        threshold=get_settings().neardup_threshold,
    )[:MAX_NEAR_COMPARED]
    if not ranked:
        return None, None
    stored = repository.titles_and_texts(session, ids=[i for i, _ in ranked])
    kept: list[dict[str, Any]] = []
    for article_id, score in ranked:
        if article_id not in stored:
            continue
        old_title, old_text = stored[article_id]
        found = distinct.compare(title_a=old_title, text_a=old_text, title_b=title, text_b=text)
        if not found.distinct:
            return (article_id, score, DuplicateMethod.NEAR), _reason(
                method=DuplicateMethod.NEAR, score=score, matched=article_id, differs=found.as_json()
            )
        kept.append({"article": article_id, "score": round(score, 4), "differs": found.as_json()})
    return None, {"kept": "distinct", "near": kept}


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
    unchanged = "same_text" if article.content_hash == digest else _unchanged_input(article, content)
    if unchanged is not None:  # a concurrent copy of the same revision got here first, or the same input
        return _duplicate(
            stored_id=article.id,
            canonical=article.canonical_url,
            original=article.id,
            method=DuplicateMethod.URL,
            score=1.0,
            reason=_reason(method=DuplicateMethod.URL, score=1.0, matched=article.id, unchanged=unchanged),
        )
    other = repository.find_original_by_hash(session, content_hash=digest)
    if other is not None:  # the new text is another article's: nothing new to store
        return _duplicate(
            stored_id=other.id,
            canonical=other.canonical_url,
            original=other.id,
            method=DuplicateMethod.EXACT,
            score=1.0,
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


def _other_writers_copy(
    *, session: Session, canon: str, fp: Fingerprint | None
) -> tuple[int, float, DuplicateMethod] | None:
    """(original, similarity, "url") when another writer stored this canonical URL (similarity of the
    texts when both have a fingerprint, else 0.0)."""
    original = repository.find_original_by_url(session, canonical_url=canon)
    if original is None:
        return None
    stored = repository.signature_of(session, article_id=original)
    score = (
        neardup.similarity(fp.signature, neardup.decode_signature(stored))
        if fp is not None and stored is not None
        else 0.0
    )
    return original, score, DuplicateMethod.URL


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
    writer_key_id: int | None = None,
) -> IngestResult | None:
    """Decide what the article is and store it; None when a concurrent twin won an insert (decide again).
    Only an article of the same writer (source, or key for a sourceless one) is revised."""
    digest = content["content_hash"]
    writer_key_id = writer_key_id if payload.source is None else None
    same = repository.find_same_document(
        session,
        source=payload.source,
        writer_key_id=writer_key_id,
        external_id=payload.external_id,
        canonical_url=canon,
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

    match: tuple[int, float, DuplicateMethod] | None = None  # (original, similarity, method)
    reason: dict[str, Any] | None = None
    exact = repository.find_original_by_hash(session, content_hash=digest)
    if exact is not None:  # the same title and text
        match = (exact.id, 1.0, DuplicateMethod.EXACT)
        reason = _reason(method=DuplicateMethod.EXACT, score=1.0, matched=exact.id)
    elif fp is not None:
        match, reason = _near_match(session=session, fp=fp, title=content["title"], text=content["text"])
    if match is None:  # another writer's URL: a syndicated copy, linked to the original, never its revision
        match = _other_writers_copy(session=session, canon=canon, fp=fp)
        if match is not None:
            reason = _reason(method=DuplicateMethod.URL, score=match[1], matched=match[0])

    values = {
        **content,
        "url": payload.url,
        "canonical_url": canon,
        "source": payload.source,
        "writer_key_id": writer_key_id,
        "external_id": payload.external_id,
        "status": ArticleStatus.QUEUED if match is None else ArticleStatus.DUPLICATE,
        "dedup_reason": reason,
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
            stored_id=article_id,
            canonical=canon,
            original=match[0],
            method=match[2],
            score=match[1],
            reason=reason,
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
    writer_key_id: int | None = None,
) -> IngestResult:
    """Store a new article, a new revision of a stored one (same feed id or canonical URL, other text), or
    a duplicate: the same text again (answered, not stored), the text of another stored article (exact)
    or a near-duplicate of one (MinHash/LSH; stored as a duplicate row linked to its original, never
    enriched).

    Matches by feed id and URL stay within the writer: `payload.source`, or for an article without one
    `writer_key_id` (the API key that pushed it). The same URL from another writer is stored as a duplicate
    row linked to the original (method "url")."""
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
        digest=content_hash(cleaned.text, title=payload.title or cleaned.title or ""),
        received_at=received_at,
        cleaned_at=cleaned_at,
    )
    fp = neardup.fingerprint(cleaned.text, min_words=get_settings().neardup_min_words)
    if fp is not None:  # held to commit: a near-identical article in flight elsewhere waits for this one
        repository.lock_band_keys(session, keys=fp.band_keys)
    repository.lock_url(session, canonical_url=canon)  # after the band keys: one order, no deadlock
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
            writer_key_id=writer_key_id,
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

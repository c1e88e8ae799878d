"""Undo a duplicate decision: an operator says an article is not a duplicate of its original.

``POST /v1/ops/articles/{id}/not-duplicate`` (on the ingest service, which owns the duplicate
decision; admin scope) and ``newswire dedup undo ID`` call
:func:`mark_not_duplicate`: the article becomes an original (status ``queued``, queued for enrichment
through the outbox, so it is enriched, listed, streamed and sent to webhooks like any other), its own
near-duplicate fingerprint is stored (later copies of it match it), the pair is recorded in
``dedup_decisions`` so it is never merged again, and its later revisions are accepted (a re-push of its
URL or feed id with new text is a revision, as for any original).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.orm import Session

from services.ingest.articles import neardup, repository
from services.ingest.articles.dedup import content_hash
from shared.errors import NotADuplicate, NotFound, SameArticle
from shared.jobs.contract import EnrichJob
from shared.jobs.enqueue import Publisher, enqueue_enrich
from shared.models import ArticleStatus
from shared.settings import get_settings

log = structlog.get_logger("newswire.dedup")


@dataclass(frozen=True, slots=True)
class Undone:
    id: int
    status: str
    was_duplicate_of: int
    dedup_reason: dict[str, Any]


def mark_not_duplicate(
    *,
    session: Session,
    article_id: int,
    decided_by: str | None = None,
    request_id: str | None = None,
    publish: Publisher | None = None,
) -> Undone:
    """Turn duplicate `article_id` into an original, queued for enrichment; the caller commits (its job is
    published after the commit)."""
    article = repository.lock_article(session, article_id=article_id)
    if article is None:
        raise NotFound(f"article {article_id} not found")
    if article.duplicate_of is None or article.status != ArticleStatus.DUPLICATE:
        raise NotADuplicate(f"article {article_id} is not a duplicate")
    original = article.duplicate_of
    # the exact key of an original is unique; rows stored before titles were part of it get it now
    digest = content_hash(article.text, title=article.title)
    twin = repository.find_original_by_hash(session, content_hash=digest)
    if twin is not None and twin.id != article.id:
        raise SameArticle(
            f"article {article_id} has the same title and text as article {twin.id}: they are one article"
        )
    reason = {
        "kept": "not_duplicate",
        "was_duplicate_of": original,
        "was": article.dedup_reason
        or {"method": article.duplicate_method, "score": article.duplicate_score, "matched": original},
        "decided_by": decided_by,
    }
    repository.add_decision(session, article_id=article.id, other_id=original, decided_by=decided_by)
    repository.update_article(
        session,
        article_id=article.id,
        values={
            "status": ArticleStatus.QUEUED,
            "duplicate_of": None,
            "duplicate_method": None,
            "duplicate_score": None,
            "dedup_reason": reason,
            "content_hash": digest,
            "story_id": None,  # it had its original's story; enrichment finds its own
            "error": None,
            "attempts": 0,
            "queued_at": None,
            "enrich_started_at": None,
            "enriched_at": None,
            "failed_at": None,
        },
    )
    fp = neardup.fingerprint(article.text, min_words=get_settings().neardup_min_words)
    if fp is not None:
        repository.lock_band_keys(session, keys=fp.band_keys)
        repository.add_fingerprint(
            session,
            article_id=article.id,
            signature=neardup.encode_signature(fp.signature),
            keys=fp.band_keys,
        )
    enqueue_enrich(session, article_ids=[article.id], job=EnrichJob(request_id=request_id), publish=publish)
    log.info("article_not_duplicate", article_id=article.id, was_duplicate_of=original, decided_by=decided_by)
    return Undone(article.id, ArticleStatus.QUEUED.value, original, reason)


def never_merged_with(*, session: Session, article_id: int) -> set[int]:
    """The articles an operator said `article_id` is not a duplicate of."""
    return repository.never_merged_with(session, article_id=article_id)

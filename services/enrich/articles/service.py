"""Enrich one stored article: read it, run the models outside any transaction, write all results at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import structlog
from sqlalchemy.orm import Session

from services.enrich.articles import repository
from services.enrich.nlp import Enricher, Enrichment
from shared.models import ArticleStatus

log = structlog.get_logger("newswire.enrich")

Outcome = Literal["enriched", "missing", "skipped", "changed"]


@dataclass(frozen=True, slots=True)
class EnrichInput:
    article_id: int
    title: str
    text: str
    content_hash: str


def load_input(*, session: Session, article_id: int) -> EnrichInput | None:
    article = repository.get_for_enrichment(session, article_id=article_id)
    if article is None or article.status == ArticleStatus.DUPLICATE:
        return None
    return EnrichInput(article.id, article.title, article.text, article.content_hash)


def save_enrichment(
    *, session: Session, item: EnrichInput, enrichment: Enrichment, attempts: int = 1
) -> Outcome:
    """Write entities, topics, language and versions in the caller's transaction.

    The article row is locked, so two workers handling the same article serialise; if its text changed
    since it was read, nothing is written (the change queued its own job)."""
    article = repository.lock_article(session, article_id=item.article_id)
    if article is None:
        return "missing"
    if article.status == ArticleStatus.DUPLICATE:
        repository.complete_outbox(session, article_id=item.article_id)
        return "skipped"
    if article.content_hash != item.content_hash:
        return "changed"
    keys = [(e.type, e.name) for e in enrichment.entities]
    ids = repository.upsert_entities(session, keys=keys)
    entity_rows = []
    for entity in enrichment.entities:
        entity_rows.append(
            {
                "article_id": item.article_id,
                "entity_id": ids[(entity.type, entity.name)],
                "mention_count": entity.count,
                "mentions": [
                    {"field": m.field, "start": m.start, "end": m.end, "text": m.surface}
                    for m in entity.mentions
                ],
            }
        )
    topic_rows = [
        {"article_id": item.article_id, "topic_code": t.code, "score": round(t.score, 6)}
        for t in enrichment.topics
    ]
    repository.replace_enrichment(
        session,
        article_id=item.article_id,
        entity_rows=entity_rows,
        topic_rows=topic_rows,
        language=enrichment.language.code,
        language_confidence=enrichment.language.confidence,
        model_versions=enrichment.versions,
        attempts=attempts,
    )
    repository.complete_outbox(session, article_id=item.article_id)
    return "enriched"


def enrich_article(*, session: Session, article_id: int, enricher: Enricher) -> Outcome:
    """Read, enrich and write in one session (used by the CLI and tests; the task splits the steps)."""
    item = load_input(session=session, article_id=article_id)
    if item is None:
        return "missing"
    enrichment = enricher.enrich(title=item.title, text=item.text)
    return save_enrichment(session=session, item=item, enrichment=enrichment)


def mark_started(*, session: Session, article_id: int) -> None:
    """The "enrichment started" stage of the article (the latest attempt)."""
    repository.mark_started(session, article_id=article_id)


@dataclass(frozen=True, slots=True)
class Lags:
    from_received_s: float | None
    from_published_s: float | None


def lags(*, session: Session, article_id: int) -> Lags:
    """Seconds from receipt and from publication until the article was enriched (None: unknown)."""
    received, published, enriched = repository.stage_times(session, article_id=article_id)
    if enriched is None:
        return Lags(None, None)
    from_received = (enriched - received).total_seconds() if received else None
    from_published = (enriched - published).total_seconds() if published else None
    return Lags(
        max(0.0, from_received) if from_received is not None else None,
        # a publication date in the future (a wrong feed clock) is no lag
        from_published if from_published is not None and from_published >= 0 else None,
    )


def mark_failed(*, session: Session, article_id: int, error: str, attempts: int) -> None:
    repository.mark_failed(session, article_id=article_id, error=error[:4000], attempts=attempts)
    repository.complete_outbox(session, article_id=article_id)

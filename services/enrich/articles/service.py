"""Enrich one stored article: read it, run the models outside any transaction, write all results at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Literal

import structlog
from sqlalchemy.orm import Session

from services.enrich.articles import repository
from services.enrich.entities import ExtractedEntity, ledger
from services.enrich.entities.overrides import OverrideSet, apply_overrides
from services.enrich.nlp import Enricher, Enrichment
from shared.entity_overrides import override_set
from shared.jobs import outbox
from shared.models import ArticleStatus
from shared.settings import get_settings
from shared.stories import service as stories
from shared.stories.scoring import StoryRules

log = structlog.get_logger("newswire.enrich")

Outcome = Literal["enriched", "missing", "skipped", "changed", "duplicate"]


@dataclass(frozen=True, slots=True)
class EnrichInput:
    article_id: int
    title: str
    text: str
    content_hash: str
    overrides: OverrideSet = OverrideSet()  # the entity overrides in force when the article was read


_overrides: tuple[tuple[int, int], OverrideSet] | None = None


def current_overrides(*, session: Session) -> OverrideSet:
    """The entity overrides in force, cached per process and reloaded when the table's version key
    changes (one cheap query per call), so a re-enrichment queued by a change always sees it."""
    global _overrides
    key = repository.override_version_key(session)
    if _overrides is None or _overrides[0] != key:
        _overrides = (key, override_set(repository.list_overrides(session)))
    return _overrides[1]


def with_overrides(*, enrichment: Enrichment, overrides: OverrideSet, text: str) -> Enrichment:
    """The enrichment with the operator's overrides applied, and their version recorded."""
    entities = apply_overrides(entities=enrichment.entities, overrides=overrides, text=text)
    return replace(
        enrichment, entities=entities, versions={**enrichment.versions, "entity_overrides": overrides.version}
    )


def load_input(*, session: Session, article_id: int) -> EnrichInput | None:
    article = repository.get_for_enrichment(session, article_id=article_id)
    if article is None or article.status == ArticleStatus.DUPLICATE:
        return None
    return EnrichInput(
        article.id, article.title, article.text, article.content_hash, current_overrides(session=session)
    )


def save_enrichment(
    *,
    session: Session,
    item: EnrichInput,
    enrichment: Enrichment,
    attempts: int = 1,
    outbox_id: int | None = None,
) -> Outcome:
    """Write entities, topics, keyphrases, language and versions in the caller's transaction.

    The article row is locked, so two workers handling the same article serialise; if its text changed
    since it was read, nothing is written (the change queued its own job).  Last, the article gets its
    story (its story locks are taken first, before the article row: one lock order for every worker)."""
    signature = stories.lock_signature(
        session=session,
        title=item.title,
        text=item.text,
        entities=[(e.type, e.name, e.salience.score) for e in enrichment.entities],
        embedding=enrichment.embedding,
        language=enrichment.language.code,
    )
    article = repository.lock_article(session, article_id=item.article_id)
    if article is None:
        return "missing"
    if outbox_id is not None and not outbox.is_pending(session, outbox_id=outbox_id):
        # another delivery of this job finished first (under the same article lock): write nothing
        return "duplicate"
    if article.status == ArticleStatus.DUPLICATE:
        outbox.complete_for_article(session, article_id=item.article_id)
        repository.end_attempt(session, article_id=item.article_id)
        return "skipped"
    if article.content_hash != item.content_hash:
        repository.end_attempt(session, article_id=item.article_id)
        return "changed"
    entity_rows = _entity_rows(session=session, article_id=item.article_id, entities=enrichment.entities)
    topic_rows = [
        {"article_id": item.article_id, "topic_code": t.code, "score": round(t.score, 6)}
        for t in enrichment.topics
    ]
    repository.replace_enrichment(
        session,
        article_id=item.article_id,
        entity_rows=entity_rows,
        topic_rows=topic_rows,
        keyphrases=[{"phrase": k.phrase, "score": k.score} for k in enrichment.keyphrases],
        language=enrichment.language.code,
        language_confidence=enrichment.language.confidence,
        model_versions=enrichment.versions,
        attempts=attempts,
    )
    stories.assign_story(
        session=session,
        article_id=item.article_id,
        signature=signature,
        rules=StoryRules.from_settings(get_settings()),
    )
    outbox.complete_for_article(session, article_id=item.article_id)
    return "enriched"


def _entity_rows(
    *, session: Session, article_id: int, entities: Sequence[ExtractedEntity]
) -> list[dict[str, Any]]:
    """Update the global entity table by the difference between the article's stored entities and the
    new ones (so re-enrichment never inflates counts), and build the article's entity rows."""
    old = ledger.contribution(
        ((t, n), surfaces) for t, n, surfaces in repository.article_entities(session, article_id=article_id)
    )
    new = ledger.contribution(((e.type, e.name), [m.surface for m in e.mentions]) for e in entities)
    delta = ledger.difference(new, old)
    ids = repository.apply_entity_deltas(session, deltas=delta.entities)
    repository.apply_alias_deltas(
        session, deltas={(ids[key], alias): d for (key, alias), d in delta.aliases.items()}
    )
    return [
        {
            "article_id": article_id,
            "entity_id": ids[(e.type, e.name)],
            "mention_count": e.count,
            "mentions": [
                {"field": m.field, "start": m.start, "end": m.end, "text": m.surface} for m in e.mentions
            ],
            "in_title": e.salience.in_title,
            "in_lead": e.salience.in_lead,
            "first_offset": e.salience.first_offset,
            "salience": e.salience.score,
        }
        for e in entities
    ]


def enrich_input(*, item: EnrichInput, enricher: Enricher) -> Enrichment:
    """Run the models on the article (outside any transaction), then apply the operator's overrides."""
    enrichment = enricher.enrich(title=item.title, text=item.text)
    return with_overrides(enrichment=enrichment, overrides=item.overrides, text=item.text)


def enrich_inputs(
    *, items: Sequence[EnrichInput], enricher: Enricher, batch_size: int
) -> list[Enrichment | Exception]:
    """`enrich_input` of each item, with one ``nlp.pipe`` over the batch. If the batch raises, every item
    is enriched alone, so one bad article yields its own exception and the others their enrichment."""
    if len(items) > 1:
        try:
            enrichments = enricher.enrich_many([(i.title, i.text) for i in items], batch_size=batch_size)
        except Exception as exc:
            log.warning("batch_enrich_failed", size=len(items), error=f"{type(exc).__name__}: {exc}"[:300])
        else:
            return [
                with_overrides(enrichment=e, overrides=i.overrides, text=i.text)
                for i, e in zip(items, enrichments, strict=True)
            ]
    results: list[Enrichment | Exception] = []
    for item in items:
        try:
            results.append(enrich_input(item=item, enricher=enricher))
        except Exception as exc:
            results.append(exc)
    return results


def enrich_article(*, session: Session, article_id: int, enricher: Enricher) -> Outcome:
    """Read, enrich and write in one session (used by the CLI and tests; the task splits the steps)."""
    item = load_input(session=session, article_id=article_id)
    if item is None:
        return "missing"
    enrichment = enrich_input(item=item, enricher=enricher)
    return save_enrichment(session=session, item=item, enrichment=enrichment)


def mark_started(*, session: Session, article_id: int) -> None:
    """The "enrichment started" stage of the article (the latest attempt)."""
    repository.mark_started(session, article_id=article_id)


def taken_over(*, session: Session, outbox_id: int) -> bool:
    """Whether a batch took over this outbox job (its message then has nothing left to do)."""
    return outbox.is_batched(session, outbox_id=outbox_id)


@dataclass(frozen=True, slots=True)
class Claimed:
    item: EnrichInput
    outbox_id: int  # the batch's job for the article (completed on save, redelivered if never)


def claim_batch(
    *, session: Session, article_id: int, limit: int, task: str, lease: timedelta
) -> list[Claimed]:
    """Take over up to ``limit`` other queued articles whose messages wait in the broker, so one model
    call enriches them with ``article_id``; their messages become no-ops (see `taken_over`)."""
    jobs = outbox.claim_queued(session, exclude_article_id=article_id, limit=limit)
    if not jobs:
        return []
    new_ids = outbox.take_over(session, jobs=jobs, batch_of=article_id, task=task, lease=lease)
    claimed = []
    for other_id, outbox_id in sorted(new_ids.items()):
        item = load_input(session=session, article_id=other_id)
        if item is not None:  # locked jobs of queued articles: always there
            claimed.append(Claimed(item, outbox_id))
    return claimed


def run_alone(*, session: Session, outbox_id: int) -> None:
    """Give a batch's job back to the queue as a job of its own (the caller publishes it after commit)."""
    outbox.run_alone(session, outbox_id=outbox_id)


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


StartState = Literal["run", "done", "batched", "missing", "poison"]

#: The error type of an article failed because its attempts kept killing their worker.
POISON = "poison"


@dataclass(frozen=True, slots=True)
class Started:
    state: StartState
    item: EnrichInput | None = None
    alone: bool = False  # run without a batch (its batch died, it died before, or it was asked to)
    attempts: int = 0  # unfinished attempts counted, this one included


def start(
    *,
    session: Session,
    article_id: int,
    outbox_id: int | None,
    count_attempt: bool,
    max_attempts: int,
    lease: timedelta,
) -> Started:
    """Start a job, in a transaction committed before the work: lock the article row, then the job
    (the lock order); a job already completed (a duplicate or late message) or taken over by a batch
    is not run. Otherwise count the attempt (``count_attempt``: a first delivery, not a Celery retry
    of an attempt that ended), and fail the article as poison when the attempts that never ended
    reach ``max_attempts``; else mark it started and lease the job to this worker."""
    state = repository.lock_for_start(session, article_id=article_id)
    if state is None:
        return Started("missing")
    status, unfinished = state
    job = None
    if outbox_id is not None:
        job_state, job = outbox.lock_job(session, outbox_id=outbox_id)
        if job_state != "pending":
            return Started("missing" if job_state == "missing" else job_state)
    if status == ArticleStatus.DUPLICATE:
        return Started("missing")
    if count_attempt:
        if unfinished >= max_attempts:
            error = (
                f"{POISON}: {unfinished} enrich attempt(s) never ended (the worker died or was killed); "
                f"cap NEWSWIRE_ENRICH_MAX_ATTEMPTS={max_attempts}"
            )
            mark_failed(session=session, article_id=article_id, error=error, attempts=unfinished, poison=True)
            log.error("article_poison", article_id=article_id, attempts=unfinished)
            return Started("poison", attempts=unfinished)
        unfinished += 1
        repository.count_attempt(session, article_id=article_id)
    repository.mark_started(session, article_id=article_id)
    if outbox_id is not None:
        outbox.lease_job(session, outbox_id=outbox_id, lease=lease)
    item = load_input(session=session, article_id=article_id)
    if item is None:
        return Started("missing")
    alone = unfinished > 1 or bool(job and (job.alone or job.batch_of is not None))
    return Started("run", item, alone=alone, attempts=unfinished)


def mark_failed(
    *, session: Session, article_id: int, error: str, attempts: int, poison: bool = False
) -> None:
    repository.mark_failed(
        session, article_id=article_id, error=error[:4000], attempts=attempts, keep_unfinished=poison
    )
    outbox.complete_for_article(session, article_id=article_id)

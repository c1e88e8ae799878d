"""Reprocessing: queue the articles whose enrichment is older than the current version (or that match a
filter) through the outbox, in keyset batches, at a rate; and completeness by version.

Queuing reuses what `failed retry` does: an outbox row per article in the batch's transaction, published
after the commit. A failed article goes back to `queued`; an enriched one keeps its status and its results
(readers still see them) until the worker replaces them. An article with a pending job is never taken
again, so running reprocess twice, or two at once, queues each article once."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import structlog
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from services.api.ops import repository as ops_repository
from services.api.reprocess import repository
from services.api.reprocess.schemas import CompletenessOut, ReprocessFilter, VersionCount
from shared.jobs.contract import EnrichJob
from shared.jobs.enqueue import Publisher, enqueue_enrich
from shared.models import ArticleStatus
from shared.versions import current as current_versions

log = structlog.get_logger("newswire.reprocess")


def clauses(*, selection: ReprocessFilter, current: str) -> list[ColumnElement[bool]]:
    return repository.where(
        current=current,
        stale=selection.mode == "stale",
        statuses=selection.status,
        sources=selection.source,
        ids=selection.ids,
        since=selection.since,
        until=selection.until,
        by_received=selection.date_field == "received",
    )


def count_matching(*, session: Session, selection: ReprocessFilter, current: str) -> int:
    return repository.count(session, clauses=clauses(selection=selection, current=current))


def queue_batch(
    *,
    session: Session,
    selection: ReprocessFilter,
    current: str,
    after_id: int = 0,
    limit: int,
    request_id: str | None = None,
    publish: Publisher | None = None,
) -> list[int]:
    """Queue up to `limit` matching articles with ids above `after_id` in the caller's transaction; their
    jobs are published after its commit. The ids queued, ascending."""
    ids = repository.next_batch(
        session, clauses=clauses(selection=selection, current=current), after_id=after_id, limit=limit
    )
    if not ids:
        return []
    ops_repository.requeue(session, ids=ids)  # the failed ones go back to queued, as a retry does
    job = EnrichJob(request_id=request_id, reprocess=True, version=current)
    enqueue_enrich(session, article_ids=ids, job=job, publish=publish)
    log.info("reprocess_queued", count=len(ids), first_id=ids[0], last_id=ids[-1], version=current)
    return ids


@dataclass(slots=True)
class RunResult:
    matched: int
    queued: int = 0
    batches: int = 0
    slept_s: float = 0.0
    article_ids: list[int] = field(default_factory=list)


def batch_size_for(*, rate: float, batch_size: int) -> int:
    """At a rate of R articles/s, batches of at most ceil(R) (one second's worth), so pacing is smooth."""
    return max(1, min(batch_size, math.ceil(rate))) if rate > 0 else batch_size


def run(
    *,
    sessions: Callable[[], AbstractContextManager[Session]],
    selection: ReprocessFilter,
    current: str,
    limit: int | None = None,
    rate: float = 0.0,
    batch_size: int = 500,
    request_id: str | None = None,
    publish: Publisher | None = None,
    progress: Callable[[int, int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> RunResult:
    """Queue every matching article (up to `limit`), one transaction per keyset batch, at most `rate`
    articles per second (0: no limit). `progress(queued, matched)` is called after each batch."""
    with sessions() as session:
        matched = count_matching(session=session, selection=selection, current=current)
    total = min(matched, limit) if limit is not None else matched
    result = RunResult(matched=total)
    size = batch_size_for(rate=rate, batch_size=batch_size)
    start = clock()
    after_id = 0
    while result.queued < total:
        if rate > 0:  # the articles queued so far may not have come sooner than `rate` allows
            wait = result.queued / rate - (clock() - start)
            if wait > 0:
                sleep(wait)
                result.slept_s += wait
        with sessions() as session:
            ids = queue_batch(
                session=session,
                selection=selection,
                current=current,
                after_id=after_id,
                limit=min(size, total - result.queued),
                request_id=request_id,
                publish=publish,
            )
        if not ids:
            break
        after_id = ids[-1]
        result.queued += len(ids)
        result.batches += 1
        result.article_ids.extend(ids)
        if progress is not None:
            progress(result.queued, total)
    return result


def completeness(*, session: Session, model: str) -> CompletenessOut:
    """Articles enriched at the current version, at an older one, or not at all; per version."""
    versions = current_versions(session, model=model)
    current = versions.key
    per_version: dict[str | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_status: dict[str, int] = defaultdict(int)
    enriched_current = 0
    for status, version, n in repository.by_status_and_version(session):
        by_status[status] += n
        if status == ArticleStatus.DUPLICATE:
            continue
        per_version[version][status] += n
        if status == ArticleStatus.ENRICHED and version == current:
            enriched_current += n
    duplicates = by_status[ArticleStatus.DUPLICATE]
    total = sum(by_status.values()) - duplicates
    enriched = by_status[ArticleStatus.ENRICHED]
    queued, failed = by_status[ArticleStatus.QUEUED], by_status[ArticleStatus.FAILED]
    rows = [
        VersionCount(
            version=version,
            current=version == current,
            enriched=counts[ArticleStatus.ENRICHED],
            failed=counts[ArticleStatus.FAILED],
            queued=counts[ArticleStatus.QUEUED],
        )
        for version, counts in per_version.items()
    ]
    rows.sort(key=lambda r: (-(r.enriched + r.failed + r.queued), r.version or ""))
    return CompletenessOut(
        current_version=current,
        current_versions=versions.versions,
        total=total,
        enriched_current=enriched_current,
        enriched_older=enriched - enriched_current,
        not_enriched=queued + failed,
        queued=queued,
        failed=failed,
        duplicates=duplicates,
        reprocessing=repository.enriched_with_pending_job(session),
        complete=round(enriched_current / total, 6) if total else 1.0,
        by_version=rows,
    )


def ids_preview(ids: Sequence[int], *, most: int = 1000) -> list[int]:
    return list(ids[:most])

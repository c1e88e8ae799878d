"""Entity overrides: list, add and remove them; each change re-enqueues the articles it affects through
the outbox (rows in the caller's transaction, published after the commit), like a failed-article retry."""

from __future__ import annotations

import structlog
from sqlalchemy.orm import Session

from services.api.entity_overrides import repository
from services.api.entity_overrides.schemas import (
    OverrideDeleted,
    OverrideIn,
    OverrideList,
    OverrideOut,
    OverrideSaved,
)
from shared.entity_overrides import normalise_surface, override_set
from shared.errors import NotFound, OverrideExists
from shared.jobs.contract import EnrichJob
from shared.jobs.enqueue import Publisher, enqueue_enrich
from shared.models import EntityOverride, EntityOverrideKind

log = structlog.get_logger("newswire.overrides")


def _out(row: EntityOverride) -> OverrideOut:
    return OverrideOut(
        id=row.id,
        kind=row.kind,  # type: ignore[arg-type]
        surface=row.surface,
        type=row.type,
        canonical=row.target_name,
        canonical_type=row.target_type,
        note=row.note,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def list_overrides(*, session: Session) -> OverrideList:
    rows = repository.list_overrides(session)
    return OverrideList(items=[_out(r) for r in rows], version=override_set(rows).version)


def _requeue(
    session: Session, row: EntityOverride, *, removed: bool, request_id: str | None, publish: Publisher | None
) -> int:
    """Queue the enriched articles ``row`` affects for re-enrichment; how many."""
    target = None
    if removed and row.target_name is not None:  # the mentions it moved are under the target entity
        target = (row.target_name, row.target_type or row.type)
    ids = repository.affected_articles(
        session,
        surface_key=row.surface_key,
        entity_type=row.type,
        target=target,
        in_text=row.kind == EntityOverrideKind.IGNORE and removed,
    )
    job = EnrichJob(request_id=request_id, override=row.id)
    enqueue_enrich(session, article_ids=ids, job=job, publish=publish)
    log.info("override_requeued", override_id=row.id, removed=removed, count=len(ids), article_ids=ids[:100])
    return len(ids)


def add_override(
    *,
    session: Session,
    data: OverrideIn,
    created_by: str | None,
    request_id: str | None = None,
    publish: Publisher | None = None,
) -> OverrideSaved:
    """Store an override (409 when one with the same kind, surface and type exists) and re-enqueue."""
    row = repository.insert(
        session,
        values={
            "kind": data.kind,
            "surface": data.surface,
            "surface_key": normalise_surface(data.surface),
            "type": data.type,
            "target_name": data.canonical,
            "target_type": data.canonical_type,
            "note": data.note,
            "created_by": created_by,
        },
    )
    if row is None:
        scope = f" of type {data.type}" if data.type else ""
        raise OverrideExists(f"a {data.kind} override for {data.surface!r}{scope} exists")
    requeued = _requeue(session, row, removed=False, request_id=request_id, publish=publish)
    return OverrideSaved(override=_out(row), requeued=requeued)


def remove_override(
    *, session: Session, override_id: int, request_id: str | None = None, publish: Publisher | None = None
) -> OverrideDeleted:
    row = repository.delete_override(session, override_id=override_id)
    if row is None:
        raise NotFound(f"no entity override {override_id}")
    requeued = _requeue(session, row, removed=True, request_id=request_id, publish=publish)
    return OverrideDeleted(id=override_id, requeued=requeued)


#: ``created_by`` of the merge overrides written by :func:`resolve_entities`.

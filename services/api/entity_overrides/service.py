"""Entity overrides: list, add and remove them; each change re-enqueues the articles it affects through
the outbox (rows in the caller's transaction, published after the commit), like a failed-article retry."""

from __future__ import annotations

from collections.abc import Callable

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
from services.enrich.articles import repository as enrich_repository
from services.enrich.articles.service import override_set
from services.enrich.celery_app import ENRICH_TASK
from services.enrich.entities.overrides import normalise_surface
from services.enrich.entities.resolution import EntityRow, MergeProposal, propose_merges
from services.ingest.outbox import repository as outbox_repository
from shared.db import on_commit
from shared.errors import NewswireError, NotFound
from shared.models import EntityOverride

log = structlog.get_logger("newswire.overrides")

Publisher = Callable[[list[int]], None]


class OverrideExists(NewswireError):
    """One override per (kind, surface, type)."""

    status_code = 409
    error = "override_exists"


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
    rows = enrich_repository.list_overrides(session)
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
        in_text=row.kind == "ignore" and removed,
    )
    outbox_ids = [
        outbox_repository.add(
            session,
            article_id=article_id,
            task=ENRICH_TASK,
            payload={"request_id": request_id, "override": row.id},
        )
        for article_id in ids
    ]
    if publish is not None and outbox_ids:
        on_commit(session, lambda: publish(outbox_ids))
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
RESOLUTION_AUTHOR = "entity-resolution"


def resolve_entities(
    *, session: Session, apply: bool, publish: Publisher | None = None
) -> list[tuple[MergeProposal, int | None]]:
    """Merges proposed across the global entity table (:mod:`services.enrich.entities.resolution`), each
    with the id of the ``merge`` override written for it when ``apply`` (None: not applied, or an override
    for that name exists).  The override's note carries the rule and the reason; deleting it (``newswire
    entities override remove ID`` or ``DELETE /v1/ops/entity-overrides/ID``) undoes the merge."""
    table = [
        EntityRow(name=name, type=kind, article_count=count, aliases=frozenset(aliases))
        for name, kind, count, aliases in repository.entity_table(session)
    ]
    out: list[tuple[MergeProposal, int | None]] = []
    for proposal in propose_merges(table):
        override_id: int | None = None
        if apply:
            data = OverrideIn(
                kind="merge",
                surface=proposal.source,
                type=proposal.type,  # type: ignore[arg-type]
                canonical=proposal.target,
                note=f"{RESOLUTION_AUTHOR} ({proposal.rule}): {proposal.reason}",
            )
            try:
                saved = add_override(
                    session=session, data=data, created_by=RESOLUTION_AUTHOR, publish=publish
                )
                override_id = saved.override.id
            except OverrideExists:
                override_id = None
        out.append((proposal, override_id))
    return out

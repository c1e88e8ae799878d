"""Entity resolution across the global entity table, written as operator merge overrides.

The proposals are pure functions of the enrich worker (`services.enrich.entities.resolution`); writing them
is the API's override service. The command joins the two (the services never import each other)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.api.entity_overrides import repository
from services.api.entity_overrides.schemas import OverrideIn
from services.api.entity_overrides.service import add_override
from services.enrich.entities.resolution import EntityRow, MergeProposal, propose_merges
from shared.errors import OverrideExists
from shared.jobs.enqueue import Publisher

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

"""Entity resolution over the real entity table: merges written as explained overrides, undone by removal."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from newswire_cli.entity_resolution import RESOLUTION_AUTHOR, resolve_entities
from services.api.entity_overrides import service
from shared.models import Entity, EntityAlias, EntityOverride


def test_resolution_writes_explained_reversible_merges(db_session: Session) -> None:
    hillary = Entity(name="Hillary Clinton", type="PERSON", article_count=50, mention_count=90)
    db_session.add_all(
        [
            hillary,
            Entity(name="Hilary Clinton", type="PERSON", article_count=2, mention_count=2),
            Entity(name="Bill Clinton", type="PERSON", article_count=20, mention_count=30),
        ]
    )
    fbi = Entity(name="Federal Bureau of Investigation", type="ORG", article_count=5, mention_count=6)
    db_session.add_all([fbi, Entity(name="FBI", type="ORG", article_count=40, mention_count=60)])
    db_session.flush()
    db_session.add(EntityAlias(entity_id=fbi.id, alias="FBI", mention_count=1, article_count=1))
    db_session.flush()

    proposed = resolve_entities(session=db_session, apply=False)
    assert {(p.source, p.target) for p, _ in proposed} == {
        ("Hilary Clinton", "Hillary Clinton"),
        ("FBI", "Federal Bureau of Investigation"),
    }
    assert all(override_id is None for _, override_id in proposed)
    assert db_session.scalars(select(EntityOverride)).all() == []

    applied = resolve_entities(session=db_session, apply=True)
    rows = {row.surface: row for row in db_session.scalars(select(EntityOverride))}
    assert set(rows) == {"Hilary Clinton", "FBI"}
    assert rows["Hilary Clinton"].kind == "merge"
    assert rows["Hilary Clinton"].target_name == "Hillary Clinton"
    assert rows["Hilary Clinton"].created_by == RESOLUTION_AUTHOR
    assert "spelling" in (rows["Hilary Clinton"].note or "")
    assert "Bill Clinton" not in rows  # a distinct person sharing the surname

    again = resolve_entities(session=db_session, apply=True)  # idempotent: the overrides exist
    assert all(override_id is None for _, override_id in again)

    override_id = next(oid for p, oid in applied if p.source == "Hilary Clinton")
    assert override_id is not None
    service.remove_override(session=db_session, override_id=override_id)
    assert {row.surface for row in db_session.scalars(select(EntityOverride))} == {"FBI"}

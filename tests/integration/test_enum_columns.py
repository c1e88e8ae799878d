"""Columns holding a closed set of strings are typed as StrEnums in the models, stored as the same
strings in the same VARCHAR columns the migrations made (no migration, no native enum)."""

from __future__ import annotations

import enum

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import CheckConstraint, Column, Connection, select, text
from sqlalchemy.orm import Session

from shared.models import (
    Article,
    ArticleStatus,
    Base,
    DeliveryStatus,
    DuplicateMethod,
    EntityOverride,
    EntityOverrideKind,
    RawFormat,
    WebhookDelivery,
)
from tests.factories import stored_article

ENUM_COLUMNS: list[tuple[Column[object], type[enum.StrEnum]]] = [
    (Article.__table__.c.status, ArticleStatus),
    (Article.__table__.c.raw_format, RawFormat),
    (Article.__table__.c.duplicate_method, DuplicateMethod),
    (WebhookDelivery.__table__.c.status, DeliveryStatus),
    (EntityOverride.__table__.c.kind, EntityOverrideKind),
]


@pytest.mark.parametrize(("column", "members"), ENUM_COLUMNS, ids=lambda c: getattr(c, "key", None))
def test_each_enum_is_the_set_its_check_constraint_allows(
    column: Column[object], members: type[enum.StrEnum]
) -> None:
    (check,) = [
        c
        for c in column.table.constraints
        if isinstance(c, CheckConstraint) and f"{column.name} IN (" in str(c.sqltext)
    ]
    allowed = str(check.sqltext).split(f"{column.name} IN (")[1].split(")")[0]
    assert {v.strip(" '") for v in allowed.split(",")} == {m.value for m in members}


def test_members_are_stored_as_their_values_and_read_back_as_members(db_session: Session) -> None:
    original = stored_article(db_session, raw_format=RawFormat.HTML, status=ArticleStatus.ENRICHED)
    copy = stored_article(
        db_session,
        status="duplicate",  # a plain string is still accepted
        duplicate_of=original.id,
        duplicate_method=DuplicateMethod.NEAR,
    )
    override = EntityOverride(kind=EntityOverrideKind.IGNORE, surface="Read More", surface_key="read more")
    db_session.add(override)
    db_session.flush()

    stored = db_session.execute(
        text("SELECT status, raw_format, duplicate_method FROM articles WHERE id IN (:a, :b) ORDER BY id"),
        {"a": original.id, "b": copy.id},
    ).all()
    assert [tuple(r) for r in stored] == [("enriched", "html", None), ("duplicate", "text", "near")]
    assert db_session.scalar(text("SELECT kind FROM entity_overrides WHERE id = :i"), {"i": override.id}) == (
        "ignore"
    )

    db_session.expire_all()
    again = db_session.get(Article, copy.id)
    assert again is not None
    assert again.status is ArticleStatus.DUPLICATE
    assert again.raw_format is RawFormat.TEXT
    assert again.duplicate_method is DuplicateMethod.NEAR
    assert db_session.scalar(select(EntityOverride.kind).where(EntityOverride.id == override.id)) is (
        EntityOverrideKind.IGNORE
    )
    found = db_session.scalars(
        select(Article.id).where(Article.id.in_([original.id, copy.id]), Article.status == "duplicate")
    ).all()
    assert found == [copy.id]


@pytest.mark.filterwarnings("ignore:Expression #1")
def test_the_models_column_types_match_the_migrated_database(connection: Connection) -> None:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    changes = [op for op in compare_metadata(context, Base.metadata) if isinstance(op, list)]
    modified = [change for op in changes for change in op if change[0] == "modify_type"]
    assert modified == []

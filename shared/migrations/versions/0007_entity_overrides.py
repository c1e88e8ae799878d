"""entity overrides: operator corrections of entity canonicalisation (alias, merge, ignore)

Revision ID: 0007
Revises: 0006 (touches only the new entity_overrides table)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "entity_overrides",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("surface", sa.Text(), nullable=False),
        sa.Column("surface_key", sa.Text(), nullable=False),
        sa.Column("type", sa.String(32), nullable=True),
        sa.Column("target_name", sa.Text(), nullable=True),
        sa.Column("target_type", sa.String(32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_overrides")),
        sa.CheckConstraint("kind IN ('alias', 'merge', 'ignore')", name=op.f("ck_entity_overrides_kind_valid")),
        sa.CheckConstraint(
            "kind = 'ignore' OR target_name IS NOT NULL", name=op.f("ck_entity_overrides_target_given")
        ),
    )
    op.create_index(
        "uq_entity_overrides_kind_surface_key_type",
        "entity_overrides",
        ["kind", "surface_key", sa.literal_column("coalesce(type, '')")],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_entity_overrides_kind_surface_key_type", table_name="entity_overrides")
    op.drop_table("entity_overrides")

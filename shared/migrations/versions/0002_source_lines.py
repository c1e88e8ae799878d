"""source_lines: short lines per source, for per-source boilerplate learning

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_lines",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("line_hash", sa.String(16), nullable=False),
        sa.Column("count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("source", "line_hash", name="pk_source_lines"),
    )


def downgrade() -> None:
    op.drop_table("source_lines")

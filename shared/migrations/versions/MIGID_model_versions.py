"""model_versions: the versions each worker enriches with, recorded at its start (read by the API)

Revision ID: MIGID
Revises: 0013

A new, small table: no lock on existing tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "MIGID"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("versions", JSONB(), nullable=False),
        sa.Column("version_key", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("model", name="pk_model_versions"),
    )


def downgrade() -> None:
    op.drop_table("model_versions")

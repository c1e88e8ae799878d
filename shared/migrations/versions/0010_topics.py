"""topics: keyphrases per article (the topic classifier needs no schema change)

Revision ID: 0010
Revises: 0007 (adds one nullable column to articles)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # [{"phrase": ..., "score": ...}, ...] best first; NULL until enriched at code version 3 or later
    op.add_column("articles", sa.Column("keyphrases", JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("articles", "keyphrases")

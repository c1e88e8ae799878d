"""dedup decisions: why each duplicate is one (``articles.dedup_reason``) and the pairs an operator
said are not duplicates (``dedup_decisions``: never merged again)

Revision ID: 0015
Revises: 0014

``dedup_reason`` (JSONB, null for articles stored before) keeps what the duplicate decision saw: the
method, the score, the matching article and what differed.  Adding a nullable column without a default
does not rewrite ``articles``; ``lock_timeout`` keeps the migration from queueing behind long readers.
``dedup_decisions`` holds one row per pair (lower id first), written by
``POST /v1/ops/articles/{id}/not-duplicate`` / ``newswire dedup undo``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("articles", sa.Column("dedup_reason", JSONB(), nullable=True))
    op.create_table(
        "dedup_decisions",
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.Column("other_id", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column(
            "decided_at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False
        ),
        sa.CheckConstraint("article_id < other_id", name=op.f("ck_dedup_decisions_ordered")),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name="fk_dedup_decisions_article_id_articles", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["other_id"], ["articles.id"], name="fk_dedup_decisions_other_id_articles", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", "other_id", name="pk_dedup_decisions"),
    )
    op.create_index("ix_dedup_decisions_other_id", "dedup_decisions", ["other_id"])


def downgrade() -> None:
    op.drop_index("ix_dedup_decisions_other_id", table_name="dedup_decisions")
    op.drop_table("dedup_decisions")
    op.drop_column("articles", "dedup_reason")

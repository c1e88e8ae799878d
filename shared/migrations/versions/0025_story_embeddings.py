"""story embeddings: the multilingual embedding of each article's lead beside its story signature

Revision ID: 0025
Revises: 0024

``story_signatures.embedding`` (bytea, nullable) holds the article's multilingual-e5-small embedding as
384 signed bytes (``shared.stories.signature.quantise``: scaled so the largest component is ±127): a
quarter of float4[] and half of float16, and the cosine of the restored vectors is within about 1e-3 of
the float one, far below what separates two stories.  Adding a nullable column without a default is a
catalogue change (no table rewrite, a brief ACCESS EXCLUSIVE lock): safe on a large table.  Existing
signatures keep NULL (the text part of their matches is the term cosine, as before) until the article is
re-enriched (``newswire reprocess``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("story_signatures", sa.Column("embedding", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("story_signatures", "embedding")

"""the version key of each article's enrichment, indexed (what `newswire reprocess` compares)

Revision ID: 0006
Revises: 0005 (touches only articles)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("articles", sa.Column("enrichment_version", sa.Text(), nullable=True))
    # the same string as shared.versions.version_key: sorted "name=version" pairs joined by ";"
    op.execute(
        "UPDATE articles a SET enrichment_version = (SELECT string_agg(kv.key || '=' || kv.value, ';' "
        "ORDER BY kv.key COLLATE \"C\") FROM jsonb_each_text(a.model_versions) kv) "
        "WHERE a.model_versions IS NOT NULL AND jsonb_typeof(a.model_versions) = 'object'"
    )
    op.create_index("ix_articles_enrichment_version_id", "articles", ["enrichment_version", "id"])


def downgrade() -> None:
    op.drop_index("ix_articles_enrichment_version_id", table_name="articles")
    op.drop_column("articles", "enrichment_version")

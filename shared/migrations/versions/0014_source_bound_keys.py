"""source-bound API keys; article matching scoped to the writer (source, or the key for sourceless ones)

Revision ID: 0014
Revises: 0022

``api_keys`` gets ``sources`` (the sources a key may write) and ``any_source`` (it may write every
source). Every key that exists before this migration is marked ``any_source`` (it could write any source
until now): narrow one by creating a bound key (``newswire keys create --scope ingest --source S``),
giving it to the feed and revoking the old one.

``articles.writer_key_id`` is the API key that wrote an article sent without a ``source`` (NULL when the
article has one): the namespace of its ``external_id`` and canonical URL. The unique keys become
``(source, writer_key_id, external_id)`` and ``(canonical_url, source, writer_key_id)``: the same URL from
another source is a second row (stored as a duplicate linked to the original, ``duplicate_method`` 'url'),
never a revision of someone else's article. Indexes are built CONCURRENTLY (no write lock on a big table).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0014"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '10s'")
    # a default of true stamps every existing key (no table rewrite), then new keys default to false
    op.add_column(
        "api_keys", sa.Column("sources", ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False)
    )
    op.add_column(
        "api_keys", sa.Column("any_source", sa.Boolean(), server_default=sa.text("true"), nullable=False)
    )
    op.alter_column("api_keys", "any_source", server_default=sa.text("false"))
    op.add_column("articles", sa.Column("writer_key_id", sa.BigInteger(), nullable=True))
    op.execute("ALTER TABLE articles DROP CONSTRAINT ck_articles_duplicate_method_valid")
    op.execute(
        "ALTER TABLE articles ADD CONSTRAINT ck_articles_duplicate_method_valid "
        "CHECK (duplicate_method IS NULL OR duplicate_method IN ('exact', 'near', 'url')) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE articles VALIDATE CONSTRAINT ck_articles_duplicate_method_valid")
        op.execute(
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS uq_articles_canonical_url_source_writer "
            "ON articles (canonical_url, source, writer_key_id) NULLS NOT DISTINCT"
        )
        op.execute(
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS uq_articles_source_writer_external_id "
            "ON articles (source, writer_key_id, external_id) NULLS NOT DISTINCT "
            "WHERE external_id IS NOT NULL"
        )
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS uq_articles_canonical_url")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS uq_articles_source_external_id")


def downgrade() -> None:
    # fails (as it should) when the same URL or feed id is now stored for two sources
    with op.get_context().autocommit_block():
        op.execute("CREATE UNIQUE INDEX CONCURRENTLY uq_articles_canonical_url ON articles (canonical_url)")
        op.execute(
            "CREATE UNIQUE INDEX CONCURRENTLY uq_articles_source_external_id ON articles (source, external_id) "
            "NULLS NOT DISTINCT WHERE external_id IS NOT NULL"
        )
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS uq_articles_canonical_url_source_writer")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS uq_articles_source_writer_external_id")
    op.execute("ALTER TABLE articles DROP CONSTRAINT ck_articles_duplicate_method_valid")
    op.execute(
        "ALTER TABLE articles ADD CONSTRAINT ck_articles_duplicate_method_valid "
        "CHECK (duplicate_method IS NULL OR duplicate_method IN ('exact', 'near'))"
    )
    op.drop_column("articles", "writer_key_id")
    op.drop_column("api_keys", "any_source")
    op.drop_column("api_keys", "sources")

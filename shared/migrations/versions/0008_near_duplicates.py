"""near-duplicates and revisions: MinHash signatures and LSH bands, duplicate rows linked to their original
(method, score), article revisions with diffs; canonical URLs fold www./m./mobile./amp. hosts

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# the host part of services.ingest.articles.dedup.canonical_url's new folding, for stored rows
_FOLD_HOST = r"regexp_replace(canonical_url, '^(https?://)(www|m|mobile|amp)\.([^/:]+\.[^/:]+)', '\1\3')"


def upgrade() -> None:
    op.add_column("articles", sa.Column("duplicate_of", sa.BigInteger(), nullable=True))
    op.add_column("articles", sa.Column("duplicate_method", sa.String(16), nullable=True))
    op.add_column("articles", sa.Column("duplicate_score", sa.Float(), nullable=True))
    op.add_column("articles", sa.Column("revision", sa.Integer(), server_default="1", nullable=False))
    op.create_foreign_key(
        op.f("fk_articles_duplicate_of_articles"),
        "articles",
        "articles",
        ["duplicate_of"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(
        "ix_articles_duplicate_of",
        "articles",
        ["duplicate_of"],
        postgresql_where=sa.text("duplicate_of IS NOT NULL"),
    )
    op.create_check_constraint(
        op.f("ck_articles_duplicate_method_valid"),
        "articles",
        "duplicate_method IS NULL OR duplicate_method IN ('exact', 'near')",
    )
    # a duplicate row repeats its original's text: the hash is unique among originals only
    op.drop_index("uq_articles_content_hash", table_name="articles")
    op.create_index(
        "uq_articles_content_hash",
        "articles",
        ["content_hash"],
        unique=True,
        postgresql_where=sa.text("duplicate_of IS NULL"),
    )

    op.create_table(
        "article_minhash",
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_article_minhash")),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_minhash_article_id_articles"),
            ondelete="CASCADE",
        ),
    )
    # no foreign key: a band row of a deleted article is ignored by the join to article_minhash, and
    # a revision deletes its old bands by key (the primary key), so no index on article_id is needed
    op.create_table(
        "article_lsh_bands",
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("band_key", "article_id", name=op.f("pk_article_lsh_bands")),
    )
    op.create_table(
        "article_revisions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("diff", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_revisions")),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_revisions_article_id_articles"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "uq_article_revisions_article_id_revision", "article_revisions", ["article_id", "revision"], unique=True
    )
    # stored canonical URLs take the new host folding (not the /amp path rules) where that takes no other
    # article's URL; of several rows folding to one URL, the oldest takes it
    op.execute(
        f"""
        WITH folded AS (
            SELECT DISTINCT ON (url) id, url
            FROM (SELECT id, {_FOLD_HOST} AS url FROM articles
                  WHERE canonical_url ~ '^https?://(www|m|mobile|amp)\\.[^/:]+\\.[^/:]+') f
            ORDER BY url, id
        )
        UPDATE articles a SET canonical_url = folded.url FROM folded
        WHERE a.id = folded.id AND NOT EXISTS (SELECT 1 FROM articles b WHERE b.canonical_url = folded.url)
        """
    )


def downgrade() -> None:
    op.drop_index("uq_article_revisions_article_id_revision", table_name="article_revisions")
    op.drop_table("article_revisions")
    op.drop_table("article_lsh_bands")
    op.drop_table("article_minhash")
    op.execute("DELETE FROM articles WHERE duplicate_of IS NOT NULL")
    op.drop_index("uq_articles_content_hash", table_name="articles")
    op.create_index("uq_articles_content_hash", "articles", ["content_hash"], unique=True)
    op.drop_constraint(op.f("ck_articles_duplicate_method_valid"), "articles", type_="check")
    op.drop_index("ix_articles_duplicate_of", table_name="articles")
    op.drop_constraint(op.f("fk_articles_duplicate_of_articles"), "articles", type_="foreignkey")
    op.drop_column("articles", "revision")
    op.drop_column("articles", "duplicate_score")
    op.drop_column("articles", "duplicate_method")
    op.drop_column("articles", "duplicate_of")

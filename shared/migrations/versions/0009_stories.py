"""stories: articles about one event share a story id; per-article story signatures and lookup keys

Revision ID: 0009
Revises: 0007 (touches articles.story_id and the new stories, story_signatures, story_keys tables)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("label", sa.Text(), nullable=False, server_default=""),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("article_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("source_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column(
            "top_entities", postgresql.JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stories")),
    )
    op.create_index("ix_stories_last_seen_id", "stories", ["last_seen", "id"])
    op.add_column("articles", sa.Column("story_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_articles_story_id_stories"), "articles", "stories", ["story_id"], ["id"], ondelete="SET NULL"
    )
    op.create_index("ix_articles_story_id_id", "articles", ["story_id", "id"])
    op.create_table(
        "story_signatures",
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("terms", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("entity_keys", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("entity_weights", postgresql.ARRAY(sa.Float()), nullable=False),
        sa.Column("match", postgresql.JSONB(), nullable=True),
        sa.Column("syndicated", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("assigned_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_story_signatures_article_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_story_signatures")),
    )
    op.create_table(
        "story_keys",
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_story_keys_article_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key", "at", "article_id", name=op.f("pk_story_keys")),
    )
    op.create_index("ix_story_keys_article_id", "story_keys", ["article_id"])


def downgrade() -> None:
    op.drop_index("ix_story_keys_article_id", table_name="story_keys")
    op.drop_table("story_keys")
    op.drop_table("story_signatures")
    op.drop_index("ix_articles_story_id_id", table_name="articles")
    op.drop_constraint(op.f("fk_articles_story_id_stories"), "articles", type_="foreignkey")
    op.drop_column("articles", "story_id")
    op.drop_index("ix_stories_last_seen_id", table_name="stories")
    op.drop_table("stories")

"""access: API keys (hashed, scoped), idempotency records; (source, external_id) unique with NULL sources

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.CheckConstraint(
            "scopes <@ ARRAY['ingest', 'read', 'admin']::text[] AND cardinality(scopes) > 0",
            name=op.f("ck_api_keys_scopes_valid"),
        ),
    )
    op.create_index("uq_api_keys_prefix", "api_keys", ["prefix"], unique=True)
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("api_key_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_keys.id"], name=op.f("fk_idempotency_keys_api_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
    )
    op.create_index("uq_idempotency_keys_api_key_id_key", "idempotency_keys", ["api_key_id", "key"], unique=True)
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])
    # two articles without a source but with the same external_id are one article too
    op.drop_index("uq_articles_source_external_id", table_name="articles")
    op.create_index(
        "uq_articles_source_external_id", "articles", ["source", "external_id"], unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"), postgresql_nulls_not_distinct=True,
    )


def downgrade() -> None:
    op.drop_index("uq_articles_source_external_id", table_name="articles")
    op.create_index(
        "uq_articles_source_external_id", "articles", ["source", "external_id"], unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index("ix_idempotency_keys_expires_at", table_name="idempotency_keys")
    op.drop_index("uq_idempotency_keys_api_key_id_key", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("uq_api_keys_prefix", table_name="api_keys")
    op.drop_table("api_keys")

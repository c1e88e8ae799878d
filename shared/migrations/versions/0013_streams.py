"""streams: an enrichment event log (live stream, webhooks), saved queries and their webhook deliveries

Revision ID: 0013
Revises: 0011

``article_events`` gets one row each time an article becomes enriched (again, on a re-enrichment), written
by a *deferred* constraint trigger on ``articles``: it fires at commit time, so the event's ``seq`` is taken
from the sequence just before the transaction becomes visible.  Readers (``GET /v1/stream``, the webhook
matcher) read events in ``seq`` order and only those older than a short settle lag
(NEWSWIRE_STREAM_SETTLE_SECONDS): two transactions committing at the same moment may become visible in
the other order than their ``seq`` values, and the lag makes sure the lower one is visible before a
reader moves past it.  Articles inserted already enriched (bulk loads) make no event.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_events",
        sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name="fk_article_events_article_id_articles", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_article_events"),
    )
    op.create_index("ix_article_events_article_id", "article_events", ["article_id"])
    op.execute(
        """
        CREATE FUNCTION newswire_article_enriched() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO article_events (article_id) VALUES (NEW.id);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER article_enriched AFTER UPDATE OF enriched_at ON articles
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (NEW.status = 'enriched' AND NEW.enriched_at IS DISTINCT FROM OLD.enriched_at)
        EXECUTE FUNCTION newswire_article_enriched()
        """
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("query", JSONB(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("delivery_id", sa.String(36), nullable=False),
        sa.Column("subscription_id", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name="ck_webhook_deliveries_status_valid"
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name="fk_webhook_deliveries_subscription_id_subscriptions",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name="fk_webhook_deliveries_article_id_articles", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
    )
    op.create_index(
        "uq_webhook_deliveries_subscription_id_event_seq",
        "webhook_deliveries",
        ["subscription_id", "event_seq"],
        unique=True,
    )
    op.create_index("uq_webhook_deliveries_delivery_id", "webhook_deliveries", ["delivery_id"], unique=True)
    op.create_index("ix_webhook_deliveries_article_id", "webhook_deliveries", ["article_id"])
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("subscriptions")
    op.execute("DROP TRIGGER article_enriched ON articles")
    op.execute("DROP FUNCTION newswire_article_enriched()")
    op.drop_table("article_events")

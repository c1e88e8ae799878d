"""exactly once: job leases, per-article attempt counts, one stream event per (article, version, revision)

Revision ID: 0020
Revises: 0016

- ``outbox.lease_until``: the deadline of a job's current holder (a relay publishing it, the broker queue,
  a worker running it). The relay republishes a job whose lease ran out, whatever the queue depth.
- ``articles.enrich_attempts``: enrich attempts started and not (yet) ended, counted before the work in a
  committed transaction of their own, so a worker that dies leaves its count behind; past
  NEWSWIRE_ENRICH_MAX_ATTEMPTS the article is failed as ``poison``.
- ``article_events.version`` / ``revision`` and a unique index on (article_id, version, revision): the
  deferred trigger of 0013 inserts with ON CONFLICT DO NOTHING, so a redelivered job that writes the same
  enrichment again never emits a second event (nor, through the events, a second webhook delivery).

Columns are added without a default rewrite (nullable, or a constant default: metadata only on
PostgreSQL 11+) under a short lock_timeout; the unique index is built CONCURRENTLY outside the
transaction (existing events have a NULL version, which never conflicts).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0016"
branch_labels = None
depends_on = None

_TRIGGER_V2 = """
CREATE OR REPLACE FUNCTION newswire_article_enriched() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO article_events (article_id, version, revision)
    VALUES (NEW.id, NEW.enrichment_version, NEW.revision)
    ON CONFLICT (article_id, version, revision) DO NOTHING;
    RETURN NULL;
END $$
"""

_TRIGGER_V1 = """
CREATE OR REPLACE FUNCTION newswire_article_enriched() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO article_events (article_id) VALUES (NEW.id);
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("outbox", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "articles", sa.Column("enrich_attempts", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("article_events", sa.Column("version", sa.Text(), nullable=True))
    op.add_column("article_events", sa.Column("revision", sa.Integer(), nullable=True))
    with op.get_context().autocommit_block():
        op.execute("SET lock_timeout = '0'")
        op.create_index(
            "uq_article_events_article_id_version_revision",
            "article_events",
            ["article_id", "version", "revision"],
            unique=True,
            postgresql_concurrently=True,
            if_not_exists=True,
        )
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(_TRIGGER_V2)


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(_TRIGGER_V1)
    op.drop_index("uq_article_events_article_id_version_revision", table_name="article_events")
    op.drop_column("article_events", "revision")
    op.drop_column("article_events", "version")
    op.drop_column("articles", "enrich_attempts")
    op.drop_column("outbox", "lease_until")

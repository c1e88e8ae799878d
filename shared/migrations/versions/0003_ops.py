"""ops: per-article stage timestamps, indexes for queue rates, per-source hourly ledger

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = "0002"
branch_labels = None
depends_on = None

STAGES = ('received_at', 'cleaned_at', 'stored_at', 'queued_at', 'enrich_started_at', 'failed_at')


def upgrade() -> None:
    for column in STAGES:
        op.add_column('articles', sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    # articles stored before this revision: receipt and storage were one moment; queued when first published
    op.execute("UPDATE articles SET received_at = created_at, stored_at = created_at WHERE received_at IS NULL")
    op.execute(
        "UPDATE articles a SET queued_at = o.first_published FROM "
        "(SELECT article_id, min(published_at) AS first_published FROM outbox GROUP BY article_id) o "
        "WHERE o.article_id = a.id AND a.queued_at IS NULL"
    )
    op.execute("UPDATE articles SET failed_at = updated_at WHERE status = 'failed' AND failed_at IS NULL")
    # rates per minute and the per-source ledger read recent rows by these timestamps
    op.create_index('ix_articles_received_at', 'articles', ['received_at'], unique=False)
    op.create_index('ix_articles_enriched_at', 'articles', ['enriched_at'], unique=False,
                    postgresql_where=sa.text('enriched_at IS NOT NULL'))
    op.create_index('ix_articles_failed_at', 'articles', ['failed_at'], unique=False,
                    postgresql_where=sa.text('failed_at IS NOT NULL'))
    op.create_index('ix_articles_source_received_at', 'articles', ['source', 'received_at'], unique=False)
    op.create_table(
        'source_hours',
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
        sa.Column('accepted', sa.Integer(), server_default='0', nullable=False),
        sa.Column('duplicates', sa.Integer(), server_default='0', nullable=False),
        sa.Column('rejected', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('source', 'hour', name=op.f('pk_source_hours')),
    )
    op.create_index('ix_source_hours_hour', 'source_hours', ['hour'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_source_hours_hour', table_name='source_hours')
    op.drop_table('source_hours')
    op.drop_index('ix_articles_source_received_at', table_name='articles')
    op.drop_index('ix_articles_failed_at', table_name='articles', postgresql_where=sa.text('failed_at IS NOT NULL'))
    op.drop_index('ix_articles_enriched_at', table_name='articles',
                  postgresql_where=sa.text('enriched_at IS NOT NULL'))
    op.drop_index('ix_articles_received_at', table_name='articles')
    for column in reversed(STAGES):
        op.drop_column('articles', column)

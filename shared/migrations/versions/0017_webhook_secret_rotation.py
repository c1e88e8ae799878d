"""webhook secret rotation: a subscription keeps its previous secret for a grace period

Revision ID: 0017
Revises: 0013

``POST /v1/subscriptions/{id}/rotate-secret`` moves ``secret`` to ``previous_secret`` (valid until
``previous_secret_expires_at``; deliveries carry both signatures meanwhile). Two nullable columns on a
small table: no rewrite; ``lock_timeout`` keeps the migration from queueing behind a long transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("subscriptions", sa.Column("previous_secret", sa.Text(), nullable=True))
    op.add_column(
        "subscriptions", sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("subscriptions", "previous_secret_expires_at")
    op.drop_column("subscriptions", "previous_secret")

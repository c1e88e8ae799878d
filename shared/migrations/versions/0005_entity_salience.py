"""entity salience per article; global entity counts and aliases

Revision ID: 0005
Revises: 0004 (touches only entities, entity_aliases, article_entities)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # salience of an entity in one article (rows written before this revision: recomputed on re-enrichment)
    op.add_column("article_entities", sa.Column("in_title", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("article_entities", sa.Column("in_lead", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("article_entities", sa.Column("first_offset", sa.Integer(), nullable=True))
    op.add_column("article_entities", sa.Column("salience", sa.Float(), server_default="0", nullable=False))
    op.execute(
        "UPDATE article_entities ae SET "
        "in_title = EXISTS (SELECT 1 FROM jsonb_array_elements(ae.mentions) m WHERE m->>'field' = 'title'), "
        "first_offset = (SELECT min((m->>'start')::int) FROM jsonb_array_elements(ae.mentions) m "
        "WHERE m->>'field' = 'text')"
    )
    op.create_index("ix_article_entities_article_id_salience", "article_entities", ["article_id", "salience"])

    # the global entity table: counts kept up to date by the enrichment transaction (by difference)
    op.add_column("entities", sa.Column("article_count", sa.Integer(), server_default="0", nullable=False))
    op.add_column("entities", sa.Column("mention_count", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        "UPDATE entities e SET article_count = c.articles, mention_count = c.mentions FROM "
        "(SELECT entity_id, count(*) AS articles, sum(mention_count) AS mentions FROM article_entities "
        "GROUP BY entity_id) c WHERE c.entity_id = e.id"
    )
    op.create_index("ix_entities_article_count_id", "entities", [sa.text("article_count DESC"), "id"])

    op.create_table(
        "entity_aliases",
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("alias", sa.Text(), nullable=False),
        sa.Column("mention_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("article_count", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name="fk_entity_aliases_entity_id_entities", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("entity_id", "alias", name="pk_entity_aliases"),
    )
    op.create_index(
        "ix_entity_aliases_lower_alias", "entity_aliases", [sa.literal_column("lower(alias) text_pattern_ops")]
    )
    op.execute(
        "INSERT INTO entity_aliases (entity_id, alias, mention_count, article_count) "
        "SELECT ae.entity_id, m->>'text', count(*), count(DISTINCT ae.article_id) "
        "FROM article_entities ae, jsonb_array_elements(ae.mentions) m GROUP BY ae.entity_id, m->>'text'"
    )


def downgrade() -> None:
    op.drop_index("ix_entity_aliases_lower_alias", table_name="entity_aliases")
    op.drop_table("entity_aliases")
    op.drop_index("ix_entities_article_count_id", table_name="entities")
    op.drop_column("entities", "mention_count")
    op.drop_column("entities", "article_count")
    op.drop_index("ix_article_entities_article_id_salience", table_name="article_entities")
    for column in ("salience", "first_offset", "in_lead", "in_title"):
        op.drop_column("article_entities", column)

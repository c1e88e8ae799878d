"""facet counts: exact counts by day, source, language for all articles, topics and entities

Revision ID: 0016
Revises: 0015

``facet_counts`` holds, per publication day (UTC; ``-infinity`` for an undated article), source and
language (``''`` for none), how many non-duplicate articles there are (``dim='all'``), how many carry each
topic (``dim='topic'``, key the code) and how many mention each entity (``dim='entity'``, key the id);
and all-time totals (day ``infinity``; topics and entities also over every source or language, ``'*'``).
Triggers keep it exact in the writing transaction, whatever writes: ingest, enrichment, re-enrichment,
overrides, entity merges, a duplicate undone, a revision, a deletion.

The triggers never update ``facet_counts`` themselves (two enrichments sharing entities would lock the same
rows in different orders): they append signed deltas to ``facet_deltas``; ``facet_fold()`` moves the
committed deltas into ``facet_counts`` (one folder at a time, under a transaction advisory lock; the
articles trigger calls it, so enrichment keeps the delta log short).  Readers sum both tables in one
statement: the moved rows are either still deltas or already counted in the reader's snapshot, never both.
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_COLUMNS = (
    "day date NOT NULL, dim text NOT NULL, key text NOT NULL, source text NOT NULL, "
    "language text NOT NULL, n bigint NOT NULL"
)

# The contributions of a set of articles ``a`` (with columns id, status, source, language, published_at),
# each with the sign ``s``: one 'all' row, one per topic, one per entity.  ``{a}`` is a FROM item.
_CONTRIBUTIONS = """
    SELECT facet_day(a.published_at) AS day, 'all' AS dim, '' AS key,
           coalesce(a.source, '') AS source, coalesce(a.language, '') AS language, {s}::bigint AS n
      FROM {a} WHERE a.status <> 'duplicate'
    UNION ALL
    SELECT facet_day(a.published_at), 'topic', t.topic_code, coalesce(a.source, ''),
           coalesce(a.language, ''), {s}::bigint
      FROM {a} JOIN article_topics t ON t.article_id = a.id WHERE a.status <> 'duplicate'
    UNION ALL
    SELECT facet_day(a.published_at), 'entity', e.entity_id::text, coalesce(a.source, ''),
           coalesce(a.language, ''), {s}::bigint
      FROM {a} JOIN article_entities e ON e.article_id = a.id WHERE a.status <> 'duplicate'
"""


def _rolled(select_sql: str) -> str:
    """The rows of ``select_sql`` summed per key, plus their all-time totals (day ``infinity``): per source
    and language for ``all``; for topics and entities over every source and language ('*'), per source
    and per language: what a facet without a date range reads (a few rows per entity instead of one per
    day, source and language)."""
    return f"""
        WITH d AS ({select_sql})
        SELECT day, dim, key, source, language, sum(n) AS n FROM (
            SELECT day, dim, key, source, language, n FROM d
            UNION ALL
            SELECT 'infinity'::date, dim, key, source, language, n FROM d WHERE dim = 'all'
            UNION ALL
            SELECT 'infinity'::date, dim, key, '*', '*', n FROM d WHERE dim <> 'all'
            UNION ALL
            SELECT 'infinity'::date, dim, key, source, '*', n FROM d WHERE dim <> 'all'
            UNION ALL
            SELECT 'infinity'::date, dim, key, '*', language, n FROM d WHERE dim <> 'all'
        ) g GROUP BY day, dim, key, source, language
    """


def _insert_deltas(select_sql: str) -> str:
    return f"""
        INSERT INTO facet_deltas (day, dim, key, source, language, n)
        SELECT day, dim, key, source, language, n FROM ({_rolled(select_sql)}) r WHERE n <> 0;
    """


def _child(table: str, key_sql: str, dim: str) -> str:
    """The delta of rows of article_topics/article_entities inserted (+1), deleted (-1) or updated."""
    rows = f"""
        SELECT facet_day(a.published_at) AS day, '{dim}' AS dim, {key_sql} AS key,
               coalesce(a.source, '') AS source, coalesce(a.language, '') AS language, {{s}}::bigint AS n
          FROM {{rows}} c JOIN articles a ON a.id = c.article_id WHERE a.status <> 'duplicate'
    """
    plus = rows.format(s="1", rows="new_rows")
    minus = rows.format(s="-1", rows="old_rows")
    return f"""
        CREATE FUNCTION facet_{table}_ins() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {_insert_deltas(plus)} RETURN NULL; END $$;
        CREATE FUNCTION facet_{table}_del() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {_insert_deltas(minus)} RETURN NULL; END $$;
        CREATE FUNCTION facet_{table}_upd() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {_insert_deltas(plus + " UNION ALL " + minus)} RETURN NULL; END $$;
        CREATE TRIGGER facet_{table}_ins AFTER INSERT ON {table}
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION facet_{table}_ins();
        CREATE TRIGGER facet_{table}_del AFTER DELETE ON {table}
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION facet_{table}_del();
        CREATE TRIGGER facet_{table}_upd AFTER UPDATE ON {table}
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION facet_{table}_upd();
    """


FOLD = """
CREATE OR REPLACE FUNCTION facet_fold() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF pg_try_advisory_xact_lock(7316001600) THEN
        WITH moved AS (DELETE FROM facet_deltas RETURNING *)
        INSERT INTO facet_counts AS c (day, dim, key, source, language, n)
        SELECT day, dim, key, source, language, sum(n) FROM moved
         GROUP BY dim, day, key, source, language ORDER BY dim, day, key, source, language
        ON CONFLICT (dim, day, key, source, language) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
END $$
"""


def rebuild(*, tables: str = "facet_counts, facet_deltas", then: str = "") -> str:
    """facet_rebuild(): the counts from the articles' contributions (``tables`` locked and emptied first,
    ``then`` run after; migration 0023 adds the rollups)."""
    return f"""
CREATE OR REPLACE FUNCTION facet_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE {tables} IN EXCLUSIVE MODE;
    TRUNCATE {tables};
    INSERT INTO facet_counts (day, dim, key, source, language, n)
    SELECT day, dim, key, source, language, n
      FROM ({_rolled(_CONTRIBUTIONS.format(s="1", a="articles a"))}) r WHERE n <> 0;
    {then}
END $$
"""


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '10s'")
    # both indexes cover the reads (index-only scans): a date range by dim and day, the all-time totals by
    # source and language
    op.execute(f"CREATE TABLE facet_counts ({_COLUMNS}, CONSTRAINT pk_facet_counts PRIMARY KEY "
               "(dim, day, key, source, language) INCLUDE (n))")  # fmt: skip
    op.execute(
        "CREATE INDEX ix_facet_counts_day_source_language ON facet_counts (day, source, language, dim) "
        "INCLUDE (key, n)"
    )
    op.execute(f"CREATE TABLE facet_deltas ({_COLUMNS})")
    op.execute(
        """
        CREATE FUNCTION facet_day(ts timestamptz) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT CASE WHEN ts IS NULL THEN '-infinity'::date ELSE (ts AT TIME ZONE 'UTC')::date END
        $$
        """
    )
    op.execute(FOLD)
    op.execute(rebuild())
    # articles: a change of what an article counts under (counted or not, day, source, language) moves
    # all its contributions; a deleted article takes them with it (before the cascade removes its rows)
    changed = """(SELECT n.* FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (o.status = 'duplicate') IS DISTINCT FROM (n.status = 'duplicate')
           OR o.source IS DISTINCT FROM n.source OR o.language IS DISTINCT FROM n.language
           OR facet_day(o.published_at) <> facet_day(n.published_at)) a"""
    was = changed.replace("SELECT n.*", "SELECT o.*")
    op.execute(
        "CREATE FUNCTION facet_articles_ins() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + _insert_deltas(_CONTRIBUTIONS.format(s="1", a="new_rows a"))
        + " RETURN NULL; END $$"
    )
    op.execute(
        "CREATE FUNCTION facet_articles_upd() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + _insert_deltas(
            _CONTRIBUTIONS.format(s="1", a=changed) + " UNION ALL " + _CONTRIBUTIONS.format(s="-1", a=was)
        )
        + " PERFORM facet_fold(); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE FUNCTION facet_articles_del() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + _insert_deltas(
            _CONTRIBUTIONS.format(
                s="-1", a="(SELECT OLD.id, OLD.status, OLD.source, OLD.language, OLD.published_at) a"
            )
        )
        + " RETURN OLD; END $$"
    )
    op.execute(
        """
        CREATE TRIGGER facet_articles_ins AFTER INSERT ON articles
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION facet_articles_ins();
        CREATE TRIGGER facet_articles_upd AFTER UPDATE ON articles
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION facet_articles_upd();
        CREATE TRIGGER facet_articles_del BEFORE DELETE ON articles
            FOR EACH ROW EXECUTE FUNCTION facet_articles_del();
        """
    )
    op.execute(_child("article_topics", "c.topic_code", "topic"))
    op.execute(_child("article_entities", "c.entity_id::text", "entity"))
    op.execute("SELECT facet_rebuild()")


def downgrade() -> None:
    for table in ("article_topics", "article_entities", "articles"):
        for kind in ("ins", "del", "upd"):
            op.execute(f"DROP TRIGGER IF EXISTS facet_{table}_{kind} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS facet_{table}_{kind}()")
    op.execute("DROP FUNCTION IF EXISTS facet_rebuild()")
    op.execute("DROP FUNCTION IF EXISTS facet_fold()")
    op.execute("DROP TABLE IF EXISTS facet_deltas")
    op.execute("DROP TABLE IF EXISTS facet_counts")
    op.execute("DROP FUNCTION IF EXISTS facet_day(timestamptz)")

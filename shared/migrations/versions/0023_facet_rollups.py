"""facet rollups: topic and entity counts per day, week and month over every source, kept by the fold

Revision ID: 0023
Revises: 0020

``facet_counts`` has one row per day, source, language and entity: at a million articles a 90-day facet
summed 4.2M rows (3.6 s).  ``facet_rollups`` holds the same topic and entity counts summed over the
sources, per language, for each day (``grain`` 'd'), ISO week ('w', ``period`` its Monday) and calendar
month ('m', its first day): a facet without a source filter sums whole months, then whole weeks, then days,
about a tenth of the rows.  Undated articles (day ``-infinity``) and the all-time totals (``infinity``)
are not rolled up.

``facet_fold()`` moves the committed deltas into both tables in one statement, so the rollups are always
the rollup of ``facet_counts`` (the pending deltas are summed by the readers, as before);
``facet_rebuild()`` rebuilds both.  The backfill holds the fold's advisory lock: a fold meanwhile leaves
its deltas pending (readers sum them) instead of racing the backfill.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from alembic import op

revision = "0023"
down_revision = "0020"
branch_labels = None
depends_on = None

# the rolled-up rows of a set of facet rows ``{rows}`` (columns day, dim, key, language, n)
_ROLLUP = """
    SELECT g.grain, g.period, r.dim, r.key, r.language, sum(r.n) AS n
      FROM {rows} r
     CROSS JOIN LATERAL (VALUES ('d', r.day), ('w', date_trunc('week', r.day)::date),
                                ('m', date_trunc('month', r.day)::date)) g(grain, period)
     WHERE r.dim <> 'all' AND r.day > '-infinity'::date AND r.day < 'infinity'::date
     GROUP BY g.grain, g.period, r.dim, r.key, r.language
"""

_FOLD = f"""
CREATE OR REPLACE FUNCTION facet_fold() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF pg_try_advisory_xact_lock(7316001600) THEN
        WITH moved AS (DELETE FROM facet_deltas RETURNING *),
        counted AS (
            INSERT INTO facet_counts AS c (day, dim, key, source, language, n)
            SELECT day, dim, key, source, language, sum(n) FROM moved
             GROUP BY dim, day, key, source, language ORDER BY dim, day, key, source, language
            ON CONFLICT (dim, day, key, source, language) DO UPDATE SET n = c.n + EXCLUDED.n
        )
        INSERT INTO facet_rollups AS r (grain, period, dim, key, language, n)
        SELECT * FROM ({_ROLLUP.format(rows="moved")}) m ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (grain, period, dim, key, language) DO UPDATE SET n = r.n + EXCLUDED.n;
    END IF;
END $$
"""


def _m0016() -> ModuleType:
    return import_module("shared.migrations.versions.0016_facet_counts")


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '10s'")
    op.execute(
        "CREATE TABLE facet_rollups (grain char(1) NOT NULL, period date NOT NULL, dim text NOT NULL, "
        "key text NOT NULL, language text NOT NULL, n bigint NOT NULL)"
    )
    # no fold while the backfill reads facet_counts (a fold meanwhile leaves its deltas pending)
    op.execute("SELECT pg_advisory_xact_lock(7316001600)")
    op.execute(
        f"INSERT INTO facet_rollups SELECT * FROM ({_ROLLUP.format(rows='facet_counts')}) r WHERE n <> 0"
    )
    # the reads: a list of periods of one grain, one dim (index-only scans)
    op.execute(
        "ALTER TABLE facet_rollups ADD CONSTRAINT pk_facet_rollups "
        "PRIMARY KEY (grain, period, dim, key, language) INCLUDE (n)"
    )
    op.execute(_FOLD)
    rollup = _ROLLUP.format(rows="facet_counts")
    op.execute(
        _m0016().rebuild(
            tables="facet_counts, facet_deltas, facet_rollups",
            then=f"INSERT INTO facet_rollups SELECT * FROM ({rollup}) r WHERE n <> 0;",
        )
    )
    op.execute("ANALYZE facet_rollups")


def downgrade() -> None:
    op.execute("SELECT pg_advisory_xact_lock(7316001600)")
    op.execute(_m0016().FOLD)
    op.execute(_m0016().rebuild())
    op.execute("DROP TABLE IF EXISTS facet_rollups")

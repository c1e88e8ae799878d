"""search per language: each article's ``search_tsv`` built with its own language's text-search configuration

Revision ID: 0024
Revises: 0023

``article_search_config(language, language_hint)`` maps the detected language (else the feed's hint) to
one of PostgreSQL's configurations by its ISO 639-1 code (``simple`` for any other language, ``und`` and
none; only the configurations this server has are mapped).  ``search_tsv`` stops being a generated column
(``DROP EXPRESSION``: a catalogue change, no rewrite, the GIN index and every stored vector stay as they
are) and a ``BEFORE INSERT OR UPDATE OF title, text, language, language_hint`` trigger keeps it: on insert
(with the hint: the language is detected later) and whenever the title, the body or the configuration
changes, so an article the worker finds to be German is re-indexed in German in the enrichment's own
transaction, and a re-enrichment that keeps the language builds no new vector.  The trigger is ``ENABLE ALWAYS``
(it fires under ``session_replication_role = replica`` too, as the generated column did).

Why not a new generated column: changing a generated column's expression (or adding one) rewrites the
table under an ACCESS EXCLUSIVE lock, every read and write blocked for the whole rewrite (at 1M articles,
many minutes).  Here the locks are brief (ALTER TABLE, CREATE TRIGGER, under ``lock_timeout``), and the
backfill rewrites only the articles whose configuration is not ``english`` (the others already hold the
right vector), in batches of ``BATCH`` ids, each committed on its own (row locks held about a second),
while readers and writers go on: English articles are searched right throughout, the others batch by
batch.

Cost (measured, docs/operations.md): 20,000 articles with real bodies (median ~5,000 characters), 6,002
of them not English (de, fr, undetected), on a shared 2-core machine: 13-16 s, about 2.5 ms per rewritten
row (the vector, the row's new version and its index entries), the table 184 -> 214 MB until VACUUM
reclaims the old versions.  At 1M articles: every id scanned once (the whole heap read), plus 2.5 ms per
non-English article: about 5 minutes if 10% are not English, 15 if 30%, with no blocking.

Downgrade: back to 0023's schema, the generated ``english`` column (0011's expression) and its GIN
index, which rewrites the table under an ACCESS EXCLUSIVE lock, as 0011 did (20,000 articles: 39 s; 1M:
about half an hour with ingest and the API blocked: plan a window).
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

BATCH = 2000  # ids per backfill transaction

# ISO 639-1 -> configuration, frozen here (shared.textsearch.CONFIGS is the live copy, tested equal)
CONFIGS = {
    "ar": "arabic", "ca": "catalan", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "es": "spanish", "eu": "basque", "fi": "finnish", "fr": "french", "ga": "irish", "hi": "hindi",
    "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian", "lt": "lithuanian",
    "nb": "norwegian", "ne": "nepali", "nl": "dutch", "nn": "norwegian", "no": "norwegian",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian", "sv": "swedish", "ta": "tamil",
    "tr": "turkish", "yi": "yiddish",
}  # fmt: skip

_CODE = "nullif(lower(split_part(replace(btrim({0}), '_', '-'), '-', 1)), '')"

_VECTOR = """
CREATE OR REPLACE FUNCTION article_search_vector(cfg regconfig, title text, body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector(cfg, coalesce(title, '')), 'A')
        || setweight(to_tsvector(cfg, left(coalesce(body, ''), 200000)), 'B')
$$
"""

_TRIGGER = """
CREATE OR REPLACE FUNCTION articles_search_tsv() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cfg regconfig := {config};
BEGIN
    IF TG_OP = 'INSERT' OR NEW.search_tsv IS NULL OR cfg <> {old_config}
       OR NEW.title IS DISTINCT FROM OLD.title OR NEW.text IS DISTINCT FROM OLD.text THEN
        NEW.search_tsv := article_search_vector(cfg, NEW.title, NEW.text);
    END IF;
    RETURN NEW;
END $$
"""

_BY_LANGUAGE = _TRIGGER.format(
    config="article_search_config(NEW.language, NEW.language_hint)",
    old_config="article_search_config(OLD.language, OLD.language_hint)",
)
# migration 0011's generated column
_SEARCH_TSV_0011 = (
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, left(coalesce(text, ''), 200000)), 'B')"
)


def _config_function(present: set[str]) -> str:
    cases = "\n".join(
        f"        WHEN '{code}' THEN '{cfg}'::regconfig" for code, cfg in sorted(CONFIGS.items()) if cfg in present
    )
    code = f"coalesce(nullif({_CODE.format('language')}, 'und'), {_CODE.format('language_hint')})"
    return f"""
CREATE OR REPLACE FUNCTION article_search_config(language text, language_hint text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE {code}
{cases}
        ELSE 'simple'::regconfig
    END
$$
"""


def _backfill() -> None:
    """Rewrite, batch by batch, the vector of every article whose configuration is not english, each
    batch its own transaction (outside the migration's), then refresh the statistics."""
    with op.get_context().autocommit_block():
        op.execute("SET lock_timeout = '0'")  # a batch waits for the row locks of running writers
        _batches()
        op.execute("ANALYZE articles (search_tsv)")


def _batches() -> None:
    bind = op.get_bind()
    after = 0
    while True:
        upto = bind.execute(
            text("SELECT max(id) FROM (SELECT id FROM articles WHERE id > :after ORDER BY id LIMIT :n) b"),
            {"after": after, "n": BATCH},
        ).scalar()
        if upto is None:
            return
        bind.execute(
            text(
                "UPDATE articles "
                "SET search_tsv = article_search_vector(article_search_config(language, language_hint), title, text) "
                "WHERE id > :after AND id <= :upto "
                "AND article_search_config(language, language_hint) <> 'english'::regconfig"
            ),
            {"after": after, "upto": upto},
        )
        after = upto


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '10s'")
    present = {str(r[0]) for r in op.get_bind().execute(text("SELECT cfgname FROM pg_ts_config"))}
    op.execute(_config_function(present))
    op.execute(_VECTOR)
    op.execute("ALTER TABLE articles ALTER COLUMN search_tsv DROP EXPRESSION IF EXISTS")
    op.execute(_BY_LANGUAGE)
    op.execute("DROP TRIGGER IF EXISTS articles_search_tsv ON articles")
    op.execute(
        "CREATE TRIGGER articles_search_tsv BEFORE INSERT OR UPDATE OF title, text, language, language_hint "
        "ON articles FOR EACH ROW EXECUTE FUNCTION articles_search_tsv()"
    )
    op.execute("ALTER TABLE articles ENABLE ALWAYS TRIGGER articles_search_tsv")
    _backfill()


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '10s'")
    op.execute("DROP TRIGGER IF EXISTS articles_search_tsv ON articles")
    op.execute("DROP FUNCTION IF EXISTS articles_search_tsv()")
    op.execute("DROP INDEX IF EXISTS ix_articles_search_tsv")
    op.execute("ALTER TABLE articles DROP COLUMN search_tsv")
    op.execute(
        f"ALTER TABLE articles ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS ({_SEARCH_TSV_0011}) STORED"
    )
    op.create_index("ix_articles_search_tsv", "articles", ["search_tsv"], postgresql_using="gin")
    op.execute("DROP FUNCTION IF EXISTS article_search_vector(regconfig, text, text)")
    op.execute("DROP FUNCTION IF EXISTS article_search_config(text, text)")

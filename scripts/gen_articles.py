"""Generate synthetic but realistic enriched articles into a dedicated database, for `make bench`.

    python scripts/gen_articles.py --articles 1000000 --database nw_bench

The database is dropped, created on the server of NEWSWIRE_TEST_DATABASE_URL (or --admin-url), migrated
with our Alembic migrations, then loaded with COPY (secondary indexes dropped during the load and rebuilt
after).  Distributions:
- entities: Zipf popularity (s=1.1) over --entities canonical names (PERSON 40%, ORG 35%, GPE 25%), 1 + a
  Poisson(6) of them per article, each named in the body (the popular ones in the title too);
- sources: heavy-tailed (Zipf s=1.3 over 300 sources); languages en 85%, de/fr/es 4% each, unknown 3%;
- topics: 1-3 of the 17 IPTC top-level topics per article, skewed popularity, scores in (0.2, 1);
- dates: a year of publication, growing towards now, diurnal (most at 8-18 UTC), 4% undated; stored a
  log-normal delay (minutes to hours) after publication, ids in stored order;
- bodies: log-normal length (median ~1,800 characters, up to 20,000) of words drawn Zipf-like from a
  ~6,000-word vocabulary (common English words first, then generated ones), in sentences and paragraphs;
- status: 93% enriched, 3% duplicate, 2% queued, 2% failed.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg
from sqlalchemy import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.migrate import upgrade
from shared.settings import get_settings

COMMON = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "he",
    "this",
    "are",
    "or",
    "his",
    "from",
    "at",
    "which",
    "but",
    "have",
    "an",
    "they",
    "you",
    "were",
    "her",
    "she",
    "there",
    "been",
    "one",
    "all",
    "we",
    "their",
    "has",
    "would",
    "when",
    "if",
    "so",
    "no",
    "will",
    "more",
    "what",
    "up",
    "out",
    "about",
    "who",
    "them",
    "some",
    "could",
    "him",
    "into",
    "its",
    "then",
    "two",
    "said",
    "time",
    "only",
    "new",
    "years",
    "year",
    "after",
    "first",
    "over",
    "also",
    "before",
    "government",
    "people",
    "state",
    "city",
    "market",
    "company",
    "minister",
    "president",
    "officials",
    "police",
    "report",
    "week",
    "month",
    "country",
    "world",
    "percent",
    "million",
    "billion",
    "prices",
    "election",
    "court",
    "law",
    "water",
    "energy",
    "oil",
    "bank",
    "rates",
    "health",
    "hospital",
    "school",
    "children",
    "workers",
    "union",
    "strike",
    "talks",
    "deal",
    "trade",
    "war",
    "peace",
    "army",
    "forces",
    "attack",
    "security",
    "border",
    "plan",
    "budget",
    "tax",
    "economy",
    "growth",
    "inflation",
    "jobs",
    "industry",
    "technology",
    "data",
    "online",
    "users",
    "service",
    "climate",
    "storm",
    "flood",
    "fire",
    "heat",
    "season",
    "team",
    "game",
    "match",
    "league",
    "coach",
    "players",
    "final",
    "record",
    "football",
    "music",
    "film",
    "art",
    "festival",
    "museum",
    "book",
    "science",
    "research",
    "study",
    "university",
    "space",
    "mission",
    "launch",
]
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ra",
    "ten",
    "vor",
    "an",
    "el",
    "is",
    "un",
    "bar",
    "del",
    "fin",
    "gor",
    "hal",
    "jun",
    "kes",
    "lin",
    "mar",
    "nor",
    "pel",
    "quin",
    "ros",
    "sal",
    "tor",
    "ven",
]
FIRST = [
    "James",
    "Maria",
    "John",
    "Anna",
    "Ahmed",
    "Li",
    "Olga",
    "Carlos",
    "Fatima",
    "Peter",
    "Yuki",
    "Elena",
    "David",
    "Sara",
    "Ivan",
    "Chen",
    "Laura",
    "Omar",
]
ORG_SUFFIX = ["Corp", "Group", "Holdings", "Ministry", "Bank", "Institute", "Party", "Council", "Airlines"]
LANGUAGES = (["en"] * 85) + ["de"] * 4 + ["fr"] * 4 + ["es"] * 4 + [None] * 3


def _word(rng: np.random.Generator, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES, size=parts))


def vocabulary(rng: np.random.Generator, size: int) -> list[str]:
    words = list(dict.fromkeys(COMMON))
    seen = set(words)
    while len(words) < size:
        w = _word(rng, int(rng.integers(2, 4)))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def entity_names(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    while len(out) < n:
        r = rng.random()
        if r < 0.40:
            item = (f"{rng.choice(FIRST)} {_word(rng, int(rng.integers(2, 4))).capitalize()}", "PERSON")
        elif r < 0.75:
            item = (f"{_word(rng, int(rng.integers(2, 4))).capitalize()} {rng.choice(ORG_SUFFIX)}", "ORG")
        else:
            item = (_word(rng, int(rng.integers(2, 5))).capitalize(), "GPE")
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def zipf_p(n: int, s: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** s
    return np.asarray(weights / weights.sum())


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", " ").replace("\n", "\\n").replace("\r", " ")


def _ts(value: datetime | None) -> str:
    return "\\N" if value is None else value.isoformat()


class Generator:
    def __init__(self, *, seed: int, entities: int, now: datetime) -> None:
        self.rng = np.random.default_rng(seed)
        self.vocab = np.array(vocabulary(self.rng, 6000))
        self.word_p = zipf_p(len(self.vocab), 1.05)
        self.entities = entity_names(self.rng, entities)
        self.entity_p = zipf_p(entities, 1.1)
        self.sources = [f"source-{i:03d}" for i in range(300)]
        self.source_p = zipf_p(300, 1.3)
        self.now = now

    def published(self, count: int) -> np.ndarray:
        """Seconds before now: a year, more recent days more likely, diurnal hours."""
        days = np.floor(365 * (1 - np.sqrt(self.rng.random(count)))).astype(np.int64)  # denser near now
        hour_w = np.array([1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 8, 7, 7, 6, 5, 4, 3, 2, 2, 1], float)
        hours = self.rng.choice(24, size=count, p=hour_w / hour_w.sum())
        return np.asarray(days * 86400 + (23 - hours) * 3600 + self.rng.integers(0, 3600, size=count))

    def body(self, words: int, names: list[str]) -> str:
        idx = self.rng.choice(len(self.vocab), size=words, p=self.word_p)
        tokens = list(self.vocab[idx])
        for name in names:  # each entity named once or more, at random places
            for _ in range(1 + int(self.rng.poisson(0.8))):
                tokens.insert(int(self.rng.integers(0, len(tokens) + 1)), name)
        sentences, i = [], 0
        while i < len(tokens):
            n = int(self.rng.integers(8, 25))
            part = " ".join(tokens[i : i + n])
            sentences.append(part[:1].upper() + part[1:] + ".")
            i += n
        paragraphs = [" ".join(sentences[k : k + 4]) for k in range(0, len(sentences), 4)]
        return "\n\n".join(paragraphs)


def load(url: str, *, articles: int, entities: int, seed: int, chunk: int = 20_000) -> None:
    gen = Generator(seed=seed, entities=entities, now=datetime.now(UTC).replace(microsecond=0))
    topic_codes: list[str]
    with psycopg.connect(url, autocommit=True) as conn:
        topic_codes = [r[0] for r in conn.execute("SELECT code FROM topics ORDER BY code")]
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename IN "
            "('articles', 'article_entities', 'article_topics', 'entities', 'entity_aliases') AND indexname "
            "NOT LIKE 'pk_%'"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        # no triggers during the load (the facet counts are rebuilt once at the end)
        conn.execute("SET session_replication_role = replica")
        with conn.cursor().copy("COPY entities (id, name, type) FROM STDIN") as copy:
            for i, (name, type_) in enumerate(gen.entities, start=1):
                copy.write_row((i, name, type_))
        topic_p = zipf_p(len(topic_codes), 0.8)
        ages = np.sort(gen.published(articles))[::-1]  # oldest first: ids follow publication
        started = time.monotonic()
        next_id = 1
        while next_id <= articles:
            n = min(chunk, articles - next_id + 1)
            part = ages[next_id - 1 : next_id - 1 + n]
            _load_chunk(conn, gen, first_id=next_id, ages=part, topic_codes=topic_codes, topic_p=topic_p)
            next_id += n
            rate = (next_id - 1) / (time.monotonic() - started)
            print(f"  {next_id - 1:,} articles ({rate:,.0f}/s)", file=sys.stderr, flush=True)
        print("rebuilding indexes and counts ...", file=sys.stderr, flush=True)
        conn.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute(
            "UPDATE entities e SET article_count = c.a, mention_count = c.m FROM (SELECT entity_id, "
            "count(*) a, sum(mention_count) m FROM article_entities GROUP BY entity_id) c "
            "WHERE c.entity_id = e.id"
        )
        conn.execute(
            "INSERT INTO entity_aliases (entity_id, alias, mention_count, article_count) "
            "SELECT id, name, mention_count, article_count FROM entities"
        )
        conn.execute("SET session_replication_role = DEFAULT")
        conn.execute("SELECT facet_rebuild()")
        for table in ("articles", "entities"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        conn.execute("VACUUM (ANALYZE)")


def _load_chunk(
    conn: psycopg.Connection[tuple[object, ...]],
    gen: Generator,
    *,
    first_id: int,
    ages: np.ndarray,
    topic_codes: list[str],
    topic_p: np.ndarray,
) -> None:
    rng = gen.rng
    count = len(ages)
    delays = np.minimum(rng.lognormal(math.log(900), 1.2, size=count), 86400)
    lengths = np.clip(rng.lognormal(math.log(300), 0.6, size=count), 40, 3300).astype(int)
    picks = rng.choice(len(gen.entities), size=(count, 16), p=gen.entity_p)
    per_article = np.minimum(1 + rng.poisson(6, size=count), 16)
    articles, links, topics = io.StringIO(), io.StringIO(), io.StringIO()
    for k in range(count):
        article_id = first_id + k
        published = gen.now - timedelta(seconds=int(ages[k]))
        stored = published + timedelta(seconds=float(delays[k]))
        chosen = list(dict.fromkeys(int(e) for e in picks[k, : per_article[k]]))
        names = [gen.entities[e][0] for e in chosen]
        title_words = list(gen.vocab[rng.choice(len(gen.vocab), size=int(rng.integers(5, 12)), p=gen.word_p)])
        title_words.insert(int(rng.integers(0, len(title_words))), names[0])
        title = " ".join(title_words).capitalize()
        text = gen.body(int(lengths[k]), names)
        source = gen.sources[int(rng.choice(300, p=gen.source_p))]
        language = LANGUAGES[int(rng.integers(0, len(LANGUAGES)))]
        r = rng.random()
        status = "enriched" if r < 0.93 else "duplicate" if r < 0.96 else "queued" if r < 0.98 else "failed"
        when = None if rng.random() < 0.04 else published
        url = f"https://{source}.example/{article_id}"
        row = [
            str(article_id), url, url, source, _copy_text(title), _copy_text(text), f"{article_id:064x}",
            "text", "", _ts(when), language or "\\N", status, _ts(stored), _ts(stored),
            _ts(stored if status == "enriched" else None),
        ]  # fmt: skip
        articles.write("\t".join(row) + "\n")
        for e in chosen:
            mentions = 1 + int(rng.poisson(1.5))
            links.write(f"{article_id}\t{e + 1}\t{mentions}\t[]\t{rng.random():.3f}\n")
        n_topics = 1 + int(rng.integers(0, 3))
        for code in dict.fromkeys(rng.choice(topic_codes, size=n_topics, p=topic_p)):
            topics.write(f"{article_id}\t{code}\t{0.2 + 0.8 * rng.random():.3f}\n")
    with conn.cursor() as cur:
        for table, columns, buf in (
            (
                "articles",
                "id, url, canonical_url, source, title, text, content_hash, raw_format, raw_content, "
                "published_at, language, status, created_at, updated_at, enriched_at",
                articles,
            ),
            ("article_entities", "article_id, entity_id, mention_count, mentions, salience", links),
            ("article_topics", "article_id, topic_code, score", topics),
        ):
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                copy.write(buf.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--entities", type=int, default=50_000)
    parser.add_argument("--database", default="nw_bench", help="Database to (re)create.")
    parser.add_argument(
        "--admin-url", default=get_settings().test_database_url, help="Server to create it on."
    )
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    admin = make_url(args.admin_url)
    url = admin.set(database=args.database).render_as_string(hide_password=False)
    plain = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    upgrade(url)
    started = time.monotonic()
    load(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
        articles=args.articles,
        entities=args.entities,
        seed=args.seed,
    )
    print(f"loaded {args.articles:,} articles into {args.database} in {time.monotonic() - started:,.0f} s")
    print(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())

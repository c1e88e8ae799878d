"""Generate realistic enriched articles into a dedicated database, for `make bench-api`.

    python scripts/gen_articles.py --articles 1000000 --database nw_bench

The database is dropped, created on the server of NEWSWIRE_TEST_DATABASE_URL (or --admin-url), migrated
with our Alembic migrations, then loaded with COPY (secondary indexes dropped and triggers off during the
load; indexes and the facet counts rebuilt after).  Text and distributions:
- titles and bodies come from the real news corpus (../shared/eval/corpus/allsides.jsonl.gz, 36,668
  articles): each article takes a corpus article's title and first paragraph, then paragraphs
  drawn from other corpus articles on the same AllSides subject (4 to 40 in all: a median of ~5,000
  characters, as in the corpus), so no two generated articles are exact or near duplicates while the
  vocabulary, phrases and lengths are those of real news;
- sources are the corpus article's outlet (490 outlets, their real frequencies); topics start with the
  subject's IPTC topic (allsides_to_iptc.tsv), then follow the real enrichment's topic count, popularity
  and scores; entities, mentions, salience and languages follow what the real pipeline found on a corpus
  sample (scripts/data/bench_distributions.json, written by scripts/bench_distributions.py): the names it
  found, by popularity, for 60% of the entities, a generated long tail (--entities names, Zipf) for the
  rest;
- dates: a year of publication, growing towards now, diurnal (most at 8-18 UTC), 4% undated; stored a
  log-normal delay (minutes to hours) after publication, ids in stored order;
- status: 93% enriched, 3% duplicate, 2% queued, 2% failed.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import math
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg
from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newswire_cli.dev.settings import get_dev_settings  # noqa: E402
from shared.migrate import upgrade  # noqa: E402

CORPUS_DIR = ROOT.parent / "shared" / "eval" / "corpus"
DISTRIBUTIONS = ROOT / "scripts" / "data" / "bench_distributions.json"
HEAD_SHARE = 0.6  # entities drawn from the names the real pipeline found (the rest: the generated tail)

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


def _word(rng: np.random.Generator, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES, size=parts))


def entity_names(rng: np.random.Generator, n: int, types: dict[str, float]) -> list[tuple[str, str]]:
    """``n`` generated (name, type) pairs for the long tail, types in the real proportions."""
    kinds = list(types)
    p = np.array([types[k] for k in kinds], float)
    p /= p.sum()
    out: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    while len(out) < n:
        kind = str(rng.choice(kinds, p=p))
        if kind == "PERSON":
            name = f"{rng.choice(FIRST)} {_word(rng, int(rng.integers(2, 4))).capitalize()}"
        elif kind == "ORG":
            name = f"{_word(rng, int(rng.integers(2, 4))).capitalize()} {rng.choice(ORG_SUFFIX)}"
        else:
            name = _word(rng, int(rng.integers(2, 5))).capitalize()
        if (name, kind) not in seen:
            seen.add((name, kind))
            out.append((name, kind))
    return out


def zipf_p(n: int, s: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** s
    return np.asarray(weights / weights.sum())


def _histogram(values: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    keys = np.array([int(k) for k in values])
    p = np.array(list(values.values()), float)
    return keys, p / p.sum()


class Corpus:
    """The corpus articles: (title, first paragraph, other paragraphs, subject, outlet), and the paragraphs
    of each subject."""

    def __init__(self, path: Path) -> None:
        self.titles: list[str] = []
        self.leads: list[str] = []
        self.subjects: list[str] = []
        self.sources: list[str] = []
        self.by_subject: dict[str, list[str]] = defaultdict(list)
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                paragraphs = [p.strip() for p in row["text"].split("\n") if len(p.strip()) > 40]
                if not paragraphs or not row["title"].strip():
                    continue
                self.titles.append(" ".join(row["title"].split()))
                self.leads.append(paragraphs[0])
                self.subjects.append(row["topic"] or "other")
                self.sources.append(row["source"] or "unknown")
                self.by_subject[row["topic"] or "other"].extend(paragraphs[1:])


class Generator:
    def __init__(self, *, seed: int, entities: int, now: datetime, topic_codes: dict[str, str]) -> None:
        self.rng = np.random.default_rng(seed)
        self.corpus = Corpus(CORPUS_DIR / "allsides.jsonl.gz")
        dist = json.loads(DISTRIBUTIONS.read_text())
        self.per_article = _histogram(dist["entities_per_article"])
        self.mentions = _histogram(dist["mentions_per_entity"])
        self.topics_per = _histogram(dist["topics_per_article"])
        self.salience = np.array(dist["salience_quantiles"], float)
        self.topic_scores = np.array(dist["topic_score_quantiles"], float)
        codes = [c for c in dist["topic_codes"] if c in topic_codes.values()] or sorted(topic_codes.values())
        weights = np.array([dist["topic_codes"].get(c, 1) for c in codes], float)
        self.topic_codes, self.topic_p = codes, weights / weights.sum()
        langs = dist["languages"]
        self.languages = [None if k == "und" else k for k in langs]
        self.language_p = np.array(list(langs.values()), float) / sum(langs.values())
        head = [(str(n), str(t)) for t, n, _ in dist["entity_names"]]
        head_w = np.array([c for _, _, c in dist["entity_names"]], float)
        tail = entity_names(self.rng, max(0, entities - len(head)), dist["entity_types"])
        known = set(head)
        self.entities = head + [e for e in tail if e not in known]
        self.head_n = len(head)
        self.head_p = head_w / head_w.sum()
        tail_p = zipf_p(max(1, len(self.entities) - self.head_n), 1.1)
        self.head_cdf = np.minimum(np.cumsum(self.head_p), 1 - 1e-12)
        self.tail_cdf = np.minimum(np.cumsum(tail_p), 1 - 1e-12)
        subject_iptc: dict[str, str] = {}
        with (CORPUS_DIR / "allsides_to_iptc.tsv").open() as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                code = topic_codes.get(row["iptc_label"].strip())
                if code:
                    subject_iptc[row["allsides_topic"]] = code
        self.subject_iptc = subject_iptc
        self.now = now

    def published(self, count: int) -> np.ndarray:
        """Seconds before now: a year, more recent days more likely, diurnal hours."""
        days = np.floor(365 * (1 - np.sqrt(self.rng.random(count)))).astype(np.int64)  # denser near now
        hour_w = np.array([1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 8, 7, 7, 6, 5, 4, 3, 2, 2, 1], float)
        hours = self.rng.choice(24, size=count, p=hour_w / hour_w.sum())
        return np.asarray(days * 86400 + (23 - hours) * 3600 + self.rng.integers(0, 3600, size=count))

    def article(self) -> tuple[str, str, str, str]:
        """(title, body, subject, source) of one generated article."""
        rng, c = self.rng, self.corpus
        base = int(rng.integers(len(c.titles)))
        pool = c.by_subject[c.subjects[base]] or c.by_subject["other"]
        n = int(np.clip(rng.lognormal(math.log(16), 0.5), 4, 40))  # corpus median body ~5,000 characters
        picks = [pool[int(i)] for i in rng.integers(0, len(pool), size=n)] if pool else []
        body = "\n\n".join([c.leads[base], *dict.fromkeys(picks)])
        return c.titles[base], body, c.subjects[base], c.sources[base]

    def entity_ids(self, count: int) -> list[int]:
        """``count`` distinct entity indexes: the real names by popularity or the generated tail."""
        rng = self.rng
        draws = 2 * count + 4
        head = np.searchsorted(self.head_cdf, rng.random(draws))
        tail = self.head_n + np.searchsorted(self.tail_cdf, rng.random(draws))
        use_head = rng.random(draws) < HEAD_SHARE
        picked = np.where(use_head, head, tail) if len(self.tail_cdf) else head
        return list(dict.fromkeys(int(i) for i in picked))[:count]

    def quantile(self, q: np.ndarray) -> float:
        """A value drawn from a distribution given by its quantiles."""
        return float(np.interp(self.rng.random(), np.linspace(0, 1, len(q)), q))


def load(url: str, *, articles: int, entities: int, seed: int, chunk: int = 10_000) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        labels = {str(r[1]): str(r[0]) for r in conn.execute("SELECT code, label FROM topics")}
        gen = Generator(seed=seed, entities=entities, now=datetime.now(UTC).replace(microsecond=0),
                        topic_codes=labels)  # fmt: skip
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
        ages = np.sort(gen.published(articles))[::-1]  # oldest first: ids follow publication
        started = time.monotonic()
        next_id = 1
        while next_id <= articles:
            n = min(chunk, articles - next_id + 1)
            _load_chunk(conn, gen, first_id=next_id, ages=ages[next_id - 1 : next_id - 1 + n])
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


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", " ").replace("\n", "\\n").replace("\r", " ")


def _ts(value: datetime | None) -> str:
    return "\\N" if value is None else value.isoformat()


def _load_chunk(
    conn: psycopg.Connection[tuple[object, ...]], gen: Generator, *, first_id: int, ages: np.ndarray
) -> None:
    rng = gen.rng
    count = len(ages)
    delays = np.minimum(rng.lognormal(math.log(900), 1.2, size=count), 86400)
    n_entities = rng.choice(gen.per_article[0], size=count, p=gen.per_article[1])
    n_topics = rng.choice(gen.topics_per[0], size=count, p=gen.topics_per[1])
    languages = rng.choice(len(gen.languages), size=count, p=gen.language_p)
    articles, links, topics = io.StringIO(), io.StringIO(), io.StringIO()
    for k in range(count):
        article_id = first_id + k
        published = gen.now - timedelta(seconds=int(ages[k]))
        stored = published + timedelta(seconds=float(delays[k]))
        title, text, subject, source = gen.article()
        language = gen.languages[int(languages[k])]
        r = rng.random()
        status = "enriched" if r < 0.93 else "duplicate" if r < 0.96 else "queued" if r < 0.98 else "failed"
        when = None if rng.random() < 0.04 else published
        url = f"https://{source.lower().replace(' ', '-')}.example/{article_id}"
        row = [
            str(article_id), url, url, _copy_text(source), _copy_text(title), _copy_text(text),
            f"{article_id:064x}", "text", "", _ts(when), language or "\\N", status, _ts(stored), _ts(stored),
            _ts(stored if status == "enriched" else None),
        ]  # fmt: skip
        articles.write("\t".join(row) + "\n")
        if status != "enriched":
            continue
        chosen = gen.entity_ids(int(n_entities[k]))
        counts = rng.choice(gen.mentions[0], size=len(chosen), p=gen.mentions[1])
        for e, mentions in zip(chosen, counts, strict=True):
            links.write(f"{article_id}\t{e + 1}\t{mentions}\t[]\t{gen.quantile(gen.salience):.3f}\n")
        wanted = int(n_topics[k])
        codes: dict[str, None] = {}
        if wanted and subject in gen.subject_iptc:
            codes[gen.subject_iptc[subject]] = None
        while len(codes) < wanted:
            codes[str(rng.choice(gen.topic_codes, p=gen.topic_p))] = None
        scores = sorted((gen.quantile(gen.topic_scores) for _ in codes), reverse=True)
        for code, score in zip(codes, scores, strict=True):
            topics.write(f"{article_id}\t{code}\t{score:.3f}\n")
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
        "--admin-url", default=get_dev_settings().test_database_url, help="Server to create it on."
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

"""Cost of story assignment as the store grows, and of a reassignment.

    python scripts/bench_stories.py --database-url URL1 --database-url URL2 \
        [--sizes 10000,100000] [--probes 200]

Each URL names an empty, migrated database of its own (``createdb`` + ``newswire migrate``), one per size;
the script fills them.  Each gets synthetic enriched articles (events of 1-5 articles, each article 60 words:
25 of its event's 40 words and 35 background words drawn with a Zipf-like skew from 50,000; no entities,
so the text alone decides) spread over 365 days, with their signatures and keys as the worker stores
them, written with COPY.  Then it times ``lock_signature`` + ``assign_story`` (what the worker adds to
an enrichment) for ``--probes`` new articles, half from stored events and half new, each in its own
transaction rolled back afterwards so the store keeps its size, alternating between the stores so that
the machine's load weighs on all sizes alike; and a reassignment of one day of articles of the largest
store (rolled back).  Prints the median and 90th percentile per article and the candidates read.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from shared.models import Article
from shared.stories import repository
from shared.stories import service as stories
from shared.stories.scoring import StoryRules
from shared.stories.signature import build_signature

START = datetime(2024, 1, 1, tzinfo=UTC)
VOCABULARY = 50_000
EVENT_WORDS = 40


class Corpus:
    """Deterministic synthetic articles: events with their own words over a skewed background."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def word(self) -> str:
        return f"w{int(self.rng.random() ** 2.5 * VOCABULARY)}"

    def event(self) -> tuple[list[str], datetime]:
        words = [f"e{self.rng.getrandbits(40):x}" for _ in range(EVENT_WORDS)]
        return words, START + timedelta(seconds=self.rng.uniform(0, 365 * 86400))

    def article(self, event: tuple[list[str], datetime]) -> tuple[str, str, datetime]:
        words, at = event
        body = self.rng.sample(words, 25) + [self.word() for _ in range(35)]
        self.rng.shuffle(body)
        return " ".join(body[:8]), " ".join(body[8:]), at + timedelta(minutes=self.rng.uniform(0, 600))


def _copy(session: Session, table: str, columns: str, rows: list[tuple[object, ...]]) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_cell(v) for v in row) + "\n")
    buffer.seek(0)
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
        copy.write(buffer.getvalue())


def _cell(value: object) -> str:
    if isinstance(value, list | tuple):
        return "{" + ",".join(str(v) for v in value) + "}"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def fill(
    factory: sessionmaker[Session], corpus: Corpus, *, count: int, first_id: int
) -> list[tuple[list[str], datetime]]:
    """Add ``count`` articles in events of 1-5, each event one story; returns the events."""
    events: list[tuple[list[str], datetime]] = []
    articles: list[tuple[object, ...]] = []
    signatures: list[tuple[object, ...]] = []
    keys: list[tuple[object, ...]] = []
    members: list[tuple[int, int]] = []
    article_id = first_id
    while article_id < first_id + count:
        event = corpus.event()
        events.append(event)
        story = article_id  # the story takes its first article's id
        for _ in range(min(corpus.rng.randint(1, 5), first_id + count - article_id)):
            title, body, at = corpus.article(event)
            sig = build_signature(title=title, text=body, entities=[], at=at)
            token = f"{article_id:032x}"
            articles.append(
                (
                    article_id,
                    f"https://bench.test/{article_id}",
                    f"https://bench.test/{article_id}",
                    title,
                    body,
                    token + token,
                    "text",
                    body,
                    "enriched",
                    at.isoformat(),
                    at.isoformat(),
                )
            )
            signatures.append((article_id, at, sorted(sig.terms), [], []))
            keys.extend((k, at, article_id) for k in sig.keys)
            members.append((article_id, story))
            article_id += 1
    with factory.begin() as session:
        _copy(
            session,
            "articles",
            "id, url, canonical_url, title, text, content_hash, raw_format, raw_content, "
            "status, published_at, received_at",
            articles,
        )
        story_ids = sorted({s for _, s in members})
        _copy(session, "stories", "id, label, article_count", [(s, "bench", 1) for s in story_ids])
        session.execute(text("CREATE TEMP TABLE m (article_id bigint, story_id bigint) ON COMMIT DROP"))
        _copy(session, "m", "article_id, story_id", members)
        session.execute(text("UPDATE articles a SET story_id = m.story_id FROM m WHERE a.id = m.article_id"))
        _copy(session, "story_signatures", "article_id, at, terms, entity_keys, entity_weights", signatures)
        _copy(session, "story_keys", "key, at, article_id", keys)
    with factory() as session:
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('articles', 'id'), (SELECT max(id) FROM articles))")
        )
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('stories', 'id'), (SELECT max(id) FROM stories))")
        )
        session.commit()
        session.connection().exec_driver_sql("ANALYZE")
    return events


def probe(
    factory: sessionmaker[Session],
    corpus: Corpus,
    events: list[tuple[list[str], datetime]],
    *,
    number: int,
    rules: StoryRules,
) -> tuple[float, int, bool]:
    """One assignment, rolled back: seconds, candidates read, whether it joined a story."""
    event = corpus.rng.choice(events) if number % 2 == 0 else corpus.event()
    title, body, at = corpus.article(event)
    with factory() as session:
        article = Article(
            url=f"https://probe.test/{number}",
            canonical_url=f"https://probe.test/{number}",
            title=title,
            text=body,
            content_hash=f"{number:064x}",
            raw_format="text",
            raw_content=body,
            status="enriched",
            published_at=at,
        )
        session.add(article)
        session.flush()
        started = time.perf_counter()
        signature = stories.lock_signature(session=session, title=title, text=body, entities=[])
        assignment = stories.assign_story(
            session=session, article_id=article.id, signature=signature, rules=rules
        )
        seconds = time.perf_counter() - started
        window = timedelta(hours=rules.window_hours)
        read = repository.candidates(
            session,
            keys=signature.keys,
            lo=at - window,
            hi=at + window,
            article_id=article.id,
            per_key=stories.CANDIDATES_PER_KEY,
        )
        session.rollback()
    return seconds, len(read), assignment.match is not None


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", action="append", required=True, help="an empty, migrated database per size"
    )
    parser.add_argument("--sizes", default="10000,100000", help="store sizes, one per --database-url")
    parser.add_argument("--probes", type=int, default=200, help="assignments timed per size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if len(sizes) != len(args.database_url):
        print("give one --database-url per size", file=sys.stderr)
        return 2
    engines = [create_engine(url) for url in args.database_url]
    factories = [sessionmaker(bind=e, expire_on_commit=False, autoflush=False) for e in engines]
    for factory in factories:
        with factory() as session:
            if session.scalar(select(func.count()).select_from(Article)):
                print("a database is not empty: give the benchmark databases of its own", file=sys.stderr)
                return 2
    rules = StoryRules()
    stores = []
    for size, factory in zip(sizes, factories, strict=True):
        began = time.perf_counter()
        events = fill(factory, Corpus(seed=7), count=size, first_id=1)
        stores.append((size, factory, events, Corpus(seed=11), time.perf_counter() - began))
    timed: list[list[tuple[float, int, bool]]] = [[] for _ in stores]
    for number in range(args.probes):
        for results, (_, factory, events, corpus, _) in zip(timed, stores, strict=True):
            results.append(probe(factory, corpus, events, number=number, rules=rules))
    print("stored    in 72h window  p50 ms  p90 ms  candidates p50  joined  (fill s)")
    medians = []
    for results, (size, _, _, _, filled) in zip(timed, stores, strict=True):
        ms = sorted(r[0] * 1000 for r in results)
        p50, p90 = statistics.median(ms), ms[int(len(ms) * 0.9)]
        medians.append(p50)
        per_window = size * 2 * rules.window_hours / (365 * 24)
        print(
            f"{size:<9} {per_window:>13.0f}  {p50:>6.2f}  {p90:>6.2f}  "
            f"{statistics.median(r[1] for r in results):>14.0f}  "
            f"{sum(r[2] for r in results):>3}/{args.probes}  ({filled:.1f})"
        )
    print(f"largest / smallest store, median per assignment: {medians[-1] / medians[0]:.2f}x")
    with factories[-1]() as session:
        day = START + timedelta(days=100)
        began = time.perf_counter()
        result = stories.reassign(session=session, since=day, until=day + timedelta(days=1), rules=rules)
        took = time.perf_counter() - began
        session.rollback()
    print(
        f"reassign one day: {result.articles} articles into {result.stories} stories in {took:.2f} s "
        f"({took / max(result.articles, 1) * 1000:.1f} ms per article)"
    )
    for engine in engines:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

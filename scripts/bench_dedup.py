"""Per-article cost of near-duplicate detection in PostgreSQL as the store grows.

    python scripts/bench_dedup.py [--sizes 10000,1000000] [--queries 1000]

Creates one throw-away database per size on the NEWSWIRE_TEST_DATABASE_URL server (dropped at the end),
migrates it and fills it with synthetic originals (random MinHash signatures, their 32 band keys from
``neardup.band_keys``; loaded with COPY).  At each store size it times ``--queries`` articles, each in its
own committed transaction, taking turns between the sizes (so the load of a shared machine weighs on
every size alike), doing what ingest does for near-duplicates, with the same functions: the
advisory locks on its band keys, the LSH look-up, the verification of the candidates' stored signatures
and, for a new article, the insert of its signature and bands.  One article in ten is a near-duplicate of
a stored one (30% of its signature values changed: estimated Jaccard about 0.7), so candidates are found
and verified.  Prints per-article times and the ratio of the largest store's median to the smallest's.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from sqlalchemy import Connection, create_engine, pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from newswire_cli.dev.settings import get_dev_settings
from services.ingest.articles import neardup, repository
from shared.migrate import upgrade
from shared.settings import get_settings

NEAR_SHARE = 0.1
COPY_ARTICLES = (
    "COPY articles (url, canonical_url, title, text, content_hash, raw_format, raw_content) FROM STDIN"
)
CHUNK = 50_000


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _random_signature(rng: random.Random) -> tuple[int, ...]:
    return tuple(rng.getrandbits(32) for _ in range(neardup.NUM_PERM))


def _near_copy(rng: random.Random, sig: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(rng.getrandbits(32) if rng.random() < 0.3 else v for v in sig)


def _article_rows(start: int, count: int, tag: str) -> Iterator[tuple[str, ...]]:
    for i in range(start, start + count):
        url = f"https://bench.invalid/{tag}/{i}"
        yield (url, url, "t", "x", f"{tag}{i:058x}"[-64:], "text", "x")


def load(conn: psycopg.Connection, *, start: int, count: int, seed: int) -> list[tuple[int, ...]]:
    """Add `count` originals (ids start+1 ...): article rows, signatures and band keys, with COPY.  Returns
    a sample of their signatures (for near-duplicate queries)."""
    rng = random.Random(seed)
    sample: list[tuple[int, ...]] = []
    with conn.cursor() as cur:
        # a bulk load builds the band index once, sorted, instead of inserting 32 random keys a row
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("ALTER TABLE article_lsh_bands DROP CONSTRAINT pk_article_lsh_bands")
        with cur.copy(COPY_ARTICLES) as copy:
            for row in _article_rows(start, count, "s"):
                copy.write_row(row)
        done = 0
        while done < count:
            n = min(CHUNK, count - done)
            sigs = [_random_signature(rng) for _ in range(n)]
            ids = range(start + done + 1, start + done + n + 1)
            with cur.copy("COPY article_minhash (article_id, signature) FROM STDIN") as copy:
                for article_id, sig in zip(ids, sigs, strict=True):
                    copy.write_row((article_id, neardup.encode_signature(sig)))
            with cur.copy("COPY article_lsh_bands (band_key, article_id) FROM STDIN") as copy:
                for article_id, sig in zip(ids, sigs, strict=True):
                    for key in neardup.band_keys(sig):
                        copy.write_row((key, article_id))
            sample.extend(sigs[:: max(1, n // 200)])
            done += n
        cur.execute(
            "ALTER TABLE article_lsh_bands "
            "ADD CONSTRAINT pk_article_lsh_bands PRIMARY KEY (band_key, article_id)"
        )
    conn.commit()
    return sample


@dataclass
class Store:
    """One database holding `size` originals, and what its timed articles measured."""

    size: int
    url: str
    sample: list[tuple[int, ...]]
    loaded_s: float
    rng: random.Random
    next_id: int
    times: list[float] = field(default_factory=list)
    lookups: list[float] = field(default_factory=list)  # locks, LSH look-up, verification
    inserts: list[float] = field(default_factory=list)  # a new original's signature and bands
    candidates: int = 0
    sent_near: int = 0
    found: int = 0
    false_found: int = 0


def time_one(store: Store, connection: Connection, *, threshold: float) -> None:
    """One article through the near-duplicate check in its own transaction (the commit is not timed: the
    ingest transaction pays it without dedup too)."""
    near = store.rng.random() < NEAR_SHARE
    sig = _near_copy(store.rng, store.rng.choice(store.sample)) if near else _random_signature(store.rng)
    fp = neardup.Fingerprint(signature=sig, band_keys=neardup.band_keys(sig))
    with Session(bind=connection) as session:
        started = time.perf_counter()
        repository.lock_band_keys(session, keys=fp.band_keys)
        rows = repository.lsh_candidates(session, keys=fp.band_keys)
        best = neardup.best_match(
            fp, ((i, neardup.decode_signature(s)) for i, s in rows), threshold=threshold
        )
        looked_up = time.perf_counter()
        if best is None:
            repository.add_fingerprint(
                session, article_id=store.next_id, signature=neardup.encode_signature(sig), keys=fp.band_keys
            )
            store.next_id += 1
        ended = time.perf_counter()
        session.commit()
    store.times.append(ended - started)
    store.lookups.append(looked_up - started)
    if best is None:
        store.inserts.append(ended - looked_up)
    store.candidates += len(rows)
    store.sent_near += near
    store.found += near and best is not None
    store.false_found += not near and best is not None


def build(admin: str, *, size: int, queries: int, seed: int) -> Store:
    name = f"nw_bench_dedup_{uuid.uuid4().hex[:8]}_{size}"
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    with create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool).connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade(url)
    started = time.perf_counter()
    with psycopg.connect(_libpq(url)) as conn:
        sample = load(conn, start=0, count=size, seed=seed)
        with conn.cursor() as cur, cur.copy(COPY_ARTICLES) as copy:  # rows for the timed originals
            for row in _article_rows(size, queries, "q"):
                copy.write_row(row)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    loaded = time.perf_counter() - started
    print(f"stored {size:,} originals in {loaded:.0f}s", flush=True)
    return Store(size, url, sample, loaded, random.Random(100 + seed), size + 1)


def drop(admin: str, url: str) -> None:
    name = make_url(url).database
    with create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool).connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,1000000", help="store sizes, ascending, comma-separated")
    parser.add_argument("--queries", type=int, default=1000, help="articles timed at each size")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    admin = get_dev_settings().test_database_url
    threshold = get_settings().neardup_threshold
    stores: list[Store] = []
    try:
        for index, size in enumerate(sizes):
            stores.append(build(admin, size=size, queries=args.queries, seed=index))
        engines = [create_engine(s.url, poolclass=pool.NullPool) for s in stores]
        connections = [e.connect() for e in engines]
        try:
            for _ in range(args.queries):  # interleaved: the machine's load weighs on every size alike
                for store, connection in zip(stores, connections, strict=True):
                    time_one(store, connection, threshold=threshold)
        finally:
            for connection, engine in zip(connections, engines, strict=True):
                connection.close()
                engine.dispose()
    finally:
        for store in stores:
            drop(admin, store.url)

    print(
        f"\nnear-duplicate check per article (advisory locks + LSH look-up + verification, then for a new "
        f"original the insert of its signature and 32 bands; commit not counted), {args.queries} articles "
        f"a size, interleaved, {NEAR_SHARE:.0%} near-duplicates of stored ones"
    )
    print(
        f"{'stored':>10} {'median ms':>10} {'p95 ms':>8} {'mean ms':>8} {'look-up':>8} {'insert':>7} "
        f"{'candidates':>10} {'near found':>10} {'false':>5} {'load s':>7}"
    )
    for s in stores:
        ordered = sorted(s.times)
        p95 = ordered[int(0.95 * (len(ordered) - 1))]
        print(
            f"{s.size:>10,} {statistics.median(ordered) * 1000:>10.2f} "
            f"{p95 * 1000:>8.2f} {statistics.fmean(ordered) * 1000:>8.2f} "
            f"{statistics.median(s.lookups) * 1000:>8.2f} {statistics.median(s.inserts) * 1000:>7.2f} "
            f"{s.candidates / len(s.times):>10.2f} {s.found:>4}/{s.sent_near:<5} {s.false_found:>5} "
            f"{s.loaded_s:>7.0f}"
        )
    if len(stores) > 1:
        ratio = statistics.median(stores[-1].times) / statistics.median(stores[0].times)
        verdict = "flat" if ratio <= 1.5 else "NOT flat"
        print(
            f"\nmedian at {stores[-1].size:,} / at {stores[0].size:,}: {ratio:.2f}x ({verdict}: goal <= 1.5x)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

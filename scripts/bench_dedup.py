"""Per-article cost of near-duplicate detection in PostgreSQL as the store grows.

    python scripts/bench_dedup.py [--sizes 10000,1000000] [--queries 1000]

Creates a throw-away database on the NEWSWIRE_TEST_DATABASE_URL server (dropped at the end), migrates it,
and fills it with synthetic originals (random MinHash signatures, their 32 band keys from
``neardup.band_keys``; loaded with COPY).  At each store size it times ``--queries`` articles, each in its
own committed transaction doing what ingest does for near-duplicates, with the same functions: the
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

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


def measure(
    url: str, *, first_id: int, queries: int, stored: list[tuple[int, ...]], seed: int
) -> dict[str, float]:
    """Time `queries` articles (ids from first_id on, rows already present), each in its own transaction."""
    rng = random.Random(seed)
    threshold = get_settings().neardup_threshold
    engine = create_engine(url, poolclass=pool.NullPool)
    times: list[float] = []
    lookups: list[float] = []  # locks, LSH look-up, verification
    inserts: list[float] = []  # a new original's signature and bands
    candidates = found = sent_near = false_found = 0
    try:
        with engine.connect() as connection:
            for n in range(queries):
                near = rng.random() < NEAR_SHARE
                sig = _near_copy(rng, rng.choice(stored)) if near else _random_signature(rng)
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
                            session,
                            article_id=first_id + n,
                            signature=neardup.encode_signature(sig),
                            keys=fp.band_keys,
                        )
                    ended = time.perf_counter()
                    times.append(ended - started)
                    lookups.append(looked_up - started)
                    if best is None:
                        inserts.append(ended - looked_up)
                    session.commit()  # the ingest transaction's own commit: paid without dedup too
                candidates += len(rows)
                sent_near += near
                found += near and best is not None
                false_found += not near and best is not None
    finally:
        engine.dispose()
    times.sort()
    return {
        "median_ms": statistics.median(times) * 1000,
        "p95_ms": times[int(0.95 * (len(times) - 1))] * 1000,
        "mean_ms": statistics.fmean(times) * 1000,
        "lookup_ms": statistics.median(lookups) * 1000,
        "insert_ms": statistics.median(inserts) * 1000,
        "candidates": candidates / queries,
        "found": found,
        "sent_near": sent_near,
        "false_found": false_found,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,1000000", help="store sizes, ascending, comma-separated")
    parser.add_argument("--queries", type=int, default=1000, help="articles timed at each size")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    admin = get_settings().test_database_url
    name = f"nw_bench_dedup_{uuid.uuid4().hex[:8]}"
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    results: list[tuple[int, dict[str, float], float]] = []
    try:
        upgrade(url)
        stored_count = 0
        sample: list[tuple[int, ...]] = []
        with psycopg.connect(_libpq(url)) as conn:
            for index, size in enumerate(sizes):
                started = time.perf_counter()
                sample += load(conn, start=stored_count, count=size - stored_count, seed=index)
                stored_count = size
                # the rows the timed articles' signatures belong to (a new original has its article row)
                with (
                    conn.cursor() as cur,
                    cur.copy(COPY_ARTICLES) as copy,
                ):
                    for row in _article_rows(stored_count, args.queries, f"q{index}"):
                        copy.write_row(row)
                conn.commit()
                conn.autocommit = True
                conn.execute("VACUUM ANALYZE")
                conn.autocommit = False
                loaded = time.perf_counter() - started
                first_id = stored_count + 1
                result = measure(
                    url, first_id=first_id, queries=args.queries, stored=sample, seed=100 + index
                )
                results.append((size, result, loaded))
                stored_count += args.queries
                print(
                    f"stored {size:,}: loaded in {loaded:.0f}s, median {result['median_ms']:.2f} ms",
                    flush=True,
                )
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()

    print(
        f"\nnear-duplicate check per article (lock + LSH look-up + verify + insert), {args.queries} articles "
        f"a size, {NEAR_SHARE:.0%} near-duplicates of stored ones"
    )
    print(
        f"{'stored':>10} {'median ms':>10} {'p95 ms':>8} {'mean ms':>8} {'look-up':>8} {'insert':>7} "
        f"{'candidates':>10} {'near found':>10} {'false':>5} {'load s':>7}"
    )
    for size, r, loaded in results:
        print(
            f"{size:>10,} {r['median_ms']:>10.2f} {r['p95_ms']:>8.2f} {r['mean_ms']:>8.2f} "
            f"{r['lookup_ms']:>8.2f} {r['insert_ms']:>7.2f} {r['candidates']:>10.2f} "
            f"{r['found']:>4.0f}/{r['sent_near']:<5.0f} {r['false_found']:>5.0f} "
            f"{loaded:>7.0f}"
        )
    if len(results) > 1:
        ratio = results[-1][1]["median_ms"] / results[0][1]["median_ms"]
        verdict = "flat" if ratio <= 1.5 else "NOT flat"
        print(
            f"\nmedian at {results[-1][0]:,} / at {results[0][0]:,}: {ratio:.2f}x ({verdict}: goal <= 1.5x)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

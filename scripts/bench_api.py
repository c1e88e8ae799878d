"""Drive the read API on a database loaded by scripts/gen_articles.py and print latency per endpoint class.

    python scripts/bench_api.py --database nw_bench --duration 20 --concurrency 50

Starts the real API (`newswire serve api`, uvicorn, --workers processes) on a free port against that
database, then from this process drives it over loopback, one endpoint class after the other, first with
--concurrency httpx async clients, then with one: `lists` (newest ingested or published, no filter),
`filtered` (one or two filters: entity, source, topic, language, type, dates), `search` (words, phrases,
OR, exclusions, prefixes), `facets` (exact counts: published date ranges in whole days, sources,
languages), `facets_scan` (facets of a search or an entity: counted over the matches) and `entities`
(entity views), each request drawn at random from parameters found in the data.  Measures p50/p95/p99,
requests per second, errors and the API processes' CPU time per request (psutil), prints them against
the goals and writes bench-results/api-<time>.json:
    {"articles": N, "load": [1, 5, 15 min], "cache": s, "results": [{"class", "clients", "req_s",
     "p50_ms", "p95_ms", "p99_ms", "errors", "api_cpu_ms", "cache_hits"}, ...]}
then EXPLAIN (ANALYZE, BUFFERS) of the slowest SQL statement of the slowest class (its requests replayed
in-process, statements timed).  --cache-seconds 0 turns the answer cache off (default: as configured).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import psutil
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.orm import sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newswire_cli.dev.settings import get_dev_settings  # noqa: E402
from newswire_cli.processes import spawn, stop_children, wait_ready  # noqa: E402
from shared.settings import get_settings  # noqa: E402

# issue 16: one-client p95 (ms) and 50-client throughput (req/s)
GOALS_MS: dict[str, float | None] = {
    "lists": 10.0, "filtered": 25.0, "search": 60.0, "facets": 100.0, "facets_scan": None, "entities": None,
}  # fmt: skip
GOALS_RPS: dict[str, float | None] = {
    "lists": 600.0, "filtered": None, "search": 150.0, "facets": 80.0, "facets_scan": None, "entities": None,
}  # fmt: skip
Url = Callable[[random.Random], str]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Pools:
    """Parameter values found in the data: popular and rarer entities, sources, topics, words."""

    def __init__(self, engine: Engine) -> None:
        with engine.connect() as conn:
            ranked = conn.execute(
                text(
                    "SELECT id, name FROM entities WHERE article_count > 0 "
                    "ORDER BY article_count DESC LIMIT 5000"
                )
            ).all()
            self.popular = [(r[0], r[1]) for r in ranked[:50]]
            self.entities = [(r[0], r[1]) for r in ranked]
            self.sources = [
                r[0] for r in conn.execute(text("SELECT DISTINCT source FROM articles LIMIT 300"))
            ]
            self.topics = [r[0] for r in conn.execute(text("SELECT code FROM topics"))]
            words = conn.execute(
                text(
                    "SELECT word FROM ts_stat($$SELECT search_tsv FROM articles WHERE id % 200 = 0$$) "
                    "WHERE length(word) > 3 ORDER BY ndoc DESC LIMIT 3000"
                )
            ).all()
            self.words: list[str] = [
                str(r[0]) for r in words[100:]
            ]  # past the most common: words people search for
            titles = conn.execute(text("SELECT title FROM articles WHERE id % 1000 = 0 LIMIT 500")).scalars()
            # phrases people search for are phrases that exist: two neighbouring words of a title
            phrases = [" ".join(t.split()[i : i + 2]) for t in titles for i in (0, 2) if len(t.split()) > 3]
            searchable = text(  # not only stop words (those are a 422)
                "SELECT p FROM unnest(CAST(:p AS text[])) p "
                "WHERE numnode(websearch_to_tsquery('english', '\"' || replace(p, '\"', '') || '\"')) > 0"
            )
            self.phrases = [str(r[0]) for r in conn.execute(searchable, {"p": phrases})]
            bounds = conn.execute(text("SELECT min(published_at), max(published_at) FROM articles")).one()
            self.first, self.last = bounds[0], bounds[1]

    def entity(self, rng: random.Random) -> tuple[int, str]:
        return rng.choice(self.popular) if rng.random() < 0.5 else rng.choice(self.entities)

    def filters(self, rng: random.Random, *, count: int) -> dict[str, Any]:
        choices: list[Callable[[], dict[str, Any]]] = [
            lambda: {"entity": self.entity(rng)[1]},
            lambda: {
                "entity": [self.entity(rng)[1], self.entity(rng)[1]],
                "entity_mode": rng.choice(["all", "any"]),
            },
            lambda: {"source": rng.choice(self.sources)},
            lambda: {"topic": rng.choice(self.topics), "min_topic_score": rng.choice([0.0, 0.5, 0.8])},
            lambda: {"language": rng.choice(["en", "de", "fr"])},
            lambda: {"entity_type": rng.choice(["PERSON", "ORG", "GPE"])},
            lambda: self._dates(rng),
        ]
        params: dict[str, Any] = {}
        for make in rng.sample(choices, count):
            params.update(make())
        return params

    def _dates(self, rng: random.Random) -> dict[str, str]:
        span = self.last - self.first
        start = self.first + span * rng.random()
        return {"published_from": start.isoformat(), "published_to": (start + span / 12).isoformat()}

    def days(self, rng: random.Random) -> dict[str, str]:
        """A published range in whole UTC days: a day, a week, a month or a quarter."""
        span = rng.choice([1, 7, 30, 90])
        first = self.first.date()
        total = max(1, (self.last.date() - first).days - span)
        start = first + timedelta(days=rng.randrange(total))
        return {
            "published_from": f"{start}T00:00:00Z",
            "published_to": f"{start + timedelta(days=span)}T00:00:00Z",
        }

    def query(self, rng: random.Random) -> str:
        a, b = rng.sample(self.words, 2)
        return rng.choice(
            [
                a,
                f"{a} {b}",
                f'"{a} {b}"',
                f"{a} OR {b}",
                f"{a} -{b}",
                f'"{self.entity(rng)[1]}"',
                f"{a[: max(3, len(a) - 2)]}*",
                f'"{rng.choice(self.phrases)}"' if self.phrases else a,
            ]
        )


def url_classes(pools: Pools) -> dict[str, Url]:
    def lists(rng: random.Random) -> str:
        params: dict[str, Any] = {"sort": rng.choice(["ingested", "published"])}
        if rng.random() < 0.3:
            params["fields"] = "id,title,published_at"
        return "/v1/articles?" + urlencode(params, doseq=True)

    def filtered(rng: random.Random) -> str:
        params = pools.filters(rng, count=rng.randint(1, 2))
        params["sort"] = rng.choice(["ingested", "published"])
        if rng.random() < 0.3:
            params["fields"] = "id,title,published_at"
        return "/v1/articles?" + urlencode(params, doseq=True)

    def search(rng: random.Random) -> str:
        params = pools.filters(rng, count=rng.choice([0, 0, 1]))
        params["q"] = pools.query(rng)
        params["sort"] = rng.choice(["relevance", "relevance", "ingested", "published"])
        return "/v1/articles?" + urlencode(params, doseq=True)

    def facets(rng: random.Random) -> str:
        params: dict[str, Any] = {}
        if rng.random() < 0.7:
            params.update(pools.days(rng))
        if rng.random() < 0.4:
            params["source"] = rng.sample(pools.sources, rng.choice([1, 1, 2]))
        if rng.random() < 0.2:
            params["language"] = rng.choice(["en", "de", "fr"])
        return "/v1/articles/facets?" + urlencode(params, doseq=True)

    def facets_scan(rng: random.Random) -> str:
        params: dict[str, Any] = pools.days(rng) if rng.random() < 0.5 else {}
        if rng.random() < 0.5:
            params["q"] = pools.query(rng)
        else:
            params["entity"] = pools.entity(rng)[1]
        return "/v1/articles/facets?" + urlencode(params, doseq=True)

    def entities(rng: random.Random) -> str:
        entity_id = pools.entity(rng)[0]
        return rng.choice(
            [
                f"/v1/entities/{entity_id}",
                f"/v1/entities/{entity_id}/related",
                f"/v1/entities/{entity_id}/timeline",
            ]
        )

    return {
        "lists": lists,
        "filtered": filtered,
        "search": search,
        "facets": facets,
        "facets_scan": facets_scan,
        "entities": entities,
    }


async def drive(
    base: str, key: str, make: Url, *, duration: float, concurrency: int, seed: int
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    hits = 0
    deadline = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60, limits=limits
    ) as client:

        async def one_client(n: int) -> None:
            rng = random.Random(seed * 1000 + n)
            while time.perf_counter() < deadline:
                url = make(rng)
                start = time.perf_counter()
                nonlocal hits
                try:
                    response = await client.get(url)
                    status = str(response.status_code)
                    hits += response.headers.get("x-cache") == "hit"
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                latencies.append(time.perf_counter() - start)
                if status != "200":
                    errors[status] = errors.get(status, 0) + 1
                    if errors[status] == 1:
                        print(f"    {status} {url}", file=sys.stderr)

        started = time.perf_counter()
        await asyncio.gather(*(one_client(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0.0] * 99
    return {
        "n": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": q[49],
        "p95": q[94],
        "p99": q[98],
        "errors": errors,
        "cache_hits": hits,
    }


def explain_slowest(database_url: str, key: str, make: Url, *, samples: int) -> None:
    """Replay ``samples`` requests of the class in-process and EXPLAIN ANALYZE the slowest statement."""
    from fastapi.testclient import TestClient

    from services.api.app import create_app

    engine = create_engine(database_url)
    timings: list[tuple[float, str, Any, str]] = []
    current = {"url": ""}

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        conn.info["started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        timings.append((time.perf_counter() - conn.info["started"], statement, parameters, current["url"]))

    app = create_app()
    app.state.session_factory = sessionmaker(bind=engine, expire_on_commit=False)
    rng = random.Random(99)
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:
        for _ in range(samples):
            current["url"] = make(rng)
            client.get(current["url"])
    elapsed, statement, parameters, url = max(t for t in timings if "api_keys" not in t[1])
    print(f"\nslowest statement ({elapsed * 1000:.1f} ms) of {url}:\n")
    with engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
    print(statement)
    print(parameters)
    print("\n".join(r[0] for r in plan))
    engine.dispose()


def _label(statement: str) -> str:
    """A short name for a statement of the read API, to say where a request's time goes."""
    flat = " ".join(statement.split())
    for needle, name in (
        ("api_keys", "auth key"),
        ("pg_settings", "statement timeout"),
        ("set_config", "statement timeout"),
        ("numnode", "query has terms"),
        ("ts_headline", "headlines"),
        ("ts_rank_cd", "ranked search"),
        ("facet_counts", "exact facets"),
        ("WITH sample AS", "facets scan"),
        ("FROM article_topics JOIN topics", "topics of the page"),
        ("max(articles.id)", "snapshot id"),
        ("lower(entities.name)", "entity names"),
        ("FROM topics", "topic codes"),
        ("entity_aliases", "entity aliases"),
        ("WITH articles AS", "related entities"),
        ("date(timezone", "entity timeline"),
        ("articles.published_at DESC", "list by published"),
        ("ORDER BY articles.id DESC", "list by id"),
        ("FROM entities", "entity"),
    ):
        if needle in flat:
            return name
    return flat[:50]


def profile_classes(database_url: str, key: str, classes: dict[str, Url], *, samples: int) -> None:
    """Replay ``samples`` requests of each class in-process, one at a time, and print where a request's
    time goes: wall time, SQL time (statement execution, fetch included) by statement, and the rest (Python:
    routing, validation, auth, serialisation)."""
    from fastapi.testclient import TestClient

    from services.api.app import create_app
    from shared.db import connect_args

    os.environ["NEWSWIRE_LOG_LEVEL"] = "WARNING"
    get_settings.cache_clear()
    engine = create_engine(database_url, connect_args=connect_args("api"))
    sql: dict[str, list[float]] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        conn.info["started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        sql.setdefault(_label(statement), []).append(time.perf_counter() - conn.info["started"])

    @event.listens_for(engine, "handle_error")
    def _failed(context: Any) -> None:
        started = context.connection.info.get("started") if context.connection is not None else None
        if started is not None and context.statement is not None:
            label = f"{_label(context.statement)} (failed)"
            sql.setdefault(label, []).append(time.perf_counter() - started)

    app = create_app()
    app.state.session_factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    print(f"\nwhere the time goes: {samples} requests per class, one at a time, in-process")
    print(
        f"{'class':<12} {'wall ms':>8} {'sql ms':>7} {'other ms':>8} {'stmts':>6}  "
        "heaviest statements (ms per request)"
    )
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:
        for name, make in classes.items():
            rng = random.Random(7)
            for _ in range(3):  # warm the process (imports, first connections)
                client.get(make(rng))
            sql.clear()
            statuses: dict[int, int] = {}
            started = time.perf_counter()
            for _ in range(samples):
                url = make(rng)
                status = client.get(url).status_code
                statuses[status] = statuses.get(status, 0) + 1
                if status != 200:
                    print(f"    {status} {url}", file=sys.stderr)
            wall = (time.perf_counter() - started) * 1000 / samples
            total = sum(sum(v) for v in sql.values()) * 1000 / samples
            count = sum(len(v) for v in sql.values()) / samples
            top = sorted(sql.items(), key=lambda kv: -sum(kv[1]))[:4]
            heavy = ", ".join(f"{label} {sum(v) * 1000 / samples:.1f}" for label, v in top)
            errors = {k: v for k, v in statuses.items() if k != 200}
            print(
                f"{name:<12} {wall:>8.1f} {total:>7.1f} {wall - total:>8.1f} {count:>6.1f}  {heavy}"
                + (f"  errors {errors}" if errors else "")
            )
    engine.dispose()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of the API process and its workers so far."""
    try:
        root = psutil.Process(pid)
        total = 0.0
        for proc in [root, *root.children(recursive=True)]:
            times = proc.cpu_times()
            total += times.user + times.system
        return total
    except psutil.Error:
        return 0.0


def _table(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'class':<12} {'clients':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'cpu ms':>7} "
        f"{'hits':>5}  goal                errors"
    )
    for r in rows:
        goal = ""
        if r["clients"] == 1 and GOALS_MS.get(r["class"]) is not None:
            ms = GOALS_MS[r["class"]]
            goal = f"p95<={ms:.0f} {'met' if r['p95_ms'] <= (ms or 0) else 'MISSED'}"
        elif r["clients"] > 1 and GOALS_RPS.get(r["class"]) is not None:
            rps = GOALS_RPS[r["class"]] or 0
            ok = r["req_s"] >= rps and r["p99_ms"] <= 1000 and not r["errors"]
            goal = f">={rps:.0f}/s p99<=1s {'met' if ok else 'MISSED'}"
        print(
            f"{r['class']:<12} {r['clients']:>7} {r['req_s']:>7.1f} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} "
            f"{r['p99_ms']:>8.1f} {r['api_cpu_ms']:>7.2f} {r['cache_hits']:>5}  {goal:<19} {r['errors']}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="nw_bench")
    parser.add_argument("--admin-url", default=get_dev_settings().test_database_url)
    parser.add_argument("--duration", type=float, default=20.0, help="Seconds per endpoint class.")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="API worker processes.")
    parser.add_argument("--classes", default="lists,filtered,search,facets,facets_scan,entities")
    parser.add_argument("--cache-seconds", type=float, default=None, help="NEWSWIRE_API_CACHE_SECONDS.")
    parser.add_argument(
        "--redis-url",
        default=get_settings().redis_url or get_dev_settings().test_redis_url,
        help="Redis of the answer cache.",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="Then replay N requests per class in-process and print where the time goes (SQL by statement).",
    )
    parser.add_argument("--profile-only", action="store_true", help="Only the profile (no load run).")
    args = parser.parse_args()
    url = make_url(args.admin_url).set(database=args.database).render_as_string(hide_password=False)
    os.environ["NEWSWIRE_DATABASE_URL"] = url
    get_settings.cache_clear()
    from shared.auth import service as auth

    engine = create_engine(url)
    with sessionmaker(bind=engine)() as session:
        key = auth.create_key(session=session, name="bench", scopes=["read"]).key
        session.commit()
    pools = Pools(engine)
    engine.dispose()
    classes = {name: make for name, make in url_classes(pools).items() if name in args.classes.split(",")}
    if args.profile_only:
        profile_classes(url, key, classes, samples=args.profile or 50)
        return 0
    port = _free_port()
    env = {
        **os.environ,
        "NEWSWIRE_LOG_LEVEL": "WARNING",
        "NEWSWIRE_DB_POOL_SIZE": str(max(10, args.concurrency // args.workers + 2)),
        "NEWSWIRE_REDIS_URL": args.redis_url,
        # one key drives every class: the per-key limits (search 120/min, facets 60/min) would answer
        # most requests with a quick 429 (counted as errors, and inflating requests per second)
        "NEWSWIRE_RATE_LIMIT_PER_MINUTE": "0",
        "NEWSWIRE_RATE_LIMIT_SEARCH_PER_MINUTE": "0",
        "NEWSWIRE_RATE_LIMIT_FACETS_PER_MINUTE": "0",
    }
    if args.cache_seconds is not None:
        env["NEWSWIRE_API_CACHE_SECONDS"] = str(args.cache_seconds)
    cache_seconds = float(env.get("NEWSWIRE_API_CACHE_SECONDS", get_settings().api_cache_seconds))
    logs = Path(tempfile.mkdtemp(prefix="nw-bench-"))
    api = spawn(
        "api", ["serve", "api", "--port", str(port), "--workers", str(args.workers)], env=env, log_dir=logs
    )
    base = f"http://127.0.0.1:{port}"
    rows: list[dict[str, Any]] = []
    load_before = os.getloadavg()

    def measured(name: str, make: Url, *, clients: int, duration: float, seed: int) -> None:
        cpu = _cpu_seconds(api.process.pid)
        r = asyncio.run(drive(base, key, make, duration=duration, concurrency=clients, seed=seed))
        used = _cpu_seconds(api.process.pid) - cpu
        rows.append(
            {
                "class": name,
                "clients": clients,
                "req_s": round(r["rps"], 1),
                "p50_ms": round(r["p50"] * 1000, 1),
                "p95_ms": round(r["p95"] * 1000, 1),
                "p99_ms": round(r["p99"] * 1000, 1),
                "errors": sum(r["errors"].values()),
                "api_cpu_ms": round(used * 1000 / max(1, r["n"]), 2),
                "cache_hits": r["cache_hits"],
                "requests": r["n"],
            }
        )

    try:
        wait_ready(f"{base}/readyz", [api], timeout=60)
        for name, make in classes.items():  # a short warm-up, then the measured runs
            asyncio.run(drive(base, key, make, duration=2, concurrency=args.concurrency, seed=1))
            measured(name, make, clients=args.concurrency, duration=args.duration, seed=2)
            # one client: the time a request takes when it does not queue behind the others
            measured(name, make, clients=1, duration=args.duration / 2, seed=3)
    finally:
        stop_children([api])
    with create_engine(url).connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM articles")).scalar_one()
    load = [round(x, 2) for x in os.getloadavg()]
    print(
        f"\n{count:,} articles, {args.workers} API workers, {args.duration:.0f} s per class at "
        f"{args.concurrency} clients and {args.duration / 2:.0f} s at 1; answer cache {cache_seconds:g} s; "
        f"load average before {[round(x, 2) for x in load_before]}, after {load} on {os.cpu_count()} CPUs"
    )
    _table(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"api-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(
        json.dumps(
            {
                "articles": count,
                "workers": args.workers,
                "cache_seconds": cache_seconds,
                "load_before": list(load_before),
                "load_after": load,
                "cpus": os.cpu_count(),
                "results": rows,
            },
            indent=1,
        )
    )
    print(f"\nwrote {out}")
    if not args.no_explain:
        slowest = max((r for r in rows if r["clients"] == 1), key=lambda r: r["p95_ms"])["class"]
        explain_slowest(url, key, classes[slowest], samples=30)
    if args.profile:
        profile_classes(url, key, classes, samples=args.profile)
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

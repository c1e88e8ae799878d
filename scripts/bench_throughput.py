"""`make bench`: end-to-end throughput of the platform against the plain libraries doing the same work.

    python scripts/bench_throughput.py --articles 600 --concurrency 8 --workers 1,2

For each worker count it starts a fresh platform the way `newswire chaos` does (embedded PostgreSQL and
Redis on free ports, then `newswire serve ingest`, `newswire serve api` and `newswire worker` processes),
pushes N distinct articles (a mix of real HTML pages and scraped text from ../shared/eval/, varied so
none is a duplicate) over HTTP from `--concurrency` threads, waits for the queue to drain and reports:
accepted/s, ingest latency p50/p95/p99 (all, and 3-8 kB text articles), ingest-to-enriched lag
p50/p95/p99 (the articles' stage timestamps), enriched/s (steady state: the middle 80 % of the
enrichments) and CPU seconds per article of each process group. Then the baseline: the same cleaning,
language, entity and topic steps as plain library calls in this one process over the same articles
(`--baseline-articles` of them). Results go to bench-results/ as JSON and a PNG chart.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newswire_cli.dev.chaos import ChaosConfig, Platform, _chaos_env, _create_api_key, free_port  # noqa: E402
from newswire_cli.dev.settings import get_dev_settings  # noqa: E402
from newswire_cli.processes import spawn  # noqa: E402
from shared.settings import get_settings  # noqa: E402

TEXT_CHARS = (3000, 8000)  # "5 kB text articles": the text articles are cut to this range


# --------------------------------------------------------------------------------------------------
# the articles
# --------------------------------------------------------------------------------------------------


def _eval_dir() -> Path:
    path = get_dev_settings().eval_dir
    return path if path.is_absolute() else (ROOT / path).resolve()


def load_corpus(eval_dir: Path) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """(article bodies as paragraph lists, (url, html) of real pages)."""
    truth = json.loads((eval_dir / "extraction" / "ground-truth.json").read_text())
    bodies = [
        [p.strip() for p in item["articleBody"].split("\n") if len(p.strip()) > 40] for item in truth.values()
    ]
    bodies = [b for b in bodies if sum(map(len, b)) > 1500]
    pages = []
    for page_id, item in sorted(truth.items()):
        path = eval_dir / "extraction" / "html" / f"{page_id}.html.gz"
        if path.exists():
            pages.append(
                (
                    item.get("url") or f"https://page.invalid/{page_id}",
                    gzip.decompress(path.read_bytes()).decode("utf-8", "replace"),
                )
            )
    for path in sorted((eval_dir / "pages" / "html").glob("*.html")):
        pages.append((f"https://pages.invalid/{path.stem}", path.read_text(errors="replace")))
    if not bodies or not pages:
        raise SystemExit(f"no evaluation data under {eval_dir} (see ../shared/eval/README.md)")
    return bodies, pages


def _mixed_paragraphs(rng: random.Random, bodies: list[list[str]], ref: str) -> list[str]:
    """Paragraphs of three different articles, interleaved, each line marked with its own reference
    (so no two bench articles are duplicates or near-duplicates, and no line is a source's boilerplate)."""
    picked = rng.sample(bodies, 3)
    paragraphs: list[str] = []
    low, high = TEXT_CHARS
    want = rng.randint(low, high)
    size = 0
    for k in range(max(map(len, picked))):
        for body in picked:
            if k < len(body) and size < want:
                line = f"{body[k]} (Ref {ref}.{len(paragraphs)}.)"
                paragraphs.append(line)
                size += len(line) + 2
    return paragraphs


def make_articles(n: int, *, html_share: float, run_id: str, seed: int) -> list[dict[str, Any]]:
    """N distinct payloads: about ``html_share`` HTML (each real page once, then generated pages around
    mixed paragraphs), the rest scraped text of 3-8 kB."""
    bodies, pages = load_corpus(_eval_dir())
    rng = random.Random(seed)
    real_pages = list(pages)
    rng.shuffle(real_pages)
    articles = []
    for i in range(n):
        ref = f"{run_id}-{i}"
        base = {"source": f"bench-{run_id}", "external_id": ref}
        if rng.random() < html_share:
            if real_pages:
                url, html = real_pages.pop()
                found = re.search(r"<title[^>]*>([^<]{3,300})</title>", html, re.IGNORECASE)
                title = " ".join(found.group(1).split()) if found else ""
                url = f"{url.split('#')[0]}?bench={ref}"
                articles.append(
                    {**base, "url": url, "title": title or f"Article {ref}", "html": html, "kind": "html"}
                )
                continue
            paragraphs = _mixed_paragraphs(rng, bodies, ref)
            title = paragraphs[0][:80]
            html = (
                f"<html><head><title>{title} | Daily Bench</title></head><body>"
                "<nav><a href='/'>Home</a> <a href='/world'>World</a> <a href='/sport'>Sport</a></nav>"
                f"<article><h1>{title}</h1>"
                + "".join(f"<p>{p}</p>" for p in paragraphs)
                + "</article><footer>Copyright Daily Bench. All rights reserved.</footer></body></html>"
            )
            articles.append(
                {**base, "url": f"https://bench.invalid/html/{ref}", "html": html, "kind": "html"}
            )
        else:
            paragraphs = _mixed_paragraphs(rng, bodies, ref)
            title = " ".join(paragraphs[0].split()[:10])
            articles.append(
                {
                    **base,
                    "url": f"https://bench.invalid/text/{ref}",
                    "title": title,
                    "text": "\n\n".join(paragraphs),
                    "kind": "text",
                }
            )
    return articles


# --------------------------------------------------------------------------------------------------
# measuring
# --------------------------------------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None}
    if len(values) == 1:
        return {"p50": values[0], "p95": values[0], "p99": values[0]}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "p99": q[98]}


def own_cpu(pid: int) -> float:
    """CPU seconds of the process alone (not its children)."""
    try:
        t = psutil.Process(pid).cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return float(t.user + t.system)


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process, its live descendants and the children it has reaped."""
    try:
        proc = psutil.Process(pid)
        t = proc.cpu_times()
        total: float = t.user + t.system + t.children_user + t.children_system
        for child in proc.children(recursive=True):
            try:
                c = child.cpu_times()
                total += c.user + c.system + c.children_user + c.children_system
            except psutil.NoSuchProcess:
                pass
        return total
    except psutil.NoSuchProcess:
        return 0.0


@dataclass
class Push:
    latencies: list[tuple[str, int, float, int]] = field(default_factory=list)  # kind, chars, s, status
    seconds: float = 0.0


def push(
    articles: list[dict[str, Any]], *, urls: list[str], headers: dict[str, str], concurrency: int, rate: float
) -> Push:
    result = Push()
    lock = threading.Lock()
    bodies = [json.dumps({k: v for k, v in a.items() if k != "kind"}).encode() for a in articles]
    counter = iter(range(len(articles)))
    started = time.perf_counter()

    def feeder(slot: int) -> None:
        with httpx.Client(timeout=60, headers={**headers, "Content-Type": "application/json"}) as client:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                if rate > 0:
                    time.sleep(max(0.0, started + i / rate - time.perf_counter()))
                article = articles[i]
                t0 = time.perf_counter()
                response = client.post(f"{urls[i % len(urls)]}/v1/articles", content=bodies[i])
                elapsed = time.perf_counter() - t0
                chars = len(article.get("text") or article.get("html") or "")
                with lock:
                    result.latencies.append((article["kind"], chars, elapsed, response.status_code))

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(feeder, range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class RunResult:
    workers: int
    ingest_processes: int
    prefill: int
    articles: int
    concurrency: int
    rate: float
    accepted: int
    responses: dict[str, int]
    statuses: dict[str, int]
    accepted_per_s: float
    ingest_latency_s: dict[str, float | None]
    ingest_latency_text_5kb_s: dict[str, float | None]
    lag_s: dict[str, float | None]
    enriched: int
    batched_share: float  # articles whose job a batch took over
    enriched_per_s: float
    drained: bool
    cpu_s_per_article: dict[str, float]
    env: dict[str, str]


PREFILL_SQL = """
insert into articles (url, canonical_url, source, external_id, title, text, content_hash, raw_format,
                      raw_content, status, language, language_confidence, published_at, received_at,
                      stored_at, queued_at, enrich_started_at, enriched_at)
select 'https://prefill.invalid/' || g, 'https://prefill.invalid/' || g, 'prefill-' || (g %% 50), 'p' || g,
       'Prefilled article ' || g, 'Prefilled body ' || g || ' about markets in London and Paris.',
       md5('prefill' || g) || md5(g::text), 'text', '', 'enriched', 'en', 0.99,
       now() - make_interval(mins => g), now(), now(), now(), now(), now()
from generate_series(1, %s) as g
"""


def run_platform(
    articles: list[dict[str, Any]], *, workers: int, ingest_processes: int, concurrency: int, rate: float,
    extra_env: dict[str, str], timeout: float, prefill: int, say: Any,
) -> RunResult:  # fmt: skip
    root = Path(tempfile.mkdtemp(prefix="newswire-bench-"))
    config = ChaosConfig(workers=workers)
    env = _chaos_env(root, config)
    env.update(NEWSWIRE_RATE_LIMIT_PER_MINUTE="0", NEWSWIRE_LOG_LEVEL="WARNING", **extra_env)
    platform = Platform(config, root, env)
    try:
        platform.start_servers()
        done = platform.cli("migrate")
        if done.returncode != 0:
            raise RuntimeError(f"newswire migrate failed: {done.stderr[-2000:]}")
        headers = {"Authorization": f"Bearer {_create_api_key(platform)}"}
        if prefill:  # stored, enriched articles the run's lookups and indexes have to live with
            with platform.db() as conn:
                conn.execute(PREFILL_SQL, (prefill,))
                conn.execute("analyze")
            say(f"  prefilled {prefill} stored articles")
        platform.start_ingest()
        urls = [platform.ingest_url]
        for n in range(2, ingest_processes + 1):
            port = free_port()
            platform.children[f"ingest{n}"] = spawn(
                f"ingest{n}", ["serve", "ingest", "--port", str(port)], env=env, log_dir=platform.log_dir
            )
            urls.append(f"http://127.0.0.1:{port}")
        platform.start_api()
        for _ in range(workers):
            platform.start_worker()
        for url in urls:
            platform.wait_ready(f"{url}/readyz")
        platform.wait_ready(f"{platform.api_url}/readyz")
        source = articles[0]["source"]
        # warm up: one article through every worker (models loaded) before the clock starts
        warm = [
            dict(a, source="warm")
            for a in make_articles(2 * workers, html_share=0, run_id=uuid.uuid4().hex[:8], seed=0)
        ]
        push(warm, urls=urls, headers=headers, concurrency=1, rate=0)
        deadline = time.monotonic() + 120
        while (
            platform.scalar("select count(*) from articles where source = 'warm' and status = 'queued'")
            and time.monotonic() < deadline
        ):
            time.sleep(0.5)
        groups = {name: [c.process.pid] for name, c in platform.children.items()}
        # the postmaster (first line of postmaster.pid): a backend's pid is gone once its query is answered
        data_dir = Path(str(platform.scalar("select setting from pg_settings where name = 'data_directory'")))
        groups["postgres"] = [int((data_dir / "postmaster.pid").read_text().split()[0])]
        import redis

        groups["redis"] = [int(redis.Redis.from_url(env["NEWSWIRE_REDIS_URL"]).info("server")["process_id"])]
        cpu_before = {name: sum(map(tree_cpu, pids)) for name, pids in groups.items()}
        cpu_before["load generator"] = own_cpu(os.getpid())  # its children are the platform
        worker_mains = [pids[0] for name, pids in groups.items() if name.startswith("worker")]
        mains_before = sum(map(own_cpu, worker_mains))
        say(f"  pushing {len(articles)} articles, {concurrency} connections, {workers} worker(s)")
        result = push(articles, urls=urls, headers=headers, concurrency=concurrency, rate=rate)
        accepted = sum(1 for *_, status in result.latencies if status == 202)
        responses = Counter(str(status) for *_, status in result.latencies)
        say(f"  pushed in {result.seconds:.1f} s (HTTP statuses {dict(responses)}); draining ...")
        deadline = time.monotonic() + timeout
        drained = False
        while time.monotonic() < deadline:
            if not platform.scalar(
                "select count(*) from articles where source = %s and status = 'queued'", source
            ):
                drained = True
                break
            time.sleep(0.5)
        cpu_after = {name: sum(map(tree_cpu, pids)) for name, pids in groups.items()}
        cpu_after["load generator"] = own_cpu(os.getpid())
        mains = sum(map(own_cpu, worker_mains)) - mains_before
        with platform.db() as conn:
            statuses = dict(
                conn.execute(
                    "select status, count(*) from articles where source = %s group by 1", (source,)
                ).fetchall()
            )
            batched = conn.execute(
                "select count(*) from outbox join articles on articles.id = outbox.article_id "
                "where articles.source = %s and outbox.payload ? 'batched_into'",
                (source,),
            ).fetchone()
            rows = conn.execute(
                "select extract(epoch from enriched_at - received_at), extract(epoch from enriched_at) "
                "from articles where source = %s and status = 'enriched' order by enriched_at",
                (source,),
            ).fetchall()
        lags = [float(r[0]) for r in rows]
        done_at = [float(r[1]) for r in rows]
        # steady state: the middle 80 % of the enrichments (no warm-up or tail)
        lo, hi = int(len(done_at) * 0.1), int(len(done_at) * 0.9)
        steady = (
            (hi - lo) / (done_at[hi - 1] - done_at[lo])
            if hi - 1 > lo and done_at[hi - 1] > done_at[lo]
            else 0.0
        )
        texts = [
            s
            for kind, chars, s, status in result.latencies
            if kind == "text" and status == 202 and TEXT_CHARS[0] <= chars <= TEXT_CHARS[1] + 500
        ]
        n = max(1, accepted)
        cpu: dict[str, float] = {}
        for name in cpu_after:
            label = "worker" if name.startswith("worker") else "ingest" if name.startswith("ingest") else name
            cpu[label] = cpu.get(label, 0.0) + (cpu_after[name] - cpu_before[name]) / n
        cpu["worker main processes"] = mains / n  # Celery's consumer, part of "worker"
        return RunResult(
            workers=workers,
            ingest_processes=ingest_processes,
            prefill=prefill,
            articles=len(articles),
            concurrency=concurrency,
            rate=rate,
            accepted=accepted,
            responses=dict(responses),
            statuses=statuses,
            accepted_per_s=accepted / result.seconds,
            ingest_latency_s=percentiles([s for *_, s, status in result.latencies if status == 202]),
            ingest_latency_text_5kb_s=percentiles(texts),
            lag_s=percentiles(lags),
            enriched=len(rows),
            batched_share=round((batched[0] if batched else 0) / n, 3),
            enriched_per_s=steady,
            drained=drained,
            cpu_s_per_article={k: round(v, 4) for k, v in cpu.items()},
            env=extra_env,
        )
    finally:
        platform.stop()
        shutil.rmtree(root, ignore_errors=True)


def run_baseline(articles: list[dict[str, Any]]) -> dict[str, Any]:
    """The same steps as plain library calls in one process: clean (trafilatura in-process for HTML),
    then language, entities and topics."""
    from services.enrich.nlp import Enricher
    from services.ingest.cleaning.service import clean_html, clean_text

    settings = get_settings()
    enricher = Enricher(settings.spacy_model, multilingual=settings.multilingual_embedding)
    enricher.enrich(title="Warm up", text="The models are loaded once before the clock starts in London.")
    cpu0, t0 = time.process_time(), time.perf_counter()
    for article in articles:
        if article["kind"] == "html":
            cleaned = clean_html(
                article["html"], url=article["url"], title=article.get("title"), isolate=False
            )
        else:
            cleaned = clean_text(article["text"], title=article.get("title"))
        enricher.enrich(title=cleaned.title, text=cleaned.text)
    seconds = time.perf_counter() - t0
    return {
        "articles": len(articles),
        "seconds": seconds,
        "per_s": len(articles) / seconds,
        "cpu_s_per_article": (time.process_time() - cpu0) / len(articles),
    }


# --------------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f}"


def table(runs: list[RunResult], baseline: dict[str, Any]) -> str:
    lines = [
        "| workers | ingest procs | stored before | accepted/s | ingest p50/p95/p99 ms | 5 kB text p99 ms "
        "| lag p50/p95/p99 s | enriched/s | ÷ baseline | CPU s/article (ingest, worker, postgres, redis) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lat, lag, cpu = r.ingest_latency_s, r.lag_s, r.cpu_s_per_article
        lag_text = "/".join("-" if lag[k] is None else f"{lag[k]:.1f}" for k in ("p50", "p95", "p99"))
        lines.append(
            f"| {r.workers} | {r.ingest_processes} | {r.prefill} | {r.accepted_per_s:.1f} | "
            f"{_ms(lat['p50'])}/{_ms(lat['p95'])}/{_ms(lat['p99'])} | "
            f"{_ms(r.ingest_latency_text_5kb_s['p99'])} | {lag_text} | {r.enriched_per_s:.1f} | "
            f"{r.enriched_per_s / baseline['per_s']:.2f} | "
            + ", ".join(f"{cpu.get(k, 0):.3f}" for k in ("ingest", "worker", "postgres", "redis"))
            + " |"
        )
    lines.append(
        f"\nbaseline (one process, plain library calls): {baseline['per_s']:.1f} articles/s over "
        f"{baseline['articles']} articles, {baseline['cpu_s_per_article']:.3f} CPU s/article"
    )
    return "\n".join(lines)


def chart(runs: list[RunResult], baseline: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    labels = [f"{r.workers}w/{r.ingest_processes}i" for r in runs] + ["baseline"]
    left.bar(
        labels,
        [r.enriched_per_s for r in runs] + [baseline["per_s"]],
        color=["#3b7dd8"] * len(runs) + ["#999"],
    )
    left.set_ylabel("articles enriched / s")
    left.set_title("throughput")
    for r, label in zip(runs, labels, strict=False):
        right.plot(
            ["p50", "p95", "p99"], [r.lag_s[k] or 0 for k in ("p50", "p95", "p99")], marker="o", label=label
        )
    right.set_ylabel("ingest → enriched lag (s)")
    right.set_title("lag")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--workers", default="1,2", help="Comma-separated worker process counts, one run each."
    )
    parser.add_argument("--ingest-processes", type=int, default=1)
    parser.add_argument(
        "--rate", type=float, default=0.0, help="Articles/s offered (0: as fast as accepted)."
    )
    parser.add_argument("--html-share", type=float, default=0.3)
    parser.add_argument("--baseline-articles", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=900.0, help="Most seconds to wait for a drain.")
    parser.add_argument("--prefill", type=int, default=0, help="Stored articles written before the run.")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the platform's processes.")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    run_id = uuid.uuid4().hex[:8]
    articles = make_articles(args.articles, html_share=args.html_share, run_id=run_id, seed=args.seed)
    extra_env = dict(item.split("=", 1) for item in args.env)
    started = datetime.now(UTC)
    html = sum(a["kind"] == "html" for a in articles)
    print(
        f"bench {run_id}: {len(articles)} articles ({html} HTML), {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} (other users of the machine count)"
    )
    runs = []
    for workers in (int(w) for w in args.workers.split(",")):
        print(f"platform with {workers} worker(s):")
        runs.append(
            run_platform(
                articles,
                workers=workers,
                ingest_processes=args.ingest_processes,
                concurrency=args.concurrency,
                rate=args.rate,
                extra_env=extra_env,
                timeout=args.timeout,
                prefill=args.prefill,
                say=print,
            )  # fmt: skip
        )
    step = max(1, len(articles) // args.baseline_articles)
    print(f"baseline over {len(articles[::step])} of the articles ...")
    baseline = run_baseline(articles[::step])
    print(table(runs, baseline))
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"bench-{started:%Y%m%dT%H%M%S}"
    payload = {
        "started": started.isoformat(),
        "command": " ".join(sys.argv),
        "cpus": os.cpu_count(),
        "load_average_end": os.getloadavg(),
        "baseline": baseline,
        "runs": [asdict(r) for r in runs],
    }
    stem.with_suffix(".json").write_text(json.dumps(payload, indent=2))
    chart(runs, baseline, stem.with_suffix(".png"))
    print(f"wrote {stem}.json and {stem}.png")
    return 0 if all(r.drained for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())

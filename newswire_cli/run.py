"""`newswire run`: the whole platform on one machine, embedded PostgreSQL and Redis unless URLs are set."""

from __future__ import annotations

import os
import secrets
import signal
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

import httpx
from rich.console import Console
from rich.table import Table

from newswire_cli.files import expand
from newswire_cli.processes import Child, spawn, stop_children, wait_ready
from newswire_cli.push import auth_headers, push_files
from shared.settings import PLATFORM_FILE, Settings, get_settings, record_platform

console = Console()


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop()


def wait_enriched(
    api_url: str,
    ids: list[int],
    *,
    timeout: float,
    api_key: str | None = None,
    on_tick: Callable[[int], None] | None = None,
) -> dict[int, dict[str, object]]:
    """Poll the API until every id is enriched or failed (or the timeout passes)."""
    deadline = time.monotonic() + timeout
    done: dict[int, dict[str, object]] = {}
    with httpx.Client(base_url=api_url, timeout=5, headers=auth_headers(api_key)) as client:
        while time.monotonic() < deadline and len(done) < len(ids):
            for article_id in ids:
                if article_id in done:
                    continue
                response = client.get(f"/v1/articles/{article_id}")
                if response.status_code == 200 and response.json()["status"] in ("enriched", "failed"):
                    done[article_id] = response.json()
            if on_tick:
                on_tick(len(done))
            if len(done) < len(ids):
                time.sleep(0.5)
    return done


def _print_articles(articles: list[dict[str, object]]) -> None:
    table = Table(title="Sample articles")
    for column in ("id", "status", "lang", "title", "top entities", "top topic"):
        table.add_column(column)
    for a in articles:
        entities = a.get("entities") or []
        topics = a.get("topics") or []
        table.add_row(
            str(a["id"]),
            str(a["status"]),
            str(a.get("language") or ""),
            str(a["title"])[:60],
            ", ".join(f"{e['name']} ({e['type']})" for e in entities[:4]),  # type: ignore[index]
            str(topics[0]["label"]) if topics else "",  # type: ignore[index]
        )
    console.print(table)


def _private_file(path: Path, content: str) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(content + "\n")


def ensure_admin_key(database_url: str, data_dir: Path) -> str:
    """The admin key of `newswire run`, kept in the data dir: reused while the database still knows it
    (and it is not revoked), else a new one."""
    from shared.auth import service
    from shared.db import get_engine, session_scope
    from shared.db import session_factory as make_factory

    path = data_dir / "api-key"
    factory = make_factory(get_engine(database_url))
    with session_scope(factory) as session:
        if path.exists():
            key = path.read_text().strip()
            if service.key_is_valid(session=session, key=key):
                return key
        created = service.create_key(
            session=session, name="newswire run (admin)", scopes=["admin"], any_source=True
        )
    _private_file(path, created.key)
    return created.key


def flower_credentials(data_dir: Path) -> str:
    """NEWSWIRE_FLOWER_BASIC_AUTH, else `admin:<random>` generated once and kept in the data dir."""
    configured = get_settings().flower_basic_auth
    if configured:
        return configured
    path = data_dir / "flower-auth"
    if path.exists() and ":" in path.read_text():
        return path.read_text().strip()
    credentials = f"admin:{secrets.token_urlsafe(12)}"
    _private_file(path, credentials)
    return credentials


def _print_access(*, key: str, ingest_url: str, api_url: str) -> None:
    console.print()
    console.print(f"[bold]admin API key[/bold] {key}   (kept in the data dir; `newswire keys` manages keys)")
    console.print("try:", highlight=False)
    header = f"Authorization: Bearer {key}"
    lines = [
        f"curl -s -H '{header}' '{api_url}/v1/articles?status=enriched&limit=5'",
        f"curl -s -H '{header}' '{api_url}/v1/entities?type=PERSON'",
        f"curl -s -H '{header}' -H 'content-type: application/json' -X POST {ingest_url}/v1/articles "
        """-d '{"url": "https://example.com/a", "title": "Hello", "text": "NATO met in Brussels."}'""",
        f"curl -s -H '{header}' '{api_url}/v1/ops/queues'",
    ]
    for line in lines:
        console.print(f"  {line}", highlight=False, soft_wrap=True, markup=False)


def run_platform(*, samples: Path | None) -> int:
    from newswire_cli.dev.embedded import EmbeddedPostgres, EmbeddedRedis
    from shared.migrate import upgrade

    settings = Settings()  # the environment only: never the record of an earlier run
    data_dir = settings.data_dir.resolve()
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    children: list[Child] = []
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    # Ctrl-C must stop the platform even when SIGINT was ignored by whoever started us (a shell's background
    # job inherits SIG_IGN for SIGINT, and Python then never raises KeyboardInterrupt)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    with ExitStack() as stack:
        try:
            database_url = settings.database_url
            if not database_url:
                pg = EmbeddedPostgres(data_dir, settings.embedded_pg_port)
                console.print(f"starting embedded PostgreSQL in {data_dir / 'postgres'} ...")
                database_url = pg.start()
                stack.callback(pg.stop)
            redis_url = settings.redis_url
            if not redis_url:
                redis = EmbeddedRedis(data_dir, settings.embedded_redis_port)
                console.print(f"starting embedded Redis in {data_dir / 'redis'} ...")
                redis_url = redis.start()
                stack.callback(redis.stop)
            env["NEWSWIRE_DATABASE_URL"] = database_url
            env["NEWSWIRE_REDIS_URL"] = redis_url
            console.print("migrating the database ...")
            upgrade(database_url)
            api_key = ensure_admin_key(database_url, data_dir)
            flower_auth = flower_credentials(data_dir)

            stack.callback(stop_children, children)
            host = settings.host
            ingest_url = f"http://{host}:{settings.ingest_port}"
            api_url = f"http://{host}:{settings.api_port}"
            flower_url = f"http://{host}:{settings.flower_port}"
            # the commands run in this folder (`newswire queues`, `failed`, `keys`...) find this platform
            in_use = settings.model_copy(update={"database_url": database_url, "redis_url": redis_url})
            record_platform(in_use, pid=os.getpid(), ingest_url=ingest_url, api_url=api_url)
            stack.callback((data_dir / PLATFORM_FILE).unlink, missing_ok=True)
            children.append(spawn("ingest", ["serve", "ingest"], env=env, log_dir=log_dir))
            children.append(spawn("api", ["serve", "api"], env=env, log_dir=log_dir))
            webhooks_env = {"NEWSWIRE_WEBHOOKS_METRICS_PORT": "8003", **env}
            children.append(spawn("webhooks", ["webhooks"], env=webhooks_env, log_dir=log_dir))
            relay_env = {"NEWSWIRE_RELAY_METRICS_PORT": "8004", **env}
            children.append(spawn("relay", ["relay"], env=relay_env, log_dir=log_dir))
            worker_env = {"NEWSWIRE_WORKER_METRICS_PORT": "8002", **env}
            children.append(spawn("worker", ["worker"], env=worker_env, log_dir=log_dir))
            flower_env = {**env, "NEWSWIRE_FLOWER_BASIC_AUTH": flower_auth}
            children.append(spawn("flower", ["flower"], env=flower_env, log_dir=log_dir))
            wait_ready(f"{ingest_url}/readyz", children, timeout=90)
            wait_ready(f"{api_url}/readyz", children, timeout=90)
            try:
                # 401: up, behind NEWSWIRE_FLOWER_BASIC_AUTH
                wait_ready(f"{flower_url}/healthcheck", children, timeout=30, ok=frozenset({200, 401}))
            except RuntimeError as exc:
                console.print(f"[yellow]flower is not answering: {exc}[/yellow]")

            if samples is not None and samples.exists():
                files = list(expand([samples]))
                console.print(f"pushing {len(files)} sample article(s) from {samples}/ ...")
                summary = push_files(
                    files,
                    ingest_url=ingest_url,
                    source="samples",
                    base_url="https://samples.newswire.invalid/articles",
                    api_key=api_key,
                )
                console.print(
                    f"queued {summary['queued']}, duplicates {summary['duplicates']}, "
                    f"failed {summary['failed']}"
                )
                ids = sorted(set(summary["ids"]))
                console.print("waiting for the worker to enrich them (the first run loads the models) ...")
                done = wait_enriched(api_url, ids, timeout=300, api_key=api_key)
                _print_articles([done[i] for i in ids if i in done])

            console.print()
            console.print(f"[bold]ingest[/bold]   {ingest_url}  (docs {ingest_url}/docs)")
            console.print(f"[bold]api[/bold]      {api_url}  (docs {api_url}/docs)")
            console.print(f"[bold]articles[/bold] {api_url}/v1/articles")
            user, _, password = flower_auth.partition(":")
            console.print(f"[bold]flower[/bold]   {flower_url}  (user {user}, password {password})")
            console.print(
                f"[bold]metrics[/bold]  http://{host}:{settings.ingest_metrics_port}/metrics (ingest), "
                f":{settings.api_metrics_port} (api), :8002 (worker), :8003 (webhooks), :8004 (relay) "
                " (internal ports)"
            )
            console.print(f"[bold]logs[/bold]     {log_dir}/")
            broker = env.get("NEWSWIRE_BROKER_URL") or redis_url
            console.print(f"database {database_url}   broker {broker}   redis {redis_url}")
            console.print(f"recorded in {data_dir / PLATFORM_FILE} (`newswire` commands here use it)")
            _print_access(key=api_key, ingest_url=ingest_url, api_url=api_url)
            console.print("Newswire is running. Ctrl-C stops everything.")
            while True:
                for child in children:
                    if child.process.poll() is not None:
                        console.print(
                            f"[red]{child.name} exited with {child.process.returncode}; see {child.log}[/red]"
                        )
                        return 1
                time.sleep(1)
        except (KeyboardInterrupt, _Stop):
            console.print("\nstopping ...")
            return 0
        except Exception as exc:
            console.print(f"[red]newswire run failed: {exc}[/red]")
            return 1
        finally:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)

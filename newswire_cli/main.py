"""The `newswire` command: run the platform, push files, clean and enrich offline, watch the queues."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from newswire_cli.dedup import app as dedup_app
from newswire_cli.entities import app as entities_app
from newswire_cli.failed import app as failed_app
from newswire_cli.keys import app as keys_app
from newswire_cli.reprocess import completeness as completeness_command
from newswire_cli.reprocess import reprocess as reprocess_command
from newswire_cli.stories import app as stories_app
from shared.settings import get_settings

app = typer.Typer(
    name="newswire",
    help="Newswire: ingest, clean, deduplicate and enrich news articles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

FilesArg = Annotated[list[Path], typer.Argument(exists=True, help="Files or folders.")]


def _logging(service: str) -> None:
    from shared.logging import configure_logging

    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json, service=service)


def _metrics_dir(role: str) -> None:
    from shared.metrics import default_base_dir, prepare_multiprocess_dir

    prepare_multiprocess_dir(get_settings().metrics_dir or default_base_dir(), role)


@app.command()
def migrate() -> None:
    """Apply the database migrations (NEWSWIRE_DATABASE_URL)."""
    from shared.migrate import current_revision, upgrade

    upgrade()
    typer.echo(f"database at revision {current_revision()}")


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help="ingest or api")],
    host: Annotated[str | None, typer.Option(help="Bind address (default NEWSWIRE_HOST).")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default NEWSWIRE_INGEST_PORT / NEWSWIRE_API_PORT).")
    ] = None,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes.")] = 1,
) -> None:
    """Serve the ingest service or the read API with uvicorn."""
    import uvicorn

    settings = get_settings()
    if service not in ("ingest", "api"):
        raise typer.BadParameter("service must be 'ingest' or 'api'")
    if workers > 1:  # uvicorn's worker processes write their metrics to files; /metrics sums them
        _metrics_dir(f"serve-{service}")
    _logging(service)
    _serve_internal_metrics(service)
    factory = (
        "services.ingest.app:create_app" if service == "ingest" else "services.api.app:create_serving_app"
    )
    default_port = settings.ingest_port if service == "ingest" else settings.api_port
    uvicorn.run(
        factory,
        factory=True,
        host=host or settings.host,
        port=port or default_port,
        workers=workers,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


def _serve_internal_metrics(service: str) -> None:
    """/metrics of `newswire serve <service>` on its internal port (NEWSWIRE_INGEST_METRICS_PORT /
    NEWSWIRE_API_METRICS_PORT), served by this process for all its uvicorn workers; never on the public
    port."""
    from prometheus_client.registry import Collector

    from shared.metrics import serve_metrics

    settings = get_settings()
    collectors: list[Collector] = []
    if service == "api":
        from services.api.ops.metrics import api_collectors
        from shared.db import session_factory

        collectors = api_collectors(session_factory())
    port = settings.api_metrics_port if service == "api" else settings.ingest_metrics_port
    serve_metrics(port=port, host=settings.host, collectors=collectors, role=service)


@app.command()
def webhooks() -> None:
    """Deliver the subscriptions' webhooks (match new enrichments, POST them signed, retry with backoff)."""
    from services.api.subscriptions.tasks import run_webhooks
    from shared.metrics import serve_metrics

    settings = get_settings()
    _logging("webhooks")
    serve_metrics(port=settings.webhooks_metrics_port, host=settings.host, role="webhooks")
    run_webhooks()


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Worker processes (default NEWSWIRE_WORKER_CONCURRENCY).")
    ] = None,
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
    hostname: Annotated[str | None, typer.Option(help="Celery node name.")] = None,
) -> None:
    """Run a Celery enrich worker on the enrich queue."""
    settings = get_settings()
    _metrics_dir("worker")  # before the metrics exist: the prefork children write to it
    from celery.signals import worker_ready

    from services.enrich.celery_app import celery_app
    from services.enrich.metrics import serve_worker_metrics

    _logging("enrich")
    from shared.db import set_role

    set_role("worker")  # the pool processes inherit it: their engines get the worker's timeouts
    if settings.worker_metrics_port:

        def _serve_metrics(**_: Any) -> None:
            serve_worker_metrics(port=settings.worker_metrics_port, host=settings.host)

        worker_ready.connect(_serve_metrics, weak=False)
    argv = [
        "worker",
        f"--loglevel={loglevel}",
        f"--concurrency={concurrency or settings.worker_concurrency}",
        f"--queues={settings.enrich_queue}",
        "--without-gossip",
        "--without-mingle",
    ]
    if hostname:
        argv.append(f"--hostname={hostname}")
    if settings.worker_nice:
        os.nice(settings.worker_nice)  # the pool processes inherit it
    celery_app.worker_main(argv)


@app.command()
def relay(
    once: Annotated[
        bool, typer.Option("--once", help="Run one pass, print what it published, exit.")
    ] = False,
) -> None:
    """Run the outbox relay: publish jobs that never reached the broker (once it answers), redeliver jobs
    lost by the broker, purge expired idempotency records. One pass every NEWSWIRE_OUTBOX_RELAY_INTERVAL s."""
    import signal
    import threading
    from datetime import timedelta

    from sqlalchemy.orm import Session

    from services.ingest.idempotency.service import purge_expired
    from shared.jobs import relay as outbox_relay

    settings = get_settings()
    _logging("relay")
    from shared.db import set_role

    set_role("relay")  # its connections get the relay's statement, lock and idle timeouts

    def purge(session: Session) -> None:
        purge_expired(session=session)  # idempotency records past their TTL

    redeliver_after = timedelta(seconds=settings.outbox_redeliver_after)
    if once:
        count = outbox_relay.relay_pass(redeliver_after, housekeeping=[purge])
        typer.echo(json.dumps({"published": count}))
        return
    if settings.relay_metrics_port:
        from prometheus_client import start_http_server

        try:
            start_http_server(settings.relay_metrics_port, addr=settings.host)
        except OSError as exc:  # a busy port must not stop the relay from relaying
            typer.echo(f"relay metrics unavailable on port {settings.relay_metrics_port}: {exc}", err=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    outbox_relay.run_forever(
        interval=settings.outbox_relay_interval,
        redeliver_after=redeliver_after,
        housekeeping=[purge],
        stop=stop,
    )


@app.command()
def flower(
    port: Annotated[int | None, typer.Option(help="Port (default NEWSWIRE_FLOWER_PORT).")] = None,
    address: Annotated[str | None, typer.Option(help="Bind address (default NEWSWIRE_HOST).")] = None,
    basic_auth: Annotated[
        str | None, typer.Option(help="user:password for Flower (default NEWSWIRE_FLOWER_BASIC_AUTH).")
    ] = None,
) -> None:
    """Run Flower, the Celery monitor, against the broker."""
    from services.enrich.celery_app import celery_app

    settings = get_settings()
    argv = ["flower", f"--port={port or settings.flower_port}", f"--address={address or settings.host}"]
    basic_auth = basic_auth or settings.flower_basic_auth
    if basic_auth:
        argv.append(f"--basic-auth={basic_auth}")
    celery_app.start(argv)


@app.command()
def run(
    no_samples: Annotated[
        bool, typer.Option("--no-samples", help="Do not push the sample articles.")
    ] = False,
    samples: Annotated[Path, typer.Option(help="Folder of sample articles to push.")] = Path("samples"),
) -> None:
    """Start the whole platform (embedded PostgreSQL and Redis unless URLs are set) until Ctrl-C."""
    from newswire_cli.run import run_platform

    raise typer.Exit(run_platform(samples=None if no_samples else samples))


@app.command()
def chaos(
    articles: Annotated[int, typer.Option(min=1, help="Distinct articles to push.")] = 2000,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Concurrent feeders.")] = 8,
    seconds: Annotated[float, typer.Option(min=10, help="Cap on pushing and draining (s).")] = 900.0,
    workers: Annotated[int, typer.Option(min=1, max=8, help="Enrich worker processes.")] = 2,
    rate: Annotated[
        float, typer.Option(min=0, help="Articles per second over all feeders (0: no limit).")
    ] = 0.0,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help="Fault to inject (repeat): worker, redis, postgres, ingest, postgres-hang, redis-hang, "
            "redis-flush, duplicate-publish, poison (default: all nine), worker-child"
        ),
    ] = None,
    no_faults: Annotated[bool, typer.Option("--no-faults", help="Push and measure without faults.")] = False,
    down_seconds: Annotated[float, typer.Option(min=0, help="How long Redis/PostgreSQL stay down.")] = 3.0,
    redeliver_after: Annotated[
        float, typer.Option(min=1, help="NEWSWIRE_OUTBOX_REDELIVER_AFTER of the run (s).")
    ] = 20.0,
    verify: Annotated[
        int, typer.Option(min=0, help="Enriched articles re-enriched to check their rows.")
    ] = 300,
    api_key: Annotated[
        str | None, typer.Option(help="Send `Authorization: Bearer KEY` (default: made with newswire keys).")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder for servers and logs (default: temp).")
    ] = None,
    keep_data: Annotated[
        bool, typer.Option("--keep-data", help="Keep the temp folder after success.")
    ] = False,
    hang_seconds: Annotated[
        float, typer.Option(min=0, help="How long postgres-hang / redis-hang keep the server stopped.")
    ] = 20.0,
    broker: Annotated[
        str, typer.Option(help="redis (embedded) or rabbitmq (the machine's, amqp://127.0.0.1:5672).")
    ] = "redis",
) -> None:
    """Push articles while killing, hanging and flushing parts; count what survived, events and webhooks too.

    Starts its own embedded PostgreSQL and Redis on free ports (never the configured servers). Exits 1
    unless accepted = stored = enriched with 0 lost and 0 doubled."""
    from newswire_cli.dev.chaos import FAULTS, ChaosConfig, format_report, run_chaos

    config = ChaosConfig(
        articles=articles,
        concurrency=concurrency,
        seconds=seconds,
        workers=workers,
        rate=rate,
        faults=() if no_faults else tuple(fault or FAULTS),
        down_seconds=down_seconds,
        redeliver_after=redeliver_after,
        verify=verify,
        api_key=api_key,
        data_dir=data_dir,
        keep_data=keep_data,
        hang_seconds=hang_seconds,
        broker=broker,
    )
    try:
        report = run_chaos(config, say=typer.echo)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(format_report(report, config))
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def ingest(
    paths: FilesArg,
    url: Annotated[str | None, typer.Option(help="Ingest service URL (default from settings).")] = None,
    source: Annotated[str | None, typer.Option(help="Source name for files that do not say.")] = None,
    base_url: Annotated[
        str, typer.Option(help="URL prefix given to .txt/.html files (the file name is appended).")
    ] = "https://samples.newswire.invalid/articles",
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Requests in flight.")] = 4,
    api_key: Annotated[
        str | None, typer.Option(help="API key with the ingest scope (default NEWSWIRE_API_KEY).")
    ] = None,
) -> None:
    """Push .html/.txt/.json files (or folders of them) to the ingest service."""
    from newswire_cli.push import push_files

    settings = get_settings()
    target = url or f"http://{settings.host}:{settings.ingest_port}"
    files = list(_expand(paths))
    summary = push_files(
        files,
        ingest_url=target,
        source=source,
        base_url=base_url,
        concurrency=concurrency,
        api_key=api_key or settings.api_key,
    )
    typer.echo(json.dumps(summary))
    if summary["failed"]:
        raise typer.Exit(1)


def _expand(paths: list[Path]) -> list[Path]:
    from newswire_cli.files import expand

    return list(expand(paths))


@app.command()
def clean(
    files: FilesArg,
    explain: Annotated[
        bool, typer.Option("--explain", help="For text input: each line, kept or dropped, and why.")
    ] = False,
) -> None:
    """Clean files offline; print one JSON object per article (.html/.htm/.html.gz as HTML, else text)."""
    from newswire_cli.files import clean_file, is_html, read_text
    from services.ingest.cleaning.text import explain_text

    for path in _expand(files):
        if explain and not is_html(path):
            for d in explain_text(read_text(path)):
                mark = "KEEP" if d.kept else "DROP"
                typer.echo(f"{mark} {d.reason:<18} {d.score:+.2f} | {d.line[:120]}")
            continue
        cleaned = clean_file(path)
        out: dict[str, Any] = {"file": str(path), **cleaned.to_dict()}
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")


@app.command()
def enrich(
    files: FilesArg,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw",
            help="Skip cleaning: run the models on each file's text as given (no title, no HTML parsing).",
        ),
    ] = False,
) -> None:
    """Clean and enrich files offline (language, entities, topics, keyphrases); one JSON object each."""
    from newswire_cli.files import clean_file, read_text
    from newswire_cli.output import enrichment_dict
    from services.enrich.nlp import Enricher

    settings = get_settings()
    enricher = Enricher(
        settings.spacy_model,
        topic_threshold=settings.topic_threshold,
        multilingual=settings.multilingual_embedding,
    )
    for path in _expand(files):
        if raw:
            text = read_text(path)
            result = enricher.enrich(title=None, text=text)
            out = {"file": str(path), "raw": True, "text": text, "title": None, **enrichment_dict(result)}
        else:
            cleaned = clean_file(path)
            result = enricher.enrich(title=cleaned.title, text=cleaned.text)
            out = {"file": str(path), **cleaned.to_dict(), **enrichment_dict(result)}
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")


@app.command()
def queues(
    watch: Annotated[bool, typer.Option("--watch", help="Live view, redrawn until Ctrl-C.")] = False,
    interval: Annotated[float, typer.Option(min=0.5, help="Seconds between redraws with --watch.")] = 2.0,
) -> None:
    """Queue depth, workers, rates per minute, oldest waiting item, failures (once, or live)."""
    from newswire_cli.queues import render_once
    from newswire_cli.queues import watch as watch_live

    settings = get_settings()
    if not (settings.broker_url or settings.redis_url):
        raise typer.BadParameter(
            "neither NEWSWIRE_BROKER_URL nor NEWSWIRE_REDIS_URL is set, and no `newswire run` is running "
            f"with {settings.data_dir}/"
        )
    if watch:
        watch_live(settings, interval=interval)
    else:
        render_once(settings)


@app.command()
def sources(
    flagged: Annotated[bool, typer.Option("--flagged", help="Only sources silent or with a jump.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Coverage ledger: each source's hours against its usual rate; silent sources and jumps flagged.

    Exits with 1 when a source is flagged, so a script or cron job can act on a gap."""
    from newswire_cli.sources import render
    from services.api.ops.service import CoverageRules, source_coverage
    from services.api.ops.service import flagged as is_flagged
    from shared.db import session_scope

    with session_scope() as session:
        coverage = source_coverage(session=session, rules=CoverageRules.from_settings(get_settings()))
    if flagged:
        coverage.items = [s for s in coverage.items if is_flagged(s)]
    if as_json:
        typer.echo(coverage.model_dump_json())
    else:
        render(coverage)
    if coverage.flagged:
        raise typer.Exit(1)


app.command("reprocess")(reprocess_command)
app.command("completeness")(completeness_command)
app.add_typer(failed_app, name="failed")
app.add_typer(keys_app, name="keys")
app.add_typer(entities_app, name="entities")
app.add_typer(stories_app, name="stories")
app.add_typer(dedup_app, name="dedup")


if __name__ == "__main__":  # pragma: no cover
    app()

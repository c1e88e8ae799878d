from __future__ import annotations

from rich.console import Console
from rich.table import Table

from services.enrich.celery_app import celery_app
from services.enrich.queues import QueueStats, collect
from shared.db import DatabaseNotConfiguredError, session_scope
from shared.settings import Settings


def gather(settings: Settings) -> QueueStats:
    assert settings.redis_url is not None
    try:
        with session_scope() as session:
            return collect(
                session=session, celery=celery_app, redis_url=settings.redis_url, queue=settings.enrich_queue
            )
    except DatabaseNotConfiguredError:
        return collect(
            session=None, celery=celery_app, redis_url=settings.redis_url, queue=settings.enrich_queue
        )


def render_once(settings: Settings, console: Console | None = None) -> QueueStats:
    console = console or Console()
    stats = gather(settings)
    table = Table(title=f"Newswire queues ({len(stats.workers)} worker(s))")
    for column in (
        "queue",
        "waiting",
        "active",
        "reserved",
        "retrying",
        "queued",
        "enriched",
        "failed",
        "retried",
        "outbox",
    ):
        table.add_column(column, justify="right" if column != "queue" else "left")

    def db(value: int) -> str:
        return str(value) if stats.database else "?"

    table.add_row(
        stats.queue,
        "?" if stats.depth is None else str(stats.depth),
        str(stats.active),
        str(stats.reserved),
        str(stats.retrying),
        db(stats.statuses.get("queued", 0)),
        db(stats.statuses.get("enriched", 0)),
        db(stats.statuses.get("failed", 0)),
        db(stats.retried_articles),
        db(stats.outbox_pending),
    )
    console.print(table)
    if not stats.database:
        console.print("[yellow]database: NEWSWIRE_DATABASE_URL is not set; article figures unknown[/yellow]")
    for error in stats.errors:
        console.print(f"[yellow]{error}[/yellow]")
    return stats

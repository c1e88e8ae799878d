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
    table.add_row(
        stats.queue,
        "?" if stats.depth is None else str(stats.depth),
        str(stats.active),
        str(stats.reserved),
        str(stats.retrying),
        str(stats.statuses.get("queued", 0)),
        str(stats.statuses.get("enriched", 0)),
        str(stats.statuses.get("failed", 0)),
        str(stats.retried_articles),
        str(stats.outbox_pending),
    )
    console.print(table)
    for error in stats.errors:
        console.print(f"[yellow]{error}[/yellow]")
    return stats

"""`newswire queues`: queue depth, workers, rates per minute, the oldest waiting item, failures.

Once, or live (`--watch`): a table redrawn in place every `--interval` seconds until Ctrl-C."""

from __future__ import annotations

import time
from datetime import datetime

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from shared.db import DatabaseNotConfiguredError, session_scope
from shared.jobs.broker import broker_url, publisher
from shared.jobs.queues import QueueStats, collect
from shared.settings import Settings

COLUMNS = (
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
    "in/min",
    "enriched/min",
    "failed/min",
    "oldest waiting",
)


def gather(settings: Settings) -> QueueStats:
    kwargs = {
        "celery": publisher(),
        "broker_url": broker_url(settings),
        "queue": settings.enrich_queue,
        "window_s": settings.ops_rate_window,
    }
    try:
        with session_scope() as session:
            return collect(session=session, **kwargs)  # type: ignore[arg-type]
    except DatabaseNotConfiguredError:
        return collect(session=None, **kwargs)  # type: ignore[arg-type]


def age(seconds: float | None) -> str:
    """90 -> "1m30s", 7300 -> "2h01m"; None -> "-"."""
    if seconds is None:
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


WIDE = 150  # narrower terminals get one figure per line


def build(stats: QueueStats, *, watching: bool = False, width: int = WIDE) -> RenderableType:
    title = f"Newswire queues ({len(stats.workers)} worker(s))"
    if watching:
        title += f"  {datetime.now().strftime('%H:%M:%S')}  Ctrl-C quits"
    table = Table(title=title)
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "queue" else "right", overflow="fold")

    def db(value: int) -> str:
        return str(value) if stats.database else "?"

    def rate(kind: str) -> str:
        return f"{stats.rates.get(kind, 0.0):.1f}" if stats.database else "?"

    failed = db(stats.failed)
    table.add_row(
        stats.queue,
        "?" if stats.depth is None else str(stats.depth),
        str(stats.active),
        str(stats.reserved),
        str(stats.retrying),
        db(stats.statuses.get("queued", 0)),
        db(stats.statuses.get("enriched", 0)),
        Text(failed, style="bold red") if stats.failed else failed,
        db(stats.retried_articles),
        db(stats.outbox_pending),
        rate("received"),
        rate("enriched"),
        rate("failed"),
        age(stats.oldest_queued_age_s) if stats.database else "?",
    )
    if width < WIDE:  # the same cells, transposed: one line per figure
        narrow = Table(title=title)
        narrow.add_column("figure")
        narrow.add_column(stats.queue, justify="right", overflow="fold")
        for column, cell in zip(COLUMNS[1:], table.columns[1:], strict=True):
            narrow.add_row(column, *cell.cells)
        table = narrow
    notes: list[RenderableType] = [table]
    if stats.database:
        notes.append(
            Text(
                f"rates over the last {stats.window_s / 60:g} min; "
                f"{stats.outbox_unpublished} job(s) not yet published; "
                "`newswire failed list` shows the failures",
                style="dim",
            )
        )
    else:
        notes.append(
            Text(
                "database: NEWSWIRE_DATABASE_URL is not set (and no `newswire run` runs here); "
                "article figures unknown",
                style="yellow",
            )
        )
    notes.extend(Text(error, style="yellow") for error in stats.errors)
    return Group(*notes)


def render_once(settings: Settings, console: Console | None = None) -> QueueStats:
    console = console or Console()
    stats = gather(settings)
    console.print(build(stats, width=console.width))
    return stats


def watch(settings: Settings, *, interval: float, console: Console | None = None) -> None:
    """Redraw the table in place until Ctrl-C."""
    console = console or Console()
    with Live(console=console, auto_refresh=False, screen=False, transient=False) as live:
        try:
            while True:
                live.update(build(gather(settings), watching=True, width=console.width), refresh=True)
                time.sleep(interval)
        except KeyboardInterrupt:
            pass

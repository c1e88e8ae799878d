"""`newswire failed`: list, inspect and retry dead-lettered (status failed) articles.

Works on the database directly (NEWSWIRE_DATABASE_URL) with the same functions as /v1/ops/failed; a retry
resets the article to queued and publishes its job through the outbox after the commit."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    help="List, inspect and retry dead-lettered (failed) articles.",
    no_args_is_help=True,
    add_completion=False,
)

SourceOpt = Annotated[list[str] | None, typer.Option("--source", help="Only this source (repeatable).")]
ErrorOpt = Annotated[
    list[str] | None, typer.Option("--error-type", help="Only this error type, e.g. OSError (repeatable).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.callback()
def _setup() -> None:
    """Log lines go to stderr: stdout carries the table or the JSON."""
    setup_logging()


def setup_logging() -> None:
    """CLI log lines to stderr, as the settings say."""
    from shared.logging import configure_logging
    from shared.settings import get_settings

    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json, service="cli")


def publish(ids: list[int]) -> None:
    """Publish outbox events (called after the commit)."""
    from shared.jobs.outbox import publish_now

    publish_now(ids=ids)


@app.command("list")
def list_(
    source: SourceOpt = None,
    error_type: ErrorOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Most rows shown.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Failed articles, newest first, with their error and a count by error type."""
    from services.api.ops import service
    from shared.db import session_scope

    with session_scope() as session:
        page = service.list_failed(
            session=session, sources=source or [], error_types=error_type or [], limit=limit
        )
    if as_json:
        typer.echo(page.model_dump_json())
        return
    console = Console()
    table = Table(title=f"Failed articles: {page.total}")
    for column in ("id", "source", "failed at", "attempts", "error type", "error", "title"):
        table.add_column(column, overflow="fold" if column == "error" else "ellipsis")
    for item in page.items:
        table.add_row(
            str(item.id),
            item.source or "",
            item.failed_at.strftime("%Y-%m-%d %H:%M:%S") if item.failed_at else "",
            str(item.attempts),
            item.error_type or "",
            (item.error or "")[:120],
            item.title[:50],
        )
    console.print(table)
    if page.by_error_type:
        console.print(
            "by error type: " + ", ".join(f"{k} {v}" for k, v in sorted(page.by_error_type.items()))
        )
    if page.total > len(page.items):
        console.print(f"showing {len(page.items)} of {page.total} (--limit, --source, --error-type)")


@app.command()
def show(
    article_id: Annotated[int, typer.Argument(min=1, help="Article id.")], as_json: JsonOpt = False
) -> None:
    """One article's error, attempts, stage timestamps and outbox jobs."""
    from services.api.ops import service
    from shared.db import session_scope
    from shared.errors import NotFound

    try:
        with session_scope() as session:
            detail = service.get_failed(session=session, article_id=article_id)
    except NotFound as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(detail.model_dump_json())
        return
    console = Console()
    console.print(f"[bold]article {detail.id}[/bold]  {detail.status}  source {detail.source or '-'}")
    console.print(f"title     {detail.title}")
    console.print(f"url       {detail.url}")
    console.print(f"attempts  {detail.attempts}   text {detail.text_chars} chars")
    console.print(f"error     {detail.error or '-'}")
    stages = Table(title="stages")
    stages.add_column("stage")
    stages.add_column("at")
    for stage, at in detail.stages.model_dump().items():
        shown = at.isoformat() if isinstance(at, datetime) else ("-" if at is None else f"{at:g} s")
        stages.add_row(stage, shown)
    console.print(stages)
    console.print(json.dumps([job.model_dump(mode="json") for job in detail.outbox]))


@app.command()
def retry(
    article_ids: Annotated[list[int] | None, typer.Argument(help="Articles to retry.")] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Retry every failed article matching the filters.")
    ] = False,
    source: SourceOpt = None,
    error_type: ErrorOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="With --all: most retried at once.")] = 1000,
) -> None:
    """Reset failed articles to queued and publish their jobs again."""
    from services.api.ops import service
    from shared.db import session_scope
    from shared.errors import NewswireError

    if bool(article_ids) == all_:
        raise typer.BadParameter("give article ids or --all (not both)")
    retried: list[int] = []
    problems: list[str] = []
    if all_:
        with session_scope() as session:
            result = service.retry_failed(
                session=session,
                sources=source or [],
                error_types=error_type or [],
                limit=limit,
                publish=publish,
            )
        retried, remaining = result.retried, result.remaining
    else:
        remaining = 0
        for article_id in article_ids or []:
            try:
                with session_scope() as session:
                    retried += service.retry_one(
                        session=session, article_id=article_id, publish=publish
                    ).retried
            except NewswireError as exc:
                problems.append(f"{article_id}: {exc}")
    typer.echo(json.dumps({"retried": retried, "remaining": remaining, "errors": problems}))
    if problems:
        raise typer.Exit(1)

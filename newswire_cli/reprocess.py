"""`newswire reprocess` and `newswire completeness`: re-enrich articles after a model or code upgrade.

Both work on the database directly (NEWSWIRE_DATABASE_URL) with the functions behind /v1/ops/reprocess
and /v1/ops/completeness; jobs are published through the outbox after each batch's commit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shared.settings import get_settings


def parse_moment(value: str | None) -> datetime | None:
    """ISO 8601 date or date-time; without a zone, UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO 8601 date or date-time: {value!r}") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _publish(ids: list[int]) -> None:
    from shared.jobs.outbox import publish_now

    publish_now(ids=ids)


def reprocess(
    all_: Annotated[
        bool, typer.Option("--all", help="Every article matching the filters, whatever its version.")
    ] = False,
    stale: Annotated[
        bool, typer.Option("--stale", help="Only articles enriched at an older version (the default).")
    ] = False,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Only this source (repeatable).")
    ] = None,
    status: Annotated[
        list[str] | None, typer.Option("--status", help="enriched or failed (repeatable; default both).")
    ] = None,
    article_id: Annotated[list[int] | None, typer.Option("--id", min=1, help="Only this article.")] = None,
    since: Annotated[str | None, typer.Option(help="Date at or after (ISO 8601; UTC if no zone).")] = None,
    until: Annotated[str | None, typer.Option(help="Date before (ISO 8601).")] = None,
    date_field: Annotated[
        str, typer.Option("--date-field", help="published or received: what --since/--until filter on.")
    ] = "published",
    limit: Annotated[int | None, typer.Option(min=1, help="Most articles queued.")] = None,
    rate: Annotated[
        float | None,
        typer.Option(min=0, help="Articles per second (0: no limit; default NEWSWIRE_REPROCESS_RATE)."),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Articles per transaction.")] = 500,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be queued; queue nothing.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar (on stderr).")] = True,
) -> None:
    """Re-enqueue articles whose enrichment is older than the current version (or match the filters).

    Prints one JSON object: the current version, matched, queued, batches."""
    from pydantic import ValidationError

    from services.api.reprocess import service
    from services.api.reprocess.schemas import ReprocessFilter
    from shared.db import session_scope
    from shared.errors import VersionsUnknown
    from shared.logging import configure_logging
    from shared.versions import current as current_versions

    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json, service="cli")
    if all_ and stale:
        raise typer.BadParameter("--all and --stale exclude each other")
    mode: Literal["stale", "all"] = "all" if all_ else "stale"
    try:
        selection = ReprocessFilter.model_validate(
            {
                "mode": mode,
                "source": source or [],
                "status": status or [],
                "ids": article_id or [],
                "since": parse_moment(since),
                "until": parse_moment(until),
                "date_field": date_field,
            }
        )
    except ValidationError as exc:
        raise typer.BadParameter(
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        ) from exc
    try:
        with session_scope() as session:
            current = current_versions(session, model=settings.spacy_model).key
    except VersionsUnknown as exc:
        typer.echo(json.dumps({"error": exc.error, "detail": str(exc)}), err=True)
        raise typer.Exit(1) from exc
    out: dict[str, object] = {"current_version": current, "dry_run": dry_run}
    if dry_run:
        with session_scope() as session:
            matched = service.count_matching(session=session, selection=selection, current=current)
        out.update(matched=matched, would_queue=min(matched, limit) if limit else matched)
        typer.echo(json.dumps(out))
        return
    per_second = settings.reprocess_rate if rate is None else rate
    with Progress(
        TextColumn("reprocessing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not progress,
    ) as bar:
        task = bar.add_task("reprocess", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = service.run(
            sessions=session_scope,
            selection=selection,
            current=current,
            limit=limit,
            rate=per_second,
            batch_size=batch_size,
            publish=_publish,
            progress=advance,
        )
    out.update(
        matched=result.matched,
        queued=result.queued,
        batches=result.batches,
        rate=per_second,
        slept_s=round(result.slept_s, 3),
    )
    typer.echo(json.dumps(out))


def completeness(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """How many articles are enriched at the current version, at an older one, or not at all."""
    from services.api.reprocess import service
    from shared.db import session_scope

    with session_scope() as session:
        out = service.completeness(session=session, model=get_settings().spacy_model)
    if as_json:
        typer.echo(out.model_dump_json())
        return
    console = Console()
    console.print(
        f"articles {out.total}: enriched at the current version {out.enriched_current} "
        f"({out.complete:.1%}), at an older one {out.enriched_older} ({out.reprocessing} being reprocessed), "
        f"not enriched {out.not_enriched} (queued {out.queued}, failed {out.failed}); "
        f"duplicates {out.duplicates}"
    )
    table = Table(title="by enrichment version")
    for column in ("version", "current", "enriched", "failed", "queued"):
        table.add_column(column, overflow="fold")
    for row in out.by_version:
        table.add_row(
            row.version or "(never enriched)",
            "yes" if row.current else "",
            str(row.enriched),
            str(row.failed),
            str(row.queued),
        )
    console.print(table)

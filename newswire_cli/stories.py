"""`newswire stories reassign`: re-run story assignment over a date range after changing the story
settings (on the database directly, NEWSWIRE_DATABASE_URL), with the function behind
POST /v1/ops/stories/reassign."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from newswire_cli.failed import setup_logging
from newswire_cli.reprocess import parse_moment

app = typer.Typer(
    help="Stories: articles grouped by the event they cover.", no_args_is_help=True, add_completion=False
)


@app.callback()
def _setup() -> None:
    """Log lines go to stderr: stdout carries the JSON."""
    setup_logging()


@app.command()
def reassign(
    since: Annotated[
        str | None,
        typer.Option(help="Articles published (else received) at or after (ISO 8601; UTC if no zone)."),
    ] = None,
    until: Annotated[str | None, typer.Option(help="... and before (ISO 8601).")] = None,
) -> None:
    """Re-assign the stories of the enriched articles in the range, in time order, with the current
    NEWSWIRE_STORY_* settings, in one transaction.  Deterministic and idempotent.  Prints one JSON object."""
    from services.api.stories import service
    from services.api.stories.schemas import ReassignRequest
    from shared.db import session_scope
    from shared.settings import get_settings
    from shared.stories.scoring import StoryRules

    start, end = parse_moment(since), parse_moment(until)
    if start is not None and end is not None and start >= end:
        raise typer.BadParameter("--since must be before --until")
    began = time.perf_counter()
    with session_scope() as session:
        result = service.reassign(
            session=session,
            request=ReassignRequest(since=start, until=end),
            rules=StoryRules.from_settings(get_settings()),
        )
    typer.echo(result.model_dump_json())
    typer.echo(f"{result.articles} article(s) in {time.perf_counter() - began:.1f} s", err=True)

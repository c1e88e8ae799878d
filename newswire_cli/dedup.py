"""`newswire dedup`: why an article is (or is not) a duplicate, and undo a duplicate decision.

Works on the database directly (NEWSWIRE_DATABASE_URL) with the same function as
``POST /v1/ops/articles/{id}/not-duplicate``; the article's enrichment job is published through the
outbox after the commit."""

from __future__ import annotations

import json
from typing import Annotated

import typer

app = typer.Typer(
    help="Why an article is a duplicate; undo a wrong duplicate decision.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _setup() -> None:
    """Log lines go to stderr: stdout carries the JSON."""
    from newswire_cli.failed import setup_logging

    setup_logging()


@app.command()
def undo(
    article_id: Annotated[int, typer.Argument(help="The duplicate article.")],
    by: Annotated[str | None, typer.Option(help="Who decided (kept with the decision).")] = None,
) -> None:
    """Turn a duplicate into an original: queued for enrichment (then listed, streamed and sent to
    webhooks), the pair recorded so it is never merged again, its later revisions accepted."""
    from newswire_cli.failed import publish
    from services.ingest.articles import undo as undo_service
    from shared.db import session_scope
    from shared.errors import NewswireError

    try:
        with session_scope() as session:
            done = undo_service.mark_not_duplicate(
                session=session, article_id=article_id, decided_by=by or "cli", publish=publish
            )
    except NewswireError as exc:
        typer.echo(json.dumps({"error": exc.error, "detail": exc.detail}), err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        json.dumps(
            {
                "id": done.id,
                "status": done.status,
                "was_duplicate_of": done.was_duplicate_of,
                "dedup_reason": done.dedup_reason,
            }
        )
    )


@app.command()
def why(article_id: Annotated[int, typer.Argument(help="The article.")]) -> None:
    """The article's status, the original it repeats and the recorded reason (``dedup_reason``)."""
    from sqlalchemy import select

    from shared.db import session_scope
    from shared.models import Article

    with session_scope() as session:
        row = session.execute(
            select(
                Article.id,
                Article.status,
                Article.duplicate_of,
                Article.duplicate_method,
                Article.dedup_reason,
            ).where(Article.id == article_id)
        ).first()
    if row is None:
        typer.echo(json.dumps({"error": "not_found", "detail": f"article {article_id} not found"}), err=True)
        raise typer.Exit(1)
    typer.echo(
        json.dumps(
            {
                "id": row.id,
                "status": row.status,
                "duplicate_of": row.duplicate_of,
                "duplicate_method": row.duplicate_method,
                "dedup_reason": row.dedup_reason,
            }
        )
    )

"""`newswire keys`: create, list and revoke API keys (on the database directly, NEWSWIRE_DATABASE_URL)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True, add_completion=False)


@app.callback()
def _setup() -> None:
    """Log lines go to stderr: stdout carries the key, the table or the JSON."""
    from shared.logging import configure_logging
    from shared.settings import get_settings

    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json, service="cli")


def _row(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "prefix": row.prefix,
        "name": row.name,
        "scopes": list(row.scopes),
        "rate_limit_per_minute": row.rate_limit_per_minute,
        "sources": list(row.sources),
        "any_source": row.any_source,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }


def _sources(row: dict[str, Any]) -> str:
    if row["any_source"]:
        return "any"
    return ",".join(row["sources"]) or "-"


@app.command()
def create(
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key (a feed, an app).")],
    scope: Annotated[
        list[str], typer.Option("--scope", help="ingest, read or admin (admin implies all); repeatable.")
    ],
    rate_limit: Annotated[
        int | None,
        typer.Option(
            min=0, help="Requests per minute for this key (default NEWSWIRE_RATE_LIMIT_PER_MINUTE)."
        ),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source", help="A source the key may write (repeatable); an article without one gets it."
        ),
    ] = None,
    any_source: Annotated[
        bool, typer.Option("--any-source", help="The key may write every source (and none).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with the key).")] = False,
) -> None:
    """Create a key and print it. It is shown only this once: only its hash is stored.

    A key that can write (ingest, admin) needs --source S (repeatable) or --any-source."""
    from shared.auth import service
    from shared.db import session_scope

    try:
        with session_scope() as session:
            created = service.create_key(
                session=session,
                name=name,
                scopes=scope,
                rate_limit_per_minute=rate_limit,
                sources=source or [],
                any_source=any_source,
            )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if as_json:
        typer.echo(json.dumps({**_row(created.row), "key": created.key}))
        return
    typer.echo(created.key)
    typer.echo(
        f"key {created.row.id} ({created.row.prefix}) {created.row.name!r} scopes "
        f"{','.join(created.row.scopes)} sources {_sources(_row(created.row))}: store it now, it is not "
        "shown again",
        err=True,
    )


@app.command("list")
def list_(
    active: Annotated[bool, typer.Option("--active", help="Hide revoked keys.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Every key: id, prefix, name, scopes, sources (any: every source), rate limit, created, last used,
    revoked (never the key)."""
    from shared.auth import service
    from shared.db import session_scope

    with session_scope() as session:
        rows = [_row(r) for r in service.list_keys(session=session, include_revoked=not active)]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table()
    for column in (
        "id",
        "prefix",
        "name",
        "scopes",
        "sources",
        "limit/min",
        "created",
        "last used",
        "revoked",
    ):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["prefix"],
            r["name"],
            ",".join(r["scopes"]),
            _sources(r),
            "default" if r["rate_limit_per_minute"] is None else str(r["rate_limit_per_minute"]),
            (r["created_at"] or "")[:19],
            (r["last_used_at"] or "never")[:19],
            (r["revoked_at"] or "")[:19],
        )
    Console(width=160).print(table)


@app.command()
def revoke(ref: Annotated[str, typer.Argument(help="The key's id or prefix (or the key itself).")]) -> None:
    """Revoke a key: it stops working within NEWSWIRE_AUTH_CACHE_SECONDS."""
    from shared.auth import service
    from shared.db import session_scope
    from shared.errors import NotFound

    try:
        with session_scope() as session:
            row = service.revoke_key(session=session, ref=ref)
    except NotFound as exc:
        typer.echo(str(exc.detail), err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"revoked key {row.id} ({row.prefix}) {row.name!r} at {row.revoked_at}")

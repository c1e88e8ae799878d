"""`newswire entities override`: add, list and remove entity overrides (on the database directly,
NEWSWIRE_DATABASE_URL), with the same functions as /v1/ops/entity-overrides; a change re-enqueues the
affected articles through the outbox, published after the commit."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from newswire_cli.failed import publish, setup_logging

app = typer.Typer(help="Canonical entities: operator overrides.", no_args_is_help=True, add_completion=False)
override_app = typer.Typer(
    help="Entity overrides: alias, merge, ignore. A change re-enriches the affected articles.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(override_app, name="override")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.callback()
def _setup() -> None:
    """Log lines go to stderr: stdout carries the table or the JSON."""
    setup_logging()


@override_app.command()
def add(
    kind: Annotated[str, typer.Option("--kind", help="alias, merge or ignore.")],
    surface: Annotated[
        str, typer.Option("--surface", help="Surface form (alias, ignore) or entity (merge).")
    ],
    canonical: Annotated[
        str | None, typer.Option("--canonical", help="alias/merge: the canonical name (target entity).")
    ] = None,
    entity_type: Annotated[
        str | None,
        typer.Option("--type", help="alias: the canonical type; merge/ignore: only entities of this type."),
    ] = None,
    match_type: Annotated[
        str | None, typer.Option("--match-type", help="alias: only when the entity has this type.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Why (shown in the list).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add an override and re-enqueue the articles it affects."""
    from pydantic import ValidationError

    from services.api.entity_overrides import service
    from services.api.entity_overrides.schemas import OverrideIn
    from shared.db import session_scope
    from shared.errors import NewswireError

    fields = {"kind": kind, "surface": surface, "canonical": canonical, "note": note}
    if kind == "alias":  # --type is the canonical type; --match-type restricts the surface's type
        fields |= {"canonical_type": entity_type, "type": match_type}
    else:
        fields |= {"type": entity_type}
    try:
        data = OverrideIn.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        raise typer.BadParameter("; ".join(e["msg"] for e in exc.errors())) from exc
    try:
        with session_scope() as session:
            saved = service.add_override(
                session=session, data=data, created_by=f"cli:{getpass.getuser()}", publish=publish
            )
    except NewswireError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(saved.model_dump_json())
        return
    typer.echo(f"override {saved.override.id} added; {saved.requeued} articles queued for re-enrichment")


@override_app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """The overrides in force, oldest first, and their version."""
    from services.api.entity_overrides import service
    from shared.db import session_scope

    with session_scope() as session:
        out = service.list_overrides(session=session)
    if as_json:
        typer.echo(out.model_dump_json())
        return
    table = Table(title=f"Entity overrides (version {out.version})")
    for column in ("id", "kind", "surface", "type", "canonical", "canonical type", "by", "created", "note"):
        table.add_column(column)
    for o in out.items:
        table.add_row(
            str(o.id),
            o.kind,
            o.surface,
            o.type or "any",
            o.canonical or "",
            o.canonical_type or "",
            o.created_by or "",
            o.created_at.isoformat()[:19],
            o.note or "",
        )
    Console(width=180).print(table)


@override_app.command()
def remove(override_id: Annotated[int, typer.Argument(min=1, help="The override's id.")]) -> None:
    """Remove an override and re-enqueue the articles it affected."""
    from services.api.entity_overrides import service
    from shared.db import session_scope
    from shared.errors import NotFound

    try:
        with session_scope() as session:
            out = service.remove_override(session=session, override_id=override_id, publish=publish)
    except NotFound as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"override {out.id} removed; {out.requeued} articles queued for re-enrichment")


@app.command()
def resolve(
    apply: Annotated[bool, typer.Option("--apply", help="Write each merge as a merge override.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Propose merges across the global entity table (spelling variants, titles, initials, acronyms, company
    suffixes), each with its reason; --apply writes them as merge overrides (created by
    "entity-resolution"), which `newswire entities override remove ID` undoes one by one."""
    import json

    from newswire_cli.entity_resolution import resolve_entities
    from shared.db import session_scope

    with session_scope() as session:
        results = resolve_entities(session=session, apply=apply, publish=publish if apply else None)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "source": p.source,
                        "target": p.target,
                        "type": p.type,
                        "rule": p.rule,
                        "reason": p.reason,
                        "override_id": override_id,
                    }
                    for p, override_id in results
                ]
            )
        )
        return
    table = Table(title=f"Entity merges ({'applied' if apply else 'proposed; --apply writes them'})")
    for column in ("type", "entity", "is", "rule", "reason", "override"):
        table.add_column(column)
    for p, override_id in results:
        table.add_row(p.type, p.source, p.target, p.rule, p.reason, str(override_id or ""))
    Console(width=180).print(table)

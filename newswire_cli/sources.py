"""`newswire sources`: the coverage ledger -- each source's last hours against its usual rate, with the
sources gone silent and the jumps in duplicate or failure share flagged (the data of GET /v1/ops/sources)."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from newswire_cli.queues import age
from services.api.ops.schemas import SourceOut, SourcesOut

BARS = " ▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    """24 hourly counts as one character each, scaled to the busiest hour."""
    top = max(values, default=0)
    if top == 0:
        return "·" * len(values)
    return "".join("·" if v == 0 else BARS[max(1, round(v / top * (len(BARS) - 1)))] for v in values)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def verdict(source: SourceOut) -> Text:
    flags = [
        name
        for name, on in (
            ("SILENT", source.silent),
            ("DUPLICATES", source.duplicates_jump),
            ("FAILURES", source.failures_jump),
        )
        if on
    ]
    if flags:
        return Text(" ".join(flags), style="bold red")
    return Text("ok" if source.judged else "new", style="green" if source.judged else "dim")


def build(coverage: SourcesOut) -> RenderableType:
    table = Table(title=f"Newswire sources ({coverage.flagged} flagged of {len(coverage.items)})")
    for column in ("source", "status", "quiet for", "this hour", "usual/h", "dup %", "fail %", "last 24 h"):
        table.add_column(column, justify="left" if column in ("source", "status", "last 24 h") else "right")
    for s in coverage.items:
        usual = "-" if s.usual_this_hour is None else f"{s.usual_this_hour:.1f}"
        table.add_row(
            s.source or "(none)",
            verdict(s),
            age(s.silent_s) if s.silent_s else "-",
            f"{s.this_hour} (usual {usual})",
            "-" if s.usual_per_hour is None else f"{s.usual_per_hour:.1f}",
            f"{_share(s.duplicate_share)} ({_share(s.usual_duplicate_share)})",
            f"{_share(s.failure_share)} ({_share(s.usual_failure_share)})",
            sparkline(s.hours),
        )
    note = Text(
        f"last {coverage.days} days of the ledger; shares: last 3 hours (before them); "
        "silent: nothing for as long as the source usually takes to send several articles",
        style="dim",
    )
    return Group(table, note)


def render(coverage: SourcesOut, console: Console | None = None) -> None:
    (console or Console()).print(build(coverage))

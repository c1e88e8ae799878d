"""`newswire stories reassign`: re-run story assignment over a date range after changing the story
settings (on the database directly, NEWSWIRE_DATABASE_URL), with the function behind
POST /v1/ops/stories/reassign.  `newswire stories compare A B`: whether two article files would be one
story (offline: the worker's enrichment and match score, no database)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

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


@app.command()
def compare(
    file_a: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="An article file.")],
    file_b: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Another article file.")],
    raw: Annotated[
        bool,
        typer.Option("--raw", help="Skip cleaning: each file's text as given, no title (as `enrich --raw`)."),
    ] = False,
) -> None:
    """Whether two articles would share a story: each file is read and cleaned as `newswire enrich`
    reads it (HTML or text; the cleaner finds the headline), enriched by the worker's models, and
    scored with the current NEWSWIRE_STORY_* settings as if published at the same moment.  Prints one
    JSON object: `score`, `same_story` (score >= threshold), the parts of the score, the languages."""
    from newswire_cli.files import clean_file, read_text
    from services.enrich.nlp import Enricher
    from shared.settings import get_settings
    from shared.stories.scoring import StoryRules, match_score
    from shared.stories.signature import build_signature

    settings = get_settings()
    enricher = Enricher(settings.spacy_model, topic_threshold=settings.topic_threshold)
    rules = StoryRules.from_settings(settings)
    sides: list[dict[str, Any]] = []
    signatures = []
    for path in (file_a, file_b):
        if raw:
            title, text = None, read_text(path)
        else:
            cleaned = clean_file(path)
            title, text = cleaned.title, cleaned.text
        enrichment = enricher.enrich(title=title, text=text)
        signatures.append(
            build_signature(
                title=title or "",
                text=text,
                entities=[(e.type, e.name, e.salience.score) for e in enrichment.entities],
                at=None,
                embedding=enrichment.embedding,
                language=enrichment.language.code,
            )
        )
        sides.append({"file": str(path), "title": title, "language": enrichment.language.code})
    score = match_score(signatures[0], signatures[1], rules=rules)
    out = {
        "score": score.total,
        "same_story": score.total >= rules.threshold,
        "threshold": rules.threshold,
        "crosslingual": score.crosslingual,
        "components": {
            "text": score.text,
            "terms": score.terms,
            "embedding": score.embedding,
            "entities": score.entities,
            "time": score.time,
        },
        "weights": {
            "text": rules.weight_text,
            "entities": rules.weight_entities,
            "time": rules.weight_time,
            "embedding_share": rules.weight_embedding,
        },
        "languages": [side["language"] for side in sides],
        "articles": sides,
    }
    typer.echo(json.dumps(out, ensure_ascii=False))

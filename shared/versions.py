"""Enrichment versions: the key that names one, and the versions the workers enrich with now.

A worker records the versions it enriches with (`record`, a row of `model_versions` per spaCy pipeline)
when it starts; the API and `newswire reprocess` read them (`current`) to tell stale enrichments from
current ones, without importing any model. The key (`version_key`) is a stable string of the sorted
``name=version`` pairs, stored indexed in `articles.enrichment_version` (migration 0006 computes the same
string in SQL for older rows)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from shared.errors import VersionsUnknown
from shared.models import Article, ArticleStatus, ModelVersion

#: Recorded with an enrichment but not part of its version key: a change of operator entity overrides
#: re-enqueues the articles it affects itself, and must not make every article stale.
NOT_IN_KEY = frozenset({"entity_overrides"})


def version_key(versions: Mapping[str, Any] | None) -> str | None:
    """A stable string for a versions dict: ``code=3;langid=...;ner_model=...`` (keys sorted; the
    operator overrides' version is left out, see `NOT_IN_KEY`)."""
    names = sorted(name for name in versions or {} if name not in NOT_IN_KEY)
    if not names:
        return None
    return ";".join(f"{name}={versions[name]}" for name in names)  # type: ignore[index]


@dataclass(frozen=True, slots=True)
class CurrentVersions:
    key: str
    versions: dict[str, str]


def record(session: Session, *, model: str, versions: Mapping[str, str]) -> None:
    """What a worker enriches with, written when it starts (the last worker to start wins)."""
    key = version_key(versions)
    assert key is not None
    stmt = pg_insert(ModelVersion).values(model=model, versions=dict(versions), version_key=key)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["model"],
            set_={"versions": stmt.excluded.versions, "version_key": key, "recorded_at": func.now()},
        )
    )


def current(session: Session, *, model: str) -> CurrentVersions:
    """The versions the workers of `model` enrich with: what they recorded, else those of the latest
    enrichment made with `model` (a database written before workers recorded their versions);
    `VersionsUnknown` (503) when there is neither."""
    row = session.get(ModelVersion, model)
    if row is not None:
        return CurrentVersions(key=row.version_key, versions={k: str(v) for k, v in row.versions.items()})
    latest = session.scalar(
        select(Article.model_versions)
        .where(
            Article.status == ArticleStatus.ENRICHED,
            Article.enrichment_version.is_not(None),
            Article.model_versions["ner_model"].astext.startswith(f"{model}-", autoescape=True),
        )
        .order_by(Article.id.desc())
        .limit(1)
    )
    key = version_key(latest)
    if latest is None or key is None:
        raise VersionsUnknown(f"no worker of {model} has recorded its versions yet (start `newswire worker`)")
    return CurrentVersions(key=key, versions={k: str(v) for k, v in latest.items() if k not in NOT_IN_KEY})

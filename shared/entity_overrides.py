"""Operator overrides of entity canonicalisation: the rules and the version naming a set of them (pure).

The worker applies them (`services.enrich.entities.overrides.apply_overrides`); the API stores them and
shows their version. Both read the rows of `entity_overrides` through `override_set`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from shared.models import EntityOverride

OverrideKind = Literal["alias", "merge", "ignore"]
OVERRIDE_KINDS: tuple[OverrideKind, ...] = ("alias", "merge", "ignore")


def normalise_surface(surface: str) -> str:
    """The matching key of a surface form or name: single-spaced, stripped, lower case."""
    return " ".join(surface.split()).lower()


@dataclass(frozen=True, slots=True)
class Override:
    """One operator rule; ``type`` None matches any type; ``target_*`` are unused by ``ignore``."""

    kind: OverrideKind
    surface: str
    type: str | None = None
    target_name: str | None = None
    target_type: str | None = None


@dataclass(frozen=True, slots=True)
class OverrideSet:
    """The overrides in force, indexed for matching, and a version naming exactly this set."""

    overrides: tuple[Override, ...] = ()
    _index: dict[tuple[str, str], dict[str | None, Override]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for o in self.overrides:
            self._index.setdefault((o.kind, normalise_surface(o.surface)), {})[o.type] = o

    @property
    def version(self) -> str:
        """``<count>-<sha256 prefix>`` of the sorted rules: recorded with each enrichment."""
        if not self.overrides:
            return "0"
        rows = sorted(
            [o.kind, normalise_surface(o.surface), o.type or "", o.target_name or "", o.target_type or ""]
            for o in self.overrides
        )
        digest = hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:12]
        return f"{len(rows)}-{digest}"

    def find(self, kind: OverrideKind, name: str, entity_type: str) -> Override | None:
        """The rule of ``kind`` for ``name`` of ``entity_type``: a type-specific rule first."""
        rules = self._index.get((kind, normalise_surface(name)))
        if not rules:
            return None
        return rules.get(entity_type) or rules.get(None)


def override_set(rows: Sequence[EntityOverride]) -> OverrideSet:
    return OverrideSet(
        tuple(
            Override(
                kind=row.kind,  # type: ignore[arg-type]  # the table's check constraint keeps it a kind
                surface=row.surface,
                type=row.type,
                target_name=row.target_name,
                target_type=row.target_type,
            )
            for row in rows
        )
    )

"""Operator overrides of entity canonicalisation (pure functions; the rows live in `entity_overrides`).

Applied to the result of :func:`~services.enrich.entities.canonical.canonicalise`, before the global
entity counts are computed, in this order:

1. **ignore** ``surface`` (optionally of one ``type``): an entity whose canonical name is the surface is
   dropped; elsewhere, mentions with that surface are dropped (an entity left without mentions goes).
2. **alias** ``surface`` (optionally of one ``type``) -> ``target_name`` (``target_type``, else the
   entity's own type): an entity whose canonical name is the surface is renamed; elsewhere, mentions with
   that surface move to the target entity.
3. **merge** entity ``surface`` (optionally of one ``type``) -> entity ``target_name`` (``target_type``,
   else the same type): all of its mentions move.  Merges chain (A -> B -> C); a cycle of merges ends at its
   least member.

Surfaces match after :func:`normalise_surface` (case and runs of whitespace ignored).  A rule for one
type wins over a rule for any type.  Entities that end up with the same (name, type) are joined and the
salience of every entity is recomputed (the most mentioned entity of the article may have changed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shared.entity_overrides import OVERRIDE_KINDS, Override, OverrideKind, OverrideSet, normalise_surface

from .models import ExtractedEntity, Mention
from .salience import ranked_entities

__all__ = [
    "OVERRIDE_KINDS",
    "Override",
    "OverrideKind",
    "OverrideSet",
    "apply_overrides",
    "normalise_surface",
]


def _sorted(mentions: Iterable[Mention]) -> tuple[Mention, ...]:
    return tuple(sorted(set(mentions), key=lambda m: (m.field != "title", m.start, m.end)))


def _merge_target(overrides: OverrideSet, name: str, entity_type: str) -> tuple[str, str]:
    """Where the chain of merges from (name, type) ends; in a cycle, at its least member (so every
    member of the cycle, and every chain into it, ends at the same entity)."""
    path = [(name, entity_type)]
    keys = [(normalise_surface(name), entity_type)]
    while (rule := overrides.find("merge", name, entity_type)) is not None and rule.target_name:
        name, entity_type = rule.target_name, rule.target_type or entity_type
        key = (normalise_surface(name), entity_type)
        if key in keys:
            cycle = path[keys.index(key) :]
            return min(cycle, key=lambda p: (normalise_surface(p[0]), p[1], p[0]))
        path.append((name, entity_type))
        keys.append(key)
    return name, entity_type


def apply_overrides(
    *, entities: Sequence[ExtractedEntity], overrides: OverrideSet, text: str
) -> tuple[ExtractedEntity, ...]:
    """Apply ``overrides`` to one article's canonical entities (``text``: its body, for salience).

    Returns ``entities`` unchanged (same objects, same order) when no rule matches."""
    if not overrides.overrides:
        return tuple(entities)
    changed = False
    groups: dict[tuple[str, str], list[Mention]] = {}

    def add(name: str, entity_type: str, mentions: Iterable[Mention]) -> None:
        groups.setdefault((name, entity_type), []).extend(mentions)

    for entity in entities:
        if overrides.find("ignore", entity.name, entity.type) is not None:
            changed = True
            continue
        name, entity_type = entity.name, entity.type
        rule = overrides.find("alias", name, entity_type)
        if rule is not None and rule.target_name:
            name, entity_type = rule.target_name, rule.target_type or entity_type
            changed = True
        kept: list[Mention] = []
        for m in entity.mentions:
            if normalise_surface(m.surface) == normalise_surface(entity.name):
                kept.append(m)  # the entity's own name: its fate is the entity's
                continue
            if overrides.find("ignore", m.surface, entity.type) is not None:
                changed = True
                continue
            moved = overrides.find("alias", m.surface, entity.type)
            if moved is not None and moved.target_name:
                add(moved.target_name, moved.target_type or entity.type, [m])
                changed = True
                continue
            kept.append(m)
        if kept:
            add(name, entity_type, kept)

    merged: dict[tuple[str, str], list[Mention]] = {}
    for (name, entity_type), mentions in groups.items():
        end = _merge_target(overrides, name, entity_type)
        changed = changed or end != (name, entity_type)
        merged.setdefault(end, []).extend(mentions)

    if not changed:
        return tuple(entities)
    built = [(name, entity_type, _sorted(mentions)) for (name, entity_type), mentions in merged.items()]
    return ranked_entities(built, text=text)

"""What one article contributes to the global entity table, and the difference between two enrichments.

Re-enriching an article applies ``contribution(new) - contribution(old)`` with atomic increments
(``INSERT ... ON CONFLICT DO UPDATE SET n = n + delta``), so counts never inflate, and concurrent workers
enriching different articles never lose each other's updates (no read-modify-write).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

EntityKey = tuple[str, str]  # (type, canonical name)
K = TypeVar("K", bound=tuple[object, ...])


@dataclass(frozen=True, slots=True)
class Contribution:
    """``entities[key] = (articles, mentions)``; ``aliases[(key, surface)] = (mentions, articles)``."""

    entities: dict[EntityKey, tuple[int, int]] = field(default_factory=dict)
    aliases: dict[tuple[EntityKey, str], tuple[int, int]] = field(default_factory=dict)


def contribution(entities: Iterable[tuple[EntityKey, Sequence[str]]]) -> Contribution:
    """One article's contribution from its entities, each given as ``(key, surfaces of its mentions)``."""
    out = Contribution()
    for key, surfaces in entities:
        _, mentions = out.entities.get(key, (0, 0))
        out.entities[key] = (1, mentions + len(surfaces))
        for surface, n in Counter(surfaces).items():
            previous, _ = out.aliases.get((key, surface), (0, 0))
            out.aliases[(key, surface)] = (previous + n, 1)
    return out


def _minus(new: Mapping[K, tuple[int, int]], old: Mapping[K, tuple[int, int]]) -> dict[K, tuple[int, int]]:
    zero = (0, 0)
    return {
        key: (new.get(key, zero)[0] - old.get(key, zero)[0], new.get(key, zero)[1] - old.get(key, zero)[1])
        for key in sorted(new.keys() | old.keys())
    }


def difference(new: Contribution, old: Contribution) -> Contribution:
    """``new - old`` for every key of either, sorted (zero deltas kept: the caller still needs their ids)."""
    return Contribution(_minus(new.entities, old.entities), _minus(new.aliases, old.aliases))

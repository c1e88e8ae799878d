"""Entity resolution across articles: which rows of the global entity table name the same thing.

Within one article, :mod:`.canonical` already joins "Mrs. Clinton" to "Hillary Clinton".  Across articles
the global table still holds "Hilary Clinton" (one article misspelt her), "Sen. Elizabeth Warren" (an
article with no full mention of her), "H. Clinton", and "FBI" next to "Federal Bureau of Investigation".
:func:`propose_merges` reads the table (name, type, article count) and proposes merges, each with the rule
and a sentence saying why; nothing is merged here.  Applied as operator ``merge`` overrides (the rule and
reason in the override's note, ``created_by`` "entity-resolution"), every merge is listed with the other
overrides and undone by deleting it (``DELETE /entity-overrides/{id}``), like an operator's own.

Rules (same type only; a name merges into at most one target, and a target is never itself merged):

* **title** - a PERSON name behind a courtesy title or an office ("Sen. Elizabeth Warren", "President
  Donald Trump") is the entity of the name without it, when that entity exists.  A title before a bare
  surname ("President Trump") merges only when exactly one full name in the table ends with that surname.
* **initial** - "H. Clinton" / "H Clinton" is the one full PERSON name with that surname and a first name
  starting with that letter; with two candidates (Hillary and Hugh) nothing merges.
* **spelling** - two names of two or more words differing in one word of 5+ letters by a small edit (one
  edit, two for words over 8 letters; same first letter; not a plural "s"; no digits) are one entity when
  the rarer is at most a fifth as frequent as the other ("Hilary Clinton" -> "Hillary Clinton").  Never
  when both spellings are first names of other people in the table ("Jon Smith" / "John Smith"): a common
  first name is not a misspelling.  One-word names ("Kelly" / "Kelley", "Iranian" / "Italian") merge only
  when they differ in accents alone ("Erdoğan" -> "Erdogan").  Names equal but for capitals and dots
  ("BARACK OBAMA", "U.S. Senate" / "US Senate") are one entity.
* **acronym** - an all-capitals ORG/GPE/LOC/NORP/FAC name of 3-6 letters is the one longer name of the same
  type whose initials it is, *and* which some article has already joined it to (the acronym is among that
  entity's aliases: alias co-occurrence): "FBI" -> "Federal Bureau of Investigation".  Initials alone are
  not enough ("ABC" is rarely the American Benefits Council); two-letter acronyms are left to the curated
  alias table.
* **short form** - an ORG name with a company suffix ("Microsoft Corp.", "Apple Inc.") is the entity
  without it when that exists.

Distinct people who share a surname are never merged: no rule joins two full names whose first names
differ by more than one small edit, and the surname-only rules require a unique candidate.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from .canonical import COURTESY_TITLES, RANKS, initials, is_acronym

Rule = Literal["title", "initial", "spelling", "acronym", "short_form"]
RULES: tuple[Rule, ...] = ("title", "initial", "spelling", "acronym", "short_form")

#: The rarer spelling must be at most this share of the other's article count.
SPELLING_RATIO = 0.2
#: A first name seen as the first word of at least this many PERSON entities is a real first name.
COMMON_FIRST_NAME_ENTITIES = 2
#: Legal-form abbreviations only: "Company" / "Corporation" spelt out are often part of a distinct name (the
#: New York Times Company is the newspaper's owner).
_COMPANY_SUFFIXES = frozenset({"inc", "inc.", "corp", "corp.", "co", "co.", "ltd", "ltd.", "llc", "plc"})
_ACRONYM_TYPES = frozenset({"ORG", "GPE", "LOC", "NORP", "FAC"})
_INITIAL_RE = re.compile(r"^[A-Z]\.?$")


@dataclass(frozen=True, slots=True)
class EntityRow:
    """One row of the global entity table."""

    name: str
    type: str
    article_count: int
    #: surface forms the entity was seen under (``entity_aliases``): an acronym among them was written next
    #: to the full name in some article
    aliases: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class MergeProposal:
    """Entity ``source`` (of ``type``) is entity ``target``, by ``rule``; ``reason`` says why in words."""

    source: str
    target: str
    type: str
    rule: Rule
    reason: str


def _words(name: str) -> list[str]:
    return name.replace("’", "'").split()


def _fold(word: str) -> str:
    return word.strip(",'\"").replace(".", "").casefold()


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (insert, delete, substitute, swap two adjacent letters)."""
    a, b = a.casefold(), b.casefold()
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def fold_accents(word: str) -> str:
    """``"Erdoğan"`` -> ``"erdogan"``: case and diacritics dropped."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _plural_pair(a: str, b: str) -> bool:
    x, y = sorted((a.casefold(), b.casefold()), key=len)
    return y in (x + "s", x + "es")


def _close_spelling(a: str, b: str) -> bool:
    """Two spellings of one word: same first letter, 5+ letters, one edit (two for words over 8 letters),
    no digits, not singular and plural."""
    if a.casefold() == b.casefold() or not a[:1].isalpha() or a[:1].casefold() != b[:1].casefold():
        return False
    if any(ch.isdigit() for ch in a + b) or min(len(a), len(b)) < 5 or _plural_pair(a, b):
        return False
    limit = 2 if min(len(a), len(b)) > 8 else 1
    return edit_distance(a, b) <= limit


def _strip_titles(words: list[str]) -> list[str]:
    titles = COURTESY_TITLES | RANKS
    while len(words) > 1 and words[0].rstrip(".").casefold() in titles:
        words = words[1:]
    return words


def propose_merges(rows: Iterable[EntityRow]) -> list[MergeProposal]:
    """Merges for the table ``rows`` (see the module docstring), sorted by type, rule and source."""
    table = list(rows)
    by_key = {(r.type, r.name.casefold()): r for r in table}
    persons = [r for r in table if r.type == "PERSON"]
    full_names = [
        r for r in persons if len(_words(r.name)) >= 2 and _strip_titles(_words(r.name)) == _words(r.name)
    ]
    by_surname: dict[str, list[EntityRow]] = defaultdict(list)
    first_name_entities: dict[str, int] = defaultdict(int)
    for r in full_names:
        words = _words(r.name)
        if _INITIAL_RE.match(words[0]):
            continue
        by_surname[_fold(words[-1])].append(r)
        first_name_entities[_fold(words[0])] += 1

    proposals: dict[tuple[str, str], MergeProposal] = {}

    def propose(source: EntityRow, target: EntityRow, rule: Rule, reason: str) -> None:
        key = (source.type, source.name.casefold())
        if key not in proposals and source.name.casefold() != target.name.casefold():
            proposals[key] = MergeProposal(source.name, target.name, source.type, rule, reason)

    # title: "Sen. Elizabeth Warren" -> "Elizabeth Warren"; "President Trump" -> the one "... Trump"
    for r in persons:
        words = _words(r.name)
        bare = _strip_titles(words)
        if bare == words:
            continue
        target = by_key.get(("PERSON", " ".join(bare).casefold()))
        if len(bare) >= 2 and target is not None:
            propose(r, target, "title", f"'{r.name}' is '{target.name}' behind the title '{words[0]}'")
        elif len(bare) == 1:
            candidates = by_surname.get(_fold(bare[0]), [])
            if len(candidates) == 1:
                target = candidates[0]
                propose(
                    r, target, "title", f"'{target.name}' is the only person named {bare[0]} in the table"
                )

    # initial: "H. Clinton" -> the one "H... Clinton"
    for r in persons:
        words = _words(r.name)
        if len(words) != 2 or not _INITIAL_RE.match(words[0]):
            continue
        letter = words[0][0].casefold()
        candidates = [
            c for c in by_surname.get(_fold(words[1]), []) if _fold(_words(c.name)[0])[:1] == letter
        ]
        if len(candidates) == 1:
            target = candidates[0]
            propose(
                r,
                target,
                "initial",
                f"'{target.name}' is the only {words[1]} whose first name starts with {words[0][0]}",
            )

    # spelling: one word differs by a small edit, the rarer spelling is rare
    by_shape: dict[tuple[str, int], list[EntityRow]] = defaultdict(list)
    for r in table:
        if r.type in ("PERSON", "ORG", "GPE", "LOC", "NORP", "FAC") and not is_acronym(r.name):
            by_shape[(r.type, len(_words(r.name)))].append(r)
    for group in by_shape.values():
        group.sort(key=lambda r: (-r.article_count, r.name))
        for i, common in enumerate(group):
            for rare in group[i + 1 :]:
                if rare.article_count > SPELLING_RATIO * common.article_count:
                    continue
                a, b = _words(rare.name), _words(common.name)
                differing = [k for k in range(len(a)) if _fold(a[k]) != _fold(b[k])]
                if not differing:
                    propose(
                        rare,
                        common,
                        "spelling",
                        f"'{rare.name}' is '{common.name}' in other capitals or dots",
                    )
                    continue
                if len(differing) != 1:
                    continue
                k = differing[0]
                accents_only = fold_accents(a[k]) == fold_accents(b[k])
                if accents_only:
                    propose(rare, common, "spelling", f"'{a[k]}' is '{b[k]}' written with other accents")
                    continue
                if not _close_spelling(a[k], b[k]):
                    continue
                if (
                    rare.type == "PERSON"
                    and k == 0
                    and len(a) >= 2
                    and first_name_entities[_fold(a[0])] >= COMMON_FIRST_NAME_ENTITIES
                    and first_name_entities[_fold(b[0])] >= COMMON_FIRST_NAME_ENTITIES
                ):
                    continue  # "Jon Smith" / "John Smith": two real first names, maybe two people
                if len(a) == 1:
                    continue  # one word: "Kelly" / "Kelley", "Iranian" / "Italian" are other names
                propose(
                    rare,
                    common,
                    "spelling",
                    f"'{a[k]}' is one edit from '{b[k]}' and '{rare.name}' is rare "
                    f"({rare.article_count} articles against {common.article_count})",
                )

    # acronym: "FBI" -> the one "Federal Bureau of Investigation"
    expansions: dict[tuple[str, str], list[EntityRow]] = defaultdict(list)
    for r in table:
        if r.type in _ACRONYM_TYPES and not is_acronym(r.name):
            for letters in initials(r.name):
                expansions[(r.type, letters)].append(r)
    for r in table:
        compact = r.name.replace(".", "")
        if r.type not in _ACRONYM_TYPES or not is_acronym(r.name) or not 3 <= len(compact) <= 6:
            continue
        expansion = {c.name: c for c in expansions.get((r.type, compact.upper()), [])}
        if len(expansion) != 1:
            continue
        target = next(iter(expansion.values()))
        written_together = {a.replace(".", "") for a in target.aliases}
        if compact in written_together:
            propose(
                r,
                target,
                "acronym",
                f"'{r.name}' is the initials of '{target.name}', the only such name, and an article wrote "
                "them together",
            )

    # short form: "Microsoft Corp." -> "Microsoft"
    for r in table:
        words = _words(r.name)
        if r.type != "ORG" or len(words) < 2 or words[-1].casefold().rstrip(",") not in _COMPANY_SUFFIXES:
            continue
        short = " ".join(words[:-1]).rstrip(",")
        found = by_key.get(("ORG", short.casefold()))
        if found is not None:
            target = found
            propose(r, target, "short_form", f"'{r.name}' is '{target.name}' with its company suffix")

    # a target is never itself merged: follow chains to their end, drop cycles
    resolved: list[MergeProposal] = []
    for key, proposal in proposals.items():
        seen = {key}
        target_key = (proposal.type, proposal.target.casefold())
        while target_key in proposals and target_key not in seen:
            seen.add(target_key)
            target_key = (proposal.type, proposals[target_key].target.casefold())
        if target_key in seen:
            continue
        final = by_key[target_key].name
        resolved.append(
            proposal
            if final == proposal.target
            else MergeProposal(proposal.source, final, proposal.type, proposal.rule, proposal.reason)
        )
    resolved.sort(key=lambda p: (p.type, RULES.index(p.rule), p.source.casefold()))
    return resolved


def merge_pairs(proposals: Sequence[MergeProposal]) -> set[tuple[str, str, str]]:
    """``(type, a, b)`` with ``a < b`` (case-folded) for every pair of names the proposals make one entity,
    including two sources merged into the same target."""
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    for p in proposals:
        groups[(p.type, p.target.casefold())].update({p.source.casefold(), p.target.casefold()})
    pairs: set[tuple[str, str, str]] = set()
    for (kind, _), names in groups.items():
        ordered = sorted(names)
        pairs.update((kind, a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :])
    return pairs

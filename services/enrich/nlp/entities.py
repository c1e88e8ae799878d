"""Named entities from spaCy docs, canonicalised within one article.

The title and the body are separate docs, so every :class:`Mention` carries offsets into the exact string
of its own field.  Canonicalisation is deliberately local to one article and rule-based:

* mention spans are trimmed (leading "the", possessive "'s", stray quotes, brackets and punctuation);
* a small table folds very common variants (U.S./US/America -> United States, ...);
* a PERSON surname or short form ("Clinton", "Mrs. Clinton") joins the longest full PERSON name ending
  with it ("Hillary Clinton");
* an acronym joins its expansion when the article spells it out ("... Organization (NATO)") or when it
  equals the initials of a longer mention;
* the same name labelled differently takes the majority label (ties: PERSON > ORG > GPE > others).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from spacy.tokens import Doc

from .models import ExtractedEntity, Mention, MentionField

#: spaCy labels that are kept; numeric ones (DATE, TIME, PERCENT, MONEY, QUANTITY, ORDINAL, CARDINAL) are not.
TYPE_PRIORITY: tuple[str, ...] = (
    "PERSON",
    "ORG",
    "GPE",
    "LOC",
    "NORP",
    "FAC",
    "PRODUCT",
    "EVENT",
    "WORK_OF_ART",
    "LAW",
    "LANGUAGE",
)
KEPT_LABELS: frozenset[str] = frozenset(TYPE_PRIORITY)
_PRIORITY = {label: i for i, label in enumerate(TYPE_PRIORITY)}

#: Very common variants only, keyed by lower case with dots and extra spaces removed.
_VARIANTS: dict[str, str] = {
    "us": "United States",
    "usa": "United States",
    "united states": "United States",
    "united states of america": "United States",
    "america": "United States",
    "uk": "United Kingdom",
    "britain": "United Kingdom",
    "great britain": "United Kingdom",
    "united kingdom": "United Kingdom",
    "un": "United Nations",
    "united nations": "United Nations",
    "eu": "European Union",
    "european union": "European Union",
}

#: Courtesy titles and ranks stripped from the front of a person's name before matching.
_HONORIFICS: frozenset[str] = frozenset(
    {
        "mr", "mrs", "ms", "miss", "mx", "mister", "madam", "mme", "dr", "prof", "professor", "sir",
        "dame", "lord", "lady", "sen", "rep", "gov", "gen", "lt", "col", "capt", "sgt", "rev",
    }
)  # fmt: skip

_LEADING_JUNK = "\"'“‘«([{*•-–—,;:"
_TRAILING_JUNK = "\"'”’»)]},;:!?*•-–—/"
_ACRONYM_RE = re.compile(r"^[A-Z][A-Z&]{1,7}$")
_PAREN_RE = re.compile(r"\s*\(\s*([A-Za-z][A-Za-z.&\-]{0,11}?)\s*\)")
_PARAGRAPH_RE = re.compile(r"\n[^\S\n]*\n")
_FUNCTION_WORDS = frozenset(
    {"of", "the", "and", "for", "in", "on", "at", "to", "de", "du", "des", "la", "le", "&"}
)


def clean_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim an entity span: whitespace, leading "the ", possessive "'s", unbalanced quotes/brackets.

    Returns the new ``(start, end)``; ``start >= end`` when nothing is left.  Dots are kept ("U.S.").
    A span running over a paragraph break (possible when no parser sets sentence boundaries) is cut there.
    """
    paragraph = _PARAGRAPH_RE.search(text, start, end)
    if paragraph is not None:
        end = paragraph.start()
    while start < end:
        before = (start, end)
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        span = text[start:end]
        if span[:4].lower() == "the " and end - start > 4:
            start += 4
            continue
        if span[-2:] in ("'s", "’s", "'S", "’S") and end - start > 2:
            end -= 2
            continue
        if span and span[0] in _LEADING_JUNK and not (span[0] == "(" and ")" in span):
            start += 1
        if end > start and text[end - 1] in _TRAILING_JUNK and not (text[end - 1] == ")" and "(" in span):
            end -= 1
        if (start, end) == before:
            break
    return start, max(start, end)


def _is_valid_name(name: str) -> bool:
    """Not a single character, not only digits/punctuation, and capitalised somewhere (a proper name)."""
    return len(name) > 1 and any(ch.isalpha() for ch in name) and any(ch.isupper() for ch in name)


def _words(name: str) -> list[str]:
    return name.replace("’", "'").split()


def _strip_honorific(name: str) -> str:
    words = _words(name)
    while len(words) > 1 and words[0].rstrip(".").casefold() in _HONORIFICS:
        words = words[1:]
    return " ".join(words)


def _key(name: str) -> str:
    """Grouping key: case-folded, single-spaced; a very common variant maps to its canonical name."""
    key = " ".join(_words(name)).casefold()
    variant = _VARIANTS.get(key.replace(".", ""))
    return variant.casefold() if variant is not None else key


def _is_acronym(name: str) -> bool:
    compact = name.replace(".", "")
    return _ACRONYM_RE.match(compact) is not None


def _initials(name: str) -> set[str]:
    words = [w for w in re.split(r"[\s\-]+", name) if w and w[0].isalpha()]
    if len(words) < 2:
        return set()
    everything = "".join(w[0] for w in words).upper()
    content = "".join(w[0] for w in words if w.casefold() not in _FUNCTION_WORDS).upper()
    return {everything, content}


@dataclass(slots=True)
class _Raw:
    field: MentionField
    start: int
    end: int
    surface: str  # exactly field_string[start:end]
    name: str  # surface without honorific, single-spaced
    label: str
    order: int  # position in the article, title first


@dataclass(slots=True)
class _Group:
    key: str
    mentions: list[_Raw]

    @property
    def first(self) -> int:
        return self.mentions[0].order

    @property
    def labels(self) -> Counter[str]:
        return Counter(m.label for m in self.mentions)

    def display(self) -> str:
        variant = _VARIANTS.get(self.key.replace(".", ""))
        if variant is not None:
            return variant
        counts = Counter(m.name for m in self.mentions)
        first_seen: dict[str, int] = {}
        for m in self.mentions:
            first_seen.setdefault(m.name, m.order)
        return min(counts, key=lambda n: (-counts[n], -len(n), first_seen[n], n))

    def word_count(self) -> int:
        return len(_words(self.display()))


def _majority(labels: Counter[str]) -> str:
    return min(labels, key=lambda label: (-labels[label], _PRIORITY.get(label, len(_PRIORITY)), label))


def _collect(field: MentionField, doc: Doc, order_base: int) -> Iterable[_Raw]:
    text = doc.text
    for ent in doc.ents:
        if ent.label_ not in KEPT_LABELS:
            continue
        start, end = clean_span(text, ent.start_char, ent.end_char)
        surface = text[start:end]
        # "North Atlantic Treaty Organization (NATO)" tagged as one span: keep the long form.
        paren = surface.find(" (")
        if paren > 0 and surface.endswith(")"):
            end = start + paren
            surface = text[start:end]
        name = _strip_honorific(surface)
        if not _is_valid_name(name):
            continue
        yield _Raw(field, start, end, surface, name, ent.label_, order_base + start)


def _explicit_acronyms(mentions: Sequence[_Raw], texts: dict[MentionField, str]) -> dict[str, str]:
    """``{acronym key: long-form key}`` for "Long Form (LF)" patterns in the article."""
    found: dict[str, str] = {}
    for m in mentions:
        if len(_words(m.name)) < 2:
            continue
        match = _PAREN_RE.match(texts[m.field], m.end)
        if match is None:
            continue
        acronym = match.group(1)
        if _is_acronym(acronym):
            found.setdefault(_key(acronym), _key(m.name))
    return found


def extract_entities(doc_title: Doc | None, doc_text: Doc) -> tuple[ExtractedEntity, ...]:
    """Entities of an article from its (separately parsed) title and body docs."""
    texts: dict[MentionField, str] = {"text": doc_text.text}
    raws: list[_Raw] = []
    if doc_title is not None:
        texts["title"] = doc_title.text
        raws.extend(_collect("title", doc_title, 0))
    raws.extend(_collect("text", doc_text, len(texts.get("title", "")) + 1))
    if not raws:
        return ()

    groups: dict[str, _Group] = {}
    for raw in raws:
        key = _key(raw.name)
        groups.setdefault(key, _Group(key, [])).mentions.append(raw)

    parent: dict[str, str] = {key: key for key in groups}

    def find(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    # 1. Person short forms join the longest full PERSON name that ends with them.  A short form that
    #    spaCy labelled ORG ("Chollet said") joins too; place-like labels do not ("Washington").
    full_names = [g for g in groups.values() if "PERSON" in g.labels and g.word_count() >= 2]
    short_forms = [g for g in groups.values() if "PERSON" in g.labels or _majority(g.labels) == "ORG"]
    for group in short_forms:
        words = [w.casefold() for w in _words(group.display())]
        candidates = [
            full
            for full in full_names
            if full is not group
            and full.word_count() > len(words)
            and [w.casefold() for w in _words(full.display())][-len(words) :] == words
        ]
        if candidates:
            best = min(candidates, key=lambda g: (-g.word_count(), -len(g.mentions), g.first, g.key))
            parent[find(group.key)] = find(best.key)

    # 2. Acronyms join their expansion: spelled out in parentheses, or initials of a longer name.
    explicit = _explicit_acronyms(raws, texts)
    long_forms = [g for g in groups.values() if g.word_count() >= 2 and _majority(g.labels) != "PERSON"]
    for group in groups.values():
        if group.key.replace(".", "") in _VARIANTS or not _is_acronym(group.display()):
            continue
        target_key = explicit.get(group.key)
        if target_key is None or target_key not in groups or target_key == group.key:
            acronym = group.display().replace(".", "").upper()
            matches = [g for g in long_forms if acronym in _initials(g.display())]
            if not matches:
                continue
            target_key = min(matches, key=lambda g: (-len(g.mentions), g.first, g.key)).key
        if find(group.key) != find(target_key):
            parent[find(group.key)] = find(target_key)

    clusters: dict[str, list[_Raw]] = {}
    for key, group in groups.items():
        clusters.setdefault(find(key), []).extend(group.mentions)

    entities: list[ExtractedEntity] = []
    for root, mentions in clusters.items():
        mentions.sort(key=lambda m: m.order)
        name = groups[root].display()
        if not _is_valid_name(name):
            continue
        entities.append(
            ExtractedEntity(
                name=name,
                type=_majority(Counter(m.label for m in mentions)),
                mentions=tuple(Mention(m.field, m.start, m.end, m.surface) for m in mentions),
            )
        )
    entities.sort(key=lambda e: (-e.count, e.name, e.type))
    return tuple(entities)

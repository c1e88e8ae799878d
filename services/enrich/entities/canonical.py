"""Canonicalisation of the named entities of one article (pure functions over NER spans; no spaCy here).

Input: the title, the cleaned body and the raw NER spans found in each (:class:`RawSpan`).  Output: one
:class:`ExtractedEntity` per real-world entity, with every mention's exact offsets and a salience.

Rules, in order:

1. **Span hygiene.**  Each span is trimmed: whitespace, a leading "the", a possessive "'s", stray quotes,
   brackets and punctuation; a span running over a paragraph break is cut there; "Long Form (LF)" tagged
   as one span keeps the long form.  Names with no capital letter or no letter at all are dropped.
2. **Headlines.**  Titles are title-cased, so a small model often runs a name into the next word
   ("Clinton Looks" as a PERSON).  A title span loses leading and trailing words that are not name words
   of the body (words of body entities, or words capitalised mid-sentence in the body); a title span with
   no such word is dropped when one of its words is a common word of the body (used there in lower case),
   and kept otherwise (a name the body does not repeat); a trimmed span left with common words only is
   dropped too.  (Skipped when there is no body.)
3. **Names.**  Courtesy titles and ranks ("Mrs.", "Dr.", "Sen.") are stripped for matching; in another
   language its own too ("Frau", "Mme", "dhr.", "de heer", "Bundeskanzler": :mod:`.languages`).  In another
   language a lower-case leading determiner is no part of a non-PERSON name ("la France", "die
   Bundesregierung"); a capitalised one and a German genitive ("Deutschlands") go only when the alias table
   or another mention of the article shows the name without them.
4. **Alias tables** (:mod:`.aliases`): "U.S.", "US", "the United States", "America" (as a GPE) -> "United
   States"; "UK", "Britain" -> "United Kingdom"; "U.N." -> "United Nations" ...; in other languages
   "Vereinigte Staaten", "États-Unis", "ONU", "Moskau" ... -> the English canonical name (countries from
   CLDR, a curated table of organisations, cities and people); the table sets the type.  A person of the
   table takes its bare name too ("Papst Franziskus" ... "Franziskus").
5. **Full-name variants.**  Two PERSON names with the same surname whose first names are equal up to a
   doubled letter ("Hilary"/"Hillary"), and whose words are a subsequence of each other ("Asif Zardari" /
   "Asif Ali Zardari"), are one person (the longer, then more frequent, name wins).
6. **Surnames and short forms.**  A PERSON short form ("Clinton", "Mrs. Clinton"; also a short form the
   model called ORG) joins the full PERSON name that ends with it, only when exactly one such person is in
   the article: with "Bill Clinton" and "Hillary Clinton" both present, "Clinton" stays on its own.
7. **Acronyms.**  An acronym joins its expansion when the article spells it out ("... Organization (XYZ)")
   or when it equals the initials of an ORG/GPE/LOC/FAC/NORP name of the same article.
8. **Type.**  The alias table's type; else PERSON for a cluster built around a person; else the majority
   label of the mentions (ties: PERSON > ORG > GPE > others).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from . import languages
from .aliases import alias_of, is_variant
from .languages import base_language
from .models import ExtractedEntity, Mention, MentionField
from .salience import ranked_entities

#: Kept labels by priority; numeric ones (DATE, TIME, PERCENT, MONEY, QUANTITY, ORDINAL, CARDINAL) are not.
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
_ACRONYM_TARGET_LABELS = frozenset({"ORG", "GPE", "LOC", "FAC", "NORP"})

#: Courtesy titles stripped from the front of any name before matching.
COURTESY_TITLES: frozenset[str] = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "mister", "madam", "mme", "dr", "prof", "professor", "sir", "dame"}
)
#: Ranks and offices stripped from the front of a PERSON name only ("General Motors" is no general).
RANKS: frozenset[str] = frozenset(
    {
        "lord", "lady", "sen", "senator", "rep", "gov", "governor", "gen", "general", "lt", "col",
        "capt", "sgt", "rev", "president", "pres", "minister", "secretary", "chancellor", "judge",
        "justice", "prince", "princess", "king", "queen", "pope", "sheikh", "ambassador", "envoy",
        "counsellor", "counselor", "commissioner", "mayor", "chairman", "chairwoman",
    }
)  # fmt: skip

_ABBREVIATIONS = frozenset(
    {"inc", "co", "corp", "ltd", "jr", "sr", "st", "bros", "mt", "plc", "llc", "ft", "no", "gen", "u.s"}
)
_LEADING_JUNK = "\"'“‘«([{*•-–—,;:"
_TRAILING_JUNK = "\"'”’»)]},;:!?*•-–—/"
_ACRONYM_RE = re.compile(r"^[A-Z][A-Z&]{1,7}$")
_PAREN_RE = re.compile(r"\s*\(\s*([A-Za-z][A-Za-z.&\-]{0,11}?)\s*\)")
_PARAGRAPH_RE = re.compile(r"\n[^\S\n]*\n")
_WORD_RE = re.compile(r"\S+")
_MID_SENTENCE_CAPITAL_RE = re.compile(r"(?<=[a-z,;] )([A-Z][\w.'’\-]*)")
_FUNCTION_WORDS = frozenset(
    {"of", "the", "and", "for", "in", "on", "at", "to", "de", "du", "des", "la", "le", "&"}
)


@dataclass(frozen=True, slots=True)
class RawSpan:
    """A span as the NER model found it: ``field`` string ``[start:end]`` with the model's ``label``."""

    field: MentionField
    start: int
    end: int
    label: str


# --- spans --------------------------------------------------------------------------------------------
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
        if end > start and text[end - 1] == "." and _sentence_dot(text[start:end]):
            end -= 1
        if (start, end) == before:
            break
    return start, max(start, end)


def _sentence_dot(span: str) -> bool:
    """The span's final dot ends a sentence, not an abbreviation ("U.S.", "Inc.", "John F.")."""
    last = span.split()[-1][:-1] if span.split() else ""
    return len(last) > 1 and "." not in last and last.casefold() not in _ABBREVIATIONS


def is_valid_name(name: str) -> bool:
    """Not a single character, not only digits/punctuation, and capitalised somewhere (a proper name)."""
    return len(name) > 1 and any(ch.isalpha() for ch in name) and any(ch.isupper() for ch in name)


def _words(name: str) -> list[str]:
    return name.replace("’", "'").split()


def titles_of(language: str = "en", *, person: bool = True) -> frozenset[str]:
    """Titles stripped from the front of a name in ``language``: the English ones and the language's own
    (:mod:`.languages`); ranks and offices only for a person."""
    language = base_language(language)
    titles = COURTESY_TITLES | languages.COURTESY.get(language, frozenset())
    if person:
        titles |= RANKS | languages.RANKS.get(language, frozenset())
    return titles


def _is_title(word: str, titles: frozenset[str], language: str) -> bool:
    key = word.rstrip(".").casefold()
    if key in titles:
        return True
    # German compounds ending in an office: "US-Präsident", "Ex-Kanzlerin", "EU-Kommissionspräsidentin"
    return language == "de" and "-" in key and key.rsplit("-", 1)[1] in titles


def strip_honorific(name: str, *, person: bool = True, language: str = "en") -> str:
    """``"Mrs. Clinton"`` -> ``"Clinton"`` (ranks such as "Sen." only for a person); keeps the last word.

    In another language its own titles go too ("Frau Merkel", "Mme Lagarde", "dhr. Rutte"), with a
    determiner directly before one ("de heer Rutte", "le pape François")."""
    language = base_language(language)
    titles = titles_of(language, person=person)
    determiners = languages.DETERMINERS.get(language, frozenset())
    words = _words(name)
    while len(words) > 1:
        if _is_title(words[0], titles, language):
            words = words[1:]
        elif len(words) > 2 and words[0].casefold() in determiners and _is_title(words[1], titles, language):
            words = words[2:]
        else:
            break
    return " ".join(words)


def strip_determiner(text: str, start: int, end: int, *, language: str) -> int:
    """The start of ``text[start:end]`` past a leading lower-case determiner of ``language`` ("la France",
    "die Bundesregierung", "de Verenigde Staten", "l'Allemagne"); ``start`` when there is none.

    A capitalised determiner is kept here: it may be part of the name ("Den Haag", "La Paz", "Die Zeit")
    or only start a sentence; :func:`canonicalise` drops it when the article shows the name without it."""
    span = text[start:end]
    for elided in languages.ELIDED.get(language, ()):
        if span.startswith(elided) and len(span) > len(elided) and span[len(elided)].isupper():
            return start + len(elided)
    first, sep, rest = span.partition(" ")
    if sep and rest and first in languages.DETERMINERS.get(language, ()) and rest[0].isupper():
        return start + len(first) + 1
    return start


def _capital_determiner(surface: str, language: str) -> int:
    """Length of a capitalised leading determiner of ``language`` ("Die ", "L'"), else 0."""
    for elided in languages.ELIDED.get(language, ()):
        upper = elided.capitalize()
        if surface.startswith(upper) and len(surface) > len(upper) and surface[len(upper)].isupper():
            return len(upper)
    first, sep, rest = surface.partition(" ")
    if sep and rest and first.casefold() in languages.DETERMINERS.get(language, ()) and first[0].isupper():
        return len(first) + 1
    return 0


def _word_key(word: str) -> str:
    return word.strip(".,;:'\"“”‘’()").casefold()


# --- acronyms -----------------------------------------------------------------------------------------
def is_acronym(name: str) -> bool:
    return _ACRONYM_RE.match(name.replace(".", "")) is not None


def initials(name: str) -> set[str]:
    """Initials of a multi-word name, with and without its function words ("of", "the", ...)."""
    words = [w for w in re.split(r"[\s\-]+", name) if w and w[0].isalpha()]
    if len(words) < 2:
        return set()
    everything = "".join(w[0] for w in words).upper()
    content = "".join(w[0] for w in words if w.casefold() not in _FUNCTION_WORDS).upper()
    return {everything, content}


# --- person names -------------------------------------------------------------------------------------
def _squeeze(word: str) -> str:
    """Lower case with doubled letters single: "Hillary" and "Hilary" are one spelling."""
    return re.sub(r"(.)\1+", r"\1", word.casefold())


def same_person_names(short: Sequence[str], full: Sequence[str]) -> bool:
    """Two full names of one person: same surname, same first name (up to a doubled letter), and the
    shorter one's words appear in the longer one in order ("Asif Zardari" / "Asif Ali Zardari")."""
    if len(short) < 2 or len(full) < len(short):
        return False
    a, b = [_squeeze(w) for w in short], [_squeeze(w) for w in full]
    if a[0] != b[0] or a[-1] != b[-1]:
        return False
    it = iter(b)
    return all(word in it for word in a)


def _same_words(a: Sequence[str], b: Sequence[str]) -> bool:
    return [_squeeze(w) for w in a] == [_squeeze(w) for w in b]


def ends_with(full: Sequence[str], short: Sequence[str]) -> bool:
    """The short form ends the full name ("Clinton", "Rodham Clinton" of "Hillary Rodham Clinton")."""
    if not short or len(full) <= len(short):
        return False
    return [_squeeze(w) for w in full[-len(short) :]] == [_squeeze(w) for w in short]


# --- headlines ----------------------------------------------------------------------------------------
def body_name_words(text: str, spans: Iterable[tuple[int, int]]) -> set[str]:
    """Words that are names in the body: words of its entity spans and words capitalised mid-sentence."""
    words = {_word_key(w) for start, end in spans for w in text[start:end].split()}
    words.update(_word_key(m.group(1)) for m in _MID_SENTENCE_CAPITAL_RE.finditer(text))
    words.discard("")
    return words


def _is_common_word(word: str, body: str) -> bool:
    """The body uses the word in lower case ("looks" for a headline's "Looks")."""
    key = _word_key(word)
    return key.isalpha() and re.search(rf"(?<![\w'’-]){re.escape(key)}(?![\w'’-])", body) is not None


def trim_title_span(title: str, start: int, end: int, *, name_words: set[str], body: str) -> tuple[int, int]:
    """Trim a title span to the words that are names in the body (see rule 2); ``(s, s)`` drops it."""
    words = [(m.start() + start, m.end() + start) for m in _WORD_RE.finditer(title[start:end])]
    known = [_word_key(title[s:e]) in name_words for s, e in words]
    if not any(known):  # a common word of the body, capitalised by the headline: not a name
        common = any(_is_common_word(title[s:e], body) for s, e in words)
        return (start, start) if common else (start, end)
    first = known.index(True)
    last = len(known) - 1 - known[::-1].index(True)
    kept = words[first : last + 1]
    if (first, last) != (0, len(words) - 1) and all(_is_common_word(title[s:e], body) for s, e in kept):
        return (start, start)  # what is left of a run-on span is a common word ("Relations")
    return clean_span(title, kept[0][0], kept[-1][1])


# --- clustering ---------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Raw:
    field: MentionField
    start: int
    end: int
    surface: str  # exactly field_string[start:end]
    name: str  # surface without honorific, single-spaced
    label: str
    order: int  # position in the article, title first
    alias: tuple[str, str] | None  # (canonical name, type) from the alias table


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

    @property
    def alias(self) -> tuple[str, str] | None:
        return next((m.alias for m in self.mentions if m.alias is not None), None)

    def display(self) -> str:
        if self.alias is not None:
            return self.alias[0]
        counts = Counter(m.name for m in self.mentions)
        first_seen: dict[str, int] = {}
        for m in self.mentions:
            first_seen.setdefault(m.name, m.order)
        return min(counts, key=lambda n: (-counts[n], -len(n), first_seen[n], n))

    def words(self) -> list[str]:
        return _words(self.display())


def majority(labels: Counter[str]) -> str:
    return min(labels, key=lambda label: (-labels[label], _PRIORITY.get(label, len(_PRIORITY)), label))


def _collect(
    field: MentionField,
    text: str,
    spans: Iterable[RawSpan],
    order_base: int,
    *,
    name_words: set[str] | None = None,
    body: str | None = None,
    language: str = "en",
) -> Iterable[_Raw]:
    for span in spans:
        if span.label not in KEPT_LABELS:
            continue
        start, end = clean_span(text, span.start, span.end)
        if language != "en" and span.label != "PERSON" and start < end:  # "de Jong" keeps its "de"
            start = strip_determiner(text, start, end, language=language)
        # "North Atlantic Treaty Organization (NATO)" tagged as one span: keep the long form.
        paren = text.find(" (", start, end)
        if paren > start and text[end - 1 : end] == ")":
            end = paren
        if name_words is not None and body is not None and start < end:
            start, end = trim_title_span(text, start, end, name_words=name_words, body=body)
        if start >= end:
            continue
        surface = text[start:end]
        person = span.label == "PERSON"
        name = strip_honorific(surface, person=person, language=language)
        if not is_valid_name(name):
            continue
        # a person's variant may carry its title ("Papst Franziskus"): the mention as written first
        alias = (alias_of(surface, span.label, language) if person else None) or alias_of(
            name, span.label, language
        )
        yield _Raw(field, start, end, surface, name, span.label, order_base + start, alias)


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
        if is_acronym(acronym):
            found.setdefault(_key(acronym, None), _key(m.name, m.alias))
    return found


def _key(name: str, alias: tuple[str, str] | None) -> str:
    return (alias[0] if alias is not None else " ".join(_words(name))).casefold()


def _second_look(raws: list[_Raw], *, language: str) -> None:
    """Forms the article itself shows to be another mention's name (non-English articles only):

    * a capitalised determiner ("Die Bundesregierung" opening a sentence, "L'Allemagne") goes when the name
      without it is in the alias table or is another mention's name, and the name with it is not itself
      a variant of the table (so "Den Haag", "La Haye" stay whole, and "La Paz", "Die Zeit" too unless
      the article writes them without it);
    * a German genitive ("Deutschlands", "Merkels") is read as its base form when the base is in the
      alias table or is another mention's name."""
    names = Counter(raw.name.casefold() for raw in raws)
    for raw in raws:
        if raw.label == "PERSON" or is_variant(raw.surface, language):
            continue
        cut = _capital_determiner(raw.surface, language)
        if cut:
            rest = raw.surface[cut:]
            alias = alias_of(rest, raw.label, language)
            if alias is not None or (raw.alias is None and names[rest.casefold()] > 0):
                raw.start, raw.order, raw.surface, raw.name, raw.alias = (
                    raw.start + cut,
                    raw.order + cut,
                    rest,
                    rest,
                    alias,
                )
    if language != "de":
        return
    for raw in raws:
        last = raw.name.split()[-1]
        if raw.alias is not None or len(last) < 4 or not last.endswith("s") or last.endswith("ss"):
            continue
        base = raw.name[:-1]
        alias = alias_of(base, raw.label, language)
        if alias is not None or names[base.casefold()] > 0:
            raw.name, raw.alias = base, alias


def canonicalise(
    *, title: str | None, text: str, spans: Sequence[RawSpan], language: str = "en"
) -> tuple[ExtractedEntity, ...]:
    """The entities of one article, most salient first (see the module docstring for the rules).

    ``language`` (ISO 639-1, e.g. the detected language) selects the titles, determiners and alias-table
    names of that language; English is the default and its rules are the same as before languages."""
    language = base_language(language) or "en"
    title = title or ""
    body_spans = [s for s in spans if s.field == "text"]
    raws = list(_collect("text", text, body_spans, len(title) + 1 if title else 0, language=language))
    if title:
        title_spans = [s for s in spans if s.field == "title"]
        if text.strip():
            known = body_name_words(text, [(r.start, r.end) for r in raws])
            raws = [
                *_collect("title", title, title_spans, 0, name_words=known, body=text, language=language),
                *raws,
            ]
        else:
            raws = [*_collect("title", title, title_spans, 0, language=language), *raws]
    if not raws:
        return ()
    if language != "en":
        _second_look(raws, language=language)
    texts: dict[MentionField, str] = {"title": title, "text": text}

    groups: dict[str, _Group] = {}
    for raw in raws:
        key = _key(raw.name, raw.alias)
        groups.setdefault(key, _Group(key, [])).mentions.append(raw)
    for group in groups.values():
        group.mentions.sort(key=lambda m: m.order)

    parent: dict[str, str] = {key: key for key in groups}

    def find(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    def is_person(group: _Group) -> bool:
        return group.alias is None and "PERSON" in group.labels

    # 5. Full-name variants of one person.
    full_names = sorted(
        (g for g in groups.values() if is_person(g) and len(g.words()) >= 2),
        key=lambda g: (-len(g.words()), -len(g.mentions), g.first, g.key),
    )
    person_roots: set[str] = set()
    for i, group in enumerate(full_names):
        for bigger in full_names[:i]:
            if find(bigger.key) == bigger.key and same_person_names(group.words(), bigger.words()):
                parent[group.key] = bigger.key
                person_roots.add(bigger.key)
                break

    # 6. Short forms join the one full name that ends with them; with two candidates, neither.
    alias_people = [g for g in groups.values() if g.alias is not None and g.alias[1] == "PERSON"]

    def person_forms(group: _Group) -> set[tuple[str, ...]]:
        return {tuple(_words(m.name)) for m in group.mentions} | {tuple(group.words())}

    for group in groups.values():
        if group.alias is not None or find(group.key) != group.key:
            continue
        if not (is_person(group) or majority(group.labels) == "ORG"):
            continue
        words = group.words()
        roots = {find(full.key) for full in full_names if ends_with(full.words(), words)}
        # a person of the alias table ("Papst Franziskus", "Wladimir Putin") takes its bare name too
        roots.update(
            find(person.key)
            for person in alias_people
            if any(ends_with(form, words) or _same_words(form, words) for form in person_forms(person))
        )
        roots.discard(find(group.key))
        if len(roots) == 1:
            (root,) = roots
            parent[find(group.key)] = root
            person_roots.add(root)

    # 7. Acronyms join their expansion: spelled out in parentheses, or initials of a longer name.
    explicit = _explicit_acronyms(raws, texts)
    long_forms = [
        g
        for g in groups.values()
        if len(g.words()) >= 2 and majority(g.labels) in _ACRONYM_TARGET_LABELS and not is_person(g)
    ]
    for group in groups.values():
        if group.alias is not None or not is_acronym(group.display()):
            continue
        target_key = explicit.get(group.key)
        if target_key is None or target_key not in groups or target_key == group.key:
            acronym = group.display().replace(".", "").upper()
            matches = [g for g in long_forms if acronym in initials(g.display())]
            if not matches:
                continue
            target_key = min(matches, key=lambda g: (-len(g.mentions), g.first, g.key)).key
        if find(group.key) != find(target_key):
            parent[find(group.key)] = find(target_key)

    clusters: dict[str, list[_Raw]] = {}
    for key, group in groups.items():
        clusters.setdefault(find(key), []).extend(group.mentions)

    built: list[tuple[str, str, tuple[Mention, ...]]] = []
    for root, mentions in clusters.items():
        mentions.sort(key=lambda m: m.order)
        head = groups[root]
        name = head.display()
        if not is_valid_name(name):
            continue
        if head.alias is not None:
            kind = head.alias[1]
        elif root in person_roots:
            kind = "PERSON"
        else:
            kind = majority(Counter(m.label for m in mentions))
        built.append((name, kind, tuple(Mention(m.field, m.start, m.end, m.surface) for m in mentions)))

    return ranked_entities(built, text=text)

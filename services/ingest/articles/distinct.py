"""Is a near-duplicate pair really one article?  Look at what differs.

Two reports written from one template (earthquakes, recalls, sports results, earnings, weather
warnings, election tallies, obituaries) share most of their words and so look like near-duplicates to
MinHash, yet they are different events: what differs is exactly the facts, numbers, dates, times,
names and places.  A syndicated copy of one article differs in other ways: boilerplate added or dropped,
a paragraph added, the tail cut, another headline, spelling fixed.

So the two texts (and the two titles) are aligned word by word and each *substitution* is looked at: a
short run of words of one text replaced by a short run of the other, with shared words on both sides
(the slot of a template).  A substitution that changes a number (digits or a number word), or a proper
name (a capitalised word not at the start of a sentence, or one the text also capitalises mid-sentence:
places, people, teams, companies, months, weekdays) is a *conflict*, and one conflict makes the pair
distinct.  A name replaced by a near spelling of itself (``Wsahington`` -> ``Washington``) is a spelling
fix, not a conflict; insertions and deletions (added or dropped text) are never conflicts.  Bias toward
keeping: a missed duplicate costs a little storage, a false one loses news.

Pure functions: ingest (:mod:`services.ingest.articles.service`), the tests and
``scripts/eval_dedup.py`` call these.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["Comparison", "Conflict", "Token", "compare", "conflicts", "is_distinct", "tokens"]

#: Longest run of words on either side of a substitution that is read as a template's slot.
MAX_SLOT_WORDS: Final = 6
#: Shared words needed on each side of a substitution inside a body (a title needs one).
MIN_CONTEXT_WORDS: Final = 2
#: Words of a text looked at (a template's facts are in its first paragraphs; bounds the alignment).
MAX_WORDS: Final = 3000
#: Two names at least this similar (difflib ratio) are one name spelt two ways.
SPELLING_RATIO: Final = 0.8
#: Conflicts kept in an answer (the reason stored with a decision).
MAX_REPORTED: Final = 5

_TOKEN_RE: Final = re.compile(
    r"\d+(?:[.,:/]\d+)*(?:st|nd|rd|th)?|[^\W\d_]+(?:['’][^\W\d_]+)*|[.!?;:\n]",
    re.UNICODE,
)
_SENTENCE_END: Final = frozenset(".!?;:\n")
_THOUSANDS: Final = re.compile(r"^\d{1,3}(?:,\d{3})+$")
# fmt: off
_NUMBER_WORDS: Final = frozenset(
    [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
        "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand",
        "million", "billion", "trillion", "first", "second", "third", "fourth", "fifth", "sixth", "seventh",
        "eighth", "ninth", "tenth", "dozen", "half", "quarter",
    ]
)
# fmt: on
#: Capitalised words that are not names: function words and pronouns (capitalised at a sentence start or
#: in a title-case headline).
# fmt: off
_NOT_NAMES: Final = frozenset(
    [
        "a", "an", "the", "this", "that", "these", "those", "and", "or", "but", "nor", "so", "yet", "for",
        "of", "in", "on", "at", "to", "by", "from", "with", "without", "into", "onto", "over", "under",
        "after", "before", "about", "above", "below", "between", "during", "since", "until", "up", "down",
        "out", "off", "as", "if", "then", "than", "when", "where", "while", "who", "whom", "whose", "which",
        "what", "why", "how", "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "do",
        "does", "did", "will", "would", "shall", "should", "can", "could", "may", "might", "must", "not",
        "no", "yes", "it", "its", "he", "she", "they", "we", "you", "i", "his", "her", "their", "our",
        "your", "my", "me", "him", "them", "us", "there", "here", "all", "some", "any", "each", "every",
        "more", "most", "other", "such", "only", "also", "just", "new", "says", "said", "say",
    ]
)
# fmt: on

Kind = Literal["number", "name", "word"]


@dataclass(frozen=True, slots=True)
class Token:
    key: str  # what is compared: case-folded, thousands separators dropped
    text: str  # as written
    kind: Kind


@dataclass(frozen=True, slots=True)
class Conflict:
    """One substitution that makes two texts distinct: ``a`` in the first text where ``b`` is in the
    second (``field``: "title" or "text")."""

    field: str
    a: str
    b: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "a": self.a, "b": self.b}


def _key(word: str) -> str:
    word = unicodedata.normalize("NFKC", word).casefold().replace("’", "'")
    return word.replace(",", "") if _THOUSANDS.match(word) else word


def _raw(text: str) -> list[tuple[str, bool]]:
    """(word, starts a sentence) of a text, punctuation dropped."""
    out: list[tuple[str, bool]] = []
    initial = True
    for match in _TOKEN_RE.finditer(unicodedata.normalize("NFKC", text)):
        word = match.group()
        if word in _SENTENCE_END:
            initial = True
            continue
        out.append((word, initial))
        initial = False
        if len(out) >= MAX_WORDS:
            break
    return out


def _mid_sentence_capitals(raw: list[tuple[str, bool]]) -> set[str]:
    return {_key(w) for w, initial in raw if not initial and w[:1].isupper()}


def _kind(word: str, *, initial: bool, capitals: set[str]) -> Kind:
    key = _key(word)
    if any(c.isdigit() for c in word) or key in _NUMBER_WORDS:
        return "number"
    if word[:1].isupper() and key not in _NOT_NAMES and (not initial or key in capitals):
        return "name"
    return "word"


def tokens(text: str, *, capitals: set[str] | None = None) -> list[Token]:
    """The words of a text with their kind.  ``capitals``: keys of words known to be names (capitalised
    mid-sentence somewhere); by default, those of this text."""
    raw = _raw(text)
    known = _mid_sentence_capitals(raw) if capitals is None else capitals
    return [Token(_key(w), w, _kind(w, initial=i, capitals=known)) for w, i in raw]


def _title_tokens(title: str, *, capitals: set[str]) -> list[Token]:
    """A headline's words.  A title-case headline capitalises every word, so there a capitalised word is
    a name only when a body capitalises it mid-sentence too."""
    raw = _raw(title)
    letters = [w for w, _ in raw if w[:1].isalpha() and _key(w) not in _NOT_NAMES]
    title_case = bool(letters) and sum(w[:1].isupper() for w in letters) >= 0.6 * len(letters)
    out = []
    for word, initial in raw:
        kind = _kind(word, initial=initial or title_case, capitals=capitals)
        out.append(Token(_key(word), word, kind))
    return out


def _transposed(a: str, b: str) -> bool:
    """`b` is `a` with two neighbouring letters swapped (the commonest typo)."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def _spelling_of(a: Token, b: Token) -> bool:
    """`b` is `a` spelt otherwise: a name at least SPELLING_RATIO alike, or any word but a number with two
    neighbouring letters swapped (``fuor`` / ``four``, ``Veiw`` / ``View``).  A number is never a
    spelling of another: ``2034`` / ``2043`` may be two facts."""
    if (
        a.kind == b.kind == "name"
        and min(len(a.key), len(b.key)) >= 4
        and difflib.SequenceMatcher(None, a.key, b.key).ratio() >= SPELLING_RATIO
    ):
        return True
    has_digits = any(c.isdigit() for c in a.key + b.key)
    return not has_digits and _transposed(a.key, b.key)


def _alnum(slot: list[Token]) -> str:
    return "".join(c for t in slot for c in t.key if c.isalnum())


def _significant(side: list[Token], other: list[Token]) -> list[Token]:
    """The numbers and names of `side` that `other` does not have (nor another spelling of)."""
    left = list(other)
    out = []
    for token in side:
        if token.kind == "word":
            continue
        same = next((t for t in left if t.key == token.key or _spelling_of(token, t)), None)
        if same is None:
            out.append(token)
        else:
            left.remove(same)
    return out


@dataclass(frozen=True, slots=True)
class Comparison:
    """What differs between two articles: the conflicts (numbers or names substituted) and, for the
    record, how many body words only the first has, only the second has, and are replaced."""

    conflicts: tuple[Conflict, ...]
    only_a: int
    only_b: int
    replaced: int

    @property
    def distinct(self) -> bool:
        return bool(self.conflicts)

    def as_json(self) -> dict[str, object]:
        return {
            "conflicts": [c.as_json() for c in self.conflicts],
            "words_only_in_original": self.only_a,
            "words_only_in_article": self.only_b,
            "words_replaced": self.replaced,
        }


Opcode = tuple[str, int, int, int, int]


def _opcodes(a: list[Token], b: list[Token]) -> list[Opcode]:
    matcher = difflib.SequenceMatcher(None, [t.key for t in a], [t.key for t in b], autojunk=False)
    return [(tag, i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]


def _slots(ops: list[Opcode], *, min_context: int) -> list[tuple[int, int, int, int]]:
    """The template slots of an alignment: runs of changes (with shared runs shorter than
    `min_context` inside them: ``10 kilometres south-west`` / ``23 kilometres north``) that hold a
    substitution, at most MAX_SLOT_WORDS changed words a side, and are bounded on both sides by at least
    `min_context` shared words.  As (i1, i2, j1, j2)."""
    out: list[tuple[int, int, int, int]] = []
    index = 0
    while index < len(ops):
        tag, i1, _, j1, _ = ops[index]
        if tag == "equal":
            index += 1
            continue
        start = index
        while index + 1 < len(ops) and (
            ops[index + 1][0] != "equal"
            or (
                ops[index + 1][2] - ops[index + 1][1] < min_context
                and index + 2 < len(ops)
                and ops[index + 2][0] != "equal"
            )
        ):
            index += 1
        group = ops[start : index + 1]
        index += 1
        before = ops[start - 1] if start > 0 else None
        after = ops[index] if index < len(ops) else None
        bounded = (
            before is not None
            and before[2] - before[1] >= min_context
            and after is not None
            and after[2] - after[1] >= min_context
        )
        changed_a = sum(o[2] - o[1] for o in group if o[0] != "equal")
        changed_b = sum(o[4] - o[3] for o in group if o[0] != "equal")
        if bounded and any(o[0] == "replace" for o in group) and max(changed_a, changed_b) <= MAX_SLOT_WORDS:
            out.append((group[0][1], group[-1][2], group[0][3], group[-1][4]))
    return out


def _aligned_conflicts(
    a: list[Token],
    b: list[Token],
    *,
    field: str,
    min_context: int,
    ops: list[Opcode] | None = None,
) -> list[Conflict]:
    ops = _opcodes(a, b) if ops is None else ops
    out: list[Conflict] = []
    for i1, i2, j1, j2 in _slots(ops, min_context=min_context):
        slot_a, slot_b = a[i1:i2], b[j1:j2]
        if _alnum(slot_a) == _alnum(slot_b):  # spacing or punctuation only: "6-3" / "63", "Wi-Fi" / "WiFi"
            continue
        if _significant(slot_a, slot_b) or _significant(slot_b, slot_a):
            out.append(Conflict(field, " ".join(t.text for t in slot_a), " ".join(t.text for t in slot_b)))
    return out


def _title_conflicts(a: list[Token], b: list[Token]) -> list[Conflict]:
    """A title is short: one shared word on each side marks a slot, and so does a shared start or end
    (``M 5.2 - 10 km SW of Ridgecrest`` / ``M 4.7 - 23 km N of Anza``)."""
    edge = Token("\x00", "", "word")
    return _aligned_conflicts([edge, *a, edge], [edge, *b, edge], field="title", min_context=1)


def compare(*, title_a: str | None, text_a: str, title_b: str | None, text_b: str) -> Comparison:
    """What differs between article `a` (the stored one) and `b` (the one arriving)."""
    raw_a, raw_b = _raw(text_a), _raw(text_b)
    capitals = _mid_sentence_capitals(raw_a) | _mid_sentence_capitals(raw_b)
    found: list[Conflict] = []
    if title_a and title_b:
        found += _title_conflicts(
            _title_tokens(title_a, capitals=capitals), _title_tokens(title_b, capitals=capitals)
        )
    body_a = [Token(_key(w), w, _kind(w, initial=i, capitals=capitals)) for w, i in raw_a]
    body_b = [Token(_key(w), w, _kind(w, initial=i, capitals=capitals)) for w, i in raw_b]
    ops = _opcodes(body_a, body_b)
    found += _aligned_conflicts(body_a, body_b, field="text", min_context=MIN_CONTEXT_WORDS, ops=ops)
    only_a = sum(i2 - i1 for tag, i1, i2, _, _ in ops if tag == "delete")
    only_b = sum(j2 - j1 for tag, _, _, j1, j2 in ops if tag == "insert")
    replaced = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag == "replace")
    return Comparison(tuple(found[:MAX_REPORTED]), only_a, only_b, replaced)


def conflicts(*, title_a: str | None, text_a: str, title_b: str | None, text_b: str) -> list[Conflict]:
    """The substitutions of numbers or names between two articles (title and body), at most
    :data:`MAX_REPORTED`; empty when they may be one article."""
    return list(compare(title_a=title_a, text_a=text_a, title_b=title_b, text_b=text_b).conflicts)


def is_distinct(*, title_a: str | None, text_a: str, title_b: str | None, text_b: str) -> bool:
    """True when the two articles are different events (a number or a name substituted)."""
    return compare(title_a=title_a, text_a=text_a, title_b=title_b, text_b=text_b).distinct

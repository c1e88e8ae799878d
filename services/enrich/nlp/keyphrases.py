"""A few keyphrases per article: candidate phrases scored by term-frequency salience (pure, no model).

Runs of up to four content words lie between stop words (and frequent news verbs), punctuation and line
breaks (as RAKE splits text); every contiguous part of a run is a candidate.  A word's weight is how often
it occurs (a title occurrence counts :data:`TITLE_WEIGHT` times); a candidate scores the square root of how
often it occurs times the sum of its words' weights over the square root of its length, times
:data:`TITLE_BONUS` when it is in the title and :data:`LEAD_BONUS` when it first appears in the lead.
Phrases that repeat, join frequent words or are in the title win.  A phrase overlapping a better one (same
words, or one inside the other) is dropped.  Scores are relative: the best phrase scores 1.

Languages: English uses the stop words and news verbs below (and folds plurals and possessives); French,
Spanish, Dutch and German use spaCy's stop-word list of the language (``spacy.lang.<lang>.stop_words``),
words only lower-cased.  Other languages get no keyphrases.
"""

from __future__ import annotations

import importlib
import math
import re
from dataclasses import dataclass
from functools import cache

from .models import Keyphrase

MAX_KEYPHRASES = 5
MAX_WORDS = 4
TITLE_WEIGHT = 2.0
TITLE_BONUS = 1.5
LEAD_BONUS = 1.2
LEAD_CHARS = 400
#: Longest text read: enough for any article's salient phrases, bounded for pathological inputs.
MAX_CHARS = 100_000

_STOP_WORDS_TEXT = """
a about above after again against ago all almost also although always am among an and another any anyone
anything are around as at away back be became because become been before being below between both but by
can cannot could did do does doing done down during each either else even ever every few for from further
get gets got had has have having he her here hers herself him himself his how however i if in including into
is it its itself just last least less like made make many may me might more most much must my myself near
need never new next no nor not now of off often on once one only or other others our ours ourselves out over
own per perhaps put rather said same say says see seen several she should since so some still such take than
that the their theirs them themselves then there these they this those though three through thus to today
together told too two under until up upon us very via was we well were what whatever when where whether which
while who whom whose why will with within without would yes yet you your yours yourself yourselves
mr mrs ms dr according added asked called came come comes going gone just know later let lot lots mean means
much really seems set show shows thing things think time times told took want wants way ways week weeks
year years month months day days yesterday tomorrow monday tuesday wednesday thursday friday saturday sunday
people percent cent first second third something someone nearly once twice
"""
#: Frequent verbs of news prose (base forms): without a tagger these would join the phrases around them.
_NEWS_VERBS = """
accuse add agree announce appear ask beat become begin believe bring call claim climb close continue cut
decide deny drop end expect face fall find follow give grow help hit hold include increase keep launch lead
leave lift lose meet move offer open plan play praise raise reach receive remain report reveal rise run score
seek sell send sign speak spend start stay suggest support tell try turn urge use vote warn win work
"""
_IRREGULAR = """
beaten began begun brought spoke spoken chose fell found gave given grew grown held hit kept led left lost
met ran rose risen sold sent spent told won
"""


def _inflections(base: str) -> set[str]:
    stem = base[:-1] if base.endswith("e") else base
    third = base + "es" if base.endswith(("s", "sh", "ch", "x")) else base + "s"
    return {base, third, stem + "ed", stem + "ing"}


STOP_WORDS = frozenset(
    _STOP_WORDS_TEXT.split()
    + _IRREGULAR.split()
    + [form for base in _NEWS_VERBS.split() for form in _inflections(base)]
)

#: Languages with keyphrases besides English (spaCy's stop words of each).
OTHER_LANGUAGES = ("fr", "es", "nl", "de")


@cache
def stop_words(language: str) -> frozenset[str] | None:
    """The stop words of ``language`` (``None``: no keyphrases in that language)."""
    if language == "en":
        return STOP_WORDS
    if language not in OTHER_LANGUAGES:
        return None
    module = importlib.import_module(f"spacy.lang.{language}.stop_words")
    return frozenset(word.lower() for word in module.STOP_WORDS)


#: An abbreviation with its dots ("U.S."), or a word (inner hyphens, apostrophes and dots allowed).
_WORD_RE = re.compile(r"(?:[^\W\d_]\.){2,}|[^\W\d_][\w'’.-]*[^\W_]|[^\W\d_]", re.UNICODE)
_BREAK_RE = re.compile(r"[\n\r\t,;:!?()\[\]{}\"“”«»|/]|(?<![.\s][^\W\d_])[.](?:\s|$)|\s[-–—]\s")


def _normal(word: str, *, english: bool = True) -> str:
    word = word.lower().replace("’", "'")
    if not english:
        return word
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return word


@dataclass
class _Candidate:
    surface: str
    words: tuple[str, ...]
    count: float = 0.0
    in_title: bool = False
    first_offset: int | None = None


def _runs(
    text: str, *, stops: frozenset[str] = STOP_WORDS, english: bool = True
) -> list[tuple[int, list[tuple[str, int, int]]]]:
    """``(offset, [(normalised word, start, end), ...])`` of every run of content words in ``text``."""
    runs: list[tuple[int, list[tuple[str, int, int]]]] = []
    starts = [0, *(m.end() for m in _BREAK_RE.finditer(text))]
    ends = [*(m.start() for m in _BREAK_RE.finditer(text)), len(text)]
    for position, end in zip(starts, ends, strict=True):
        segment = text[position:end]
        run: list[tuple[str, int, int]] = []
        for match in [*_WORD_RE.finditer(segment), None]:
            word = match.group().lower() if match else ""
            content = match is not None and word not in stops and len(word) > 1
            if content and match is not None and len(run) < MAX_WORDS:
                run.append(
                    (
                        _normal(match.group(), english=english),
                        position + match.start(),
                        position + match.end(),
                    )
                )
                continue
            if run and any(len(w) > 2 for w, _, _ in run):
                runs.append((run[0][1], run))
            run = (
                [(_normal(match.group(), english=english), position + match.start(), position + match.end())]
                if content and match
                else []
            )
    return runs


def extract_keyphrases(
    title: str | None, text: str, *, limit: int = MAX_KEYPHRASES, language: str = "en"
) -> tuple[Keyphrase, ...]:
    """The ``limit`` most salient phrases of ``title`` + ``text`` in ``language``, best first (empty when
    there is none, or when the language has no stop-word list)."""
    stops = stop_words(language)
    if stops is None:
        return ()
    candidates: dict[tuple[str, ...], _Candidate] = {}
    word_weight: dict[str, float] = {}
    body = text[:MAX_CHARS]
    for source, weight, in_title in ((title or "", TITLE_WEIGHT, True), (body, 1.0, False)):
        for _, run in _runs(source, stops=stops, english=language == "en"):
            for word, _, _ in run:
                word_weight[word] = word_weight.get(word, 0.0) + weight
            # every contiguous part of the run is a candidate: "trade deficit" out of "trade deficit widens"
            for i in range(len(run)):
                for j in range(i + 1, len(run) + 1):
                    words = tuple(w for w, _, _ in run[i:j])
                    if not any(len(w) > 2 for w in words):
                        continue
                    surface = source[run[i][1] : run[j - 1][2]]
                    candidate = candidates.setdefault(words, _Candidate(surface=surface, words=words))
                    candidate.count += weight
                    if in_title:
                        candidate.in_title = True
                    elif candidate.first_offset is None:
                        candidate.first_offset = run[i][1]
    if not candidates:
        return ()

    def score(candidate: _Candidate) -> float:
        words = candidate.words
        value = math.sqrt(candidate.count) * sum(word_weight[w] for w in words) / math.sqrt(len(words))
        if candidate.in_title:
            value *= TITLE_BONUS
        if candidate.first_offset is not None and candidate.first_offset < LEAD_CHARS:
            value *= LEAD_BONUS
        return value

    ranked = sorted(candidates.values(), key=lambda c: (-score(c), c.surface.lower()))
    chosen: list[_Candidate] = []
    for candidate in ranked:
        own = set(candidate.words)
        if any(own <= set(c.words) or set(c.words) <= own for c in chosen):
            continue
        chosen.append(candidate)
        if len(chosen) == limit:
            break
    best = score(chosen[0])
    return tuple(Keyphrase(phrase=c.surface, score=round(score(c) / best, 4)) for c in chosen)

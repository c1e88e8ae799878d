"""Plain-text cleaning: tell an article's body from the web junk scraped along with it.

The input is text scraped from a news page: the body plus navigation, captions, newsletter prompts,
share/comment widgets, teaser lists and footers.  Every line (or re-joined paragraph, for hard-wrapped
input) becomes a *unit*; each unit is scored on its shape (length, terminal punctuation, stop-word
density, title case), on call-to-action and footer vocabulary, on photo-credit patterns and on
repetition, then decided in context (a short line between two body paragraphs is a subhead; a run
of short title-case lines is a teaser list; what follows an end-of-article marker is page furniture).
Metadata lines at the top (title, date, byline) are lifted into fields.  Text without line structure
(:func:`is_flattened`) is cut into sentences, classified the same way; then a readers' comments section
is cut at its comment signatures and only the article's main block of sentences is kept (teasers of other
stories read like prose, but each comes after a headline).

All functions are pure; nothing here touches the network, a database or the file system.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from dateutil import parser as _dateparser

from .models import RemovedPiece

__all__ = [
    "LineDecision",
    "TextCleaningResult",
    "clean_plain_text",
    "explain_text",
    "line_hash",
    "normalise_text",
    "parse_byline",
    "parse_date",
    "split_authors",
]


@dataclass(frozen=True, slots=True)
class LineDecision:
    """Why one line (or re-joined paragraph) of the input was kept or dropped.

    ``score`` is the body-likeness score: positive looks like article prose, negative like junk.
    ``reason`` is ``"body"`` / ``"subhead"`` for kept lines, ``"title"`` for a lifted title, else one
    of the :data:`~services.ingest.cleaning.models.REASONS`.
    """

    line: str
    kept: bool
    reason: str
    score: float


@dataclass(frozen=True, slots=True)
class TextCleaningResult:
    """Everything the plain-text cleaner found."""

    paragraphs: list[str]
    title: str | None
    published_at: datetime | None
    modified_at: datetime | None
    authors: list[str]
    removed: list[RemovedPiece]
    decisions: list[LineDecision]
    line_hashes: list[str] = field(default_factory=list)  # of the input's short lines, see line_hash
    #: cleaning would have kept less than :data:`FALLBACK_SHARE` of the input's words: the input's units
    #: are kept whole (metadata lines still lifted) rather than an empty or near-empty body
    fallback: bool = False
    #: the input had no line structure and was cut into sentences (see :func:`is_flattened`)
    flattened: bool = False

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


# --------------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------------

_ZERO_WIDTH_RE: Final = re.compile("[\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff\u00ad]")
_SPACES_RE: Final = re.compile(r"[^\S\n]+")  # any whitespace except newline


def normalise_text(text: str) -> str:
    """NFC, no zero-width characters, unicode spaces as plain spaces, ``\\n`` line ends, lines stripped."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = text.replace("\f", "\n").replace("\v", "\n")
    text = _ZERO_WIDTH_RE.sub("", text)
    text = _SPACES_RE.sub(" ", text)
    return "\n".join(line.strip() for line in text.split("\n"))


# --------------------------------------------------------------------------------------------------
# Lexical helpers
# --------------------------------------------------------------------------------------------------

STOP_WORDS: Final[frozenset[str]] = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "said",
        "says",
        "say",
        "may",
        "might",
        "must",
        "one",
        "two",
        "us",
        "been",
        "being",
        "she's",
        "he's",
        "it's",
        "they're",
        "we're",
        "i'm",
        "don't",
        "didn't",
        "doesn't",
        "isn't",
        "wasn't",
        "aren't",
        "weren't",
        "won't",
        "can't",
        "within",
        "without",
        "across",
        "among",
        "however",
        "although",
        "though",
        "since",
        "still",
        "even",
        "yet",
        "already",
        "last",
        "next",
    ]
)

_WORD_RE: Final = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_TERMINAL_RE: Final = re.compile(r"[.!?…。！？][\"'”’»)\]」』）]*$")
_CJK_RE: Final = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_HAS_ALNUM_RE: Final = re.compile(r"\w")


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text)


def _word_count(words: list[str]) -> int:
    """How many words ``words`` holds; scripts written without spaces: about two characters a word."""
    return sum(max(1, len(w) // 2) if _CJK_RE.search(w) else 1 for w in words)


def _stop_density(words: list[str]) -> float:
    if not words:
        return 0.0
    return sum(1 for w in words if w.lower().replace("’", "'") in STOP_WORDS) / len(words)


def _title_ratio(words: list[str]) -> float:
    content = [w for w in words if w.lower() not in STOP_WORDS]
    if not content:
        return 0.0
    return sum(1 for w in content if w[0].isupper()) / len(content)


def _key(text: str) -> str:
    """A comparison key: case-folded alphanumerics only."""
    return " ".join(re.findall(r"\w+", text.casefold()))


#: Lines longer than this are prose: never learned as boilerplate of a source.
MAX_LEARNED_WORDS: Final = 40
_MAX_HASHES: Final = 300


def line_hash(line: str) -> str | None:
    """A short, stable hash of a line's comparison key (case, spacing, punctuation and digits ignored);
    None for lines too long (or too empty) to be learned as a source's boilerplate."""
    key = re.sub(r"\d+", "0", _key(line))
    if not key or key.count(" ") + 1 > MAX_LEARNED_WORDS:
        return None
    return hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest()


def line_hashes(lines: list[str]) -> list[str]:
    """Distinct hashes of the short lines among ``lines``, in order (at most a few hundred)."""
    out: dict[str, None] = {}
    for line in lines:
        h = line_hash(line)
        if h is not None:
            out[h] = None
            if len(out) >= _MAX_HASHES:
                break
    return list(out)


# --------------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------------

_MONTH: Final = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY: Final = (
    r"(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tues?|wed|thur?s?|fri|sat|sun)\.?,?\s+)"
)
_TZ_NAMES: Final[dict[str, int]] = {  # offsets in minutes
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "BST": 60, "IST": 60, "CET": 60, "CEST": 120, "WEST": 60,
    "EET": 120, "EEST": 180, "MSK": 180, "PKT": 300, "JST": 540, "KST": 540, "HKT": 480, "SGT": 480,
    "AEST": 600, "AEDT": 660, "NZST": 720, "NZDT": 780,
    "EST": -300, "EDT": -240, "CST": -360, "CDT": -300, "MST": -420, "MDT": -360, "PST": -480,
    "PDT": -420, "AKST": -540, "AKDT": -480, "HST": -600, "ET": -300, "PT": -480,
}  # fmt: skip
_TZ: Final = "(?:" + "|".join(sorted(_TZ_NAMES, key=len, reverse=True)) + r")(?:[+-]\d{1,2}(?::?\d{2})?)?"
_TIME: Final = (
    r"(?:(?:\s*,?\s*(?:at\s+|-\s*|–\s*|—\s*|\|\s*)?)\d{1,2}[:.]\d{2}(?::\d{2})?"
    r"(?:\s*[ap]\.?\s?m\.?)?(?:\s*\(?" + _TZ + r"\)?)?(?![\w:]))?"
)
_DATE_CORE: Final = (
    r"(?:\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    r"|\d{4}/\d{1,2}/\d{1,2}|\d{1,2}/\d{1,2}/\d{4}|\d{1,2}\.\d{1,2}\.\d{4})"
)
_MODIFIED_LABEL_RE: Final = re.compile(r"updated|modified|edited|revised", re.I)
_DATE_PREFIX_RE: Final = re.compile(
    r"^\s*(?:(?P<label>(?:first\s+)?published|posted|created|dated?|updated|last[\s-]+(?:modified|updated)"
    r"|modified|edited|revised|this\s+(?:article|story|page)\s+was\s+(?:last\s+)?"
    r"(?:updated|modified|published|posted))(?:\s+(?:on|at))?\s*[:\-–|]?\s*)?"
    rf"(?P<date>{_WEEKDAY}?{_DATE_CORE}{_TIME})",
    re.I,
)
_DATE_SEPARATORS: Final = " |-–—·•,:;/"


def parse_date(value: str) -> datetime | None:
    """Parse a date string (ISO or a written-out form); a naive result is taken as UTC."""
    s = value.strip().strip(_DATE_SEPARATORS + "()[]")
    if not s:
        return None
    s = re.sub(r"\b([ap])\.\s?m\.?", r"\1m", s, flags=re.I)
    if ":" not in s:  # "10.30 BST" -> "10:30 BST"; leave "21.10.2011" alone
        s = re.sub(r"(?<![\d.])(\d{1,2})\.(\d{2})(?![\d.])", r"\1:\2", s)
    s = re.sub(r"\bat\b", " ", s, flags=re.I)
    s = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", s)
    dayfirst = bool(re.match(r"^\d{1,2}[./]\d{1,2}[./]\d{4}", s)) and int(re.split(r"[./]", s)[0]) > 12
    if re.match(r"^\d{1,2}\.\d{1,2}\.\d{4}", s):
        dayfirst = True
    tzinfos = {name: minutes * 60 for name, minutes in _TZ_NAMES.items()}
    try:
        parsed = _dateparser.parse(s, fuzzy=True, dayfirst=dayfirst, tzinfos=tzinfos)
    except (ValueError, OverflowError, TypeError):
        return None
    if not isinstance(parsed, datetime):
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=UTC)
    elif parsed.utcoffset() == timedelta(0) and parsed.tzinfo is not UTC:
        parsed = parsed.astimezone(UTC)
    else:
        offset = parsed.utcoffset()
        assert offset is not None
        parsed = parsed.astimezone(timezone(offset))
    if not 1900 <= parsed.year <= 2100:
        return None
    return parsed


@dataclass(frozen=True, slots=True)
class _DateHit:
    date: datetime
    modified: bool
    prefix: str  # the matched text, label included
    rest: str  # what follows on the line


def _match_date_prefix(line: str) -> _DateHit | None:
    m = _DATE_PREFIX_RE.match(line)
    if m is None:
        return None
    parsed = parse_date(m.group("date"))
    if parsed is None:
        return None
    label = m.group("label") or ""
    rest = line[m.end() :].lstrip(_DATE_SEPARATORS)
    return _DateHit(parsed, bool(_MODIFIED_LABEL_RE.search(label)), line[: m.end()].strip(), rest)


# --------------------------------------------------------------------------------------------------
# Authors
# --------------------------------------------------------------------------------------------------

_NAME_PARTICLES: Final = frozenset(
    [
        "de",
        "da",
        "di",
        "du",
        "del",
        "della",
        "der",
        "den",
        "van",
        "von",
        "la",
        "le",
        "al",
        "el",
        "bin",
        "ibn",
        "ben",
        "dos",
        "das",
        "y",
        "st.",
        "st",
        "mc",
    ]
)
_NOT_A_NAME: Final = re.compile(
    r"\b(?:reuters|associated|press|news|agency|agencies|staff|writer|reporter|correspondent|editor|"
    r"times|post|journal|bureau|service|desk|team|online|media|daily|weekly|herald|tribune|guardian|"
    r"afp|ap|upi|dpa|efe|bbc|cnn|contributor|columnist|photographer|senior|chief|political|updated|"
    r"published|min|read|and|in|for|the|of)\b",
    re.I,
)


def _looks_like_name(candidate: str) -> bool:
    tokens = candidate.split()
    if not 2 <= len(tokens) <= 5 or len(candidate) > 60:
        return False
    if _NOT_A_NAME.search(candidate):
        return False
    for tok in tokens:
        if tok.lower() in _NAME_PARTICLES:
            continue
        if not tok[0].isupper() or not re.fullmatch(r"[^\W\d_][\w.'’\-]*", tok):
            return False
    return True


def _tidy_name(name: str) -> str:
    name = re.sub(r"\s+", " ", name).strip(" .,;:|-–—")
    if name.isupper():
        name = name.title()
    return name


def split_authors(value: str) -> list[str]:
    """Split ``"A; B"`` / ``"A, B and C"`` / ``"A & B"`` into names (order kept, no duplicates)."""
    out: list[str] = []
    for part in re.split(r"\s*(?:;|,|\||&|\band\b|\bund\b|\bet\b)\s*", value.strip()):
        name = _tidy_name(part)
        if name and name.casefold() not in {n.casefold() for n in out}:
            out.append(name)
    return out


_BYLINE_RE: Final = re.compile(
    r"^\s*(?:written\s+|words\s+|report(?:ed)?\s+|story\s+)?by\s*:?\s+(?P<rest>\S.*)$", re.I
)


def parse_byline(line: str) -> tuple[list[str], datetime | None] | None:
    """``"By Jane Doe and John Roe, Reuters | 21 Oct 2011"`` -> (names, date); None if not a byline."""
    m = _BYLINE_RE.match(line)
    if m is None or len(_words(line)) > 20:
        return None
    names: list[str] = []
    date: datetime | None = None
    segments = re.split(r"\s+(?:\||•|·|-|–|—)\s+|\s*\|\s*", m.group("rest"))
    for index, segment in enumerate(segments):
        segment = segment.strip()
        if not segment:
            continue
        hit = _match_date_prefix(segment)
        if hit is not None:
            date = date or hit.date
            continue
        if index > 0 and names:
            continue  # role / agency / reading time after the names
        for comma_part in re.split(r"\s*[,;]\s*", segment):
            part_names = [_tidy_name(n) for n in re.split(r"\s+(?:and|&)\s+", comma_part)]
            good = [n for n in part_names if _looks_like_name(n)]
            if good and len(good) == len(part_names):
                names.extend(n for n in good if n not in names)
            elif not names:
                return None
    if not names:
        return None
    return names, date


_BIO_RE: Final = re.compile(
    r"^(?P<name>[A-Z][\w.'’\-]+(?:\s+[A-Z][\w.'’\-]+){1,3})\s+(?:is|was|has\s+been)\s+(?:a|an|the)\s+"
    r"(?:[\w\-’']+\s+){0,5}?(?:writer|reporter|correspondent|editor|columnist|journalist|contributor|"
    r"producer|author|analyst|photographer|bureau\s+chief)\b"
)

# --------------------------------------------------------------------------------------------------
# Junk vocabulary
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Cue:
    reason: str
    pattern: re.Pattern[str]
    weight: float  # strong cues (>= 3) mark a short line as junk on their own


def _cue(reason: str, pattern: str, weight: float) -> _Cue:
    return _Cue(reason, re.compile(pattern, re.I), weight)


_CUES: Final[tuple[_Cue, ...]] = (
    # newsletter / subscription prompts
    _cue("newsletter_prompt", r"\bnewsletters?\b", 3.0),
    _cue("newsletter_prompt", r"\bsign(?:ed|ing)?[ -]?up\b", 2.0),
    _cue("newsletter_prompt", r"\bsubscri(?:be|bed|bing|ption|ptions|ber|bers)\b", 2.0),
    _cue("newsletter_prompt", r"\binbox\b|\bdelivered (?:straight |directly )?to your\b", 3.0),
    _cue("newsletter_prompt", r"\b(?:enter|valid|your) (?:a |your )?(?:valid )?e-?mail(?: address)?\b", 3.0),
    _cue("newsletter_prompt", r"\be-?mail (?:updates|alerts|address)\b|\breceive e-?mails?\b", 3.0),
    _cue("newsletter_prompt", r"\bthank(?:s| you) for (?:signing|subscribing|registering)\b", 3.0),
    _cue("newsletter_prompt", r"\bget (?:the|our) (?:latest|best)\b|\bdon'?t miss (?:out|a)\b", 1.5),
    # share widgets
    _cue(
        "share_widget",
        r"^share\b|\bshare (?:this|on|via|with your|the article|the story"
        r"|article|story)\b",
        3.0,
    ),
    _cue("share_widget", r"\b(?:tweet|retweet|pin it|email this|print this|copy (?:the )?link)\b", 2.5),
    _cue("share_widget", r"\bfollow us\b|\blike us on\b|\bfollow (?:him|her|them|me) on\b", 3.0),
    _cue(
        "share_widget",
        r"\b(?:facebook|twitter|whatsapp|linkedin|pinterest|reddit|telegram"
        r"|messenger)\b",
        1.0,
    ),
    # comment widgets
    _cue("comment_widget", r"\b(?:show|view|read|load|leave|post|add|hide|see|all|\d+) comments?\b", 3.0),
    _cue("comment_widget", r"^comments?\b|\bcomments? (?:are|is) (?:closed|disabled)\b", 3.0),
    _cue(
        "comment_widget",
        r"\bjoin the (?:conversation|discussion|debate)\b"
        r"|\bcomment(?:ing)? (?:policy|rules)\b",
        3.0,
    ),
    _cue("comment_widget", r"\bcommunity guidelines\b|\bbe the first to comment\b", 3.0),
    # advertisements
    _cue("advertisement", r"^(?:advertisement|advert|ad|sponsored|promoted|paid (?:post|content))\b", 3.0),
    _cue("advertisement", r"\badvertis(?:e|ement|ements|ing)\b|\bsponsored (?:content|by|links?)\b", 2.5),
    _cue(
        "advertisement",
        r"\b(?:story|article) continues (?:below|after)\b"
        r"|\bcontinue reading (?:below|the)\b",
        3.0,
    ),
    _cue("advertisement", r"\bad ?choices\b|\bpartner content\b", 3.0),
    # related links / teasers
    _cue("related_links", r"\bread (?:more|next|also|the full)\b|\balso read\b|\bsee also\b", 3.0),
    _cue("related_links", r"^(?:more|latest|top|other) (?:from|on|in|stories|news|headlines|videos?)\b", 3.0),
    _cue("related_links", r"\bmore (?:from|on this|stories)\b", 2.0),
    _cue(
        "related_links",
        r"^related\b|\brelated (?:articles?|stories|content|coverage|topics"
        r"|links|news|posts?)\b",
        3.0,
    ),
    _cue("related_links", r"\bmost (?:read|popular|viewed|shared|emailed|watched)\b", 3.0),
    _cue("related_links", r"\byou (?:might|may|will) (?:also )?(?:like|enjoy|be interested)\b", 3.0),
    _cue(
        "related_links",
        r"\brecommended(?: for you| stories| reading)?\b|\btrending\b"
        r"|\bwhat to read next\b",
        2.0,
    ),
    _cue("related_links", r"^featured\b|\bfeatured (?:on|stories|articles|content)\b", 3.0),
    _cue(
        "related_links",
        r"\btopics? in this (?:article|story)\b|^tags?\s*:|^topics?\s*:"
        r"|^filed under\b",
        3.0,
    ),
    # footers
    _cue("footer", r"©|\(c\)\s*(?:19|20)\d\d|\bcopyright\b", 3.0),
    _cue("footer", r"\ball rights reserved\b", 4.0),
    _cue("footer", r"\bprivacy (?:policy|notice|settings|statement)\b", 3.0),
    _cue("footer", r"\bterms (?:of|and) (?:use|service|conditions)\b|\bterms & conditions\b", 3.0),
    _cue("footer", r"\bcontact us\b|\babout us\b|\bsite ?map\b|\bwork (?:with|for) us\b", 2.5),
    _cue("footer", r"\bcookies?\b(?: (?:policy|settings|preferences|notice))?", 1.5),
    # cookie and consent banners
    _cue(
        "cookie_notice",
        r"\b(?:we|this (?:web)?site|our (?:web)?site|it) uses? cookies\b"
        r"|\b(?:accept|allow|reject|manage) (?:all )?cookies\b|\buse of cookies\b"
        r"|\bby (?:continuing|using|clicking|browsing)\b[^.!?]{0,80}\b(?:agree|consent|accept)",
        3.0,
    ),
    _cue("footer", r"\bpowered by\b|\baccessibility statement\b|\bmanage (?:your )?preferences\b", 2.5),
    # navigation
    _cue(
        "navigation",
        r"^(?:home|menu|search|log ?in|log ?out|sign ?in|register|sections?|close|open|"
        r"back to top|next|previous|prev|main menu|skip|more|watch|listen|live|video|videos|photos|"
        r"latest|world|sport|business|politics|opinion|culture|breaking news|top stories)$",
        3.0,
    ),
    _cue(
        "navigation",
        r"\bskip to (?:main )?(?:content|navigation)\b|\baccessibility links\b"
        r"|\bjump to\b",
        3.0,
    ),
    _cue(
        "navigation",
        r"\b(?:\d+ )?min(?:ute)?s? read\b|\breading time\b|\blisten to (?:this"
        r"|the) (?:article|story)\b",
        2.5,
    ),
    # generic calls to action
    _cue(
        "other",
        r"\bclick here\b|\btap here\b|\bfind out more\b|\blearn more\b"
        r"|\bdownload (?:our|the) app\b",
        2.5,
    ),
)

_STRONG_CAPTION_RES: Final[tuple[re.Pattern[str], ...]] = tuple(
    re.compile(p, re.I)
    for p in (
        r"^(?:image|images|photo|photos|photograph|picture|pic|caption|credit|illustration|graphic|gallery|"
        r"video|media caption|image caption|image copyright|image source|photo credit)\s*[:|/]",
        r"\((?:[^()]{0,40}/)?\s*(?:AP|AFP|Reuters|EPA(?:-EFE)?|Getty(?: Images)?|PA|Xinhua)"
        r"(?: (?:Photo|Images?|Wire))?(?:/[^()]{0,40})?\)",
        r"(?:/|\||\bvia\b)\s*(?:Getty(?: Images)?|AFP|Reuters|AP|EPA(?:-EFE)?|Shutterstock|Alamy|PA(?: Wire)?"
        r"|Bloomberg|Xinhua|Anadolu)\s*\)?\s*$",
        r"\b(?:Getty Images|Shutterstock|Alamy(?: Stock Photo)?|PA Wire|AFP via Getty|EPA-EFE|AP Photo)\b",
        r"(?<=\S)\s*\[(?:[A-Z][\w/&.' -]{1,40})\]\s*$",
        r"\((?:\d(?:st|nd|rd|th)\s+[LR]|(?:\d(?:st|nd|rd|th)\s+)?(?:centre|center|top|bottom|front|back|rear)"
        r"(?:\s*(?:L|R|left|right))?|left|right|far left|far right)\)",
        r"^\W*(?:\d+x\d+\s+)?(?:image|photo|video|graphic|gallery)s?\W*$",
        r"\b(?:photograph|photo|picture|image)(?:s)? (?:by|courtesy|credit|copyright)\b",
    )
)
_WEAK_CAPTION_RES: Final[tuple[re.Pattern[str], ...]] = tuple(
    re.compile(p, re.I)
    for p in (
        r"\b(?:pictured|seen here|file photo|file picture|in this (?:file )?(?:photo|picture|image)|"
        r"photo taken|poses? for (?:a )?(?:photo|picture)s?|photographed)\b",
        r"\([LRC]\)",
    )
)

_END_MARKER_RE: Final = re.compile(
    r"^\(?(?:with )?(?:additional |further )?(?:reporting|writing|editing|research|compiled|produced) by\b"
    r"|^(?:source|sources|via|credit)\s*:"
    r"|^\(?(?:editing|reporting) by\b",
    re.I,
)
_STRONG_END_REASONS: Final = frozenset({"footer", "byline"})


def _caption_signal(text: str) -> int:
    """2 for a strong photo-caption/credit pattern, 1 for a weak one, 0 for none."""
    if any(p.search(text) for p in _STRONG_CAPTION_RES):
        return 2
    return 1 if any(p.search(text) for p in _WEAK_CAPTION_RES) else 0


def _cue_hits(text: str) -> dict[str, float]:
    hits: dict[str, float] = {}
    for cue in _CUES:
        if cue.pattern.search(text):
            hits[cue.reason] = hits.get(cue.reason, 0.0) + cue.weight
    return hits


# --------------------------------------------------------------------------------------------------
# Segmentation
# --------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Unit:
    text: str
    block_size: int  # units in the blank-line-separated block this one came from
    words: list[str] = field(default_factory=list)
    label: str = "?"  # "good", "bad", "short", "meta" (lifted), "keep"
    reason: str = ""
    cue: str = ""  # the strongest junk-vocabulary category seen in the text, if any
    score: float = 0.0

    @property
    def n_words(self) -> int:
        return _word_count(self.words)


def _is_hard_wrapped(blocks: list[list[str]]) -> tuple[bool, int]:
    """Blank-line separated paragraphs whose lines were wrapped at a fixed width?"""
    multi = [b for b in blocks if len(b) >= 2]
    if not multi:
        return False, 0
    lengths = sorted(len(line) for b in blocks for line in b)
    width = lengths[min(len(lengths) - 1, int(len(lengths) * 0.95))]
    if not 30 <= width <= 110:
        return False, 0
    wrapped_blocks = 0
    for block in multi:
        inner = block[:-1]
        if all(_wrap_continues(a, b, width) for a, b in zip(block, block[1:], strict=False)) and any(
            not _TERMINAL_RE.search(x) for x in inner
        ):
            wrapped_blocks += 1
    return wrapped_blocks >= max(1, len(multi) / 2), width


def _wrap_continues(line: str, next_line: str, width: int) -> bool:
    """Was ``line`` broken only because the next word did not fit in ``width`` columns?"""
    if re.match(r"^(?:[-*•·]|\d+[.)])\s", next_line):
        return False
    next_word = next_line.split(" ", 1)[0]
    return len(line) + 1 + len(next_word) > 0.9 * width


#: A line of at least this many words holding at least :data:`_FLAT_SHARE` of the input's words means the
#: input lost its line structure (RSS descriptions, JSON fields, text copied out of a page): its long lines
#: are cut into sentences, which are classified as lines are.
_FLAT_MIN_WORDS: Final = 80
_FLAT_SHARE: Final = 0.5
#: Lines of a flattened input longer than this many words are cut into sentences.
_FLAT_SPLIT_WORDS: Final = 60
#: A sentence ends at . ! ? … (closing quotes/brackets allowed) before a space and a word that starts with a
#: capital, a digit or a letter of a script without case (Hangul, CJK, Arabic, Thai...), or at 。！？ (no
#: space needed); not after an initial, a one-letter word or a common abbreviation.
_SENTENCE_END_RE: Final = re.compile(
    r"(?:(?<=[.!?…])[\"'”’»)\]]*(?=\s)|(?<=[。！？])[」』）\"”’]*)\s*(?=[\"'“‘«(\[「『]?(?P<next>\w))"
)
_ABBREVIATION_RE: Final = re.compile(
    r"(?:\b(?:[A-Za-z]|Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Mt|Gen|Gov|Sen|Rep|Rev|Col|Lt|Sgt|Capt|Cmdr|Adm|Maj|Pres|"
    r"Inc|Ltd|Co|Corp|vs|No|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|U\.S|U\.K|U\.N|"
    r"e\.g|i\.e|etc|approx|est|Ft|Ave|Blvd|Rd)\.)[\"'”’»)\]]*$"
)
#: Sentences of a flattened line shorter than this many words join the next one (headline fragments,
#: "No." and the like).
_SENTENCE_MIN_WORDS: Final = 3


def split_sentences(text: str) -> list[str]:
    """``text`` cut into sentences (rule-based: terminal punctuation before a capitalised word, not after an
    abbreviation or an initial); the pieces joined by single spaces give back ``text``'s words."""
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(text):
        if match.group("next").islower() or match.group("next") == "_":
            continue
        candidate = text[start : match.end()]
        if _ABBREVIATION_RE.search(candidate.rstrip()):
            continue
        pieces.append(candidate.strip())
        start = match.end()
    pieces.append(text[start:].strip())
    sentences: list[str] = []
    for piece in pieces:
        if not piece:
            continue
        if sentences and _word_count(_words(sentences[-1])) < _SENTENCE_MIN_WORDS:
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


#: A run of at least this many capitalised (or non-word) tokens inside a flattened sentence is a menu, a
#: headline list or a byline block glued to the prose: it becomes a unit of its own.
_MENU_RUN_TOKENS: Final = 6


def _menuish(token: str) -> bool:
    first = next((c for c in token if c.isalnum()), "")
    return not first or first.isupper() or first.isdigit()


def split_menu_runs(sentence: str) -> list[str]:
    """``sentence`` with every run of :data:`_MENU_RUN_TOKENS` or more capitalised / non-word tokens cut out
    as a piece of its own (title-case menus and teaser headlines glued to prose when the lines were lost);
    a run that reaches the sentence's end keeps its last token with the sentence when that ends in
    terminal punctuation."""
    tokens = sentence.split(" ")
    if len(tokens) < _MENU_RUN_TOKENS:
        return [sentence]
    pieces: list[list[str]] = []
    current: list[str] = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if token and _menuish(token):
            run.append(token)
            continue
        if len(run) >= _MENU_RUN_TOKENS:
            if current:
                pieces.append(current)
            # the run's last capitalised word usually starts the prose that follows ("... Sports The")
            keep_with_next = 1 if token else 0
            pieces.append(run[: len(run) - keep_with_next])
            current = run[len(run) - keep_with_next :]
        else:
            current.extend(run)
        run = []
        if token:
            current.append(token)
    if current:
        pieces.append(current)
    return [" ".join(piece) for piece in pieces if piece]


def is_flattened(lines: list[str]) -> bool:
    """Has the input lost its line structure: one line holds most of a long input's words?"""
    counts = [len(line.split()) for line in lines]
    total = sum(counts)
    longest = max(counts, default=0)
    return longest >= _FLAT_MIN_WORDS and longest >= _FLAT_SHARE * total


def _segment(text: str) -> list[_Unit]:
    lines = text.split("\n")
    if is_flattened(lines):
        units: list[_Unit] = []
        for line in lines:
            if not line:
                continue
            if len(line.split()) < _FLAT_SPLIT_WORDS:
                units.append(_Unit(line, 1, _words(line)))
                continue
            for sentence in split_sentences(line):
                units.extend(_Unit(piece, 1, _words(piece)) for piece in split_menu_runs(sentence))
        return units
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text.split("\n"):
        if line:
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    wrapped, width = _is_hard_wrapped(blocks)
    units = []
    for block in blocks:
        texts: list[str] = []
        if wrapped:
            para = ""
            for index, line in enumerate(block):
                if para:
                    para = para + line if para.endswith("-") and para[-2:-1].isalpha() else para + " " + line
                else:
                    para = line
                if index + 1 == len(block) or not _wrap_continues(line, block[index + 1], width):
                    texts.append(para)
                    para = ""
        else:
            texts = list(block)
        units.extend(_Unit(t, len(texts), _words(t)) for t in texts)
    return units


# --------------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------------

_GOOD: Final = 1.5
_TOP_REGION: Final = 10


def _shape_score(unit: _Unit, english: bool = True) -> float:
    """Body-likeness from shape alone: long, sentence-like, stop-word-dense prose scores high.

    Stop-word density only counts for English text; elsewhere length and punctuation decide."""
    n = unit.n_words
    if n == 0:
        return -5.0
    terminal = bool(_TERMINAL_RE.search(unit.text))
    score = min(n, 30) / 30 * 2.0
    score += 1.0 if terminal else -1.0
    score += (_stop_density(unit.words) - 0.2) * 5.0 if english else (0.5 if n >= 12 else -0.5)
    if n <= 3:
        score -= 1.0
    if not terminal and n >= 3 and _title_ratio(unit.words) > 0.7:
        score -= 1.0
    if unit.text.endswith(":"):
        score -= 0.5
    return round(score, 3)


#: In flattened text, the first copy of a repeated sentence of prose of at least this many words is kept.
_REPEATED_PROSE_WORDS: Final = 8


def _damping(n_words: int) -> float:
    """Junk cues weigh less on long prose (a paragraph that mentions 'share' is still body)."""
    if n_words <= 12:
        return 1.0
    if n_words <= 25:
        return 0.6
    return 0.25


def _is_headline(unit: _Unit) -> bool:
    n = unit.n_words
    if not 3 <= n <= 25 or len(unit.text) > 200:
        return False
    text = unit.text
    return not _TERMINAL_RE.search(text) or text.endswith(("?", "!", "?”", '?"'))


def _is_teaserish(unit: _Unit) -> bool:
    """Short, unpunctuated, title-case: the stuff of menus and 'more stories' lists."""
    if unit.n_words == 0 or unit.n_words > 10 or _TERMINAL_RE.search(unit.text):
        return False
    return unit.n_words <= 3 or _title_ratio(unit.words) >= 0.5


def _classify(
    units: list[_Unit], english: bool, known: Collection[str] = (), flattened: bool = False
) -> None:
    if known:
        for u in units:
            if u.label == "?" and line_hash(u.text) in known:
                u.label, u.reason = "bad", "repeated_for_source"
    counts: dict[str, int] = {}
    first_seen: set[str] = set()
    for u in units:
        k = _key(u.text)
        counts[k] = counts.get(k, 0) + 1
    first_good = next(
        (i for i, u in enumerate(units) if u.label == "?" and _shape_score(u, english) >= _GOOD), 0
    )
    for i, u in enumerate(units):
        if u.label != "?":
            continue
        u.score = _shape_score(u, english)
        if not _HAS_ALNUM_RE.search(u.text):
            u.label, u.reason = "bad", "empty"
            continue
        hits = _cue_hits(u.text)
        u.cue = max(hits, key=lambda r: hits[r]) if hits else ""
        penalty = max(hits.values(), default=0.0) * _damping(u.n_words)
        caption_level = _caption_signal(u.text) if u.n_words <= 60 else 0
        caption = caption_level > 0
        key = _key(u.text)
        repeated = counts[key] >= 2 and u.n_words <= 40
        prose = u.score >= _GOOD and u.n_words >= _REPEATED_PROSE_WORDS
        if repeated and flattened and prose and key not in first_seen:
            # a page that shows its text twice (a summary, a print copy): a sentence of prose is kept once
            repeated = False
        first_seen.add(key)
        if caption_level == 2:
            penalty += 6.0
        elif caption_level == 1:
            penalty += 3.0 * _damping(u.n_words)
        if repeated:
            penalty += 2.5
        u.score = round(u.score - penalty, 3)
        if hits and max(hits.values()) >= 3.0 and u.score < _GOOD:
            u.label, u.reason = "bad", max(hits, key=lambda r: hits[r])
        elif caption and u.score < _GOOD:
            u.label, u.reason = "bad", "caption"
        elif repeated:
            near = (i > 0 and _key(units[i - 1].text) == _key(u.text)) or (
                i + 1 < len(units) and _key(units[i + 1].text) == _key(u.text)
            )
            u.label = "bad"
            u.reason = "caption" if near or i < first_good else "other"
            if hits:
                u.reason = max(hits, key=lambda r: hits[r])
        elif _END_MARKER_RE.search(u.text) and u.n_words <= 25:
            u.label, u.reason = "bad", "byline"
        elif u.score >= _GOOD:
            u.label = "good"
        else:
            u.label = "short"
            u.reason = max(hits, key=lambda r: hits[r]) if hits else ""
    # author bio among the last body paragraphs
    goods = [u for u in units if u.label == "good"]
    for u in goods[-2:]:
        if u is not goods[0] and _BIO_RE.match(u.text) and u.n_words <= 80:
            u.label, u.reason = "bad", "byline"


def _mark_runs(units: list[_Unit]) -> None:
    """Runs of >= 3 short title-case lines are teaser lists (or navigation before the body)."""
    first_good = next((i for i, u in enumerate(units) if u.label == "good"), len(units))
    i = 0
    while i < len(units):
        j = i
        while j < len(units) and units[j].label in {"short", "bad"} and _is_teaserish(units[j]):
            j += 1
        if j - i >= 3:
            for u in units[i:j]:
                if u.label == "short" or u.reason in {"", "other"}:
                    u.label = "bad"
                    u.reason = "navigation" if i < first_good else "teaser_list"
        i = max(j, i + 1)


def _tail_cut(units: list[_Unit]) -> None:
    """Drop what follows the end of the article (credits, source lines, junk runs) when what follows
    is small next to the body and looks like page furniture."""
    good_idx = [i for i, u in enumerate(units) if u.label == "good"]
    if len(good_idx) < 2:
        return
    total_good = sum(len(units[i].text) for i in good_idx)
    before = 0
    goods_before: list[_Unit] = []
    for i, u in enumerate(units):
        if u.label == "good":
            before += len(u.text)
            goods_before.append(u)
            continue
        if not goods_before or u.label not in {"bad", "short"}:
            continue
        after_units = units[i + 1 :]
        after_good = [a for a in after_units if a.label == "good"]
        if not after_good:
            return
        if total_good - before > 0.5 * before:
            continue
        run = 0
        while i + run < len(units) and units[i + run].label in {"bad", "short"}:
            run += 1
        single_line_body = sum(1 for g in goods_before if g.block_size == 1) / len(goods_before) >= 0.7
        strong_end = u.label == "bad" and (
            u.reason == "footer" or (u.reason == "byline" and _END_MARKER_RE.search(u.text) is not None)
        )
        listy = single_line_body and sum(1 for a in after_good if a.block_size >= 3) >= 0.5 * len(after_good)
        junky_after = sum(1 for a in after_units if a.label == "bad") >= len(after_units) / 3
        if strong_end or (run >= 3 and (listy or junky_after)) or (u.reason == "related_links" and listy):
            for a in after_units:
                if a.label in {"good", "short"}:
                    a.label = "bad"
                    if a.cue:
                        a.reason = a.cue
                    elif a.block_size >= 3 and single_line_body:
                        a.reason = "teaser_list"
                    else:
                        a.reason = "footer"
            return


_INLINE_REASONS: Final = frozenset({"caption", "advertisement", "empty"})


def _resolve_short(units: list[_Unit]) -> None:
    """Short/uncertain lines take their side from the body paragraphs around them."""
    n = len(units)
    labels = [u.label for u in units]
    # lifted metadata and inline furniture (captions, ads) do not break the flow of the body
    transparent = [u.label == "meta" or (u.label == "bad" and u.reason in _INLINE_REASONS) for u in units]
    for i, u in enumerate(units):
        if u.label != "short":
            continue
        prev_good = next((labels[j] == "good" for j in range(i - 1, -1, -1) if not transparent[j]), False)
        next_good = next((labels[j] == "good" for j in range(i + 1, n) if not transparent[j]), False)
        if prev_good and next_good and (u.n_words <= 15 or u.score > 0) and not u.reason:
            u.label, u.reason = "keep", "subhead" if not _TERMINAL_RE.search(u.text) else "body"
        elif (prev_good or next_good) and u.score > 0.5 and not u.reason:
            u.label, u.reason = "keep", "body"
        else:
            u.label = "bad"
            if not u.reason:
                u.reason = "navigation" if not any(labels[j] == "good" for j in range(i)) else "other"


# --------------------------------------------------------------------------------------------------
# Flattened text: readers' comments and the main block
# --------------------------------------------------------------------------------------------------

_CLOCK: Final = r"\d{1,2}[:.]\d{2}(?:\s*[ap]\.?\s?m\.?)?"
_AGO: Final = (
    r"\d+\s*(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|mos?|months?|y|yrs?|years?)"
    r"\s+ago"
)
#: A reader's comment signature: a name's "says:" / "said:" / "wrote:" next to a date or time, a date and
#: clock time followed by "said", a relative time with a clock time, a "• 3 days ago" or "Like · Reply"
#: widget.  Prose quotes a speaker ("the minister said: ...") but never stamps the quote with a clock time.
_COMMENT_SIGNATURE_RE: Final = re.compile(
    rf"\b(?:says|said|wrote|writes|commented|replied)\s*:\s*(?:{_WEEKDAY}?{_DATE_CORE}|{_CLOCK}|{_AGO})"
    rf"|{_DATE_CORE},?\s+(?:at\s+|-\s+|\|\s+)?{_CLOCK}\s*(?:said|says|wrote|writes|commented|replied)\b"
    rf"|\b{_AGO}\s+at\s+{_CLOCK}"
    rf"|[•·|]\s*{_AGO}\b"
    r"|\b(?:Like|Reply)\s*[•·|]\s*(?:Reply|Like|Share|Report|\d+\s*[smhdwy]\b)",
    re.I,
)
#: Comment signatures that open a readers' comments section (with at least this many body words before).
_COMMENT_SECTION_SIGNATURES: Final = 2
_COMMENT_SECTION_MIN_BODY_WORDS: Final = 40


def _reader_comments(units: list[_Unit]) -> None:
    """Cut a readers' comments section: from the first of several comment signatures after the body has
    begun, every unit goes (reason ``reader_comments``); a lone signature goes alone."""
    signed = [i for i, u in enumerate(units) if u.label != "meta" and _COMMENT_SIGNATURE_RE.search(u.text)]
    if not signed:
        return
    start = signed[0]
    body_before = sum(u.n_words for u in units[:start] if u.label in {"good", "keep"})
    if len(signed) >= _COMMENT_SECTION_SIGNATURES and body_before >= _COMMENT_SECTION_MIN_BODY_WORDS:
        cut = units[start:]
    else:
        cut = [units[i] for i in signed]
    for u in cut:
        if u.label != "meta":
            u.label, u.reason = "bad", "reader_comments"


#: What a unit weighs in the choice of the main block: its words (at most _BLOCK_MAX_WORDS: a "sentence"
#: longer than that in flattened text is mostly a list glued together), counted against the block when the
#: unit is junk or a headline-like fragment.
_BLOCK_MAX_WORDS: Final = 40
#: Dropped units whose own vocabulary names them as the page's furniture (a footer's copyright, a "related
#: stories" or comments header, a newsletter box) weigh at least this many words against the block.
_BARRIER_REASONS: Final = frozenset(
    {"footer", "related_links", "comment_widget", "reader_comments", "newsletter_prompt", "share_widget"}
)
_BARRIER_WORDS: Final = 30.0
#: Teasers of other stories read like prose, but every one comes after a headline: a body sentence counts
#: for less the more headline-like fragments stand among the _DENSITY_WINDOW units on either side of it
#: (its words times 1 - _DENSITY_WEIGHT x their share, at least minus its words).  Captions, share bars and
#: ads inside an article are not headline-like and do not count.
_DENSITY_WINDOW: Final = 2
_DENSITY_WEIGHT: Final = 2.0


def _block_value(u: _Unit) -> float:
    if u.label == "meta":
        return 0.0
    n = min(max(u.n_words, 1), _BLOCK_MAX_WORDS)
    if u.label in {"good", "keep"}:
        return -float(n) if u.reason == "subhead" else float(n)
    if u.reason in _BARRIER_REASONS:
        return -max(_BARRIER_WORDS, n)
    return -float(n)


def _headline_like(u: _Unit) -> bool:
    """A short title-case fragment without a full stop, dropped or kept as a subhead: a teaser's headline."""
    if u.label in {"good", "keep"} and u.reason != "subhead":
        return False
    text = u.text
    ends = not _TERMINAL_RE.search(text) or text.endswith(("?", "!"))
    return u.n_words <= 25 and ends and _title_ratio(u.words) >= 0.5


def _main_block(units: list[_Unit]) -> None:
    """A flattened page holds one article: keep the run of sentences with the most body words net of the
    junk and headlines inside it (the maximum-sum block, see :func:`_block_value`), a sentence among
    teasers' headlines weighing less (see _DENSITY_WEIGHT); body-like sentences outside the block (teasers
    of other stories, promos, comments) go with reason ``outside_main_text``."""
    real = [i for i, u in enumerate(units) if u.label != "meta"]
    seen: dict[str, int] = {}
    for u in units:
        seen[_key(u.text)] = seen.get(_key(u.text), 0) + 1
    # teasers' headlines differ from one another; a fragment repeated down the page is a caption or a credit
    headline = [_headline_like(units[i]) and seen[_key(units[i].text)] == 1 for i in real]
    density = [0.0] * len(units)
    for k, i in enumerate(real):
        window = headline[max(0, k - _DENSITY_WINDOW) : k + _DENSITY_WINDOW + 1]
        density[i] = sum(window) / len(window)
    best = current = 0.0
    best_span = (0, 0)
    start = 0
    for i, u in enumerate(units):
        value = _block_value(u)
        if value > 0:
            value *= max(-1.0, 1.0 - _DENSITY_WEIGHT * density[i])
        if current <= 0:
            current, start = value, i
        else:
            current += value
        if current > best:
            best, best_span = current, (start, i + 1)
    if best <= 0:
        return
    lo, hi = best_span
    for i, u in enumerate(units):
        if not lo <= i < hi and u.label in {"good", "keep"}:
            u.label, u.reason = "bad", u.cue or "outside_main_text"


# --------------------------------------------------------------------------------------------------
# Metadata at the top
# --------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Meta:
    title: str | None = None
    published_at: datetime | None = None
    modified_at: datetime | None = None
    authors: list[str] = field(default_factory=list)
    lifted: list[tuple[int, str, str]] = field(default_factory=list)  # (unit index, text, reason)


def _same_title(a: str, b: str) -> bool:
    ka, kb = _key(a), _key(b)
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    ta, tb = set(ka.split()), set(kb.split())
    return len(ta & tb) / len(ta | tb) >= 0.75


def _lift_metadata(units: list[_Unit], title: str | None, meta: _Meta, english: bool) -> None:
    first_good = next((i for i, u in enumerate(units) if _shape_score(u, english) >= _GOOD), len(units))
    top = min(len(units), _TOP_REGION)
    for i in range(top):
        u = units[i]
        hit = _match_date_prefix(u.text)
        if hit is not None and (not _words(hit.rest) or i <= first_good or hit.prefix[:1].isalpha()):
            if hit.modified:
                meta.modified_at = meta.modified_at or hit.date
            else:
                meta.published_at = meta.published_at or hit.date
            rest = hit.rest
            byline = parse_byline(rest) if rest else None
            if byline is not None or not rest or not _words(rest):
                meta.lifted.append((i, u.text, "date_line"))
                u.label, u.reason = "meta", "date_line"
                if byline is not None:
                    meta.authors.extend(n for n in byline[0] if n not in meta.authors)
            else:
                meta.lifted.append((i, hit.prefix, "date_line"))
                u.text, u.words = rest, _words(rest)
            continue
        byline = parse_byline(u.text) if i <= first_good + 3 else None
        if byline is not None:
            names, date = byline
            meta.authors.extend(n for n in names if n not in meta.authors)
            if date is not None and meta.published_at is None:
                meta.published_at = date
            meta.lifted.append((i, u.text, "byline"))
            u.label, u.reason = "meta", "byline"
            continue
        if title is not None and meta.title is None and i < first_good + 1 and _same_title(u.text, title):
            meta.title = title
            meta.lifted.append((i, u.text, "title"))
            u.label, u.reason = "meta", "title"
    if meta.title is None and title is None:
        # the page's headline: the last headline-like line before the first body paragraph
        candidates = [
            i
            for i in range(min(first_good, _TOP_REGION))
            if units[i].label == "?"
            and _is_headline(units[i])
            and not _cue_hits(units[i].text)
            and not _caption_signal(units[i].text)
        ]
        best = [i for i in candidates if units[i].n_words >= 4] or candidates
        if best:
            i = best[-1]
            meta.title = units[i].text
            meta.lifted.append((i, units[i].text, "title"))
            units[i].label, units[i].reason = "meta", "title"
    if meta.published_at is None and meta.modified_at is not None:
        meta.published_at = meta.modified_at


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


#: Cleaning that would keep less than this share of the input's words (metadata aside) *and* fewer than
#: :data:`FALLBACK_MAX_WORDS` words (a near-empty body, the ``too_short`` floor) keeps the input instead.
#: The share alone also fires on short articles inside long pages, where the cleaned body is right:
#: on the ScrapingHub pages' visible text it took text F1 from 0.876 to 0.846 (14 of 181 pages).
FALLBACK_SHARE: Final = 0.2
FALLBACK_MAX_WORDS: Final = 60
#: A fallback needs at least one dropped piece of this many words (a sentence, not a menu word).
_FALLBACK_MIN_UNIT_WORDS: Final = 10
#: Reasons that name what a piece is (from its own words or shape): such pieces stay dropped in a fallback.
_RECOGNISED_JUNK: Final = frozenset(
    {
        "caption",
        "newsletter_prompt",
        "share_widget",
        "comment_widget",
        "footer",
        "advertisement",
        "empty",
        "repeated_for_source",
        "byline",
        "date_line",
        "cookie_notice",
        "reader_comments",
    }
)


def _analyse(text: str, title: str | None, known: Collection[str] = ()) -> tuple[list[_Unit], _Meta, bool]:
    normalised = normalise_text(text)
    flattened = is_flattened(normalised.split("\n"))
    units = _segment(normalised)
    meta = _Meta()
    all_words = [w for u in units for w in u.words if not _CJK_RE.search(w)]
    english = len(all_words) >= 0.5 * sum(u.n_words for u in units) and _stop_density(all_words) >= 0.15
    _lift_metadata(units, title.strip() if title and title.strip() else None, meta, english)
    _classify(units, english, known, flattened)
    _mark_runs(units)
    _tail_cut(units)
    _resolve_short(units)
    if flattened:
        _reader_comments(units)
        _main_block(units)
    return units, meta, flattened


def clean_plain_text(
    text: str, *, title: str | None = None, known_boilerplate: Collection[str] = ()
) -> TextCleaningResult:
    """Clean scraped article text; see the module docstring.

    ``known_boilerplate``: :func:`line_hash` values of lines known to be boilerplate of the article's
    source (learned from its stored articles); such lines go with reason ``repeated_for_source``."""
    units, meta, flattened = _analyse(text, title, known_boilerplate)
    hashes = line_hashes([u.text for u in units])
    input_words = sum(u.n_words for u in units if u.label != "meta")
    kept_words = sum(u.n_words for u in units if u.label in {"good", "keep"})
    rescued = [u for u in units if u.label == "bad" and u.reason not in _RECOGNISED_JUNK]
    fallback = (
        kept_words < FALLBACK_MAX_WORDS
        and kept_words < FALLBACK_SHARE * input_words
        and any(u.n_words >= _FALLBACK_MIN_UNIT_WORDS for u in rescued)
    )
    if fallback:
        # keep everything but the lifted metadata and what its own vocabulary names as junk (newsletter
        # prompts, share widgets, footers...): a body with some junk in it beats a lost article
        for u in rescued:
            u.label, u.reason = "keep", "cleaning_fallback"
    decisions: list[LineDecision] = []
    removed: list[RemovedPiece] = []
    paragraphs: list[str] = []
    lifted_partial = {i: (t, r) for i, t, r in meta.lifted if units[i].label != "meta"}
    for i, u in enumerate(units):
        if i in lifted_partial:
            piece, reason = lifted_partial[i]
            decisions.append(LineDecision(piece, False, reason, 0.0))
            removed.append(RemovedPiece(piece, reason))
        if u.label == "meta":
            decisions.append(LineDecision(u.text, False, u.reason, 0.0))
            removed.append(RemovedPiece(u.text, "other" if u.reason == "title" else u.reason))
        elif u.label in {"good", "keep"}:
            decisions.append(LineDecision(u.text, True, u.reason or "body", u.score))
            paragraphs.append(u.text)
        else:
            decisions.append(LineDecision(u.text, False, u.reason or "other", u.score))
            removed.append(RemovedPiece(u.text, u.reason or "other"))
    return TextCleaningResult(
        paragraphs=paragraphs,
        title=meta.title,
        published_at=meta.published_at,
        modified_at=meta.modified_at,
        authors=meta.authors,
        removed=removed,
        decisions=decisions,
        line_hashes=hashes,
        fallback=fallback,
        flattened=flattened,
    )


def explain_text(text: str, *, title: str | None = None) -> list[LineDecision]:
    """One decision per input line (or re-joined paragraph), in input order."""
    return clean_plain_text(text, title=title).decisions

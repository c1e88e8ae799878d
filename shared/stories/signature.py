"""The compact per-article representation story matching compares (pure functions).

A signature holds the article's time, the hashed set of content terms of its title and lead, its most
salient canonical entities (hashed ``type|name``, weighted by salience) and its lookup keys: the top
entities plus a MinHash sample of the terms.  Two articles about one event share at least one key with a
high probability (a term kept by the same hash function, ``1 - (1 - J)^k`` for term-set Jaccard ``J``), and
the keys are what the candidate index holds, so a candidate search costs a few index range scans."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

LEAD_WORDS = 100  # words of the body after the title that describe the event (the lead)
ENTITY_KEYS = 5  # most salient entities that become lookup keys
MAX_ENTITIES = 12  # most salient entities kept for scoring
TERM_KEYS = 16  # MinHash functions whose minimum term becomes a lookup key
_MASK = (1 << 64) - 1
_WORD = re.compile(r"\w+", re.UNICODE)
# seeds of the MinHash functions: fixed, so every process and every run picks the same keys
_SEEDS = tuple(
    int.from_bytes(hashlib.blake2b(b"story-key-%d" % i, digest_size=8).digest()) for i in range(TERM_KEYS)
)


def stable_hash(value: str) -> int:
    """A signed 64-bit hash, stable across processes (fits PostgreSQL ``bigint``)."""
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), signed=True)


def _mix(value: int, seed: int) -> int:
    """splitmix64 finaliser of ``value ^ seed``: one of the MinHash functions."""
    z = ((value & _MASK) ^ seed) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _min_term(terms: list[int], seed: int) -> int:
    best, best_value = terms[0], _mix(terms[0], seed)
    for term in terms[1:]:
        value = _mix(term, seed)
        if value < best_value:
            best, best_value = term, value
    return best


@cache
def _stop_words() -> frozenset[str]:
    """spaCy's English stop words, imported on first use (importing spaCy takes seconds and memory a
    process that never builds a signature should not pay)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def normalise_term(word: str) -> str | None:
    """A lower-cased content word with a light plural/possessive strip; None for stop words, one- and
    two-letter words."""
    w = word.lower()
    if len(w) < 3 or w in _stop_words() or w.isdigit() and len(w) < 4:
        return None
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("s") and len(w) > 3 and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def lead_terms(title: str, text: str, *, lead_words: int = LEAD_WORDS) -> frozenset[str]:
    """Content terms of the title and the first ``lead_words`` words of the body."""
    words = _WORD.findall(title or "") + _WORD.findall(text or "")[:lead_words]
    return frozenset(t for t in (normalise_term(w) for w in words) if t is not None)


def entity_key(entity_type: str, name: str) -> int:
    return stable_hash(f"e|{entity_type}|{name}")


def term_key(term: str) -> int:
    return stable_hash(f"t|{term}")


@dataclass(frozen=True, slots=True)
class StorySignature:
    at: datetime | None  # when the article was published (else received)
    terms: frozenset[int]  # hashed lead terms
    entities: dict[int, float]  # hashed entity -> salience (most salient MAX_ENTITIES)
    keys: tuple[int, ...]  # lookup keys, sorted and distinct


def build_signature(
    *, title: str, text: str, entities: Iterable[tuple[str, str, float]], at: datetime | None
) -> StorySignature:
    """The signature of an article from its title, body and ``(type, name, salience)`` entities."""
    terms = sorted({term_key(t) for t in lead_terms(title, text)})
    ranked = sorted(entities, key=lambda e: (-e[2], e[0], e[1]))[:MAX_ENTITIES]
    weights: dict[int, float] = {}
    for entity_type, name, salience in ranked:
        weights.setdefault(entity_key(entity_type, name), max(float(salience), 0.01))
    keys = set(list(weights)[:ENTITY_KEYS])
    if terms:
        keys.update(_min_term(terms, seed) for seed in _SEEDS)
    return StorySignature(at=at, terms=frozenset(terms), entities=weights, keys=tuple(sorted(keys)))

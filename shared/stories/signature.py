"""The compact per-article representation story matching compares (pure functions).

A signature holds the article's time, the hashed set of content terms of its title and lead, its most
salient canonical entities (hashed ``type|name``, weighted by salience) and its lookup keys: the top
entities plus a MinHash sample of the terms.  Two articles about one event share at least one key with a
high probability (a term kept by the same hash function, ``1 - (1 - J)^k`` for term-set Jaccard ``J``), and
the keys are what the candidate index holds, so a candidate search costs a few index range scans.

Reports of one event in two languages share no terms, so the signature also carries the article's
multilingual embedding (computed by the enrich worker, passed in as data) and a few **embedding keys**:
random-hyperplane locality-sensitive hashes of it (``EMBEDDING_BANDS`` bands of ``EMBEDDING_BITS`` sign
bits each, hyperplanes from a fixed seed).  Two vectors at angle ``θ`` agree on one bit with probability
``1 - θ/π``, so they share a band's key with ``(1 - θ/π)^k`` and at least one of ``b`` bands with
``1 - (1 - (1 - θ/π)^k)^b``: near vectors (the same event in German and English) almost always find each
other, unrelated ones rarely.  The vectors are first centred on the mean news-article
embedding of their language (:func:`embedding_centre`): sentence embeddings share a large common direction
(and one per language), and hyperplanes through the origin would cut that direction rather than the
differences between articles."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

LEAD_WORDS = 100  # words of the body after the title that describe the event (the lead)
ENTITY_KEYS = 5  # most salient entities that become lookup keys
MAX_ENTITIES = 12  # most salient entities kept for scoring
TERM_KEYS = 16  # MinHash functions whose minimum term becomes a lookup key
EMBEDDING_BANDS = 24  # embedding-key bands (lookup keys from the embedding)
EMBEDDING_BITS = 6  # sign bits per band
EMBEDDING_SEED = 0x5354_4C53  # "STLS": the hyperplanes; changing it changes every key (reassign after)
EMBEDDING_CENTRE = Path(__file__).with_name("data") / "embedding_centre.npy"
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


Vector = npt.NDArray[np.float32]


def quantise(vector: Vector) -> bytes:
    """The vector as signed bytes scaled so its largest component is ±127 (what the signature table
    stores: 384 bytes for multilingual-e5-small; cosines of the restored vectors differ from the float
    ones by about 1e-3).  Scale is dropped: only the direction matters for a cosine."""
    v = np.asarray(vector, dtype=np.float32)
    peak = float(np.max(np.abs(v))) if v.size else 0.0
    if peak == 0.0:
        return bytes(v.size)
    return bytes(np.rint(v * (127.0 / peak)).astype(np.int8).tobytes())


def restore(data: bytes | None) -> Vector | None:
    """The unit vector of :func:`quantise`'s bytes (None for none or a zero vector)."""
    if not data:
        return None
    v = np.frombuffer(data, dtype=np.int8).astype(np.float32)
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else None


def unit(vector: Vector | None) -> Vector | None:
    """The vector scaled to length 1 (None for none, an empty or a zero vector)."""
    if vector is None:
        return None
    v = np.asarray(vector, dtype=np.float32).ravel()
    norm = float(np.linalg.norm(v)) if v.size else 0.0
    return v / norm if norm > 0 else None


@cache
def embedding_centre(dimensions: int, language: str | None = None) -> Vector:
    """The mean news-article embedding of ``language`` (``EMBEDDING_CENTRE`` with the language code as a
    suffix, made by ``scripts/story_centre.py``), else of all languages (``EMBEDDING_CENTRE``); zeros for
    another embedding size.  A language's mean holds what its articles share by being in that language:
    centring each article on its own language's mean leaves what it says."""
    paths = [EMBEDDING_CENTRE.with_name(f"{EMBEDDING_CENTRE.stem}_{language}.npy")] if language else []
    for path in [*paths, EMBEDDING_CENTRE]:
        if path.is_file():
            centre: Vector = np.asarray(np.load(path), dtype=np.float32)
            if centre.shape == (dimensions,):
                return centre
    return np.zeros(dimensions, dtype=np.float32)


def centred(vector: Vector | None, language: str | None = None) -> Vector | None:
    """The unit vector from the mean article embedding of the article's language (:func:`embedding_centre`)
    towards the article's (what both the embedding keys and the embedding cosine of the match score read:
    it spreads articles out, 0 for unrelated ones)."""
    if vector is None:
        return None
    v = np.asarray(vector, dtype=np.float32)
    return unit(v - embedding_centre(v.size, language))


@cache
def _hyperplanes(dimensions: int) -> Vector:
    rng = np.random.Generator(np.random.PCG64(EMBEDDING_SEED))
    return rng.standard_normal((dimensions, EMBEDDING_BANDS * EMBEDDING_BITS)).astype(np.float32)


def embedding_keys(vector: Vector, language: str | None = None) -> list[int]:
    """One lookup key per band: the band number and its sign bits of the centred vector, hashed."""
    v = np.asarray(vector, dtype=np.float32)
    bits = ((v - embedding_centre(v.size, language)) @ _hyperplanes(v.size)) > 0  # the sign needs no length
    keys = []
    for band in range(EMBEDDING_BANDS):
        chunk = bits[band * EMBEDDING_BITS : (band + 1) * EMBEDDING_BITS]
        code = int("".join("1" if b else "0" for b in chunk), 2)
        keys.append(stable_hash(f"v|{band}|{code}"))
    return keys


@dataclass(frozen=True, slots=True)
class StorySignature:
    at: datetime | None  # when the article was published (else received)
    terms: frozenset[int]  # hashed lead terms
    entities: dict[int, float]  # hashed entity -> salience (most salient MAX_ENTITIES)
    keys: tuple[int, ...]  # lookup keys, sorted and distinct
    # the multilingual embedding of the title and lead, unit length, as stored (quantised); None: none
    embedding: Vector | None = field(default=None, compare=False, repr=False)
    language: str | None = None  # ISO 639-1 code of the article's language; None: unknown


def build_signature(
    *,
    title: str,
    text: str,
    entities: Iterable[tuple[str, str, float]],
    at: datetime | None,
    embedding: Vector | None = None,
    language: str | None = None,
) -> StorySignature:
    """The signature of an article from its title, body, ``(type, name, salience)`` entities and
    multilingual embedding (any length; kept as :func:`quantise` stores it)."""
    terms = sorted({term_key(t) for t in lead_terms(title, text)})
    ranked = sorted(entities, key=lambda e: (-e[2], e[0], e[1]))[:MAX_ENTITIES]
    weights: dict[int, float] = {}
    for entity_type, name, salience in ranked:
        weights.setdefault(entity_key(entity_type, name), max(float(salience), 0.01))
    keys = set(list(weights)[:ENTITY_KEYS])
    if terms:
        keys.update(_min_term(terms, seed) for seed in _SEEDS)
    vector = unit(embedding)
    if vector is not None:
        vector = restore(quantise(vector))  # what a candidate read back from the table carries
    if vector is not None:
        keys.update(embedding_keys(vector, language))
    return StorySignature(
        at=at,
        terms=frozenset(terms),
        entities=weights,
        keys=tuple(sorted(keys)),
        embedding=vector,
        language=language,
    )

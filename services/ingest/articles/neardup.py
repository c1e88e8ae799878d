"""Near-duplicate keys: MinHash signatures over word shingles, LSH band keys, estimated Jaccard, and the
unified diff between two revisions of an article.  Pure functions: ingest, the tests and
``scripts/eval_dedup.py`` all call these.

The signature is rensa's ``RMinHash`` (seeded, so every process computes the same one) over the
shingles of :func:`~services.ingest.articles.dedup.normalise_text` (case, punctuation, quote styles
and spacing folded).  It is cut into ``BANDS`` bands of ``ROWS`` values; two texts become candidates
when one band is equal, which happens with probability ``1 - (1 - J**ROWS)**BANDS`` for Jaccard ``J``
(0.87 at 0.5, 0.99 at 0.6, 0.003 at 0.1).  A candidate is a duplicate when the share of equal signature
values (the estimated Jaccard) reaches the threshold (``NEWSWIRE_NEARDUP_THRESHOLD``).

``NUM_PERM``, ``ROWS``, ``SHINGLE_WORDS`` and ``SEED`` define what is stored: changing any of them
needs the stored signatures and bands rebuilt.
"""

from __future__ import annotations

import difflib
import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rensa import RMinHash

from services.ingest.articles.dedup import normalise_text

SHINGLE_WORDS = 4
NUM_PERM = 128
ROWS = 4
BANDS = NUM_PERM // ROWS
SEED = 20_240_514
SIGNATURE_BYTES = 4 * NUM_PERM
_SIGNATURE_FORMAT = f"<{NUM_PERM}I"


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What near-duplicate detection keeps of a text: its signature and the keys of its LSH bands."""

    signature: tuple[int, ...]
    band_keys: tuple[int, ...]


def words(text: str) -> list[str]:
    return normalise_text(text).split()


def shingles(text: str, *, size: int = SHINGLE_WORDS) -> set[str]:
    """The set of runs of `size` consecutive words (one run for a text shorter than that)."""
    tokens = words(text)
    if len(tokens) <= size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def signature(items: Iterable[str]) -> tuple[int, ...]:
    minhash = RMinHash(num_perm=NUM_PERM, seed=SEED)
    minhash.update(sorted(items))
    return tuple(minhash.digest())


def band_keys(sig: Sequence[int]) -> tuple[int, ...]:
    """One signed 64-bit key per band: a hash of the band's number and values (a PostgreSQL bigint, and
    the key of the advisory lock taken on it)."""
    keys = []
    for band in range(BANDS):
        values = sig[band * ROWS : (band + 1) * ROWS]
        digest = hashlib.blake2b(struct.pack(f"<H{ROWS}I", band, *values), digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return tuple(keys)


def fingerprint(text: str, *, min_words: int) -> Fingerprint | None:
    """The text's fingerprint; None when it has fewer than `min_words` words (too short for the
    estimate to mean anything: a short text is only matched by its exact hash)."""
    if len(words(text)) < min_words:
        return None
    sig = signature(shingles(text))
    return Fingerprint(signature=sig, band_keys=band_keys(sig))


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of two texts: the share of equal values of their signatures."""
    if len(a) != len(b) or not a:
        raise ValueError("signatures of different lengths")
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)


def encode_signature(sig: Sequence[int]) -> bytes:
    return struct.pack(_SIGNATURE_FORMAT, *sig)


def decode_signature(data: bytes) -> tuple[int, ...]:
    return struct.unpack(_SIGNATURE_FORMAT, data)


def ranked_matches(
    fp: Fingerprint, candidates: Iterable[tuple[int, Sequence[int]]], *, threshold: float
) -> list[tuple[int, float]]:
    """The LSH candidates ``(article_id, signature)`` at or above `threshold` as ``(article_id, score)``,
    the most similar first (ties: the oldest, lowest id)."""
    found = [(article_id, similarity(fp.signature, sig)) for article_id, sig in candidates]
    return sorted(((i, s) for i, s in found if s >= threshold), key=lambda m: (-m[1], m[0]))


def best_match(
    fp: Fingerprint, candidates: Iterable[tuple[int, Sequence[int]]], *, threshold: float
) -> tuple[int, float] | None:
    """Among LSH candidates ``(article_id, signature)``, the most similar one at or above `threshold`
    (ties: the oldest, lowest id); None if there is none."""
    ranked = ranked_matches(fp, candidates, threshold=threshold)
    return ranked[0] if ranked else None


def is_near_duplicate(a: Fingerprint | None, b: Fingerprint | None, *, threshold: float) -> float | None:
    """The decision ingest makes for a pair: `b` is a candidate of `a` (a band in common) and their
    estimated Jaccard reaches `threshold`.  The score, or None."""
    if a is None or b is None or not set(a.band_keys) & set(b.band_keys):
        return None
    match = best_match(a, [(0, b.signature)], threshold=threshold)
    return None if match is None else match[1]


def _lines(text: str) -> list[str]:
    return (text if text.endswith("\n") else text + "\n").splitlines(keepends=True)


def unified_diff(old: str, new: str, *, old_label: str, new_label: str) -> str:
    """A unified diff of two texts, line by line."""
    return "".join(
        difflib.unified_diff(
            _lines(old),
            _lines(new),
            fromfile=old_label,
            tofile=new_label,
            lineterm="\n",
        )
    )

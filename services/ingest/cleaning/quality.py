"""Extraction confidence: how far a cleaned body can be trusted, with the reason codes behind it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from .models import FLAGS, RemovedPiece

__all__ = ["assess", "confidence_of"]

#: How much each reason code multiplies the confidence by.
_WEIGHTS: Final[dict[str, float]] = {
    "too_short": 0.6,
    "truncated": 0.75,
    "likely_paywall": 0.5,
    "date_from_feed": 0.95,
    "no_date": 0.9,
    "timeout": 0.5,
    "too_large": 0.5,
    "extractor_error": 0.5,
    "extractor_busy": 0.6,
    "fallback_extractor": 0.8,
    "stock_body": 0.8,
    "cleaning_fallback": 0.7,
}
assert set(_WEIGHTS) == FLAGS

_MIN_WORDS: Final = 60
_PAYWALL_MAX_WORDS: Final = 400
_PAYWALL_RE: Final = re.compile(
    r"\bsubscribe (?:to (?:continue|read|keep reading|unlock))\b"
    r"|\bsubscribers? only\b|\bfor (?:paying |premium )?subscribers\b|\balready (?:a )?subscriber\b"
    r"|\bto (?:continue|keep) reading\b|\bpaywall\b"
    r"|\bunlock (?:this|the|full) (?:article|story)\b|\bpremium (?:article|content|story)\b"
    r"|\b(?:log|sign) ?in to (?:read|continue|keep reading)\b|\bfree articles? (?:left|remaining)\b"
    r"|\byou(?:'ve| have) reached (?:your|the) (?:limit|maximum)\b|\bcreate a free account\b",
    re.I,
)
_WORD_RE: Final = re.compile(r"\w+")
_END_RE: Final = re.compile(r"[.!?。！？…][\"'”’»)\]]*$|[\"”»]$")
_ELLIPSIS_RE: Final = re.compile(r"(?:\.\.\.|…)[\"'”’»)\]]*$")


def confidence_of(flags: Iterable[str]) -> float:
    confidence = 1.0
    for flag in set(flags):
        confidence *= _WEIGHTS.get(flag, 1.0)
    return round(confidence, 3)


def assess(
    *, text: str, removed: list[RemovedPiece], has_date: bool, flags: Iterable[str] = ()
) -> tuple[float, list[str]]:
    """(confidence, reason codes) of a cleaned body; ``flags`` are codes the caller already knows."""
    out = [f for f in dict.fromkeys(flags) if f]
    n_words = len(_WORD_RE.findall(text))
    if n_words < _MIN_WORDS:
        out.append("too_short")
    last = text.rstrip().rsplit("\n", 1)[-1].strip()
    if last and (not _END_RE.search(last) or _ELLIPSIS_RE.search(last)) and n_words >= 5:
        out.append("truncated")
    if n_words < _PAYWALL_MAX_WORDS:
        tail = text[-600:]
        if _PAYWALL_RE.search(tail) or any(_PAYWALL_RE.search(p.text) for p in removed[:300]):
            out.append("likely_paywall")
    if not has_date:
        out.append("no_date")
    out = list(dict.fromkeys(out))
    return confidence_of(out), out

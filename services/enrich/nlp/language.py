"""Language identification with py3langid (one identifier per process, loaded on first use)."""

from __future__ import annotations

import threading

import py3langid  # type: ignore[import-untyped, unused-ignore]
from py3langid.langid import (  # type: ignore[import-untyped, unused-ignore]
    MODEL_FILE,
    LanguageIdentifier,
)

from .models import LanguageGuess

LANGID_VERSION: str = str(py3langid.__version__)

#: Texts with fewer non-space characters than this are not classified (``"und"``).
MIN_CHARS = 20
#: Only this many leading characters are classified: plenty for a stable guess, bounded cost.
MAX_CHARS = 20_000

UNDETERMINED = LanguageGuess(code="und", confidence=0.0)

_identifier: LanguageIdentifier | None = None
_lock = threading.Lock()


def _get_identifier() -> LanguageIdentifier:
    """The module-level identifier, loaded once (about 1 s) on first use."""
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def detect_language(text: str) -> LanguageGuess:
    """Guess the language of ``text``; ``"und"`` with confidence 0 when it is too short to tell."""
    compact = " ".join(text[:MAX_CHARS].split())
    if len(compact.replace(" ", "")) < MIN_CHARS or not any(ch.isalpha() for ch in compact):
        return UNDETERMINED
    code, confidence = _get_identifier().classify(compact)
    return LanguageGuess(code=str(code) or "und", confidence=min(max(float(confidence), 0.0), 1.0))

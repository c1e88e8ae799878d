"""Entity domain of enrichment: within-article canonicalisation and salience (pure functions, no spaCy)."""

from .canonical import RawSpan, canonicalise, clean_span
from .models import ExtractedEntity, Mention, MentionField, Salience
from .salience import lead_end, salience_of

__all__ = [
    "ExtractedEntity",
    "Mention",
    "MentionField",
    "RawSpan",
    "Salience",
    "canonicalise",
    "clean_span",
    "lead_end",
    "salience_of",
]

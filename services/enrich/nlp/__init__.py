"""Enrichment domain module: language, named entities and IPTC topics of an article (pure functions)."""

from .entities import extract_entities
from .language import detect_language
from .models import Enrichment, ExtractedEntity, LanguageGuess, Mention, TopicScore
from .pipeline import ENRICH_CODE_VERSION, Enricher
from .topics import IPTC_TOPICS, TOPICS_VERSION, score_topics

__all__ = [
    "ENRICH_CODE_VERSION",
    "IPTC_TOPICS",
    "TOPICS_VERSION",
    "Enricher",
    "Enrichment",
    "ExtractedEntity",
    "LanguageGuess",
    "Mention",
    "TopicScore",
    "detect_language",
    "extract_entities",
    "score_topics",
]

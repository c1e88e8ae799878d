"""Enrichment domain module: language, entities, IPTC topics and keyphrases of an article (pure functions)."""

from .entities import extract_entities
from .keyphrases import extract_keyphrases
from .language import detect_language
from .models import Enrichment, ExtractedEntity, Keyphrase, LanguageGuess, Mention, TopicScore
from .pipeline import ENRICH_CODE_VERSION, Enricher
from .topics import IPTC_TOPICS, TOPICS_VERSION, TopicClassifier

__all__ = [
    "ENRICH_CODE_VERSION",
    "IPTC_TOPICS",
    "TOPICS_VERSION",
    "Enricher",
    "Enrichment",
    "ExtractedEntity",
    "Keyphrase",
    "LanguageGuess",
    "Mention",
    "TopicClassifier",
    "TopicScore",
    "detect_language",
    "extract_entities",
    "extract_keyphrases",
]

"""Named entities of an article from its spaCy docs: the model's spans, canonicalised by
:mod:`services.enrich.entities.canonical` (where the rules live, as pure functions over spans).

The title and the body are separate docs, so every :class:`Mention` carries offsets into the exact string
of its own field.  Only the cleaned body and the title reach the model: nothing the cleaner dropped.
"""

from __future__ import annotations

from collections.abc import Mapping

from spacy.tokens import Doc

from services.enrich.entities import MentionField, canonical
from services.enrich.entities.canonical import KEPT_LABELS, TYPE_PRIORITY, RawSpan, clean_span

from .models import ExtractedEntity

__all__ = ["KEPT_LABELS", "TYPE_PRIORITY", "clean_span", "extract_entities", "raw_spans"]


def raw_spans(
    doc: Doc, *, field: MentionField, labels: Mapping[str, str | None] | None = None
) -> list[RawSpan]:
    """The model's entity spans of one doc, untouched; with ``labels``, each label is mapped through it
    (a label mapped to ``None``, or missing from it, is dropped)."""
    if labels is None:
        return [RawSpan(field, ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]
    return [
        RawSpan(field, ent.start_char, ent.end_char, label)
        for ent in doc.ents
        if (label := labels.get(ent.label_)) is not None
    ]


def extract_entities(
    doc_title: Doc | None,
    doc_text: Doc,
    *,
    labels: Mapping[str, str | None] | None = None,
    language: str = "en",
) -> tuple[ExtractedEntity, ...]:
    """Entities of an article from its (separately parsed) title and body docs, most salient first.
    ``labels``: the mapping of the model's labels onto the served types (``None``: served as they are);
    ``language``: the article's language, whose titles, particles and aliases the canonicaliser applies."""
    spans = raw_spans(doc_text, field="text", labels=labels)
    if doc_title is not None:
        spans = raw_spans(doc_title, field="title", labels=labels) + spans
    return canonical.canonicalise(
        title=doc_title.text if doc_title is not None else None,
        text=doc_text.text,
        spans=spans,
        language=language,
    )

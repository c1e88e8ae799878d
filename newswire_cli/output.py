from __future__ import annotations

from typing import Any

from services.enrich.nlp import Enrichment


def enrichment_dict(result: Enrichment) -> dict[str, Any]:
    return {
        "detected_language": {
            "code": result.language.code,
            "confidence": round(result.language.confidence, 4),
        },
        "entities": [
            {
                "name": e.name,
                "type": e.type,
                "count": e.count,
                "aliases": e.aliases(),
                "salience": {
                    "score": e.salience.score,
                    "in_title": e.salience.in_title,
                    "in_lead": e.salience.in_lead,
                    "first_offset": e.salience.first_offset,
                },
                "mentions": [
                    {"field": m.field, "start": m.start, "end": m.end, "text": m.surface} for m in e.mentions
                ],
            }
            for e in result.entities
        ],
        "topics": [{"code": t.code, "label": t.label, "score": round(t.score, 4)} for t in result.topics],
        "keyphrases": [{"phrase": k.phrase, "score": k.score} for k in result.keyphrases],
        "ner_model": result.ner_model,
        "model_versions": result.versions,
    }

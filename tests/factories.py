"""Factories for test data: valid article payloads with unique URLs and texts."""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
_counter = itertools.count(1)

BODY = (
    "The central bank raised its main interest rate by a quarter point on Tuesday, citing inflation that "
    "has stayed above its target for a third year. Officials said further increases were possible."
)


def article_payload(**overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    token = uuid.uuid4().hex[:8]
    payload: dict[str, Any] = {
        "url": f"https://news.example.com/economy/{token}-{n}",
        "title": f"Central bank raises rates ({token})",
        "text": f"{BODY} Reference {token}-{n} was quoted by analysts in London.",
        "source": "example-wire",
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def sample_texts() -> list[Path]:
    return sorted(SAMPLES.glob("*.txt"))


def push_samples(ingest_client: Any, *, host: str) -> list[int]:
    """Push every sample through the ingest API (fresh URLs each call); the new article ids."""

    from newswire_cli.files import payloads

    ids = []
    for path in sample_texts():
        (payload,) = payloads(path, base_url=f"https://{host}/{uuid.uuid4().hex[:6]}/", source="samples")
        response = ingest_client.post("/v1/articles", json=payload)
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    return ids


def stored_article(session: Any, **fields: Any) -> Any:
    """An article row written straight to the database (read-side tests), flushed; ``entities`` is a list
    of (Entity, mention_count) and ``topics`` of (topic code, score)."""
    from shared.models import Article, ArticleEntity, ArticleTopic

    entities = fields.pop("entities", [])
    topics = fields.pop("topics", [])
    n = next(_counter)
    token = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "url": f"https://read.example.com/{token}-{n}",
        "title": f"Article {token}",
        "text": f"{BODY} ({token})",
        "content_hash": uuid.uuid4().hex + uuid.uuid4().hex,
        "raw_format": "text",
        "raw_content": "",
        "source": "example-wire",
        "status": "enriched",
    }
    values.update(fields)
    values.setdefault("canonical_url", values["url"])
    article = Article(**values)
    session.add(article)
    session.flush()
    for entity, count in entities:
        session.add(
            ArticleEntity(article_id=article.id, entity_id=entity.id, mention_count=count, mentions=[])
        )
    for code, score in topics:
        session.add(ArticleTopic(article_id=article.id, topic_code=code, score=score))
    session.flush()
    return article

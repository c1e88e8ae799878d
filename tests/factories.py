"""Factories for test data: valid article payloads with unique URLs and texts."""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

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


_WORDS = [
    "minister",
    "council",
    "river",
    "bridge",
    "election",
    "market",
    "budget",
    "court",
    "police",
    "storm",
    "harbour",
    "vote",
    "school",
    "report",
    "company",
    "union",
    "strike",
    "price",
    "energy",
    "farmers",
    "hospital",
    "railway",
    "airport",
    "army",
    "border",
    "treaty",
    "summit",
    "mayor",
    "village",
    "coast",
    "fire",
    "flood",
    "bank",
    "inflation",
    "export",
    "import",
    "factory",
    "workers",
    "doctors",
    "teachers",
    "museum",
    "festival",
    "season",
    "record",
    "league",
    "coach",
    "player",
    "stadium",
    "weather",
    "drought",
    "harvest",
    "tax",
    "fund",
    "pension",
    "reform",
]
_GLUE = [
    "the",
    "a",
    "of",
    "in",
    "on",
    "to",
    "and",
    "for",
    "with",
    "by",
    "from",
    "after",
    "before",
    "over",
    "under",
    "about",
    "against",
]


def story_text(seed: str, *, paragraphs: int = 5, sentences: int = 4) -> str:
    """A made-up news story of about 60 words a paragraph, the same for the same seed and unlike any other
    seed's (about 8,000 distinct word pairs)."""
    rng = random.Random(seed)
    out = []
    for _ in range(paragraphs):
        said = []
        for _ in range(sentences):
            n = rng.randint(10, 18)
            tokens = [rng.choice(_WORDS) if i % 2 == 0 else rng.choice(_GLUE) for i in range(n)]
            said.append(" ".join(tokens).capitalize() + ".")
        out.append(" ".join(said))
    return "\n\n".join(out)


def syndicated_copy(text: str, *, outlet: str) -> str:
    """What another site makes of a wire story: its own lines around it and the last paragraph cut."""
    kept = text.split("\n\n")[:-1]
    return "\n\n".join([f"By {outlet} staff", *kept, f"Read more news from {outlet} every day."])


def queued_article(session: Any, *, title: str, text: str, published_at: Any, source: str = "wire") -> Any:
    """A queued article row (raw input = its text) with a unique URL and hash, flushed; returns the row."""
    return stored_article(
        session,
        url=f"https://{source}.test/{uuid.uuid4().hex}",
        source=source,
        title=title,
        text=text,
        raw_content=text,
        published_at=published_at,
        status="queued",
    )


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
    if values["status"] == "enriched":  # the worker detected its language (English text above)
        values.setdefault("language", "en")
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


def write_enrichment(session: Any, *, article_id: int) -> None:
    """The worker's write of an enrichment with no entities or topics (services.enrich), in the caller's
    transaction: at its commit the article is enriched and the event trigger fires."""
    from services.enrich.articles.repository import replace_enrichment

    replace_enrichment(
        session,
        article_id=article_id,
        entity_rows=[],
        topic_rows=[],
        keyphrases=[],
        language="en",
        language_confidence=0.99,
        model_versions={},
        attempts=1,
    )


@dataclass
class Committed:
    """Articles stored and enriched each in its own committed transaction (for tests of what happens at
    commit time: the event trigger, the stream, webhooks)."""

    factory: sessionmaker[Session]

    def stored(self, n: int = 1, **fields: Any) -> list[int]:
        """Queued articles (no event yet)."""
        with self.factory() as session:
            ids = [int(stored_article(session, status="queued", **fields).id) for _ in range(n)]
            session.commit()
        return ids

    def enrich(self, *ids: int) -> None:
        """The worker's write of an enrichment of each article, in one committed transaction."""
        with self.factory() as session:
            for article_id in ids:
                write_enrichment(session, article_id=article_id)
            session.commit()

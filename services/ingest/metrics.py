from __future__ import annotations

from prometheus_client import Counter

ARTICLES_ACCEPTED = Counter("newswire_ingest_articles_accepted_total", "Articles stored and queued")
ARTICLES_DUPLICATE = Counter("newswire_ingest_articles_duplicate_total", "Articles answered as duplicates")
ARTICLES_REJECTED = Counter("newswire_ingest_articles_rejected_total", "Articles rejected", ["reason"])

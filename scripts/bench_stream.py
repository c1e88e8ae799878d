"""Latency of the live stream: from an enrichment's commit to its event at a connected client.

    NEWSWIRE_DATABASE_URL=... NEWSWIRE_API_KEY=nw_... python scripts/bench_stream.py --url http://127.0.0.1:8000

Connects to GET /v1/stream, then re-enriches (sets ``enriched_at``, as the worker does) one enriched article
at a time, committed, and times until the client receives it; prints p50/p95/max.  Runs against a database
an API process serves (e.g. the benchmark's): it writes only ``enriched_at`` of the articles it picks."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import func, select, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newswire_client import NewswireClient
from shared.db import session_factory
from shared.models import Article
from shared.settings import get_settings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--events", type=int, default=20)
    args = parser.parse_args()
    factory = session_factory()
    with factory() as session:
        ids = list(
            session.scalars(
                select(Article.id)
                .where(Article.status == "enriched")
                .order_by(Article.id.desc())
                .limit(args.events)
            )
        )
    latencies = []
    with NewswireClient(args.url, api_key=get_settings().api_key) as nw:
        events = nw.stream(max_seconds=600)
        next(events)  # connected
        for article_id in ids:
            with factory() as session:
                session.execute(
                    update(Article).where(Article.id == article_id).values(enriched_at=func.clock_timestamp())
                )
                session.commit()
            committed = time.perf_counter()
            for event in events:
                if event.data is not None and event.data["id"] == article_id:
                    latencies.append(time.perf_counter() - committed)
                    break
    q = statistics.quantiles(latencies, n=20)
    print(
        f"stream latency over {len(latencies)} events: p50 {statistics.median(latencies):.2f} s, "
        f"p95 {q[18]:.2f} s, max {max(latencies):.2f} s"
    )


if __name__ == "__main__":
    main()

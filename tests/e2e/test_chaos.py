"""The small `make chaos`: real processes on their own embedded PostgreSQL and Redis, one fault of each
kind while 300 articles are pushed (kills, restarts, hangs, a flushed Redis, duplicate publishes, a poison
article); nothing the ingest service acknowledged may be lost or doubled, nor any stream event or webhook
delivery, and the poison article ends failed after the attempt cap.

The harness starts (and stops) its own servers on free ports under a temp folder: the shared test
PostgreSQL and Redis are never touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from newswire_cli.dev.chaos import FAULTS, ChaosConfig, format_report, make_article, run_chaos
from services.ingest.articles.dedup import canonical_url, content_hash

pytestmark = pytest.mark.e2e


def test_chaos_articles_are_distinct() -> None:
    articles = [make_article("run", n) for n in range(1000)]
    assert len({canonical_url(a["url"]) for a in articles}) == 1000
    assert len({content_hash(a["text"]) for a in articles}) == 1000
    assert len({a["external_id"] for a in articles}) == 1000
    lines = [line for a in articles for line in a["text"].splitlines() if line.strip()]
    assert len(set(lines)) == len(lines)  # no line repeats: none can become the source's boilerplate


def test_chaos_nothing_lost_nothing_doubled(tmp_path: Path) -> None:
    config = ChaosConfig(
        articles=300,
        concurrency=4,
        rate=5.0,  # ~60 s of pushing, so every fault lands while feeders push
        seconds=480.0,
        workers=1,
        faults=FAULTS,
        down_seconds=1.5,
        hang_seconds=8.0,
        duplicate_window=4.0,
        redeliver_after=5.0,
        task_time_limit=20.0,
        verify=25,
        data_dir=tmp_path / "chaos",
    )
    report = run_chaos(config, say=lambda _: None)
    table = format_report(report, config)
    assert [f.name for f in report.faults] == list(FAULTS), table
    assert not [f for f in report.faults if f.error], table
    # the kills and restarts land while feeders push (the poison may be failed during the drain)
    assert all(f.phase == "push" for f in report.faults[:4]), table
    assert report.faults[0].interrupted, table  # the worker really died mid-task
    assert set(report.interrupted_status.values()) == {"enriched"}, table
    assert report.lost == 0, table
    assert report.doubled == 0, table
    assert report.verified == 25, table
    assert report.verify_mismatch == 0, table
    assert report.accepted == report.stored == report.enriched == config.articles, table
    assert report.api_enriched == config.articles, table
    assert report.responses.get("connection error", 0) > 0, table  # the ingest kill was felt
    # every enrichment made one stream event and one webhook delivery, none twice
    assert report.events_doubled == report.events_missing == 0, table
    assert report.deliveries_doubled == report.deliveries_missing == 0, table
    assert report.events == config.articles, table
    assert report.duplicates_published > 0, table
    # the poison article killed its worker up to the cap, then was failed as poison; nothing else suffered
    assert report.poison_status == "failed", table
    assert (report.poison_error or "").startswith("poison:"), table
    assert report.poison_attempts == config.max_attempts, table
    assert report.timed_out_requests == 0, table
    assert report.slowest_request_s < config.request_timeout, table
    assert report.ok, table

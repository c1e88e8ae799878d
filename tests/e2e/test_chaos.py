"""The small `make chaos`: real processes on their own embedded PostgreSQL and Redis, one fault of each
kind while articles are pushed; nothing the ingest service acknowledged may be lost or doubled.

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
        articles=150,
        concurrency=4,
        rate=6.0,  # ~25 s of pushing, so every fault lands while feeders push
        seconds=150.0,
        workers=1,
        faults=FAULTS,
        down_seconds=1.5,
        redeliver_after=5.0,
        verify=25,
        data_dir=tmp_path / "chaos",
    )
    report = run_chaos(config, say=lambda _: None)
    table = format_report(report, config)
    assert [f.name for f in report.faults] == list(FAULTS), table
    assert not [f for f in report.faults if f.error], table
    assert all(f.phase == "push" for f in report.faults), table
    assert report.faults[0].interrupted, table  # the worker really died mid-task
    assert set(report.interrupted_status.values()) == {"enriched"}, table
    assert report.lost == 0, table
    assert report.doubled == 0, table
    assert report.verified == 25, table
    assert report.verify_mismatch == 0, table
    assert report.accepted == report.stored == report.enriched == config.articles, table
    assert report.api_enriched == config.articles, table
    assert report.responses.get("connection error", 0) > 0, table  # the ingest kill was felt
    assert report.ok, table

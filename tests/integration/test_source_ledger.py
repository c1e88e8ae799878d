"""The coverage ledger on a real PostgreSQL: ingest counts each source's pushes per hour; hand-made hourly
histories are judged against each source's usual rate (silent sources, duplicate and failure jumps)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from newswire_cli.sources import render
from services.api.ops.metrics import api_collectors
from services.api.ops.schemas import SourceOut
from services.api.ops.service import CoverageRules, source_coverage
from services.enrich.articles import service as enrich_service
from shared.metrics import render as render_metrics
from shared.models import SourceHour
from shared.settings import get_settings
from tests.factories import article_payload

NOW = datetime(2030, 3, 14, 12, 30, tzinfo=UTC)  # a Thursday, half past noon
HOUR = timedelta(hours=1)
RULES = CoverageRules()

Rate = Callable[[datetime], tuple[int, int, int]]  # hour -> (accepted, duplicates, rejected)


def _history(session: Session, source: str, *, hours: int, until: datetime, rate: Rate) -> None:
    """Ledger rows for the `hours` hours before `until` (exclusive), as ingest would have written them."""
    for i in range(1, hours + 1):
        hour = until - i * HOUR
        accepted, duplicates, rejected = rate(hour)
        if accepted or duplicates or rejected:
            session.add(
                SourceHour(
                    source=source, hour=hour, accepted=accepted, duplicates=duplicates, rejected=rejected
                )
            )
    session.flush()


def _judge(session: Session, source: str, now: datetime = NOW) -> SourceOut:
    (item,) = [s for s in source_coverage(session=session, rules=RULES, now=now).items if s.source == source]
    return item


def test_a_steady_source_that_stops_is_silent_within_the_hour(db_session: Session) -> None:
    current = NOW.replace(minute=0)
    _history(db_session, "steady", hours=72, until=current - HOUR, rate=lambda _: (10, 0, 0))
    item = _judge(db_session, "steady")  # nothing since 11:00, 90 minutes ago; ~15 articles expected
    assert item.judged
    assert item.silent
    assert item.silent_s == 90 * 60
    assert item.expected_since_last == 15.0
    assert item.usual_per_hour == round(72 * 10 / 73, 2)  # 10:00 back to 73 hours ago; 11:00 was quiet
    assert item.hours[-2:] == [0, 0]
    assert item.hours[:-2] == [10] * 22

    not_yet = _judge(db_session, "steady", now=current - HOUR + timedelta(minutes=20))
    assert not not_yet.silent, "20 minutes into the first quiet hour: ~3 articles expected, not enough"
    assert not_yet.expected_since_last == round(10 * 20 / 60, 2)


def test_a_source_still_sending_is_not_silent(db_session: Session) -> None:
    current = NOW.replace(minute=0)
    _history(db_session, "busy", hours=48, until=current + HOUR, rate=lambda _: (12, 1, 0))
    item = _judge(db_session, "busy")
    assert not item.silent
    assert item.silent_s == 0
    assert item.this_hour == 13
    assert item.usual_this_hour == 13.0


def test_a_source_quiet_at_night_is_judged_by_the_same_hours_of_earlier_days(db_session: Session) -> None:
    def office_hours(hour: datetime) -> tuple[int, int, int]:
        return (20, 0, 0) if 6 <= hour.hour < 18 else (0, 0, 0)

    today = NOW.replace(hour=0, minute=0)
    _history(db_session, "daytime", hours=5 * 24, until=today + 6 * HOUR, rate=office_hours)
    at_night = _judge(db_session, "daytime", now=today + 2 * HOUR + timedelta(minutes=30))
    assert not at_night.silent, "nothing since 18:00, but it never sends at night"
    assert at_night.expected_since_last == 0
    assert at_night.usual_per_hour == round(5 * 12 * 20 / 116, 2)  # five days of 12 busy hours

    morning = _judge(db_session, "daytime", now=today + 6 * HOUR + timedelta(minutes=30))
    assert morning.silent, "06:30 and nothing since yesterday 18:00, when it usually sends 20 an hour"
    assert morning.expected_since_last == 10.0


def test_rare_and_new_sources_are_not_called_silent_too_soon(db_session: Session) -> None:
    current = NOW.replace(minute=0)
    _history(db_session, "daily", hours=6 * 24, until=current, rate=lambda h: (1 if h.hour == 9 else 0, 0, 0))
    assert not _judge(db_session, "daily").silent, "one a day: three quiet hours mean nothing"
    _history(db_session, "new", hours=10, until=current - 3 * HOUR, rate=lambda _: (50, 0, 0))
    new = _judge(db_session, "new")
    assert not new.judged, "less than a day of history: its usual rate is unknown"
    assert not new.silent


def test_a_jump_in_duplicates_or_failures_is_flagged(db_session: Session) -> None:
    current = NOW.replace(minute=0)
    usual: Rate = lambda _: (19, 1, 0)  # noqa: E731 - 5% duplicates, no rejections
    _history(db_session, "dupes", hours=48, until=current - 2 * HOUR, rate=usual)
    _history(db_session, "dupes", hours=3, until=current + HOUR, rate=lambda _: (5, 15, 0))
    _history(db_session, "rejects", hours=48, until=current - 2 * HOUR, rate=usual)
    _history(db_session, "rejects", hours=3, until=current + HOUR, rate=lambda _: (10, 1, 9))
    _history(db_session, "calm", hours=51, until=current + HOUR, rate=usual)

    dupes = _judge(db_session, "dupes")
    assert dupes.duplicates_jump
    assert not dupes.failures_jump
    assert dupes.duplicate_share == 0.75
    assert dupes.usual_duplicate_share == 0.05
    rejects = _judge(db_session, "rejects")
    assert rejects.failures_jump
    assert not rejects.duplicates_jump
    calm = _judge(db_session, "calm")
    assert not calm.duplicates_jump
    assert not calm.failures_jump
    assert not calm.silent

    coverage = source_coverage(session=db_session, rules=RULES, now=NOW)
    assert [s.source for s in coverage.items[:2]] == ["dupes", "rejects"], "flagged sources come first"
    assert coverage.flagged == 2


def test_few_recent_articles_are_not_a_jump(db_session: Session) -> None:
    current = NOW.replace(minute=0)
    _history(db_session, "small", hours=48, until=current - 2 * HOUR, rate=lambda _: (19, 1, 0))
    _history(db_session, "small", hours=3, until=current + HOUR, rate=lambda _: (1, 3, 0))
    item = _judge(db_session, "small")
    assert item.duplicate_share == 0.75
    assert not item.duplicates_jump, "12 recent pushes are too few to judge a share"


def _ledger(session: Session) -> dict[str, tuple[int, int, int]]:
    rows = session.execute(
        select(SourceHour.source, SourceHour.accepted, SourceHour.duplicates, SourceHour.rejected)
    )
    return {s: (a, d, r) for s, a, d, r in rows}


def test_ingest_counts_every_outcome_per_source_and_hour(
    ingest_client: httpx.Client, db_session: Session
) -> None:
    first = article_payload(source="wire-a")
    assert ingest_client.post("/v1/articles", json=first).status_code == 202
    assert ingest_client.post("/v1/articles", json=first).status_code == 200
    bad = ingest_client.post("/v1/articles", json={**article_payload(source="wire-a"), "text": "   "})
    assert bad.status_code == 422, "a rejection is still answered with its error"
    assert bad.json()["error"] in {"validation_error", "empty_article"}
    batch = ingest_client.post(
        "/v1/articles/batch",
        json={
            "articles": [
                article_payload(source="wire-b"),
                article_payload(source="wire-b"),
                {**article_payload(source="wire-b"), "url": "not a url"},
                article_payload(source=None),
                first,
            ]
        },
    )
    assert batch.status_code == 200
    assert (batch.json()["accepted"], batch.json()["duplicates"], batch.json()["rejected"]) == (3, 1, 1)
    assert _ledger(db_session) == {"wire-a": (1, 2, 1), "wire-b": (2, 0, 1), "": (1, 0, 0)}
    (hour,) = set(db_session.scalars(select(SourceHour.hour)))
    assert hour == datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def test_sources_endpoint_and_gauges(
    ingest_client: httpx.Client,
    api_client: httpx.Client,
    db_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    current = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    _history(db_session, "gone", hours=48, until=current - 2 * HOUR, rate=lambda _: (30, 0, 0))
    db_session.commit()
    article_id = ingest_client.post("/v1/articles", json=article_payload(source="alive")).json()["id"]
    enrich_service.mark_failed(session=db_session, article_id=article_id, error="OSError: x", attempts=1)
    db_session.commit()

    body = api_client.get("/v1/ops/sources").json()
    by_source = {s["source"]: s for s in body["items"]}
    assert body["items"][0]["source"] == "gone"
    assert by_source["gone"]["silent"]
    assert not by_source["alive"]["silent"]
    assert by_source["alive"]["recent"] == {"accepted": 1, "duplicates": 0, "rejected": 0, "failed": 1}
    flagged = api_client.get("/v1/ops/sources", params={"flagged": "true"}).json()
    assert [s["source"] for s in flagged["items"]] == ["gone"]

    metrics = render_metrics(api_collectors(session_factory, cache_seconds=0)).decode()  # internal /metrics
    silent = {
        s.labels["source"]: s.value
        for family in text_string_to_metric_families(metrics)
        if family.name == "newswire_source_silent"
        for s in family.samples
    }
    assert silent == {"gone": 1.0, "alive": 0.0}


def _source_labels(page: bytes) -> dict[str, float]:
    return {
        s.labels["source"]: s.value
        for family in text_string_to_metric_families(page.decode())
        if family.name == "newswire_source_usual_per_hour"
        for s in family.samples
    }


def test_source_labels_are_bounded_and_scrapes_are_cached(
    db_session: Session, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thirty sources (say, one key sending made-up names): the 4 busiest get a label, the rest are summed
    as `other`; within the cache period a scrape does not read the database again."""
    monkeypatch.setattr(get_settings(), "metrics_max_sources", 5)
    current = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for i in range(30):
        _history(db_session, f"made-up-{i:02d}", hours=30, until=current, rate=lambda _, i=i: (i + 1, 0, 0))
    db_session.commit()
    cached = api_collectors(session_factory, cache_seconds=3600)
    first = _source_labels(render_metrics(cached))
    assert set(first) == {"made-up-29", "made-up-28", "made-up-27", "made-up-26", "other"}
    assert first["other"] == pytest.approx(sum(range(1, 27)), rel=0.05)
    _history(db_session, "a-new-busy-one", hours=30, until=current, rate=lambda _: (1000, 0, 0))
    db_session.commit()
    assert _source_labels(render_metrics(cached)) == first, "cached: the database is not read again"
    fresh = _source_labels(render_metrics(api_collectors(session_factory, cache_seconds=0)))
    assert "a-new-busy-one" in fresh
    assert len(fresh) == 5


def test_the_sources_view_shows_the_flags_and_the_last_day(db_session: Session) -> None:
    current = NOW.replace(minute=0)
    _history(db_session, "steady", hours=72, until=current - HOUR, rate=lambda _: (10, 0, 0))
    _history(db_session, "busy", hours=48, until=current + HOUR, rate=lambda h: (h.hour % 5, 0, 0))
    console = Console(record=True, width=160)
    render(source_coverage(session=db_session, rules=RULES, now=NOW), console)
    screen = console.export_text()
    assert "Newswire sources (1 flagged of 2)" in screen
    steady = next(line for line in screen.splitlines() if "steady" in line)
    assert "SILENT" in steady
    assert "1h30m" in steady
    assert steady.rstrip(" │").endswith("█" * 22 + "··")
    busy = next(line for line in screen.splitlines() if "busy" in line)
    assert "ok" in busy
    assert "SILENT" not in busy

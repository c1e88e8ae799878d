"""A date range cut into the rollup periods the exact facets sum (migration 0023): whole months, then whole
ISO weeks, then days; every day of the range exactly once."""

from __future__ import annotations

import random
from datetime import date, timedelta

from services.api.articles.repository import rollup_periods


def _days(periods: dict[str, list[date]]) -> list[date]:
    out: list[date] = []
    for month in periods["m"]:
        day = month
        while day.month == month.month:
            out.append(day)
            day += timedelta(days=1)
    for week in periods["w"]:
        out.extend(week + timedelta(days=i) for i in range(7))
    out.extend(periods["d"])
    return out


def test_months_then_weeks_then_days() -> None:
    # Thursday 2025-11-20 to Tuesday 2026-02-10
    assert rollup_periods(date(2025, 11, 20), date(2026, 2, 10)) == {
        "m": [date(2025, 12, 1), date(2026, 1, 1)],
        "w": [date(2025, 11, 24), date(2026, 2, 2)],
        "d": [date(2025, 11, d) for d in (20, 21, 22, 23)] + [date(2026, 2, 1), date(2026, 2, 9)],
    }
    assert rollup_periods(date(2026, 3, 1), date(2026, 4, 1)) == {"m": [date(2026, 3, 1)], "w": [], "d": []}
    assert rollup_periods(date(2026, 1, 7), date(2026, 1, 9)) == {
        "m": [], "w": [], "d": [date(2026, 1, 7), date(2026, 1, 8)],
    }  # fmt: skip
    assert rollup_periods(date(2026, 1, 9), date(2026, 1, 9)) == {"m": [], "w": [], "d": []}


def test_every_day_of_a_range_exactly_once_in_aligned_periods() -> None:
    rng = random.Random(23)
    for _ in range(500):
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(900))
        end = start + timedelta(days=rng.choice([0, 1, 6, 7, 13, 30, 31, 90, 365, 800]))
        periods = rollup_periods(start, end)
        days = _days(periods)
        assert sorted(days) == [start + timedelta(days=i) for i in range((end - start).days)]
        assert all(m.day == 1 for m in periods["m"])
        assert all(w.weekday() == 0 for w in periods["w"])
        # at most six days before a Monday and six after the last whole week, on either side of the months
        assert len(periods["d"]) <= 24
        assert len(periods["w"]) <= 8

"""Pure rules of source-bound keys and the date window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.ingest.articles.schemas import date_problem
from shared.auth.keys import normalise_sources
from shared.auth.service import Principal, SourceNotAllowed, SourceRequired, write_source


def _principal(*sources: str, any_source: bool = False) -> Principal:
    return Principal(
        id=1, name="k", prefix="abcd1234", scopes=("ingest",), rate_limit_per_minute=None,
        sources=sources, any_source=any_source,
    )  # fmt: skip


def test_a_bound_key_writes_its_sources_and_defaults_to_its_only_one() -> None:
    one = _principal("alpha")
    assert write_source(one, "alpha") == "alpha"
    assert write_source(one, None) == "alpha"
    with pytest.raises(SourceNotAllowed) as refused:
        write_source(one, "beta")
    assert (refused.value.status_code, refused.value.error) == (403, "source_not_allowed")
    with pytest.raises(SourceRequired) as several:
        write_source(_principal("alpha", "beta"), None)
    assert several.value.status_code == 422
    with pytest.raises(SourceNotAllowed):
        write_source(_principal(), None)


def test_an_any_source_key_writes_everything_and_nothing() -> None:
    anyone = _principal(any_source=True)
    assert write_source(anyone, "whatever") == "whatever"
    assert write_source(anyone, None) is None


def test_sources_are_normalised() -> None:
    assert normalise_sources([" b ", "a", "b"]) == ["a", "b"]
    with pytest.raises(ValueError, match="empty"):
        normalise_sources([" "])
    with pytest.raises(ValueError, match="200"):
        normalise_sources(["x" * 201])


def test_the_date_window() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert date_problem(datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))), now=now) == (
        "date is out of range"
    )
    assert date_problem(datetime(1899, 12, 31, 23, 59, tzinfo=UTC), now=now) == "date is before 1900"
    assert date_problem(datetime(1900, 1, 1, tzinfo=UTC), now=now) is None
    assert date_problem(now + timedelta(hours=47), now=now) is None
    assert "future" in (date_problem(now + timedelta(hours=49), now=now) or "")
    assert date_problem(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))), now=now) is not None


def test_a_key_name_with_nul_is_refused_before_the_database() -> None:
    from shared.auth.service import create_key

    with pytest.raises(ValueError, match="NUL"):
        create_key(session=None, name="a\x00b", scopes=["read"])  # type: ignore[arg-type]

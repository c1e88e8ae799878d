"""The read API's per-query timeout (NEWSWIRE_QUERY_TIMEOUT_MS) seen from outside."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from shared.settings import get_settings


def assert_query_timeout_answers_504(
    api_client: httpx.Client,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    *,
    path: str,
    params: dict[str, Any],
    locked: str,
) -> None:
    """A read of ``path`` that must wait for table ``locked`` (another transaction holds ACCESS EXCLUSIVE
    on it), under a 200 ms query timeout: a clear 504 `query_timeout` with `Retry-After: 5`; with the lock
    gone, the same read answers 200."""
    monkeypatch.setattr(get_settings(), "query_timeout_ms", 200)
    with engine.connect() as other:
        other.execute(text(f"LOCK TABLE {locked} IN ACCESS EXCLUSIVE MODE"))
        response = api_client.get(path, params=params)
        other.rollback()
    assert response.status_code == 504, response.text
    assert response.json()["error"] == "query_timeout"
    assert response.headers["Retry-After"] == "5"
    assert api_client.get(path, params=params).status_code == 200

"""What every HTTP service gets from shared.http.create_base_app: its request threads set in the serving
event loop, and the open probes."""

from __future__ import annotations

from collections.abc import Callable

import anyio.to_thread
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.api.app import create_app as create_api
from services.ingest.app import create_app as create_ingest
from shared.settings import get_settings


@pytest.mark.parametrize("create_app", [create_api, create_ingest], ids=["api", "ingest"])
def test_each_service_runs_its_handlers_on_http_threads_and_serves_healthz(
    create_app: Callable[[], FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "http_threads", 7)
    with TestClient(create_app()) as client:
        threads = client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)
        assert threads == 7
        assert client.get("/healthz").json() == {"status": "ok"}

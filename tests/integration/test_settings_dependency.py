"""Routes read the settings per request (``shared.http.SettingsDep``), never when their module is imported."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import httpx
import pytest
from sqlalchemy.orm import Session

import services
from shared.settings import get_settings
from tests.factories import stored_article

_IMPORT_WITHOUT_SETTINGS = """
import importlib, sys
import shared.settings

def read(*_, **__):
    raise RuntimeError("the settings were read at import time")

shared.settings.get_settings = read
for name in sys.argv[1:]:
    importlib.import_module(name)
"""


def test_no_service_module_reads_the_settings_when_imported() -> None:
    modules = [m.name for m in pkgutil.walk_packages(services.__path__, "services.")]
    assert {"services.api.articles.endpoints", "services.enrich.celery_app"} <= set(modules)
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_WITHOUT_SETTINGS, *modules],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("path", ["/v1/articles", "/v1/entities", "/v1/stories", "/v1/ops/failed"])
def test_page_sizes_follow_the_settings_of_the_moment(
    api_client: httpx.Client, db_session: Session, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    for _ in range(3):
        stored_article(db_session, status="failed", error="OSError: boom")
    db_session.commit()
    monkeypatch.setattr(get_settings(), "page_size_max", 2)
    monkeypatch.setattr(get_settings(), "page_size_default", 1)

    too_many = api_client.get(path, params={"limit": 3})
    assert too_many.status_code == 422, too_many.text
    assert too_many.json() == {
        "error": "validation_error",
        "detail": [
            {
                "loc": ["query", "limit"],
                "msg": "Input should be less than or equal to 2",
                "type": "less_than_equal",
            }
        ],
    }
    assert api_client.get(path, params={"limit": 0}).status_code == 422
    assert api_client.get(path, params={"limit": 2}).status_code == 200
    if path in ("/v1/articles", "/v1/ops/failed"):  # the stored articles are in these lists
        assert len(api_client.get(path).json()["items"]) == 1  # the default page size

    limit = api_client.get("/openapi.json").json()["paths"][path]["get"]["parameters"]
    (schema,) = [p["schema"] for p in limit if p["name"] == "limit"]
    assert (schema["maximum"], schema["default"], schema["minimum"]) == (2, 1, 1)

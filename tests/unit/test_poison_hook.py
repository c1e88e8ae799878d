"""The chaos run's poison hook cannot fire in a production configuration: it needs a random
`chaos-poison-<32 hex>` marker (anything else is refused at startup) and a database on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from pydantic import ValidationError

from shared.settings import Settings

MARKER = f"chaos-poison-{uuid.uuid4().hex}"

_CALL = """
from services.enrich.articles.service import EnrichInput
from services.enrich.articles.tasks import _chaos_poison
_chaos_poison([EnrichInput(1, "Talks resume " + {marker!r}, "text", "hash")])
print("alive")
"""


@pytest.mark.parametrize("marker", ["yes", "chaos-poison-1", "chaos-poison-" + "g" * 32, "x" + MARKER])
def test_only_a_random_marker_is_accepted(marker: str) -> None:
    with pytest.raises(ValidationError):
        Settings(chaos_poison_marker=marker)


def _run(database_url: str, marker: str | None, title_marker: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
    env.update(NEWSWIRE_DATABASE_URL=database_url, NEWSWIRE_DATA_DIR=os.environ["NEWSWIRE_DATA_DIR"])
    if marker is not None:
        env["NEWSWIRE_CHAOS_POISON_MARKER"] = marker
    code = _CALL.format(marker=title_marker)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_the_hook_kills_the_process_only_with_the_marker_and_a_loopback_database() -> None:
    loopback = "postgresql+psycopg://postgres@127.0.0.1:5432/x"
    died = _run(loopback, MARKER, MARKER)
    assert died.returncode == 70, died.stderr[-2000:]
    assert "alive" not in died.stdout
    for url, marker, title in [
        ("postgresql+psycopg://postgres@db.internal:5432/x", MARKER, MARKER),  # a real deployment's database
        (loopback, None, MARKER),  # no marker configured (the default)
        (loopback, MARKER, f"chaos-poison-{uuid.uuid4().hex}"),  # another run's marker
    ]:
        done = _run(url, marker, title)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip().endswith("alive")

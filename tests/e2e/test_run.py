"""`newswire run` (what `make run` starts): embedded PostgreSQL and Redis, every service, the samples."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import bearer
from tests.e2e.harness import ROOT, free_port
from tests.support.cli import newswire

pytestmark = pytest.mark.e2e


def _wait_for_line(proc: subprocess.Popen[bytes], log: Path, needle: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = log.read_text(errors="replace")
        if needle in output:
            return output
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    pytest.fail(
        f"{needle!r} not printed within {timeout} s; output:\n{log.read_text(errors='replace')[-5000:]}"
    )


def test_run_starts_everything_enriches_the_samples_and_stops_cleanly(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("pg", "redis", "ingest", "api", "flower")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
    env.update(
        {
            "NEWSWIRE_DATA_DIR": str(tmp_path / "data"),
            "NEWSWIRE_EMBEDDED_PG_PORT": str(ports["pg"]),
            "NEWSWIRE_EMBEDDED_REDIS_PORT": str(ports["redis"]),
            "NEWSWIRE_INGEST_PORT": str(ports["ingest"]),
            "NEWSWIRE_API_PORT": str(ports["api"]),
            "NEWSWIRE_FLOWER_PORT": str(ports["flower"]),
            "COLUMNS": "200",
        }
    )
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "newswire_cli", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        output = _wait_for_line(proc, log, "Newswire is running", timeout=300)
        assert "queued 5, duplicates 0, failed 0" in output
        assert f"http://127.0.0.1:{ports['api']}/v1/articles" in output
        assert f"http://127.0.0.1:{ports['flower']}" in output
        assert "flower is not answering" not in output

        api = f"http://127.0.0.1:{ports['api']}"
        key_match = re.search(r"admin API key (nw_\S+)", output)
        assert key_match, output
        key = key_match.group(1)
        assert (tmp_path / "data" / "api-key").read_text().strip() == key
        assert f"curl -s -H 'Authorization: Bearer {key}'" in output
        assert httpx.get(f"{api}/v1/articles").status_code == 401
        items = httpx.get(f"{api}/v1/articles", params={"limit": 50}, headers=bearer(key)).json()["items"]
        assert len(items) == 5
        assert {a["status"] for a in items} == {"enriched"}
        flower_match = re.search(r"\(user (\S+), password (\S+)\)", output)
        assert flower_match, output
        flower = f"http://127.0.0.1:{ports['flower']}"
        assert httpx.get(f"{flower}/").status_code == 401
        assert httpx.get(f"{flower}/", auth=flower_match.groups()).status_code == 200
        assert (tmp_path / "data" / "postgres" / "PG_VERSION").exists()

        # an operator's command in the same folder finds this platform with no URL in the environment
        record = tmp_path / "data" / "platform.json"
        assert record.stat().st_mode & 0o777 == 0o600
        cli_env = {k: v for k, v in env.items() if k == "NEWSWIRE_DATA_DIR" or not k.startswith("NEWSWIRE_")}
        queues = newswire("queues", env=cli_env)
        assert queues.returncode == 0, queues.stderr
        assert "not yet published" in queues.stdout  # the database was reached too
        assert "is not set" not in queues.stdout

        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(60) == 0
        assert not record.exists()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{api}/healthz", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

"""Commands run beside a running `newswire run` use its platform with no NEWSWIRE_* URL set: the run records
its URLs in `<data_dir>/platform.json` and the settings loader falls back to them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.settings import PLATFORM_FILE, Settings, load_settings, record_platform
from tests.e2e.harness import ROOT
from tests.support.cli import newswire

FreshDatabase = Callable[[str], str]


def _bare_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
    return {**env, "COLUMNS": "200", **extra}


def _cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return newswire(*args, env={**env, "PYTHONPATH": str(ROOT)}, cwd=cwd)


def _record(folder: Path, *, pid: int, database_url: str | None, redis_url: str | None) -> Path:
    settings = Settings(data_dir=folder / ".newswire", database_url=database_url, redis_url=redis_url)
    return record_platform(
        settings, pid=pid, ingest_url="http://127.0.0.1:8001", api_url="http://127.0.0.1:8000"
    )


def _finished_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_commands_in_the_folder_of_a_running_platform_use_it(
    fresh_database: FreshDatabase, redis_url: str, tmp_path: Path
) -> None:
    database_url = fresh_database("platform")
    path = _record(tmp_path, pid=os.getpid(), database_url=database_url, redis_url=redis_url)
    assert path == tmp_path / ".newswire" / PLATFORM_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["database_url"] == database_url

    queues = _cli("queues", cwd=tmp_path, env=_bare_env())
    assert queues.returncode == 0, queues.stderr
    assert "not yet published" in queues.stdout  # the database figures came too
    assert "is not set" not in queues.stdout

    created = _cli(
        "keys", "create", "--name", "beside-run", "--scope", "read", "--json", cwd=tmp_path, env=_bare_env()
    )
    assert created.returncode == 0, created.stderr
    listed = _cli("keys", "list", "--json", cwd=tmp_path, env=_bare_env())
    assert listed.returncode == 0, listed.stderr
    assert "beside-run" in listed.stdout


def test_a_record_left_by_a_stopped_run_is_ignored(redis_url: str, tmp_path: Path) -> None:
    _record(
        tmp_path,
        pid=_finished_pid(),
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/x",
        redis_url=redis_url,
    )
    queues = _cli("queues", cwd=tmp_path, env=_bare_env())
    assert queues.returncode != 0
    assert "NEWSWIRE_BROKER_URL" in queues.stderr


def test_the_environment_wins_over_the_record(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _record(
        tmp_path, pid=os.getpid(), database_url="postgresql+psycopg://run@h/db", redis_url="redis://run:1/0"
    )
    (tmp_path / ".newswire" / "api-key").write_text("nw_admin\n")
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "REDIS_URL", "API_KEY", "DATA_DIR"):
        monkeypatch.delenv(f"NEWSWIRE_{name}", raising=False)
    monkeypatch.setenv("NEWSWIRE_REDIS_URL", "redis://mine:2/0")

    settings = load_settings()
    assert settings.database_url == "postgresql+psycopg://run@h/db"
    assert settings.redis_url == "redis://mine:2/0"
    assert settings.api_key == "nw_admin"
    assert (settings.ingest_port, settings.api_port) == (8001, 8000)

    (tmp_path / ".newswire" / PLATFORM_FILE).unlink()
    assert load_settings().database_url is None

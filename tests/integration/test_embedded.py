"""Real embedded PostgreSQL and Redis: start, query, stop, restart with the data kept, crash recovery."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from newswire_cli.dev.embedded import EmbeddedPostgres, EmbeddedRedis, EmbeddedServerError

pytestmark = pytest.mark.timeout(120)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _psycopg_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        with contextlib.suppress(ChildProcessError):  # reap it if it is our child (redis-server)
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    raise AssertionError(f"process {pid} still alive")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[EmbeddedPostgres, EmbeddedRedis]]:
    data_dir = tmp_path / ".newswire"
    pg = EmbeddedPostgres(data_dir, _free_port())
    rd = EmbeddedRedis(data_dir, _free_port())
    yield pg, rd
    # never leave servers behind, whatever the test did
    for server in (EmbeddedRedis(data_dir, rd.port), rd, EmbeddedPostgres(data_dir, pg.port), pg):
        with contextlib.suppress(EmbeddedServerError):
            server.stop()


def test_start_query_stop_restart_keeps_data(servers: tuple[EmbeddedPostgres, EmbeddedRedis]) -> None:
    pg, rd = servers
    data_dir = pg.data_dir

    # --- first start: fresh cluster and AOF ---------------------------------------------------
    db_url = pg.start()
    redis_url = rd.start()
    assert db_url == f"postgresql+psycopg://postgres@127.0.0.1:{pg.port}/newswire"
    assert redis_url == f"redis://127.0.0.1:{rd.port}/0"
    assert pg.is_running()
    assert rd.is_running()
    assert (data_dir / "postgres" / "PG_VERSION").is_file()
    assert (data_dir / "redis").is_dir()

    with psycopg.connect(_psycopg_url(db_url), autocommit=True) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
        assert conn.execute("select current_database()").fetchone() == ("newswire",)
        assert conn.execute("show server_encoding").fetchone() == ("UTF8",)
        conn.execute("create table kept (id int primary key, title text not null)")
        conn.execute("insert into kept values (1, 'Zürich – 東京')")

    client = redis.Redis.from_url(redis_url)
    assert client.set("newswire:key", "value") is True
    assert client.get("newswire:key") == b"value"
    client.close()

    # --- idempotent: a second start on the same folder reuses the running servers -------------
    assert EmbeddedPostgres(data_dir, pg.port).start() == db_url
    assert EmbeddedRedis(data_dir, rd.port).start() == redis_url

    pg.stop()
    rd.stop()
    assert not pg.is_running()
    assert not rd.is_running()
    pg.stop()  # stopping a stopped server is a no-op
    rd.stop()

    # --- second start (new objects, as a new `newswire run` would): the data survived ---------
    pg2 = EmbeddedPostgres(data_dir, pg.port)
    rd2 = EmbeddedRedis(data_dir, rd.port)
    assert pg2.start() == db_url
    assert rd2.start() == redis_url
    with psycopg.connect(_psycopg_url(db_url)) as conn:
        assert conn.execute("select id, title from kept").fetchall() == [(1, "Zürich – 東京")]
    client = redis.Redis.from_url(redis_url)
    assert client.get("newswire:key") == b"value"
    client.close()
    pg2.stop()
    rd2.stop()
    assert not pg2.is_running()
    assert not rd2.is_running()


def test_restart_after_kill(servers: tuple[EmbeddedPostgres, EmbeddedRedis]) -> None:
    """A killed run leaves a stale postmaster.pid / Redis state file; the next start recovers."""
    pg, rd = servers
    db_url = pg.start()
    redis_url = rd.start()
    with psycopg.connect(_psycopg_url(db_url), autocommit=True) as conn:
        conn.execute("create table t (x int)")
        conn.execute("insert into t values (42)")
    client = redis.Redis.from_url(redis_url)
    client.set("k", "v")
    client.close()

    postmaster_pid = int((pg.data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    redis_pid = int(json.loads((rd.data_dir / "redis" / "server.json").read_text())["pid"])
    os.kill(postmaster_pid, signal.SIGKILL)
    os.kill(redis_pid, signal.SIGKILL)
    _wait_gone(postmaster_pid)
    _wait_gone(redis_pid)
    assert (pg.data_dir / "postgres" / "postmaster.pid").exists()  # stale
    assert not pg.is_running()

    pg2 = EmbeddedPostgres(pg.data_dir, pg.port)
    rd2 = EmbeddedRedis(rd.data_dir, rd.port)
    assert pg2.start() == db_url  # crash recovery replays the WAL
    assert rd2.start() == redis_url
    with psycopg.connect(_psycopg_url(db_url)) as conn:
        assert conn.execute("select x from t").fetchall() == [(42,)]
    client = redis.Redis.from_url(redis_url)
    assert client.get("k") == b"v"
    client.close()
    pg2.stop()
    rd2.stop()


def test_port_taken_by_another_program(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = int(busy.getsockname()[1])
        with pytest.raises(EmbeddedServerError, match=f"port {port} .* already in use"):
            EmbeddedPostgres(tmp_path, port).start()
        with pytest.raises(EmbeddedServerError, match=f"port {port} .* already in use"):
            EmbeddedRedis(tmp_path, port).start()
    assert not (tmp_path / "postgres" / "PG_VERSION").exists()

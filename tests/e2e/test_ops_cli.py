"""End to end, as an operator: a worker with a broken model dead-letters articles; `newswire queues --watch`
(in a real terminal: tmux) shows them live; `newswire failed` lists, shows and retries them once a good
worker runs; the live view follows."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import RUN_ID, bearer
from tests.e2e.harness import ROOT, forget_queue, free_port, platform_env, running, start, stop, wait_ready
from tests.e2e.test_ops_metrics import scrape, value, wait_statuses
from tests.factories import article_payload
from tests.support import cli

pytestmark = pytest.mark.e2e

TMUX_SOCKET = f"nw-ops-{RUN_ID}"
SESSION = "queues"


def newswire(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return cli.newswire(*args, env={**env, "COLUMNS": "200", "NO_COLOR": "1", "NEWSWIRE_LOG_JSON": "false"})


def tmux(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["tmux", "-L", TMUX_SOCKET, *args], capture_output=True, text=True, check=check)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[None]:
    """A tmux server of this test's own (its own socket), killed afterwards."""
    if shutil.which("tmux") is None:
        pytest.fail("tmux is needed for this test (apt-get install tmux)")
    yield
    tmux("kill-server", check=False)


def screen_row(screen: str, queue: str) -> dict[str, str] | None:
    """The figures of `queue` on the screen as {column: value}, from the wide table (one row per queue)
    or the narrow one (one line per figure, on terminals under 150 columns). None: not drawn yet."""

    def cells(line: str) -> list[str]:
        return [c.strip() for c in line.replace("┃", "│").strip().strip("│").split("│")]

    lines = [line for line in screen.splitlines() if "│" in line or "┃" in line]
    header = next((cells(line) for line in lines if "waiting" in line and "failed/min" in line), None)
    if header is not None:
        row = next((cells(line) for line in lines if f" {queue} " in line), None)
        if row is None or len(header) != len(row):
            return None
        return dict(zip(header, row, strict=True))
    if not any(cells(line) == ["figure", queue] for line in lines):
        return None
    pairs = [cells(line) for line in lines]
    figures = {pair[0]: pair[1] for pair in pairs if len(pair) == 2 and pair[0] != "figure"}
    return figures if "oldest waiting" in figures else None


def wait_screen(queue: str, want: dict[str, str], timeout: float = 60) -> tuple[str, dict[str, str]]:
    deadline = time.monotonic() + timeout
    screen, row = "", None
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", SESSION).stdout
        row = screen_row(screen, queue)
        if row is not None and all(row.get(k) == v for k, v in want.items()):
            return screen, row
        time.sleep(0.5)
    pytest.fail(f"the screen never showed {want}; last row {row}; screen:\n{screen}")


def test_operator_sees_and_retries_failures(
    fresh_database: object, redis_url: str, tmp_path: Path, terminal: None
) -> None:
    database_url: str = fresh_database("ops_cli")  # type: ignore[operator]
    queue = f"enrich-ops-cli-{RUN_ID}"
    logs = tmp_path / "logs"
    logs.mkdir()
    ingest_port, api_port, worker_port = free_port(), free_port(), free_port()
    env = platform_env(
        database_url=database_url,
        redis_url=redis_url,
        queue=queue,
        scopes=("ingest", "read"),
        NEWSWIRE_WORKER_METRICS_PORT=str(worker_port),
        NEWSWIRE_METRICS_DIR=str(tmp_path / "metrics"),
    )
    key = env["NEWSWIRE_API_KEY"]
    ingest_url, api_url = f"http://127.0.0.1:{ingest_port}", f"http://127.0.0.1:{api_port}"
    worker_metrics = f"http://127.0.0.1:{worker_port}/metrics"
    try:
        with running() as processes:
            start(processes, "ingest", ["serve", "ingest", "--port", str(ingest_port)], env, logs)
            start(processes, "api", ["serve", "api", "--port", str(api_port)], env, logs)
            start(processes, "relay", ["relay"], env, logs)
            broken = {**env, "NEWSWIRE_SPACY_MODEL": "no_such_model"}
            start(
                processes,
                "worker",
                ["worker", "--concurrency", "1", "--hostname", f"bad-{RUN_ID}@%h"],
                broken,
                logs,
            )
            wait_ready(f"{ingest_url}/readyz", processes, logs)
            wait_ready(f"{api_url}/readyz", processes, logs)
            wait_ready(worker_metrics, processes, logs)

            # --- the live view, in a real terminal, from before anything happens ----------------
            script = tmp_path / "queues.sh"
            exports = "".join(
                f"export {k}={shlex.quote(v)}\n"
                for k, v in {**env, "NEWSWIRE_LOG_JSON": "false", "TERM": "xterm-256color"}.items()
                if k.isidentifier() and k not in ("COLUMNS", "LINES")  # the terminal's own size
            )
            script.write_text(
                f"{exports}cd {shlex.quote(str(ROOT))}\n"
                f"exec {shlex.quote(sys.executable)} -m newswire_cli queues --watch --interval 1\n"
            )
            tmux("new-session", "-d", "-s", SESSION, "-x", "80", "-y", "30", f"sh {shlex.quote(str(script))}")
            wait_screen(queue, {"waiting": "0", "queued": "0", "failed": "0", "enriched": "0"})

            with httpx.Client(base_url=ingest_url, timeout=30, headers=bearer(key)) as ingest:
                ids = [ingest.post("/v1/articles", json=article_payload()).json()["id"] for _ in range(2)]
            wait_statuses(api_url, ids, "failed", processes, logs, timeout=90, key=key)

            screen, row = wait_screen(queue, {"failed": "2", "queued": "0", "enriched": "0"})
            assert float(row["failed/min"]) > 0, screen
            assert float(row["in/min"]) > 0, screen
            assert row["oldest waiting"] == "-", screen
            assert "Ctrl-C quits" in screen

            worker = scrape(worker_metrics)
            assert value(worker, "newswire_enrich_dead_lettered_total", error="OSError") == 2, worker
            assert value(worker, "newswire_enrich_failures_total", error="OSError") == 2
            assert value(worker, "newswire_enrich_retries_total") == 0  # a missing model is not transient
            assert value(worker, "newswire_enrich_tasks_total", outcome="failed") == 2
            assert value(worker, "newswire_model_load_seconds_count", outcome="error") == 2

            # --- newswire failed: list, show ------------------------------------------------------
            listed = newswire(env, "failed", "list", "--json")
            assert listed.returncode == 0, listed.stderr
            page = json.loads(listed.stdout)
            assert sorted(i["id"] for i in page["items"]) == sorted(ids)
            assert page["by_error_type"] == {"OSError": 2}
            table = newswire(env, "failed", "list")
            assert "Failed articles: 2" in table.stdout, table.stdout
            assert "OSError" in table.stdout
            shown = newswire(env, "failed", "show", str(ids[0]))
            assert shown.returncode == 0, shown.stderr
            assert "no_such_model" in shown.stdout
            for stage in ("received_at", "stored_at", "queued_at", "enrich_started_at", "failed_at"):
                line = next(line for line in shown.stdout.splitlines() if stage in line)
                assert "20" in line, f"{stage} not set: {shown.stdout}"
            missing = newswire(env, "failed", "show", "999999")
            assert missing.returncode == 1
            assert "no article" in missing.stderr

            # --- the model is fixed: a good worker, then retry one, then the rest -----------------
            stop(processes, "worker")
            start(
                processes,
                "worker",
                ["worker", "--concurrency", "1", "--hostname", f"good-{RUN_ID}@%h"],
                env,
                logs,
            )
            one = newswire(env, "failed", "retry", str(ids[0]))
            assert one.returncode == 0, one.stdout + one.stderr
            assert json.loads(one.stdout) == {"retried": [ids[0]], "remaining": 0, "errors": []}
            again = newswire(env, "failed", "retry", str(ids[0]))  # no longer failed
            assert again.returncode == 1
            assert "not failed" in json.loads(again.stdout)["errors"][0]
            rest = newswire(env, "failed", "retry", "--all")
            assert json.loads(rest.stdout)["retried"] == [ids[1]], rest.stdout
            wait_statuses(api_url, ids, "enriched", processes, logs, timeout=120, key=key)

            # the live view followed, without being restarted
            wait_screen(queue, {"failed": "0", "enriched": "2", "queued": "0", "waiting": "0"})
            assert newswire(env, "failed", "list", "--json").stdout.count('"id"') == 0

            # Ctrl-C ends it cleanly
            tmux("send-keys", "-t", SESSION, "C-c")
            deadline = time.monotonic() + 20
            while (
                time.monotonic() < deadline
                and tmux("has-session", "-t", SESSION, check=False).returncode == 0
            ):
                time.sleep(0.3)
            assert tmux("has-session", "-t", SESSION, check=False).returncode != 0, (
                "Ctrl-C did not end the view"
            )
    finally:
        forget_queue(redis_url, queue)

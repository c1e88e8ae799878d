"""What every end-to-end test needs: free ports, real `newswire` processes with their own log files,
readiness checks that fail with the processes' logs, and a clean stop."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import cli_api_key

ROOT = Path(__file__).resolve().parents[2]

Processes = dict[str, subprocess.Popen[bytes]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def platform_env(
    *, database_url: str, redis_url: str, queue: str, scopes: tuple[str, ...] = ("admin",), **extra: str
) -> dict[str, str]:
    """The environment of a test platform's processes, with a key of `scopes` made by `newswire keys
    create` in NEWSWIRE_API_KEY (`newswire ingest` and the other CLI commands send it)."""
    env = {
        **os.environ,
        "NEWSWIRE_DATABASE_URL": database_url,
        "NEWSWIRE_REDIS_URL": redis_url,
        "NEWSWIRE_ENRICH_QUEUE": queue,
        "NEWSWIRE_LOG_JSON": "true",
        "NEWSWIRE_OUTBOX_RELAY_INTERVAL": "1",
        # internal /metrics ports off unless a test asks (parallel platforms would fight for the defaults)
        "NEWSWIRE_INGEST_METRICS_PORT": "0",
        "NEWSWIRE_API_METRICS_PORT": "0",
        **extra,
    }
    env["NEWSWIRE_API_KEY"] = cli_api_key(env, *scopes)
    return env


def log_tails(logs: Path, lines: int = 40) -> str:
    parts = []
    for log in sorted(logs.glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"--- {log.name} (last {len(tail)} lines) ---\n" + "\n".join(tail))
    return "\n".join(parts) or f"(no logs in {logs})"


def start(processes: Processes, name: str, args: list[str], env: dict[str, str], logs: Path) -> None:
    """Start ``python -m newswire_cli *args`` as ``processes[name]``, appending to ``logs/name.log``."""
    with (logs / f"{name}.log").open("ab") as log:
        processes[name] = subprocess.Popen(
            [sys.executable, "-m", "newswire_cli", *args],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def stop(processes: Processes, *names: str, timeout: float = 30) -> None:
    """Terminate the named processes (all when none is named), then kill what is still running."""
    chosen = [processes.pop(n) for n in (names or list(processes))]
    for proc in chosen:
        if proc.poll() is None:
            proc.terminate()
    for proc in chosen:
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextlib.contextmanager
def running() -> Iterator[Processes]:
    """Processes started into the yielded dict are stopped on the way out."""
    processes: Processes = {}
    try:
        yield processes
    finally:
        stop(processes)


def check_alive(processes: Processes, logs: Path) -> None:
    for name, proc in processes.items():
        if proc.poll() is not None:
            pytest.fail(f"{name} exited with {proc.returncode}\n{log_tails(logs)}")


def wait_ready(url: str, processes: Processes, logs: Path, timeout: float = 90) -> None:
    """Poll ``url`` until it answers 200; fail with the logs if a process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check_alive(processes, logs)
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    pytest.fail(f"{url} not ready after {timeout} s\n{log_tails(logs)}")


def start_platform(
    processes: Processes, env: dict[str, str], logs: Path, *, worker: str | None = None, relay: bool = True
) -> tuple[str, str]:
    """Start `serve ingest` and `serve api` on free ports, the outbox relay (unless ``relay`` is false)
    and, when ``worker`` names one, an enrich worker (concurrency 1, hostname ``worker@%h``); wait until
    ingest and the API are ready. Returns their base URLs."""
    ingest_port, api_port = free_port(), free_port()
    start(processes, "ingest", ["serve", "ingest", "--port", str(ingest_port)], env, logs)
    start(processes, "api", ["serve", "api", "--port", str(api_port)], env, logs)
    if relay:
        start(processes, "relay", ["relay"], env, logs)
    if worker is not None:
        start(processes, "worker", ["worker", "--concurrency", "1", "--hostname", f"{worker}@%h"], env, logs)
    ingest_url, api_url = f"http://127.0.0.1:{ingest_port}", f"http://127.0.0.1:{api_port}"
    wait_ready(f"{ingest_url}/readyz", processes, logs)
    wait_ready(f"{api_url}/readyz", processes, logs)
    return ingest_url, api_url


def forget_queue(redis_url: str, queue: str) -> None:
    """Delete a test queue and every key that names it (Celery's unacked entries included)."""
    client = redis.Redis.from_url(redis_url)
    try:
        keys = [queue, *client.scan_iter(match=f"*{queue}*")]
        client.delete(*keys)
    finally:
        client.close()

"""Child processes of the `newswire` command (``newswire run``, ``newswire chaos``): each runs one
``python -m newswire_cli ...`` subcommand in its own session, logging to its own file."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill_group(self) -> None:
        """SIGKILL the child and everything it started (its session): no cleanup, no goodbye."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def spawn(name: str, args: list[str], *, env: dict[str, str], log_dir: Path) -> Child:
    """Start ``python -m newswire_cli *args`` with its output appended to ``log_dir/name.log``."""
    log = log_dir / f"{name}.log"
    handle = log.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "newswire_cli", *args],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches us; we stop the children in order
    )
    handle.close()
    return Child(name, process, log)


def stop_children(children: list[Child], timeout: float = 15.0) -> None:
    """SIGTERM every live child, then SIGKILL the ones still running after ``timeout`` seconds."""
    for child in children:
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()


def wait_ready(
    url: str,
    children: list[Child],
    timeout: float,
    ok: frozenset[int] = frozenset({200}),
    headers: dict[str, str] | None = None,
) -> None:
    """Poll ``url`` until it answers a status in ``ok``; raise if a child exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in children:
            if child.process.poll() is not None:
                raise RuntimeError(f"{child.name} exited with {child.process.returncode}; see {child.log}")
        try:
            if httpx.get(url, timeout=2, headers=headers).status_code in ok:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not become ready within {timeout:.0f} s")

"""`newswire` as a user runs it: ``python -m newswire_cli`` in a subprocess, output captured as text."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def newswire(
    *args: str, env: Mapping[str, str], timeout: float = 120, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """Run ``newswire *args`` with exactly ``env`` and wait for it (at most ``timeout`` s); the exit code
    is the caller's to check."""
    return subprocess.run(
        [sys.executable, "-m", "newswire_cli", *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )

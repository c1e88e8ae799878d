"""Pushing files to the ingest service over HTTP (used by `newswire ingest` and `newswire run`)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from newswire_cli.files import payloads
from shared.deadline import send
from shared.settings import get_settings


def auth_headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def post_with_retry(
    client: httpx.Client,
    url: str,
    payload: dict[str, Any],
    *,
    attempts: int = 4,
    deadline: float | None = None,
) -> httpx.Response:
    """Retries are safe: one Idempotency-Key for every attempt, and a repeated article is answered as a
    duplicate anyway, never stored twice. Each attempt has a total deadline (NEWSWIRE_HTTP_TOTAL_TIMEOUT
    by default)."""
    deadline = deadline if deadline is not None else get_settings().http_total_timeout
    delay = 0.5
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    for attempt in range(attempts):
        try:
            response = send(client, "POST", url, deadline=deadline, json=payload, headers=headers)
            retryable = (
                response.status_code >= 500
                or response.status_code == 429
                # the first try with this key still runs (e.g. it waited on a busy database)
                or (response.status_code == 409 and "idempotency_key_in_progress" in response.text)
            )
            if not retryable or attempt == attempts - 1:
                return response
            retry_after = response.headers.get("retry-after", "")
            if retry_after.isdigit():
                delay = max(delay, min(float(retry_after), 60.0))
        except httpx.TransportError:
            if attempt == attempts - 1:
                raise
        time.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")


def push_files(
    files: list[Path],
    *,
    ingest_url: str,
    source: str | None,
    base_url: str,
    concurrency: int = 4,
    show_progress: bool = True,
    api_key: str | None = None,
) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for path in files:
        try:
            items.extend(payloads(path, base_url=base_url, source=source))
        except (OSError, ValueError) as exc:
            errors.append({"file": str(path), "error": str(exc)})
    results: list[dict[str, Any]] = []
    endpoint = ingest_url.rstrip("/") + "/v1/articles"
    with (
        httpx.Client(timeout=30.0, headers=auth_headers(api_key)) as client,
        Progress(
            TextColumn("pushing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            disable=not show_progress,
        ) as progress,
    ):
        task = progress.add_task("push", total=len(items))

        def push(payload: dict[str, Any]) -> dict[str, Any]:
            try:
                response = post_with_retry(client, endpoint, payload)
                body = (
                    response.json()
                    if response.headers.get("content-type", "").startswith("application/json")
                    else {}
                )
                out = {"url": payload.get("url"), "http_status": response.status_code, **body}
            except httpx.HTTPError as exc:
                out = {"url": payload.get("url"), "http_status": None, "error": str(exc)}
            progress.advance(task)
            return out

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            results = list(pool.map(push, items))
    queued = [r for r in results if r.get("status") == "queued"]
    revised = [r for r in results if r.get("status") == "revised"]
    duplicates = [r for r in results if r.get("status") == "duplicate"]
    failed = [r for r in results if r.get("http_status") not in (200, 202)] + errors
    return {
        "pushed": len(items),
        "queued": len(queued),
        "revised": len(revised),
        "duplicates": len(duplicates),
        "failed": len(failed),
        "ids": [r["id"] for r in results if "id" in r],
        "errors": failed[:20],
    }

"""Reading JSON request bodies ourselves, so every failure has a precise 4xx (415, 400, 422)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from shared.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from shared.http import BODY_TOO_LARGE


class MalformedJSON(BadRequest):
    """The body is not valid JSON."""

    error = "malformed_json"


async def json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(f"expected Content-Type: application/json, got {media_type or 'none'!r}")
    raw = await request.body()
    limit = request.scope.get(BODY_TOO_LARGE)
    if limit is not None:
        raise PayloadTooLarge(f"request body exceeds {limit} bytes")
    if not raw.strip():
        raise MalformedJSON("the request body is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedJSON(f"the body is not valid UTF-8 (byte {exc.start})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedJSON(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise MalformedJSON("invalid JSON: nested too deeply") from exc

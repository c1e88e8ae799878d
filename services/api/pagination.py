"""Opaque keyset cursors: base64url of a small JSON list, tagged with the sort they belong to."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from shared.errors import InvalidCursor


def encode_cursor(kind: str, values: list[Any]) -> str:
    raw = json.dumps([kind, *values], separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, kind: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidCursor("the cursor is not one this API issued") from exc
    if not isinstance(data, list) or len(data) != arity + 1 or data[0] != kind:
        raise InvalidCursor(f"the cursor does not belong to this list (sort {kind!r})")
    return data[1:]

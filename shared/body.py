"""Reading JSON request bodies ourselves, so every failure has a precise 4xx (413, 415, 422).

`Content-Encoding: gzip` and `deflate` bodies are decompressed here, in bounded steps: the size limit
holds on the expanded size, so a zip bomb is refused (413) after at most the limit was expanded."""

from __future__ import annotations

import json
import zlib
from typing import Any

from fastapi import Request

from shared.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from shared.http import BODY_TOO_LARGE
from shared.settings import get_settings

_CHUNK = 64 * 1024


class MalformedJSON(ValidationFailed):
    """The body is not valid JSON."""

    error = "malformed_json"


class MalformedBody(ValidationFailed):
    """The body cannot be decoded (corrupt compressed data or bytes that are not UTF-8)."""

    error = "malformed_body"


def _inflate(data: bytes, *, wbits: int, limit: int) -> bytes:
    """Expand `data` without ever holding more than `limit` bytes (+ one chunk) of output."""
    inflater = zlib.decompressobj(wbits)
    out = bytearray()
    pending = data
    while pending:
        out += inflater.decompress(pending, _CHUNK)
        if len(out) > limit:
            raise PayloadTooLarge(f"request body exceeds {limit} bytes once decompressed")
        pending = inflater.unconsumed_tail
    out += inflater.flush()
    if len(out) > limit:
        raise PayloadTooLarge(f"request body exceeds {limit} bytes once decompressed")
    if not inflater.eof:
        raise MalformedBody("the compressed body is truncated")
    return bytes(out)


_SUPPORTED = ("gzip", "x-gzip", "deflate", "identity")


def content_codings(header: str) -> list[str]:
    """The codings of a `Content-Encoding` header; 415 for one we cannot undo (br, zstd, ...)."""
    codings = [c.strip().lower() for c in header.split(",") if c.strip()]
    for coding in codings:
        if coding not in _SUPPORTED:
            raise UnsupportedMediaType(
                f"unsupported Content-Encoding {coding!r} (supported: gzip, deflate, identity)"
            )
    return codings


def decode_content(raw: bytes, codings: list[str], *, limit: int) -> bytes:
    """Undo the codings (the last one listed was applied last), expanding at most `limit` bytes."""
    for coding in reversed(codings):
        try:
            if coding in ("gzip", "x-gzip"):
                raw = _inflate(raw, wbits=16 + zlib.MAX_WBITS, limit=limit)
            elif coding == "deflate":  # zlib-wrapped as the RFC says; raw deflate as some clients send
                try:
                    raw = _inflate(raw, wbits=zlib.MAX_WBITS, limit=limit)
                except zlib.error:
                    raw = _inflate(raw, wbits=-zlib.MAX_WBITS, limit=limit)
        except zlib.error as exc:
            raise MalformedBody(f"the body is not valid {coding} data: {exc}") from exc
    return raw


async def json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(f"expected Content-Type: application/json, got {media_type or 'none'!r}")
    codings = content_codings(request.headers.get("content-encoding", ""))  # before reading the body
    raw = await request.body()
    limit = request.scope.get(BODY_TOO_LARGE)
    if limit is not None:
        raise PayloadTooLarge(f"request body exceeds {limit} bytes")
    if codings:
        raw = decode_content(raw, codings, limit=get_settings().max_body_bytes)
    if not raw.strip():
        raise MalformedJSON("the request body is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedBody(f"the body is not valid UTF-8 (byte {exc.start})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedJSON(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise MalformedJSON("invalid JSON: nested too deeply") from exc

"""Outbound HTTP with a total deadline. httpx's timeouts are per phase (connect, each read, each
write): a server that trickles a byte now and then never trips them, so a call could last forever.
:func:`send` bounds the whole exchange (connect, send, the whole answer) and, optionally, the size of
the answer."""

from __future__ import annotations

import time
from typing import Any

import httpx


class DeadlineExceeded(httpx.TimeoutException):
    """The exchange took longer than its total deadline."""


class ResponseTooLarge(httpx.HTTPError):
    """The answer is larger than allowed."""


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    deadline: float,
    max_bytes: int | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """`client.request(method, url, **kwargs)` finished within `deadline` seconds in all, or
    DeadlineExceeded (a TimeoutException); ResponseTooLarge past `max_bytes` of (decoded) body.

    Every phase is given at most the whole deadline and the clock is checked after each chunk of the
    answer, so the exchange ends at the latest one read after the deadline."""
    give_up = time.monotonic() + deadline
    request = client.build_request(method, url, timeout=httpx.Timeout(deadline), **kwargs)
    response = client.send(request, stream=True)
    try:
        body = bytearray()
        for chunk in response.iter_bytes():
            body.extend(chunk)
            if max_bytes is not None and len(body) > max_bytes:
                raise ResponseTooLarge(f"the answer from {request.url} is larger than {max_bytes} bytes")
            if time.monotonic() > give_up:
                raise DeadlineExceeded(
                    f"{method} {request.url} took longer than {deadline:g} s", request=request
                )
        if time.monotonic() > give_up:
            raise DeadlineExceeded(f"{method} {request.url} took longer than {deadline:g} s", request=request)
    finally:
        response.close()
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=bytes(body),
        request=request,
        extensions={"http_version": response.extensions.get("http_version", b"HTTP/1.1")},
    )

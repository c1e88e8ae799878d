"""Redis clients with bounded waits: every command and every connect gives up after its timeout
(NEWSWIRE_REDIS_SOCKET_TIMEOUT, NEWSWIRE_REDIS_CONNECT_TIMEOUT), so a Redis that hangs (stopped,
partitioned, a full socket buffer) makes the caller fail fast instead of holding a thread."""

from __future__ import annotations

from typing import Any

import redis

from shared.settings import get_settings


def timeouts(*, socket_timeout: float | None = None, connect_timeout: float | None = None) -> dict[str, Any]:
    """The keyword arguments every Redis client of the platform is made with."""
    settings = get_settings()
    return {
        "socket_timeout": socket_timeout if socket_timeout is not None else settings.redis_socket_timeout,
        "socket_connect_timeout": connect_timeout
        if connect_timeout is not None
        else settings.redis_connect_timeout,
    }


def redis_client(
    url: str, *, socket_timeout: float | None = None, connect_timeout: float | None = None
) -> redis.Redis:
    """A client of `url` whose commands and connects are bounded (the settings' timeouts by default)."""
    return redis.Redis.from_url(
        url, **timeouts(socket_timeout=socket_timeout, connect_timeout=connect_timeout)
    )

"""Per-key rate limits in Redis (fixed one-minute windows), shared by every process. Fails open: when
Redis does not answer, requests go through (ingest must never stop because Redis is down)."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import redis
import structlog

from shared.redisconn import redis_client

log = structlog.get_logger("newswire.ratelimit")

WINDOW_SECONDS = 60
SKIP_AFTER_FAILURE = 5.0  # seconds without asking Redis after it failed (no timeout per request)

# INCR and EXPIRE in one step: a counter never outlives its window, whatever process dies in between.
_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds until the window resets (when not allowed)


class RateLimiter:
    def __init__(self, url: str, *, timeout: float = 0.25) -> None:
        # far below NEWSWIRE_REDIS_SOCKET_TIMEOUT: a request must not wait on its rate limit
        self._client = redis_client(url, socket_timeout=timeout, connect_timeout=timeout)
        self._script = self._client.register_script(_SCRIPT)
        self._down_until = 0.0
        self._lock = threading.Lock()

    def hit(self, subject: str, limit: int, *, now: float | None = None) -> Decision | None:
        """Count one request of `subject`; None when Redis is unavailable (fail open)."""
        now = time.time() if now is None else now
        if time.monotonic() < self._down_until:
            return None
        window = int(now // WINDOW_SECONDS)
        try:
            count = int(
                self._script(keys=[f"newswire:ratelimit:{subject}:{window}"], args=[WINDOW_SECONDS * 2])
            )
        except redis.RedisError as exc:
            with self._lock:
                self._down_until = time.monotonic() + SKIP_AFTER_FAILURE
            log.warning("rate_limit_unavailable", error=f"{type(exc).__name__}: {exc}"[:200])
            return None
        retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        return Decision(
            allowed=count <= limit, limit=limit, remaining=max(0, limit - count), retry_after=retry_after
        )


_limiters: dict[str, RateLimiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(url: str) -> RateLimiter:
    with _limiters_lock:
        limiter = _limiters.get(url)
        if limiter is None:
            limiter = _limiters[url] = RateLimiter(url)
        return limiter

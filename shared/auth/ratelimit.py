"""Per-key rate limits in Redis (fixed one-minute windows), shared by every process. Fails open: when
Redis does not answer, requests go through (ingest must never stop because Redis is down)."""

from __future__ import annotations

import contextlib
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


# --- open streams per key ------------------------------------------------------------------------------

# One sorted set per key: member = one open stream, score = when its lease ends. Expired leases (a process
# that died with streams open) are dropped before counting; an open stream renews its lease as it runs.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""

STREAM_LEASE_SECONDS = 60


class StreamSlots:
    """A cap on the streams a key holds open across every API process (Redis); fails open."""

    def __init__(self, url: str, *, timeout: float = 0.25) -> None:
        self._client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        self._acquire = self._client.register_script(_ACQUIRE)

    @staticmethod
    def _key(subject: str) -> str:
        return f"newswire:streams:{subject}"

    def acquire(self, subject: str, cap: int, member: str) -> bool | None:
        """True: a slot is taken for `member`; False: `cap` streams are open; None: Redis unavailable."""
        now = time.time()
        try:
            return bool(
                self._acquire(
                    keys=[self._key(subject)],
                    args=[now, cap, now + STREAM_LEASE_SECONDS, member, STREAM_LEASE_SECONDS * 2],
                )
            )
        except redis.RedisError as exc:
            log.warning("stream_slots_unavailable", error=f"{type(exc).__name__}: {exc}"[:200])
            return None

    def renew(self, subject: str, member: str) -> None:
        with contextlib.suppress(redis.RedisError):
            self._client.zadd(self._key(subject), {member: time.time() + STREAM_LEASE_SECONDS}, xx=True)
            self._client.expire(self._key(subject), STREAM_LEASE_SECONDS * 2)

    def release(self, subject: str, member: str) -> None:
        with contextlib.suppress(redis.RedisError):
            self._client.zrem(self._key(subject), member)


_slots: dict[str, StreamSlots] = {}


def stream_slots_for(url: str) -> StreamSlots:
    with _limiters_lock:
        slots = _slots.get(url)
        if slots is None:
            slots = _slots[url] = StreamSlots(url)
        return slots

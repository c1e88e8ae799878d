"""Answers cached in Redis by (normalised query, data version): a repeated question is answered without
running its SQL again until the data changes.  Fails open: when Redis does not answer, the answer is
computed (a cache outage never errors, and Redis is skipped for a few seconds after a failure).

The data version is read in the request's own transaction: (the database's name, the newest article
id, the newest enrichment event), so a new article or a (re-)enrichment makes new keys and the old entries
simply expire.  A change that makes neither (a duplicate undone, a deletion) is seen within the entry's
lifetime, NEWSWIRE_API_CACHE_SECONDS."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
import structlog
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.requests import Request

from services.api.jsonbody import JsonBody, dumps
from shared.settings import get_settings

log = structlog.get_logger("newswire.api.cache")

SKIP_AFTER_FAILURE = 5.0  # seconds without asking Redis after it failed
PREFIX = "newswire:answer:"

_VERSION = text(
    "SELECT current_database() || '/' || (SELECT coalesce(max(id), 0) FROM articles)::text || '/' "
    "|| (SELECT coalesce(max(seq), 0) FROM article_events)::text"
)


def data_version(session: Session) -> str:
    return str(session.execute(_VERSION).scalar_one())


class AnswerCache:
    def __init__(self, url: str, *, timeout: float = 0.1) -> None:
        self._client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        self._down_until = 0.0
        self._lock = threading.Lock()

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            self._down_until = time.monotonic() + SKIP_AFTER_FAILURE
        log.warning("answer_cache_unavailable", error=f"{type(exc).__name__}: {exc}"[:200])

    def get(self, key: str) -> bytes | None:
        if time.monotonic() < self._down_until:
            return None
        try:
            value = self._client.get(key)
        except redis.RedisError as exc:
            self._failed(exc)
            return None
        return value if isinstance(value, bytes) else None

    def put(self, key: str, value: bytes, *, ttl: float) -> None:
        if time.monotonic() < self._down_until:
            return
        try:
            self._client.set(key, value, px=max(1, int(ttl * 1000)))
        except redis.RedisError as exc:
            self._failed(exc)


_caches: dict[str, AnswerCache] = {}
_caches_lock = threading.Lock()


def cache_for(url: str) -> AnswerCache:
    with _caches_lock:
        cache = _caches.get(url)
        if cache is None:
            cache = _caches[url] = AnswerCache(url)
        return cache


def answer_key(request: Request, version: str) -> str:
    """The route's path and its parameters, sorted (their order does not change the answer)."""
    params = sorted((k, v) for k, v in request.query_params.multi_items() if v != "")
    raw = repr((version, request.url.path, params)).encode()
    return PREFIX + hashlib.blake2b(raw, digest_size=20).hexdigest()


def cached(request: Request, session: Session, compute: Callable[[], Any]) -> JsonBody:
    """The JSON answer of ``compute()`` (plain data), from the cache when this question was answered at
    this data version; ``X-Cache: hit|miss`` says which (absent: no cache configured)."""
    settings = get_settings()
    if settings.api_cache_seconds <= 0 or not settings.redis_url:
        return JsonBody(compute())
    cache = cache_for(settings.redis_url)
    key = answer_key(request, data_version(session))
    body = cache.get(key)
    if body is not None:
        return JsonBody(body, headers={"X-Cache": "hit"})
    body = dumps(compute())
    cache.put(key, body, ttl=settings.api_cache_seconds)
    return JsonBody(body, headers={"X-Cache": "miss"})

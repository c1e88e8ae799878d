"""API keys: create, list, revoke, and authenticate a request's key (with a short in-process cache)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy.orm import Session

from shared.auth import keys, repository
from shared.auth.keys import NewKey, Scope
from shared.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from shared.models import ApiKey

log = structlog.get_logger("newswire.auth")

TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is refreshed at most this often


@dataclass(frozen=True)
class Principal:
    """A verified, unrevoked key: what the routes know about the caller."""

    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    rate_limit_per_minute: int | None
    sources: tuple[str, ...] = ()  # the sources the key may write
    any_source: bool = False  # it may write every source (and articles without one)


@dataclass(frozen=True)
class CreatedKey:
    row: ApiKey
    key: str  # the only time the key is known in clear


def create_key(
    *,
    session: Session,
    name: str,
    scopes: list[str],
    rate_limit_per_minute: int | None = None,
    sources: list[str] | tuple[str, ...] = (),
    any_source: bool = False,
) -> CreatedKey:
    """A new key; ValueError for a bad name, scope or sources. The caller shows `key` once.

    A key that can write (ingest or admin scope) names the sources it writes, or is explicitly
    `any_source`; a read-only key has neither."""
    name = name.strip()
    if not name:
        raise ValueError("a key needs a name")
    if "\x00" in name:  # PostgreSQL text cannot hold NUL
        raise ValueError("a key's name cannot contain NUL characters")
    normalised = keys.normalise_scopes(scopes)
    if rate_limit_per_minute is not None and rate_limit_per_minute < 0:
        raise ValueError("rate limit must be >= 0")
    bound = keys.normalise_sources(sources)
    if bound and any_source:
        raise ValueError("a key has either sources or any-source, not both")
    if keys.writes(normalised) and not bound and not any_source:
        raise ValueError(
            "a key that can write (ingest or admin scope) needs --source S (repeatable) or --any-source"
        )
    if not keys.writes(normalised) and (bound or any_source):
        raise ValueError("sources apply only to a key that can write (ingest or admin scope)")
    new: NewKey = keys.generate_key()
    while repository.by_prefix(session, new.prefix) is not None:  # 1 in 4 billion per existing key
        new = keys.generate_key()
    row = repository.insert(
        session,
        name=name,
        prefix=new.prefix,
        key_hash=new.key_hash,
        scopes=normalised,
        rate_limit_per_minute=rate_limit_per_minute,
        sources=bound,
        any_source=any_source,
    )
    log.info(
        "api_key_created",
        key_id=row.id,
        prefix=row.prefix,
        scopes=normalised,
        sources=bound,
        any_source=any_source,
    )
    return CreatedKey(row=row, key=new.key)


def list_keys(*, session: Session, include_revoked: bool = True) -> list[ApiKey]:
    return repository.all_keys(session, include_revoked=include_revoked)


def revoke_key(*, session: Session, ref: str) -> ApiKey:
    """Revoke by id or prefix (or the whole key); NotFound when nothing matches."""
    row = repository.by_id_or_prefix(session, ref.strip())
    if row is None:
        raise NotFound(f"no API key with id or prefix {ref!r}")
    row.revoked_at = repository.revoke(session, row.id)
    log.info("api_key_revoked", key_id=row.id, prefix=row.prefix)
    forget_cached()
    return row


def key_is_valid(*, session: Session, key: str) -> bool:
    """Whether `key` names an existing, unrevoked key (used by `newswire run` to reuse its key)."""
    prefix = keys.key_prefix(key)
    row = repository.by_prefix(session, prefix) if prefix else None
    return row is not None and row.revoked_at is None and keys.hashes_match(key, row.key_hash)


class _Cache:
    """Verified keys by hash, for `ttl` seconds; only successes are kept (a revoked key works at most
    `ttl` seconds longer in the processes that cached it)."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> Principal | None:
        with self._lock:
            item = self._items.get(key_hash)
            if item is None:
                return None
            if item[0] < time.monotonic():
                del self._items[key_hash]
                return None
            return item[1]

    def put(self, key_hash: str, principal: Principal, ttl: float) -> None:
        with self._lock:
            if len(self._items) > 10_000:  # bounded: drop everything rather than grow
                self._items.clear()
            self._items[key_hash] = (time.monotonic() + ttl, principal)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_cache = _Cache()


def forget_cached() -> None:
    _cache.clear()


def authenticate(*, session: Session, key: str | None, cache_seconds: float) -> Principal:
    """The principal of a valid, unrevoked key; Unauthorized otherwise."""
    if key is None:
        raise Unauthorized("an API key is required: send `Authorization: Bearer <key>` or `X-API-Key`")
    key_hash = keys.hash_key(key)
    if cache_seconds > 0 and (cached := _cache.get(key_hash)) is not None:
        return cached
    prefix = keys.key_prefix(key)
    row = repository.by_prefix(session, prefix) if prefix else None
    if row is None or not keys.hashes_match(key, row.key_hash):
        raise Unauthorized("the API key is not valid")
    if row.revoked_at is not None:
        raise Unauthorized("the API key has been revoked")
    repository.touch(session, row.id, older_than=TOUCH_EVERY)
    principal = Principal(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=tuple(row.scopes),
        rate_limit_per_minute=row.rate_limit_per_minute,
        sources=tuple(row.sources),
        any_source=row.any_source,
    )
    if cache_seconds > 0:
        _cache.put(key_hash, principal, cache_seconds)
    return principal


def authorize(principal: Principal, needed: Scope) -> None:
    if not keys.allows(principal.scopes, needed):
        raise Forbidden(
            f"this route needs the {needed.value!r} scope; key {principal.prefix} has "
            f"{', '.join(principal.scopes)}"
        )


class SourceNotAllowed(Forbidden):
    """The key may not write this source."""

    error = "source_not_allowed"


class SourceRequired(ValidationFailed):
    """The key writes several sources: the article must name one."""

    error = "source_required"


def write_source(principal: Principal, source: str | None) -> str | None:
    """The source an article pushed with `principal` is stored under: the one it names, when the key may
    write it (else SourceNotAllowed, 403); when it names none, the key's only source, or none for an
    any-source key (the article is then namespaced by the key: see ``Article.writer_key_id``); a key bound
    to several sources must name one (SourceRequired, 422)."""
    if source is None:
        if principal.any_source:
            return None
        if len(principal.sources) == 1:
            return principal.sources[0]
        if not principal.sources:
            raise SourceNotAllowed(f"key {principal.prefix} may not write any source")
        raise SourceRequired(
            f"key {principal.prefix} writes the sources {', '.join(principal.sources)}: name one in `source`"
        )
    if principal.any_source or source in principal.sources:
        return source
    allowed = ", ".join(principal.sources) if principal.sources else "none"
    raise SourceNotAllowed(f"key {principal.prefix} may not write source {source!r} (its sources: {allowed})")

"""Pure functions on API keys: make one, read one from a header, hash it, check scopes.

A key reads ``nw_<prefix>_<secret>``: the prefix (8 hex characters) is not secret and finds the row; the
secret is 32 random bytes (URL-safe base64). Only the SHA-256 of the whole key is stored, which is enough
for a key of this entropy (no slow hash needed: there is nothing to brute-force)."""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

KEY_PREFIX = "nw"
_KEY = re.compile(r"^nw_([0-9a-f]{8})_([A-Za-z0-9_-]{20,128})$")


class Scope(enum.StrEnum):
    INGEST = "ingest"
    READ = "read"
    ADMIN = "admin"  # implies every other scope


@dataclass(frozen=True)
class NewKey:
    key: str  # shown once
    prefix: str
    key_hash: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_key() -> NewKey:
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(key=key, prefix=prefix, key_hash=hash_key(key))


def key_prefix(key: str) -> str | None:
    """The prefix of a well-formed key, else None (a malformed key never reaches the database)."""
    match = _KEY.match(key)
    return match.group(1) if match else None


def hashes_match(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key), stored_hash)


def key_from_headers(authorization: str | None, x_api_key: str | None) -> str | None:
    """The key from ``Authorization: Bearer <key>`` or ``X-API-Key: <key>`` (the first one given)."""
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    if x_api_key and x_api_key.strip():
        return x_api_key.strip()
    return None


def normalise_scopes(scopes: Iterable[str]) -> list[str]:
    """Validated, de-duplicated scopes in a stable order; ValueError for an unknown one."""
    wanted = set()
    for scope in scopes:
        try:
            wanted.add(Scope(scope.strip().lower()))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise ValueError(f"unknown scope {scope!r} (known: {known})") from None
    if not wanted:
        raise ValueError("a key needs at least one scope")
    return [s.value for s in Scope if s in wanted]


MAX_SOURCE_CHARS = 200  # as ArticleIn.source


def normalise_sources(sources: Iterable[str]) -> list[str]:
    """Validated, de-duplicated sources in a stable (sorted) order; ValueError for an empty or long one."""
    wanted = set()
    for source in sources:
        source = source.strip()
        if not source:
            raise ValueError("a source cannot be empty")
        if len(source) > MAX_SOURCE_CHARS or "\x00" in source:
            raise ValueError(f"a source is at most {MAX_SOURCE_CHARS} characters, without NUL")
        wanted.add(source)
    return sorted(wanted)


def writes(scopes: Iterable[str]) -> bool:
    """Whether a key with these scopes may push articles (ingest, or admin which implies it)."""
    return allows(scopes, Scope.INGEST)


def allows(scopes: Iterable[str], needed: Scope) -> bool:
    held = set(scopes)
    return Scope.ADMIN.value in held or needed.value in held

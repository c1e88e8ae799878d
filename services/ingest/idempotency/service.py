"""Idempotency keys: claim a key for a request, replay the stored answer, refuse a key reused for
another request. Only successful answers are stored: a request that failed stored nothing (its
transaction was rolled back with the claim), so retrying it simply runs it again."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from services.ingest.idempotency import repository
from shared.errors import NewswireError, ValidationFailed

MAX_KEY_CHARS = 255
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII


class InvalidIdempotencyKey(ValidationFailed):
    """The Idempotency-Key header must be 1 to 255 visible ASCII characters."""

    error = "invalid_idempotency_key"


class IdempotencyKeyReused(ValidationFailed):
    """This Idempotency-Key was already used for a different request."""

    error = "idempotency_key_reused"


class IdempotencyKeyInProgress(NewswireError):
    """A request with this Idempotency-Key is still being processed; retry shortly."""

    status_code = 409
    error = "idempotency_key_in_progress"


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: Any


@dataclass(frozen=True)
class Claimed:
    record_id: int


def request_hash(*, method: str, path: str, body: Any) -> str:
    """The same JSON (whatever its spacing or key order) to the same route hashes the same."""
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def validate_key(key: str) -> str:
    if not _KEY.match(key):
        raise InvalidIdempotencyKey()
    return key


def begin(
    *, session: Session, api_key_id: int, key: str, request_hash: str, ttl: timedelta
) -> Claimed | Replay:
    """Claim `key` for this request, or the first answer when a request with it was already answered."""
    record_id = repository.claim(
        session, api_key_id=api_key_id, key=validate_key(key), request_hash=request_hash, ttl=ttl
    )
    if record_id is not None:
        return Claimed(record_id)
    record = repository.get(session, api_key_id=api_key_id, key=key)
    if record is None:  # expired and purged between the two statements: a new request after all
        return begin(session=session, api_key_id=api_key_id, key=key, request_hash=request_hash, ttl=ttl)
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {key!r} was already used for a different request body or route; "
            "use a new key for a new request"
        )
    if record.status_code is None or record.response is None:
        raise IdempotencyKeyInProgress(headers={"Retry-After": "1"})
    return Replay(status_code=record.status_code, body=record.response)


def finish(*, session: Session, claim: Claimed, status_code: int, body: Any) -> None:
    repository.store_response(session, claim.record_id, status_code=status_code, response=body)


def purge_expired(*, session: Session) -> int:
    return repository.purge_expired(session)

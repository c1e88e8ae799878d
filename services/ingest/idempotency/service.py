"""Idempotency keys: claim a key for a request, replay the stored answer, refuse a key reused for
another request. Only successful answers are stored: a request that failed releases its claim, so
retrying it simply runs it again.

Every step is a short transaction of its own (claim; answer, stored with the work it answers; release):
no transaction stays open across the request's slow work (HTML extraction)."""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from services.ingest.idempotency import repository
from shared.db import session_scope
from shared.errors import IdempotencyKeyInProgress, IdempotencyKeyReused, InvalidIdempotencyKey

log = structlog.get_logger("newswire.idempotency")

MAX_KEY_CHARS = 255
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII


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


# A claim not answered within this long was left by a request whose process died (a SIGKILLed ingest
# leaves its claim behind: the claim is committed before the work): it is taken over. Longer than any live
# request runs (extraction is cut at NEWSWIRE_EXTRACT_TIMEOUT, each statement at the ingest role's
# timeout), short enough that a feed retrying after a crash is answered within minutes, not blocked with
# 409s for ten.
IN_PROGRESS_LEASE = timedelta(seconds=90)
WAIT_POLL_S = 0.1


def begin(
    *,
    session: Session,
    api_key_id: int,
    key: str,
    request_hash: str,
    ttl: timedelta,
    lease: timedelta = IN_PROGRESS_LEASE,
) -> Claimed | Replay:
    """Claim `key` for this request, or the first answer when a request with it was already answered;
    IdempotencyKeyInProgress while another request holds it."""
    record_id = repository.claim(
        session, api_key_id=api_key_id, key=validate_key(key), request_hash=request_hash, ttl=ttl, lease=lease
    )
    if record_id is not None:
        return Claimed(record_id)
    record = repository.get(session, api_key_id=api_key_id, key=key)
    if record is None:  # expired and purged between the two statements: a new request after all
        return begin(
            session=session, api_key_id=api_key_id, key=key, request_hash=request_hash, ttl=ttl, lease=lease
        )
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {key!r} was already used for a different request body or route; "
            "use a new key for a new request"
        )
    if record.status_code is None or record.response is None:
        raise IdempotencyKeyInProgress(headers={"Retry-After": "1"})
    return Replay(status_code=record.status_code, body=record.response)


def claim_or_replay(
    *,
    factory: sessionmaker[Session],
    api_key_id: int,
    key: str,
    request_hash: str,
    ttl: timedelta,
    wait: float,
) -> Claimed | Replay:
    """:func:`begin` in a short transaction of its own (committed: the claim is visible at once). While
    another request holds the key, wait (polling, holding no connection) up to `wait` seconds for its
    answer; then IdempotencyKeyInProgress (409)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with session_scope(factory) as session:
                return begin(
                    session=session, api_key_id=api_key_id, key=key, request_hash=request_hash, ttl=ttl
                )
        except IdempotencyKeyInProgress:
            if time.monotonic() + WAIT_POLL_S > deadline:
                raise
        time.sleep(WAIT_POLL_S)


def finish(*, session: Session, claim: Claimed, status_code: int, body: Any) -> None:
    """Store the answer (in the transaction of the work it answers, when there is one)."""
    repository.store_response(session, claim.record_id, status_code=status_code, response=body)


def release(*, factory: sessionmaker[Session], claim: Claimed) -> None:
    """The request failed: drop its claim (best effort; a claim left behind expires after the lease)."""
    try:
        with session_scope(factory) as session:
            repository.release(session, claim.record_id)
    except Exception as exc:  # the request's own error is what the caller reports
        log.warning("idempotency_release_failed", error=f"{type(exc).__name__}: {exc}"[:300])


def purge_expired(*, session: Session) -> int:
    return repository.purge_expired(session)

"""All SQL of idempotency records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.models import IdempotencyRecord


def claim(
    session: Session, *, api_key_id: int, key: str, request_hash: str, ttl: timedelta, lease: timedelta
) -> int | None:
    """Take the key for this request: the new record's id, or None when an unexpired record holds it
    (answered, or in progress for less than `lease`: a claim older than that was left by a process that
    died, and is taken over).

    The claim is committed at once (a short transaction); a concurrent request with the same key finds
    it and waits for the answer (see the service)."""
    stmt = insert(IdempotencyRecord).values(
        api_key_id=api_key_id, key=key, request_hash=request_hash, expires_at=func.now() + ttl
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[IdempotencyRecord.api_key_id, IdempotencyRecord.key],
        set_={
            "request_hash": stmt.excluded.request_hash,
            "status_code": None,
            "response": None,
            "created_at": func.now(),
            "expires_at": stmt.excluded.expires_at,
        },
        # an expired record, or a claim whose request never finished, is taken over
        where=or_(
            IdempotencyRecord.expires_at <= func.now(),
            and_(IdempotencyRecord.status_code.is_(None), IdempotencyRecord.created_at < func.now() - lease),
        ),
    )
    return session.execute(stmt.returning(IdempotencyRecord.id)).scalar_one_or_none()


def get(session: Session, *, api_key_id: int, key: str) -> IdempotencyRecord | None:
    return session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key
        )
    ).one_or_none()


def store_response(session: Session, record_id: int, *, status_code: int, response: Any) -> None:
    session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id)
        .values(status_code=status_code, response=response)
    )


def purge_expired(session: Session, *, limit: int = 1000) -> int:
    expired = (
        select(IdempotencyRecord.id)
        .where(IdempotencyRecord.expires_at <= func.now())
        .limit(limit)
        .scalar_subquery()
    )
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(expired)))
    return int(getattr(result, "rowcount", 0) or 0)


def release(session: Session, record_id: int) -> None:
    """Drop an unanswered claim (its request failed: a retry with the key runs it again)."""
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.id == record_id, IdempotencyRecord.status_code.is_(None)
        )
    )

"""All SQL of API keys."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from shared.models import ApiKey


def insert(
    session: Session,
    *,
    name: str,
    prefix: str,
    key_hash: str,
    scopes: list[str],
    rate_limit_per_minute: int | None,
    sources: list[str],
    any_source: bool,
) -> ApiKey:
    row = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=key_hash,
        scopes=scopes,
        rate_limit_per_minute=rate_limit_per_minute,
        sources=sources,
        any_source=any_source,
    )
    session.add(row)
    session.flush()
    session.refresh(row)
    return row


def by_prefix(session: Session, prefix: str) -> ApiKey | None:
    return session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).one_or_none()


def by_id_or_prefix(session: Session, ref: str) -> ApiKey | None:
    condition = ApiKey.prefix == ref.removeprefix("nw_").split("_", 1)[0]
    if ref.isdigit():
        condition = or_(condition, ApiKey.id == int(ref))
    return session.scalars(select(ApiKey).where(condition).order_by(ApiKey.id)).first()


def all_keys(session: Session, *, include_revoked: bool) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke(session: Session, key_id: int) -> datetime | None:
    """Revoke a key (once: a second revocation keeps the first time); the revocation time."""
    return session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id)
        .values(revoked_at=func.coalesce(ApiKey.revoked_at, func.now()))
        .returning(ApiKey.revoked_at)
    ).scalar_one_or_none()


def touch(session: Session, key_id: int, *, older_than: timedelta) -> None:
    """Record a use, at most once per `older_than` (a cheap, usually empty, update)."""
    session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key_id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < func.now() - older_than),
        )
        .values(last_used_at=func.now())
    )

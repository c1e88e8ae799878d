"""All SQL of subscriptions and their webhook deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.api.articles.repository import SUMMARY_COLUMNS
from shared.models import Article, DeliveryStatus, Subscription, WebhookDelivery


def add(
    session: Session, *, name: str, url: str, secret: str, query: dict[str, Any], last_seq: int
) -> Subscription:
    row = Subscription(name=name, url=url, secret=secret, query=query, last_seq=last_seq)
    session.add(row)
    session.flush()
    session.refresh(row)
    return row


def all_subscriptions(session: Session) -> list[Subscription]:
    return list(session.scalars(select(Subscription).order_by(Subscription.id)))


def get(session: Session, *, subscription_id: int) -> Subscription | None:
    return session.get(Subscription, subscription_id)


def remove(session: Session, *, subscription_id: int) -> bool:
    deleted = session.scalars(
        delete(Subscription).where(Subscription.id == subscription_id).returning(Subscription.id)
    )
    return deleted.first() is not None


def delivery_counts(session: Session, *, subscription_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {i: {} for i in subscription_ids}
    rows = session.execute(
        select(WebhookDelivery.subscription_id, WebhookDelivery.status, func.count())
        .where(WebhookDelivery.subscription_id.in_(subscription_ids))
        .group_by(WebhookDelivery.subscription_id, WebhookDelivery.status)
    )
    for subscription_id, status, n in rows:
        out[subscription_id][status] = n
    return out


def deliveries(
    session: Session, *, subscription_id: int, status: str | None, limit: int
) -> list[WebhookDelivery]:
    stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    return list(session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit)))


def lock_subscriptions(session: Session) -> list[Subscription]:
    """Every subscription no other process is matching right now (each is matched by one at a time)."""
    return list(
        session.scalars(select(Subscription).order_by(Subscription.id).with_for_update(skip_locked=True))
    )


def add_deliveries(session: Session, *, subscription_id: int, events: Sequence[tuple[int, int]]) -> None:
    """One pending delivery per (event seq, article id); an event already matched adds nothing."""
    if not events:
        return
    rows = [
        {
            "delivery_id": str(uuid.uuid4()),
            "subscription_id": subscription_id,
            "event_seq": seq,
            "article_id": aid,
        }
        for seq, aid in events
    ]
    session.execute(
        pg_insert(WebhookDelivery)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["subscription_id", "event_seq"])
    )


def lock_due(
    session: Session, *, limit: int, per_subscription: int, exclude: Sequence[int] = ()
) -> list[tuple[WebhookDelivery, Subscription]]:
    """Due pending deliveries, the oldest `per_subscription` of each subscription (not those in
    `exclude`), locked for the claim transaction (another process skips them)."""
    due = (WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= func.now())
    ranked = (
        select(
            WebhookDelivery.id,
            func.row_number()
            .over(
                partition_by=WebhookDelivery.subscription_id,
                order_by=(WebhookDelivery.next_attempt_at, WebhookDelivery.id),
            )
            .label("rank"),
        )
        .where(*due)
        .where(WebhookDelivery.subscription_id.not_in(exclude) if exclude else true())
        .subquery()
    )
    rows = session.execute(
        select(WebhookDelivery, Subscription)
        .join(Subscription, Subscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.id.in_(select(ranked.c.id).where(ranked.c.rank <= per_subscription)))
        .where(*due)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    return [(r[0], r[1]) for r in rows]


def lease(session: Session, *, delivery_ids: Sequence[int], lease: timedelta) -> None:
    """Claimed: not due again until the lease ends (an attempt that never records comes back then)."""
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(delivery_ids))
        .values(next_attempt_at=func.now() + lease)
    )


def get_for_update(session: Session, *, subscription_id: int) -> Subscription | None:
    return session.scalars(
        select(Subscription).where(Subscription.id == subscription_id).with_for_update()
    ).first()


def database_now(session: Session) -> datetime:
    return session.scalars(select(func.now())).one()


def summaries(session: Session, *, article_ids: Sequence[int]) -> dict[int, Article]:
    rows = session.scalars(select(Article).options(SUMMARY_COLUMNS).where(Article.id.in_(article_ids)))
    return {a.id: a for a in rows}


def record_attempt(
    session: Session,
    *,
    delivery_id: int,
    status: DeliveryStatus,
    status_code: int | None,
    error: str | None,
    retry_in: timedelta | None,
) -> None:
    values: dict[str, Any] = {
        "attempts": WebhookDelivery.attempts + 1,
        "status": status,
        "last_status_code": status_code,
        "last_error": error,
    }
    if status == DeliveryStatus.DELIVERED:
        values["delivered_at"] = func.now()
    if retry_in is not None:
        values["next_attempt_at"] = func.now() + retry_in
    # a delivery put back by `retry` or deleted meanwhile is not pending-and-leased any more: still recorded
    session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(values))


def retry_failed(session: Session, *, subscription_id: int) -> int:
    """Failed deliveries of a subscription back to pending, due now, with their attempts reset."""
    rows = session.scalars(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.status == DeliveryStatus.FAILED,
        )
        .values(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=func.now())
        .returning(WebhookDelivery.id)
    )
    return len(rows.all())

"""Saved queries with a webhook: newly enriched articles matching a subscription's filter are POSTed to its
URL, signed, retried with backoff, at least once.

Two steps, each run by the API processes' webhook loop (``run_once``), safe with several processes
(``FOR UPDATE SKIP LOCKED``):
- match: each subscription reads the enrichment events after its ``last_seq`` (settled, as the live stream
  reads them: none skipped), adds one pending delivery per matching event (unique per subscription and
  event: a repeated match adds nothing) and moves ``last_seq``, in one transaction;
- deliver: due pending deliveries are POSTed; a 2xx marks them delivered, anything else schedules the next
  attempt (NEWSWIRE_WEBHOOK_RETRY_BASE_SECONDS doubled each time), until NEWSWIRE_WEBHOOK_MAX_ATTEMPTS.

Signature (like Stripe's): ``Newswire-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>"
keyed with the secret>``; ``Newswire-Delivery`` carries the delivery id, the same on every attempt."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta

import httpx
import structlog
from sqlalchemy.orm import Session

from services.api.articles import repository as articles_repository
from services.api.articles.service import _summary, build_filter
from services.api.stream import repository as stream_repository
from services.api.stream.service import SCAN_EVENTS
from services.api.subscriptions import repository
from services.api.subscriptions.schemas import (
    DeliveryCounts,
    DeliveryList,
    DeliveryOut,
    DeliveryStatus,
    RetriedOut,
    SavedFilter,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
    WebhookPayload,
)
from shared.errors import NotFound, ValidationFailed
from shared.models import Subscription
from shared.settings import get_settings

log = structlog.get_logger("newswire.webhooks")

DELIVERY_BATCH = 20  # POSTs per pass and process (locked while tried)
MAX_RETRY_WAIT = timedelta(hours=1)


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _out(row: Subscription, counts: dict[str, int]) -> SubscriptionOut:
    return SubscriptionOut(
        id=row.id,
        name=row.name,
        url=row.url,
        filter=SavedFilter.model_validate(row.query),
        created_at=row.created_at,
        deliveries=DeliveryCounts(**counts),
    )


def create(*, session: Session, data: SubscriptionIn) -> SubscriptionCreated:
    """Validated like GET /v1/articles (422); matches what is enriched from now on."""
    build_filter(session=session, query=data.filter.to_query())
    secret = data.secret or secrets.token_urlsafe(32)
    row = repository.add(
        session,
        name=data.name,
        url=str(data.url),
        secret=secret,
        query=data.filter.model_dump(mode="json"),
        last_seq=stream_repository.head(session),
    )
    return SubscriptionCreated(**_out(row, {}).model_dump(), secret=secret)


def list_subscriptions(*, session: Session) -> SubscriptionList:
    rows = repository.all_subscriptions(session)
    counts = repository.delivery_counts(session, subscription_ids=[r.id for r in rows])
    return SubscriptionList(items=[_out(r, counts[r.id]) for r in rows])


def get(*, session: Session, subscription_id: int) -> SubscriptionOut:
    row = repository.get(session, subscription_id=subscription_id)
    if row is None:
        raise NotFound(f"subscription {subscription_id} does not exist")
    return _out(row, repository.delivery_counts(session, subscription_ids=[row.id])[row.id])


def delete(*, session: Session, subscription_id: int) -> None:
    """The subscription and its deliveries (pending ones are not sent)."""
    if not repository.remove(session, subscription_id=subscription_id):
        raise NotFound(f"subscription {subscription_id} does not exist")


def deliveries(
    *, session: Session, subscription_id: int, status: DeliveryStatus | None, limit: int
) -> DeliveryList:
    get(session=session, subscription_id=subscription_id)
    rows = repository.deliveries(session, subscription_id=subscription_id, status=status, limit=limit)
    return DeliveryList(
        items=[
            DeliveryOut(
                delivery_id=d.delivery_id,
                article_id=d.article_id,
                status=d.status,  # type: ignore[arg-type]  # the check constraint keeps it in DeliveryStatus
                attempts=d.attempts,
                next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
                last_status_code=d.last_status_code,
                last_error=d.last_error,
                delivered_at=d.delivered_at,
                created_at=d.created_at,
            )
            for d in rows
        ]
    )


def retry_failed(*, session: Session, subscription_id: int) -> RetriedOut:
    get(session=session, subscription_id=subscription_id)
    return RetriedOut(requeued=repository.retry_failed(session, subscription_id=subscription_id))


def match(*, session: Session) -> int:
    """Pending deliveries for the settled enrichment events each subscription has not matched yet."""
    settle = get_settings().stream_settle_seconds
    added = 0
    for sub in repository.lock_subscriptions(session):
        upto = stream_repository.settled_until(
            session, after=sub.last_seq, scan=SCAN_EVENTS, settle_seconds=settle
        )
        if upto == sub.last_seq:
            continue
        try:
            f = build_filter(session=session, query=SavedFilter.model_validate(sub.query).to_query())
        except ValidationFailed as exc:  # e.g. a topic that no longer exists: nothing can match
            log.warning("subscription_filter_invalid", subscription_id=sub.id, error=str(exc.detail))
            sub.last_seq = upto
            continue
        found = stream_repository.matching_events(session, f=f, after=sub.last_seq, upto=upto)
        repository.add_deliveries(session, subscription_id=sub.id, events=[(seq, a.id) for seq, a in found])
        sub.last_seq = upto
        added += len(found)
    return added


def retry_wait(attempts: int) -> timedelta:
    """After the ``attempts``-th failed attempt."""
    base = get_settings().webhook_retry_base_seconds
    return min(timedelta(seconds=base * 2 ** (attempts - 1)), MAX_RETRY_WAIT)


def deliver(*, session: Session, http: httpx.Client) -> int:
    """POST the due deliveries (locked while tried); how many were delivered."""
    settings = get_settings()
    due = repository.lock_due(session, limit=DELIVERY_BATCH)
    if not due:
        return 0
    articles = repository.summaries(session, article_ids=[d.article_id for d, _ in due])
    topics = articles_repository.topics_for(session, article_ids=list(articles))
    delivered = 0
    for delivery, sub in due:
        article = articles[delivery.article_id]
        body = (
            WebhookPayload(
                delivery_id=delivery.delivery_id,
                subscription_id=sub.id,
                article=_summary(article, topics[article.id]),
            )
            .model_dump_json()
            .encode()
        )
        timestamp = int(time.time())
        signature = sign(secret=sub.secret, timestamp=timestamp, body=body)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "newswire-webhooks",
            "Newswire-Delivery": delivery.delivery_id,
            "Newswire-Signature": f"t={timestamp},v1={signature}",
        }
        status_code: int | None = None
        try:
            response = http.post(
                sub.url, content=body, headers=headers, timeout=settings.webhook_timeout_seconds
            )
            status_code = response.status_code
            error = None if response.is_success else f"HTTP {status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        attempts = delivery.attempts + 1
        if error is None:
            status, retry_in = "delivered", None
            delivered += 1
        elif attempts >= settings.webhook_max_attempts:
            status, retry_in = "failed", None
            log.warning(
                "webhook_failed", delivery_id=delivery.delivery_id, subscription_id=sub.id, error=error
            )
        else:
            status, retry_in = "pending", retry_wait(attempts)
        repository.record_attempt(
            session, delivery=delivery, status=status, status_code=status_code, error=error, retry_in=retry_in
        )
    return delivered

"""Saved queries with a webhook: newly enriched articles matching a subscription's filter are POSTed to its
URL, signed, retried with backoff, at least once.

Run by `newswire webhooks` (services/api/subscriptions/tasks.py), safe with several processes
(``FOR UPDATE SKIP LOCKED``):
- match: each subscription reads the enrichment events after its ``last_seq`` (settled, as the live stream
  reads them: none skipped), adds one pending delivery per matching event (unique per subscription and
  event: a repeated match adds nothing) and moves ``last_seq``, in one transaction;
- claim (a short transaction): due pending deliveries, a few per subscription, are leased (their next
  attempt moved past the delivery deadline, so no other process takes them) and their bodies rendered;
- send (no transaction, no row lock): each POST runs on its own thread with one total deadline, through
  the guarded client of ``egress`` (no inside addresses, no redirects, a capped answer);
- record (another short transaction): a 2xx marks the delivery delivered, anything else schedules the
  next attempt (NEWSWIRE_WEBHOOK_RETRY_BASE_SECONDS doubled each time), until NEWSWIRE_WEBHOOK_MAX_ATTEMPTS.
  A process that dies mid-POST leaves the lease to expire: the delivery is tried again, same id.

Signature (like Stripe's): ``Newswire-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>"
keyed with the secret>`` (a second ``v1=`` with the previous secret during a rotation's grace period);
``Newswire-Delivery`` carries the delivery id, the same on every attempt."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import httpx
import structlog
from sqlalchemy.orm import Session

from services.api.articles import repository as articles_repository
from services.api.articles.service import _summary, build_filter
from services.api.stream import repository as stream_repository
from services.api.stream.service import SCAN_EVENTS
from services.api.subscriptions import egress, repository
from services.api.subscriptions.schemas import (
    DeliveryCounts,
    DeliveryList,
    DeliveryOut,
    DeliveryStatusName,
    RetriedOut,
    RotateSecretIn,
    SavedFilter,
    SecretRotated,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
    WebhookPayload,
)
from shared.errors import NotFound, ValidationFailed
from shared.models import DeliveryStatus, Subscription, WebhookDelivery
from shared.settings import get_settings

log = structlog.get_logger("newswire.webhooks")

MAX_RETRY_WAIT = timedelta(hours=1)
LEASE_MARGIN = timedelta(seconds=30)  # a claimed delivery is taken again this long after its deadline


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


def check_target(url: str) -> None:
    """422 unless `url` is a webhook target the platform may call (see ``egress``)."""
    try:
        egress.check_url(url, allow_private=get_settings().webhook_allow_private)
    except egress.UnsafeURL as exc:
        raise ValidationFailed(
            f"webhook url refused: {exc} (NEWSWIRE_WEBHOOK_ALLOW_PRIVATE=true allows private targets, for "
            "tests and local receivers only)"
        ) from exc


def create(*, session: Session, data: SubscriptionIn) -> SubscriptionCreated:
    """Validated like GET /v1/articles (422), its URL checked (422); matches what is enriched from now."""
    build_filter(session=session, query=data.filter.to_query())
    check_target(str(data.url))
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


def rotate_secret(*, session: Session, subscription_id: int, data: RotateSecretIn) -> SecretRotated:
    """A new signing secret; the current one keeps signing (a second ``v1=``) for the grace period."""
    row = repository.get_for_update(session, subscription_id=subscription_id)
    if row is None:
        raise NotFound(f"subscription {subscription_id} does not exist")
    grace = data.grace_hours if data.grace_hours is not None else get_settings().webhook_secret_grace_hours
    secret = data.secret or secrets.token_urlsafe(32)
    now = repository.database_now(session)
    expires = now + timedelta(hours=grace) if grace > 0 else None
    row.previous_secret = row.secret if expires is not None else None
    row.previous_secret_expires_at = expires
    row.secret = secret
    session.flush()
    return SecretRotated(id=row.id, secret=secret, previous_secret_valid_until=expires)


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
    *, session: Session, subscription_id: int, status: DeliveryStatusName | None, limit: int
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
                next_attempt_at=d.next_attempt_at if d.status == DeliveryStatus.PENDING else None,
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


def verify_signature(
    *, secret: str, header: str, body: bytes, tolerance_s: int = 300, now: float | None = None
) -> bool:
    """What a receiver runs (the docs carry the same code): any ``v1=`` matches the HMAC of ``"<t>.<body>"``
    and ``t`` is within `tolerance_s` of now (a captured delivery replayed later is refused)."""
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [v for k, v in fields if k.strip() == "t"]
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        return False
    t = int(timestamps[0])
    if abs((time.time() if now is None else now) - t) > tolerance_s:
        return False
    expected = sign(secret=secret, timestamp=t, body=body)
    return any(hmac.compare_digest(v.strip(), expected) for k, v in fields if k.strip() == "v1")


def signature_header(*, secrets_: list[str], timestamp: int, body: bytes) -> str:
    return ",".join(
        [f"t={timestamp}", *(f"v1={sign(secret=k, timestamp=timestamp, body=body)}" for k in secrets_)]
    )


@dataclass(frozen=True)
class Claimed:
    """A leased delivery with everything its POST needs (read in the claim transaction)."""

    id: int
    delivery_id: str
    subscription_id: int
    url: str
    secrets: list[str]  # the current secret, then the previous one while its grace period lasts
    body: bytes
    attempts: int  # before this one


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    error: str | None
    outcome: str  # delivered | http_error | timeout | refused | network_error
    seconds: float
    truncated: bool = False


def claim(*, session: Session, busy: dict[int, int], per_subscription: int, limit: int) -> list[Claimed]:
    """Lease up to `limit` due deliveries, at most `per_subscription` minus `busy[sub]` per subscription;
    the caller commits right away and POSTs outside the transaction."""
    settings = get_settings()
    full = [sub for sub, n in busy.items() if n >= per_subscription]
    rows = repository.lock_due(session, limit=limit, per_subscription=per_subscription, exclude=full)
    taken: list[tuple[WebhookDelivery, Subscription]] = []
    count: dict[int, int] = {}
    for delivery, sub in rows:
        if count.get(sub.id, 0) + busy.get(sub.id, 0) >= per_subscription:
            continue  # not leased: another pass (or process) takes it
        count[sub.id] = count.get(sub.id, 0) + 1
        taken.append((delivery, sub))
    if not taken:
        return []
    lease = timedelta(seconds=settings.webhook_timeout_seconds) + LEASE_MARGIN
    deliveries = [d for d, _ in taken]
    repository.lease(session, delivery_ids=[d.id for d in deliveries], lease=lease)
    articles = repository.summaries(session, article_ids=[d.article_id for d in deliveries])
    topics = articles_repository.topics_for(session, article_ids=list(articles))
    now = repository.database_now(session)
    out: list[Claimed] = []
    for delivery, sub in taken:
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
        keys = [sub.secret]
        if sub.previous_secret and sub.previous_secret_expires_at and sub.previous_secret_expires_at > now:
            keys.append(sub.previous_secret)
        out.append(
            Claimed(
                id=delivery.id,
                delivery_id=delivery.delivery_id,
                subscription_id=sub.id,
                url=sub.url,
                secrets=keys,
                body=body,
                attempts=delivery.attempts,
            )
        )
    return out


def send(*, http: httpx.Client, claimed: Claimed) -> Attempt:
    """One POST under one total deadline; at most NEWSWIRE_WEBHOOK_MAX_RESPONSE_BYTES of the answer read.
    No database work here."""
    settings = get_settings()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "newswire-webhooks",
        "Accept-Encoding": "identity",
        "Newswire-Delivery": claimed.delivery_id,
        "Newswire-Signature": signature_header(
            secrets_=claimed.secrets, timestamp=timestamp, body=claimed.body
        ),
    }
    limit = settings.webhook_timeout_seconds
    start = time.monotonic()
    status_code: int | None = None
    truncated = False
    try:
        with (
            egress.deadline(limit),
            http.stream(
                "POST", claimed.url, content=claimed.body, headers=headers, timeout=egress.timeout_for(limit)
            ) as response,
        ):
            status_code = response.status_code
            try:
                _, truncated = egress.read_capped(response, max_bytes=settings.webhook_max_response_bytes)
            except httpx.TimeoutException:  # the answer came; only its body trickled past the deadline
                truncated = True
        if 200 <= status_code < 300:
            error, outcome = None, "delivered"
        elif 300 <= status_code < 400:
            error, outcome = f"HTTP {status_code}: redirects are not followed", "http_error"
        else:
            error, outcome = f"HTTP {status_code}", "http_error"
    except httpx.TimeoutException as exc:
        error, outcome = f"timed out: no complete answer within {limit:g} s ({type(exc).__name__})", "timeout"
    except httpx.HTTPError as exc:
        message = str(exc)
        outcome = "refused" if message.startswith("refused:") else "network_error"
        error = f"{type(exc).__name__}: {message}"[:500]
    return Attempt(
        status_code=status_code,
        error=error,
        outcome=outcome,
        seconds=time.monotonic() - start,
        truncated=truncated,
    )


def record(*, session: Session, claimed: Claimed, attempt: Attempt) -> DeliveryStatus:
    """Store an attempt's outcome: delivered, pending (a retry scheduled) or failed."""
    settings = get_settings()
    attempts = claimed.attempts + 1
    if attempt.error is None:
        status, retry_in = DeliveryStatus.DELIVERED, None
    elif attempts >= settings.webhook_max_attempts:
        status, retry_in = DeliveryStatus.FAILED, None
        log.warning(
            "webhook_failed",
            delivery_id=claimed.delivery_id,
            subscription_id=claimed.subscription_id,
            error=attempt.error,
        )
    else:
        status, retry_in = DeliveryStatus.PENDING, retry_wait(attempts)
    repository.record_attempt(
        session,
        delivery_id=claimed.id,
        status=status,
        status_code=attempt.status_code,
        error=attempt.error,
        retry_in=retry_in,
    )
    return status

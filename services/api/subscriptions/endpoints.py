"""HTTP edge of saved queries with webhooks (admin scope: a subscription makes the platform call out)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.api.subscriptions import service
from services.api.subscriptions.schemas import (
    DeliveryList,
    DeliveryStatusName,
    RetriedOut,
    RotateSecretIn,
    SecretRotated,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
)
from shared.auth.dependencies import RequireAdmin
from shared.http import ERROR_RESPONSES, RowId, SessionDep

router = APIRouter(
    prefix="/v1/subscriptions", tags=["subscriptions"], dependencies=[RequireAdmin], responses=ERROR_RESPONSES
)


@router.post(
    "",
    response_model=SubscriptionCreated,
    status_code=201,
    summary="Save a query with a webhook: newly enriched matching articles are POSTed to `url`, signed",
)
def create_subscription(session: SessionDep, body: SubscriptionIn) -> SubscriptionCreated:
    return service.create(session=session, data=body)


@router.get("", response_model=SubscriptionList, summary="Subscriptions with their delivery counts")
def list_subscriptions(session: SessionDep) -> SubscriptionList:
    return service.list_subscriptions(session=session)


@router.get("/{subscription_id}", response_model=SubscriptionOut, summary="One subscription")
def get_subscription(session: SessionDep, subscription_id: RowId) -> SubscriptionOut:
    return service.get(session=session, subscription_id=subscription_id)


@router.delete(
    "/{subscription_id}", status_code=204, response_class=Response, summary="Delete a subscription"
)
def delete_subscription(session: SessionDep, subscription_id: RowId) -> Response:
    service.delete(session=session, subscription_id=subscription_id)
    return Response(status_code=204)


@router.get(
    "/{subscription_id}/deliveries",
    response_model=DeliveryList,
    summary="A subscription's webhook deliveries, newest first (status=failed: what never got through)",
)
def list_deliveries(
    session: SessionDep,
    subscription_id: RowId,
    status: Annotated[
        DeliveryStatusName | None, Query(description="Only deliveries in this state.", examples=["failed"])
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1_000, description="Most deliveries listed.", examples=[100])] = 100,
) -> DeliveryList:
    return service.deliveries(session=session, subscription_id=subscription_id, status=status, limit=limit)


@router.post(
    "/{subscription_id}/deliveries/retry",
    response_model=RetriedOut,
    summary="Send a subscription's failed deliveries again (attempts start over; same delivery ids)",
)
def retry_failed_deliveries(session: SessionDep, subscription_id: RowId) -> RetriedOut:
    return service.retry_failed(session=session, subscription_id=subscription_id)


@router.post(
    "/{subscription_id}/rotate-secret",
    response_model=SecretRotated,
    summary="A new signing secret; the current one keeps signing (a second `v1=`) for a grace period",
)
def rotate_secret(
    session: SessionDep, subscription_id: RowId, body: RotateSecretIn | None = None
) -> SecretRotated:
    return service.rotate_secret(
        session=session, subscription_id=subscription_id, data=body or RotateSecretIn()
    )

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, HttpUrl, field_validator

from services.api.articles.schemas import (
    MAX_QUERY_CHARS,
    MAX_VALUES,
    ArticleQuery,
    ArticleSummary,
    EntityMode,
)

DeliveryStatusName = Literal["pending", "delivered", "failed"]  # shared.models.DeliveryStatus


def _no_nul(value: object) -> object:
    """PostgreSQL text cannot hold NUL: refuse it in any string a subscription stores (422)."""
    items = value if isinstance(value, list) else [value]
    if any(isinstance(item, str) and "\x00" in item for item in items):
        raise ValueError("NUL characters are not allowed")
    return value


class SavedFilter(BaseModel):
    """The filters of GET /v1/articles (the same names and meaning), saved with a subscription."""

    q: str | None = Field(default=None, min_length=1, max_length=MAX_QUERY_CHARS, examples=["central bank"])
    entity: list[str] = Field(default_factory=list, max_length=MAX_VALUES, examples=[["NATO"]])
    entity_mode: EntityMode = "all"
    entity_type: list[str] = Field(default_factory=list, max_length=MAX_VALUES, examples=[["ORG"]])
    topic: list[str] = Field(default_factory=list, max_length=MAX_VALUES, examples=[["politics"]])
    min_topic_score: float = Field(default=0.0, ge=0, le=1)
    source: list[str] = Field(default_factory=list, max_length=MAX_VALUES, examples=[["reuters"]])
    language: list[str] = Field(default_factory=list, max_length=MAX_VALUES, examples=[["en"]])
    include_duplicates: bool = False

    _strings = field_validator("q", "entity", "entity_type", "topic", "source", "language")(_no_nul)

    def to_query(self) -> ArticleQuery:
        return ArticleQuery(**self.model_dump())


class SubscriptionIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["ECB alerts"])
    url: HttpUrl = Field(
        description="Where matching articles are POSTed: http(s), no `user:password@`, a host resolving to "
        "public addresses only (loopback, private, link-local and metadata addresses are refused).",
        examples=["https://alerts.example/hook"],
    )
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="Signing secret (HMAC-SHA256); unset: one is made and shown once, in this answer.",
    )
    filter: SavedFilter = Field(default_factory=SavedFilter)

    _strings = field_validator("name", "secret")(_no_nul)


class RotateSecretIn(BaseModel):
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="The new signing secret; unset: one is made and shown once, in this answer.",
    )
    grace_hours: float | None = Field(
        default=None,
        ge=0,
        le=24 * 30,
        description="Hours the current secret still signs (unset: NEWSWIRE_WEBHOOK_SECRET_GRACE_HOURS; 0: "
        "it stops at once).",
        examples=[24],
    )

    _strings = field_validator("secret")(_no_nul)


class SecretRotated(BaseModel):
    id: int
    secret: str = Field(description="The new signing secret: keep it, it is not shown again.")
    previous_secret_valid_until: datetime | None = Field(
        description="Until then every delivery carries two `v1=` signatures, new secret first (null: the "
        "previous secret stopped at once)."
    )


class DeliveryCounts(BaseModel):
    pending: int = 0
    delivered: int = 0
    failed: int = 0


class SubscriptionOut(BaseModel):
    id: int
    name: str
    url: str
    filter: SavedFilter
    created_at: datetime
    deliveries: DeliveryCounts


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="The signing secret: keep it, it is not shown again.")


class SubscriptionList(BaseModel):
    items: list[SubscriptionOut]


class DeliveryOut(BaseModel):
    delivery_id: str = Field(description="Sent as `Newswire-Delivery` with every attempt (dedup key).")
    article_id: int
    status: DeliveryStatusName
    attempts: int
    next_attempt_at: datetime | None = Field(description="The next attempt (null: delivered or failed).")
    last_status_code: int | None = Field(description="The subscriber's last HTTP status (null: no answer).")
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryList(BaseModel):
    items: list[DeliveryOut] = Field(description="Newest first.")


class RetriedOut(BaseModel):
    requeued: int = Field(description="Failed deliveries sent again from now on.", examples=[3])


class WebhookPayload(BaseModel):
    """The JSON body POSTed to a subscriber."""

    delivery_id: str
    subscription_id: int
    article: ArticleSummary

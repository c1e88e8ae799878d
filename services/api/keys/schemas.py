"""API keys as the admin API shows them (never the key itself, except once when created)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ScopeName = Literal["ingest", "read", "admin"]


class KeyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "partner-cms", "scopes": ["ingest"], "sources": ["partner-cms"]}]
        },
    )

    name: str = Field(min_length=1, max_length=200, description="Who or what uses the key.")
    scopes: list[ScopeName] = Field(min_length=1, max_length=3, description="admin implies the others.")
    sources: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="The sources a key that can write (ingest, admin) may write; an article without a "
        "`source` gets the key's only one.",
    )
    any_source: bool = Field(default=False, description="The key may write every source (and none).")
    rate_limit_per_minute: int | None = Field(
        default=None, ge=0, le=1_000_000, description="Default: NEWSWIRE_RATE_LIMIT_PER_MINUTE."
    )


class KeyOut(BaseModel):
    id: int
    prefix: str = Field(description="Not secret: names the key in lists and logs.")
    name: str
    scopes: list[str]
    sources: list[str]
    any_source: bool
    rate_limit_per_minute: int | None
    created_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="The key, shown only this once (only its hash is stored).")


class KeysOut(BaseModel):
    items: list[KeyOut]

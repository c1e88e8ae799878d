from __future__ import annotations

from pydantic import BaseModel, Field


class EntityOut(BaseModel):
    id: int
    name: str = Field(examples=["NATO"])
    type: str = Field(examples=["ORG"])
    article_count: int


class EntityPage(BaseModel):
    items: list[EntityOut]
    next_cursor: str | None

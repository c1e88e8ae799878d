from __future__ import annotations

from pydantic import BaseModel, Field


class TopicOut(BaseModel):
    code: str = Field(examples=["medtop:15000000"])
    label: str = Field(examples=["sport"])
    article_count: int


class TopicList(BaseModel):
    items: list[TopicOut]
    next_cursor: str | None = None

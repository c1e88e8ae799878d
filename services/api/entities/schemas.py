from __future__ import annotations

from pydantic import BaseModel, Field


class AliasOut(BaseModel):
    alias: str = Field(examples=["U.S."], description="A surface form the entity was seen under.")
    mention_count: int = Field(description="Mentions under this form, over all articles.")
    article_count: int = Field(description="Articles using this form.")


class EntityOut(BaseModel):
    id: int
    name: str = Field(examples=["United States"], description="Canonical name.")
    type: str = Field(examples=["GPE"])
    article_count: int = Field(description="Articles mentioning the entity (under any form).")
    mention_count: int = Field(description="Mentions over all articles.")
    aliases: list[AliasOut] = Field(description="Surface forms seen, most used first.")


class EntityPage(BaseModel):
    items: list[EntityOut]
    next_cursor: str | None

from __future__ import annotations

from datetime import date

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


class RelatedOut(BaseModel):
    id: int
    name: str = Field(examples=["European Central Bank"])
    type: str = Field(examples=["ORG"])
    count: int = Field(description="Articles mentioning both entities (within the window).")


class RelatedPage(BaseModel):
    entity_id: int
    articles: int = Field(description="Articles of the entity counted over.")
    capped: bool = Field(
        description="True: the entity is in more articles; the newest `articles` of them were counted "
        "(NEWSWIRE_ENTITY_VIEW_WINDOW)."
    )
    items: list[RelatedOut] = Field(description="Co-occurring entities, most shared articles first.")


class DayOut(BaseModel):
    day: date = Field(examples=["2026-11-20"])
    articles: int = Field(
        description="Articles mentioning the entity, by publication day (UTC; stored day when undated)."
    )


class TimelineOut(BaseModel):
    entity_id: int
    start: date
    end: date = Field(description="Exclusive.")
    days: list[DayOut] = Field(description="Every day of the range, zeros included.")

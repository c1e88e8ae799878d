from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.api.reprocess.schemas import IsoDatetime


class StoryEntityOut(BaseModel):
    id: int
    name: str = Field(examples=["Gabriel Boric"])
    type: str = Field(examples=["PERSON"])
    articles: int = Field(description="Articles of the story that mention it.")


class StorySummary(BaseModel):
    id: int
    label: str = Field(description="Title of the story's earliest article.")
    article_count: int
    source_count: int = Field(
        description="Independent sources: distinct sources of the articles, a syndicated copy (nearly the "
        "same lead as the article it matched) not counted."
    )
    first_seen: datetime | None = Field(description="Earliest article (published, else received).")
    last_seen: datetime | None = Field(description="Latest article (published, else received).")
    top_entities: list[StoryEntityOut] = Field(description="Most salient entities over the articles.")


class StoryMatchOut(BaseModel):
    article_id: int = Field(description="The article this one matched when it joined the story.")
    score: float
    text: float = Field(
        description="The text part: cosine of the lead terms; for articles in different languages the "
        "multilingual embedding cosine mapped onto the same 0..1 scale (see `embedding`)."
    )
    entities: float | None = Field(description="Salience-weighted cosine of the entities (null: none).")
    time: float = Field(description="Time proximity: 1 same moment .. 0 a window apart.")
    terms: float | None = Field(default=None, description="Cosine of the lead terms (null: older match).")
    embedding: float | None = Field(
        default=None,
        description="Cosine of the multilingual embeddings of the two leads (null: an article has none).",
    )
    crosslingual: bool = Field(default=False, description="The two articles are in different languages.")


class StoryArticleOut(BaseModel):
    id: int
    title: str
    url: str
    source: str | None
    published_at: datetime | None
    language: str | None = Field(description="Detected language (ISO 639-1): a story spans languages.")
    at: datetime = Field(description="The time the story uses: published, else received.")
    syndicated: bool = Field(description="A syndicated copy of the article it matched.")
    match: StoryMatchOut | None = Field(description="Why it joined the story (null: it started it).")


class StoryDetail(StorySummary):
    articles: list[StoryArticleOut] = Field(description="The story's articles, earliest first.")
    more_articles: bool = Field(
        description="More articles than listed: page through GET /v1/articles?story=<id>."
    )


class StoryPage(BaseModel):
    items: list[StorySummary]
    next_cursor: str | None


class ReassignRequest(BaseModel):
    """Which articles to re-assign: enriched articles whose time (published, else received) is in
    ``[since, until)``; an open end is unbounded."""

    model_config = ConfigDict(extra="forbid")

    since: IsoDatetime | None = Field(default=None, description="At or after (ISO 8601 with a zone).")
    until: IsoDatetime | None = Field(default=None, description="Before (ISO 8601 with a zone).")

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError("since must be before until")
        return self


class ReassignResult(BaseModel):
    articles: int = Field(description="Enriched articles in the range, all re-assigned.")
    stories: int = Field(description="Distinct stories they are in now.")
    joined: int = Field(description="Articles that joined an earlier article's story.")
    removed: int = Field(description="Stories left without articles (deleted).")
    threshold: float = Field(description="NEWSWIRE_STORY_THRESHOLD used.")
    window_hours: float = Field(description="NEWSWIRE_STORY_WINDOW_HOURS used.")

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.api.articles.schemas import ArticleSummary


class ExportEntityOut(BaseModel):
    id: int
    name: str = Field(examples=["European Central Bank"], description="Canonical name.")
    type: str = Field(examples=["ORG"])
    mention_count: int
    salience: float


class ExportArticle(ArticleSummary):
    """One NDJSON line of GET /v1/export."""

    text: str
    authors: list[str]
    site_name: str | None
    modified_at: datetime | None
    language_confidence: float | None
    entities: list[ExportEntityOut] = Field(description="Most salient first.")


class ExportEnd(BaseModel):
    """The last line: without it the export was cut short."""

    end: bool = Field(examples=[True])
    count: int = Field(description="Articles exported (lines before this one).", examples=[1200])

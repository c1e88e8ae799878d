"""Typed contracts of JSON that one service writes and another reads.

``CleaningReport`` is ``articles.cleaning``: written by the ingest service (what cleaning dropped and
how far the extraction can be trusted), read by the API (an article's detail)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class RemovedText(BaseModel):
    """A piece of the input that did not make it into the article body, and why (a cleaning reason)."""

    model_config = ConfigDict(frozen=True)

    text: str
    reason: str


class CleaningReport(BaseModel):
    """What cleaning did to an article (``articles.cleaning``).

    Every key has a default: rows written before a key existed (``confidence`` and ``flags`` came
    after the first rows) read back with it; unknown keys are ignored."""

    model_config = ConfigDict(frozen=True)

    removed: list[RemovedText] = Field(default_factory=list)
    page_title: str | None = None  # the page's own title (the feed's headline may differ)
    page_canonical_url: str | None = None  # the page's <link rel="canonical">
    published_at_from: Literal["feed", "content"] | None = None  # where published_at came from
    confidence: float | None = None  # 0..1; None in rows written before it was measured
    flags: list[str] = Field(default_factory=list)  # reason codes behind the confidence

    def to_json(self) -> dict[str, Any]:
        """The column's value (every key written)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | None) -> CleaningReport:
        """A stored report (None or ``{}``: an empty report)."""
        return cls.model_validate(value or {})

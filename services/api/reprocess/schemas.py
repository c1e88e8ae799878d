from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from shared.http import MAX_ROW_ID

Reprocessable = Literal["enriched", "failed"]


def _iso_string(value: Any) -> Any:
    """JSON dates are ISO 8601 strings: a number (pydantic would read it as a Unix time) is refused."""
    if not isinstance(value, str | datetime):
        raise ValueError("a date must be an ISO 8601 string with a time zone")
    return value


IsoDatetime = Annotated[AwareDatetime, BeforeValidator(_iso_string)]


class ReprocessFilter(BaseModel):
    """Which articles to re-enrich. Duplicates and articles whose job is still pending are never taken."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["stale", "all"] = Field(
        default="stale",
        description="`stale`: only articles enriched at another version than the current one (or never); "
        "`all`: every article matching the other filters.",
    )
    source: list[str] = Field(default=[], max_length=100, description="Sources (any of).")
    status: list[Reprocessable] = Field(
        default=[], max_length=2, description="Statuses (any of; default: enriched and failed)."
    )
    ids: list[int] = Field(default=[], max_length=1000, description="Only these articles.")
    since: IsoDatetime | None = Field(default=None, description="Date (see `date_field`) at or after.")
    until: IsoDatetime | None = Field(default=None, description="Date (see `date_field`) before.")
    date_field: Literal["published", "received"] = Field(
        default="published", description="Which date `since`/`until` filter on."
    )

    @field_validator("source")
    @classmethod
    def _sources(cls, value: list[str]) -> list[str]:
        for item in value:
            if "\x00" in item:  # PostgreSQL text cannot hold NUL
                raise ValueError("NUL characters are not allowed")
            if len(item) > 1000:
                raise ValueError("source is longer than 1000 characters")
        return value

    @field_validator("ids")
    @classmethod
    def _ids(cls, value: list[int]) -> list[int]:
        if any(i < 1 or i > MAX_ROW_ID for i in value):
            raise ValueError(f"ids are between 1 and {MAX_ROW_ID}")
        return value

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError("since must be before until")
        return self


class ReprocessRequest(ReprocessFilter):
    limit: int | None = Field(
        default=None,
        ge=1,
        description="Most articles queued by this call (cut to NEWSWIRE_REPROCESS_MAX_PER_REQUEST).",
    )
    dry_run: bool = Field(default=False, description="Count what would be queued; queue nothing.")


class ReprocessResult(BaseModel):
    current_version: str = Field(description="The enrichment version articles are compared with.")
    matched: int = Field(description="Articles matching the request before this call queued any.")
    queued: int = Field(description="Articles queued for re-enrichment by this call.")
    remaining: int = Field(description="Articles still matching after this call (call again for them).")
    article_ids: list[int] = Field(description="The first 1000 articles queued, ascending.")
    dry_run: bool


class VersionCount(BaseModel):
    version: str | None = Field(description="The enrichment version (null: never enriched).")
    current: bool
    enriched: int
    failed: int
    queued: int


class CompletenessOut(BaseModel):
    current_version: str
    current_versions: dict[str, str] = Field(description="Model and code versions of the current version.")
    total: int = Field(description="Articles, duplicates excluded.")
    enriched_current: int = Field(description="Enriched at the current version.")
    enriched_older: int = Field(description="Enriched at another (older) version.")
    not_enriched: int = Field(description="Queued or failed (never enriched or failed since).")
    queued: int
    failed: int
    duplicates: int = Field(description="Duplicates (never enriched; not counted in `total`).")
    reprocessing: int = Field(description="Enriched articles whose re-enrichment is queued.")
    complete: float = Field(description="enriched_current / total (1.0 when there are no articles).")
    by_version: list[VersionCount] = Field(description="Articles by enrichment version, most first.")

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.entity_overrides import OverrideKind

EntityType = Literal[
    "PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"
]  # fmt: skip


class OverrideIn(BaseModel):
    """A new override. `alias` and `merge` need `canonical`; `ignore` takes none."""

    model_config = ConfigDict(extra="forbid")

    kind: OverrideKind = Field(
        description="alias: canonical name of a surface form; merge: entity "
        "`surface` becomes entity `canonical`; ignore: `surface` is not an entity."
    )
    surface: str = Field(
        min_length=1,
        max_length=200,
        examples=["Washington"],
        description="Surface form (alias, ignore) or entity name (merge); case-insensitive.",
    )
    type: EntityType | None = Field(
        default=None, description="Only when the entity has this type (null: any)."
    )
    canonical: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        examples=["United States government"],
        description="Target name.",
    )
    canonical_type: EntityType | None = Field(default=None, description="Target type (null: unchanged).")
    note: str | None = Field(default=None, max_length=2000)

    @field_validator("surface", "canonical", "note")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if "\x00" in value:  # PostgreSQL text cannot hold NUL
            raise ValueError("NUL characters are not allowed")
        value = " ".join(value.split())
        if not value:
            raise ValueError("blank")
        return value

    @model_validator(mode="after")
    def _targets(self) -> OverrideIn:
        if self.kind == "ignore" and (self.canonical is not None or self.canonical_type is not None):
            raise ValueError("an ignore override takes no canonical name or type")
        if self.kind != "ignore" and self.canonical is None:
            raise ValueError(f"a {self.kind} override needs 'canonical'")
        return self


class OverrideOut(BaseModel):
    id: int
    kind: OverrideKind
    surface: str
    type: str | None
    canonical: str | None
    canonical_type: str | None
    note: str | None
    created_by: str | None
    created_at: datetime


class OverrideList(BaseModel):
    items: list[OverrideOut]
    version: str = Field(description="Version of this set of overrides, recorded by each enrichment.")


class OverrideSaved(BaseModel):
    override: OverrideOut
    requeued: int = Field(description="Articles queued for re-enrichment.")


class OverrideDeleted(BaseModel):
    id: int
    requeued: int = Field(description="Articles queued for re-enrichment.")

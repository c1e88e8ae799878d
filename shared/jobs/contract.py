"""The enrich job contract: what an outbox row's payload says about its job (declared, typed)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class EnrichJob(BaseModel):
    """The payload of an enrich job in the outbox. Unknown keys are refused.

    Stored as JSON with the defaults left out (`to_payload`), so the keys of the rows written before the
    contract existed read back unchanged."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str | None = None  # the request that started the job (carried to the worker's logs)
    retry: bool = False  # an operator retried a failed article
    reprocess: bool = False  # re-enrichment at a newer version
    version: str | None = None  # with `reprocess`: the version asked for
    override: int | None = None  # an entity override changed (its id)
    batch_of: int | None = None  # the article whose task took this job into its batch
    batched_into: int | None = None  # a batch took this job over: the new job's outbox id
    alone: bool = False  # must run alone (an article a batch could not finish)

    def to_payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True)

    @classmethod
    def from_payload(cls, payload: dict[str, Any] | None) -> EnrichJob:
        return cls.model_validate(payload or {})


#: Payload key of a job a batch took over (its message is obsolete); the value is the new job's id.
BATCHED_INTO = "batched_into"
#: Payload key of a job a batch owns (redelivered: the batch died, so it runs alone).
BATCH_OF = "batch_of"
#: Payload key of a job that must run alone.
ALONE = "alone"
assert set(EnrichJob.model_fields) >= {BATCHED_INTO, BATCH_OF, ALONE}

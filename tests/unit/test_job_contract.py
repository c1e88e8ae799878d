"""The enrich job contract: what the outbox payload may say, and its JSON form."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.jobs.contract import ALONE, BATCHED_INTO, EnrichJob


def test_a_job_round_trips_through_its_payload() -> None:
    job = EnrichJob(request_id="r-1", reprocess=True, version="code=3;spacy=3.8.0", override=7)
    payload = job.to_payload()
    assert payload == {"request_id": "r-1", "reprocess": True, "version": "code=3;spacy=3.8.0", "override": 7}
    assert EnrichJob.from_payload(payload) == job


def test_defaults_are_left_out_so_old_rows_read_back_unchanged() -> None:
    assert EnrichJob().to_payload() == {}
    assert EnrichJob.from_payload(None) == EnrichJob()
    # rows written before the contract: ingest, retry and a batch's take-over
    assert EnrichJob.from_payload({"request_id": None}) == EnrichJob()
    assert EnrichJob.from_payload({"request_id": "x", "retry": True}).retry is True
    taken = EnrichJob.from_payload({"batch_of": 3, BATCHED_INTO: 12, ALONE: True})
    assert (taken.batch_of, taken.batched_into, taken.alone) == (3, 12, True)


def test_unknown_and_mistyped_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="owner"):
        EnrichJob.from_payload({"request_id": "r", "owner": 5})
    with pytest.raises(ValidationError):
        EnrichJob.from_payload({"batched_into": "not an id"})

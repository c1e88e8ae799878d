"""Idempotency-Key claims live in short transactions of their own: an unanswered claim makes a retry
wait (then 409), a claim left by a request whose process died is taken over after its lease, and a
failed request releases its claim."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.ingest.articles import endpoints
from services.ingest.idempotency.service import IN_PROGRESS_LEASE, request_hash
from shared.models import ApiKey, IdempotencyRecord
from tests.factories import article_payload


def _claim(db_session: Session, key: str, payload: dict[str, Any], *, age: timedelta) -> None:
    """A claim as a request with `payload` leaves it while it runs (no answer yet), `age` old."""
    api_key_id = db_session.scalars(select(ApiKey.id).order_by(ApiKey.id.desc())).first()
    db_session.add(
        IdempotencyRecord(
            api_key_id=api_key_id,
            key=key,
            request_hash=request_hash(method="POST", path="/v1/articles", body=payload),
            expires_at=func.now() + timedelta(hours=1),
        )
    )
    db_session.flush()
    db_session.execute(
        update(IdempotencyRecord).where(IdempotencyRecord.key == key).values(created_at=func.now() - age)
    )
    db_session.commit()


def test_a_key_in_progress_makes_the_retry_wait_then_409(
    ingest_client: httpx.Client, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(endpoints, "IDEMPOTENCY_WAIT_S", 0.3)
    payload = article_payload()
    _claim(db_session, "in-flight-1", payload, age=timedelta(seconds=1))
    response = ingest_client.post("/v1/articles", json=payload, headers={"Idempotency-Key": "in-flight-1"})
    assert response.status_code == 409, response.text
    assert response.json()["error"] == "idempotency_key_in_progress"
    assert response.headers["retry-after"]


def test_a_claim_older_than_its_lease_is_taken_over(ingest_client: httpx.Client, db_session: Session) -> None:
    payload = article_payload()
    _claim(db_session, "abandoned-1", payload, age=IN_PROGRESS_LEASE + timedelta(minutes=1))
    headers = {"Idempotency-Key": "abandoned-1"}
    response = ingest_client.post("/v1/articles", json=payload, headers=headers)
    assert response.status_code == 202, response.text
    again = ingest_client.post("/v1/articles", json=payload, headers=headers)
    assert again.status_code == 202
    assert again.headers["idempotent-replayed"] == "true"


def test_a_rejected_request_releases_its_claim(ingest_client: httpx.Client, db_session: Session) -> None:
    headers = {"Idempotency-Key": "rejected-1"}
    bad = ingest_client.post("/v1/articles", json=article_payload(title=None), headers=headers)
    assert bad.status_code == 422
    assert db_session.scalar(select(func.count()).where(IdempotencyRecord.key == "rejected-1")) == 0
    good = ingest_client.post("/v1/articles", json=article_payload(), headers=headers)
    assert good.status_code == 202, good.text

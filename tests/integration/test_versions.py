"""The versions workers enrich with, recorded in the database and read by the API (real PostgreSQL)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from shared import versions
from shared.errors import VersionsUnknown
from shared.models import Article, ModelVersion

NEW = {"code": "9", "ner_model": "m_test-1.0", "spacy": "3.8.0"}


def _enriched(session: Session, model_versions: dict[str, str]) -> None:
    token = uuid.uuid4().hex
    session.execute(
        insert(Article).values(
            url=f"https://example.com/{token}",
            canonical_url=f"https://example.com/{token}",
            source="versions",
            title="t",
            text="x",
            content_hash=token + token[:32],
            raw_format="text",
            raw_content="x",
            status="enriched",
            model_versions=model_versions,
            enrichment_version=versions.version_key(model_versions),
        )
    )


def test_the_last_recorded_versions_are_current(db_session: Session) -> None:
    versions.record(db_session, model="m_test", versions={"code": "8", "ner_model": "m_test-0.9"})
    versions.record(db_session, model="m_test", versions=NEW)  # a newer worker started
    current = versions.current(db_session, model="m_test")
    assert current.key == "code=9;ner_model=m_test-1.0;spacy=3.8.0"
    assert current.versions == NEW


def test_without_a_record_the_latest_enrichment_of_the_model_counts(db_session: Session) -> None:
    db_session.execute(delete(ModelVersion).where(ModelVersion.model == "m_test"))
    _enriched(db_session, {**NEW, "entity_overrides": "0"})
    _enriched(db_session, {"code": "9", "ner_model": "other_model-2.0"})  # another model's: not read
    current = versions.current(db_session, model="m_test")
    assert current.key == versions.version_key(NEW)
    assert current.versions == NEW  # the overrides' version is not part of it


def test_unknown_versions_are_a_503(db_session: Session) -> None:
    with pytest.raises(VersionsUnknown) as caught:
        versions.current(db_session, model="no_worker_ever")
    assert caught.value.status_code == 503

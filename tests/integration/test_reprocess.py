"""Versions and reprocessing on a real PostgreSQL and Redis: stale selection, filters, idempotent queuing
through the outbox, the rate limit, completeness, re-enrichment without duplicate rows, the CLI."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import create_engine, func, insert, pool, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.api.reprocess import service
from services.api.reprocess.schemas import ReprocessFilter
from services.enrich.articles import service as enrich_service
from services.enrich.nlp import Enricher
from services.enrich.nlp.versions import current_versions
from shared import versions
from shared.db import session_scope
from shared.models import Article, ArticleEntity, ArticleTopic, Entity, OutboxEvent
from shared.settings import get_settings
from shared.versions import version_key
from tests.factories import article_payload
from tests.integration.test_cli import _newswire as run_newswire

ROOT = Path(__file__).resolve().parents[2]
OLD = "code=1;langid=0.1;ner_model=en_core_web_sm-3.7.0;spacy=3.7.0;topics=old"
CURRENT = version_key(current_versions(get_settings().spacy_model))


def _article(
    session: Session,
    *,
    status: str = "enriched",
    version: str | None = CURRENT,
    source: str = "wire-a",
    published: datetime | None = None,
) -> int:
    token = uuid.uuid4().hex
    article_id: int = session.execute(
        insert(Article)
        .values(
            url=f"https://example.com/{token}",
            canonical_url=f"https://example.com/{token}",
            source=source,
            title=f"Title {token}",
            text=f"Body {token}. NATO leaders met in Brussels on Tuesday.",
            content_hash=token + token[:32],
            raw_format="text",
            raw_content="x",
            status=status,
            enrichment_version=version,
            published_at=published,
        )
        .returning(Article.id)
    ).scalar_one()
    return article_id


def _pending(session: Session, ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(OutboxEvent.article_id, func.count())
        .where(OutboxEvent.article_id.in_(ids), OutboxEvent.completed_at.is_(None))
        .group_by(OutboxEvent.article_id)
    )
    return {int(a): int(n) for a, n in rows}


def _scope(factory: sessionmaker[Session]) -> Callable[[], Any]:
    @contextmanager
    def scope() -> Iterator[Session]:
        with session_scope(factory) as session:
            yield session

    return scope


def test_version_key_is_stable_and_matches_the_worker_and_the_migration(db_session: Session) -> None:
    versions = current_versions("en_core_web_sm")
    assert set(versions) == {
        "spacy",
        "ner_model",
        "ner_model_fr",
        "ner_model_es",
        "ner_model_nl",
        "ner_model_de",
        "langid",
        "topics",
        "topic_embedder",
        "multilingual_embedder",
        "code",
    }
    assert version_key(versions) == version_key(dict(reversed(list(versions.items()))))
    assert version_key(None) is None
    # the migration's SQL back-fill computes the same string from the stored JSON
    from sqlalchemy import text

    sql = (
        "SELECT string_agg(kv.key || '=' || kv.value, ';' ORDER BY kv.key COLLATE \"C\") "
        "FROM jsonb_each_text(CAST(:v AS jsonb)) kv"
    )
    assert db_session.scalar(text(sql), {"v": json.dumps(versions)}) == version_key(versions)


def test_stale_selection_filters_and_idempotent_queuing(
    api_client: httpx.Client, db_session: Session, redis_client: redis.Redis
) -> None:
    may = datetime(2024, 5, 14, tzinfo=UTC)
    current = _article(db_session)
    old_a = _article(db_session, version=OLD, published=may)
    old_b = _article(db_session, version=OLD, source="wire-b")
    never = _article(db_session, status="failed", version=None, source="wire-b")
    queued = _article(db_session, status="queued", version=None)
    duplicate = _article(db_session, status="duplicate", version=None)
    db_session.commit()
    everything = [current, old_a, old_b, never, queued, duplicate]
    queue = get_settings().enrich_queue
    depth = redis_client.llen(queue)

    dry = api_client.post("/v1/ops/reprocess", json={"dry_run": True})
    assert dry.status_code == 202, dry.text
    assert dry.json()["matched"] >= 3  # the others of this database's committed rows may match too
    body = {"ids": everything}
    assert api_client.post("/v1/ops/reprocess", json={**body, "dry_run": True}).json()["queued"] == 0
    assert _pending(db_session, everything) == {}

    # filters: source, published range, status
    by_source = api_client.post("/v1/ops/reprocess", json={**body, "source": ["wire-b"], "dry_run": True})
    assert by_source.json()["matched"] == 2
    dated = {**body, "since": "2024-05-01T00:00:00Z", "until": "2024-06-01T00:00:00Z", "dry_run": True}
    assert api_client.post("/v1/ops/reprocess", json=dated).json()["matched"] == 1
    failed_only = api_client.post("/v1/ops/reprocess", json={**body, "status": ["failed"], "dry_run": True})
    assert failed_only.json()["matched"] == 1
    everyone = api_client.post("/v1/ops/reprocess", json={**body, "mode": "all", "dry_run": True})
    assert everyone.json()["matched"] == 4  # never the queued or the duplicate article

    first = api_client.post("/v1/ops/reprocess", json={**body, "limit": 2})
    assert first.status_code == 202, first.text
    assert first.json()["queued"] == 2
    assert first.json()["article_ids"] == [old_a, old_b]  # oldest first
    assert first.json()["remaining"] == 1
    second = api_client.post("/v1/ops/reprocess", json=body).json()
    assert second["article_ids"] == [never]
    assert second["current_version"] == CURRENT
    again = api_client.post("/v1/ops/reprocess", json={**body, "mode": "all"}).json()
    assert again["article_ids"] == [current]  # the others have a pending job: not queued twice
    assert api_client.post("/v1/ops/reprocess", json={**body, "mode": "all"}).json()["queued"] == 0

    assert _pending(db_session, everything) == {old_a: 1, old_b: 1, never: 1, current: 1}
    assert redis_client.llen(queue) == depth + 4  # published after the commit
    db_session.expire_all()
    statuses = {
        int(i): str(s)
        for i, s in db_session.execute(select(Article.id, Article.status).where(Article.id.in_(everything)))
    }
    assert statuses[old_a] == "enriched"  # keeps its results until the worker replaces them
    assert statuses[never] == "queued"  # a failed article goes back to queued, as a retry does
    assert statuses[duplicate] == "duplicate"


def test_bad_reprocess_requests_are_422(api_client: httpx.Client) -> None:
    for body in (
        {"unknown": 1},
        {"mode": "everything"},
        {"status": ["duplicate"]},
        {"since": "2024-06-01T00:00:00Z", "until": "2024-05-01T00:00:00Z"},
        {"since": "2024-06-01T00:00:00"},  # no time zone
        {"limit": 0},
        {"ids": [0]},
        {"source": ["a\x00b"]},
    ):
        response = api_client.post("/v1/ops/reprocess", json=body)
        assert response.status_code == 422, (body, response.text)
        assert "error" in response.json()


def test_request_bounded_by_setting(
    api_client: httpx.Client, db_session: Session, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [_article(db_session, version=OLD) for _ in range(3)]
    db_session.commit()
    monkeypatch.setattr(get_settings(), "reprocess_max_per_request", 2)
    out = api_client.post("/v1/ops/reprocess", json={"ids": ids, "limit": 100}).json()
    assert out["queued"] == 2
    assert out["remaining"] == 1


def test_run_honours_the_rate_in_batches(
    session_factory: sessionmaker[Session], db_session: Session, redis_client: redis.Redis
) -> None:
    ids = [_article(db_session, version=OLD, source="paced") for _ in range(7)]
    db_session.commit()
    now = [0.0]
    sleeps: list[float] = []
    seen: list[tuple[int, int]] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    published: list[list[int]] = []
    result = service.run(
        sessions=_scope(session_factory),
        selection=ReprocessFilter(source=["paced"]),
        current=CURRENT,
        rate=2.0,
        publish=published.append,
        progress=lambda done, total: seen.append((done, total)),
        clock=lambda: now[0],
        sleep=sleep,
    )
    assert result.queued == 7
    assert result.batches == 4  # batches of ceil(rate) = 2
    assert result.article_ids == ids
    assert seen == [(2, 7), (4, 7), (6, 7), (7, 7)]
    assert sleeps == [1.0, 1.0, 1.0]  # 6 articles before the last batch at 2 a second: 3 s
    assert [len(p) for p in published] == [2, 2, 2, 1]  # one publish per committed batch
    assert _pending(db_session, ids) == dict.fromkeys(ids, 1)
    # a second run finds nothing: every article has its pending job
    again = service.run(
        sessions=_scope(session_factory), selection=ReprocessFilter(source=["paced"]), current=CURRENT
    )
    assert again.queued == 0
    assert again.matched == 0
    limited = service.run(
        sessions=_scope(session_factory),
        selection=ReprocessFilter(source=["paced"], mode="all"),
        current=CURRENT,
        limit=3,
    )
    assert limited.queued == 0  # still pending


def test_completeness_counts(api_client: httpx.Client, db_session: Session) -> None:
    before = api_client.get("/v1/ops/completeness").json()
    _article(db_session)
    _article(db_session, version=OLD)
    _article(db_session, version=OLD)
    _article(db_session, status="failed", version=None)
    _article(db_session, status="queued", version=None)
    _article(db_session, status="duplicate", version=None)
    db_session.commit()
    after = api_client.get("/v1/ops/completeness")
    assert after.status_code == 200, after.text
    now = after.json()

    def delta(key: str) -> int:
        return int(now[key]) - int(before[key])

    assert now["current_version"] == CURRENT
    assert now["current_versions"]["code"] == current_versions(get_settings().spacy_model)["code"]
    assert (delta("total"), delta("enriched_current"), delta("enriched_older")) == (5, 1, 2)
    assert (delta("not_enriched"), delta("queued"), delta("failed"), delta("duplicates")) == (2, 1, 1, 1)
    rows = {r["version"]: r for r in now["by_version"]}
    assert rows[OLD]["enriched"] >= 2
    assert rows[OLD]["current"] is False
    assert rows[CURRENT]["current"] is True
    assert 0 <= now["complete"] <= 1


def test_reprocess_then_re_enrich_leaves_no_duplicate_rows(
    ingest_client: httpx.Client, api_client: httpx.Client, db_session: Session, redis_client: redis.Redis
) -> None:
    enricher = Enricher(get_settings().spacy_model)
    response = ingest_client.post(
        "/v1/articles",
        json=article_payload(
            title="Hillary Clinton meets NATO leaders",
            text="BRUSSELS - Hillary Clinton met NATO leaders in Brussels. Clinton said the United States "
            "would support Pakistan. Mrs. Clinton spoke for an hour.",
        ),
    )
    article_id = response.json()["id"]
    assert enrich_service.enrich_article(session=db_session, article_id=article_id, enricher=enricher) == (
        "enriched"
    )
    db_session.commit()

    def snapshot() -> tuple[Any, ...]:
        db_session.expire_all()
        entities = sorted(
            db_session.execute(
                select(ArticleEntity.entity_id, ArticleEntity.mention_count).where(
                    ArticleEntity.article_id == article_id
                )
            ).all()
        )
        topics = db_session.scalar(
            select(func.count()).select_from(ArticleTopic).where(ArticleTopic.article_id == article_id)
        )
        counts = sorted(
            db_session.execute(
                select(Entity.id, Entity.article_count, Entity.mention_count).where(
                    Entity.id.in_([e for e, _ in entities])
                )
            ).all()
        )
        return entities, topics, counts

    first = snapshot()
    assert first[0], "the article has entities"
    article = db_session.get(Article, article_id)
    assert article is not None
    assert article.enrichment_version == CURRENT
    db_session.execute(update(Article).where(Article.id == article_id).values(enrichment_version=OLD))
    db_session.commit()

    out = api_client.post("/v1/ops/reprocess", json={"ids": [article_id]}).json()
    assert out["article_ids"] == [article_id]
    assert api_client.get("/v1/ops/completeness").json()["reprocessing"] >= 1
    assert enrich_service.enrich_article(session=db_session, article_id=article_id, enricher=enricher) == (
        "enriched"
    )
    db_session.commit()
    assert snapshot() == first  # same rows, counts not inflated
    db_session.expire_all()
    article = db_session.get(Article, article_id)
    assert article is not None
    assert article.enrichment_version == CURRENT
    assert _pending(db_session, [article_id]) == {}  # the job is complete
    assert api_client.post("/v1/ops/reprocess", json={"ids": [article_id]}).json()["matched"] == 0


# --- the CLI, as a user runs it, against a database of its own with committed rows ----------------------


def _newswire(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_newswire(*args, timeout=180, env_overrides=env)


def test_cli_reprocess_dry_run_rate_and_completeness(fresh_database: Any, redis_client: redis.Redis) -> None:
    url: str = fresh_database("reprocess_cli")
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with Session(engine) as session:
            old = [_article(session, version=OLD, source="cli") for _ in range(5)]
            _article(session, source="cli")
            # a worker records what it enriches with when it starts: the CLI reads it
            model = get_settings().spacy_model
            versions.record(session, model=model, versions=current_versions(model))
            session.commit()
        env = {"NEWSWIRE_DATABASE_URL": url}
        queue = get_settings().enrich_queue
        depth = redis_client.llen(queue)

        dry = _newswire(env, "reprocess", "--dry-run", "--source", "cli")
        assert dry.returncode == 0, dry.stderr
        assert json.loads(dry.stdout.splitlines()[-1])["matched"] == 5
        assert redis_client.llen(queue) == depth

        bad = _newswire(env, "reprocess", "--all", "--stale")
        assert bad.returncode != 0
        assert "Traceback" not in bad.stdout + bad.stderr

        done = _newswire(env, "reprocess", "--stale", "--source", "cli", "--limit", "4", "--rate", "100")
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout.splitlines()[-1])
        assert (out["matched"], out["queued"]) == (4, 4)
        assert redis_client.llen(queue) == depth + 4
        rest = json.loads(_newswire(env, "reprocess", "--source", "cli").stdout.splitlines()[-1])
        assert rest["queued"] == 1
        assert redis_client.llen(queue) == depth + 5
        with Session(engine) as session:
            assert _pending(session, old) == dict.fromkeys(old, 1)

        table = _newswire(env, "completeness")
        assert table.returncode == 0, table.stderr
        assert "enriched at the current version 1" in table.stdout
        data = json.loads(_newswire(env, "completeness", "--json").stdout)
        assert (data["enriched_current"], data["enriched_older"], data["reprocessing"]) == (1, 5, 5)
    finally:
        engine.dispose()


def test_cli_enrich_raw_runs_the_models_on_the_text_as_given(tmp_path: Path) -> None:
    text = "See all newsletters\nBRUSSELS - NATO leaders met Hillary Clinton in Brussels on Tuesday.\n"
    path = tmp_path / "raw.txt"
    path.write_text(text, encoding="utf-8")
    env: dict[str, str] = {}
    result = _newswire(env, "enrich", "--raw", str(path))
    assert result.returncode == 0, result.stderr
    (article,) = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert article["raw"] is True
    assert article["text"] == text  # nothing cleaned away: the junk line is still there
    names = {e["name"] for e in article["entities"]}
    assert "Hillary Clinton" in names
    for entity in article["entities"]:
        for mention in entity["mentions"]:
            assert text[mention["start"] : mention["end"]] == mention["text"]


def test_migration_0006_back_fills_the_version_key(fresh_database: Any) -> None:
    from alembic import command
    from sqlalchemy import text

    from shared.migrate import alembic_config, upgrade

    url: str = fresh_database("backfill_0006")
    command.downgrade(alembic_config(url), "0005")
    versions = current_versions(get_settings().spacy_model)
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            for n, stored in enumerate((json.dumps(versions), None)):
                conn.execute(
                    text(
                        "INSERT INTO articles (url, canonical_url, title, text, content_hash, raw_format, "
                        "raw_content, status, model_versions) VALUES (:u, :u, 't', 'x', :h, 'text', 'x', "
                        "'enriched', CAST(:v AS jsonb))"
                    ),
                    {"u": f"https://example.com/{n}", "h": f"{n:064d}", "v": stored},
                )
        upgrade(url)
        with engine.connect() as conn:
            keys = conn.execute(text("SELECT enrichment_version FROM articles ORDER BY id")).scalars().all()
        assert keys == [version_key(versions), None]
        assert keys[0] == version_key(current_versions(get_settings().spacy_model))
    finally:
        engine.dispose()

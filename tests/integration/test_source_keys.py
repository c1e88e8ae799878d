"""Keys bound to sources, matching scoped to the writer, the date window, and reads that survive any
stored date: through the real ingest and read apps on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from shared.models import Article, SourceLine
from tests.conftest import MakeKey, bearer
from tests.factories import article_payload
from tests.read_paths import read_every_path, server_errors


@pytest.fixture
def ingest_app(session_factory: sessionmaker[Session], redis_url: str) -> Iterator[TestClient]:
    from services.ingest.app import create_app

    app = create_app()
    app.state.session_factory = session_factory
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _post(client: TestClient, key: str, payload: dict[str, object]) -> httpx.Response:
    return client.post("/v1/articles", json=payload, headers=bearer(key))


def _snapshot(session: Session, article_id: int) -> tuple[str, str, int, str | None, str]:
    session.expire_all()
    row = session.get(Article, article_id)
    assert row is not None
    return row.title, row.text, row.revision, row.source, row.status


def test_a_bound_key_writes_only_its_sources(
    ingest_app: TestClient, make_key: MakeKey, db_session: Session
) -> None:
    key = make_key("ingest", sources=("alpha",))
    own = _post(ingest_app, key, article_payload(source="alpha"))
    assert own.status_code == 202, own.text
    other = _post(ingest_app, key, article_payload(source="beta"))
    assert other.status_code == 403
    assert other.json()["error"] == "source_not_allowed"
    assert "beta" in other.json()["detail"]
    omitted = _post(ingest_app, key, article_payload(source=None))
    assert omitted.status_code == 202, omitted.text
    assert _snapshot(db_session, omitted.json()["id"])[3] == "alpha"
    two = make_key("ingest", sources=("alpha", "beta"))
    assert _post(ingest_app, two, article_payload(source="beta")).status_code == 202
    needs_one = _post(ingest_app, two, article_payload(source=None))
    assert needs_one.status_code == 422
    assert needs_one.json()["error"] == "source_required"
    batch = ingest_app.post(
        "/v1/articles/batch",
        json={
            "articles": [article_payload(source="alpha"), article_payload(source="gamma"), article_payload()]
        },
        headers=bearer(key),
    )
    assert batch.status_code == 200
    items = batch.json()["items"]
    assert [i["ok"] for i in items] == [True, False, False]
    assert items[1]["error"] == items[2]["error"] == "source_not_allowed"
    read_only = make_key("read")
    assert _post(ingest_app, read_only, article_payload(source="alpha")).status_code == 403


def test_no_overwrite_path_reaches_another_sources_article(
    ingest_app: TestClient, api_client: httpx.Client, make_key: MakeKey, db_session: Session
) -> None:
    alpha, beta = make_key("ingest", sources=("alpha",)), make_key("ingest", sources=("beta",))
    anyone = make_key("ingest")  # any-source
    original = article_payload(source="alpha", external_id="a-1")
    first = _post(ingest_app, alpha, original)
    assert first.status_code == 202
    article_id = first.json()["id"]
    before = _snapshot(db_session, article_id)
    forged = "Forged text that replaces the original article entirely, sent by another feed today."
    attempts = [
        (beta, {**original, "source": "beta", "title": "Forged", "text": forged}),  # its URL, own source
        (beta, {**original, "source": None, "title": "Forged", "text": forged}),  # its URL, no source
        (beta, {**original, "title": "Forged", "text": forged}),  # its source and feed id
        (anyone, {**original, "source": None, "title": "Forged", "text": forged}),  # any-source, no source
        (anyone, {**original, "source": "other", "title": "Forged", "text": forged}),  # any-source, its URL
    ]
    answers = []
    for key, payload in attempts:
        answer = _post(ingest_app, key, {k: v for k, v in payload.items() if v is not None})
        answers.append(answer)
        assert answer.status_code in (200, 403), answer.text
        if answer.status_code == 200:
            body = answer.json()
            assert body["status"] == "duplicate"
            assert body["duplicate_of"] == article_id
            assert body["id"] != article_id
        else:
            assert answer.json()["error"] == "source_not_allowed"
        assert _snapshot(db_session, article_id) == before
    copy = answers[0]
    assert copy.json()["duplicate_method"] == "url"
    assert [a.status_code for a in answers] == [200, 200, 403, 200, 200]
    # the syndicated copy is visible to its own source with include_duplicates
    listed = api_client.get("/v1/articles", params={"source": "beta", "include_duplicates": "true"}).json()
    assert copy.json()["id"] in [item["id"] for item in listed["items"]]
    detail = api_client.get(f"/v1/articles/{copy.json()['id']}").json()
    assert detail["duplicate"]["duplicate_of"] == article_id
    assert detail["source"] == "beta"
    # the owner still revises its own article, by feed id
    revised = _post(ingest_app, alpha, {**original, "text": original["text"] + " An update came later."})
    assert (revised.status_code, revised.json()["status"], revised.json()["id"]) == (
        202,
        "revised",
        article_id,
    )


def test_sourceless_feeds_are_namespaced_by_their_key(
    ingest_app: TestClient, make_key: MakeKey, db_session: Session
) -> None:
    one, two = make_key("ingest"), make_key("ingest")
    first = [_post(ingest_app, one, article_payload(source=None, external_id=str(n))) for n in (1, 2, 3)]
    second = [_post(ingest_app, two, article_payload(source=None, external_id=str(n))) for n in (1, 2, 3)]
    assert [r.status_code for r in first + second] == [202] * 6
    assert len({r.json()["id"] for r in first + second}) == 6
    snapshots = {r.json()["id"]: _snapshot(db_session, r.json()["id"]) for r in first}
    again = _post(ingest_app, two, article_payload(source=None, external_id="1", text="Another text " * 20))
    assert again.json()["id"] == second[0].json()["id"]
    assert again.json()["status"] == "revised"
    assert {i: _snapshot(db_session, i) for i in snapshots} == snapshots


def test_source_lines_are_learned_only_from_the_sources_own_articles(
    ingest_app: TestClient, make_key: MakeKey, db_session: Session
) -> None:
    alpha, beta = make_key("ingest", sources=("alpha-lines",)), make_key("ingest", sources=("beta-lines",))
    for _ in range(3):
        forged = article_payload(source="alpha-lines", text="Forged line.\n\n" + article_payload()["text"])
        assert _post(ingest_app, beta, forged).status_code == 403
    counted = db_session.scalar(
        select(SourceLine.count).where(SourceLine.source == "alpha-lines", SourceLine.line_hash == "*")
    )
    assert counted is None
    lines = (
        "Subscribe to our newsletter.\n\n"
        + article_payload()["text"]
        + "\n\nThe minister declined to comment."
    )
    assert _post(ingest_app, alpha, article_payload(source=None, text=lines)).status_code == 202
    counted = db_session.scalar(
        select(SourceLine.count).where(SourceLine.source == "alpha-lines", SourceLine.line_hash == "*")
    )
    assert counted == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("published_at", "9999-12-31T23:00:00-05:00"),
        ("published_at", "1899-12-31T23:59:59Z"),
        ("published_at", "0001-01-01T00:00:00+14:00"),
        ("modified_at", (datetime.now(UTC) + timedelta(days=3)).isoformat()),
        ("published_at", (datetime.now(UTC) + timedelta(days=2, hours=1)).isoformat()),
    ],
)
def test_dates_outside_the_window_are_refused_naming_the_field(
    ingest_client: httpx.Client, field: str, value: str
) -> None:
    response = ingest_client.post("/v1/articles", json=article_payload(**{field: value}))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation_error"
    assert body["detail"][0]["loc"][-1] == field


def test_dates_inside_the_window_are_kept_in_utc(ingest_client: httpx.Client, db_session: Session) -> None:
    soon = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    response = ingest_client.post(
        "/v1/articles",
        json=article_payload(published_at="1900-01-01T00:00:00Z", modified_at=soon.isoformat()),
    )
    assert response.status_code == 202, response.text
    row = db_session.get(Article, response.json()["id"])
    assert row is not None
    assert row.published_at == datetime(1900, 1, 1, tzinfo=UTC)
    assert row.modified_at == soon


def test_html_meta_dates_outside_the_window_are_dropped(
    ingest_client: httpx.Client, db_session: Session
) -> None:
    html = (
        '<html><head><meta property="article:published_time" content="9999-12-31T23:00:00-05:00">'
        "<title>Meta</title></head><body><article><p>"
        + " ".join(["The council met on Monday to discuss the budget for the coming year."] * 5)
        + "</p></article></body></html>"
    )
    payload = article_payload(text=None, html=html)
    response = ingest_client.post("/v1/articles", json=payload)
    assert response.status_code == 202, response.text
    row = db_session.get(Article, response.json()["id"])
    assert row is not None
    assert row.published_at is None or row.published_at.year < 9999


def test_reads_survive_dates_already_stored_outside_pythons_range(
    ingest_client: httpx.Client, api_client: httpx.Client, db_session: Session
) -> None:
    ids = []
    for _ in range(4):
        response = ingest_client.post("/v1/articles", json=article_payload())
        assert response.status_code == 202
        ids.append(response.json()["id"])
    # as stored before the window existed: year 10000 in UTC, BC, and infinities
    for article_id, value in zip(
        ids, ["9999-12-31T23:00:00-05:00", "0044-03-15 00:00:00+00 BC", "infinity", "-infinity"], strict=True
    ):
        db_session.execute(
            text(
                "UPDATE articles SET published_at = CAST(:v AS timestamptz), modified_at = CAST(:v AS "
                "timestamptz), status = 'enriched', enriched_at = clock_timestamp() WHERE id = :id"
            ),
            {"v": value, "id": article_id},
        )
    db_session.commit()
    seen = read_every_path(api_client, article_ids=tuple(ids))
    assert not server_errors(seen), server_errors(seen)
    assert len(seen) > 30
    listed = api_client.get("/v1/articles", params={"sort": "published", "limit": 50}).json()
    dates = {item["id"]: item["published_at"] for item in listed["items"] if item["id"] in ids}
    assert dates[ids[0]].startswith("9999-12-30")


def test_admin_api_creates_lists_and_revokes_bound_keys(
    api_client: httpx.Client, ingest_app: TestClient
) -> None:
    created = api_client.post(
        "/v1/ops/keys", json={"name": "partner", "scopes": ["ingest"], "sources": ["partner", "partner"]}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["sources"], body["any_source"]) == (["partner"], False)
    assert _post(ingest_app, body["key"], article_payload(source=None)).status_code == 202
    assert _post(ingest_app, body["key"], article_payload(source="other")).status_code == 403
    unbound = api_client.post("/v1/ops/keys", json={"name": "x", "scopes": ["ingest"]})
    assert unbound.status_code == 422
    assert "any-source" in unbound.json()["detail"]
    both = api_client.post(
        "/v1/ops/keys", json={"name": "x", "scopes": ["ingest"], "sources": ["a"], "any_source": True}
    )
    assert both.status_code == 422
    listed = api_client.get("/v1/ops/keys").json()["items"]
    mine = next(k for k in listed if k["id"] == body["id"])
    assert "key" not in mine
    assert mine["sources"] == ["partner"]
    revoked = api_client.post(f"/v1/ops/keys/{body['id']}/revoke")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert _post(ingest_app, body["key"], article_payload(source="partner")).status_code == 401
    assert api_client.post("/v1/ops/keys/999999/revoke").status_code == 404


def test_an_admin_key_cannot_revoke_itself(api_client: httpx.Client) -> None:
    prefix = api_client.headers["authorization"].split("_")[1]  # nw_<prefix>_<secret>: this client's key
    (me,) = [k for k in api_client.get("/v1/ops/keys").json()["items"] if k["prefix"] == prefix]
    answer = api_client.post(f"/v1/ops/keys/{me['id']}/revoke")
    assert answer.status_code == 422
    assert "itself" in answer.json()["detail"]
    assert api_client.get("/v1/ops/keys").status_code == 200

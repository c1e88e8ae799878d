"""Test plumbing: real PostgreSQL (a fresh database per run, migrated once) and real Redis.

Each test runs inside a transaction that is rolled back (join_transaction_mode="create_savepoint"),
so the code under test may commit freely. With NEWSWIRE_REQUIRE_SERVICES=1 (CI) a missing
PostgreSQL or Redis fails the tests that need it instead of skipping them."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator

from tests.settings import SuiteSettings

# Settings are read once per process: fix the test environment before any app module is imported.
_RUN_ID = uuid.uuid4().hex[:10]
os.environ["NEWSWIRE_ENRICH_QUEUE"] = f"enrich-test-{_RUN_ID}"
os.environ["NEWSWIRE_REDIS_URL"] = SuiteSettings().test_redis_url
os.environ["NEWSWIRE_LOG_JSON"] = "false"
# not the checkout's .newswire/: a `make run` beside the tests must not lend them its platform (platform.json)
os.environ["NEWSWIRE_DATA_DIR"] = tempfile.mkdtemp(prefix=f"newswire-test-{_RUN_ID}-")
os.environ["NEWSWIRE_AUTH_CACHE_SECONDS"] = "0"  # a revoked key fails at once; no key leaks between tests
os.environ["NEWSWIRE_API_CACHE_SECONDS"] = "0"  # events exist only at a real commit: see test_cache
os.environ.pop("NEWSWIRE_RATE_LIMIT_PER_MINUTE", None)
os.environ.pop("NEWSWIRE_API_KEY", None)
os.environ.pop("NEWSWIRE_DATABASE_URL", None)

import httpx  # noqa: E402
import pytest  # noqa: E402
import redis  # noqa: E402
from sqlalchemy import Connection, Engine, create_engine, make_url, pool, text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from shared.settings import Settings, get_settings  # noqa: E402

RUN_ID = _RUN_ID


def _unavailable(what: str, exc: BaseException) -> None:
    message = f"{what} is unreachable: {type(exc).__name__}: {exc}"
    if SuiteSettings().require_services:
        pytest.fail(message + " (NEWSWIRE_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def create_database(admin_url: str, name: str) -> str:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def suite_settings() -> SuiteSettings:
    return SuiteSettings()


@pytest.fixture(scope="session")
def fresh_database(suite_settings: SuiteSettings) -> Iterator[object]:
    """A factory of new, migrated databases, dropped at the end of the run."""
    from shared.migrate import upgrade

    admin_url = suite_settings.test_database_url
    created: list[str] = []

    def make(label: str) -> str:
        name = f"nw_test_{RUN_ID}_{label}"
        try:
            url = create_database(admin_url, name)
        except OperationalError as exc:
            _unavailable(f"PostgreSQL at {make_url(admin_url).render_as_string()}", exc)
        created.append(name)
        upgrade(url)
        return url

    yield make
    for name in created:
        drop_database(admin_url, name)


@pytest.fixture(scope="session")
def database_url(fresh_database: object, settings: Settings) -> Iterator[str]:
    url: str = fresh_database("main")  # type: ignore[operator]
    os.environ["NEWSWIRE_DATABASE_URL"] = url
    get_settings.cache_clear()
    return url


def record_worker_versions(engine: Engine) -> None:
    """As a starting worker does: the API and the CLI read the current versions from the database."""
    from services.enrich.nlp.versions import current_versions
    from shared import versions

    with Session(engine) as session, session.begin():
        model = get_settings().spacy_model
        versions.record(session, model=model, versions=current_versions(model))


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url, poolclass=pool.NullPool)
    record_worker_versions(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False
    )


@pytest.fixture
def db_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    yield session
    session.close()


@pytest.fixture(scope="session")
def redis_url(settings: Settings) -> str:
    url = os.environ["NEWSWIRE_REDIS_URL"]
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        _unavailable(f"Redis at {url}", exc)
    finally:
        client.close()
    return url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.delete(get_settings().enrich_queue)
    client.close()


MakeKey = Callable[..., str]


@pytest.fixture
def make_key(session_factory: sessionmaker[Session]) -> MakeKey:
    """Create an API key in the test's transaction: make_key("ingest", "read", rate_limit=None) -> key."""
    from shared.auth import service

    def make(
        *scopes: str,
        name: str = "test",
        rate_limit: int | None = None,
        revoked: bool = False,
        sources: tuple[str, ...] = (),
    ) -> str:
        """A key that can write is any-source unless `sources` binds it."""
        with session_factory() as session:
            created = service.create_key(
                session=session,
                name=name,
                scopes=list(scopes),
                rate_limit_per_minute=rate_limit,
                sources=sources,
                any_source=not sources and ("ingest" in scopes or "admin" in scopes),
            )
            if revoked:
                service.revoke_key(session=session, ref=str(created.row.id))
            session.commit()
        return created.key

    return make


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def cli_api_key(env: dict[str, str], *scopes: str, name: str = "e2e", sources: tuple[str, ...] = ()) -> str:
    """A key made with `newswire keys create` against the database of `env` (for real processes); one that
    can write is bound to `sources`, else any-source."""
    from tests.support.cli import newswire

    args = [arg for scope in scopes for arg in ("--scope", scope)]
    if sources:
        args += [arg for source in sources for arg in ("--source", source)]
    elif "ingest" in scopes or "admin" in scopes:
        args.append("--any-source")
    result = newswire("keys", "create", "--name", name, *args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("nw_"), result.stdout
    return key


@pytest.fixture
def ingest_client(
    session_factory: sessionmaker[Session], redis_url: str, make_key: MakeKey
) -> Iterator[httpx.Client]:
    """The ingest app in-process, sending a key with the `ingest` scope."""
    from fastapi.testclient import TestClient

    from services.ingest.app import create_app

    app = create_app()
    app.state.session_factory = session_factory
    with TestClient(app, raise_server_exceptions=False, headers=bearer(make_key("ingest"))) as client:
        yield client


@pytest.fixture
def api_client(session_factory: sessionmaker[Session], make_key: MakeKey) -> Iterator[httpx.Client]:
    """The read API in-process, sending an `admin` key (the ops routes need it)."""
    from fastapi.testclient import TestClient

    from services.api.app import create_app

    app = create_app()
    app.state.session_factory = session_factory
    with TestClient(app, raise_server_exceptions=False, headers=bearer(make_key("admin"))) as client:
        yield client

"""Static checks of docker-compose.yml, infra/Dockerfile, infra/prometheus.yml (no Docker engine needed)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "infra" / "Dockerfile"
PROMETHEUS_FILE = ROOT / "infra" / "prometheus.yml"

# The subcommands of the `newswire` console script.
NEWSWIRE_SUBCOMMANDS: frozenset[tuple[str, ...]] = frozenset(
    {
        ("migrate",),
        ("serve", "ingest"),
        ("serve", "api"),
        ("worker",),
        ("relay",),
        ("flower",),
        ("run",),
        ("ingest",),
        ("queues",),
    }
)
APP_SERVICES = ("migrate", "ingest", "api", "relay", "worker", "flower")
LONG_RUNNING = ("ingest", "api", "relay", "worker", "flower")
NEEDS_DATABASE = ("ingest", "api", "relay", "worker")
PUBLISHED = {"api": 8000, "ingest": 8001, "flower": 5555}

_DEFAULTED_VAR = re.compile(r"\$\{(\w+):?-([^}]*)\}")


def _interpolate(value: str) -> str:
    """Resolve compose's ``${VAR:-default}`` to the default, as with an empty environment."""
    return _DEFAULTED_VAR.sub(lambda m: m.group(2), value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result = compose["services"]
    assert isinstance(result, dict)
    return result


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # ["KEY=value", ...]
        env = dict(item.split("=", 1) for item in env)
    return {str(k): _interpolate(str(v)) for k, v in env.items()}


def _depends(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):  # short form: only "started"
        return {name: "service_started" for name in deps}
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    if isinstance(command, str):
        return shlex.split(command)
    assert isinstance(command, list), f"no command: {service}"
    return [str(part) for part in command]


def _published_ports(service: dict[str, Any]) -> set[int]:
    ports: set[int] = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports.add(int(entry["published"]))
        else:
            parts = _interpolate(str(entry)).split("/")[0].split(":")
            assert len(parts) >= 2, f"port {entry!r} is not published on the host"
            ports.add(int(parts[-2]))
    return ports


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, args = line.partition(" ")
        result.append((instruction.upper(), args.strip()))
    return result


def _exec_form(args: str) -> list[str]:
    if args.startswith("["):
        value = json.loads(args)
        assert isinstance(value, list)
        return [str(v) for v in value]
    return shlex.split(args)


# --- services and build -----------------------------------------------------------------------


def test_services_exist(services: dict[str, dict[str, Any]]) -> None:
    expected = {"postgres", "redis", *APP_SERVICES}
    assert expected <= set(services), f"missing: {expected - set(services)}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_build_from_the_dockerfile(services: dict[str, dict[str, Any]], name: str) -> None:
    build = services[name].get("build")
    assert isinstance(build, dict), f"{name} has no build section"
    context = ROOT / build.get("context", ".")
    assert context.resolve() == ROOT
    dockerfile = context / build.get("dockerfile", "Dockerfile")
    assert dockerfile.resolve() == DOCKERFILE.resolve()
    assert DOCKERFILE.is_file()


def test_backing_services_images(services: dict[str, dict[str, Any]]) -> None:
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert "--appendonly" in _command(services["redis"])


@pytest.mark.parametrize(("name", "port"), sorted(PUBLISHED.items()))
def test_ports_published(services: dict[str, dict[str, Any]], name: str, port: int) -> None:
    assert port in _published_ports(services[name])


# --- health and start order -------------------------------------------------------------------


def test_backing_services_have_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    pg_test = " ".join(services["postgres"]["healthcheck"]["test"])
    assert "pg_isready" in pg_test
    redis_test = services["redis"]["healthcheck"]["test"]
    assert "redis-cli" in redis_test
    assert "ping" in redis_test


@pytest.mark.parametrize(("name", "path"), [("ingest", ":8001/healthz"), ("api", ":8000/healthz")])
def test_http_services_healthcheck_healthz(services: dict[str, dict[str, Any]], name: str, path: str) -> None:
    assert path in " ".join(services[name]["healthcheck"]["test"])


def test_worker_healthcheck_and_replicas(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    test = " ".join(worker["healthcheck"]["test"])
    assert "ping" in test
    assert worker["deploy"]["replicas"] == 2
    assert "container_name" not in worker  # replicas need generated names


def test_migrate_runs_once_after_postgres(services: dict[str, dict[str, Any]]) -> None:
    migrate = services["migrate"]
    assert _command(migrate) in (["migrate"], ["newswire", "migrate"])
    assert _depends(migrate).get("postgres") == "service_healthy"
    assert str(migrate.get("restart", "no")) == "no"


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_app_services_wait_for_healthy_backends(services: dict[str, dict[str, Any]], name: str) -> None:
    deps = _depends(services[name])
    assert deps.get("redis") == "service_healthy", f"{name}: {deps}"
    if name in NEEDS_DATABASE:
        # postgres healthy, directly or through migrate (which waits for it); schema migrated first
        assert deps.get("migrate") == "service_completed_successfully", f"{name} starts before the schema"


# --- environment ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_point_at_compose_backends(services: dict[str, dict[str, Any]], name: str) -> None:
    env = _env(services[name])
    pg_env = _env(services["postgres"])

    db = urlsplit(env["NEWSWIRE_DATABASE_URL"])
    assert db.scheme == "postgresql+psycopg"
    assert db.hostname == "postgres"
    assert (db.port or 5432) == 5432
    assert db.username == pg_env["POSTGRES_USER"]
    assert db.password == pg_env["POSTGRES_PASSWORD"]
    assert db.path.lstrip("/") == pg_env["POSTGRES_DB"]

    broker = urlsplit(env["NEWSWIRE_REDIS_URL"])
    assert broker.scheme == "redis"
    assert broker.hostname == "redis"
    assert (broker.port or 6379) == 6379


def test_app_env_shared_through_anchor(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    shared = compose["x-newswire-env"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert {k: env[k] for k in shared} == shared, name


@pytest.mark.parametrize(("name", "port"), sorted(PUBLISHED.items()))
def test_http_services_bind_all_interfaces(services: dict[str, dict[str, Any]], name: str, port: int) -> None:
    command = _command(services[name])
    env = _env(services[name])
    host = command[command.index("--host") + 1] if "--host" in command else env.get("NEWSWIRE_HOST")
    assert host == "0.0.0.0"
    assert command[command.index("--port") + 1] == str(port)


def test_flower_basic_auth(services: dict[str, dict[str, Any]]) -> None:
    env = services["flower"]["environment"]
    assert "NEWSWIRE_FLOWER_BASIC_AUTH" in env
    user, _, password = _interpolate(env["NEWSWIRE_FLOWER_BASIC_AUTH"]).partition(":")
    assert user, "default user:password missing"
    assert password, "default user:password missing"
    assert "NEWSWIRE_FLOWER_BASIC_AUTH" in COMPOSE_FILE.read_text().split("services:")[0]  # documented


# --- commands and image -----------------------------------------------------------------------


@pytest.mark.parametrize("name", APP_SERVICES)
def test_commands_are_newswire_subcommands(services: dict[str, dict[str, Any]], name: str) -> None:
    command = _command(services[name])
    if command[0] == "newswire":
        command = command[1:]
    words = [w for w in command if not w.startswith("-")]
    assert any(tuple(words[: len(sub)]) == sub for sub in NEWSWIRE_SUBCOMMANDS), command


def test_dockerfile_entrypoint_is_newswire() -> None:
    instructions = _dockerfile_instructions()
    assert instructions[0][0] == "FROM"
    assert instructions[0][1].startswith("python:3.11-slim")
    entrypoints = [_exec_form(args) for ins, args in instructions if ins == "ENTRYPOINT"]
    cmds = [_exec_form(args) for ins, args in instructions if ins == "CMD"]
    if entrypoints:
        assert entrypoints[-1] == ["newswire"]
    else:
        assert cmds
        assert cmds[-1][0] == "newswire"


def test_dockerfile_installs_project_as_non_root() -> None:
    instructions = _dockerfile_instructions()
    copies = [args for ins, args in instructions if ins == "COPY"]
    assert any("pyproject.toml" in args.split() for args in copies)
    runs = " ".join(args for ins, args in instructions if ins == "RUN")
    assert "pip install --no-cache-dir" in runs
    users = [args for ins, args in instructions if ins == "USER"]
    assert users
    assert users[-1] not in {"root", "0"}


def test_dockerignore_keeps_build_inputs() -> None:
    patterns = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in patterns
    assert ".git" in patterns
    for needed in ("pyproject.toml", "shared", "services", "newswire_cli"):
        assert needed not in patterns


# --- monitoring -------------------------------------------------------------------------------


def test_prometheus_is_optional_and_scrapes_http_services(services: dict[str, dict[str, Any]]) -> None:
    """(The scrape targets, the alert rules and the dashboard: tests/unit/test_observability_config.py.)"""
    prometheus = services["prometheus"]
    assert prometheus["profiles"] == ["monitoring"]
    mounts = " ".join(prometheus["volumes"])
    assert "./infra/prometheus.yml" in mounts

    config = yaml.safe_load(PROMETHEUS_FILE.read_text())
    targets = {
        target
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
        if job.get("metrics_path", "/metrics") == "/metrics"
    }
    assert {"ingest:8001", "api:8000"} <= targets

"""Property-based fuzzing of both OpenAPI specs with schemathesis, in-process over the ASGI apps, on a
real PostgreSQL (a database of its own) and Redis, with an admin key.

Every operation of both specs gets positive examples (valid by the spec) and negative ones (invalid
parameters and bodies), a fixed number each, derandomized. Checks: no 5xx, every status code, content
type, header and body as the spec documents them, and invalid input refused with a 4xx. Failures are
collected over all operations and reported together, with the counts (`-s` prints them)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine, pool
from sqlalchemy.orm import sessionmaker

from shared.auth import service as auth_service

EXAMPLES_PER_MODE = 25  # per operation, for positive and for negative examples (50 per operation)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class Tally:
    operations: int = 0
    examples: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    no_negative: list[str] = field(default_factory=list)  # operations with nothing to make invalid
    seconds: Counter[str] = field(default_factory=Counter)


@pytest.fixture(scope="module")
def fuzz_apps(fresh_database: Any, redis_url: str) -> Iterator[tuple[dict[str, FastAPI], str]]:
    from services.api.app import create_app as create_api
    from services.ingest.app import create_app as create_ingest

    engine = create_engine(fresh_database("fuzz"), poolclass=pool.NullPool)
    factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    with factory() as session:
        key = auth_service.create_key(session=session, name="fuzz", scopes=["admin"]).key
        session.commit()
    apps = {"ingest": create_ingest(), "api": create_api()}
    for app in apps.values():
        app.state.session_factory = factory
    yield apps, key
    engine.dispose()


def _fuzz_mode(operation: Any, mode: GenerationMode, headers: dict[str, str], tally: Tally) -> None:
    label = f"{operation.method.upper()} {operation.path}"
    checks = [*CHECKS, negative_data_rejection] if mode is GenerationMode.NEGATIVE else CHECKS
    overrides: dict[str, Any] = {}
    if operation.path == "/v1/ops/queues":  # not a broadcast to the workers (1 s) per example
        overrides["query"] = {"workers": "false"}
    if operation.path == "/v1/stream":  # a live stream ends after max_seconds: keep each example short
        overrides["query"] = {"max_seconds": "0.2"}

    @given(case=operation.as_strategy(generation_mode=mode, **overrides))
    @settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        tally.examples[mode.value] += 1
        try:
            response = case.call_and_validate(headers=headers, checks=checks)
            tally.statuses[response.status_code] += 1
        except (Exception, BaseExceptionGroup) as exc:  # collect every failure, over every operation
            text = str(exc).strip()
            first_line = text.splitlines()[0] if text else type(exc).__name__
            tally.failures.append(f"{label} [{mode.value}]: {first_line}\n{text}"[:1500])

    started = time.monotonic()
    try:
        run()
    except Unsatisfiable:  # nothing can be invalid in an operation without parameters or body
        assert mode is GenerationMode.NEGATIVE, label
        tally.no_negative.append(label)
    tally.seconds[label] += time.monotonic() - started


def test_fuzz_both_openapi_specs(
    fuzz_apps: tuple[dict[str, FastAPI], str], capsys: pytest.CaptureFixture[str]
) -> None:
    apps, key = fuzz_apps
    tally = Tally()
    for name, app in apps.items():
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert operations, name
        for operation in operations:
            tally.operations += 1
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz_mode(operation, mode, {"Authorization": f"Bearer {key}"}, tally)
    total = sum(tally.examples.values())
    with capsys.disabled():  # the counts are shown in every run, not only with -s
        print(
            f"\nschemathesis: {tally.operations} operations, {total} examples "
            f"({dict(tally.examples)}), statuses {dict(sorted(tally.statuses.items()))}, "
            f"{len(tally.failures)} failures; no negative examples possible for {tally.no_negative}; "
            f"slowest: {[(op, round(sec, 1)) for op, sec in tally.seconds.most_common(4)]}"
        )
    assert tally.operations >= 16
    assert total >= tally.operations * EXAMPLES_PER_MODE
    distinct = sorted({f.split("\n", 1)[0] for f in tally.failures})
    assert not tally.failures, (
        f"{len(tally.failures)} failing examples:\n"
        + "\n".join(distinct[:40])
        + ("\n\nfirst:\n" + tally.failures[0])
    )

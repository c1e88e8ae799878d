"""The retry policy of the enrich task: backoff bounds, and which real errors count as transient."""

from __future__ import annotations

import socket
import statistics

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import create_engine, pool, text
from sqlalchemy.exc import OperationalError

from services.enrich.articles.tasks import backoff_seconds, is_transient
from services.enrich.nlp import Enricher

DRAWS = 2000


def _closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound once to pick it, then released, never listened)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -------------------------------------------------------------------------------------------------
# backoff_seconds
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cap", [300.0, 60.0, 1.0])
@pytest.mark.parametrize("retries", [0, 1, 2, 3, 5, 8, 10, 20])
def test_backoff_stays_within_jitter_bounds(retries: int, cap: float) -> None:
    base = min(cap, 2.0**retries)
    draws = [backoff_seconds(retries, cap=cap) for _ in range(DRAWS)]
    assert all(0.5 * base <= d < 1.5 * base for d in draws), (min(draws), max(draws), base)
    # the jitter really spreads over the range (2000 draws: missing a tenth at either end is ~1e-92)
    assert min(draws) < 0.6 * base
    assert max(draws) > 1.4 * base


def test_backoff_grows_until_the_cap_then_stays() -> None:
    cap = 60.0
    means = [statistics.fmean(backoff_seconds(n, cap=cap) for _ in range(DRAWS)) for n in range(10)]
    # uncapped (1, 2, 4 ... 32 s): each mean is about twice the one before
    for n in range(1, 6):
        assert means[n] > 1.5 * means[n - 1], means
    # 2**6 = 64 > 60: capped from here on, the mean stays about the cap
    for n in range(6, 10):
        assert 0.9 * cap < means[n] < 1.1 * cap, means
    # and no draw ever exceeds 1.5 x cap, however many retries
    assert max(backoff_seconds(50, cap=cap) for _ in range(DRAWS)) < 1.5 * cap


def test_first_retry_is_about_a_second() -> None:
    draws = [backoff_seconds(0, cap=300) for _ in range(DRAWS)]
    assert min(draws) >= 0.5
    assert max(draws) < 1.5
    assert 0.9 < statistics.fmean(draws) < 1.1


# -------------------------------------------------------------------------------------------------
# is_transient, with real errors
# -------------------------------------------------------------------------------------------------


def test_database_unreachable_is_transient() -> None:
    port = _closed_port()
    engine = create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{port}/test",
        poolclass=pool.NullPool,
        connect_args={"connect_timeout": 3},
    )
    try:
        with pytest.raises(OperationalError) as info, engine.connect() as conn:
            conn.execute(text("select 1"))
    finally:
        engine.dispose()
    exc = info.value
    assert str(port) in str(exc)
    assert is_transient(exc) is True


def test_redis_unreachable_is_transient() -> None:
    port = _closed_port()
    client = redis.Redis(
        host="127.0.0.1", port=port, socket_connect_timeout=3, socket_timeout=3, retry=Retry(NoBackoff(), 0)
    )
    try:
        with pytest.raises(redis.exceptions.ConnectionError) as info:
            client.ping()
    finally:
        client.close()
    exc = info.value
    assert str(port) in str(exc)
    assert is_transient(exc) is True


def test_bad_input_is_permanent() -> None:
    with pytest.raises(ValueError, match="invalid literal") as info:
        int("not a number")
    assert is_transient(info.value) is False
    assert is_transient(ValueError("text is empty")) is False


def test_missing_spacy_model_is_permanent() -> None:
    with pytest.raises(OSError, match="no_such_model") as info:
        Enricher("no_such_model")
    exc = info.value
    assert type(exc) is OSError  # not a ConnectionError/TimeoutError subclass of OSError
    assert is_transient(exc) is False

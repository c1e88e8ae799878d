"""The retry policy of the enrich task: backoff bounds, and which real errors count as transient."""

from __future__ import annotations

import base64
import json
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


# -------------------------------------------------------------------------------------------------
# the last retry, with the database down
# -------------------------------------------------------------------------------------------------


def test_last_retry_with_the_database_down_is_retried_not_dropped(
    monkeypatch: pytest.MonkeyPatch, redis_client: redis.Redis
) -> None:
    """Found by `make chaos` (PostgreSQL down 20 s): after the last retry the task could not mark the
    article failed either, raised, and its message was acked, so the article stayed queued until the
    outbox relay redelivered it (minutes later, and only once the queue was empty). It must retry."""
    from celery.exceptions import Retry

    from services.enrich.articles.tasks import enrich_article
    from shared.settings import get_settings

    settings = get_settings()
    redis_client.delete(settings.enrich_queue)  # jobs earlier tests of the run left in the test queue
    monkeypatch.setenv(
        "NEWSWIRE_DATABASE_URL", f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/down"
    )
    get_settings.cache_clear()
    enrich_article.push_request(
        id="last-retry",
        args=[424242],
        kwargs={},
        retries=settings.task_max_retries,
        called_directly=False,
        is_eager=False,
    )
    try:
        with pytest.raises(Retry):
            enrich_article.run(424242)
    finally:
        enrich_article.pop_request()
        monkeypatch.undo()
        get_settings.cache_clear()
    messages = [json.loads(m) for m in redis_client.lrange(settings.enrich_queue, 0, -1)]
    retried = [m for m in messages if json.loads(base64.b64decode(m["body"]))[0] == [424242]]
    assert len(retried) == 1  # the retry is in the queue
    assert retried[0]["headers"]["retries"] == settings.task_max_retries + 1

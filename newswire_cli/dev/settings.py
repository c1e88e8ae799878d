"""Settings of the development tools (evaluations, benchmarks), kept out of the runtime ``Settings``.

Same ``NEWSWIRE_`` prefix and ``.env`` file as ``shared.settings.Settings``; the services never read these.
The test suite extends them in ``tests/settings.py``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DevSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSWIRE_", env_file=".env", extra="ignore")

    test_database_url: str = Field(
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        description="Server the tests and benchmarks create their throw-away databases on.",
    )
    test_redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", description="Redis used by the tests and `make bench-api`."
    )
    eval_dir: Path = Field(default=Path("../shared/eval"), description="Evaluation data for `make eval`.")


@lru_cache(maxsize=1)
def get_dev_settings() -> DevSettings:
    """Read the development settings once per process."""
    return DevSettings()

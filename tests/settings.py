"""Settings only the test suite reads (not part of the runtime ``shared.settings.Settings``)."""

from __future__ import annotations

from pydantic import Field

from newswire_cli.dev.settings import DevSettings


class SuiteSettings(DevSettings):
    """``NEWSWIRE_TEST_DATABASE_URL``, ``NEWSWIRE_TEST_REDIS_URL``, ``NEWSWIRE_REQUIRE_SERVICES``."""

    require_services: bool = Field(
        default=False, description="Tests fail (instead of skip) when PostgreSQL or Redis is unreachable."
    )

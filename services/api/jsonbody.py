"""JSON answers serialised with orjson, straight from plain data (no pydantic pass on the hot paths).

The routes keep their pydantic ``response_model`` for the OpenAPI documentation and return a ``JsonBody``
(a Response: FastAPI neither validates nor re-serialises it).  Datetimes are ISO 8601 with ``Z`` for UTC,
as pydantic writes them."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def dumps(content: Any) -> bytes:
    return orjson.dumps(content, option=_OPTIONS)


class JsonBody(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else dumps(content)

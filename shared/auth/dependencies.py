"""FastAPI dependencies: `RequireIngest`, `RequireRead`, `RequireAdmin` (put them on routers).

The key comes from `Authorization: Bearer <key>` or `X-API-Key: <key>`. No key or an unknown or revoked
key: 401 with `WWW-Authenticate: Bearer`; a key without the scope: 403; over its rate limit: 429 with
`Retry-After`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from shared.auth import service
from shared.auth.keys import Scope, key_from_headers
from shared.auth.ratelimit import limiter_for
from shared.auth.service import Principal
from shared.db import session_scope
from shared.errors import RateLimited
from shared.http import app_session_factory
from shared.settings import get_settings

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer nw_<prefix>_<secret>`")
_x_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: nw_<prefix>_<secret>`")


def _rate_limit(principal: Principal) -> None:
    settings = get_settings()
    limit = (
        principal.rate_limit_per_minute
        if principal.rate_limit_per_minute is not None
        else settings.rate_limit_per_minute
    )
    if limit <= 0 or not settings.redis_url:
        return
    decision = limiter_for(settings.redis_url).hit(principal.prefix, limit)
    if decision is not None and not decision.allowed:
        raise RateLimited(
            f"more than {limit} requests per minute with key {principal.prefix}; "
            f"retry in {decision.retry_after} s",
            headers={
                "Retry-After": str(decision.retry_after),
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": "0",
            },
        )


def route_limit(kind: str, setting: str, *, only_with_query: str | None = None) -> Callable[..., None]:
    """A dependency counting requests of one costly kind (search, facets, export) per key per minute,
    apart from the key's overall limit: NEWSWIRE_<setting> (0: none). ``only_with_query``: count only the
    requests that carry this query parameter (a search is a list with `q`)."""

    def dependency(request: Request, principal: Annotated[Principal, Depends(require_read)]) -> None:
        settings = get_settings()
        limit = int(getattr(settings, setting))
        if limit <= 0 or not settings.redis_url:
            return
        if only_with_query is not None and not request.query_params.get(only_with_query):
            return
        decision = limiter_for(settings.redis_url).hit(f"{principal.prefix}:{kind}", limit)
        if decision is not None and not decision.allowed:
            raise RateLimited(
                f"more than {limit} {kind} requests per minute with key {principal.prefix}; "
                f"retry in {decision.retry_after} s",
                headers={
                    "Retry-After": str(decision.retry_after),
                    "X-RateLimit-Limit": str(limit),
                    "X-RateLimit-Remaining": "0",
                },
            )

    dependency.__name__ = f"limit_{kind}"
    return dependency


def _require(scope: Scope) -> Callable[..., Principal]:
    def dependency(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        x_api_key: Annotated[str | None, Depends(_x_api_key)],
    ) -> Principal:
        key = key_from_headers(
            f"{bearer.scheme} {bearer.credentials}" if bearer is not None else None, x_api_key
        )
        # a short transaction of its own (the key lookup and its `last_used_at`), committed before the
        # route runs: the request's own transaction never holds the key row, nor a connection meanwhile
        with session_scope(app_session_factory(request.app)) as session:
            principal = service.authenticate(
                session=session, key=key, cache_seconds=get_settings().auth_cache_seconds
            )
        structlog.contextvars.bind_contextvars(api_key=principal.prefix)
        service.authorize(principal, scope)
        _rate_limit(principal)
        request.state.principal = principal
        return principal

    dependency.__name__ = f"require_{scope.value}"
    return dependency


require_ingest = _require(Scope.INGEST)
require_read = _require(Scope.READ)
require_admin = _require(Scope.ADMIN)

RequireIngest = Depends(require_ingest)
RequireRead = Depends(require_read)
RequireAdmin = Depends(require_admin)

IngestPrincipal = Annotated[Principal, RequireIngest]

LimitSearch = Depends(route_limit("search", "rate_limit_search_per_minute", only_with_query="q"))
LimitFacets = Depends(route_limit("facets", "rate_limit_facets_per_minute"))
LimitExport = Depends(route_limit("export", "rate_limit_export_per_minute"))

"""Plumbing shared by the FastAPI services: error shape, request ids, body limits, health routes."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio
import anyio.to_thread
import structlog
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import Counter, Histogram
from psycopg import errors as psycopg_errors
from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.db import ROLES, session_factory
from shared.errors import DatabaseBusy, NewswireError, QueryTimeout
from shared.settings import Settings, get_settings

log = structlog.get_logger("newswire.http")

HTTP_REQUESTS = Counter(
    "newswire_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "newswire_http_request_seconds", "HTTP request latency", ["service", "method", "route"]
)


def error_body(error: str, detail: Any) -> dict[str, Any]:
    return {"error": error, "detail": jsonable_encoder(detail)}


class ErrorBody(BaseModel):
    """Every error answer: a stable machine-readable code and a human-readable detail."""

    error: str = Field(description="Machine-readable code, e.g. `unauthorized`, `validation_error`.")
    detail: Any = Field(description="What went wrong: a message, or a list of field errors.")


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


# Included by every router, so the OpenAPI spec documents the error answers.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("Bad request, e.g. a pagination cursor this API did not issue"),
    401: _error("No API key, or an unknown or revoked one (with `WWW-Authenticate: Bearer`)"),
    403: _error("The API key lacks the scope this route needs"),
    404: _error("No such resource"),
    413: _error("Request body (after decompression) or batch too large"),
    415: _error("Unsupported Content-Type or Content-Encoding"),
    422: _error("Invalid request: malformed JSON, invalid fields or parameters"),
    429: _error("Over the API key's rate limit (with `Retry-After`)"),
    503: _error("A backing service is unavailable (with `Retry-After`)"),
}


def database_error(exc: BaseException) -> NewswireError | None:
    """The error to answer for a database limit that was reached: a statement past its time limit (504
    `query_timeout`), a lock not granted in time (503 `database_busy`); None for anything else."""
    orig = getattr(exc, "orig", None)
    if isinstance(orig, psycopg_errors.QueryCanceled):
        return QueryTimeout("the query took longer than its time limit; narrow the filter or retry later")
    if isinstance(orig, psycopg_errors.LockNotAvailable):
        return DatabaseBusy("a row or table this request needs stayed locked too long; retry shortly")
    if isinstance(exc, PoolTimeout):
        return DatabaseBusy("no database connection became free in time; retry shortly")
    return None


def install_error_handlers(app: FastAPI) -> None:
    """One JSON error shape for everything: {"error": code, "detail": ...}."""

    @app.exception_handler(NewswireError)
    async def _newswire(_: Request, exc: NewswireError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.error, exc.detail), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()
        ]
        return JSONResponse(error_body("validation_error", detail), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, exc.detail), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(OperationalError)
    async def _db_down(_: Request, exc: OperationalError) -> JSONResponse:
        known = database_error(exc)
        if known is not None:
            log.warning("database_limit", error=known.error, detail=str(exc.orig)[:300])
            return JSONResponse(
                error_body(known.error, known.detail), status_code=known.status_code, headers=known.headers
            )
        log.warning("database_unavailable", error=str(exc.orig)[:300])
        return JSONResponse(
            error_body("service_unavailable", "the database is unavailable; retry later"),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(PoolTimeout)
    async def _pool_timeout(_: Request, exc: PoolTimeout) -> JSONResponse:
        busy = database_error(exc) or DatabaseBusy()
        log.warning("database_pool_timeout", error=str(exc)[:300])
        return JSONResponse(
            error_body(busy.error, busy.detail), status_code=busy.status_code, headers=busy.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", error=repr(exc))
        return JSONResponse(error_body("internal_error", "an unexpected error occurred"), status_code=500)


MAX_ROW_ID = 2**63 - 1  # PostgreSQL bigint: a larger id cannot exist (and must not reach the database)
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Id of the row.", examples=[42])]

BODY_TOO_LARGE = "newswire.body_too_large"


class BodyLimitMiddleware:
    """Refuse bodies above `max_bytes` with 413, with or without Content-Length (pure ASGI, streaming)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send)
            return
        received = 0

        async def limited_receive() -> Message:
            # Raising here would surface as an ExceptionGroup through Starlette's task groups; instead
            # the body is cut short and flagged, and the body reader answers 413 (see shared.body).
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    scope[BODY_TOO_LARGE] = self.max_bytes
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        await self.app(scope, limited_receive, send)

    async def _reject(self, send: Send) -> None:
        response = JSONResponse(
            error_body("payload_too_large", f"request body exceeds {self.max_bytes} bytes"), status_code=413
        )
        await response({"type": "http"}, _empty_receive, send)


class ETagMiddleware:
    """A weak ETag (a digest of the body) on every successful JSON answer to a GET; a request whose
    `If-None-Match` names it gets 304 with no body.  The answer is still computed (the database is read):
    what is saved is the transfer and the client's parsing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if_none_match = headers.get(b"if-none-match", b"").decode("latin-1")
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers") or []).get(b"content-type", b"")
                if message["status"] == 200 and content_type.startswith(b"application/json"):
                    start = message
                    return
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                await self._answer(start, b"".join(chunks), if_none_match, send)
                return
            await send(message)

        await self.app(scope, receive, buffered_send)

    @staticmethod
    async def _answer(start: Message, body: bytes, if_none_match: str, send: Send) -> None:
        etag = f'W/"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",") if t.strip()}
        if "*" in tags or etag.removeprefix("W/") in tags:
            await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", etag.encode())]})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = [*start.get("headers", []), (b"etag", etag.encode())]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}


_QUIET_ROUTES = {"/healthz", "/readyz", "/metrics"}
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def install_request_context(app: FastAPI, *, service: str) -> None:
    """Bind a request id (from X-Request-ID or new) to the log context; echo it; record metrics."""

    @app.middleware("http")
    async def _context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        request.state.request_id = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, service=service)
        start = time.perf_counter()
        if "\x00" in request.url.path or "%00" in request.url.query:
            # PostgreSQL text cannot hold NUL: refuse it here rather than fail in the database
            response: Response = JSONResponse(
                error_body("validation_error", "NUL characters are not allowed in the path or query"),
                status_code=422,
            )
        else:
            response = await call_next(request)
        route = request.scope.get("route")
        route_path = getattr(route, "path", "unmatched")
        elapsed = time.perf_counter() - start
        method = request.method if request.method in _KNOWN_METHODS else "other"  # a closed label set
        HTTP_REQUESTS.labels(service, method, route_path, str(response.status_code)).inc()
        HTTP_LATENCY.labels(service, method, route_path).observe(elapsed)
        response.headers["X-Request-ID"] = request_id
        if route_path not in _QUIET_ROUTES:
            log.info(
                "request",
                method=request.method,
                path=request.url.path,
                status=response.status_code,
                ms=round(elapsed * 1000, 1),
            )
        return response


def app_session_factory(app: FastAPI) -> sessionmaker[Session]:
    factory: sessionmaker[Session] | None = getattr(app.state, "session_factory", None)
    if factory is None:  # created on first use, in the serving process, with the app's timeouts
        factory = app.state.session_factory = session_factory(role=getattr(app.state, "db_role", None))
    return factory


def _get_session(request: Request) -> Iterator[Session]:
    """The edge owns the unit of work: commit when the handler returns, roll back when it raises."""
    session: Session = app_session_factory(request.app)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function": the commit runs when the handler returns, before the response is sent, so a failed
# commit is answered as an error instead of a success the database never saw.
SessionDep = Annotated[Session, Depends(_get_session, scope="function")]


async def current_settings() -> Settings:
    """The process's settings (``get_settings``), as a dependency: a route reads them per request, never
    at import time, and a test can override them. Async: no worker thread is taken to return them."""
    return get_settings()


SettingsDep = Annotated[Settings, Depends(current_settings)]


def _default_page_size() -> int:
    return get_settings().page_size_default


def _at_most_page_size_max(value: int) -> int:
    most = get_settings().page_size_max
    if value > most:  # the error `Query(le=...)` gives
        raise PydanticCustomError(
            "less_than_equal", "Input should be less than or equal to {le}", {"le": most}
        )
    return value


def _page_size_schema(schema: dict[str, Any]) -> None:
    settings = get_settings()
    schema["maximum"] = settings.page_size_max
    schema["default"] = settings.page_size_default


def page_size_query(**doc: Any) -> Any:
    """The ``Query`` of a page size: 1 to NEWSWIRE_PAGE_SIZE_MAX, NEWSWIRE_PAGE_SIZE_DEFAULT when absent, the
    settings read per request (and by the OpenAPI spec), not at import time. Use it with
    :data:`AT_MOST_PAGE_SIZE_MAX`: ``Annotated[int, page_size_query(description=...), AT_MOST_PAGE_SIZE_MAX]``
    (a keyword-only parameter: it has no default in the signature)."""
    return Query(ge=1, default_factory=_default_page_size, json_schema_extra=_page_size_schema, **doc)


AT_MOST_PAGE_SIZE_MAX = AfterValidator(_at_most_page_size_max)


PROBE_THREADS = 2


def set_thread_limit(threads: int) -> None:
    """How many threads run this process's synchronous handlers (anyio's default limiter; call it from
    the app's lifespan, in the serving event loop)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads


def _probe_limiter(app: FastAPI) -> anyio.CapacityLimiter:
    limiter: anyio.CapacityLimiter | None = getattr(app.state, "probe_limiter", None)
    if limiter is None:
        limiter = app.state.probe_limiter = anyio.CapacityLimiter(PROBE_THREADS)
    return limiter


def _readiness(
    factory: sessionmaker[Session], extra_checks: list[Callable[[], None]]
) -> tuple[bool, dict[str, str]]:
    checks: dict[str, str] = {}
    ok = True
    try:
        with factory() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except (DBAPIError, PoolTimeout) as exc:
        ok = False
        checks["database"] = f"error: {type(getattr(exc, 'orig', None) or exc).__name__}"
    for check in extra_checks:
        name = getattr(check, "__name__", "check")
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:  # a readiness probe reports, it does not raise
            ok = False
            checks[name] = f"error: {type(exc).__name__}"
    return ok, checks


def health_router(extra_checks: list[Callable[[], None]] | None = None) -> APIRouter:
    """/healthz and /readyz are open (probes carry no key). /metrics is not on the public port: each
    process serves it on an internal one (`shared.metrics.serve_metrics`)."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: the database (and other dependencies) answer",
        responses={503: {"description": "A dependency does not answer (same body, status unavailable)"}},
    )
    async def readyz(request: Request) -> JSONResponse:
        # on threads of its own: a probe answers even while every request thread is busy
        factory = app_session_factory(request.app)
        ok, checks = await anyio.to_thread.run_sync(
            _readiness, factory, extra_checks or [], limiter=_probe_limiter(request.app)
        )
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
        )

    return router


def create_base_app(*, title: str, service: str, max_body_bytes: int, threads: int, version: str) -> FastAPI:
    """What every HTTP service has: its database role, one error shape, request context and metrics, the
    body limit, ``threads`` request threads (set in the serving event loop) and /healthz, /readyz."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        set_thread_limit(threads)
        yield

    app = FastAPI(title=title, version=version, lifespan=lifespan)
    app.state.session_factory = None
    app.state.db_role = service if service in ROLES else None
    install_error_handlers(app)
    install_request_context(app, service=service)
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    app.include_router(health_router())
    return app

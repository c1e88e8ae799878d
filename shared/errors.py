"""One error hierarchy; each error carries its HTTP status and a stable machine-readable code."""

from __future__ import annotations

from typing import Any


class NewswireError(Exception):
    status_code: int = 500
    error: str = "internal_error"

    def __init__(self, detail: Any = None, *, headers: dict[str, str] | None = None) -> None:
        self.detail = detail if detail is not None else self.__class__.__doc__ or self.error
        self.headers = headers or {}
        super().__init__(str(self.detail))


class BadRequest(NewswireError):
    """The request is malformed."""

    status_code = 400
    error = "bad_request"


class Unauthorized(NewswireError):
    """An API key is required: `Authorization: Bearer <key>` or `X-API-Key: <key>`."""

    status_code = 401
    error = "unauthorized"

    def __init__(self, detail: Any = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(NewswireError):
    """The API key does not have the scope this route needs."""

    status_code = 403
    error = "forbidden"


class NotFound(NewswireError):
    """No such resource."""

    status_code = 404
    error = "not_found"


class Conflict(NewswireError):
    """The request conflicts with the resource's current state."""

    status_code = 409
    error = "conflict"


class NotADuplicate(Conflict):
    """The article is not a duplicate (nothing to undo)."""

    error = "not_a_duplicate"


class SameArticle(Conflict):
    """The article has the same title and text as a stored original: the two are one article."""

    error = "same_article"


class NotFailed(Conflict):
    """Only failed articles can be retried."""

    error = "not_failed"


class OverrideExists(Conflict):
    """One override per (kind, surface, type)."""

    error = "override_exists"


class IdempotencyKeyInProgress(Conflict):
    """A request with this Idempotency-Key is still being processed; retry shortly."""

    error = "idempotency_key_in_progress"


class PayloadTooLarge(NewswireError):
    """The request body is larger than allowed."""

    status_code = 413
    error = "payload_too_large"


class UnsupportedMediaType(NewswireError):
    """The request body must be JSON (Content-Type: application/json)."""

    status_code = 415
    error = "unsupported_media_type"


class ValidationFailed(NewswireError):
    """The request body is not valid."""

    status_code = 422
    error = "validation_error"


class InvalidIdempotencyKey(ValidationFailed):
    """The Idempotency-Key header must be 1 to 255 visible ASCII characters."""

    error = "invalid_idempotency_key"


class IdempotencyKeyReused(ValidationFailed):
    """This Idempotency-Key was already used for a different request."""

    error = "idempotency_key_reused"


class RateLimited(NewswireError):
    """Too many requests with this API key; retry after `Retry-After` seconds."""

    status_code = 429
    error = "rate_limited"


class InvalidCursor(BadRequest):
    """The pagination cursor is not one this API issued."""

    error = "invalid_cursor"


class ServiceUnavailable(NewswireError):
    """A backing service is unavailable; retry later."""

    status_code = 503
    error = "service_unavailable"


class DatabaseBusy(ServiceUnavailable):
    """The database is busy (no free connection, or a lock held too long); retry shortly."""

    error = "database_busy"

    def __init__(self, detail: Any = None) -> None:
        super().__init__(detail, headers={"Retry-After": "2"})


class VersionsUnknown(NewswireError):
    """No worker has recorded the versions it enriches with, and nothing is enriched yet."""

    status_code = 503
    error = "versions_unknown"


class QueryTimeout(NewswireError):
    """The query ran past its time limit (NEWSWIRE_DB_STATEMENT_TIMEOUT_<ROLE>): narrow the filter or
    the date window, or retry later."""

    status_code = 504
    error = "query_timeout"

    def __init__(self, detail: Any = None) -> None:
        super().__init__(detail, headers={"Retry-After": "5"})

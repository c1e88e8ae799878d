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


class NotFound(NewswireError):
    """No such resource."""

    status_code = 404
    error = "not_found"


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


class InvalidCursor(BadRequest):
    """The pagination cursor is not one this API issued."""

    error = "invalid_cursor"


class ServiceUnavailable(NewswireError):
    """A backing service is unavailable; retry later."""

    status_code = 503
    error = "service_unavailable"

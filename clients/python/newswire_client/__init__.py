"""The typed Python client of the Newswire read API (``pip install clients/python``)."""

from newswire_client.client import (
    ApiError,
    ExportTruncated,
    NewswireClient,
    ParamValue,
    Sort,
    StreamEvent,
    parse_sse,
)

__all__ = ["ApiError", "ExportTruncated", "NewswireClient", "ParamValue", "Sort", "StreamEvent", "parse_sse"]

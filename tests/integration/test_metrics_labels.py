"""Label values on /metrics come from closed sets, never from what a request carries."""

from __future__ import annotations

import uuid

import httpx
from prometheus_client import REGISTRY


def _label_values(metric: str, label: str) -> set[str]:
    return {
        s.labels[label]
        for family in REGISTRY.collect()
        if family.name == metric
        for s in family.samples
        if label in s.labels
    }


def test_request_methods_and_paths_do_not_make_new_series(api_client: httpx.Client) -> None:
    made_up = f"X{uuid.uuid4().hex[:8].upper()}"
    path = f"/v1/{uuid.uuid4().hex}"
    api_client.request(made_up, "/v1/topics")
    api_client.get(path)
    methods = _label_values("newswire_http_requests", "method")
    routes = _label_values("newswire_http_requests", "route")
    assert made_up not in methods
    assert "other" in methods
    assert path not in routes
    assert "unmatched" in routes

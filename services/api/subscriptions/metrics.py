"""Prometheus metrics of webhook delivery (served by `newswire webhooks` on NEWSWIRE_WEBHOOKS_METRICS_PORT).

Labels are closed sets: `outcome` is one of delivered, http_error, timeout, refused, network_error;
`result` one of delivered, retrying, failed. No subscription id or URL label (unbounded)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

OUTCOMES = ("delivered", "http_error", "timeout", "refused", "network_error")
RESULTS = ("delivered", "pending", "failed")

ATTEMPTS = Counter("newswire_webhook_attempts_total", "Webhook POST attempts, by outcome", ["outcome"])
ATTEMPT_SECONDS = Histogram(
    "newswire_webhook_attempt_seconds",
    "Duration of one webhook POST attempt (bounded by NEWSWIRE_WEBHOOK_TIMEOUT_SECONDS)",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
RESULTS_TOTAL = Counter(
    "newswire_webhook_results_total",
    "What an attempt left the delivery as: delivered, pending (a retry scheduled) or failed",
    ["result"],
)
TRUNCATED = Counter(
    "newswire_webhook_answers_truncated_total",
    "Subscriber answers cut at NEWSWIRE_WEBHOOK_MAX_RESPONSE_BYTES",
)
MATCHED = Counter("newswire_webhook_deliveries_created_total", "Deliveries created by matching new events")
IN_FLIGHT = Gauge(
    "newswire_webhook_in_flight", "Webhook POSTs in flight in this process", multiprocess_mode="livesum"
)
PASS_ERRORS = Counter(
    "newswire_webhook_pass_errors_total", "Match or claim passes that failed (database unavailable, ...)"
)

for _outcome in OUTCOMES:  # every series exists from the start (rate() sees the first increment)
    ATTEMPTS.labels(_outcome)
    ATTEMPT_SECONDS.labels(_outcome)
for _result in RESULTS:
    RESULTS_TOTAL.labels(_result)

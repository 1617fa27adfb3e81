"""Prometheus metrics (prometheus-client), exported at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

INBOUND = Counter("careline_inbound_messages_total", "Inbound texts by outcome", ["outcome"])
OUTBOUND = Counter("careline_outbound_events_total", "Outbound send outcomes", ["status"])
STATUS_CALLBACKS = Counter("careline_status_callbacks_total", "Delivery callbacks by outcome", ["outcome"])
WEBHOOK_SECONDS = Histogram(
    "careline_webhook_seconds",
    "Time to answer a Twilio webhook",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
JOBS = Counter("careline_jobs_total", "Jobs run", ["job", "outcome"])

"""Prometheus metrics (prometheus-client), exported at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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

# Paging and escalation (issue 4).
PAGE_LATENCY_SECONDS = Histogram(
    "careline_time_to_first_page_seconds",
    "From the triggering inbound text to the escalation's first page",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
ACK_SECONDS = Histogram(
    "careline_time_to_ack_seconds",
    "From an escalation opening to its acknowledgement",
    buckets=(10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0),
)
ESCALATIONS_OPEN = Gauge("careline_escalations_open", "Escalations not yet resolved, by level", ["level"])
ESCALATIONS_EXHAUSTED = Counter(
    "careline_escalations_exhausted_total", "Escalations that ran out of steps unacknowledged"
)
PAGES = Counter("careline_pages_total", "Pages by channel and outcome", ["channel", "outcome"])

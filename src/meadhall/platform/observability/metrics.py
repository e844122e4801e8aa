"""Prometheus metrics, in one registry per process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "meadhall_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "meadhall_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
WEBSOCKET_CONNECTIONS = Gauge(
    "meadhall_websocket_connections",
    "Open WebSocket connections to the event gateway in this process.",
    registry=REGISTRY,
)
EVENTS_PUBLISHED = Counter(
    "meadhall_events_published",
    "Events published on the bus by this process.",
    registry=REGISTRY,
)
JOBS = Gauge(
    "meadhall_jobs",
    "Jobs in the database, by status (read at scrape time).",
    ["status"],
    registry=REGISTRY,
)
JOB_WORKERS = Gauge(
    "meadhall_job_workers",
    "Job workers with a recent heartbeat (read at scrape time).",
    registry=REGISTRY,
)

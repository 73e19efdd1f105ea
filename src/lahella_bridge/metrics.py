"""Prometheus metrics: HTTP traffic, harvest outcomes, upstream retries, published data."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "lahella_bridge_http_requests_total",
    "HTTP requests by route and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "lahella_bridge_http_request_duration_seconds",
    "HTTP request latency by route.",
    ["route"],
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
QUERIES_REFUSED = Counter(
    "lahella_bridge_queries_refused_total",
    "Requests whose query PostgreSQL stopped: it ran past the statement timeout "
    "(statement_timeout) or past a limit such as the stack depth (program_limit).",
    ["reason"],
    registry=REGISTRY,
)
HARVEST_RUNS = Counter(
    "lahella_bridge_harvest_runs_total",
    "Harvest runs by source and final status.",
    ["source", "status"],
    registry=REGISTRY,
)
HARVEST_RECORDS = Counter(
    "lahella_bridge_harvest_records_total",
    "Upstream records by outcome (fetched, created, updated, unchanged, retired, "
    "quarantined, unpublished), by source.",
    ["source", "outcome"],
    registry=REGISTRY,
)
UPSTREAM_RETRIES = Counter(
    "lahella_bridge_upstream_retries_total",
    "Retried upstream requests, by source.",
    ["source"],
    registry=REGISTRY,
)
UPSTREAM_ERRORS = Counter(
    "lahella_bridge_upstream_errors_total",
    "Harvests that failed on the upstream, by source.",
    ["source"],
    registry=REGISTRY,
)
LAST_SUCCESS = Gauge(
    "lahella_bridge_harvest_last_success_timestamp_seconds",
    "When the last successful harvest finished (any replica).",
    registry=REGISTRY,
)
PUBLISHED = Gauge(
    "lahella_bridge_published_records",
    "Live published records by kind.",
    ["kind"],
    registry=REGISTRY,
)

OUTCOMES = ("fetched", "created", "updated", "unchanged", "retired", "quarantined", "unpublished")


# Each request's counter and histogram by (method, route, status), looked up once: the
# client's `labels` call validates and locks on every request.
_request_series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    series = _request_series.get((method, route, status))
    if series is None:
        series = (HTTP_REQUESTS.labels(method, route, str(status)), HTTP_LATENCY.labels(route))
        _request_series[(method, route, status)] = series
    series[0].inc()
    series[1].observe(seconds)


def observe_harvest(source: str, status: str, counts: dict[str, object], retries: int) -> None:
    HARVEST_RUNS.labels(source, status).inc()
    for outcome in OUTCOMES:
        value = counts.get(outcome)
        if isinstance(value, int) and value:
            HARVEST_RECORDS.labels(source, outcome).inc(value)
    if retries:
        UPSTREAM_RETRIES.labels(source).inc(retries)
    if status == "failed":
        UPSTREAM_ERRORS.labels(source).inc()

"""Typed shapes of the plain dicts ``harper_edge`` returns (importable at run time, for
annotations and ``isinstance``-free static checks)."""

from typing import Any, TypedDict


class RealtimeMetrics(TypedDict):
    """The real-time view of a model version (``Engine.realtime``): the last five minutes of
    calls and feedback. Fields without data are ``None``; times are integer milliseconds since
    the Unix epoch, latencies milliseconds."""

    window_start: int
    """Start of the window (inclusive)."""
    window_end: int
    """End of the window (exclusive): the end of the current 10-second slot."""
    request_count: int
    """Calls in the window, failed ones included."""
    error_count: int
    """Failed calls in the window."""
    error_rate: float
    """``error_count / request_count`` (0 without calls)."""
    throughput_per_second: float
    """``request_count`` divided by the window's length in seconds."""
    avg_latency: float | None
    """Mean latency."""
    p50_latency: float | None
    """Median latency (within the sketch's relative accuracy, as are p95 and p99)."""
    p95_latency: float | None
    """95th percentile latency."""
    p99_latency: float | None
    """99th percentile latency."""
    max_latency: float | None
    """Largest latency (exact)."""
    avg_confidence: float | None
    """Mean confidence of the calls that reported one."""
    labelled_count: int
    """Calls in the window whose ground truth has arrived (``Engine.feedback``)."""
    accuracy: float | None
    """Share of the labelled calls that were correct, when any are labelled."""


class ModelMetrics(TypedDict):
    """One rollup row (``Engine.metrics``, ``Engine.tick``, ``Engine.flush``): the metrics of
    one model version over one 5-minute, hourly or daily period, with the original design's
    fields in snake_case. Times are integer milliseconds since the Unix epoch (UTC), latencies
    milliseconds."""

    id: str
    """``name:version:granularity:period_start``."""
    model_name: str
    """Model name."""
    model_version: str
    """Model version."""
    period_start: int
    """Start of the period (inclusive), aligned to its length in UTC."""
    period_end: int
    """End of the period (exclusive)."""
    granularity: str
    """``"5min"``, ``"hourly"`` or ``"daily"``."""
    request_count: int
    """Calls in the period, failed ones included."""
    avg_latency: float | None
    """Mean latency (exact); ``None`` only for a row without calls."""
    p50_latency: float | None
    """Median latency (within the sketch's relative accuracy, 1%, as are p95 and p99)."""
    p95_latency: float | None
    """95th percentile latency."""
    p99_latency: float | None
    """99th percentile latency."""
    max_latency: float | None
    """Largest latency (exact)."""
    error_rate: float
    """``error_count / request_count`` (0 without calls)."""
    error_count: int
    """Failed calls in the period."""
    throughput_per_second: float
    """``request_count`` divided by the period's length in seconds."""
    latency_sketch: dict[str, Any]
    """The latency sketch (DDSketch) the percentiles come from, in the core's serialised form
    (its keys are camelCase, as in the outbox record). Kept so that rows of the same period
    from several engines or nodes can be merged exactly; treat it as opaque."""

"""Typed shapes of the plain dicts ``harper_edge`` returns (importable at run time, for
annotations and ``isinstance``-free static checks)."""

from typing import TypedDict


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

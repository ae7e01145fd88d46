"""``Engine.metrics(..., as_frame=True)`` and ``Engine.events(..., as_frame=True)``: rollup
rows and inference events as pandas DataFrames.

pandas is optional: it is imported here, when a frame is asked for, never by
``import harper_edge``.
"""

import importlib
from typing import Any

from harper_edge._types import ModelMetrics

COLUMNS = tuple(ModelMetrics.__annotations__)
"""The frame's columns: the keys of a row, in order."""

_TIMES = ("period_start", "period_end")
_INTEGERS = ("request_count", "error_count")
_FLOATS = (
    "avg_latency",
    "p50_latency",
    "p95_latency",
    "p99_latency",
    "max_latency",
    "error_rate",
    "throughput_per_second",
)


def _pandas(call: str) -> Any:
    try:
        return importlib.import_module("pandas")
    except ImportError as e:
        raise ImportError(
            f"Engine.{call}(as_frame=True) needs pandas, which is not installed: "
            "pip install pandas"
        ) from e


EVENT_COLUMNS = (
    "id",
    "model_name",
    "model_version",
    "framework",
    "timestamp",
    "latency_ms",
    "prediction",
    "confidence",
    "error",
    "actual_outcome",
    "correct",
    "feedback_timestamp",
    "request_id",
    "user_id",
    "session_id",
    "features_in",
)
"""The columns of an events frame: the event's properties, in this order."""


def events_frame(events: list[Any]) -> Any:
    """A ``pandas.DataFrame`` with one row per event and a column per property (an empty
    frame has the same columns). ``timestamp`` and ``feedback_timestamp`` become
    ``datetime64[ms, UTC]`` (``NaT`` before feedback); ``latency_ms`` and ``confidence``
    ``float64``; ``correct`` is ``boolean`` (nullable); ``features_in``, ``prediction`` and
    ``actual_outcome`` hold the JSON-like values."""
    pd = _pandas("events")
    records = [{c: getattr(e, c) for c in EVENT_COLUMNS} for e in events]
    frame = pd.DataFrame.from_records(records, columns=list(EVENT_COLUMNS))
    for column in ("timestamp", "feedback_timestamp"):
        millis = frame[column].astype("Int64")
        frame[column] = pd.to_datetime(millis, unit="ms", utc=True).astype("datetime64[ms, UTC]")
    return frame.astype(
        {"latency_ms": "float64", "confidence": "float64", "correct": "boolean"}
    )


def metrics_frame(rows: list[ModelMetrics], segmented: bool = False) -> Any:
    """A ``pandas.DataFrame`` with one row per rollup row and a column per key (an empty
    frame has the same columns and dtypes). ``period_start`` and ``period_end`` become
    ``datetime64[ms, UTC]``; counts are ``int64``; latencies and rates ``float64`` (``NaN``
    where a row has ``None``); ``latency_sketch`` holds the sketch dicts. ``segmented``
    rows (``Engine.metrics(segment=...)``) start with ``segment_key`` and ``segment``."""
    pd = _pandas("metrics")
    columns = (["segment_key", "segment"] if segmented else []) + list(COLUMNS)
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for column in _TIMES:
        millis = frame[column].astype("int64")
        frame[column] = pd.to_datetime(millis, unit="ms", utc=True).astype("datetime64[ms, UTC]")
    return frame.astype({**dict.fromkeys(_INTEGERS, "int64"), **dict.fromkeys(_FLOATS, "float64")})

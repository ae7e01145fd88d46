"""``Engine.metrics(..., as_frame=True)``: rollup rows as a pandas DataFrame.

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


def metrics_frame(rows: list[ModelMetrics]) -> Any:
    """A ``pandas.DataFrame`` with one row per rollup row and a column per key (an empty
    frame has the same columns and dtypes). ``period_start`` and ``period_end`` become
    ``datetime64[ms, UTC]``; counts are ``int64``; latencies and rates ``float64`` (``NaN``
    where a row has ``None``); ``latency_sketch`` holds the sketch dicts."""
    try:
        pd = importlib.import_module("pandas")
    except ImportError as e:
        raise ImportError(
            "Engine.metrics(as_frame=True) needs pandas, which is not installed: "
            "pip install pandas"
        ) from e
    frame = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    for column in _TIMES:
        millis = frame[column].astype("int64")
        frame[column] = pd.to_datetime(millis, unit="ms", utc=True).astype("datetime64[ms, UTC]")
    return frame.astype({**dict.fromkeys(_INTEGERS, "int64"), **dict.fromkeys(_FLOATS, "float64")})

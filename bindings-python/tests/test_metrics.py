"""Rollups: 5-minute, hourly and daily ModelMetrics rows, written by tick/flush, read by metrics."""

import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import harper_edge
from conftest import IRIS

FIVE_MINUTES, HOUR, DAY = 300_000, 3_600_000, 86_400_000

KEYS = [
    "id",
    "model_name",
    "model_version",
    "period_start",
    "period_end",
    "granularity",
    "request_count",
    "avg_latency",
    "p50_latency",
    "p95_latency",
    "p99_latency",
    "max_latency",
    "error_rate",
    "error_count",
    "throughput_per_second",
    "latency_sketch",
]


def now_ms() -> int:
    return int(time.time() * 1000)


def total(rows: list[Any], key: str) -> int:
    return sum(row[key] for row in rows)


def traffic(engine: harper_edge.Engine, x: np.ndarray) -> list[harper_edge.Prediction]:
    """7 answered calls and 2 failed ones (wrong shape) on iris:1."""
    answered = [engine.infer("iris:1", x[i : i + 1]) for i in range(7)]
    for _ in range(2):
        with pytest.raises(harper_edge.ShapeError):
            engine.infer("iris:1", np.zeros((1, 3), dtype=np.float32))
    return answered


def test_flush_writes_rows_that_metrics_reads_back(
    engine: harper_edge.Engine, reference: dict[str, Any]
) -> None:
    started = now_ms()
    answered = traffic(engine, reference["inputs"])
    ticked = engine.tick()
    if started // FIVE_MINUTES == now_ms() // FIVE_MINUTES:
        assert ticked == [], "tick writes only periods that ended"

    flushed = engine.flush()
    rows = engine.metrics("iris")
    assert rows, "flush wrote the open period"
    for row in rows:
        assert list(row) == KEYS
        assert (row["model_name"], row["model_version"], row["granularity"]) == ("iris", "1", "5min")
        assert isinstance(row["period_start"], int) and isinstance(row["period_end"], int)
        assert row["period_start"] % FIVE_MINUTES == 0
        assert row["period_end"] - row["period_start"] == FIVE_MINUTES
        assert row["id"] == f"iris:1:5min:{row['period_start']}"
        assert row["period_start"] <= now_ms() and row["period_end"] > started
        assert row["throughput_per_second"] == row["request_count"] / 300
        # The sketch is the core's serialised DDSketch, holding every call of the row.
        assert row["latency_sketch"]["count"] == row["request_count"]
    # Whatever the 5-minute boundaries, every call is counted once.
    assert (total(rows, "request_count"), total(rows, "error_count")) == (9, 2)
    # What flush wrote (5-minute, hourly, daily rows) is what is stored.
    for row in flushed:
        stored = engine.metrics("iris", row["granularity"], start=row["period_start"])
        assert stored[0] == row

    hourly = engine.metrics("iris:1", "hourly")
    assert total(hourly, "request_count") == 9
    if len(hourly) == 1:
        [h] = hourly
        assert h["id"] == f"iris:1:hourly:{h['period_start']}"
        assert h["period_start"] % HOUR == 0 and h["period_end"] - h["period_start"] == HOUR
        assert (h["request_count"], h["error_count"]) == (9, 2)
        assert h["error_rate"] == 2 / 9
        assert h["throughput_per_second"] == 9 / 3600
        assert h["max_latency"] is not None and h["avg_latency"] is not None
        assert h["p50_latency"] is not None and h["p95_latency"] is not None
        assert h["p99_latency"] is not None
        # The answered calls' latencies are known here (the failed calls' are not).
        assert h["max_latency"] >= max(p.latency_ms for p in answered)
        assert h["p50_latency"] <= h["p95_latency"] <= h["p99_latency"] <= h["max_latency"] * 1.01
        assert 0 < h["avg_latency"] <= h["max_latency"]
    daily = engine.metrics("iris", "daily", version="1")
    assert total(daily, "request_count") == 9
    assert all(r["period_start"] % DAY == 0 and r["period_end"] - r["period_start"] == DAY for r in daily)

    # Nothing pending: a second flush writes nothing. A new call merges into the stored rows.
    assert engine.flush() == []
    engine.infer("iris:1", reference["inputs"][7:8])
    merged = engine.flush()
    assert sorted(r["granularity"] for r in merged) == ["5min", "daily", "hourly"]
    assert total(engine.metrics("iris", "daily"), "request_count") == 10
    assert total(engine.metrics("iris"), "request_count") == 10


def test_rows_go_through_the_outbox(engine: harper_edge.Engine, reference: dict[str, Any]) -> None:
    engine.infer("iris", reference["inputs"][:1])
    engine.flush()
    latest = {e["id"]: e["record"] for e in engine.outbox(limit=1000) if e["table"] == "ModelMetrics"}
    stored = [r for g in ("5min", "hourly", "daily") for r in engine.metrics("iris", g)]
    assert {r["granularity"] for r in stored} == {"5min", "hourly", "daily"}
    assert sorted(latest) == sorted(r["id"] for r in stored)
    for row in stored:
        # The outbox record has the original camelCase names, the same values and sketch.
        record = latest[row["id"]]
        assert record["requestCount"] == row["request_count"]
        assert record["periodStart"] == row["period_start"]
        assert record["p99Latency"] == row["p99_latency"]
        assert record["latencySketch"] == row["latency_sketch"]


def test_rows_persist_in_the_sqlite_store(tmp_path: Path, reference: dict[str, Any]) -> None:
    first = harper_edge.Engine.open(tmp_path)
    first.register_model("iris", "1", IRIS)
    traffic(first, reference["inputs"])
    first.flush()
    second = harper_edge.Engine.open(tmp_path)
    assert total(second.metrics("iris:1"), "request_count") == 9
    assert second.metrics("iris", "hourly") == first.metrics("iris:1", "hourly")


def test_metrics_filters_by_version_time_and_limit(
    engine: harper_edge.Engine, reference: dict[str, Any]
) -> None:
    x = reference["inputs"]
    engine.infer("iris", x[:1])
    engine.register_model("iris", "2", IRIS)
    engine.infer("iris", x[1:2])
    engine.infer("iris", x[2:3])
    engine.flush()

    def by_version(rows: list[harper_edge.ModelMetrics]) -> dict[str, int]:
        return {r["model_version"]: r["request_count"] for r in rows}

    # A bare name: every version (the real-time view would take the newest).
    assert by_version(engine.metrics("iris", "hourly")) == {"1": 1, "2": 2}
    assert by_version(engine.metrics("iris:2", "hourly")) == {"2": 2}
    assert by_version(engine.metrics("iris", "hourly", version="1")) == {"1": 1}
    assert by_version(engine.metrics("iris:1", "hourly", version="1")) == {"1": 1}
    assert len(engine.metrics("iris", "hourly", limit=1)) == 1
    assert engine.metrics("iris", "hourly", limit=0) == []

    [row] = engine.metrics("iris:1", "hourly")
    p = row["period_start"]

    def count(**kwargs: Any) -> int:
        return len(engine.metrics("iris:1", "hourly", **kwargs))

    assert count(start=p) == 1, "start is inclusive"
    assert count(start=p + 1) == 0
    assert count(end=p) == 0, "end is exclusive"
    assert count(end=p + 1) == 1
    assert count(start=np.int64(p), end=np.int64(p + HOUR)) == 1
    # Aware datetimes, in any zone; a fraction of a millisecond is not dropped.
    at = datetime.fromtimestamp(p / 1000, tz=timezone.utc)
    assert count(start=at) == 1 and count(end=at) == 0
    assert count(start=at.astimezone(timezone(timedelta(hours=-7)))) == 1
    half = timedelta(microseconds=500)
    assert count(start=at + half) == 0, "a start just after the period start excludes it"
    assert count(end=at + half) == 1, "an end just after the period start includes it"
    assert count(start=at - half) == 1
    # An unknown model has no rows (metrics reads rows; it does not resolve the model).
    assert engine.metrics("nope") == []


def test_bad_arguments_raise_typed_errors(engine: harper_edge.Engine) -> None:
    with pytest.raises(harper_edge.InvalidInputError) as raised:
        engine.metrics("iris", "weekly")
    assert str(raised.value) == "invalid input: unknown granularity 'weekly' (expected 5min, hourly or daily)"
    assert raised.value.code == "HARPER_EDGE_INVALID_INPUT"
    with pytest.raises(harper_edge.InvalidInputError, match="names version '1' but version='2'"):
        engine.metrics("iris:1", version="2")
    with pytest.raises(harper_edge.InvalidInputError):
        engine.metrics("bad name!")
    with pytest.raises(ValueError, match="start is a naive datetime"):
        engine.metrics("iris", start=datetime(2026, 1, 1))
    with pytest.raises(TypeError, match="end must be an aware datetime or epoch milliseconds"):
        engine.metrics("iris", end="2026-01-01")
    with pytest.raises(TypeError, match="got float"):
        engine.metrics("iris", start=1.5)
    with pytest.raises(TypeError, match="got bool"):
        engine.metrics("iris", start=True)
    with pytest.raises(OverflowError):
        engine.metrics("iris", limit=-1)


def test_as_frame_returns_a_dataframe(engine: harper_edge.Engine, reference: dict[str, Any]) -> None:
    pd = pytest.importorskip("pandas")
    traffic(engine, reference["inputs"])
    engine.flush()
    rows = engine.metrics("iris", "hourly")
    frame = engine.metrics("iris", "hourly", as_frame=True)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == KEYS
    assert len(frame) == len(rows)
    assert str(frame["period_start"].dtype) == "datetime64[ms, UTC]"
    assert str(frame["period_end"].dtype) == "datetime64[ms, UTC]"
    assert frame["request_count"].dtype == np.int64 and frame["error_count"].dtype == np.int64
    for column in ("avg_latency", "p99_latency", "error_rate", "throughput_per_second"):
        assert frame[column].dtype == np.float64, column
    first = frame.iloc[0]
    assert first["period_start"] == pd.Timestamp(rows[0]["period_start"], unit="ms", tz="UTC")
    assert first["period_end"] - first["period_start"] == pd.Timedelta(hours=1)
    assert first["id"] == rows[0]["id"]
    assert first["max_latency"] == rows[0]["max_latency"]
    assert first["latency_sketch"] == rows[0]["latency_sketch"]
    assert frame["request_count"].sum() == 9 and frame["error_count"].sum() == 2

    # No rows: the same columns and dtypes.
    empty = engine.metrics("nope", as_frame=True)
    assert list(empty.columns) == KEYS and len(empty) == 0
    assert str(empty["period_start"].dtype) == "datetime64[ms, UTC]"
    assert empty["request_count"].dtype == np.int64 and empty["avg_latency"].dtype == np.float64


def test_as_frame_without_pandas_says_how_to_install_it(
    engine: harper_edge.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    with pytest.raises(ImportError, match="pip install pandas"):
        engine.metrics("iris", as_frame=True)
    assert engine.metrics("iris") == [], "rows without a frame need no pandas"


def test_events_as_frame(engine: harper_edge.Engine, reference: dict[str, Any]) -> None:
    rows = reference["inputs"][:3]
    ids = [engine.infer("iris", row[None, :]).inference_id for row in rows]
    engine.feedback(ids[0], int(reference["labels"][0]))
    events = engine.events("iris")
    frame = engine.events("iris", as_frame=True)
    assert len(frame) == 3
    assert list(frame["id"]) == [e.id for e in events], "newest first, as the list"
    assert str(frame["timestamp"].dtype) == "datetime64[ms, UTC]"
    assert frame["timestamp"].iloc[0].value // 1_000_000 == events[0].timestamp
    first = frame.set_index("id").loc[ids[0]]
    assert bool(first["correct"]) is True
    assert first["actual_outcome"] == int(reference["labels"][0])
    assert frame["correct"].isna().sum() == 2, "no feedback yet: <NA>"
    assert frame["feedback_timestamp"].isna().sum() == 2
    assert frame["latency_ms"].dtype == np.float64 and (frame["latency_ms"] > 0).all()
    empty = engine.events("nope", as_frame=True)
    assert len(empty) == 0 and "timestamp" in empty.columns


def test_events_as_frame_without_pandas_says_how_to_install_it(
    engine: harper_edge.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"Engine.events\(as_frame=True\) needs pandas"):
        engine.events(as_frame=True)

"""Monitoring a model you run yourself: count its calls from numpy columns, keep a raw event
for feedback, read the real-time view, and merge the rollups of two engines."""

import numpy as np

import harper_edge

# A second engine stands for another process or HarperDB worker recording the same model.
engine = harper_edge.Engine.in_memory()
other = harper_edge.Engine.in_memory()

# Columns, one entry per call: read in place, tens of millions of calls per second.
latency_ms = np.array([12.5, 8.1, 230.0, 9.7])  # float64
failed = np.array([False, False, True, False])  # bool
confidence = np.array([0.91, 0.88, np.nan, 0.97])  # float64, NaN = none
engine.record_batch("my-llm:2", latency_ms, errors=failed, confidence=confidence)
other.record_batch("my-llm:2", [15.0, 11.0])  # lists work too

# One call with its raw event, so that its ground truth can be recorded later.
event_id = engine.record_event(
    {
        "model_name": "my-llm",
        "model_version": "2",
        "latency_ms": 14.2,
        "features_in": {"prompt": "hello"},
        "prediction": "greeting",
        "confidence": 0.93,
    }
)
assert engine.feedback(event_id, "greeting").correct is True

live = engine.realtime("my-llm:2")  # a version the engine never registered
print(f"{live['request_count']} calls, error rate {live['error_rate']:.2f}, max {live['max_latency']} ms")
assert (live["request_count"], live["error_count"], live["max_latency"]) == (5, 1, 230.0)
assert live["accuracy"] == 1.0

# Rollups of several producers merge exactly: counts, max and percentiles of all calls.
engine.flush()
other.flush()
rows = harper_edge.combine_metrics(engine.metrics("my-llm") + other.metrics("my-llm"))
calls = sum(row["request_count"] for row in rows)
print(f"{len(rows)} five-minute row(s) combined, {calls} calls")
if len(rows) == 1:  # both engines' calls fell in one period (a boundary may split them)
    assert rows[0]["max_latency"] == 230.0
assert calls == 7

stats = engine.telemetry_stats()
print(f"telemetry: {stats['observations']} calls counted, {stats['events_written']} event(s) written")
assert stats["observations"] == 5 and stats["events_dropped"] == 0

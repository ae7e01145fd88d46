"""The real-time view of a model: the last five minutes of calls and feedback."""

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import harper_edge
from conftest import IRIS

KEYS = {
    "window_start",
    "window_end",
    "request_count",
    "error_count",
    "error_rate",
    "throughput_per_second",
    "avg_latency",
    "p50_latency",
    "p95_latency",
    "p99_latency",
    "max_latency",
    "avg_confidence",
    "labelled_count",
    "accuracy",
}


def test_realtime_counts_calls_errors_and_feedback(
    tmp_path: Path, reference: dict[str, Any]
) -> None:
    x, labels = reference["inputs"], reference["labels"]
    engine = harper_edge.Engine.open(tmp_path)
    engine.register_model("iris", "1", IRIS)

    started = int(time.time() * 1000)
    ids = [engine.infer("iris", x[i : i + 1]).inference_id for i in range(7)]
    wrong_shape = np.zeros((1, 3), dtype=np.float32)
    for _ in range(2):
        with pytest.raises(harper_edge.ShapeError):
            engine.infer("iris:1", wrong_shape)
    engine.feedback(ids[0], int(labels[0]))
    engine.feedback(ids[1], int(labels[1]))
    engine.feedback(ids[2], (int(labels[2]) + 1) % 3)

    stats = engine.realtime("iris")
    assert set(stats) == KEYS
    assert (stats["request_count"], stats["error_count"]) == (9, 2)
    assert stats["labelled_count"] == 3
    assert stats["accuracy"] == pytest.approx(2 / 3)
    assert stats["error_rate"] == pytest.approx(2 / 9)
    assert isinstance(stats["window_start"], int) and isinstance(stats["window_end"], int)
    # Whole 10-second slots: the window ends at the end of the current one.
    assert stats["window_end"] - stats["window_start"] == 300_000
    assert stats["window_end"] % 10_000 == 0
    assert stats["window_start"] <= started < stats["window_end"]
    assert stats["throughput_per_second"] == pytest.approx(9 / 300)
    latencies = [stats[k] for k in ("p50_latency", "p95_latency", "p99_latency", "max_latency")]
    assert all(isinstance(v, float) and v > 0 for v in latencies)
    assert stats["avg_latency"] is not None and stats["max_latency"] is not None
    assert stats["avg_latency"] <= stats["max_latency"]
    assert stats["avg_confidence"] is not None and 0 < stats["avg_confidence"] <= 1
    assert engine.realtime("iris:1")["request_count"] == 9

    # A fresh engine on the same store reads the window's calls and labels from it.
    reopened = harper_edge.Engine.open(tmp_path)
    again = reopened.realtime("iris:1")
    assert (again["request_count"], again["error_count"], again["labelled_count"]) == (9, 2, 3)
    assert again["accuracy"] == pytest.approx(2 / 3)
    assert again["max_latency"] == pytest.approx(stats["max_latency"])
    # ... and keeps counting from there.
    reopened.feedback(ids[3], int(labels[3]))
    after = reopened.realtime("iris")
    assert after["labelled_count"] == 4
    assert after["accuracy"] == pytest.approx(3 / 4)


def test_realtime_of_a_model_without_calls_has_no_data(engine: harper_edge.Engine) -> None:
    stats = engine.realtime("iris")
    assert set(stats) == KEYS
    assert (stats["request_count"], stats["error_count"], stats["labelled_count"]) == (0, 0, 0)
    assert (stats["error_rate"], stats["throughput_per_second"]) == (0.0, 0.0)
    for key in ("avg_latency", "p50_latency", "p99_latency", "max_latency", "avg_confidence", "accuracy"):
        assert stats[key] is None, key


def test_realtime_follows_the_newest_version(
    engine: harper_edge.Engine, reference: dict[str, Any]
) -> None:
    engine.infer("iris:1", reference["inputs"][:1])
    engine.register_model("iris", "2", IRIS)
    engine.infer("iris", reference["inputs"][:1])
    engine.infer("iris", reference["inputs"][:1])
    assert engine.realtime("iris")["request_count"] == 2
    assert engine.realtime("iris:1")["request_count"] == 1


def test_realtime_of_an_unknown_model_raises_not_found(engine: harper_edge.Engine) -> None:
    with pytest.raises(harper_edge.NotFoundError) as raised:
        engine.realtime("nope")
    assert raised.value.code == "HARPER_EDGE_NOT_FOUND"
    with pytest.raises(harper_edge.NotFoundError):
        engine.realtime("iris:9")
    with pytest.raises(harper_edge.InvalidInputError):
        engine.realtime("bad name!")

"""Telemetry settings and statistics, and the calls of models the host runs itself:
record_batch (columns), record_event (raw events) and combine_metrics (rows of several engines)."""

import gc
import math
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import harper_edge

FIVE_MINUTES = 300_000


def now_ms() -> int:
    return int(time.time() * 1000)


def manual(**settings: Any) -> harper_edge.Engine:
    """An in-memory engine without the background ticker: nothing is written until asked."""
    return harper_edge.Engine.in_memory(tick_interval=None, **settings)


def ended_period(periods_ago: int) -> int:
    """Start of the 5-minute period `periods_ago` periods before the current one."""
    return (now_ms() // FIVE_MINUTES - periods_ago) * FIVE_MINUTES


def rank(values: np.ndarray, q: float) -> float:
    """The value of rank floor(q (n - 1)): what the sketch's quantiles are within 1% of."""
    return float(np.sort(values)[math.floor(q * (len(values) - 1))])


# --- settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"event_capacity": 0}, "event_capacity"),
        ({"event_capacity": -1}, "event_capacity"),
        ({"overflow": "drop_newest"}, "overflow"),
        ({"sample_rate": 1.5}, "sample_rate"),
        ({"sample_rate": -0.1}, "sample_rate"),
        ({"sample_rate": float("nan")}, "sample_rate"),
        ({"retention": 0}, "retention"),
        ({"retention": -1.0}, "retention"),
        ({"retention": float("nan")}, "retention"),
        ({"retention": float("inf")}, "retention"),
        ({"retention": timedelta(seconds=-1)}, "retention"),
        ({"tick_interval": 0}, "tick_interval"),
        ({"tick_interval": -0.5}, "tick_interval"),
        ({"tick_interval": timedelta(0)}, "tick_interval"),
    ],
)
def test_invalid_settings_raise_invalid_input_naming_the_field(
    settings: dict[str, Any], field: str, tmp_path: Path
) -> None:
    with pytest.raises(harper_edge.InvalidInputError, match=field) as raised:
        harper_edge.Engine.in_memory(**settings)
    assert raised.value.code == "HARPER_EDGE_INVALID_INPUT"
    home = tmp_path / "home"
    with pytest.raises(harper_edge.InvalidInputError, match=field):
        harper_edge.Engine.open(home, **settings)
    assert not home.exists(), "settings are checked before the store is opened"


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"retention": "30d"}, "retention"),
        ({"tick_interval": True}, "tick_interval"),
        ({"event_capacity": 1.5}, "event_capacity"),
        ({"overflow": None}, "overflow"),
        ({"sample_rate": "all"}, "sample_rate"),
    ],
)
def test_settings_of_the_wrong_type_raise_type_error(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(TypeError) as raised:
        harper_edge.Engine.in_memory(**settings)
    assert f"while processing '{field}'" in getattr(raised.value, "__notes__", [])


def test_valid_settings_are_accepted(tmp_path: Path) -> None:
    for settings in (
        {"retention": None, "tick_interval": None},
        {"retention": timedelta(days=7), "tick_interval": timedelta(milliseconds=250)},
        {"retention": 3600, "tick_interval": 2, "overflow": "reject", "sample_rate": 0},
        {"event_capacity": 1, "sample_rate": np.float64(0.5), "overflow": "drop_oldest"},
    ):
        engine = harper_edge.Engine.in_memory(**settings)
        assert engine.telemetry_stats()["observations"] == 0
    engine = harper_edge.Engine.open(tmp_path, event_capacity=8, tick_interval=None)
    assert engine.telemetry_stats()["event_capacity"] == 8
    assert repr(engine) == f"Engine.open('{tmp_path}')"


def test_telemetry_stats_has_every_key_of_the_typed_dict() -> None:
    stats = manual(event_capacity=16).telemetry_stats()
    assert set(stats) == set(harper_edge.TelemetryStats.__annotations__)
    assert stats == {
        "observations": 0,
        "events_buffered": 0,
        "event_capacity": 16,
        "events_written": 0,
        "events_dropped": 0,
        "events_rejected": 0,
        "events_sampled_out": 0,
        "events_duplicate": 0,
        "events_expired": 0,
        "late": 0,
        "flush_errors": 0,
        "last_flush_error": None,
    }


def host_events(engine: harper_edge.Engine, count: int, start: int) -> list[str]:
    """`count` events of host:1, one millisecond apart from `start`; their ids."""
    return [
        engine.record_event(
            {"id": f"e{i}", "model_name": "host", "model_version": "1", "latency_ms": 1.0 + i, "timestamp": start + i}
        )
        for i in range(count)
    ]


def test_a_full_buffer_drops_the_oldest_events_and_counts_them() -> None:
    # 4 divides into the buffer's lock shards on any machine (1, 2 or 4 shards).
    engine = manual(event_capacity=4)
    ids = host_events(engine, 6, now_ms() - 1000)
    assert ids == [f"e{i}" for i in range(6)]
    stats = engine.telemetry_stats()
    assert (stats["observations"], stats["event_capacity"]) == (6, 4)
    assert (stats["events_buffered"], stats["events_dropped"], stats["events_written"]) == (4, 2, 0)
    # events() writes the buffer first: the newest four are there, newest first.
    assert [e.id for e in engine.events()] == ["e5", "e4", "e3", "e2"]
    stats = engine.telemetry_stats()
    assert (stats["events_buffered"], stats["events_written"], stats["events_dropped"]) == (0, 4, 2)
    with pytest.raises(harper_edge.NotFoundError):
        engine.event("e0")
    # The metrics counted every call, the dropped ones too.
    assert engine.realtime("host:1")["request_count"] == 6


def test_a_full_buffer_with_reject_keeps_the_oldest_events() -> None:
    engine = manual(event_capacity=4, overflow="reject")
    host_events(engine, 6, now_ms() - 1000)
    stats = engine.telemetry_stats()
    assert (stats["events_buffered"], stats["events_rejected"], stats["events_dropped"]) == (4, 2, 0)
    assert [e.id for e in engine.events()] == ["e3", "e2", "e1", "e0"]


def sampled(ids: list[str], failed: set[str]) -> tuple[harper_edge.Engine, set[str]]:
    """An engine with sample_rate 0.25 that recorded one event per id; the ids it kept."""
    engine = manual(sample_rate=0.25)
    start = now_ms() - 10_000
    for i, event_id in enumerate(ids):
        event: harper_edge.EventRecord = {"id": event_id, "model_name": "host", "model_version": "1", "latency_ms": 2.0, "timestamp": start + i}
        if event_id in failed:
            event["error"] = "timeout"
        engine.record_event(event)
    return engine, {e.id for e in engine.events(limit=len(ids))}


def test_sampling_keeps_a_stable_share_of_successful_events_and_every_failure() -> None:
    rng = np.random.default_rng(3)
    ids = [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(2000)]
    failed = set(ids[::100])
    engine, kept = sampled(ids, failed)
    assert failed <= kept, "failed calls are always kept"
    # Binomial(1980, 0.25): mean 495, standard deviation 19.
    assert 395 <= len(kept - failed) <= 595
    stats = engine.telemetry_stats()
    assert stats["events_sampled_out"] == len(ids) - len(kept)
    assert stats["events_written"] == len(kept)
    assert engine.realtime("host:1")["request_count"] == len(ids), "metrics count every call"
    assert engine.realtime("host:1")["error_count"] == len(failed)
    # The choice is a hash of the id: another engine keeps the same events.
    assert sampled(ids, failed)[1] == kept


def test_sampling_of_sequential_ids_keeps_about_the_sample_rate() -> None:
    ids = [f"req-{i:06d}" for i in range(2000)]
    assert 395 <= len(sampled(ids, set())[1]) <= 605


def test_retention_deletes_old_events_at_tick() -> None:
    day = 86_400_000
    for retention, expired in ((timedelta(days=1), 1), (None, 0)):
        engine = manual(retention=retention)
        engine.record_event({"id": "old", "model_name": "host", "model_version": "1", "latency_ms": 1.0, "timestamp": now_ms() - 2 * day})
        engine.record_event({"id": "new", "model_name": "host", "model_version": "1", "latency_ms": 1.0})
        engine.tick()
        assert engine.telemetry_stats()["events_expired"] == expired
        assert len(engine.events()) == 2 - expired


def test_the_background_ticker_writes_events_and_none_turns_it_off() -> None:
    ticking = harper_edge.Engine.in_memory(tick_interval=timedelta(milliseconds=20))
    idle = manual()
    for engine in (ticking, idle):
        engine.record_event({"model_name": "host", "model_version": "1", "latency_ms": 1.0})
    deadline = time.monotonic() + 10
    while ticking.telemetry_stats()["events_written"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ticking.telemetry_stats()["events_written"] == 1
    assert idle.telemetry_stats()["events_written"] == 0
    assert idle.telemetry_stats()["events_buffered"] == 1


def test_a_dropped_engine_writes_what_it_buffered(tmp_path: Path) -> None:
    engine = harper_edge.Engine.open(tmp_path, tick_interval=None)
    engine.record_event({"id": "kept", "model_name": "host", "model_version": "1", "latency_ms": 4.0})
    assert engine.telemetry_stats()["events_written"] == 0
    del engine
    gc.collect()
    assert harper_edge.Engine.open(tmp_path).event("kept").latency_ms == 4.0


# --- record_batch -----------------------------------------------------------------------


def test_record_batch_counts_calls_in_the_realtime_view() -> None:
    engine = manual()
    rng = np.random.default_rng(5)
    n = 100_000
    latency = rng.lognormal(mean=1.0, sigma=0.8, size=n)
    errors = rng.random(n) < 0.07
    confidence = rng.random(n)
    confidence[::3] = np.nan
    assert engine.record_batch("host:1", latency, errors=errors, confidence=confidence) == n

    stats = engine.realtime("host:1")
    assert stats["request_count"] == n
    assert stats["error_count"] == int(errors.sum())
    assert stats["error_rate"] == pytest.approx(errors.mean())
    assert stats["max_latency"] == latency.max(), "max is exact"
    assert stats["avg_latency"] == pytest.approx(latency.mean(), rel=1e-9)
    assert stats["p50_latency"] == pytest.approx(rank(latency, 0.5), rel=0.01)
    assert stats["p95_latency"] == pytest.approx(rank(latency, 0.95), rel=0.01)
    assert stats["p99_latency"] == pytest.approx(rank(latency, 0.99), rel=0.01)
    assert stats["avg_confidence"] == pytest.approx(np.nanmean(confidence), rel=1e-9)
    assert engine.telemetry_stats()["observations"] == n
    # Columns count in the metrics only: no raw event is kept.
    assert engine.events() == [] and engine.telemetry_stats()["events_buffered"] == 0


def test_record_batch_converts_other_array_likes() -> None:
    engine = manual()
    base = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    readonly = base.copy()
    readonly.flags.writeable = False
    cases: list[tuple[str, Any, dict[str, Any]]] = [
        ("list", base.tolist(), {"errors": [False, True] * 4}),
        ("float32", base.astype(np.float32), {"errors": np.array([0, 1] * 4, dtype=np.uint8)}),
        ("int", base.astype(np.int32), {"confidence": [0.5] * 8}),
        ("ints", [int(v) for v in base], {"errors": (False, True) * 4}),
        ("mixed", [3, 1.0, 4, 1.0, 5, 9.0, 2, 6.0], {"errors": [0, 1] * 4, "timestamps": (now_ms(),) * 8}),
        ("strided", np.repeat(base, 2)[::2], {"timestamps": [now_ms()] * 8}),
        ("readonly", readonly, {"timestamps": np.full(8, float(now_ms()))}),
        ("tuple", tuple(base), {"errors": np.array([False, True] * 4)}),
    ]
    for version, latency, columns in cases:
        assert engine.record_batch(f"host:{version}", latency, **columns) == 8, version
        stats = engine.realtime(f"host:{version}")
        assert (stats["request_count"], stats["max_latency"]) == (8, 9.0), version
        assert stats["avg_latency"] == pytest.approx(base.mean()), version
        assert stats["error_count"] == (4 if "errors" in columns else 0), version
    assert engine.realtime("host:int")["avg_confidence"] == 0.5
    assert engine.record_batch("host:empty", []) == 0
    assert engine.record_batch("host:empty", np.array([], dtype=np.int64), errors=[]) == 0


def test_record_batch_names_a_version_or_the_newest_registered_one(
    engine: harper_edge.Engine,
) -> None:
    assert engine.record_batch("iris", [1.0, 2.0]) == 2
    assert engine.realtime("iris:1")["request_count"] == 2
    with pytest.raises(harper_edge.NotFoundError):
        engine.record_batch("unregistered", [1.0])
    with pytest.raises(harper_edge.InvalidInputError):
        engine.record_batch("bad name!:1", [1.0])


def test_record_batch_checks_every_column_before_counting_anything() -> None:
    engine = manual()
    engine.record_batch("host:1", [1.0])
    with pytest.raises(harper_edge.InvalidInputError, match="'errors' has length 3 but latency_ms has length 4"):
        engine.record_batch("host:1", [1.0, 2.0, 3.0, 4.0], errors=[True, False, True])
    with pytest.raises(harper_edge.InvalidInputError, match="'confidence' has length 5"):
        engine.record_batch("host:1", np.ones(4), confidence=np.ones(5))
    with pytest.raises(harper_edge.InvalidInputError, match="'timestamps' entry 2 is not a time"):
        engine.record_batch("host:1", np.ones(3), timestamps=[float(now_ms())] * 2 + [float("nan")])
    for bad in (float("nan"), -1.0, float("inf")):
        with pytest.raises(harper_edge.InvalidInputError, match="'latency_ms' entry 1"):
            engine.record_batch("host:1", [1.0, bad, 2.0], errors=[True, True, True])
    stats = engine.realtime("host:1")
    assert (stats["request_count"], stats["error_count"]) == (1, 0)
    assert engine.telemetry_stats()["observations"] == 1


def test_past_timestamps_land_in_their_own_rollup_periods() -> None:
    engine = manual()
    start = ended_period(3)  # 15 to 20 minutes ago: outside the real-time window
    latency = np.array([1.0, 2.0, 3.0, 10.0, 20.0])
    errors = np.array([False, True, False, False, True])
    times = np.array([start, start + 1000, start + FIVE_MINUTES - 1, start + FIVE_MINUTES, start + FIVE_MINUTES + 5])
    assert engine.record_batch("host:1", latency, errors=errors, timestamps=times) == 5
    assert engine.realtime("host:1")["request_count"] == 0, "too old for the real-time window"

    written = engine.tick()  # the periods have ended: tick writes them
    assert {r["period_start"] for r in written if r["granularity"] == "5min"} == {start, start + FIVE_MINUTES}
    rows = engine.metrics("host:1", start=start, end=start + 2 * FIVE_MINUTES)
    assert [(r["period_start"], r["request_count"], r["error_count"], r["max_latency"]) for r in rows] == [
        (start, 3, 1, 3.0),
        (start + FIVE_MINUTES, 2, 1, 20.0),
    ]
    assert rows[0]["avg_latency"] == pytest.approx(2.0)
    assert rows[1]["error_rate"] == 0.5


def test_garbage_columns_raise_typed_errors_and_count_nothing() -> None:
    engine = manual()
    ok = np.ones(3)
    bad_calls: list[tuple[type[Exception], dict[str, Any]]] = [
        (TypeError, {"latency_ms": None}),
        (TypeError, {"latency_ms": "fast"}),
        (TypeError, {"latency_ms": ["1", "2"]}),
        (TypeError, {"latency_ms": [1.0, None]}),
        (TypeError, {"latency_ms": np.array([1 + 2j])}),
        (TypeError, {"latency_ms": np.array([True, False])}),
        (TypeError, {"latency_ms": [True, False]}),
        (TypeError, {"latency_ms": [1.0, 2**70]}),
        (TypeError, {"latency_ms": {"a": 1.0}}),
        (TypeError, {"latency_ms": ok, "errors": np.array([0.0, 1.0, 0.0])}),
        (TypeError, {"latency_ms": ok, "confidence": ["high"] * 3}),
        (TypeError, {"latency_ms": ok, "timestamps": np.array(["2026-01-01"] * 3, dtype="datetime64[ms]")}),
        (TypeError, {"latency_ms": ok, "timestamps": np.array([2**63] * 3, dtype=np.uint64)}),
        (TypeError, {"latency_ms": ok, "timestamps": [True, False, True]}),
        (ValueError, {"latency_ms": np.ones((2, 3))}),
        (ValueError, {"latency_ms": [[1.0], [2.0]]}),
        (ValueError, {"latency_ms": 1.0}),
        (ValueError, {"latency_ms": np.float64(1.0)}),
        (ValueError, {"latency_ms": ok, "errors": np.zeros((3, 1), dtype=bool)}),
        (ValueError, {"latency_ms": ok, "timestamps": np.zeros((1, 3), dtype=np.int64)}),
        (ValueError, {"latency_ms": [[1.0], [2.0, 3.0]]}),  # ragged: numpy's own ValueError
    ]
    for expected, kwargs in bad_calls:
        with pytest.raises(expected) as raised:
            engine.record_batch("host:1", **kwargs)
        assert not isinstance(raised.value, harper_edge.HarperEdgeError), kwargs
    with pytest.raises(TypeError):
        engine.record_batch("host:1")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        engine.record_batch(None, ok)  # type: ignore[arg-type]
    assert engine.telemetry_stats()["observations"] == 0


# --- record_event -----------------------------------------------------------------------


def test_record_event_keeps_the_event_for_events_and_feedback() -> None:
    engine = manual()
    at = now_ms() - 2000
    returned = engine.record_event(
        {
            "id": "chat-1",
            "model_name": "chat",
            "model_version": "2",
            "framework": "transformers",
            "user_id": "u1",
            "session_id": "s1",
            "request_id": "r1",
            "features_in": {"prompt": "hello", "tokens": np.array([1, 2, 3])},
            "prediction": "greeting",
            "confidence": np.float32(0.75),  # type: ignore[typeddict-item]  # numpy scalars work
            "latency_ms": 12.5,
            "timestamp": at,
        }
    )
    assert returned == "chat-1"
    [event] = engine.events(model="chat")
    assert (event.id, event.model_name, event.model_version, event.framework) == ("chat-1", "chat", "2", "transformers")
    assert (event.user_id, event.session_id, event.request_id) == ("u1", "s1", "r1")
    assert event.features_in == {"prompt": "hello", "tokens": [1, 2, 3]}
    assert (event.prediction, event.confidence, event.latency_ms, event.timestamp) == ("greeting", 0.75, 12.5, at)
    assert event.error is None and event.correct is None

    assert engine.feedback("chat-1", "greeting").correct is True
    stats = engine.realtime("chat:2")
    assert (stats["request_count"], stats["labelled_count"], stats["accuracy"]) == (1, 1, 1.0)
    assert (stats["max_latency"], stats["avg_confidence"]) == (12.5, 0.75)


def test_record_event_fills_in_id_timestamp_and_framework() -> None:
    engine = manual()
    before = now_ms()
    event_id = engine.record_event({"model_name": "host", "model_version": "1", "latency_ms": 3, "confidence": float("nan"), "error": "timeout", "user_id": None})
    assert uuid.UUID(event_id).version == 4
    event = engine.event(event_id)
    assert before <= event.timestamp <= now_ms()
    assert (event.framework, event.error, event.confidence, event.user_id) == ("onnx", "timeout", None, None)
    assert (event.prediction, event.features_in) == (None, None)
    assert engine.realtime("host:1")["error_count"] == 1
    aware = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    engine.record_event({"id": "dated", "model_name": "host", "model_version": "1", "latency_ms": 1.0, "timestamp": aware, "correct": True, "actual_outcome": 1, "feedback_timestamp": aware + timedelta(hours=1)})
    dated = engine.event("dated")
    assert dated.timestamp == int(aware.timestamp() * 1000)
    assert dated.feedback_timestamp == dated.timestamp + 3_600_000
    assert (dated.correct, dated.actual_outcome) == (True, 1)


def test_record_event_refuses_malformed_events() -> None:
    engine = manual()
    base = {"model_name": "host", "model_version": "1", "latency_ms": 1.0}
    bad: list[tuple[type[Exception], Any, str]] = [
        (TypeError, ["host", "1", 1.0], "must be a dict"),
        (TypeError, None, "must be a dict"),
        (TypeError, {"model_name": "host", "model_version": "1"}, "no 'latency_ms'"),
        (TypeError, {**base, "latency_ms": None}, "no 'latency_ms'"),
        (TypeError, {**base, "latency": 1.0}, "unknown event key 'latency'"),
        (TypeError, {**base, 1: "x"}, "unknown event key 1"),
        (TypeError, {**base, "latency_ms": "fast"}, "'latency_ms' must be a float, got str"),
        (TypeError, {**base, "latency_ms": True}, "'latency_ms' must be a float, got bool"),
        (TypeError, {**base, "model_version": 1}, "'model_version' must be a str, got int"),
        (TypeError, {**base, "correct": "yes"}, "'correct' must be a bool"),
        (TypeError, {**base, "features_in": {1, 2}}, "cannot store a set"),
        (TypeError, {**base, "timestamp": "now"}, "timestamp must be an aware datetime"),
        (ValueError, {**base, "timestamp": datetime(2026, 1, 1)}, "naive datetime"),
        (ValueError, {**base, "prediction": float("inf")}, "cannot be stored as JSON"),
        (harper_edge.InvalidInputError, {**base, "latency_ms": float("nan")}, "latency_ms must be a finite"),
        (harper_edge.InvalidInputError, {**base, "latency_ms": -1}, "latency_ms must be a finite"),
        (harper_edge.InvalidInputError, {**base, "confidence": float("inf")}, "confidence must be finite"),
        (harper_edge.InvalidInputError, {**base, "framework": "pytorch"}, "unknown framework"),
        (harper_edge.InvalidInputError, {**base, "model_name": ""}, "model name"),
        (harper_edge.InvalidInputError, {**base, "model_version": "a b"}, "model version"),
        (harper_edge.InvalidInputError, {**base, "id": ""}, "id must not be empty"),
    ]
    for expected, event, message in bad:
        with pytest.raises(expected, match=message):
            engine.record_event(event)
    stats = engine.telemetry_stats()
    assert (stats["observations"], stats["events_buffered"]) == (0, 0)


# --- combine_metrics --------------------------------------------------------------------


def test_combined_rows_of_two_engines_equal_the_rows_of_one_that_saw_every_call() -> None:
    rng = np.random.default_rng(11)
    n = 40_000
    start = ended_period(4)
    latency = rng.gamma(shape=2.0, scale=15.0, size=n)
    errors = rng.random(n) < 0.05
    times = start + rng.integers(0, 2 * FIVE_MINUTES, size=n)  # two 5-minute periods
    one, two, both = manual(), manual(), manual()
    half = n // 3
    one.record_batch("host:1", latency[:half], errors=errors[:half], timestamps=times[:half])
    two.record_batch("host:1", latency[half:], errors=errors[half:], timestamps=times[half:])
    both.record_batch("host:1", latency, errors=errors, timestamps=times)
    for engine in (one, two, both):
        engine.flush()

    for granularity in ("5min", "hourly", "daily"):
        combined = harper_edge.combine_metrics(one.metrics("host", granularity) + two.metrics("host", granularity))
        expected = both.metrics("host", granularity)
        assert len(combined) == len(expected) >= 1, granularity
        for got, want in zip(combined, expected):
            assert list(got) == list(want)
            for key in ("id", "period_start", "period_end", "request_count", "error_count", "max_latency", "p50_latency", "p95_latency", "p99_latency", "error_rate"):
                assert got[key] == want[key], (granularity, key)
            assert got["avg_latency"] == pytest.approx(want["avg_latency"], rel=1e-12)
            assert got["latency_sketch"]["count"] == want["request_count"]
    fives = both.metrics("host")
    assert [r["request_count"] for r in fives] == [
        int(((times >= s) & (times < s + FIVE_MINUTES)).sum()) for s in (start, start + FIVE_MINUTES)
    ]
    assert sum(r["request_count"] for r in fives) == n
    assert max(r["max_latency"] or 0 for r in fives) == latency.max()
    # The combination is itself a set of rows that combines again.
    assert harper_edge.combine_metrics(fives) == harper_edge.combine_metrics(
        harper_edge.combine_metrics(fives)
    )
    assert harper_edge.combine_metrics([]) == []


def test_combine_metrics_reads_rows_from_a_data_frame() -> None:
    pytest.importorskip("pandas")
    engine = manual()
    start = ended_period(2)
    engine.record_batch("host:1", [1.0, 2.0, 3.0], errors=[True, False, False], timestamps=[start] * 3)
    engine.flush()
    frame = engine.metrics("host", as_frame=True)
    [row] = harper_edge.combine_metrics(frame.to_dict("records"))
    assert row == engine.metrics("host")[0]


def test_combine_metrics_refuses_malformed_rows() -> None:
    engine = manual()
    engine.record_batch("host:1", [1.0], timestamps=[ended_period(2)])
    engine.flush()
    [row] = engine.metrics("host")
    bad: list[tuple[type[Exception], Any, str]] = [
        (TypeError, None, "not iterable"),
        (TypeError, row, "wrap one row in a list"),
        (TypeError, "rows", "must be a list"),
        (TypeError, [1], r"rows\[0\] must be a ModelMetrics dict, got int"),
        (TypeError, [row, {}], r"rows\[1\] has no 'model_name'"),
        (TypeError, [{**row, "latency_sketch": None}], "has no 'latency_sketch'"),
        (TypeError, [{**row, "model_version": 1}], r"\['model_version'\] must be a str"),
        (TypeError, [{**row, "error_count": 1.5}], r"\['error_count'\] must be an int"),
        (TypeError, [{**row, "period_start": "today"}], r"\['period_start'\] must be an aware datetime"),
        (harper_edge.InvalidInputError, [{**row, "error_count": -1}], "must be >= 0"),
        (harper_edge.InvalidInputError, [{**row, "granularity": "weekly"}], "unknown granularity"),
        (harper_edge.InvalidInputError, [{**row, "latency_sketch": {"count": 1}}], "is not a latency sketch"),
        (harper_edge.InvalidInputError, [{**row, "latency_sketch": {**row["latency_sketch"], "alpha": 2.0}}], "is not a latency sketch"),
    ]
    for expected, rows, message in bad:
        with pytest.raises(expected, match=message):
            harper_edge.combine_metrics(rows)


def test_a_script_that_exits_without_flushing_loses_nothing(tmp_path: Path) -> None:
    """The interpreter drops the engine at exit, and dropping flushes buffered telemetry."""
    import subprocess
    import sys

    home = tmp_path / "home"
    script = (
        "import harper_edge\n"
        f"engine = harper_edge.Engine.open({str(home)!r})\n"
        "engine.record_event({'model_name': 'm', 'model_version': '1', 'latency_ms': 1.0})\n"
        "engine.record_batch('m:1', [1.0, 2.0, 3.0])\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    engine = harper_edge.Engine.open(home, tick_interval=None)
    assert len(engine.events()) == 1
    rows = engine.metrics("m:1")
    assert sum(r["request_count"] for r in rows) == 4

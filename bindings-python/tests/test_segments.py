"""Drift and rollups split by a segment key from Python: SegmentedBaseline /
check_drift_segments on DataFrames, and the engine's segmented checks and rollups."""

import json

import numpy as np
import pandas as pd
import pytest

import harper_edge
from harper_edge import Baseline, SegmentedBaseline, SegmentedDriftResult, check_drift_segments


def cohorts(n: int, seed: int, south_shift: float = 0.0) -> pd.DataFrame:
    """Two cohorts of different centres: north around 0, south around 5 (+ shift)."""
    rng = np.random.default_rng(seed)
    south = np.arange(n) % 3 == 0
    x = np.where(south, 5.0 + south_shift, 0.0) + rng.uniform(0, 4, n)
    return pd.DataFrame(
        {
            "x": x,
            "plan": rng.choice(["free", "pro"], n),
            "cohort": np.where(south, "south", "north"),
            "arm": np.where(np.arange(n) % 2 == 0, "a", "b"),
        }
    )


def test_cohorts_are_compared_with_their_own_reference() -> None:
    ref, cur = cohorts(3000, 1), cohorts(3000, 2, south_shift=1.0)
    segmented = SegmentedBaseline.fit(ref.drop(columns=["arm"]), "cohort")
    assert segmented.key == "cohort"
    assert segmented.segment_rows == {"north": 2000, "south": 1000}
    assert segmented.whole.features == ["plan", "x"] or set(segmented.whole.features) == {"plan", "x"}
    result = check_drift_segments(segmented, cur, segment="cohort")
    assert isinstance(result, SegmentedDriftResult)
    assert result.drifted and result.drifted_segments == 1
    first = result.segments[0]
    assert first["segment"] == "south" and first["drifted"]
    assert first["compared_with"] == "segment" and first["reference_rows"] == 1000
    by_feature = {f["feature_name"]: f for f in first["report"]["features"]}
    assert by_feature["x"]["drifted"] and not by_feature["plan"]["drifted"]
    north = result.segments[1]
    assert north["segment"] == "north" and not north["drifted"]
    assert result.model["correction"] == "holm" and result.model["tested"] == 4
    # Round trips: the saved form, the JSON result, the frame.
    back = SegmentedBaseline.from_json(segmented.to_json())
    assert back.segment_rows == segmented.segment_rows
    assert json.loads(result.to_json())["segments"][0]["comparedWith"] == "segment"
    frame = result.to_pandas()
    assert list(frame[frame.segment == "south"].feature_name) == ["x", "plan"]
    assert frame.segment_drifted.tolist() == [True, True, False, False]
    with pytest.raises(harper_edge.IntegrityError):
        SegmentedBaseline.from_json('{"key": 3}')


def test_arms_against_the_whole_baseline_and_errors() -> None:
    ref, cur = cohorts(3000, 3), cohorts(3000, 4)
    cur.loc[cur.arm == "b", "x"] += 1.0
    baseline = Baseline.fit(ref.drop(columns=["arm", "cohort"]))
    result = check_drift_segments(baseline, cur, segment="arm", min_rows=10)
    arms = {s["segment"]: s for s in result.segments}
    assert arms["b"]["drifted"] and not arms["a"]["drifted"]
    assert arms["a"]["compared_with"] == "whole" and arms["a"]["reference_rows"] == 3000
    with pytest.raises(harper_edge.InvalidInputError, match="no column 'tier'"):
        check_drift_segments(baseline, cur, segment="tier")
    with pytest.raises(TypeError, match="Baseline or harper_edge.SegmentedBaseline"):
        check_drift_segments({"x": [1]}, cur, segment="arm")
    small = check_drift_segments(baseline, cur, segment="arm", min_rows=5000)
    assert all(s["report"] is None and "fewer than minRows 5000" in s["skipped"] for s in small.segments)
    assert not small.drifted


def events(version: str, n: int, shift: float, start: int = 0) -> list[dict]:
    rng = np.random.default_rng(start + (7 if version == "2" else 3))
    return [
        {
            "model_name": "scorer",
            "model_version": version,
            "latency_ms": 10.0 if version == "1" else 20.0,
            "features_in": {"x": float(rng.uniform(0, 4) + shift), "arm": "a" if i % 2 else "b"},
            "prediction": "ok",
            "user_id": f"user-{i % 5}",
            "timestamp": 1_767_225_600_000 + (start + i) * 100,
        }
        for i in range(n)
    ]


def test_the_engine_checks_a_canary_and_splits_rollups() -> None:
    engine = harper_edge.Engine.in_memory()
    for e in events("1", 2000, 0.0):
        engine.record_event(e)
    engine.fit_baseline("scorer:1", segment_by=["userId"])
    current = events("1", 1000, 0.0, start=5000) + events("2", 1000, 1.0, start=5000)
    result = engine.check_drift_segments("scorer:1", segment="modelVersion", events=current)
    versions = {s["segment"]: s for s in result.segments}
    assert versions["2"]["drifted"] and not versions["1"]["drifted"]
    users = engine.check_drift_segments("scorer:1", segment="userId", events=current)
    assert {s["compared_with"] for s in users.segments} == {"segment"}
    assert len(users.segments) == 5
    # The drift window keeps features only; an arm in the features splits it.
    with pytest.raises(harper_edge.InvalidInputError, match="event field 'userId'"):
        engine.check_drift_segments("scorer:1", segment="userId")
    with pytest.raises(ValueError, match="not both"):
        engine.check_drift_segments("scorer:1", {"x": [1.0]}, segment="arm", events=current)

    for e in events("2", 600, 0.0, start=9000):
        engine.record_event(e)
    rows = engine.metrics("scorer", "hourly", segment="modelVersion")
    by_version = {r["segment"]: r for r in rows}
    assert by_version["1"]["request_count"] == 2000 and by_version["2"]["request_count"] == 600
    assert all(r["segment_key"] == "modelVersion" for r in rows)
    assert by_version["2"]["p50_latency"] == pytest.approx(20.0, rel=0.02)
    frame = engine.metrics("scorer", "hourly", segment="arm", as_frame=True)
    assert list(frame.columns[:2]) == ["segment_key", "segment"]
    assert sorted(frame.segment) == ["a", "a", "b", "b"], "one row per arm and version"
    assert frame.request_count.sum() == 2600

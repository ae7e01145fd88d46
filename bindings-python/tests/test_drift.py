"""Drift checks from Python: Baseline.fit / check_drift on DataFrames, numpy and lists, and
the engine's stored checks (window and given data)."""

import json
import math

import numpy as np
import pandas as pd
import pytest

import harper_edge
from harper_edge import Baseline, DriftResult, check_drift


def frames(n: int = 2_000, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": rng.lognormal(10, 0.5, n),
            "plan": rng.choice(["free", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
        }
    )
    cur = pd.DataFrame(
        {
            "age": rng.normal(45, 10, n),  # shifted by half a standard deviation
            "income": rng.lognormal(10, 0.5, n),
            "plan": rng.choice(["free", "pro", "team", "vip"], n, p=[0.5, 0.3, 0.1, 0.1]),
        }
    )
    return ref, cur


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """The two-sample KS statistic, computed independently (max ECDF gap)."""
    xs = np.sort(np.concatenate([a, b]))
    fa = np.searchsorted(np.sort(a), xs, side="right") / len(a)
    fb = np.searchsorted(np.sort(b), xs, side="right") / len(b)
    return float(np.max(np.abs(fa - fb)))


def test_a_dataframe_check_finds_the_planted_shifts() -> None:
    ref, cur = frames()
    baseline = Baseline.fit(ref)
    assert baseline.features == ["age", "income", "plan"]
    assert [f["kind"] for f in baseline.schema] == ["numeric", "numeric", "categorical"]
    result = check_drift(baseline, cur)
    assert isinstance(result, DriftResult)
    by_name = {f["feature_name"]: f for f in result.features}
    assert by_name["age"]["drifted"] and by_name["plan"]["drifted"]
    assert not by_name["income"]["drifted"]
    assert result.drifted_count == 2 and result.drifted
    assert by_name["age"]["drift_method"] == "ks"
    assert by_name["plan"]["drift_method"] == "chi2"
    assert by_name["age"]["drift_score"] == pytest.approx(
        ks_statistic(ref["age"].to_numpy(), cur["age"].to_numpy()), abs=1e-12
    )
    assert result.quality["unknown_categories"] == {"plan": int((cur["plan"] == "vip").sum())}
    assert result.quality["total_records"] == 2_000
    assert "id" not in result.quality
    table = result.to_pandas()
    assert list(table["feature_name"][:2]) == [f["feature_name"] for f in result.features[:2]]
    assert table["drifted"].sum() == 2
    assert json.loads(result.to_json())["report"]["driftedCount"] == 2
    assert result.to_dict()["report"]["drifted_count"] == 2
    assert "2 of 3" in repr(result)
    # The model verdict: Holm over the three tested features.
    model = result.model
    assert (model["correction"], model["tested"], model["rejected"]) == ("holm", 3, 2)
    assert model["drifted"] is True
    adjusted = sorted(f["adjusted_p_value"] for f in result.features)
    raw = sorted(f["p_value"] for f in result.features)
    assert adjusted[0] == pytest.approx(min(1.0, 3 * raw[0]), rel=1e-12)
    assert check_drift(baseline, cur, correction="bh").model["correction"] == "bh"
    with pytest.raises(ValueError, match="unknown correction"):
        check_drift(baseline, cur, correction="sidak")


def test_numpy_lists_and_nulls_are_read() -> None:
    x = np.arange(100, dtype=np.float64)
    ref = {"x": x, "c": ["a", "b"] * 50, "i": list(range(100))}
    baseline = Baseline.fit(ref)
    assert [f["kind"] for f in baseline.schema] == ["numeric", "categorical", "numeric"]
    cur = {"x": np.where(x < 10, np.nan, x), "c": ["a", None] * 50, "i": np.arange(100)}
    r = check_drift(baseline, cur)
    q = r.quality
    assert q["null_rates"] == {"c": 0.5, "i": 0.0, "x": 0.1}
    # Categorical columns given as text with a number in them count a schema violation.
    r = check_drift(baseline, {"c": ["a", 3] + ["b"] * 98})
    assert r.quality["schema_violations"] == 100  # x and i are missing: every row
    assert len(r.features) == 1


def test_saved_baselines_round_trip_and_merge() -> None:
    ref, cur = frames()
    whole = Baseline.fit(ref)
    again = Baseline.from_json(whole.to_json())
    assert again == whole
    a = check_drift(whole, cur).to_dict()
    b = check_drift(again, cur).to_dict()
    assert a == b
    parts = Baseline.fit(ref.iloc[:1000]).merge(Baseline.fit(ref.iloc[1000:]))
    assert len(parts) == 3
    # Merging keeps every value of the sorted samples and the category counts: the same
    # tests, statistics and p-values (PSI bins may differ: they are the merged sample's).
    def verdicts(r: DriftResult) -> list[tuple[str, float, float | None, bool]]:
        return [
            (f["feature_name"], f["drift_score"], f["p_value"], f["drifted"]) for f in r.features
        ]

    assert verdicts(check_drift(parts, cur)) == verdicts(check_drift(whole, cur))
    with pytest.raises(harper_edge.IntegrityError):
        Baseline.from_json(whole.to_json().replace('"count":2000', '"count":1', 1))


def test_methods_thresholds_and_schema_are_honoured() -> None:
    ref, cur = frames()
    b = Baseline.fit(ref, categorical=["plan"], bins=5)
    r = check_drift(b, cur, methods={"age": "psi"}, thresholds={"age": 10.0})
    age = next(f for f in r.features if f["feature_name"] == "age")
    assert age["drift_method"] == "psi" and age["threshold"] == 10.0 and not age["drifted"]
    assert age["drift_score"] == age["psi"]
    schema = [{"name": "age", "kind": "numeric", "range": [0, 42]}]
    only_age = Baseline.fit(ref, schema=schema)
    assert only_age.features == ["age"]
    q = check_drift(only_age, cur).quality
    assert q["range_violations"]["age"] == int((cur["age"] > 42).sum() + (cur["age"] < 0).sum())


def test_bad_input_raises_typed_errors() -> None:
    with pytest.raises(harper_edge.InvalidInputError, match="infinite|finite"):
        Baseline.fit({"x": np.array([1.0, math.inf])})
    with pytest.raises(TypeError, match="DataFrame"):
        Baseline.fit(42)
    with pytest.raises(ValueError, match="no column 'nope'"):
        Baseline.fit({"x": [1.0, 2.0]}, categorical=["nope"])
    b = Baseline.fit({"x": [1.0, 2.0, 3.0]})
    with pytest.raises(harper_edge.InvalidInputError, match="alpha"):
        check_drift(b, {"x": [1.0, 2.0]}, alpha=1.5)
    with pytest.raises(ValueError, match="unknown drift method"):
        check_drift(b, {"x": [1.0, 2.0]}, methods={"x": "magic"})
    with pytest.raises(TypeError, match="row 1"):
        check_drift(b, {"x": ["a", object()]})


def test_the_engine_checks_its_window_and_stores_rows(engine: harper_edge.Engine) -> None:
    rng = np.random.default_rng(3)
    rows = rng.uniform([4.5, 2.0, 1.0, 0.1], [7.5, 4.0, 6.0, 2.5], (300, 4)).astype(np.float32)
    for r in rows:
        p = engine.infer("iris:1", r[None, :])
        engine.feedback(p.inference_id, p.prediction)
    stored = engine.fit_baseline("iris:1")
    assert stored["accuracy"] == {"correct": 300, "total": 300}
    assert stored["prediction_features"] == ["confidence", "prediction"]
    assert engine.baseline("iris").features[:2] == ["confidence", "input[0]"]
    with pytest.raises(harper_edge.InvalidInputError, match="no successful call"):
        engine.check_drift("iris:1")
    shifted = rows.copy()
    shifted[:, 2] += 2.0
    for r in shifted:
        engine.infer("iris:1", r[None, :])
    result = engine.check_drift("iris:1")
    drifted = {f["feature_name"] for f in result.features if f["drifted"]}
    assert "input[2]" in drifted and "input[0]" not in drifted
    assert len(result.rows) == 6
    assert engine.drift_metrics("iris", drift_type="prediction")[0]["drift_type"] == "prediction"
    assert len(engine.drift_metrics("iris:1")) == 6
    assert engine.data_quality("iris")[0]["total_records"] == 300
    tables = {e["table"] for e in engine.outbox(0, 100_000)}
    assert {"DriftBaseline", "DriftMetrics", "DataQualityMetrics"} <= tables

    # Given data with labels: concept drift.
    b = Baseline.fit({"input[2]": rows[:, 2].astype(np.float64)})
    engine.set_baseline("iris:1", b, accuracy=(95, 100))
    r = engine.check_drift("iris:1", {"input[2]": shifted[:, 2].astype(np.float64)}, labels=(50, 100))
    assert r.concept is not None and r.concept["drifted"]
    assert r.rows[-1]["drift_type"] == "concept"
    with pytest.raises(harper_edge.NotFoundError):
        engine.check_drift("other:1", {"x": [1.0]})
    with pytest.raises(ValueError, match="drift_type"):
        engine.drift_metrics("iris", drift_type="bogus")  # type: ignore[arg-type]


def test_numbers_can_be_categories() -> None:
    b = Baseline.fit({"zip": [10115, 10117, 20095] * 20}, categorical=["zip"])
    assert b.schema == [{"name": "zip", "kind": "categorical"}]
    r = check_drift(b, {"zip": np.array([10115.0] * 50 + [99999.0] * 10)})
    (f,) = r.features
    assert f["drift_method"] == "chi2" and f["drifted"]
    assert r.quality["unknown_categories"] == {"zip": 10}
    assert f["current_summary"]["counts"] == {"10115": 50, "99999": 10}


def test_the_drift_window_size_is_a_setting() -> None:
    with pytest.raises(harper_edge.InvalidInputError, match="drift_sample_size"):
        harper_edge.Engine.in_memory(drift_sample_size=0)
    e = harper_edge.Engine.in_memory(drift_sample_size=5, tick_interval=None)
    e.register_model("iris", "1", harper_edge_iris())
    rows = np.random.default_rng(1).uniform(1, 7, (40, 4)).astype(np.float32)
    e.set_baseline("iris:1", Baseline.fit({"input[0]": rows[:, 0].astype(np.float64)}))
    for r in rows:
        e.infer("iris:1", r[None, :])
    window = e.check_drift("iris:1").to_dict()["window"]
    assert (window["calls"], window["sampled"]) == (40, 5)


def harper_edge_iris() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[2] / "tests" / "data" / "iris_logreg.onnx")

"""Check a batch of data for drift against a saved baseline, then let the engine check its
own recent calls."""

from pathlib import Path

import numpy as np
import pandas as pd

import harper_edge

MODEL = Path(__file__).resolve().parents[2] / "tests" / "data" / "iris_logreg.onnx"
rng = np.random.default_rng(7)
reference = pd.DataFrame(
    {
        "age": rng.normal(40, 10, 5_000),
        "plan": rng.choice(["free", "pro", "team"], 5_000, p=[0.6, 0.3, 0.1]),
    }
)
baseline = harper_edge.Baseline.fit(reference)  # numeric -> KS, categorical -> chi-square
saved = baseline.to_json()  # keep it: no need to ship the reference data again

current = pd.DataFrame(
    {
        "age": rng.normal(44, 10, 2_000),  # older customers
        "plan": rng.choice(["free", "pro", "team"], 2_000, p=[0.6, 0.3, 0.1]),
    }
)
result = harper_edge.check_drift(harper_edge.Baseline.from_json(saved), current)
print(result.to_pandas()[["feature_name", "drift_method", "drift_score", "p_value", "drifted"]])
age = next(f for f in result.features if f["feature_name"] == "age")
assert age["drifted"] and age["p_value"] < 1e-10
assert result.drifted_count == 1 and result.quality["total_records"] == 2_000

# The engine samples the calls of every model version with a baseline and checks them.
engine = harper_edge.Engine.in_memory()
engine.register_model("iris", "1", MODEL)
rows = rng.uniform([4.5, 2.0, 1.0, 0.1], [7.5, 4.0, 6.0, 2.5], (500, 4)).astype(np.float32)
for r in rows:
    engine.infer("iris:1", r[None, :])
engine.fit_baseline("iris:1")  # from the calls stored so far
for r in rows:
    engine.infer("iris:1", (r + [0, 0, 2, 0]).astype(np.float32)[None, :])  # longer petals
check = engine.check_drift("iris:1")  # the calls since the baseline; rows stored
print([f["feature_name"] for f in check.features if f["drifted"]])
assert "input[2]" in {f["feature_name"] for f in check.features if f["drifted"]}
assert len(engine.drift_metrics("iris")) == len(check.rows)

"""Benchmark equivalent models: two iris classifiers in one equivalence group, compared on the
same rows (latency percentiles, throughput, agreement with the reference, a winner), then the
stored history."""

import tempfile
from pathlib import Path

import numpy as np

import harper_edge

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"

with tempfile.TemporaryDirectory() as home:
    engine = harper_edge.Engine.open(home, tick_interval=None)
    # Models are equivalent when their metadata names the same taskType and equivalenceGroup.
    group = {"taskType": "classification", "equivalenceGroup": "iris", "outputDimensions": [3]}
    engine.register_model("iris-logreg", "1", DATA / "iris_logreg.onnx",
                          metadata={**group, "benchmarkReference": True})
    engine.register_model("iris-forest", "1", DATA / "sklearn_forest_classifier.onnx", metadata=group)

    rows = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]], dtype=np.float32)
    result = engine.benchmark(
        "iris",
        batch_sizes=[1, 16],
        concurrency=[1, 2],
        iterations=100,
        inputs=rows,
        progress=lambda p: None,  # e.g. drive a progress bar from p["done"] / p["total"]
    )
    print(harper_edge.benchmark_markdown(result))

    forest = next(r for r in result["results"] if r["modelId"] == "iris-forest:1")
    agreement = forest["agreement"]  # None only for the reference
    assert agreement is not None
    print(f"forest vs logistic regression: {agreement['labelAgreement']:.0%} of labels agree")
    print(f"winner: {result['winner']} ({result['winnerRule']})")
    assert result["referenceModel"] == "iris-logreg:1"
    assert all(r["errorCount"] == 0 for r in result["results"])

    # Stored: the history lists it.
    assert engine.benchmark_history("iris")[0]["id"] == result["id"]

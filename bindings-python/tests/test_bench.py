"""``Engine.benchmark`` from Python: the committed iris classifier on tract and ONNX Runtime
and a random forest in one equivalence group; agreement, the winner rule, progress, the
stored history, Markdown and typed errors. Statistics and rules are checked, never timings."""

import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest

import harper_edge
from conftest import DATA, IRIS

GROUP = {"taskType": "classification", "equivalenceGroup": "iris", "outputDimensions": [3]}


@pytest.fixture
def group_engine() -> harper_edge.Engine:
    e = harper_edge.Engine.in_memory()
    e.register_model("iris", "tract", IRIS, metadata={**GROUP, "backend": "tract", "benchmarkReference": True})
    e.register_model("iris", "ort", IRIS, metadata={**GROUP, "backend": "ort"})
    e.register_model("forest", "1", DATA / "sklearn_forest_classifier.onnx", metadata=GROUP)
    return e


def test_a_group_is_benchmarked_compared_and_stored(
    group_engine: harper_edge.Engine, reference: dict[str, Any]
) -> None:
    groups = group_engine.benchmark_groups()
    assert [(g["equivalenceGroup"], g["problem"]) for g in groups] == [("iris", None)]
    assert groups[0]["modelIds"] == ["forest:1", "iris:ort", "iris:tract"]

    seen: list[harper_edge.BenchmarkProgress] = []
    result = group_engine.benchmark(
        "iris",
        batch_sizes=[1, 8],
        concurrency=[1, 2],
        iterations=10,
        warmup=2,
        inputs=reference["inputs"],  # a float32 numpy array of 18 rows
        run_by="pytest",
        progress=seen.append,
    )
    assert result["referenceModel"] == "iris:tract" == result["modelIds"][0]
    assert result["testDataSummary"] == {"kind": "rows", "source": "given", "count": 18, "width": 4}
    assert result["runBy"] == "pytest"
    by_id = {r["modelId"]: r for r in result["results"]}
    ort = by_id["iris:ort"]
    assert ort["backend"] == "ort"
    agreement = ort["agreement"]
    assert agreement is not None
    assert agreement["metric"] == "labels"
    assert agreement["labelAgreement"] == 1.0
    assert (agreement["maxAbsDiff"] or 0.0) < 1e-5
    for r in result["results"]:
        assert len(r["cells"]) == 4
        for cell in r["cells"]:
            lat = cell["latency"]
            assert lat is not None
            assert lat["count"] + cell["errors"] == cell["calls"] == 10
            assert lat["minUs"] <= lat["p50Us"] <= lat["p95Us"] <= lat["p99Us"] <= lat["maxUs"]
            assert cell["throughputPerSec"] > 0
    # The winner rule, checked on the returned figures.
    qualified = [r for r in result["results"] if r["agrees"] and r["errorCount"] == 0]
    def first_cell(r: harper_edge.ModelBenchmark) -> tuple[float, float]:
        assert r["latency"] is not None
        return (r["latency"]["p50Us"], r["latency"]["meanUs"])

    best = min(qualified, key=first_cell)
    assert result["winner"] == best["modelId"]

    # Progress: from load to done for each model, ending at the total.
    assert seen[0]["phase"] == "load" and seen[-1]["phase"] == "done"
    assert seen[-1]["done"] == seen[-1]["total"] == 3 * (1 + 4 * (2 + 10))
    assert {p["phase"] for p in seen} >= {"load", "agreement", "warmup", "measure", "done"}

    assert group_engine.benchmark_result(result["id"]) == result
    assert [r["id"] for r in group_engine.benchmark_history("iris")] == [result["id"]]
    assert group_engine.benchmark_history("other") == []
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    assert group_engine.benchmark_history(start=later) == []
    md = harper_edge.benchmark_markdown(result)
    assert "`iris:ort`" in md and "Winner" in md and "| model | batch | concurrency |" in md


def test_the_gil_is_released_while_it_runs(group_engine: harper_edge.Engine) -> None:
    ticks = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            stop.wait(0.001)

    t = threading.Thread(target=count)
    t.start()
    try:
        group_engine.benchmark("iris", iterations=2000, warmup=0, persist=False)
    finally:
        stop.set()
        t.join()
    assert ticks > 10


def test_texts_and_rows_and_bad_arguments(group_engine: harper_edge.Engine) -> None:
    with pytest.raises(harper_edge.InvalidInputError, match="does not take text"):
        group_engine.benchmark("iris", inputs=["a text"], iterations=1)
    with pytest.raises(harper_edge.InvalidInputError, match="dimension mismatch"):
        group_engine.benchmark("iris", inputs=[[1.0, 2.0]], iterations=1)
    with pytest.raises(harper_edge.InvalidInputError, match="batch sizes"):
        group_engine.benchmark("iris", batch_sizes=[0])
    with pytest.raises(harper_edge.InvalidInputError, match="at least one iteration"):
        group_engine.benchmark("iris", iterations=0)
    with pytest.raises(harper_edge.NotFoundError, match="nope"):
        group_engine.benchmark("nope")
    with pytest.raises(harper_edge.NotFoundError):
        group_engine.benchmark_result("bench-missing")
    with pytest.raises(TypeError):
        group_engine.benchmark("iris", progress=3)  # type: ignore[arg-type]

    def boom(_: harper_edge.BenchmarkProgress) -> None:
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        group_engine.benchmark("iris", iterations=2, persist=False, progress=boom)
    with pytest.raises(harper_edge.InvalidInputError, match="not a benchmark result"):
        harper_edge.benchmark_markdown({"id": "x"})  # type: ignore[typeddict-item]


def test_a_group_needs_equal_declared_dimensions() -> None:
    e = harper_edge.Engine.in_memory()
    e.register_model("a", "1", IRIS, metadata={**GROUP, "outputDimensions": [3]})
    e.register_model("b", "1", IRIS, metadata={**GROUP, "outputDimensions": [4]})
    [group] = e.benchmark_groups()
    assert "dimension mismatch" in (group["problem"] or "")
    with pytest.raises(harper_edge.InvalidInputError, match="dimension mismatch"):
        e.benchmark("iris")
    assert e.benchmark_history() == []
    rows = np.zeros((2, 4), dtype=np.float64)
    e.register_model("c", "1", IRIS, metadata={"taskType": "classification", "equivalenceGroup": "other"})
    e.register_model("d", "1", IRIS, metadata={"taskType": "classification", "equivalenceGroup": "other"})
    result = e.benchmark("other", inputs=rows, iterations=2, warmup=0)
    agreement = result["results"][1]["agreement"]
    assert agreement is not None and agreement["maxAbsDiff"] == 0.0

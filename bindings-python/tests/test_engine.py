"""Inference through the binding against the committed reference, and numpy input rules."""

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

import harper_edge
from conftest import IRIS


def assert_matches_reference(
    p: harper_edge.Prediction, labels: np.ndarray, probs: np.ndarray, tol: float
) -> None:
    out = p.outputs
    assert set(out) == {"label", "probabilities"}
    assert out["label"].dtype == np.int64
    assert out["probabilities"].dtype == np.float32
    assert out["label"].shape == labels.shape
    assert out["probabilities"].shape == probs.shape
    np.testing.assert_array_equal(out["label"], labels)
    np.testing.assert_allclose(out["probabilities"], probs, rtol=0, atol=tol)


def test_batch_equals_reference(engine: harper_edge.Engine, reference: dict[str, Any]) -> None:
    x = reference["inputs"]
    assert x.flags.c_contiguous and x.dtype == np.float32
    p = engine.infer("iris:1", x)
    assert_matches_reference(p, reference["labels"], reference["probabilities"], reference["tolerance"])
    assert p.prediction == reference["labels"].tolist()
    assert p.confidence == pytest.approx(reference["probabilities"].max(axis=1).mean(), abs=1e-5)
    assert (p.model_name, p.model_version) == ("iris", "1")
    assert p.latency_ms > 0


def test_each_row_equals_reference(engine: harper_edge.Engine, reference: dict[str, Any]) -> None:
    tol = reference["tolerance"]
    for i, row in enumerate(reference["inputs"]):
        p = engine.infer("iris", row.reshape(1, 4))
        assert_matches_reference(
            p, reference["labels"][i : i + 1], reference["probabilities"][i : i + 1], tol
        )
        assert p.prediction == int(reference["labels"][i])
        assert p.confidence == pytest.approx(float(reference["probabilities"][i].max()), abs=tol)


def test_dict_input_by_name(engine: harper_edge.Engine, reference: dict[str, Any]) -> None:
    p = engine.infer("iris", {reference["inputName"]: reference["inputs"][:3]})
    np.testing.assert_array_equal(p.outputs["label"], reference["labels"][:3])
    with pytest.raises(harper_edge.InvalidInputError, match="no input 'Y'"):
        engine.infer("iris", {"Y": reference["inputs"][:3]})


def test_read_only_array_is_accepted(engine: harper_edge.Engine, reference: dict[str, Any]) -> None:
    x = reference["inputs"].copy()
    x.flags.writeable = False
    p = engine.infer("iris", x)
    np.testing.assert_array_equal(p.outputs["label"], reference["labels"])


@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(lambda x: x.astype(np.float64), id="float64"),
        pytest.param(lambda x: np.asfortranarray(x), id="fortran-order"),
        pytest.param(lambda x: np.repeat(x, 2, axis=0)[::2], id="strided"),
        pytest.param(lambda x: x.tolist(), id="list"),
    ],
)
def test_other_arrays_need_allow_copy(
    engine: harper_edge.Engine, reference: dict[str, Any], convert: Any
) -> None:
    x = convert(reference["inputs"])
    with pytest.raises(TypeError, match="allow_copy=True"):
        engine.infer("iris", x)
    p = engine.infer("iris", x, allow_copy=True)
    np.testing.assert_array_equal(p.outputs["label"], reference["labels"])
    np.testing.assert_allclose(
        p.outputs["probabilities"], reference["probabilities"], atol=reference["tolerance"]
    )


def test_int64_input_reaches_the_model_unconverted(
    engine: harper_edge.Engine, reference: dict[str, Any]
) -> None:
    x = reference["inputs"].astype(np.int64)
    with pytest.raises(harper_edge.ShapeError, match="expected dtype f32, got i64"):
        engine.infer("iris", x)
    # A copy keeps int64 int64 (only other dtypes become float32).
    strided = np.repeat(x, 2, axis=0)[::2]
    with pytest.raises(TypeError, match="non-contiguous int64"):
        engine.infer("iris", strided)
    with pytest.raises(harper_edge.ShapeError, match="got i64"):
        engine.infer("iris", strided, allow_copy=True)


def test_concurrent_inference_from_threads(
    engine: harper_edge.Engine, reference: dict[str, Any]
) -> None:
    inputs, labels = reference["inputs"], reference["labels"]
    n_threads, calls = 8, 25
    start = threading.Barrier(n_threads)

    def worker(t: int) -> list[tuple[int, int, Any]]:
        start.wait()
        results = []
        for c in range(calls):
            i = (t * calls + c) % len(inputs)
            p = engine.infer("iris:1", inputs[i : i + 1], user_id=f"thread-{t}")
            results.append((i, p.prediction, p.outputs["probabilities"]))
        return results

    with ThreadPoolExecutor(n_threads) as pool:
        all_results = [r for rs in pool.map(worker, range(n_threads)) for r in rs]

    assert len(all_results) == n_threads * calls
    for i, label, probs in all_results:
        assert label == labels[i]
        np.testing.assert_allclose(probs[0], reference["probabilities"][i], atol=reference["tolerance"])
    events = engine.events(limit=10_000)
    assert len(events) == n_threads * calls
    assert {e.user_id for e in events} == {f"thread-{t}" for t in range(n_threads)}


def test_models_and_model_lookup(engine: harper_edge.Engine) -> None:
    m = engine.model("iris")
    assert (m.id, m.model_name, m.model_version) == ("iris:1", "iris", "1")
    assert (m.framework, m.stage) == ("onnx", "candidate")
    assert m.blob_size == IRIS.stat().st_size
    assert len(m.sha256) == 64
    assert m.input_schema == [{"name": "X", "dtype": "f32", "shape": [None, 4]}]
    assert [o["name"] for o in m.output_schema] == ["label", "probabilities"]
    assert m.metadata == {"taskType": "classification"}
    assert isinstance(m.uploaded_at, int) and m.uploaded_at > 1_577_836_800_000
    m2 = engine.register_model("iris", "2", str(IRIS), stage="staging")
    assert m2.stage == "staging"
    assert [x.id for x in engine.models()] == ["iris:1", "iris:2"]
    assert engine.model("iris").id == "iris:2"
    assert engine.model("iris:1").id == "iris:1"
    assert "iris:1" in repr(m)
    # The same file again returns the existing record.
    assert engine.register_model("iris", "1", IRIS).sha256 == m.sha256


def test_records_are_read_only(engine: harper_edge.Engine) -> None:
    m = engine.model("iris")
    with pytest.raises(AttributeError):
        m.stage = "production"  # type: ignore[misc]

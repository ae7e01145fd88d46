"""The ort backend from Python: ONNX Runtime comes from this interpreter's onnxruntime
package (installed by the test requirements), found at import, not downloaded."""

from typing import Any

import numpy as np
import pytest

import harper_edge
from conftest import IRIS


def test_ort_and_tract_give_the_reference(reference: dict[str, Any]) -> None:
    import importlib.util

    if importlib.util.find_spec("onnxruntime") is None:
        pytest.fail("the test requirements install onnxruntime; it is missing")
    engine = harper_edge.Engine.in_memory()
    engine.register_model("iris", "ort", IRIS, metadata={"backend": "ort"})
    engine.register_model("iris", "tract", IRIS, metadata={"backend": "tract"})
    x = reference["inputs"]
    on_ort = engine.infer("iris:ort", x).outputs
    on_tract = engine.infer("iris:tract", x).outputs
    np.testing.assert_array_equal(on_ort["label"], reference["labels"])
    np.testing.assert_allclose(on_ort["probabilities"], reference["probabilities"], atol=reference["tolerance"])
    np.testing.assert_allclose(on_ort["probabilities"], on_tract["probabilities"], atol=1e-5)
    # The library was chosen once, at import: a second choice is refused.
    assert harper_edge.use_onnxruntime("/nowhere/libonnxruntime.so") is False


def test_a_backend_that_does_not_run_the_framework_is_refused() -> None:
    engine = harper_edge.Engine.in_memory()
    with pytest.raises(harper_edge.InvalidInputError, match="does not run onnx"):
        engine.register_model("iris", "x", IRIS, metadata={"backend": "ollama"})

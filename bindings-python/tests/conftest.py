import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import harper_edge

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
IRIS = DATA / "iris_logreg.onnx"


@pytest.fixture(scope="session")
def reference() -> dict[str, Any]:
    """The committed scikit-learn/onnxruntime reference outputs of the iris model."""
    with open(DATA / "iris_logreg.reference.json", encoding="utf-8") as f:
        ref: dict[str, Any] = json.load(f)
    ref["inputs"] = np.asarray(ref["inputs"], dtype=np.float32)
    ref["labels"] = np.asarray(ref["labels"], dtype=np.int64)
    ref["probabilities"] = np.asarray(ref["probabilities"], dtype=np.float32)
    return ref


@pytest.fixture
def engine() -> harper_edge.Engine:
    """An in-memory engine with the iris model registered as iris:1."""
    e = harper_edge.Engine.in_memory()
    e.register_model("iris", "1", IRIS, metadata={"taskType": "classification"})
    return e

"""Core errors arrive as one typed exception class per kind, each with its stable code."""

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import harper_edge
from conftest import IRIS

KINDS = {
    "InvalidInputError": "HARPER_EDGE_INVALID_INPUT",
    "ShapeError": "HARPER_EDGE_SHAPE",
    "ModelLoadError": "HARPER_EDGE_MODEL_LOAD",
    "BackendNotCompiledError": "HARPER_EDGE_BACKEND_NOT_COMPILED",
    "BackendError": "HARPER_EDGE_BACKEND",
    "NotFoundError": "HARPER_EDGE_NOT_FOUND",
    "ConflictError": "HARPER_EDGE_CONFLICT",
    "InvalidTransitionError": "HARPER_EDGE_INVALID_TRANSITION",
    "IoError": "HARPER_EDGE_IO",
    "NetworkError": "HARPER_EDGE_NETWORK",
    "IntegrityError": "HARPER_EDGE_INTEGRITY",
    "CapacityError": "HARPER_EDGE_CAPACITY",
    "StorageError": "HARPER_EDGE_STORAGE",
    "InternalError": "HARPER_EDGE_INTERNAL",
}


@pytest.mark.parametrize(("name", "code"), KINDS.items())
def test_every_kind_has_its_class_and_code(name: str, code: str) -> None:
    cls = getattr(harper_edge, name)
    assert cls.__name__ == name
    assert cls.__module__ == "harper_edge"
    assert issubclass(cls, harper_edge.HarperEdgeError)
    assert issubclass(harper_edge.HarperEdgeError, Exception)
    assert cls.code == code


def test_unknown_model_is_not_found(engine: harper_edge.Engine) -> None:
    x = np.zeros((1, 4), dtype=np.float32)
    with pytest.raises(harper_edge.NotFoundError) as info:
        engine.infer("nope", x)
    assert info.value.code == "HARPER_EDGE_NOT_FOUND"
    assert str(info.value) == "model 'nope' not found"
    assert isinstance(info.value, harper_edge.HarperEdgeError)
    with pytest.raises(harper_edge.NotFoundError):
        engine.model("iris:9")
    with pytest.raises(harper_edge.NotFoundError, match="inference event 'x' not found"):
        engine.event("x")


def test_wrong_shape_is_shape_error(engine: harper_edge.Engine) -> None:
    x = np.zeros((2, 3), dtype=np.float32)
    with pytest.raises(harper_edge.ShapeError) as info:
        engine.infer("iris", x)
    assert info.value.code == "HARPER_EDGE_SHAPE"
    assert "expected shape [?, 4], got [2, 3]" in str(info.value)
    # The failed call is recorded with its error.
    [event] = engine.events()
    assert event.error is not None and "[2, 3]" in event.error
    assert event.prediction is None
    with pytest.raises(harper_edge.InvalidInputError, match="failed"):
        engine.feedback(event.id, 1)


def test_corrupt_model_is_model_load_error(engine: harper_edge.Engine, tmp_path: Path) -> None:
    bad = tmp_path / "garbage.onnx"
    bad.write_bytes(b"\x08\x07this is not an onnx model\xff\xfe" * 10)
    with pytest.raises(harper_edge.ModelLoadError) as info:
        engine.register_model("broken", "1", bad)
    assert info.value.code == "HARPER_EDGE_MODEL_LOAD"
    assert "broken:1" in str(info.value)
    assert [m.id for m in engine.models()] == ["iris:1"]


def test_same_version_with_another_file_is_conflict(
    engine: harper_edge.Engine, tmp_path: Path
) -> None:
    other = tmp_path / "other.onnx"
    other.write_bytes(IRIS.read_bytes() + b"\x00")
    with pytest.raises(harper_edge.ConflictError) as info:
        engine.register_model("iris", "1", other)
    assert info.value.code == "HARPER_EDGE_CONFLICT"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": "bad name"}, harper_edge.InvalidInputError, "model name 'bad name' is invalid"),
        ({"stage": "live"}, harper_edge.InvalidInputError, "unknown stage 'live'"),
        ({"framework": "pickle"}, harper_edge.InvalidInputError, "pickle"),
        ({"path": "/nonexistent/model.onnx"}, harper_edge.IoError, "/nonexistent/model.onnx"),
        ({"metadata": {"k": object()}}, TypeError, "cannot store a object as JSON"),
    ],
)
def test_registration_errors(
    engine: harper_edge.Engine, kwargs: dict[str, Any], error: type, match: str
) -> None:
    args: dict[str, Any] = {"name": "m", "version": "1", "path": IRIS} | kwargs
    with pytest.raises(error, match=match):
        engine.register_model(**args)


def test_feedback_errors(engine: harper_edge.Engine) -> None:
    p = engine.infer("iris", np.zeros((1, 4), dtype=np.float32))
    with pytest.raises(harper_edge.InvalidInputError, match="must not be null") as info:
        engine.feedback(p.inference_id, None)
    assert info.value.code == "HARPER_EDGE_INVALID_INPUT"
    with pytest.raises(ValueError, match="NaN or infinite"):
        engine.feedback(p.inference_id, float("nan"))
    with pytest.raises(ValueError, match="64 bits"):
        engine.feedback(p.inference_id, 2**70)
    with pytest.raises(harper_edge.NotFoundError):
        engine.feedback("no-such-id", 1)


def test_store_in_a_file_is_io_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(harper_edge.HarperEdgeError) as info:
        harper_edge.Engine.open(tmp_path / "file")
    assert type(info.value) in (harper_edge.IoError, harper_edge.StorageError)
    assert info.value.code in ("HARPER_EDGE_IO", "HARPER_EDGE_STORAGE")


def test_the_base_class_keeps_its_own_code() -> None:
    # Every core kind has a class of its own (the import fails otherwise), so none of them
    # overwrote the base's code.
    assert harper_edge.HarperEdgeError.code == "HARPER_EDGE_ERROR"
    assert all(getattr(harper_edge, name) is not harper_edge.HarperEdgeError for name in KINDS)

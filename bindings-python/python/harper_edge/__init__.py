"""harper-edge: an embeddable MLOps engine.

Register ONNX models, run them on numpy arrays, and keep every call as an
``InferenceEvent`` (with the ground truth given later by ``Engine.feedback``) in an
embedded SQLite store, with a real-time view (``Engine.realtime``) and 5-minute, hourly
and daily rollups (``Engine.metrics``).
"""

from harper_edge._native import (
    BackendError,
    BackendNotCompiledError,
    CapacityError,
    ConflictError,
    Engine,
    HarperEdgeError,
    InferenceEvent,
    IntegrityError,
    InternalError,
    InvalidInputError,
    InvalidTransitionError,
    IoError,
    Model,
    ModelLoadError,
    NetworkError,
    NotFoundError,
    Prediction,
    ShapeError,
    StorageError,
    __version__,
)
from harper_edge._types import ModelMetrics, RealtimeMetrics

__all__ = [
    "BackendError",
    "BackendNotCompiledError",
    "CapacityError",
    "ConflictError",
    "Engine",
    "HarperEdgeError",
    "InferenceEvent",
    "IntegrityError",
    "InternalError",
    "InvalidInputError",
    "InvalidTransitionError",
    "IoError",
    "Model",
    "ModelLoadError",
    "ModelMetrics",
    "NetworkError",
    "NotFoundError",
    "Prediction",
    "RealtimeMetrics",
    "ShapeError",
    "StorageError",
    "__version__",
]

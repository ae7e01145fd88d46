"""harper-edge: an embeddable MLOps engine.

Register ONNX models, run them on numpy arrays, and keep every call as an
``InferenceEvent`` (with the ground truth given later by ``Engine.feedback``) in an
embedded SQLite store, with a real-time view (``Engine.realtime``) and 5-minute, hourly
and daily rollups (``Engine.metrics``). Models the host runs itself are monitored the same
way through ``Engine.record_batch`` and ``Engine.record_event``. Drift: fit a
``Baseline`` from reference data and ``check_drift`` current data against it (KS,
chi-square, PSI, data quality), or let the engine check each model's recent calls
(``Engine.set_baseline`` / ``fit_baseline`` / ``check_drift``). ``Monitor`` schedules
those checks, evaluates alert rules and runs the retraining approval workflow.
"""

from harper_edge._native import (
    Adwin,
    BackendError,
    Baseline,
    BackendNotCompiledError,
    CapacityError,
    ConflictError,
    DriftResult,
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
    Monitor,
    NetworkError,
    NotFoundError,
    PageHinkley,
    Prediction,
    ShapeError,
    StorageError,
    __version__,
    check_drift,
    combine_metrics,
)
from harper_edge._types import (
    AlertDelivery,
    AlertEvent,
    AlertNotification,
    EventRecord,
    JobRun,
    ModelMetrics,
    RealtimeMetrics,
    RetrainingRequest,
    RuleStatus,
    SafetyCheck,
    TelemetryStats,
    TickReport,
)

__all__ = [
    "Adwin",
    "AlertDelivery",
    "AlertEvent",
    "AlertNotification",
    "BackendError",
    "Baseline",
    "BackendNotCompiledError",
    "CapacityError",
    "ConflictError",
    "DriftResult",
    "Engine",
    "EventRecord",
    "HarperEdgeError",
    "InferenceEvent",
    "IntegrityError",
    "InternalError",
    "InvalidInputError",
    "InvalidTransitionError",
    "IoError",
    "JobRun",
    "Model",
    "ModelLoadError",
    "ModelMetrics",
    "Monitor",
    "NetworkError",
    "NotFoundError",
    "PageHinkley",
    "Prediction",
    "RealtimeMetrics",
    "RetrainingRequest",
    "RuleStatus",
    "SafetyCheck",
    "ShapeError",
    "StorageError",
    "TelemetryStats",
    "TickReport",
    "__version__",
    "check_drift",
    "combine_metrics",
]

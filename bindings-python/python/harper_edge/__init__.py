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
Models come from files (``Engine.register_model``) or are fetched, with provenance, from a
URL, a directory or the Hugging Face Hub (``Engine.fetch_model``, ``inspect_source``), one
by one or as a profile (``Engine.deploy_profile``, ``validate_profile``). Models a local
Ollama daemon serves (``Engine.register_ollama``) embed texts (``Engine.embed``) and answer
prompts, streamed (``Engine.chat``, ``Engine.generate``), recorded like any inference.
"""

from harper_edge._native import (
    use_onnxruntime,
    Adwin,
    BackendError,
    Baseline,
    BackendNotCompiledError,
    CapacityError,
    benchmark_markdown,
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
    SegmentedBaseline,
    SegmentedDriftResult,
    ShapeError,
    StorageError,
    __version__,
    check_drift,
    check_drift_segments,
    combine_metrics,
    inspect_source,
    validate_profile,
)
from harper_edge._types import (
    AlertDelivery,
    BenchmarkAgreement,
    BenchmarkCell,
    BenchmarkGroup,
    BenchmarkProgress,
    BenchmarkResult,
    BenchmarkThresholds,
    LatencyStats,
    ModelBenchmark,
    AlertEvent,
    AlertNotification,
    ChatMessage,
    DeployEntry,
    DeployReport,
    EventRecord,
    FetchJob,
    FetchJobError,
    FetchJobResult,
    FileRecord,
    GenerateResult,
    InspectedFile,
    Inspection,
    JobRun,
    ModelMetrics,
    ProfileProblem,
    ProfileSummary,
    Provenance,
    RealtimeMetrics,
    RetrainingRequest,
    RuleStatus,
    SafetyCheck,
    TelemetryStats,
    TickReport,
)

__all__ = [
    "use_onnxruntime",
    "Adwin",
    "AlertDelivery",
    "AlertEvent",
    "AlertNotification",
    "BackendError",
    "BackendNotCompiledError",
    "Baseline",
    "BenchmarkAgreement",
    "BenchmarkCell",
    "BenchmarkGroup",
    "BenchmarkProgress",
    "BenchmarkResult",
    "BenchmarkThresholds",
    "CapacityError",
    "ChatMessage",
    "ConflictError",
    "DeployEntry",
    "DeployReport",
    "DriftResult",
    "Engine",
    "EventRecord",
    "FetchJob",
    "FetchJobError",
    "FetchJobResult",
    "FileRecord",
    "GenerateResult",
    "HarperEdgeError",
    "InferenceEvent",
    "InspectedFile",
    "Inspection",
    "IntegrityError",
    "InternalError",
    "InvalidInputError",
    "InvalidTransitionError",
    "IoError",
    "JobRun",
    "LatencyStats",
    "Model",
    "ModelLoadError",
    "ModelBenchmark",
    "ModelMetrics",
    "Monitor",
    "NetworkError",
    "NotFoundError",
    "PageHinkley",
    "Prediction",
    "ProfileProblem",
    "ProfileSummary",
    "Provenance",
    "RealtimeMetrics",
    "RetrainingRequest",
    "RuleStatus",
    "SafetyCheck",
    "SegmentedBaseline",
    "SegmentedDriftResult",
    "ShapeError",
    "StorageError",
    "TelemetryStats",
    "TickReport",
    "__version__",
    "benchmark_markdown",
    "check_drift",
    "check_drift_segments",
    "combine_metrics",
    "inspect_source",
    "validate_profile",
]


def _use_installed_onnxruntime() -> None:
    """Point the ort backend at this interpreter's ``onnxruntime`` package, if installed.

    The package is located, not imported. ``ORT_DYLIB_PATH``, when set, wins.
    """
    import glob
    import importlib.util
    import os

    if os.environ.get("ORT_DYLIB_PATH"):
        return
    try:
        spec = importlib.util.find_spec("onnxruntime")
    except (ImportError, ValueError):
        return
    for root in (spec.submodule_search_locations or []) if spec else []:
        capi = os.path.join(root, "capi")
        found = glob.glob(os.path.join(capi, "libonnxruntime.so*"))
        found += glob.glob(os.path.join(capi, "libonnxruntime*.dylib"))
        found += glob.glob(os.path.join(capi, "onnxruntime.dll"))
        found = [f for f in found if "providers" not in os.path.basename(f)]
        if found:
            # The versioned file is the real library; the bare name may be a link.
            use_onnxruntime(max(found, key=len))
            return


_use_installed_onnxruntime()

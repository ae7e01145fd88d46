"""Typed shapes of the plain dicts ``harper_edge`` returns (importable at run time, for
annotations and ``isinstance``-free static checks)."""

from datetime import datetime
from typing import Any, Literal, TypedDict


class RealtimeMetrics(TypedDict):
    """The real-time view of a model version (``Engine.realtime``): the last five minutes of
    calls and feedback. Fields without data are ``None``; times are integer milliseconds since
    the Unix epoch, latencies milliseconds."""

    window_start: int
    """Start of the window (inclusive)."""
    window_end: int
    """End of the window (exclusive): the end of the current 10-second slot."""
    request_count: int
    """Calls in the window, failed ones included."""
    error_count: int
    """Failed calls in the window."""
    error_rate: float
    """``error_count / request_count`` (0 without calls)."""
    throughput_per_second: float
    """``request_count`` divided by the window's length in seconds."""
    avg_latency: float | None
    """Mean latency."""
    p50_latency: float | None
    """Median latency (within the sketch's relative accuracy, as are p95 and p99)."""
    p95_latency: float | None
    """95th percentile latency."""
    p99_latency: float | None
    """99th percentile latency."""
    max_latency: float | None
    """Largest latency (exact)."""
    avg_confidence: float | None
    """Mean confidence of the calls that reported one."""
    labelled_count: int
    """Calls in the window whose ground truth has arrived (``Engine.feedback``)."""
    accuracy: float | None
    """Share of the labelled calls that were correct, when any are labelled."""


class ModelMetrics(TypedDict):
    """One rollup row (``Engine.metrics``, ``Engine.tick``, ``Engine.flush``): the metrics of
    one model version over one 5-minute, hourly or daily period, with the original design's
    fields in snake_case. Times are integer milliseconds since the Unix epoch (UTC), latencies
    milliseconds."""

    id: str
    """``name:version:granularity:period_start``."""
    model_name: str
    """Model name."""
    model_version: str
    """Model version."""
    period_start: int
    """Start of the period (inclusive), aligned to its length in UTC."""
    period_end: int
    """End of the period (exclusive)."""
    granularity: str
    """``"5min"``, ``"hourly"`` or ``"daily"``."""
    request_count: int
    """Calls in the period, failed ones included."""
    avg_latency: float | None
    """Mean latency (exact); ``None`` only for a row without calls."""
    p50_latency: float | None
    """Median latency (within the sketch's relative accuracy, 1%, as are p95 and p99)."""
    p95_latency: float | None
    """95th percentile latency."""
    p99_latency: float | None
    """99th percentile latency."""
    max_latency: float | None
    """Largest latency (exact)."""
    error_rate: float
    """``error_count / request_count`` (0 without calls)."""
    error_count: int
    """Failed calls in the period."""
    throughput_per_second: float
    """``request_count`` divided by the period's length in seconds."""
    latency_sketch: dict[str, Any]
    """The latency sketch (DDSketch) the percentiles come from, in the core's serialised form
    (its keys are camelCase, as in the outbox record). Kept so that rows of the same period
    from several engines or nodes can be merged exactly; treat it as opaque."""


class TelemetryStats(TypedDict):
    """What an engine's telemetry has done so far (``Engine.telemetry_stats``), for
    monitoring the monitoring: nothing is dropped silently. Counts since the engine started.

    Metrics (``realtime``, ``metrics``) count every call; the ``events_*`` counts are about
    the raw events kept for ``events``, ``feedback`` and the store."""

    observations: int
    """Calls counted in the metrics by this engine."""
    events_buffered: int
    """Raw events waiting in memory for the next write."""
    event_capacity: int
    """The buffer's capacity (``event_capacity``, rounded up to a multiple of the buffer's
    lock shards)."""
    events_written: int
    """Raw events written to the store."""
    events_dropped: int
    """Raw events pushed out of a full buffer (``overflow="drop_oldest"``), or not put back
    after a failed write because the buffer had filled meanwhile."""
    events_rejected: int
    """Raw events refused by a full buffer (``overflow="reject"``)."""
    events_sampled_out: int
    """Raw events left out by ``sample_rate``."""
    events_duplicate: int
    """Raw events not written because their id was already stored."""
    events_expired: int
    """Stored events deleted by ``retention``."""
    late: int
    """Calls and labels that arrived after their real-time window slot had passed (they
    still count in their rollup period)."""
    flush_errors: int
    """Writes that failed (their events and rows were kept for the next one)."""
    last_flush_error: str | None
    """The message of the last failed write."""


class _EventRecordRequired(TypedDict):
    model_name: str
    """Model name."""
    model_version: str
    """Model version (it needs no registration)."""
    latency_ms: float
    """Wall time of the call in milliseconds: finite and >= 0."""


class EventRecord(_EventRecordRequired, total=False):
    """One call of a model the host runs itself, for ``Engine.record_event``: the attributes
    of ``InferenceEvent`` as keys. ``model_name``, ``model_version`` and ``latency_ms`` are
    required; a key left out or ``None`` takes its default (``None`` for the optional
    fields)."""

    id: str | None
    """The inference id (default: a new UUID); pass it to ``Engine.feedback`` later."""
    framework: str | None
    """``onnx`` (default), ``tensorflow``, ``transformers`` or ``ollama``."""
    request_id: str | None
    user_id: str | None
    session_id: str | None
    features_in: Any
    """The inputs, any JSON-like value (numpy arrays included)."""
    prediction: Any
    """The prediction, any JSON-like value; ``Engine.feedback`` compares the ground truth
    with it."""
    confidence: float | None
    """Confidence in ``[0, 1]`` (NaN: none)."""
    timestamp: int | datetime | None
    """When the call was made: epoch milliseconds or an aware ``datetime`` (default: now).
    A past time counts in its own real-time slot and rollup period."""
    error: str | None
    """The error message, when the call failed (failed calls are always kept)."""
    actual_outcome: Any
    """The ground truth, when already known."""
    correct: bool | None
    """Whether the prediction matched the ground truth."""
    feedback_timestamp: int | datetime | None
    """When the ground truth was recorded."""


class _AlertDeliveryRequired(TypedDict):
    channel: str
    """``"callback"`` or the webhook URL."""
    kind: str
    """``"fired"`` or ``"resolved"``."""
    delivered: bool
    """Whether it got through (a callback: every ``on_alert`` callable registered ran)."""
    attempts: int
    """Attempts made (callbacks called, for the ``callback`` channel)."""
    at: int
    """When, epoch milliseconds."""


class AlertDelivery(_AlertDeliveryRequired, total=False):
    """One delivery of an alert event to a channel (``AlertEvent["notifications"]``)."""

    error: str
    """Why it failed (present only when it did)."""


class AlertEvent(TypedDict):
    """An alert raised by a rule (``Monitor.alerts``, ``TickReport["fired"]``), the original
    design's ``AlertEvent`` fields in snake_case. Times are epoch milliseconds."""

    id: str
    rule_id: str
    rule_name: str
    model_name: str
    model_version: str
    timestamp: int
    """When it fired."""
    alert_type: str
    """``latency``, ``error_rate``, ``drift``, ``data_quality`` or ``accuracy``."""
    severity: str
    """``info``, ``warning`` or ``critical``."""
    condition: str
    """The condition as text, e.g. ``"p95Latency > 500ms"``."""
    actual_value: float | None
    """The metric's value when it fired (``None`` for a no-data alert)."""
    threshold: float
    message: str
    status: str
    """``firing`` or ``resolved``."""
    resolved_at: int | None
    acknowledged: bool
    acknowledged_by: str | None
    acknowledged_at: int | None
    retraining_request_id: str | None
    """The request a ``requestRetraining`` rule made with it."""
    notifications: list[AlertDelivery]


class AlertNotification(TypedDict):
    """What an ``on_alert`` callback receives."""

    kind: Literal["fired", "resolved"]
    alert: AlertEvent


class SafetyCheck(TypedDict):
    """One safety check a retraining request went through."""

    check: str
    """``no_pending_request``, ``min_days_between_retraining``, ``min_new_labeled_samples``
    or ``max_requests_per_window``."""
    passed: bool
    actual: float | None
    """The measured value (days, samples, requests)."""
    required: float
    """The configured limit."""
    message: str


class RetrainingRequest(TypedDict):
    """A retraining request (``Monitor.retraining_requests``), the original design's fields
    in snake_case. Times are epoch milliseconds."""

    id: str
    model_name: str
    model_version: str
    requested_at: int
    trigger_reason: str
    """``drift_detected``, ``error_rate_threshold``, ``alert_rule``, ``scheduled`` or
    ``manual``."""
    trigger_details: Any
    """Details of the trigger, free-form JSON as stored (its keys are not renamed)."""
    status: str
    """``pending_approval``, ``approved``, ``rejected``, ``completed`` or ``blocked``."""
    requested_by: str | None
    safety_checks: list[SafetyCheck]
    reviewed_by: str | None
    reviewed_at: int | None
    review_reason: str | None
    training_job_id: str | None
    """Set on approval."""
    completed_at: int | None


class JobRun(TypedDict):
    """One scheduled job run of a tick."""

    job: str
    """``hourly_aggregation``, ``daily_aggregation``, ``data_quality_check``,
    ``drift_check`` or ``scheduled_retraining``."""
    model_name: str | None
    model_version: str | None
    outcome: str
    """``ran``, ``skipped`` or ``failed``."""
    message: str | None
    missed: int
    """Runs skipped because the monitor was not ticked in time (not replayed)."""


class RuleStatus(TypedDict):
    """The last evaluation of a rule for one model version."""

    rule_id: str
    rule_name: str
    model_name: str
    model_version: str
    state: str
    """``ok``, ``firing``, ``cooldown``, ``no_data`` or ``error``."""
    value: float | None
    no_data_streak: int
    alert_id: str | None
    message: str | None
    evaluated_at: int


class TickReport(TypedDict):
    """What one ``Monitor.tick`` did."""

    at: int
    """The engine clock's time of the tick, epoch milliseconds."""
    jobs: list[JobRun]
    fired: list[AlertEvent]
    resolved: list[AlertEvent]
    retraining_requests: list[RetrainingRequest]
    """Requests created by this tick (pending or blocked)."""
    rules: list[RuleStatus]


# Fetching models, fetch jobs and profiles. These records keep the core's camelCase keys
# (as `Model.to_dict`, `Engine.model_health` and the outbox do), so the same JSON reads the
# same from Python, Node.js and the HarperDB component.


class Provenance(TypedDict):
    """Where a fetched file came from (``Model.provenance``, ``FileRecord.provenance``)."""

    source: Literal["http", "fs", "hf"]
    """The kind of source."""
    reference: str
    """The file's address: the URL (without user info or query), the canonical path, or
    ``org/name/path`` on the Hugging Face Hub."""
    revision: str | None
    """The version the source reported: the ``ETag`` (else ``Last-Modified``) of an HTTP
    answer, the commit hash on the Hub; ``None`` for files on disk."""
    variant: str | None
    """The variant asked for (``default``, ``quantized``, …)."""
    sha256: str
    """Hex sha256 of the file."""
    size: int
    """Size in bytes."""
    fetchedAt: int
    """When the file was stored, milliseconds since the Unix epoch."""


class FileRecord(TypedDict):
    """A stored file of a fetch (``FetchJobResult.files``, ``Model.files``)."""

    name: str
    """Its path relative to what was fetched (``onnx/model.onnx``, ``config.json``)."""
    sha256: str
    size: int
    provenance: Provenance


class FetchJobError(TypedDict):
    """Why a fetch job's last attempt failed."""

    code: str
    """The stable error code (``HARPER_EDGE_NOT_FOUND``, ``HARPER_EDGE_NETWORK``, …): the
    ``code`` of the exception class of the same kind."""
    message: str
    retryable: bool
    """Whether the same fetch may succeed later (``Engine.retry_job``)."""
    httpStatus: int | None
    """The HTTP status of the answer, when a server answered."""


class _FetchJobResultRequired(TypedDict):
    files: list[FileRecord]
    """The fetched files, in the order the source gave them."""


class FetchJobResult(_FetchJobResultRequired, total=False):
    """What a completed fetch job fetched."""

    modelId: str
    """The model registered from the files (``name:version``), when the job registers one."""


class _FetchJobRequired(TypedDict):
    id: str
    """``name:version``."""
    modelName: str
    modelVersion: str
    source: dict[str, Any]
    """The source spec: ``{"kind": "http", "url"}``, ``{"kind": "fs", "root", "path"}`` or
    ``{"kind": "hf", "repo", "revision"?, "files"?, "endpoint"?}``."""
    options: dict[str, Any]
    """The fetch options (camelCase, durations in milliseconds; header values hidden)."""
    state: Literal["queued", "downloading", "verifying", "completed", "failed", "cancelled"]
    bytesDone: int
    """Bytes fetched so far in the current attempt."""
    bytesTotal: int | None
    """Bytes to fetch, when known."""
    percent: int
    """``bytesDone / bytesTotal`` in percent, rounded down (100 once completed)."""
    attempts: int
    """How many times the job was started."""
    error: FetchJobError | None
    createdAt: int
    """Milliseconds since the Unix epoch, as ``startedAt`` and ``finishedAt``."""
    startedAt: int | None
    finishedAt: int | None
    result: FetchJobResult | None
    """What it fetched, once completed."""


class FetchJob(_FetchJobRequired, total=False):
    """A fetch job (``Engine.fetch_model``, ``Engine.wait_job``, ``Engine.fetch_jobs``)."""

    registration: dict[str, Any]
    """How the files become a model once verified (``framework``, ``stage``, ``metadata``,
    ``mainFile``); absent for a fetch-only job."""


class InspectedFile(TypedDict):
    """One file of an inspected source."""

    name: str
    size: int | None
    """Size in bytes, when the source tells."""
    selected: bool
    """Whether a fetch with the same arguments would take it."""


class Inspection(TypedDict):
    """What ``inspect_source`` found."""

    source: Literal["http", "fs", "hf"]
    reference: str
    """The source as records show it (a URL without query or user info, ``org/name``)."""
    revision: str | None
    """What a fetch now would record: the commit on the Hub, the ``ETag`` or
    ``Last-Modified`` of a URL; ``None`` for files on disk."""
    files: list[InspectedFile]
    downloadBytes: int | None
    """Bytes a fetch would take, when every selected file's size is known."""
    framework: str | None
    """The framework the model file implies (``.onnx``: ``onnx``, ``.safetensors``:
    ``transformers``)."""
    modelFile: str | None
    """The model file a registration would load."""
    taskType: str | None
    """The task the files suggest (``text-embedding`` for a sentence-transformers layout)."""
    suggestedName: str
    """A model name derived from the source."""
    fromCache: bool
    """Whether the Hub listing came from the local Hugging Face cache."""


class DeployEntry(TypedDict):
    """What ``Engine.deploy_profile`` did with one model."""

    modelId: str
    action: Literal["already_registered", "registered", "would_register", "failed"]
    jobId: str | None
    """The fetch job, when one ran."""
    bytes: int
    """Bytes fetched."""
    error: FetchJobError | None
    """Why it failed."""


class DeployReport(TypedDict):
    """What ``Engine.deploy_profile`` did."""

    profile: str
    """The profile's name."""
    models: list[DeployEntry]
    """One entry per model, in profile order."""
    elapsedMs: int


class ProfileSummary(TypedDict):
    """A valid profile (``validate_profile``)."""

    name: str
    description: str | None
    models: list[str]
    """The ids (``name:version``) of its models, in profile order."""


class ProfileProblem(TypedDict):
    """One problem of an invalid profile (the ``problems`` attribute of the
    ``InvalidInputError`` that ``validate_profile`` and ``Engine.deploy_profile`` raise)."""

    model: str | None
    """The model (its ``modelName``, else ``models[i]``); ``None`` for the profile itself."""
    field: str
    """The field path (``models[1].modelBlob.path``)."""
    message: str


class ChatMessage(TypedDict):
    """One message of a conversation (``Engine.chat``)."""

    role: str
    """``"system"``, ``"user"``, ``"assistant"`` or ``"tool"``."""
    content: str
    """The text."""


class GenerateResult(TypedDict):
    """The answer of ``Engine.chat`` and ``Engine.generate``, with the core's camelCase field
    names."""

    inferenceId: str
    """Id of the recorded inference event."""
    modelName: str
    """Model name."""
    modelVersion: str
    """Model version that answered."""
    text: str
    """The whole answer (what came before a stop)."""
    doneReason: str
    """Why it ended: Ollama's ``done_reason`` (``"stop"``, ``"length"``, ...), or
    ``"cancelled"`` when ``on_token`` stopped it."""
    promptTokens: int | None
    """Tokens in the prompt, as Ollama counted them."""
    completionTokens: int | None
    """Tokens generated."""
    totalMs: float | None
    """The daemon's own total time, in milliseconds."""
    latencyMs: float
    """Wall time of the call in milliseconds, streaming included."""


class LatencyStats(TypedDict):
    """Latency of one benchmark cell's successful calls, in microseconds. Percentiles by
    linear interpolation between closest ranks (numpy's default method)."""

    count: int
    minUs: float
    meanUs: float
    p50Us: float
    p95Us: float
    p99Us: float
    maxUs: float
    stddevUs: float


class BenchmarkCell(TypedDict):
    """One batch size × concurrency of one model."""

    batchSize: int
    concurrency: int
    calls: int
    errors: int
    wallMs: float
    throughputPerSec: float
    latency: LatencyStats | None


class BenchmarkAgreement(TypedDict):
    """How a model's answers compare with the reference's on the same inputs."""

    metric: Literal["cosine", "labels", "maxAbsDiff"]
    compared: int
    minCosine: float | None
    meanCosine: float | None
    maxAbsDiff: float | None
    labelAgreement: float | None
    passed: bool


class ModelBenchmark(TypedDict):
    """One model's benchmark (``peakRssBytes``: Linux only)."""

    modelId: str
    framework: str
    backend: str | None
    isReference: bool
    loadMs: float | None
    peakRssBytes: int | None
    latency: LatencyStats | None
    errorCount: int
    errorRate: float
    errors: list[str]
    agreement: BenchmarkAgreement | None
    agrees: bool
    cells: list[BenchmarkCell]


class BenchmarkThresholds(TypedDict):
    minCosine: float
    maxAbsDiff: float
    minLabelAgreement: float


class BenchmarkResult(TypedDict):
    """A benchmark run (the original design's ``BenchmarkResult`` table)."""

    id: str
    taskType: str
    equivalenceGroup: str
    modelIds: list[str]
    referenceModel: str
    results: list[ModelBenchmark]
    winner: str | None
    winnerRule: str
    testDataSummary: dict[str, Any]
    iterations: int
    warmup: int
    batchSizes: list[int]
    concurrency: list[int]
    thresholds: BenchmarkThresholds
    runBy: str | None
    notes: str | None
    timestamp: int
    completedAt: int


class BenchmarkGroup(TypedDict):
    """An equivalence group of registered models."""

    taskType: str
    equivalenceGroup: str
    modelIds: list[str]
    outputDimensions: Any
    problem: str | None


class BenchmarkProgress(TypedDict):
    """What ``Engine.benchmark`` passes to ``progress``."""

    model: str
    phase: Literal["load", "agreement", "warmup", "measure", "done"]
    batchSize: int | None
    concurrency: int | None
    done: int
    total: int

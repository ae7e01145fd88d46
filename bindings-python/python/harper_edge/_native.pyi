"""The compiled core of harper-edge (Rust, PyO3). Import from ``harper_edge`` instead."""

import os
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Literal, TypeAlias, final, overload

import numpy as np
import numpy.typing as npt
# pandas is optional (only `Engine.metrics(..., as_frame=True)` uses it) and untyped without
# pandas-stubs: `pd.DataFrame` is then `Any`.
import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]

from harper_edge._types import (
    AlertEvent,
    BenchmarkGroup,
    BenchmarkProgress,
    BenchmarkResult,
    AlertNotification,
    ChatMessage,
    DeployReport,
    EventRecord,
    FetchJob,
    FileRecord,
    GenerateResult,
    Inspection,
    ModelMetrics,
    ProfileSummary,
    Provenance,
    RealtimeMetrics,
    RetrainingRequest,
    RuleStatus,
    TelemetryStats,
    TickReport,
)

__all__ = [
    "Adwin",
    "PageHinkley",
    "Engine",
    "Prediction",
    "Model",
    "InferenceEvent",
    "__version__",
    "HarperEdgeError",
    "InvalidInputError",
    "ShapeError",
    "ModelLoadError",
    "BackendNotCompiledError",
    "BackendError",
    "NotFoundError",
    "ConflictError",
    "InvalidTransitionError",
    "IoError",
    "NetworkError",
    "IntegrityError",
    "InternalError",
    "CapacityError",
    "StorageError",
    "combine_metrics",
    "Baseline",
    "DriftResult",
    "check_drift",
    "Monitor",
    "SegmentedBaseline",
    "SegmentedDriftResult",
    "check_drift_segments",
    "inspect_source",
    "validate_profile",
    "use_onnxruntime",
    "benchmark_markdown",
]

__version__: str

_Array: TypeAlias = npt.NDArray[Any]
_Time: TypeAlias = datetime | int | np.integer[Any]
_Seconds: TypeAlias = float | timedelta
# A column of `Engine.record_batch`: a 1-D numpy array or anything `numpy.asarray` takes.
_Column: TypeAlias = npt.ArrayLike
# A model source: `hf:org/name[@revision]`, an http(s) URL, a path, or a source spec dict.
_Source: TypeAlias = str | os.PathLike[str] | dict[str, Any]

@final
class Engine:
    """Registers, resolves and runs models; records every call.

    Thread-safe: share one engine across threads. Every call that loads a model,
    runs one or touches the store releases the GIL.
    """

    @staticmethod
    def open(
        home: str | os.PathLike[str] | None = None,
        *,
        event_capacity: int = 100_000,
        overflow: Literal["drop_oldest", "reject"] = "drop_oldest",
        sample_rate: float = 1.0,
        retention: _Seconds | None = 2_592_000.0,
        tick_interval: _Seconds | None = 1.0,
        drift_sample_size: int = 10_000,
    ) -> Engine:
        """An engine on the embedded SQLite store in directory ``home`` (created if
        missing); by default ``$HARPER_EDGE_HOME``, else ``./.harper-edge``. The
        keywords are the telemetry settings of ``in_memory``.

        Raises ``IoError`` or ``StorageError`` when the store cannot be opened,
        ``InvalidInputError`` for an invalid setting (before touching ``home``).
        """

    @staticmethod
    def in_memory(
        *,
        event_capacity: int = 100_000,
        overflow: Literal["drop_oldest", "reject"] = "drop_oldest",
        sample_rate: float = 1.0,
        retention: _Seconds | None = 2_592_000.0,
        tick_interval: _Seconds | None = 1.0,
        drift_sample_size: int = 10_000,
    ) -> Engine:
        """An engine whose records live in memory only.

        Telemetry settings (metrics count every call whatever they say; they govern the
        raw events kept for ``events``, ``feedback`` and the store):

        - ``event_capacity``: raw events held in memory between writes (at least 1).
        - ``overflow``: what a full buffer does with a new event: ``"drop_oldest"``
          drops the oldest buffered one, ``"reject"`` refuses the new one (both
          counted in ``telemetry_stats``).
        - ``sample_rate``: share of successful calls whose raw event is kept, in
          ``[0, 1]``; chosen by a hash of the inference id (the same in every
          process); failed calls are always kept.
        - ``retention``: how long stored events are kept, in seconds or as a
          ``timedelta`` (default 30 days); ``None`` keeps them forever.
        - ``tick_interval``: how often a background thread calls ``tick`` (seconds or
          a ``timedelta``, default 1 s); ``None`` starts no thread: call ``tick``
          yourself.
        - ``drift_sample_size``: calls kept in the drift window of each model version
          with a baseline (a uniform sample of the calls since the last window check;
          at least 1).

        An invalid setting raises ``InvalidInputError`` naming it; a value of the
        wrong type raises ``TypeError``.
        """

    def register_model(
        self,
        name: str,
        version: str,
        path: str | os.PathLike[str],
        *,
        framework: str = "onnx",
        stage: str = "candidate",
        metadata: dict[str, Any] | None = None,
    ) -> Model:
        """Registers the model file at ``path`` as ``name:version``.

        The model is loaded first, so a corrupt file raises ``ModelLoadError`` now.
        Registering the same file again returns the existing record; a different
        file under the same ``name:version`` raises ``ConflictError``.
        ``framework`` is one of ``onnx``, ``tensorflow``, ``transformers``,
        ``ollama``; ``stage`` one of ``candidate``, ``staging``, ``production``,
        ``archived``.
        """

    def models(self) -> list[Model]:
        """Every registered model, oldest registration first."""

    def list_models(
        self,
        name: str | None = None,
        framework: str | None = None,
        task_type: str | None = None,
        stage: str | None = None,
    ) -> list[Model]:
        """Registered models that pass every filter given, oldest registration first:
        ``name``, ``framework``, ``task_type`` (the metadata's ``taskType``) and
        ``stage``. An unknown framework or stage raises ``InvalidInputError``."""

    def remove_model(self, ref: str) -> Model:
        """Removes the model version ``ref`` names (``"name:version"``; a bare name
        raises ``InvalidInputError``: removal is explicit), with its fetch job and the
        fetched files no other model uses; returns its record. Calls already running
        finish; its recorded calls and monitoring records stay. Raises
        ``NotFoundError`` when there is no such model, ``ConflictError`` while a
        fetch job for it runs (``cancel_job`` it first)."""

    def fetch_model(
        self,
        name: str,
        version: str,
        source: _Source,
        *,
        variant: str | None = None,
        sha256: str | None = None,
        files: list[str] | None = None,
        revision: str | None = None,
        framework: str | None = None,
        stage: str | None = None,
        metadata: dict[str, Any] | None = None,
        main_file: str | None = None,
        register: bool = True,
        options: dict[str, Any] | None = None,
    ) -> FetchJob:
        """Queues a fetch of ``source`` for ``name:version``; returns the job at once
        (``wait_job`` waits for it). Needs an engine with a home (``Engine.open``):
        the files go to ``<home>/models/<sha256>``; an ``in_memory`` engine raises
        ``InvalidInputError``.

        ``source`` is ``"hf:org/name[@revision]"`` (a Hugging Face Hub repository),
        an ``http://`` or ``https://`` URL (one file), a path on this machine (a file
        or a directory tree), or a dict: ``{"kind": "http", "url": ...}``,
        ``{"kind": "fs", "root": ..., "path": ...}`` (``path`` below ``root``) or
        ``{"kind": "hf", "repo": ..., "revision": ..., "files": [...],
        "endpoint": ...}``. ``files`` and ``revision`` apply to Hub sources only:
        the files to fetch (default: chosen by ``variant``, ``default`` or
        ``quantized`` or a suffix such as ``fp16``, with the tokenizer and config
        files) and the branch, tag or commit (default ``main``; the job records the
        commit). The Hub endpoint is ``HF_ENDPOINT``, its token ``HF_TOKEN`` (sent
        only as an ``Authorization`` header, never stored).

        ``sha256`` is the hex sha256 the file must have (one-file sources).
        ``options`` are the fetch options in their serialised form (camelCase,
        durations in milliseconds): ``maxBytes``, ``connectTimeoutMs``,
        ``readTimeoutMs``, ``retries``, ``backoffBaseMs``, ``backoffMaxMs``,
        ``retryAfterCapMs``, ``userAgent``, ``headers`` (``[[name, value], ...]``),
        ``progressIntervalMs``.

        With ``register=True`` the verified files are registered as the model:
        ``framework`` (default: the model file's extension), ``stage`` (default
        ``candidate``), ``metadata`` and ``main_file`` (the file to load when
        several model files are fetched) describe it; with ``register=False`` the
        job only fetches, and those keywords raise ``ValueError``.

        Idempotent: a job for ``name:version`` with the same source is returned as
        it is (in any state); another source raises ``ConflictError``. A failed
        fetch does not raise here: the job ends ``failed`` with its ``error``.
        """

    def wait_job(
        self,
        job_id: str,
        timeout: _Seconds | None = None,
        progress: Callable[[FetchJob], object] | None = None,
    ) -> FetchJob:
        """Waits until fetch job ``job_id`` (``name:version``) has ended
        (``completed``, ``failed`` or ``cancelled``) or ``timeout`` seconds (or a
        ``timedelta``) have passed (``None``: no limit); returns the job as it is
        then, so check its ``state``. The GIL is released while waiting.

        ``progress`` is called with the job (a dict) about every 200 ms while it
        runs and once with the job returned, on the calling thread; an exception it
        raises ends the wait and propagates (the job keeps running). Ctrl-C ends
        the wait too. Raises ``NotFoundError`` for an unknown job.
        """

    def fetch_job(self, job_id: str) -> FetchJob:
        """The fetch job ``job_id`` (``name:version``). Raises ``NotFoundError``."""

    def fetch_jobs(
        self,
        model_name: str | None = None,
        state: str | None = None,
        limit: int | None = None,
    ) -> list[FetchJob]:
        """Fetch jobs (of ``model_name``, in ``state``: ``queued``,
        ``downloading``, ``verifying``, ``completed``, ``failed`` or
        ``cancelled``), newest first, at most ``limit``."""

    def cancel_job(self, job_id: str) -> FetchJob:
        """Cancels fetch job ``job_id``: a queued job leaves the queue, a running
        one is interrupted (its temporary file removed). Returns the job, now
        ``cancelled``. Raises ``NotFoundError``, or ``InvalidTransitionError`` when
        the job has already ended."""

    def retry_job(self, job_id: str) -> FetchJob:
        """Queues the ``failed`` or ``cancelled`` fetch job ``job_id`` again (error
        and progress cleared); returns it. Raises ``NotFoundError``, or
        ``InvalidTransitionError`` for a job in another state."""

    def deploy_profile(
        self,
        path: str | os.PathLike[str],
        *,
        root: str | os.PathLike[str] | None = None,
        dry_run: bool = False,
        timeout: _Seconds | None = None,
        progress: Callable[[FetchJob], object] | None = None,
    ) -> DeployReport:
        """Deploys the profile file at ``path`` (a JSON file naming models and where
        their files come from; see ``validate_profile``): models already registered
        are left alone (``already_registered``), the others are fetched and
        registered (``registered``), all fetches running on the engine's queue; then
        waits for them, up to ``timeout`` seconds (default one hour). Idempotent:
        a second deploy registers nothing new and re-runs fetches that failed.

        Relative paths in the profile are read from its directory. With ``root``,
        every filesystem path must lie inside that directory (for profiles from
        elsewhere). ``dry_run`` checks and reports (``would_register``) without
        fetching. ``progress`` is called with each running job (a dict) about every
        200 ms; an exception it raises stops further calls and is raised once the
        deploy returns.

        A failed model is an entry with ``action == "failed"`` and its ``error``,
        not an exception. Raises ``InvalidInputError`` for an invalid profile (as
        ``validate_profile``), ``IoError`` when it cannot be read.
        """

    def model(self, ref: str) -> Model:
        """The model ``ref`` names: ``"name:version"``, or ``"name"`` for its newest
        version. Raises ``NotFoundError`` when there is none."""

    def infer(
        self,
        model: str,
        x: _Array | dict[str, _Array],
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        request_id: str | None = None,
        allow_copy: bool = False,
    ) -> Prediction:
        """Runs ``model`` (``"name"`` or ``"name:version"``) on ``x`` and records the call.

        ``x`` is one array for a single-input model, or a dict of arrays by input
        name. C-contiguous float32 and int64 arrays are read in place, without a
        copy (do not write to them from another thread during the call). Any other
        array raises ``TypeError`` unless ``allow_copy=True``, which converts it as
        ``np.ascontiguousarray(x, dtype=np.float32)`` does (int64 arrays stay int64).

        Raises ``NotFoundError`` for an unknown model, ``ShapeError`` or
        ``InvalidInputError`` for inputs that do not fit it, ``BackendError`` when
        the run fails. Failed calls are recorded too.
        """

    def benchmark(
        self,
        group: str,
        *,
        batch_sizes: list[int] = ...,
        concurrency: list[int] = ...,
        iterations: int = 50,
        warmup: int = 5,
        inputs: list[str] | list[list[float]] | _Array | None = None,
        reference: str | None = None,
        min_cosine: float = 0.99,
        max_abs_diff: float = 1e-3,
        min_label_agreement: float = 1.0,
        run_by: str | None = None,
        notes: str | None = None,
        persist: bool = True,
        progress: Callable[[BenchmarkProgress], object] | None = None,
    ) -> BenchmarkResult:
        """Benchmarks the equivalence group ``group`` (``batch_sizes`` and
        ``concurrency`` default to ``[1]``): the models registered with the
        same metadata ``taskType`` and ``equivalenceGroup`` (``"taskType/group"`` when
        two task types share the name), with the GIL released.

        Each model (the reference first: ``reference``, else the one with metadata
        ``benchmarkReference: true``, else the first by id) is loaded afresh (load
        time; peak resident memory on Linux), run once on up to 16 inputs and compared
        with the reference's answer — cosine for embeddings (agrees at
        ``min_cosine``), label agreement for classifiers (``min_label_agreement``), max
        abs difference otherwise (``max_abs_diff``) — then timed at every batch size ×
        concurrency: ``warmup`` unmeasured calls, then ``iterations`` timed calls over
        ``concurrency`` threads. Latencies are in microseconds (percentiles by linear
        interpolation, numpy's default); throughput is rows or texts per second.

        ``inputs``: texts (a list of str) or rows (a 2-D array or list of lists);
        default 64 synthetic texts or standard-normal rows as wide as the reference's
        input. ``progress`` gets a dict (``model``, ``phase``, ``done``, ``total``) at
        each phase and every 50 ms; an exception it raises is raised when the run ends.

        The winner is the model with the lowest p50 in the first cell among those that
        agree and had no errors (``winner`` is None when none qualifies). Returns the
        ``BenchmarkResult`` (camelCase keys, as stored), stored unless
        ``persist=False``. ``NotFoundError`` for an unknown group;
        ``InvalidInputError`` for bad options or a group that cannot be compared (one
        model, different ``outputDimensions``), before anything runs."""

    def benchmark_groups(self) -> list[BenchmarkGroup]:
        """The equivalence groups of the registered models, each with its model ids and
        the ``problem`` that keeps it from being benchmarked (or None)."""

    def benchmark_history(
        self,
        group: str | None = None,
        *,
        start: _Time | None = None,
        end: _Time | None = None,
        limit: int | None = None,
    ) -> list[BenchmarkResult]:
        """Stored benchmark results, newest first: of ``group``, started in
        ``[start, end)``, at most ``limit`` (default 100)."""

    def benchmark_result(self, id: str) -> BenchmarkResult:
        """The stored benchmark result ``id``; ``NotFoundError`` for an unknown id."""

    def embed(self, model: str, texts: list[str]) -> npt.NDArray[np.float32]:
        """Embeds ``texts`` with the embeddings model ``model`` (``"name"`` or
        ``"name:version"``), all texts in one call of the model. The model is an Ollama
        model registered with ``register_ollama(..., mode="embeddings")`` (one
        ``/api/embed`` request), or a token-id text encoder (BERT family, e.g. a
        sentence-transformers MiniLM) registered with the ``tokenizer.json`` of its
        directory, as ``fetch_model`` of that directory registers it, on the tract or
        ort backend (an ONNX file) or candle (``model.safetensors`` with its
        ``config.json``), chosen by ``metadata={"backend": ...}``: the texts are
        tokenized and padded to the longest one, run as one batch, mean-pooled over
        their tokens and L2-normalised. Returns a float32 array of shape
        ``(len(texts), dim)``, row ``i`` the vector of ``texts[i]``, holding the core's
        buffer without a copy. The call is recorded (``features_in``
        ``{"texts": [...]}``, ``prediction`` ``{"count", "dim"}``); the GIL is released
        meanwhile.

        Raises ``TypeError`` unless ``texts`` is a list (or sequence) of ``str``,
        ``InvalidInputError`` for an empty list or a model that does not take text,
        ``ModelLoadError`` for a token-id encoder registered without its
        ``tokenizer.json``, ``NotFoundError`` for an unknown model (or one the Ollama
        daemon has not pulled), ``NetworkError`` when the daemon cannot be reached.
        """

    def chat(
        self,
        model: str,
        prompt_or_messages: str | list[ChatMessage],
        *,
        system: str | None = None,
        on_token: Callable[[str], object] | None = None,
    ) -> GenerateResult:
        """Asks the chat model ``model`` (an Ollama ``chat`` or ``generate`` model) to
        answer ``prompt_or_messages``: one user prompt (a ``str``) or a conversation, a
        list of ``{"role": ..., "content": ...}`` dicts (roles ``system``, ``user``,
        ``assistant``, ``tool``), oldest first. ``system`` is sent first as a system
        message. Streams each piece of the answer to ``on_token(piece)`` as it arrives,
        with the GIL held only for that call (the network waits release it).

        ``on_token`` returning ``False`` (exactly ``False``; ``None`` goes on) stops the
        answer: the result's ``doneReason`` is then ``"cancelled"`` and ``text`` what
        came so far. ``on_token`` raising stops it too, and the exception propagates
        once the call is recorded.

        Returns the ``GenerateResult`` dict (camelCase keys: ``text``, ``doneReason``,
        ``promptTokens``, ``completionTokens``, ``totalMs``, ``inferenceId``,
        ``modelName``, ``modelVersion``, ``latencyMs``). The call is recorded like any
        inference: the messages as ``features_in``, the text as ``prediction``.

        Raises ``NotFoundError`` for an unknown model or one the daemon lacks (with the
        ``ollama pull`` to run), ``InvalidInputError`` for a model that does not
        generate text, ``NetworkError`` when the daemon cannot be reached or times out,
        ``BackendError`` for a malformed or broken stream, ``TypeError`` for arguments
        of the wrong type.
        """

    def generate(
        self,
        model: str,
        prompt: str,
        *,
        on_token: Callable[[str], object] | None = None,
    ) -> GenerateResult:
        """Asks the text-generating model ``model`` to complete ``prompt``: an Ollama
        ``generate`` model completes it (``/api/generate``), a ``chat`` model gets it as
        one user message. Streams, stops, returns, records and raises as ``chat``.
        """

    def register_ollama(
        self,
        name: str,
        version: str,
        model: str,
        *,
        mode: Literal["embeddings", "chat", "generate"] = "chat",
        host: str | None = None,
        options: dict[str, Any] | None = None,
        read_timeout: _Seconds | None = None,
        stage: str = "candidate",
        metadata: dict[str, Any] | None = None,
    ) -> Model:
        """Registers ``model`` (its name in Ollama: ``llama3.2``,
        ``nomic-embed-text:latest``) as ``name:version``, framework ``ollama``: the
        registered file is the manifest ``{"model", "mode", "host", "options",
        "readTimeoutMs"}``. No daemon is needed to register; it is asked at the first
        call.

        - ``mode``: ``"embeddings"`` (``embed``), ``"chat"`` or ``"generate"``
          (``chat``, ``generate``).
        - ``host``: the daemon (``host:port``, ``:port`` or a URL); default
          ``$OLLAMA_HOST``, else ``http://127.0.0.1:11434``.
        - ``options``: Ollama ``options`` sent with every request (``temperature``,
          ``num_ctx``, ``seed``, ...).
        - ``read_timeout``: longest wait for any single read, in seconds or a
          ``timedelta`` (default 120 s); a stream that keeps moving is never cut off.

        Raises ``InvalidInputError`` for an unknown mode or stage, or an empty model
        name; ``ConflictError`` for another manifest under the same ``name:version``.
        """

    @overload
    def events(
        self,
        model: str | None = None,
        version: str | None = None,
        limit: int = 100,
        *,
        as_frame: Literal[False] = False,
    ) -> list[InferenceEvent]:
        """Recorded events (of ``model``, of ``version``), newest first; buffered events
        are written first, so every recorded (and sampled) call is there.

        With ``as_frame=True``, a pandas DataFrame with one column per property
        (``timestamp`` and ``feedback_timestamp`` as ``datetime64[ms, UTC]``, ``correct``
        as nullable ``boolean``); pandas is imported then, and a missing pandas raises
        ``ImportError``.
        """
    @overload
    def events(
        self,
        model: str | None = None,
        version: str | None = None,
        limit: int = 100,
        *,
        as_frame: Literal[True],
    ) -> pd.DataFrame: ...
    @overload
    def events(
        self,
        model: str | None = None,
        version: str | None = None,
        limit: int = 100,
        *,
        as_frame: bool = False,
    ) -> list[InferenceEvent] | pd.DataFrame: ...

    def event(self, inference_id: str) -> InferenceEvent:
        """The event of one call. Raises ``NotFoundError`` when there is none."""

    def feedback(self, inference_id: str, outcome: Any) -> InferenceEvent:
        """Records the ground truth of an earlier call; returns the updated event.

        Sets ``actual_outcome``, ``correct`` (whether the prediction equals the
        outcome; ``1`` equals ``1.0``) and ``feedback_timestamp``. ``outcome`` is
        any JSON-like value (numpy scalars included) other than ``None``.
        """

    def realtime(self, model: str) -> RealtimeMetrics:
        """The real-time view of ``model`` (``"name"`` for its newest version, or
        ``"name:version"``): calls, errors, throughput, latency percentiles, confidence
        and accuracy over the last five minutes, fed by every call and feedback.

        A dict with snake_case keys (see ``RealtimeMetrics``); ``None`` where there is
        no data. An engine that did not record the calls itself (a fresh
        ``Engine.open`` on an existing store) reads them from the store on its first
        query. Raises ``NotFoundError`` for an unknown model.
        """

    def record_batch(
        self,
        model: str,
        latency_ms: _Column,
        *,
        errors: _Column | None = None,
        confidence: _Column | None = None,
        timestamps: _Column | None = None,
    ) -> int:
        """Counts calls of a model the host runs itself, given as 1-D columns with one
        entry per call; returns how many calls were counted.

        ``model`` is ``"name:version"`` (the version needs no registration) or
        ``"name"`` (its newest registered version; ``NotFoundError`` when there is
        none). Columns: ``latency_ms`` (float64 milliseconds); ``errors`` (bool:
        the call failed; integers count non-zero as failed); ``confidence``
        (float64, NaN for a call without one); ``timestamps`` (int64 or float64
        epoch milliseconds; now for every call when ``None``). A past time counts
        in its own real-time slot and 5-minute rollup period.

        C-contiguous numpy arrays of those dtypes are read in place, without a copy,
        with the GIL released (do not write to them from another thread during the
        call); lists and arrays of other numeric dtypes are converted with numpy
        first. A column that is not 1-D raises ``ValueError``, one of another kind
        (strings, objects) ``TypeError``. Every column is checked before anything is
        counted: a length that differs from ``latency_ms``'s, or a float timestamp
        that is NaN or infinite, raises ``InvalidInputError`` and counts nothing.

        The calls are counted in the real-time view and the rollups only: no raw
        event is kept (see ``record_event``).
        """

    def record_event(self, event: EventRecord) -> str:
        """Records one call of a model the host runs itself as a raw event, with the
        attributes of ``InferenceEvent`` as keys (see ``EventRecord``):
        ``model_name``, ``model_version`` and ``latency_ms`` are required; ``id``
        defaults to a new UUID, ``timestamp`` to now, ``framework`` to ``"onnx"``.

        The call is counted in the metrics like ``record_batch``, and the event goes
        to the raw-event buffer, so ``events``, ``event`` and ``feedback`` find it
        (unless ``sample_rate`` leaves it out or a full buffer with
        ``overflow="reject"`` refuses it: see ``telemetry_stats``). Returns the
        event's id. An unknown or missing key, or a value of the wrong type, raises
        ``TypeError``; an invalid name, framework or latency ``InvalidInputError``.
        """

    def telemetry_stats(self) -> TelemetryStats:
        """What the telemetry has counted, buffered, written, dropped, rejected,
        sampled out and expired since the engine started (see ``TelemetryStats``)."""

    def tick(self) -> list[ModelMetrics]:
        """Writes the buffered events and the rollup rows of every 5-minute period that
        has ended (by the engine's clock), with the hourly and daily rows they roll up
        into; returns the rollup rows written. The engine does this every second on a
        background thread already: call it to have it done now. Raises
        ``StorageError`` when the store fails (what was not written stays pending)."""

    def flush(self) -> list[ModelMetrics]:
        """Like ``tick``, but also writes the periods still open; later calls complete
        their rows (rows merge exactly). Call it before reading the current period's
        rollups, or before the process exits (a dropped engine flushes too, best
        effort): a process killed without it loses the rollups not yet written."""

    @overload
    def metrics(
        self,
        model: str,
        granularity: str = "5min",
        *,
        version: str | None = None,
        start: _Time | None = None,
        end: _Time | None = None,
        limit: int | None = None,
        as_frame: Literal[False] = False,
        segment: str | None = None,
    ) -> list[ModelMetrics]:
        """Stored rollup rows, oldest period first (at most ``limit``, default 1000).

        ``model`` is ``"name"`` (rows of every version) or ``"name:version"``;
        ``version`` may name the version instead (a different one than the reference
        names raises ``InvalidInputError``). ``granularity`` is ``"5min"``,
        ``"hourly"`` or ``"daily"`` (anything else raises ``InvalidInputError``).
        ``start`` / ``end`` keep the periods starting in ``[start, end)``: an aware
        ``datetime`` or integer epoch milliseconds (a naive ``datetime`` raises
        ``ValueError``). Only written rows are returned: see ``tick`` and ``flush``.

        Rows are dicts with snake_case keys (see ``ModelMetrics``), times as integer
        epoch milliseconds. With ``as_frame=True``, a pandas DataFrame with one column
        per key, ``period_start`` / ``period_end`` as ``datetime64[ms, UTC]``; pandas
        is imported then, and a missing pandas raises ``ImportError``.

        With ``segment``, the rows are split by that key, computed from the stored
        calls: an event field (``modelVersion``, ``userId``, ``sessionId``,
        ``framework``) or a feature of the calls (an A/B arm, a cohort). Each row then
        also has ``segment_key`` and ``segment`` (``None`` for calls without the key),
        the first two columns of a frame. With raw-event sampling, the counts describe
        the stored calls.
        """
    @overload
    def metrics(
        self,
        model: str,
        granularity: str = "5min",
        *,
        version: str | None = None,
        start: _Time | None = None,
        end: _Time | None = None,
        limit: int | None = None,
        as_frame: Literal[True],
        segment: str | None = None,
    ) -> pd.DataFrame: ...
    @overload
    def metrics(
        self,
        model: str,
        granularity: str = "5min",
        *,
        version: str | None = None,
        start: _Time | None = None,
        end: _Time | None = None,
        limit: int | None = None,
        as_frame: bool = False,
        segment: str | None = None,
    ) -> list[ModelMetrics] | pd.DataFrame: ...

    def set_baseline(
        self,
        model: str,
        baseline: Baseline,
        *,
        prediction_features: list[str] | None = None,
        accuracy: tuple[int, int] | None = None,
        source: str | None = None,
    ) -> dict[str, Any]:
        """Sets the drift baseline of a model version (``"name:version"``; ``"name"``
        for the newest registered version — a version needs no registration, for models
        the host runs itself), stores it (``DriftBaseline`` table, through the outbox)
        and starts the version's drift window. ``prediction_features`` are the baseline
        features that are model outputs (default: ``prediction`` and ``confidence`` when
        present); ``accuracy=(correct, total)`` of the reference period enables concept
        drift. Returns the stored record without its statistics (snake_case keys)."""

    def fit_baseline(
        self,
        model: str,
        *,
        start: _Time | None = None,
        end: _Time | None = None,
        bins: int = 10,
        segment_by: list[str] | None = None,
        segment_min_rows: int = 30,
    ) -> dict[str, Any]:
        """Fits and sets the baseline from the version's stored calls in ``[start,
        end)`` (failed calls skipped; features named ``input[i]`` for a tensor input,
        by key for JSON objects, plus ``prediction`` and ``confidence``), with the
        accuracy of their feedback. ``InvalidInputError`` when the period has no call.

        ``segment_by`` names keys (a feature such as a cohort, or an event field:
        ``userId``, ``sessionId``, ``modelVersion``, ``framework``) to fit baselines
        per segment for (segments with at least ``segment_min_rows`` calls), so that
        ``check_drift_segments(..., segment=key)`` compares each segment with its own
        reference."""

    def baseline(self, model: str) -> Baseline:
        """The version's baseline; ``NotFoundError`` when none is set."""

    def check_drift(
        self,
        model: str,
        current: Any = None,
        *,
        labels: tuple[int, int] | None = None,
        alpha: float = 0.05,
        psi_threshold: float = 0.2,
        wasserstein_threshold: float = 0.1,
        js_threshold: float = 0.1,
        methods: dict[str, str] | None = None,
        thresholds: dict[str, float] | None = None,
        min_labeled_samples: int = 100,
        accuracy_drop_threshold: float = 0.05,
        correction: str = "holm",
    ) -> DriftResult:
        """Checks a model version against its baseline and stores the result: one
        ``DriftMetrics`` row per feature (``drift_type`` ``prediction`` for prediction
        features, else ``input``), one for concept drift, one ``DataQualityMetrics`` row.

        ``current=None`` checks the drift window: a uniform sample (at most 10,000) of
        the calls since the last window check, whose feedback gives the current
        accuracy; the window is emptied when the check succeeds. Otherwise ``current``
        is data as for ``Baseline.fit`` (columns that are not baseline features are
        ignored), with ``labels=(correct, total)`` for concept drift. ``methods`` /
        ``thresholds`` override the method (``"ks"``, ``"chi2"``, ``"psi"``,
        ``"wasserstein"``, ``"js"``) and threshold per feature. Concept drift: drifted
        when both periods have ``min_labeled_samples`` labels, accuracy dropped by more
        than ``accuracy_drop_threshold`` and a one-sided two-proportion z-test gives
        ``p < alpha``. ``NotFoundError`` without a baseline; ``InvalidInputError`` for
        an empty window or bad data."""

    def model_health(
        self,
        model: str,
        *,
        granularity: str = "5min",
        start: _Time | None = None,
        end: _Time | None = None,
    ) -> dict[str, Any]:
        """The health of a model version (``"name"``: its newest version): rollups of
        ``granularity`` in ``[start, end)`` (default: the last 288 periods), the newest
        drift check (rebuilt from its stored rows) and data-quality row, alerts fired in
        the range and pending retraining requests, as a dict with camelCase keys (the
        ``ModelHealth`` record the Node binding and the HarperDB component use)."""

    def report_html(
        self,
        models: list[str] | None = None,
        *,
        granularity: str = "5min",
        start: _Time | None = None,
        end: _Time | None = None,
        title: str | None = None,
    ) -> str:
        """One self-contained HTML document of the health of ``models`` (``"name"`` or
        ``"name:version"``; default every registered model): request rate, error rate and
        latency p50 / p95 / p99 over time, the newest drift check with histograms of the
        drifted features, data quality, an alert timeline and pending retraining requests.
        Inline SVG with labelled charts and data tables; no network reference. Open
        periods are flushed first."""

    def save_report(
        self,
        path: str | os.PathLike[str],
        models: list[str] | None = None,
        *,
        granularity: str = "5min",
        start: _Time | None = None,
        end: _Time | None = None,
        title: str | None = None,
    ) -> int:
        """Writes ``report_html(...)`` to ``path``; returns the bytes written."""

    def check_drift_segments(
        self,
        model: str,
        current: Any = None,
        *,
        segment: str,
        events: Iterable[InferenceEvent | EventRecord] | None = None,
        min_rows: int = 30,
        max_segments: int = 100,
        alpha: float = 0.05,
        psi_threshold: float = 0.2,
        wasserstein_threshold: float = 0.1,
        js_threshold: float = 0.1,
        methods: dict[str, str] | None = None,
        thresholds: dict[str, float] | None = None,
        correction: str = "holm",
    ) -> SegmentedDriftResult:
        """Checks a model version for drift split by ``segment``: per-segment results
        with the same tests as ``check_drift``, and a verdict whose error rate is
        controlled across every segment. Nothing is stored and the window is not
        emptied.

        The current data are the drift window (``current=None`` and no ``events``),
        ``current`` columns, or ``events`` (``InferenceEvent`` objects or event dicts,
        e.g. rows of a table). ``segment`` is a feature (an A/B arm, a cohort,
        ``prediction``) or, for events, an event field: ``modelVersion`` (every version
        of the model against this version's baseline — a canary), ``userId``,
        ``sessionId``, ``framework``. A segment is compared with its own reference
        segment when the baseline was fitted with ``segment_by=[segment]``, else with
        the whole baseline; a key that is a baseline feature without segment baselines
        raises ``InvalidInputError`` (its segments differ by design). Segments with
        fewer than ``min_rows`` rows are listed, not tested; at most ``max_segments``
        (the largest) are checked."""

    def drift_metrics(
        self,
        model: str,
        *,
        drift_type: Literal["input", "prediction", "concept"] | None = None,
        start: _Time | None = None,
        end: _Time | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Stored ``DriftMetrics`` rows of ``"name"`` or ``"name:version"``, newest
        first (at most ``limit``, default 1000), snake_case keys."""

    def data_quality(
        self,
        model: str,
        *,
        start: _Time | None = None,
        end: _Time | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Stored ``DataQualityMetrics`` rows, newest first, snake_case keys."""

    def outbox(self, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Up to ``limit`` outbox entries with ``seq > after``, in write order: dicts
        with ``seq``, ``table`` (``Model``, ``InferenceEvent``, ``ModelMetrics``,
        ``DriftBaseline``, ``DriftMetrics`` or ``DataQualityMetrics``),
        ``id``, ``record`` (camelCase field names) and ``createdAt``."""

    def prune_outbox(self, through: int) -> int:
        """Deletes outbox entries with ``seq <= through``; returns how many."""

def combine_metrics(rows: Iterable[ModelMetrics]) -> list[ModelMetrics]:
    """Rollup rows from several producers (engines, processes, HarperDB workers,
    nodes) merged into one row per model version, granularity and period, by merging
    their latency sketches: the result equals the rows one engine that saw every call
    would have written (counts and max exact, percentiles from the merged sketch).

    ``rows`` are dicts as ``Engine.metrics`` returns them; each needs
    ``model_name``, ``model_version``, ``granularity``, ``period_start`` (epoch
    milliseconds or an aware datetime), ``error_count`` and ``latency_sketch``, and
    every other field is recomputed from those. Rows come back ordered by model,
    version, granularity and period start. A missing key or a value of the wrong
    type raises ``TypeError``; an unknown granularity or a malformed sketch
    ``InvalidInputError``.
    """

def inspect_source(
    source: _Source,
    *,
    variant: str | None = None,
    files: list[str] | None = None,
    revision: str | None = None,
) -> Inspection:
    """Describes what ``source`` (as in ``Engine.fetch_model``) holds without
    downloading model files: the Hub listing (one API call, none when the local
    Hugging Face cache has the revision), a ``HEAD`` request for a URL, or a
    directory walk. The result names every file with its size and whether a fetch
    with the same ``variant``, ``files`` and ``revision`` would take it, the bytes
    it would download, the revision it would record, the model file, its framework
    and a suggested model name. The GIL is released.

    Raises ``NotFoundError`` for an unknown repository, revision, file or path,
    ``NetworkError`` when the server cannot be reached or refuses,
    ``InvalidInputError`` for a malformed source.
    """

def validate_profile(path: str | os.PathLike[str]) -> ProfileSummary:
    """Checks the profile file at ``path`` without deploying it; returns its
    ``name``, ``description`` and the ids (``name:version``) of its ``models``.

    A profile is a JSON object ``{"name", "description"?, "models": [...]}``; each
    model has ``modelName``, ``modelVersion``, ``framework``, optionally ``stage``
    and ``metadata``, and ``modelBlob`` saying where its files come from:
    ``{"source": "filesystem", "path": ...}`` (relative to the profile's
    directory), ``{"source": "url", "url": ..., "sha256"?: ...}``,
    ``{"source": "huggingface", "model": "org/name", "file"?/"files"?,
    "revision"?, "variant"?}``, or a string (``hf:org/name[@rev]``, a URL, a path).

    A profile with problems raises ``InvalidInputError`` whose message lists every
    problem, each naming the model and the field (``model 'iris', field
    models[0].modelBlob.path: is missing``), and whose ``problems`` attribute
    lists them as dicts (``ProfileProblem``: ``model``, ``field``, ``message``).
    A file that cannot be read raises ``IoError``.
    """

@final
class Model:
    """A registered model (read-only)."""

    @property
    def id(self) -> str:
        """``name:version``."""
    @property
    def model_name(self) -> str: ...
    @property
    def model_version(self) -> str: ...
    @property
    def framework(self) -> str:
        """``onnx``, ``tensorflow``, ``transformers`` or ``ollama``."""
    @property
    def stage(self) -> str:
        """``candidate``, ``staging``, ``production`` or ``archived``."""
    @property
    def blob_size(self) -> int:
        """Size of the model file in bytes."""
    @property
    def sha256(self) -> str:
        """Hex sha256 of the model file."""
    @property
    def input_schema(self) -> list[dict[str, Any]]:
        """Declared inputs: ``{"name", "dtype", "shape"}``, ``None`` for a dynamic
        dimension."""
    @property
    def output_schema(self) -> list[dict[str, Any]]:
        """Declared outputs, as ``input_schema``."""
    @property
    def metadata(self) -> dict[str, Any]:
        """Free-form metadata given at registration."""
    @property
    def uploaded_at(self) -> int:
        """Registration time, milliseconds since the Unix epoch."""
    @property
    def provenance(self) -> Provenance | None:
        """Where the model file came from when it was fetched (``Engine.fetch_model``,
        ``Engine.deploy_profile``): source kind, reference, revision (the HTTP ETag or
        the Hub commit), variant, sha256, size and ``fetchedAt``; ``None`` for a model
        registered from a file."""
    @property
    def files(self) -> list[FileRecord]:
        """Every fetched file (the model file and its companions: tokenizer, config),
        each with its provenance; empty for a model registered from a file."""
    def to_dict(self) -> dict[str, Any]:
        """The record with its original camelCase field names (``modelName``, …)."""

@final
class InferenceEvent:
    """One recorded inference call and its feedback (read-only)."""

    @property
    def id(self) -> str:
        """The inference id (a UUID)."""
    @property
    def model_name(self) -> str: ...
    @property
    def model_version(self) -> str: ...
    @property
    def framework(self) -> str: ...
    @property
    def request_id(self) -> str | None: ...
    @property
    def user_id(self) -> str | None: ...
    @property
    def session_id(self) -> str | None: ...
    @property
    def features_in(self) -> Any:
        """The inputs as nested lists (a dict by input name for multi-input models)."""
    @property
    def prediction(self) -> Any:
        """The prediction; ``None`` when the call failed."""
    @property
    def confidence(self) -> float | None: ...
    @property
    def latency_ms(self) -> float: ...
    @property
    def timestamp(self) -> int:
        """Call time, milliseconds since the Unix epoch."""
    @property
    def error(self) -> str | None:
        """The error message, when the call failed."""
    @property
    def actual_outcome(self) -> Any:
        """The ground truth given to ``Engine.feedback``; ``None`` before."""
    @property
    def correct(self) -> bool | None:
        """Whether the prediction matched the ground truth; ``None`` before feedback."""
    @property
    def feedback_timestamp(self) -> int | None: ...
    def to_dict(self) -> dict[str, Any]:
        """The record with its original camelCase field names (``featuresIn``, …)."""

@final
class Prediction:
    """The answer to one ``Engine.infer`` call (read-only)."""

    @property
    def inference_id(self) -> str:
        """Id of the recorded event; pass it to ``Engine.feedback``."""
    @property
    def model_name(self) -> str: ...
    @property
    def model_version(self) -> str: ...
    @property
    def prediction(self) -> Any:
        """The label for a classifier (a list of labels for a batch), else every
        output as nested lists."""
    @property
    def confidence(self) -> float | None:
        """Probability of the label (the mean over a batch), when the task has one."""
    @property
    def latency_ms(self) -> float: ...
    @property
    def outputs(self) -> dict[str, npt.NDArray[Any]]:
        """Every output tensor as a numpy array (float32, int64 or object), by name."""
    def to_dict(self) -> dict[str, Any]:
        """The record without ``outputs``, with camelCase field names (``latencyMs``, …)."""

@final
class Baseline:
    """Reference statistics for drift checks, fitted once from reference data, saved as
    JSON and merged across parts (per numeric feature: the sorted sample — or
    ``max_sample`` order statistics —, PSI bins, moments, quartiles and Tukey fences; per
    categorical feature: category counts)."""

    @staticmethod
    def fit(
        data: Any,
        *,
        schema: list[dict[str, Any]] | None = None,
        categorical: list[str] | None = None,
        numeric: list[str] | None = None,
        bins: int = 10,
        epsilon: float = 1e-4,
        max_sample: int | None = None,
    ) -> Baseline:
        """Fits a baseline on ``data``: a pandas DataFrame, a pyarrow Table, a polars
        DataFrame or a mapping of column name to 1-D array-like. Numeric columns are
        numeric features (NaN and None are nulls; float64 arrays are read in place,
        without the GIL), string / category / bool / object columns categorical ones;
        ``categorical`` / ``numeric`` force a column's kind, ``schema`` declares every
        feature (``{"name", "kind": "numeric" | "categorical", "range": [lo, hi]?,
        "categories": [...]?}``) and leaves other columns out. ``bins`` quantile bins
        and ``epsilon`` for the PSI. ``InvalidInputError`` for an infinite value, a
        value of the wrong kind or an empty reference."""
    def to_json(self) -> str:
        """The baseline as JSON."""
    @staticmethod
    def from_json(json: str) -> Baseline:
        """A baseline saved by ``to_json``; ``IntegrityError`` when it is corrupt."""
    def merge(self, other: Baseline) -> Baseline:
        """The baseline of both parts' data (same schema and settings)."""
    @property
    def features(self) -> list[str]:
        """Feature names, in schema order."""
    @property
    def schema(self) -> list[dict[str, Any]]:
        """One dict per feature: ``name``, ``kind``, and ``range`` / ``categories``."""
    def __len__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class DriftResult:
    """The result of a drift check."""

    @property
    def drifted_count(self) -> int:
        """Drifted features."""
    @property
    def drifted_share(self) -> float:
        """Drifted features / checked features."""
    @property
    def drifted(self) -> bool:
        """Whether a feature (or concept drift) drifted."""
    @property
    def features(self) -> list[dict[str, Any]]:
        """One dict per checked feature, drifted first, then by score: ``feature_name``,
        ``kind``, ``drift_method``, ``drift_score``, ``p_value``, ``threshold``,
        ``drifted``, ``psi``, ``wasserstein``, ``baseline_summary``,
        ``current_summary``."""
    @property
    def quality(self) -> dict[str, Any]:
        """Data quality: ``total_records``, ``schema_violations``, ``null_rates``,
        ``outlier_counts``, ``range_violations``, ``unknown_categories``."""
    @property
    def model(self) -> dict[str, Any]:
        """The model verdict: ``drifted`` with the error rate across features controlled —
        the features' p-values adjusted by ``correction`` (``holm``: the chance of a false
        "drifted" on healthy data is at most ``alpha``; ``bh``: false discovery rate;
        ``none``); also ``alpha``, ``tested``, ``rejected``, ``min_adjusted_p_value``,
        ``distance_drifted``."""
    @property
    def concept(self) -> dict[str, Any] | None:
        """Concept drift (engine checks with labels), else ``None``."""
    @property
    def rows(self) -> list[dict[str, Any]]:
        """The ``DriftMetrics`` rows written (engine checks), else ``[]``."""
    def to_dict(self) -> dict[str, Any]:
        """The whole result, snake_case keys."""
    def to_json(self) -> str:
        """The whole result as JSON, camelCase keys (as stored, and as Node gives it)."""
    def to_pandas(self) -> pd.DataFrame:
        """One row per feature (needs pandas)."""
    def to_html(self, *, title: str | None = None) -> str:
        """The result as one self-contained HTML document (inline CSS and SVG charts,
        opens offline): the verdicts, the drift table, histograms (or category bars) of
        the drifted features, data quality."""
    def save_html(self, path: str | os.PathLike[str], *, title: str | None = None) -> int:
        """Writes ``to_html()`` to ``path``; returns the bytes written."""
    def _repr_html_(self) -> str:
        """The report as an HTML fragment with its stylesheet (Jupyter's rich display)."""

def check_drift(
    baseline: Baseline,
    current: Any,
    *,
    alpha: float = 0.05,
    psi_threshold: float = 0.2,
    wasserstein_threshold: float = 0.1,
    js_threshold: float = 0.1,
    methods: dict[str, str] | None = None,
    thresholds: dict[str, float] | None = None,
    threads: int | None = None,
    correction: str = "holm",
) -> DriftResult:
    """Checks ``current`` data (as for ``Baseline.fit``) against ``baseline``: KS
    (numeric) and chi-square (categorical) p-values against ``alpha`` with scipy's
    conventions, PSI and normalised Wasserstein alongside, and data quality. Columns
    that are not baseline features are ignored; baseline features without a column are
    not checked. Features run in parallel on ``threads`` (default: all cores), without
    the GIL. ``result.model`` is the model verdict, the p-values adjusted by
    ``correction`` (``"holm"``, ``"bh"`` or ``"none"``); distance methods (``psi``,
    ``js``, ``wasserstein``) need their threshold and significance."""

@final
class SegmentedBaseline:
    """Baselines per segment of a reference — one per value of a key column (a cohort, a
    region, any categorical column) — plus the whole reference's, so each segment of
    current data is compared with its own part of the reference."""

    @staticmethod
    def fit(
        data: Any,
        key: str,
        *,
        categorical: list[str] | None = None,
        numeric: list[str] | None = None,
        min_rows: int = 30,
        bins: int = 10,
        epsilon: float = 1e-4,
    ) -> SegmentedBaseline:
        """Fits one baseline per value of column ``key`` with at least ``min_rows``
        rows (smaller segments are counted only), and one on the whole data. ``key``
        is read as categorical and is not a feature. ``data`` as for ``Baseline.fit``.
        ``InvalidInputError`` when ``key`` is not a column."""
    @property
    def key(self) -> str:
        """The key column."""
    @property
    def segment_rows(self) -> dict[str, int]:
        """Reference rows per segment value (also those too small to be fitted)."""
    @property
    def whole(self) -> Baseline:
        """The baseline of the whole reference (without the key)."""
    def segment(self, value: str) -> Baseline | None:
        """The baseline of one segment; ``None`` when it had too few rows or none."""
    def to_json(self) -> str:
        """The segmented baseline as JSON."""
    @staticmethod
    def from_json(json: str) -> SegmentedBaseline:
        """Reads a segmented baseline saved by ``to_json``; ``IntegrityError`` when it
        is corrupt."""

@final
class SegmentedDriftResult:
    """The result of a drift check split by segment."""

    @property
    def key(self) -> str:
        """The key column."""
    @property
    def drifted_segments(self) -> int:
        """Segments that drifted, the error rate controlled across all segments."""
    @property
    def drifted(self) -> bool:
        """Whether any segment drifted."""
    @property
    def segments(self) -> list[dict[str, Any]]:
        """One dict per segment, drifted first, then by rows: ``segment`` (``None`` for
        rows without a key), ``rows``, ``reference_rows``, ``compared_with``
        (``"segment"``: its own reference segment; ``"whole"``: the whole reference),
        ``report`` (``features``, ``drifted_count``, ``drifted_share``, ``model``;
        ``None`` when not tested), ``skipped`` (the reason, when not tested),
        ``min_adjusted_p_value`` (adjusted across all segments) and ``drifted``."""
    @property
    def model(self) -> dict[str, Any]:
        """The verdict over every tested feature of every segment (as
        ``DriftResult.model``)."""
    def to_dict(self) -> dict[str, Any]:
        """The whole result as a dict (snake_case keys)."""
    def to_json(self) -> str:
        """The whole result as JSON (camelCase keys, as the Node binding gives)."""
    def to_pandas(self) -> pd.DataFrame:
        """One row per segment and feature (``segment``, ``rows``, ``reference_rows``,
        ``compared_with``, ``segment_drifted``, the feature's ``feature_name``,
        ``kind``, ``drift_method``, ``drift_score``, ``p_value``, ``adjusted_p_value``,
        ``threshold``, ``drifted``, and ``skipped``); needs pandas."""

def check_drift_segments(
    reference: Baseline | SegmentedBaseline,
    current: Any,
    *,
    segment: str,
    min_rows: int = 30,
    max_segments: int = 100,
    alpha: float = 0.05,
    psi_threshold: float = 0.2,
    wasserstein_threshold: float = 0.1,
    js_threshold: float = 0.1,
    methods: dict[str, str] | None = None,
    thresholds: dict[str, float] | None = None,
    threads: int | None = None,
    correction: str = "holm",
) -> SegmentedDriftResult:
    """Checks ``current`` data segment by segment of its column ``segment``, with the
    same tests as ``check_drift`` in each segment and the error rate controlled across
    all of them (``correction``). With a ``SegmentedBaseline`` (a cohort, any column of
    the reference), each segment is compared with its own part of the reference; with a
    ``Baseline`` (a version or an A/B arm: not a property of the data), with the whole.
    Segments with fewer than ``min_rows`` rows, or that the reference never saw, are
    listed but not tested."""

@final
class Monitor:
    """Scheduled monitoring of an ``Engine``: aggregation, data-quality and drift jobs,
    alert rules with episodes, cooldown and no-data policies, retraining requests with
    safety checks and an approval workflow, webhook and callback notifications.

    Call ``tick`` yourself, or ``start`` a background thread that ticks every
    ``interval``. Every call into the engine releases the GIL; callbacks run with the
    GIL taken, on the thread that ticks (never tick from a callback).

    Records come back as dicts with snake_case keys (see ``TickReport``,
    ``AlertEvent``, ``RetrainingRequest``); ``trigger_details`` is free-form data, kept
    as stored. Rules and configuration layers given to the monitor take the original
    design's camelCase field names (``ruleName``, ``aggregation.driftCheck``) or their
    snake_case spelling; errors name fields in camelCase.
    """

    def __new__(
        cls,
        engine: Engine,
        *,
        interval: _Seconds = 10.0,
        webhook_timeout: _Seconds = 5.0,
        webhook_retries: int = 3,
    ) -> Monitor:
        """A monitor of ``engine`` (no thread is started). ``interval``: seconds (or a
        ``timedelta``) between ticks of the ``start`` thread; ``webhook_timeout`` per
        webhook attempt and ``webhook_retries`` after the first attempt (5xx, 429 and
        network errors are retried with backoff). A duration that is not positive and
        finite raises ``InvalidInputError``; a wrong type ``TypeError``."""
    def tick(self) -> TickReport:
        """Runs what is due now by the engine's clock: aggregation, data-quality and
        drift jobs, retraining conditions, then every enabled alert rule. Returns the
        report (jobs run, alerts fired and resolved, retraining requests made, every
        rule's state). A job or rule that fails is reported in it; ``StorageError``
        when rules, configurations or models cannot be read."""
    def start(self) -> None:
        """Starts a background thread that ticks every ``interval`` (the first tick
        right away); a no-op when it already runs. ``InternalError`` if the thread
        cannot start."""
    def stop(self) -> None:
        """Stops the background thread, after the tick in progress; a no-op when it
        does not run. A monitor that is garbage-collected stops its thread too."""
    @property
    def running(self) -> bool:
        """Whether the background thread runs."""
    def last_report(self) -> TickReport | None:
        """The report of the last tick (by ``tick`` or the thread), ``None`` before."""
    def on_alert(self, callback: Callable[[AlertNotification], object]) -> None:
        """Calls ``callback({"kind": "fired" | "resolved", "alert": {...}})`` for every
        alert of a rule with the ``callback`` channel (the default). An exception it
        raises is printed to stderr and recorded in the alert's ``notifications`` as a
        failed delivery; it does not stop the tick. ``TypeError`` when
        ``callback`` is not callable."""
    def on_retraining_approved(self, callback: Callable[[RetrainingRequest], object]) -> None:
        """Calls ``callback(request)`` with every request approved through this monitor
        (its ``training_job_id`` set). An exception it raises is printed to stderr.
        ``TypeError`` when ``callback`` is not callable."""
    def set_config(
        self,
        config: dict[str, Any],
        model_name: str | None = None,
        model_version: str | None = None,
    ) -> dict[str, Any]:
        """Sets the configuration layer of the global scope (no model), of a model or of
        one version: only the fields it names, over the layers below it (defaults,
        global, model, version). Durations are strings like ``"6h"``. Returns the stored
        layer (``id``, ``model_name``, ``model_version``, ``config``, ``updated_at``).
        ``InvalidInputError`` naming the field (e.g. ``aggregation.driftCheck``) for an
        unknown field or a bad value, or for a version without a model; ``TypeError``
        when ``config`` is not a dict."""
    def config_layer(
        self, model_name: str | None = None, model_version: str | None = None
    ) -> dict[str, Any] | None:
        """The layer set for the scope, as ``set_config`` returns it, or ``None``."""
    def clear_config(self, model_name: str | None = None, model_version: str | None = None) -> bool:
        """Removes the layer of the scope; ``True`` if there was one."""
    def config(self, model_name: str | None = None, model_version: str | None = None) -> dict[str, Any]:
        """The configuration in effect (every field, snake_case keys) for a model
        version, a model, or globally. ``InvalidInputError`` if the stored layers no
        longer combine."""
    def put_rule(self, rule: dict[str, Any]) -> dict[str, Any]:
        """Saves an alert rule (``ruleName``, ``alertType``, ``condition`` with
        ``metric``, ``operator``, ``threshold``; optional ``modelName``,
        ``modelVersion``, ``severity``, ``notificationChannels``, ``noData``,
        ``cooldown``, ``requestRetraining``, ``enabled``), replacing the rule with the
        same ``id``; a rule without one gets a new id. Returns the stored rule.
        ``InvalidInputError`` naming the field; ``TypeError`` when ``rule`` is not a
        dict."""
    def rules(self) -> list[dict[str, Any]]:
        """The stored alert rules."""
    def delete_rule(self, id: str) -> None:
        """Deletes the rule ``id`` (its alerts stay). ``NotFoundError`` if there is
        none."""
    def alerts(
        self,
        model_name: str | None = None,
        model_version: str | None = None,
        severity: Literal["info", "warning", "critical"] | None = None,
        status: Literal["firing", "resolved"] | None = None,
        acknowledged: bool | None = None,
        limit: int | None = None,
    ) -> list[AlertEvent]:
        """Alert events matching every filter given, newest first.
        ``InvalidInputError`` for an unknown severity or status."""
    def alert(self, id: str) -> AlertEvent:
        """The alert event ``id``; ``NotFoundError`` if there is none."""
    def acknowledge(self, id: str, by: str) -> AlertEvent:
        """Acknowledges the alert ``id`` as ``by``; returns the event (a second
        acknowledgment keeps the first's who and when). ``NotFoundError`` for an
        unknown id, ``InvalidInputError`` for a blank ``by``."""
    def rule_statuses(self) -> list[RuleStatus]:
        """The last evaluation of every rule, per model version."""
    def flush_notifications(self, timeout: _Seconds = 10.0) -> bool:
        """Waits up to ``timeout`` seconds for queued webhook deliveries to end;
        ``True`` if none is left."""
    def retraining_requests(
        self,
        model_name: str | None = None,
        status: Literal["pending_approval", "approved", "rejected", "completed", "blocked"]
        | None = None,
    ) -> list[RetrainingRequest]:
        """Retraining requests (of ``model_name``, with ``status``), newest first.
        ``InvalidInputError`` for an unknown status."""
    def retraining_request(self, id: str) -> RetrainingRequest:
        """The request ``id``; ``NotFoundError`` if there is none."""
    def request_retraining(
        self, model: str, by: str | None = None, details: Any = None
    ) -> RetrainingRequest:
        """Requests retraining of ``model`` (``"name"`` for its newest version, or
        ``"name:version"``) by hand, through the safety checks of its configuration:
        the request comes back ``pending_approval``, or ``blocked`` with the failed
        checks (``passed`` false, ``actual`` vs ``required``) in ``safety_checks``.
        ``details`` is any JSON-like value. ``NotFoundError`` for an unknown model."""
    def approve(self, id: str, by: str, reason: str | None = None) -> RetrainingRequest:
        """Approves the pending request ``id``: sets ``training_job_id`` and calls the
        ``on_retraining_approved`` callbacks. ``InvalidTransitionError`` unless it is
        pending; ``NotFoundError`` for an unknown id."""
    def reject(self, id: str, by: str, reason: str | None = None) -> RetrainingRequest:
        """Rejects the pending request ``id``. ``InvalidTransitionError`` unless it is
        pending; ``NotFoundError`` for an unknown id."""
    def complete(self, id: str) -> RetrainingRequest:
        """Marks the approved request ``id`` completed. ``InvalidTransitionError``
        unless it is approved."""

@final
class Adwin:
    """ADWIN (Bifet & Gavaldà 2007): a window of recent values, kept as an exponential
    histogram, cut whenever its older and newer parts differ in mean by more than a bound at
    confidence ``delta``; a cut is a change. Settings as River's ``drift.ADWIN``."""

    def __new__(
        cls,
        *,
        delta: float = 0.002,
        max_buckets: int = 5,
        clock: int = 32,
        min_window_length: int = 5,
        grace_period: int = 10,
    ) -> Adwin:
        """Raises ``InvalidInputError`` unless ``0 < delta < 1``, ``max_buckets >= 2`` and
        ``clock``, ``min_window_length`` are at least 1."""
    def update(self, value: float) -> bool:
        """Reads one value; ``True`` when the window was cut. Raises
        ``InvalidInputError`` for NaN or infinity (the state is unchanged)."""
    def update_many(self, values: Any) -> list[int]:
        """Reads a 1-D array-like of numbers (a float64 numpy array is read in place,
        without the GIL); returns the positions after which the window was cut. A NaN
        or infinity anywhere raises ``InvalidInputError`` and nothing is read."""
    @property
    def width(self) -> int:
        """Values in the window."""
    @property
    def mean(self) -> float:
        """Mean of the window (0 when empty)."""
    @property
    def variance(self) -> float:
        """Population variance of the window."""
    @property
    def changes(self) -> int:
        """Cuts so far."""
    def to_json(self) -> str:
        """The whole state, to save and resume the detector."""
    @staticmethod
    def from_json(state: str) -> Adwin:
        """A detector saved by ``to_json``; ``InvalidInputError`` for anything else."""

@final
class PageHinkley:
    """The Page–Hinkley test for a change in the mean, with a forgetting factor
    ``alpha``; ``direction`` is ``"up"``, ``"down"`` or ``"both"``. ``threshold`` is in
    the data's units. Settings as River's ``drift.PageHinkley``."""

    def __new__(
        cls,
        *,
        min_instances: int = 30,
        delta: float = 0.005,
        threshold: float = 50.0,
        alpha: float = 0.9999,
        direction: str = "both",
    ) -> PageHinkley:
        """Raises ``InvalidInputError`` for a negative ``delta``, a threshold that is not
        positive, ``alpha`` outside (0, 1] or an unknown direction."""
    def update(self, value: float) -> bool:
        """Reads one value; ``True`` when it completes a change (the test then starts
        afresh). ``InvalidInputError`` for NaN or infinity."""
    def update_many(self, values: Any) -> list[int]:
        """Reads a 1-D array-like; returns the positions of the values that completed a
        change. A NaN or infinity anywhere raises ``InvalidInputError`` and nothing is
        read."""
    @property
    def count(self) -> int:
        """Values read since the last change."""
    @property
    def changes(self) -> int:
        """Changes so far."""
    def to_json(self) -> str:
        """The whole state, to save and resume the detector."""
    @staticmethod
    def from_json(state: str) -> PageHinkley:
        """A detector saved by ``to_json``; ``InvalidInputError`` for anything else."""

class HarperEdgeError(Exception):
    """Base class of every error harper-edge raises."""

    code: str
    """Stable error code, e.g. ``HARPER_EDGE_NOT_FOUND``."""

class InvalidInputError(HarperEdgeError):
    """An argument or a piece of data is malformed or out of range."""

class ShapeError(HarperEdgeError):
    """A tensor does not have the shape or data type the model declares."""

class ModelLoadError(HarperEdgeError):
    """A model file could not be parsed, optimised or prepared by its backend."""

class BackendNotCompiledError(HarperEdgeError):
    """The backend exists but was not compiled into this build."""

class BackendError(HarperEdgeError):
    """A compiled-in backend failed while running a model."""

class NotFoundError(HarperEdgeError):
    """A record the caller named does not exist."""

class ConflictError(HarperEdgeError):
    """The operation contradicts a record that already exists."""

class InvalidTransitionError(HarperEdgeError):
    """A state machine was asked for a transition it does not allow."""

class IoError(HarperEdgeError):
    """A file-system operation failed."""

class NetworkError(HarperEdgeError):
    """A network request failed."""

class IntegrityError(HarperEdgeError):
    """Stored or fetched data does not match its checksum or is otherwise corrupt."""

class CapacityError(HarperEdgeError):
    """A configured limit (size, buffer capacity, concurrency) was reached."""

class StorageError(HarperEdgeError):
    """The record store failed."""

class InternalError(HarperEdgeError):
    """A bug in harper-edge (a panic caught at the boundary); please report it."""

def use_onnxruntime(path: str | os.PathLike[str]) -> bool:
    """Uses the ONNX Runtime library at ``path`` for models on the ort backend
    (``metadata={"backend": "ort"}``), before the first one loads.

    Returns False when a library was already chosen. ``harper_edge`` calls it at import
    with this interpreter's ``onnxruntime`` package, when one is installed and
    ``ORT_DYLIB_PATH`` is not set.
    """

def benchmark_markdown(result: BenchmarkResult) -> str:
    """A benchmark result as Markdown tables (a row per model; a row per model and
    batch size × concurrency), as ``harper-edge bench`` prints it."""

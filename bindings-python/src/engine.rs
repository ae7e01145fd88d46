//! `Engine` and the `Prediction` it returns.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use harper_edge_core::drift::baseline::BaselineConfig;
use harper_edge_core::drift::check::{ConceptDriftConfig, DriftType};
use harper_edge_core::drift::distance::PsiConfig;
use harper_edge_core::drift::records::{DriftQuery, LabelCounts, ModelBaseline};
use harper_edge_core::monitor::{CurrentData, DriftCheckConfig};
use harper_edge_core::telemetry::Columns;
use harper_edge_core::{
    BaselineOptions, Engine, EventQuery, Framework, InferContext, ModelRef, ModelRegistration,
    Prediction, SqliteStore, Stage,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::columns::{self, Times};
use crate::error::Detach;
use crate::fetch;
use crate::json;
use crate::monitor::{self, PyBaseline, PyDriftResult};
use crate::registry::PyModel;
use crate::segments::{self, PySegmentedDriftResult};
use crate::telemetry::{self, PyInferenceEvent, Seconds, TelemetrySettings};
use crate::tensor;
use crate::text;
use harper_edge_core::report::{self, HealthQuery, ModelHealth, RenderOptions};

/// The default `retention` of stored events: 30 days, in seconds.
const RETENTION_SECONDS: f64 = 30.0 * 24.0 * 3600.0;

/// Registers, resolves and runs models; records every call.
///
/// Thread-safe: share one engine across threads. Every call that loads a model, runs one or
/// touches the store releases the GIL.
#[pyclass(frozen, name = "Engine", module = "harper_edge")]
#[derive(Debug)]
pub(crate) struct PyEngine {
    /// Shared with the `Monitor`s of this engine.
    inner: Arc<Engine>,
    home: Option<PathBuf>,
}

impl PyEngine {
    /// The engine, shared (for a `Monitor`).
    pub(crate) fn shared(&self) -> Arc<Engine> {
        Arc::clone(&self.inner)
    }
}

#[pymethods]
impl PyEngine {
    /// An engine on the embedded SQLite store in directory `home` (created if missing); by
    /// default `$HARPER_EDGE_HOME`, else `./.harper-edge`. The keywords set how telemetry
    /// keeps raw events and how often it is written (see `in_memory`).
    #[staticmethod]
    #[pyo3(signature = (
        home=None,
        *,
        event_capacity=100_000,
        overflow="drop_oldest",
        sample_rate=1.0,
        retention=Seconds::of(RETENTION_SECONDS),
        tick_interval=Seconds::of(1.0),
        drift_sample_size=10_000,
    ))]
    // The text signature spells out the defaults `Seconds::of` hides from pyo3 (help(),
    // inspect and stubtest show it).
    #[pyo3(text_signature = "(home=None, *, event_capacity=100000, overflow='drop_oldest', \
                             sample_rate=1.0, retention=2592000.0, tick_interval=1.0, \
                             drift_sample_size=10000)")]
    #[allow(clippy::too_many_arguments, reason = "the arguments of the Python method")]
    fn open(
        py: Python<'_>,
        home: Option<PathBuf>,
        event_capacity: i64,
        overflow: &str,
        sample_rate: f64,
        retention: Seconds,
        tick_interval: Seconds,
        drift_sample_size: i64,
    ) -> PyResult<Self> {
        let settings = TelemetrySettings {
            event_capacity,
            overflow,
            sample_rate,
            retention,
            tick_interval,
            drift_sample_size,
        };
        let home = home.unwrap_or_else(Engine::default_home);
        let inner = py.run_core(|| {
            // Settings first: invalid ones create no directory.
            let builder = settings.builder()?;
            // The home is also the data directory fetched model files go to.
            builder.store(Arc::new(SqliteStore::open(&home)?)).data_dir(&home).build()
        })?;
        Ok(PyEngine { inner: Arc::new(inner), home: Some(home) })
    }

    /// An engine whose records live in memory only.
    ///
    /// Telemetry keywords (also of `open`): `event_capacity` raw events buffered between
    /// writes, `overflow` (`"drop_oldest"` or `"reject"`) when the buffer is full,
    /// `sample_rate` share of successful calls whose raw event is kept, `retention` of stored
    /// events (seconds or a timedelta; `None` keeps them forever), `tick_interval` of the
    /// background writer (`None`: no thread, call `tick()` yourself), `drift_sample_size`
    /// calls kept in the drift window of each model version with a baseline.
    #[staticmethod]
    #[pyo3(signature = (
        *,
        event_capacity=100_000,
        overflow="drop_oldest",
        sample_rate=1.0,
        retention=Seconds::of(RETENTION_SECONDS),
        tick_interval=Seconds::of(1.0),
        drift_sample_size=10_000,
    ))]
    #[pyo3(text_signature = "(*, event_capacity=100000, overflow='drop_oldest', sample_rate=1.0, \
                             retention=2592000.0, tick_interval=1.0, drift_sample_size=10000)")]
    #[allow(clippy::too_many_arguments, reason = "the arguments of the Python method")]
    fn in_memory(
        py: Python<'_>,
        event_capacity: i64,
        overflow: &str,
        sample_rate: f64,
        retention: Seconds,
        tick_interval: Seconds,
        drift_sample_size: i64,
    ) -> PyResult<Self> {
        let settings = TelemetrySettings {
            event_capacity,
            overflow,
            sample_rate,
            retention,
            tick_interval,
            drift_sample_size,
        };
        let inner = py.run_core(|| settings.builder()?.build())?;
        Ok(PyEngine { inner: Arc::new(inner), home: None })
    }

    /// Registers the model file at `path` as `name:version`; loads it first, so a corrupt or
    /// unsupported file is refused now. Registering the same file again returns the record.
    #[pyo3(signature = (name, version, path, *, framework="onnx", stage="candidate", metadata=None))]
    #[allow(clippy::too_many_arguments, reason = "the arguments of the Python method")]
    fn register_model(
        &self,
        py: Python<'_>,
        name: &str,
        version: &str,
        path: PathBuf,
        framework: &str,
        stage: &str,
        metadata: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyModel> {
        let metadata = metadata.map(json::from_py).transpose()?;
        py.run_core(|| {
            let mut registration =
                ModelRegistration::new(name, version, framework.parse::<Framework>()?)
                    .file(path)
                    .stage(stage.parse::<Stage>()?);
            if let Some(metadata) = metadata {
                registration = registration.metadata(metadata);
            }
            self.inner.register_model(registration)
        })
        .map(PyModel::from)
    }

    /// Registered models that pass every filter given (`task_type`: the metadata's
    /// `taskType`), oldest registration first.
    #[pyo3(signature = (name=None, framework=None, task_type=None, stage=None))]
    fn list_models(
        &self,
        py: Python<'_>,
        name: Option<String>,
        framework: Option<String>,
        task_type: Option<String>,
        stage: Option<String>,
    ) -> PyResult<Vec<PyModel>> {
        let filter = fetch::model_filter(py, name, framework, task_type, stage)?;
        let models = py.run_core(|| self.inner.list_models(&filter))?;
        Ok(models.into_iter().map(PyModel::from).collect())
    }

    /// Removes the model version `ref` names (`"name:version"`), with its fetch job and the
    /// files no other model uses; returns its record.
    #[pyo3(signature = (r#ref))]
    fn remove_model(&self, py: Python<'_>, r#ref: &str) -> PyResult<PyModel> {
        py.run_core(|| self.inner.remove_model(&r#ref.parse::<ModelRef>()?)).map(PyModel::from)
    }

    /// Queues a fetch of `source` for `name:version` (registered once verified unless
    /// `register=False`); returns the job as a dict (camelCase keys).
    #[pyo3(signature = (
        name, version, source, *, variant=None, sha256=None, files=None, revision=None,
        framework=None, stage=None, metadata=None, main_file=None, register=true, options=None,
    ))]
    #[allow(clippy::too_many_arguments, reason = "the arguments of the Python method")]
    fn fetch_model<'py>(
        &self,
        py: Python<'py>,
        name: String,
        version: String,
        source: &Bound<'py, PyAny>,
        variant: Option<String>,
        sha256: Option<String>,
        files: Option<Vec<String>>,
        revision: Option<String>,
        framework: Option<String>,
        stage: Option<String>,
        metadata: Option<&Bound<'py, PyAny>>,
        main_file: Option<String>,
        register: bool,
        options: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = fetch::FetchArgs {
            name,
            version,
            source,
            variant,
            sha256,
            files,
            revision,
            framework,
            stage,
            metadata,
            main_file,
            register,
            options,
        }
        .request(py)?;
        let job = py.run_core(|| self.inner.fetch_model(request))?;
        json::record_to_py(py, serde_json::to_value(&job))
    }

    /// Waits until fetch job `job_id` has ended or `timeout` seconds have passed (`None`:
    /// no limit), with the GIL released; calls `progress(job)` about every 200 ms meanwhile
    /// and once with the job returned. Returns the job as it is then.
    #[pyo3(signature = (job_id, timeout=None, progress=None))]
    fn wait_job<'py>(
        &self,
        py: Python<'py>,
        job_id: &str,
        timeout: Option<Seconds>,
        progress: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let timeout = fetch::timeout("timeout", timeout)?;
        let queue = py.run_core(|| self.inner.fetch_queue())?;
        fetch::wait_job(py, &queue, job_id, timeout, progress)
    }

    /// The fetch job `job_id` (`name:version`).
    fn fetch_job<'py>(&self, py: Python<'py>, job_id: &str) -> PyResult<Bound<'py, PyAny>> {
        let job = py.run_core(|| self.inner.fetch_queue()?.get(job_id))?;
        json::record_to_py(py, serde_json::to_value(&job))
    }

    /// Fetch jobs (of `model_name`, in `state`), newest first.
    #[pyo3(signature = (model_name=None, state=None, limit=None))]
    fn fetch_jobs<'py>(
        &self,
        py: Python<'py>,
        model_name: Option<String>,
        state: Option<String>,
        limit: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let filter = fetch::job_filter(py, model_name, state, limit)?;
        let jobs = py.run_core(|| self.inner.fetch_queue()?.list(&filter))?;
        json::record_to_py(py, serde_json::to_value(&jobs))
    }

    /// Cancels fetch job `job_id`; returns it, now `cancelled`.
    fn cancel_job<'py>(&self, py: Python<'py>, job_id: &str) -> PyResult<Bound<'py, PyAny>> {
        let job = py.run_core(|| self.inner.fetch_queue()?.cancel(job_id))?;
        json::record_to_py(py, serde_json::to_value(&job))
    }

    /// Queues the failed or cancelled fetch job `job_id` again; returns it.
    fn retry_job<'py>(&self, py: Python<'py>, job_id: &str) -> PyResult<Bound<'py, PyAny>> {
        let job = py.run_core(|| self.inner.fetch_queue()?.retry(job_id))?;
        json::record_to_py(py, serde_json::to_value(&job))
    }

    /// Deploys the profile file at `path`: registers its models, fetching what is missing;
    /// returns the report as a dict (camelCase keys).
    #[pyo3(signature = (path, *, root=None, dry_run=false, timeout=None, progress=None))]
    fn deploy_profile<'py>(
        &self,
        py: Python<'py>,
        path: PathBuf,
        root: Option<PathBuf>,
        dry_run: bool,
        timeout: Option<Seconds>,
        progress: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        fetch::deploy(py, &self.inner, fetch::DeployArgs { path, root, dry_run, timeout, progress })
    }

    /// Every registered model, oldest registration first.
    fn models(&self, py: Python<'_>) -> PyResult<Vec<PyModel>> {
        let models = py.run_core(|| self.inner.models())?;
        Ok(models.into_iter().map(PyModel::from).collect())
    }

    /// The model `ref` names: `"name:version"`, or `"name"` for its newest version.
    #[pyo3(name = "model", signature = (r#ref))]
    fn model_(&self, py: Python<'_>, r#ref: &str) -> PyResult<PyModel> {
        py.run_core(|| self.inner.model(&r#ref.parse::<ModelRef>()?)).map(PyModel::from)
    }

    /// Runs `model` on `x` and records the call.
    #[pyo3(signature = (model, x, *, user_id=None, session_id=None, request_id=None, allow_copy=false))]
    #[allow(clippy::too_many_arguments, reason = "the arguments of the Python method")]
    fn infer(
        &self,
        py: Python<'_>,
        model: &str,
        x: &Bound<'_, PyAny>,
        user_id: Option<String>,
        session_id: Option<String>,
        request_id: Option<String>,
        allow_copy: bool,
    ) -> PyResult<PyPrediction> {
        let held = tensor::hold_inputs(x, allow_copy)?;
        let inputs = tensor::borrow_inputs(py, &held)?;
        let mut context = InferContext::new();
        if let Some(id) = user_id {
            context = context.user_id(id);
        }
        if let Some(id) = session_id {
            context = context.session_id(id);
        }
        if let Some(id) = request_id {
            context = context.request_id(id);
        }
        let prediction =
            py.run_core(|| self.inner.infer(&model.parse::<ModelRef>()?, &inputs, &context))?;
        PyPrediction::new(py, prediction)
    }

    /// Benchmarks the equivalence group `group` (models registered with the same metadata
    /// `taskType` and `equivalenceGroup`; `"taskType/group"` when two task types share the
    /// name), with the GIL released: each model is loaded afresh (load time, peak memory), run
    /// once on the agreement inputs and compared with the reference model (cosine for
    /// embeddings, labels for classifiers, max abs difference otherwise), then timed at every
    /// batch size × concurrency (`warmup` unmeasured calls, then `iterations` timed ones;
    /// latency percentiles in µs, throughput in items per second). `inputs`: a list of str,
    /// or rows (a 2-D array or a list of lists); default synthetic. `progress(dict)` is called
    /// with `model`, `phase`, `done`, `total` at each phase and every 50 ms. Returns the
    /// `BenchmarkResult` as a dict (camelCase keys), stored unless `persist=False`.
    #[pyo3(signature = (
        group, *, batch_sizes=vec![1], concurrency=vec![1], iterations=50, warmup=5,
        inputs=None, reference=None, min_cosine=0.99, max_abs_diff=1e-3,
        min_label_agreement=1.0, run_by=None, notes=None, persist=true, progress=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn benchmark<'py>(
        &self,
        py: Python<'py>,
        group: &str,
        batch_sizes: Vec<usize>,
        concurrency: Vec<usize>,
        iterations: usize,
        warmup: usize,
        inputs: Option<&Bound<'py, PyAny>>,
        reference: Option<String>,
        min_cosine: f64,
        max_abs_diff: f64,
        min_label_agreement: f64,
        run_by: Option<String>,
        notes: Option<String>,
        persist: bool,
        progress: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = crate::bench::BenchArgs {
            batch_sizes,
            concurrency,
            iterations,
            warmup,
            inputs,
            reference,
            min_cosine,
            max_abs_diff,
            min_label_agreement,
            run_by,
            notes,
            persist,
            progress,
        };
        crate::bench::benchmark(py, &self.inner, group, args)
    }

    /// The equivalence groups of the registered models: dicts with `taskType`,
    /// `equivalenceGroup`, `modelIds`, `outputDimensions` and `problem` (why it cannot be
    /// benchmarked, or None).
    fn benchmark_groups<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let groups = py.run_core(|| self.inner.benchmark_groups())?;
        json::record_to_py(py, serde_json::to_value(&groups))
    }

    /// Stored benchmark results, newest first: of `group`, started in `[start, end)` (aware
    /// datetimes), at most `limit` (default 100).
    #[pyo3(signature = (group=None, *, start=None, end=None, limit=None))]
    fn benchmark_history<'py>(
        &self,
        py: Python<'py>,
        group: Option<String>,
        start: Option<&Bound<'py, PyAny>>,
        end: Option<&Bound<'py, PyAny>>,
        limit: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::bench::history(py, &self.inner, group, start, end, limit)
    }

    /// The stored benchmark result `id` (a dict); `NotFoundError` for an unknown id.
    fn benchmark_result<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        let result = py.run_core(|| self.inner.benchmark_result(id))?;
        json::record_to_py(py, serde_json::to_value(&result))
    }

    /// Embeds `texts` (a list of str) with the embeddings model `model`, all in one call of
    /// the model; returns a float32 array of shape `(len(texts), dim)`. The call is recorded.
    #[pyo3(signature = (model, texts))]
    fn embed<'py>(
        &self,
        py: Python<'py>,
        model: &str,
        texts: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        text::embed(py, &self.inner, model, texts)
    }

    /// Asks the chat model `model` to answer `prompt_or_messages` (a str, or a list of
    /// `{"role", "content"}` dicts), `system` first when given; streams each piece to
    /// `on_token(piece)`. Returns the result as a dict (camelCase keys).
    #[pyo3(signature = (model, prompt_or_messages, *, system=None, on_token=None))]
    fn chat<'py>(
        &self,
        py: Python<'py>,
        model: &str,
        prompt_or_messages: &Bound<'py, PyAny>,
        system: Option<String>,
        on_token: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ask = text::Ask::chat(prompt_or_messages, system)?;
        text::generate(py, &self.inner, model, &ask, on_token)
    }

    /// Asks the text-generating model `model` to complete `prompt`, streaming each piece to
    /// `on_token(piece)`. Returns the result as a dict (camelCase keys).
    #[pyo3(signature = (model, prompt, *, on_token=None))]
    fn generate<'py>(
        &self,
        py: Python<'py>,
        model: &str,
        prompt: String,
        on_token: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        text::generate(py, &self.inner, model, &text::Ask::Text(prompt), on_token)
    }

    /// Registers the model `model` of a local Ollama daemon as `name:version` (no daemon is
    /// needed to register: it is asked at the first call).
    #[pyo3(signature = (
        name, version, model, *, mode="chat", host=None, options=None, read_timeout=None,
        stage="candidate", metadata=None,
    ))]
    #[allow(clippy::too_many_arguments, reason = "the arguments of the Python method")]
    fn register_ollama(
        &self,
        py: Python<'_>,
        name: &str,
        version: &str,
        model: String,
        mode: &str,
        host: Option<String>,
        options: Option<&Bound<'_, PyAny>>,
        read_timeout: Option<Seconds>,
        stage: &str,
        metadata: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyModel> {
        let args = text::OllamaArgs {
            name,
            version,
            model,
            mode,
            host,
            options,
            read_timeout,
            stage,
            metadata,
        };
        text::register_ollama(py, &self.inner, args)
    }

    /// Recorded events, newest first; with `as_frame`, as a pandas DataFrame.
    #[pyo3(signature = (model=None, version=None, limit=100, *, as_frame=false))]
    fn events<'py>(
        &self,
        py: Python<'py>,
        model: Option<String>,
        version: Option<String>,
        limit: usize,
        as_frame: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut query = EventQuery::new().limit(limit);
        if let Some(model) = model {
            query = query.model(model);
        }
        if let Some(version) = version {
            query = query.version(version);
        }
        let events = py.run_core(|| self.inner.events(&query))?;
        let events = PyList::new(py, events.into_iter().map(PyInferenceEvent::from))?;
        if as_frame {
            // pandas is optional: imported (by the helper) only when a frame is asked for.
            let frame = py.import(pyo3::intern!(py, "harper_edge._frame"))?;
            return frame.call_method1(pyo3::intern!(py, "events_frame"), (events,));
        }
        Ok(events.into_any())
    }

    /// The event of one call.
    fn event(&self, py: Python<'_>, inference_id: &str) -> PyResult<PyInferenceEvent> {
        py.run_core(|| self.inner.event(inference_id)).map(PyInferenceEvent::from)
    }

    /// Records the ground truth of an earlier call; returns the updated event.
    fn feedback(
        &self,
        py: Python<'_>,
        inference_id: &str,
        outcome: &Bound<'_, PyAny>,
    ) -> PyResult<PyInferenceEvent> {
        let outcome = json::from_py(outcome)?;
        py.run_core(|| self.inner.feedback(inference_id, outcome)).map(PyInferenceEvent::from)
    }

    /// The real-time view of `model` (`"name"` for its newest version, or `"name:version"`):
    /// calls, errors, latency percentiles, confidence and accuracy over the last five minutes,
    /// as a dict with snake_case keys.
    fn realtime<'py>(&self, py: Python<'py>, model: &str) -> PyResult<Bound<'py, PyDict>> {
        let stats = py.run_core(|| self.inner.realtime(&model.parse::<ModelRef>()?))?;
        telemetry::realtime_to_py(py, &stats)
    }

    /// Counts calls of a model the host runs itself, given as columns (one entry per call):
    /// `latency_ms`, and optionally `errors` (failed calls), `confidence` (NaN: none) and
    /// `timestamps` (epoch milliseconds; now when `None`). Returns how many calls were
    /// counted. Columns that are C-contiguous numpy arrays of the column's dtype are read in
    /// place with the GIL released; lists of plain numbers are read directly; other
    /// array-likes are converted with numpy first.
    #[pyo3(signature = (model, latency_ms, *, errors=None, confidence=None, timestamps=None))]
    fn record_batch(
        &self,
        py: Python<'_>,
        model: &str,
        latency_ms: &Bound<'_, PyAny>,
        errors: Option<&Bound<'_, PyAny>>,
        confidence: Option<&Bound<'_, PyAny>>,
        timestamps: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        let latency = columns::float64(latency_ms, "latency_ms")?;
        let errors = errors.map(|c| columns::flags(c, "errors")).transpose()?;
        let confidence = confidence.map(|c| columns::float64(c, "confidence")).transpose()?;
        let times = timestamps.map(|c| columns::times(c, "timestamps")).transpose()?;
        let latency_ms = latency.as_slice()?;
        let errors = errors.as_ref().map(|c| c.as_slice()).transpose()?;
        let confidence = confidence.as_ref().map(|c| c.as_slice()).transpose()?;
        // Ok: int64 times, Err: float64 times (`Columns` is generic over the two).
        let times = match &times {
            None => None,
            Some(Times::I64(t)) => Some(Ok(t.as_slice()?)),
            Some(Times::F64(t)) => Some(Err(t.as_slice()?)),
        };
        py.run_core(|| {
            let series = self.inner.series(&model.parse::<ModelRef>()?)?;
            let now = self.inner.recorder().now();
            match times {
                None => series.observe_columns(
                    &Columns { latency_ms, errors, confidence, timestamps: None::<&[i64]> },
                    now,
                ),
                Some(Ok(t)) => series.observe_columns(
                    &Columns { latency_ms, errors, confidence, timestamps: Some(t) },
                    now,
                ),
                Some(Err(t)) => series.observe_columns(
                    &Columns { latency_ms, errors, confidence, timestamps: Some(t) },
                    now,
                ),
            }
        })
    }

    /// Records one call of a model the host runs itself as a raw event (a dict with the
    /// attributes of `InferenceEvent` as keys; `model_name`, `model_version` and `latency_ms`
    /// required): counts it in the model version's metrics and buffers the event for the
    /// store. Returns the event's id (generated when not given), for `feedback`.
    fn record_event(&self, py: Python<'_>, event: &Bound<'_, PyAny>) -> PyResult<String> {
        let event = telemetry::event_from_py(event, || self.inner.recorder().now())?;
        let id = event.id.clone();
        py.run_core(|| self.inner.recorder().record(event))?;
        Ok(id)
    }

    /// What the telemetry has counted, buffered, written, dropped and sampled out so far, as
    /// a dict with snake_case keys.
    fn telemetry_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = py.run_core(|| Ok(self.inner.telemetry_stats()))?;
        telemetry::stats_to_py(py, &stats)
    }

    /// Writes the buffered events and the rollup rows of every 5-minute period that has ended,
    /// with the hourly and daily rows they roll up into; returns the rollup rows written, as
    /// dicts. The engine's background ticker does this every second already.
    fn tick<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let rows = py.run_core(|| self.inner.tick())?;
        telemetry::metrics_to_py(py, &rows)
    }

    /// Like `tick`, but also writes the periods still open (later flushes complete their
    /// rows). Call it before reading the current period's rollups, or before exiting.
    fn flush<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let rows = py.run_core(|| self.inner.flush())?;
        telemetry::metrics_to_py(py, &rows)
    }

    /// Stored rollup rows of `model` (`"name"` for every version, or `"name:version"`) at
    /// `granularity`, oldest period first, as dicts with snake_case keys; with `as_frame`, as
    /// a pandas DataFrame.
    ///
    /// With `segment`, the rows are split by that key (an event field — `modelVersion`,
    /// `userId`, `sessionId`, `framework` — or a feature of the calls, e.g. an A/B arm),
    /// computed from the stored calls; each row has `segment_key` and `segment` (`None` for
    /// calls without the key) in addition.
    #[pyo3(signature = (model, granularity="5min", *, version=None, start=None, end=None, limit=None, as_frame=false, segment=None))]
    #[allow(clippy::too_many_arguments, reason = "the arguments of the Python method")]
    fn metrics<'py>(
        &self,
        py: Python<'py>,
        model: &str,
        granularity: &str,
        version: Option<String>,
        start: Option<&Bound<'py, PyAny>>,
        end: Option<&Bound<'py, PyAny>>,
        limit: Option<usize>,
        as_frame: bool,
        segment: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let from = start.map(|t| telemetry::timestamp_from_py(t, "start")).transpose()?;
        let to = end.map(|t| telemetry::timestamp_from_py(t, "end")).transpose()?;
        let query = telemetry::metrics_query(model, granularity, version, from, to, limit)
            .map_err(|e| crate::error::to_py_err(py, &e))?;
        let rows = match &segment {
            None => telemetry::metrics_to_py(py, &py.run_core(|| self.inner.metrics(&query))?)?,
            Some(key) => {
                let split = py.run_core(|| self.inner.metrics_by_segment(&query, key))?;
                let list = pyo3::types::PyList::empty(py);
                for s in &split.segments {
                    for row in &s.rows {
                        let dict = telemetry::metrics_row_to_py(py, row)?;
                        dict.set_item("segment_key", key)?;
                        dict.set_item("segment", s.segment.as_deref())?;
                        list.append(dict)?;
                    }
                }
                list
            }
        };
        if as_frame {
            // pandas is optional: imported (by the helper) only when a frame is asked for.
            let frame = py.import(pyo3::intern!(py, "harper_edge._frame"))?;
            return frame
                .call_method1(pyo3::intern!(py, "metrics_frame"), (rows, segment.is_some()));
        }
        Ok(rows.into_any())
    }

    /// Sets the drift baseline of a model version (`"name:version"`, or `"name"` for the
    /// newest registered version), stores it and starts the version's drift window. Returns
    /// the stored record as a dict (without the statistics).
    #[pyo3(signature = (model, baseline, *, prediction_features=None, accuracy=None, source=None))]
    fn set_baseline<'py>(
        &self,
        py: Python<'py>,
        model: &str,
        baseline: &PyBaseline,
        prediction_features: Option<Vec<String>>,
        accuracy: Option<(u64, u64)>,
        source: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let stored = py.run_core(|| {
            let mut options = BaselineOptions::new();
            options.prediction_features = prediction_features;
            options.source = source;
            if let Some((correct, total)) = accuracy {
                options = options.accuracy(LabelCounts::new(correct, total)?);
            }
            self.inner.set_baseline(&model.parse::<ModelRef>()?, baseline.inner.clone(), options)
        })?;
        baseline_record_to_py(py, &stored)
    }

    /// Fits and sets the baseline of a model version from its stored calls between `start`
    /// (inclusive) and `end` (exclusive), with the accuracy of their feedback.
    ///
    /// `segment_by` names keys (a cohort or arm feature, or an event field: `userId`,
    /// `sessionId`, `modelVersion`, `framework`) to fit baselines per segment for, so that
    /// `check_drift(..., segment=key)` compares each segment with its own reference.
    #[pyo3(signature = (model, *, start=None, end=None, bins=10, segment_by=None, segment_min_rows=30))]
    #[allow(clippy::too_many_arguments, reason = "the arguments of the Python method")]
    fn fit_baseline<'py>(
        &self,
        py: Python<'py>,
        model: &str,
        start: Option<&Bound<'py, PyAny>>,
        end: Option<&Bound<'py, PyAny>>,
        bins: usize,
        segment_by: Option<Vec<String>>,
        segment_min_rows: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let from = start.map(|t| telemetry::timestamp_from_py(t, "start")).transpose()?;
        let to = end.map(|t| telemetry::timestamp_from_py(t, "end")).transpose()?;
        let config =
            BaselineConfig { psi: PsiConfig { bins, ..PsiConfig::default() }, max_sample: None };
        let mut options = BaselineOptions::new();
        options.segment_by = segment_by.unwrap_or_default();
        options.segment_min_rows = Some(segment_min_rows);
        let stored = py.run_core(|| {
            self.inner.fit_baseline(&model.parse::<ModelRef>()?, from, to, config, options)
        })?;
        baseline_record_to_py(py, &stored)
    }

    /// The drift baseline of a model version.
    fn baseline(&self, py: Python<'_>, model: &str) -> PyResult<PyBaseline> {
        let stored = py.run_core(|| self.inner.baseline(&model.parse::<ModelRef>()?))?;
        Ok(PyBaseline { inner: stored.baseline })
    }

    /// Checks a model version for drift against its baseline and stores the rows: the calls
    /// sampled since the last check (`current=None`), or `current` data (a DataFrame or a
    /// mapping of columns) with optional `labels=(correct, total)` for concept drift.
    #[pyo3(signature = (model, current=None, *, labels=None, alpha=0.05, psi_threshold=0.2, wasserstein_threshold=0.1, js_threshold=0.1, methods=None, thresholds=None, min_labeled_samples=100, accuracy_drop_threshold=0.05, correction="holm"))]
    #[allow(clippy::too_many_arguments, reason = "the arguments of the Python method")]
    fn check_drift(
        &self,
        py: Python<'_>,
        model: &str,
        current: Option<&Bound<'_, PyAny>>,
        labels: Option<(u64, u64)>,
        alpha: f64,
        psi_threshold: f64,
        wasserstein_threshold: f64,
        js_threshold: f64,
        methods: Option<BTreeMap<String, String>>,
        thresholds: Option<BTreeMap<String, f64>>,
        min_labeled_samples: u64,
        accuracy_drop_threshold: f64,
        correction: &str,
    ) -> PyResult<PyDriftResult> {
        let drift = monitor::drift_config(
            alpha,
            psi_threshold,
            wasserstein_threshold,
            js_threshold,
            methods,
            thresholds,
            None,
            correction,
        )?;
        let config = DriftCheckConfig {
            drift,
            concept: ConceptDriftConfig { min_labeled_samples, accuracy_drop_threshold, alpha },
            ..DriftCheckConfig::default()
        };
        let reference = model.parse::<ModelRef>().map_err(|e| crate::error::to_py_err(py, &e))?;
        let result = match current {
            None => {
                py.run_core(|| self.inner.check_drift(&reference, CurrentData::Window, &config))?
            }
            Some(data) => {
                let stored = py.run_core(|| self.inner.baseline(&reference))?;
                let names = stored.baseline.categorical_names();
                let table = monitor::Table::read(data, &names)?;
                table.with_columns(|columns| {
                    py.run_core(|| {
                        let labels = labels.map(|(c, t)| LabelCounts::new(c, t)).transpose()?;
                        self.inner.check_drift(
                            &reference,
                            CurrentData::Columns { columns, labels },
                            &config,
                        )
                    })
                })?
            }
        };
        PyDriftResult::from_check(&result)
    }

    /// Checks a model version for drift split by `segment` (a feature of the calls such as an
    /// A/B arm or cohort; for stored `events`, also an event field: `modelVersion`, `userId`,
    /// `sessionId`, `framework`): per-segment results with the error rate controlled across
    /// all segments. The current data are the drift window (`current=None`, not emptied),
    /// `current` columns, or `events` (`InferenceEvent`s or event dicts, e.g. from a table).
    /// Each segment is compared with its own reference segment when the baseline was fitted
    /// with `segment_by=[segment]`, else with the whole baseline. Nothing is stored.
    #[pyo3(signature = (model, current=None, *, segment, events=None, min_rows=30, max_segments=100, alpha=0.05, psi_threshold=0.2, wasserstein_threshold=0.1, js_threshold=0.1, methods=None, thresholds=None, correction="holm"))]
    #[allow(clippy::too_many_arguments, reason = "the arguments of the Python method")]
    fn check_drift_segments(
        &self,
        py: Python<'_>,
        model: &str,
        current: Option<&Bound<'_, PyAny>>,
        segment: &str,
        events: Option<&Bound<'_, PyAny>>,
        min_rows: u64,
        max_segments: usize,
        alpha: f64,
        psi_threshold: f64,
        wasserstein_threshold: f64,
        js_threshold: f64,
        methods: Option<BTreeMap<String, String>>,
        thresholds: Option<BTreeMap<String, f64>>,
        correction: &str,
    ) -> PyResult<PySegmentedDriftResult> {
        let drift = monitor::drift_config(
            alpha,
            psi_threshold,
            wasserstein_threshold,
            js_threshold,
            methods,
            thresholds,
            None,
            correction,
        )?;
        let config = DriftCheckConfig { drift, ..DriftCheckConfig::default() };
        let segments = segments::segment_config(segment, min_rows, max_segments);
        let reference = model.parse::<ModelRef>().map_err(|e| crate::error::to_py_err(py, &e))?;
        let report = match (current, events) {
            (Some(_), Some(_)) => {
                return Err(pyo3::exceptions::PyValueError::new_err(
                    "give current or events, not both",
                ));
            }
            (None, None) => py.run_core(|| {
                self.inner.check_drift_segments(&reference, CurrentData::Window, &segments, &config)
            })?,
            (None, Some(events)) => {
                let events = telemetry::events_from_py(events, || self.inner.recorder().now())?;
                py.run_core(|| {
                    self.inner.check_drift_segments(
                        &reference,
                        CurrentData::Events(&events),
                        &segments,
                        &config,
                    )
                })?
            }
            (Some(data), None) => {
                let stored = py.run_core(|| self.inner.baseline(&reference))?;
                let mut names = stored.baseline.categorical_names();
                names.push(segment.to_string());
                let table = monitor::Table::read(data, &names)?;
                table.with_columns(|columns| {
                    py.run_core(|| {
                        self.inner.check_drift_segments(
                            &reference,
                            CurrentData::Columns { columns, labels: None },
                            &segments,
                            &config,
                        )
                    })
                })?
            }
        };
        PySegmentedDriftResult::new(&report)
    }

    /// The health of a model version (`"name"`: its newest version): rollups of
    /// `granularity` in `[start, end)` (default: the last 288 periods), the newest drift
    /// check and data-quality row, alerts fired in the range, pending retraining requests —
    /// what `report_html` shows — as a dict (camelCase keys, as the Node binding and the
    /// HarperDB component use it).
    #[pyo3(signature = (model, *, granularity="5min", start=None, end=None))]
    fn model_health<'py>(
        &self,
        py: Python<'py>,
        model: &str,
        granularity: &str,
        start: Option<&Bound<'py, PyAny>>,
        end: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let query = health_query(py, granularity, start, end)?;
        let health =
            py.run_core(|| ModelHealth::collect(&self.inner, &model.parse::<ModelRef>()?, &query))?;
        json::record_to_py(py, serde_json::to_value(&health))
    }

    /// One self-contained HTML document (inline CSS and SVG, opens offline) of the health of
    /// `models` (`"name"` or `"name:version"`; default every registered model): request rate,
    /// errors and latency over time, the newest drift check with histograms, data quality,
    /// alerts and pending retraining requests. Open periods are flushed first.
    #[pyo3(signature = (models=None, *, granularity="5min", start=None, end=None, title=None))]
    fn report_html<'py>(
        &self,
        py: Python<'py>,
        models: Option<Vec<String>>,
        granularity: &str,
        start: Option<&Bound<'py, PyAny>>,
        end: Option<&Bound<'py, PyAny>>,
        title: Option<String>,
    ) -> PyResult<String> {
        let query = health_query(py, granularity, start, end)?;
        py.run_core(|| {
            self.inner.flush()?;
            let references: Vec<ModelRef> = models
                .iter()
                .flatten()
                .map(|m| m.parse())
                .collect::<harper_edge_core::Result<_>>()?;
            let health = ModelHealth::collect_many(&self.inner, &references, &query)?;
            Ok(report::render_model_page(
                &health,
                &RenderOptions { title, ..RenderOptions::default() },
            ))
        })
    }

    /// Writes `report_html(...)` to `path`; returns the number of bytes written.
    #[pyo3(signature = (path, models=None, *, granularity="5min", start=None, end=None, title=None))]
    #[allow(clippy::too_many_arguments, reason = "the arguments of the Python method")]
    fn save_report<'py>(
        &self,
        py: Python<'py>,
        path: PathBuf,
        models: Option<Vec<String>>,
        granularity: &str,
        start: Option<&Bound<'py, PyAny>>,
        end: Option<&Bound<'py, PyAny>>,
        title: Option<String>,
    ) -> PyResult<usize> {
        let html = self.report_html(py, models, granularity, start, end, title)?;
        py.run_core(|| {
            std::fs::write(&path, &html).map_err(|e| harper_edge_core::Error::io(&path, e))
        })?;
        Ok(html.len())
    }

    /// Stored `DriftMetrics` rows of `model` (`"name"` or `"name:version"`), newest first, as
    /// dicts with snake_case keys.
    #[pyo3(signature = (model, *, drift_type=None, start=None, end=None, limit=None))]
    fn drift_metrics<'py>(
        &self,
        py: Python<'py>,
        model: &str,
        drift_type: Option<&str>,
        start: Option<&Bound<'py, PyAny>>,
        end: Option<&Bound<'py, PyAny>>,
        limit: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let query = drift_query(model, drift_type, start, end, limit)?;
        let rows = py.run_core(|| self.inner.drift_metrics(&query))?;
        let value =
            serde_json::to_value(&rows).map_err(|e| crate::error::to_py_err(py, &e.into()))?;
        json::to_py(py, &monitor::snake_keys(&value))
    }

    /// Stored `DataQualityMetrics` rows of `model`, newest first, as dicts with snake_case
    /// keys.
    #[pyo3(signature = (model, *, start=None, end=None, limit=None))]
    fn data_quality<'py>(
        &self,
        py: Python<'py>,
        model: &str,
        start: Option<&Bound<'py, PyAny>>,
        end: Option<&Bound<'py, PyAny>>,
        limit: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let query = drift_query(model, None, start, end, limit)?;
        let rows = py.run_core(|| self.inner.data_quality(&query))?;
        let value =
            serde_json::to_value(&rows).map_err(|e| crate::error::to_py_err(py, &e.into()))?;
        json::to_py(py, &monitor::snake_keys(&value))
    }

    /// Up to `limit` outbox entries with `seq > after`, as dicts (`seq`, `table`, `id`,
    /// `record`, `createdAt`).
    #[pyo3(signature = (after=0, limit=100))]
    fn outbox<'py>(
        &self,
        py: Python<'py>,
        after: u64,
        limit: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let entries = py.run_core(|| self.inner.outbox(after, limit))?;
        let list = PyList::empty(py);
        for entry in &entries {
            list.append(json::record_to_py(py, serde_json::to_value(entry))?)?;
        }
        Ok(list)
    }

    /// Deletes outbox entries with `seq <= through`; returns how many were deleted.
    fn prune_outbox(&self, py: Python<'_>, through: u64) -> PyResult<usize> {
        py.run_core(|| self.inner.prune_outbox(through))
    }

    fn __repr__(&self) -> String {
        match &self.home {
            Some(home) => format!("Engine.open('{}')", home.display()),
            None => "Engine.in_memory()".to_string(),
        }
    }
}

/// The answer to one `Engine.infer` call. Read-only; `to_dict()` gives the record (without
/// `outputs`) with its original camelCase field names.
#[pyclass(frozen, name = "Prediction", module = "harper_edge")]
#[derive(Debug)]
pub(crate) struct PyPrediction {
    inner: Prediction,
    outputs: Vec<(String, Py<PyAny>)>,
}

impl PyPrediction {
    fn new(py: Python<'_>, mut inner: Prediction) -> PyResult<Self> {
        let outputs = tensor::outputs_to_numpy(py, std::mem::take(&mut inner.outputs))?;
        Ok(PyPrediction { inner, outputs })
    }
}

#[pymethods]
impl PyPrediction {
    /// Id of the recorded event; pass it to `Engine.feedback`.
    #[getter]
    fn inference_id(&self) -> &str {
        &self.inner.inference_id
    }

    /// Model name.
    #[getter]
    fn model_name(&self) -> &str {
        &self.inner.model_name
    }

    /// Model version that answered.
    #[getter]
    fn model_version(&self) -> &str {
        &self.inner.model_version
    }

    /// The prediction: the label for a classifier (a list of labels for a batch), else every
    /// output as nested lists.
    #[getter]
    fn prediction<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::to_py(py, &self.inner.prediction)
    }

    /// Confidence in `[0, 1]`, when the task defines one (the mean over a batch).
    #[getter]
    fn confidence(&self) -> Option<f64> {
        self.inner.confidence
    }

    /// Wall time of the call in milliseconds.
    #[getter]
    fn latency_ms(&self) -> f64 {
        self.inner.latency_ms
    }

    /// Every output tensor as a numpy array, by output name.
    #[getter]
    fn outputs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (name, array) in &self.outputs {
            dict.set_item(name, array.bind(py))?;
        }
        Ok(dict)
    }

    /// The record with its original camelCase field names (`inferenceId`, `latencyMs`, …).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::record_to_py(py, serde_json::to_value(&self.inner))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let p = &self.inner;
        let confidence = p.confidence.map_or_else(|| "None".to_string(), |c| format!("{c:.4}"));
        Ok(format!(
            "Prediction(model='{}:{}', prediction={}, confidence={confidence}, latency_ms={:.3})",
            p.model_name,
            p.model_version,
            json::repr(py, &p.prediction)?,
            p.latency_ms
        ))
    }
}

/// The stored baseline record as a dict with snake_case keys, without the statistics.
fn baseline_record_to_py<'py>(
    py: Python<'py>,
    stored: &ModelBaseline,
) -> PyResult<Bound<'py, PyAny>> {
    let mut value =
        serde_json::to_value(stored).map_err(|e| crate::error::to_py_err(py, &e.into()))?;
    if let Some(map) = value.as_object_mut() {
        map.remove("baseline");
        map.insert("features".into(), serde_json::json!(stored.baseline.features().len()));
    }
    json::to_py(py, &monitor::snake_keys(&value))
}

fn drift_query(
    model: &str,
    drift_type: Option<&str>,
    start: Option<&Bound<'_, PyAny>>,
    end: Option<&Bound<'_, PyAny>>,
    limit: Option<usize>,
) -> PyResult<DriftQuery> {
    let (name, version) = match model.split_once(':') {
        Some((n, v)) => (n, Some(v)),
        None => (model, None),
    };
    let mut query = DriftQuery::new(name);
    if let Some(v) = version {
        query = query.version(v);
    }
    if let Some(t) = drift_type {
        let t = match t {
            "input" => DriftType::Input,
            "prediction" => DriftType::Prediction,
            "concept" => DriftType::Concept,
            other => {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "drift_type must be 'input', 'prediction' or 'concept', got '{other}'"
                )));
            }
        };
        query = query.drift_type(t);
    }
    let from = start.map(|t| telemetry::timestamp_from_py(t, "start")).transpose()?;
    let to = end.map(|t| telemetry::timestamp_from_py(t, "end")).transpose()?;
    query = query.between(from, to);
    if let Some(limit) = limit {
        query = query.limit(limit);
    }
    Ok(query)
}

/// The `HealthQuery` of the keyword arguments (a naive datetime is a `ValueError`, an
/// unknown granularity an `InvalidInputError`).
fn health_query(
    py: Python<'_>,
    granularity: &str,
    start: Option<&Bound<'_, PyAny>>,
    end: Option<&Bound<'_, PyAny>>,
) -> PyResult<HealthQuery> {
    let from = start.map(|t| telemetry::timestamp_from_py(t, "start")).transpose()?;
    let to = end.map(|t| telemetry::timestamp_from_py(t, "end")).transpose()?;
    let granularity = granularity.parse().map_err(|e| crate::error::to_py_err(py, &e))?;
    Ok(HealthQuery { granularity, from, to, ..HealthQuery::default() })
}

//! The `Engine` class: one `harper_edge_core::Engine`, shared with the tasks it starts.

use std::path::PathBuf;
use std::sync::Arc;

use harper_edge_core::engine::infer_shape;
use harper_edge_core::store::SqliteOptions;
use harper_edge_core::{
    Engine as CoreEngine, Error as CoreError, Framework, InferContext, Inputs, MemoryStore,
    ModelRef, ModelRegistration, SqliteStore, Stage, Tensor,
};
use napi::bindgen_prelude::{AsyncTask, Buffer, Either, Float32Array, Null, Unknown};
use napi_derive::napi;
use serde_json::Value;

use crate::convert::{self, InferOptions, decode};
use crate::error::{CoreResult, Result, sync};
use crate::tasks::{Job, work};
use crate::telemetry::{
    BorrowedColumns, EventQuery, MetricsOptions, RecordedEvent, TelemetrySettings, admission,
    host_event, record,
};
use crate::tensor::Prediction;

/// Options of `Engine.open`.
#[napi(object, object_to_js = false)]
pub struct OpenOptions {
    /// Append every written record to the outbox, for a host that mirrors records into its own
    /// tables and prunes what it copied (default false: the outbox would grow forever).
    pub outbox: Option<bool>,
    /// Raw events held in memory between ticks (default 100000). Metrics count every call
    /// whatever this says; only raw events are dropped or rejected when it is full.
    pub event_capacity: Option<f64>,
    /// What a full raw-event buffer does with a new event: drop the oldest buffered one
    /// (`"drop_oldest"`, the default) or refuse the new one (`"reject"`).
    #[napi(ts_type = "'drop_oldest' | 'reject'")]
    pub overflow: Option<String>,
    /// Share of successful calls whose raw event is kept, in [0, 1] (default 1). Chosen by a
    /// hash of the inference id (the same in every process); failed calls are always kept.
    pub sample_rate: Option<f64>,
    /// How long stored events are kept, in milliseconds (default 30 days); `null` keeps them
    /// forever. Older events are deleted by `tick`, at most once a minute.
    #[napi(ts_type = "number | null")]
    pub retention_ms: Option<Either<f64, Null>>,
    /// Milliseconds between the ticks of a background thread (default 1000); `null` starts no
    /// thread: the host calls `tick()` itself.
    #[napi(ts_type = "number | null")]
    pub tick_interval_ms: Option<Either<f64, Null>>,
    /// Calls kept in the drift window of each model version with a baseline (default 10000):
    /// a uniform sample of the calls since the last window check.
    pub drift_sample_size: Option<f64>,
}

impl OpenOptions {
    fn telemetry(self) -> TelemetrySettings {
        TelemetrySettings {
            event_capacity: self.event_capacity,
            overflow: self.overflow,
            sample_rate: self.sample_rate,
            retention_ms: self.retention_ms,
            tick_interval_ms: self.tick_interval_ms,
            drift_sample_size: self.drift_sample_size,
        }
    }
}

/// Options of `Engine.inMemory`.
#[napi(object, object_to_js = false)]
pub struct InMemoryOptions {
    /// Keep at most this many events, dropping the oldest (default: no cap).
    pub max_events: Option<f64>,
    /// The directory fetched model files go to (`<dataDir>/models/<sha256>`): needed by
    /// `fetchModel`, the fetch jobs and `deployProfile` (default: none, and those calls fail
    /// with `HARPER_EDGE_INVALID_INPUT`). Several engines may share one.
    pub data_dir: Option<String>,
    /// Raw events held in memory between ticks (default 100000). Metrics count every call
    /// whatever this says; only raw events are dropped or rejected when it is full.
    pub event_capacity: Option<f64>,
    /// What a full raw-event buffer does with a new event: drop the oldest buffered one
    /// (`"drop_oldest"`, the default) or refuse the new one (`"reject"`).
    #[napi(ts_type = "'drop_oldest' | 'reject'")]
    pub overflow: Option<String>,
    /// Share of successful calls whose raw event is kept, in [0, 1] (default 1). Chosen by a
    /// hash of the inference id (the same in every process); failed calls are always kept.
    pub sample_rate: Option<f64>,
    /// How long stored events are kept, in milliseconds (default 30 days); `null` keeps them
    /// forever. Older events are deleted by `tick`, at most once a minute.
    #[napi(ts_type = "number | null")]
    pub retention_ms: Option<Either<f64, Null>>,
    /// Milliseconds between the ticks of a background thread (default 1000); `null` starts no
    /// thread: the host calls `tick()` itself.
    #[napi(ts_type = "number | null")]
    pub tick_interval_ms: Option<Either<f64, Null>>,
    /// Calls kept in the drift window of each model version with a baseline (default 10000):
    /// a uniform sample of the calls since the last window check.
    pub drift_sample_size: Option<f64>,
}

impl InMemoryOptions {
    fn telemetry(self) -> TelemetrySettings {
        TelemetrySettings {
            event_capacity: self.event_capacity,
            overflow: self.overflow,
            sample_rate: self.sample_rate,
            retention_ms: self.retention_ms,
            tick_interval_ms: self.tick_interval_ms,
            drift_sample_size: self.drift_sample_size,
        }
    }
}

/// The telemetry settings of both options objects, as the engine builder takes them.
const TELEMETRY_KEYS: &str =
    "eventCapacity?, overflow?, sampleRate?, retentionMs?, tickIntervalMs?, driftSampleSize?";

/// What `registerModel` needs: name, version, and the model file as `path` or `bytes`.
#[napi(object, js_name = "ModelRegistration", object_to_js = false)]
pub struct RegistrationOptions {
    /// Model name: 1-128 characters of letters, digits, '.', '_' or '-'.
    pub name: String,
    /// Model version, same rules as the name.
    pub version: String,
    /// Path of the model file.
    pub path: Option<String>,
    /// The model file's bytes (copied once, on the libuv pool).
    pub bytes: Option<Buffer>,
    /// Model format (default "onnx").
    #[napi(ts_type = "Framework")]
    pub framework: Option<String>,
    /// Lifecycle stage (default "candidate").
    #[napi(ts_type = "Stage")]
    pub stage: Option<String>,
    /// Free-form metadata (taskType, equivalenceGroup, description, tags, …).
    #[napi(ts_type = "Record<string, unknown>")]
    pub metadata: Option<Value>,
}

/// An embedded MLOps engine: registers models, runs them, and records every call.
///
/// Heavy calls (`registerModel`, `infer`, `inferJson`) return Promises and run on the libuv
/// thread pool; the others are cheap store reads and writes and return directly. Every error
/// carries a stable `err.code` such as `HARPER_EDGE_NOT_FOUND`.
//
// Called `Engine` in Rust too, not `JsEngine`: napi-rs would export a differing Rust name to
// JavaScript as an alias.
#[napi]
#[derive(Debug)]
pub struct Engine {
    pub(crate) engine: Arc<CoreEngine>,
}

#[napi]
impl Engine {
    /// An engine on the embedded SQLite store in directory `home` (created if needed; default
    /// `$HARPER_EDGE_HOME`, else `./.harper-edge`). Records persist across processes. The
    /// telemetry options are checked before the directory is touched.
    #[napi(factory, ts_args_type = "home?: string, options?: OpenOptions")]
    pub fn open(home: Unknown<'_>, options: Unknown<'_>) -> Result<Self> {
        sync(|| {
            let home: Option<String> = decode(&home, "home", "a directory path")?;
            let expected = format!("an object {{ outbox?, {TELEMETRY_KEYS} }}");
            let options: Option<OpenOptions> = convert::object(&options, "options", &expected)?;
            let outbox = options.as_ref().and_then(|o| o.outbox).unwrap_or(false);
            let telemetry = options.map(OpenOptions::telemetry).unwrap_or_default().decode()?;
            let dir = home.map_or_else(CoreEngine::default_home, PathBuf::from);
            let store = SqliteStore::open_with(&dir, SqliteOptions::new().outbox(outbox))?;
            Self::build(Arc::new(store), telemetry, Some(dir))
        })
    }

    /// An engine whose records live in memory only, with the outbox on: a host such as a
    /// HarperDB component copies every record into its own tables from `outbox()`.
    #[napi(factory, ts_args_type = "options?: InMemoryOptions")]
    pub fn in_memory(options: Unknown<'_>) -> Result<Self> {
        sync(|| {
            let expected = format!("an object {{ maxEvents?, {TELEMETRY_KEYS}, dataDir? }}");
            let mut options: Option<InMemoryOptions> =
                convert::object(&options, "options", &expected)?;
            let max_events = options.as_ref().and_then(|o| o.max_events);
            let data_dir = options.as_mut().and_then(|o| o.data_dir.take()).map(PathBuf::from);
            let telemetry = options.map(InMemoryOptions::telemetry).unwrap_or_default().decode()?;
            let store = match max_events {
                Some(n) => MemoryStore::with_max_events(convert::size(n, "options.maxEvents")?)?,
                None => MemoryStore::new(),
            };
            Self::build(Arc::new(store), telemetry, data_dir)
        })
    }

    /// Registers a model: reads it, loads it with its framework's backend (so a corrupt model
    /// is refused now, with `HARPER_EDGE_MODEL_LOAD`), and stores the record and the file.
    /// Registering the same name, version and file again returns the existing record.
    #[napi(ts_args_type = "registration: ModelRegistration", ts_return_type = "Promise<Model>")]
    pub fn register_model(&self, registration: Unknown<'_>) -> AsyncTask<Job<Value>> {
        let engine = Arc::clone(&self.engine);
        let prepared = registration_of(&registration).map(|(registration, bytes)| {
            work(move || {
                let registration = match bytes {
                    Some(bytes) => registration.bytes(Arc::<[u8]>::from(&bytes[..])),
                    None => registration,
                };
                record(engine.register_model(registration)?)
            })
        });
        AsyncTask::new(Job::new(prepared))
    }

    /// Runs a model on a `Float32Array`, which the core reads in place (no copy): do not write
    /// to it until the Promise settles. `model` is `"name"` (newest version) or
    /// `"name:version"`. Without `options.shape`, the model's declared input shape is used,
    /// its one dynamic dimension (the batch) computed from the array's length.
    #[napi(
        ts_args_type = "model: string, input: Float32Array, options?: InferOptions",
        ts_return_type = "Promise<Prediction>"
    )]
    pub fn infer(
        &self,
        model: Unknown<'_>,
        input: Unknown<'_>,
        options: Unknown<'_>,
    ) -> AsyncTask<Job<Prediction>> {
        let engine = Arc::clone(&self.engine);
        let prepared = (|| {
            let reference = convert::model_ref(&model)?;
            let input = convert::f32_array(&input, "input")?;
            let options = InferOptions::decode(&options)?;
            let shape = options.as_ref().map(InferOptions::shape).transpose()?.flatten();
            let context = options.as_ref().map(InferOptions::context).unwrap_or_default();
            Ok(work(move || {
                Prediction::from_core(run_f32(&engine, &reference, &input, shape, &context)?)
            }))
        })();
        AsyncTask::new(Job::new(prepared))
    }

    /// Runs a model on features given as JSON: nested arrays for a single-input model (one
    /// example may leave out the batch dimension: `[5.1, 3.5, 1.4, 0.2]`), or an object of
    /// nested arrays keyed by input name.
    #[napi(
        ts_args_type = "model: string, features: unknown, options?: InferOptions",
        ts_return_type = "Promise<Prediction>"
    )]
    pub fn infer_json(
        &self,
        model: Unknown<'_>,
        features: Unknown<'_>,
        options: Unknown<'_>,
    ) -> AsyncTask<Job<Prediction>> {
        let engine = Arc::clone(&self.engine);
        let prepared = (|| {
            let reference = convert::model_ref(&model)?;
            let features = convert::json(&features, "features")?;
            let options = InferOptions::decode(&options)?;
            if options.as_ref().is_some_and(|o| o.shape.is_some()) {
                return Err(CoreError::invalid_input(
                    "options.shape is for infer(); inferJson reads the shape off the nesting",
                ));
            }
            let context = options.as_ref().map(InferOptions::context).unwrap_or_default();
            Ok(work(move || {
                Prediction::from_core(engine.infer_json(&reference, &features, &context)?)
            }))
        })();
        AsyncTask::new(Job::new(prepared))
    }

    /// Every registered model, oldest registration first.
    #[napi(ts_return_type = "Array<Model>")]
    pub fn models(&self) -> Result<Value> {
        sync(|| record(self.engine.models()?))
    }

    /// The model `model` names: `"name"` (newest version) or `"name:version"`.
    #[napi(ts_args_type = "model: string", ts_return_type = "Model")]
    pub fn model(&self, model: Unknown<'_>) -> Result<Value> {
        sync(|| record(self.engine.model(&convert::model_ref(&model)?)?))
    }

    /// Inference events matching `query`, newest first (at most 100 unless `limit` says).
    #[napi(ts_args_type = "query?: EventQuery", ts_return_type = "Array<InferenceEvent>")]
    pub fn events(&self, query: Unknown<'_>) -> Result<Value> {
        sync(|| record(self.engine.events(&EventQuery::decode(&query)?)?))
    }

    /// The event of one call, by its inference id.
    #[napi(ts_args_type = "inferenceId: string", ts_return_type = "InferenceEvent")]
    pub fn event(&self, inference_id: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let id: String = decode(&inference_id, "inferenceId", "a string")?;
            record(self.engine.event(&id)?)
        })
    }

    /// Records the ground truth of an earlier call: sets `actualOutcome`, `correct` and
    /// `feedbackTimestamp`, and returns the updated event. Feedback given again replaces the
    /// earlier one.
    #[napi(
        ts_args_type = "inferenceId: string, actualOutcome: unknown",
        ts_return_type = "InferenceEvent"
    )]
    pub fn feedback(
        &self,
        inference_id: Unknown<'_>,
        actual_outcome: Unknown<'_>,
    ) -> Result<Value> {
        sync(|| {
            let id: String = decode(&inference_id, "inferenceId", "a string")?;
            let actual = convert::json(&actual_outcome, "actualOutcome")?;
            record(self.engine.feedback(&id, actual)?)
        })
    }

    /// The real-time view of a model (`"name"` for its newest version, or `"name:version"`):
    /// calls, errors, throughput, latency percentiles, confidence and accuracy over the last
    /// five minutes, fed by every call and feedback. Cheap: read from memory (an engine that
    /// did not record the calls itself reads them from its store on the first query).
    #[napi(ts_args_type = "model: string", ts_return_type = "RealtimeMetrics")]
    pub fn realtime(&self, model: Unknown<'_>) -> Result<Value> {
        sync(|| record(self.engine.realtime(&convert::model_ref(&model)?)?))
    }

    /// Writes the buffered events and the rollup rows of every 5-minute period that has ended,
    /// with the hourly and daily rows they roll up into; returns the rollup rows written. The
    /// engine's background ticker does this every second already: call it to have it done now
    /// (a host that mirrors the outbox, then finds the rows there as `ModelMetrics` records).
    #[napi(ts_return_type = "Array<ModelMetrics>")]
    pub fn tick(&self) -> Result<Value> {
        sync(|| record(self.engine.tick()?))
    }

    /// Like `tick`, but also writes the periods still open (later calls complete their rows,
    /// since rows merge exactly). Call it before reading the current period's rollups, or
    /// before the process exits.
    #[napi(ts_return_type = "Array<ModelMetrics>")]
    pub fn flush(&self) -> Result<Value> {
        sync(|| record(self.engine.flush()?))
    }

    /// Stored rollup rows of a model (`"name"` for every version, or `"name:version"`), oldest
    /// period first: 5-minute rows unless `options.granularity` says `"hourly"` or `"daily"`.
    /// Only rows already written by `tick` or `flush` are returned.
    #[napi(
        ts_args_type = "model: string, options?: MetricsOptions",
        ts_return_type = "Array<ModelMetrics>"
    )]
    pub fn metrics(&self, model: Unknown<'_>, options: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let query = MetricsOptions::decode(convert::model_ref(&model)?, &options)?;
            record(self.engine.metrics(&query)?)
        })
    }

    /// Up to `limit` (default 1000) new or changed records with `seq > after` (default 0), in
    /// write order. Copy each `record` into table `table` with upsert semantics, then call
    /// `pruneOutbox` with the last `seq` copied.
    #[napi(ts_args_type = "after?: number, limit?: number", ts_return_type = "Array<OutboxEntry>")]
    pub fn outbox(&self, after: Unknown<'_>, limit: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let after: Option<f64> = decode(&after, "after", "a number")?;
            let limit: Option<f64> = decode(&limit, "limit", "a number")?;
            let after = after.map(|a| convert::count(a, "after")).transpose()?.unwrap_or(0);
            let limit = limit.map(|l| convert::size(l, "limit")).transpose()?.unwrap_or(1000);
            record(self.engine.outbox(after, limit)?)
        })
    }

    /// Deletes outbox entries up to and including `through`; returns how many were deleted.
    #[napi(ts_args_type = "through: number")]
    pub fn prune_outbox(&self, through: Unknown<'_>) -> Result<f64> {
        sync(|| {
            let through: f64 = decode(&through, "through", "a number")?;
            let deleted = self.engine.prune_outbox(convert::count(through, "through")?)?;
            #[allow(clippy::cast_precision_loss)]
            Ok(deleted as f64)
        })
    }

    /// What the telemetry has counted, buffered, written and dropped so far: nothing is
    /// dropped silently. Cheap (counters in memory).
    #[napi(ts_return_type = "TelemetryStats")]
    pub fn telemetry_stats(&self) -> Result<Value> {
        sync(|| record(self.engine.telemetry_stats()))
    }

    /// Records calls the host made itself (a model it runs, or one registered here), given as
    /// columns: `latencyMs[i]` is the latency of call `i`, and the optional columns give its
    /// error flag, confidence and time. Returns how many calls were counted. Every length and
    /// time is checked before anything is counted; the typed arrays are read in place.
    ///
    /// `model` is `"name:version"` (no registration needed) or `"name"` (the newest
    /// registered version). The calls are counted in the real-time view and the 5-minute
    /// rollups (past times in their own periods); no raw events are kept. Synchronous: it is
    /// in-memory work, no I/O.
    #[napi(ts_args_type = "model: string, latencyMs: Float64Array, columns?: RecordColumns")]
    pub fn record_batch(
        &self,
        model: Unknown<'_>,
        latency_ms: Unknown<'_>,
        columns: Unknown<'_>,
    ) -> Result<f64> {
        sync(|| {
            let reference = convert::model_ref(&model)?;
            let borrowed = BorrowedColumns::decode(&latency_ms, &columns)?;
            let series = self.engine.series(&reference)?;
            let counted =
                series.observe_columns(&borrowed.columns(), self.engine.recorder().now())?;
            #[allow(clippy::cast_precision_loss)]
            Ok(counted as f64)
        })
    }

    /// Records one call of a model the host runs itself, as a full raw event with the keys
    /// `events()` returns: `modelName`, `modelVersion` and `latencyMs` are required; `id`
    /// defaults to a new UUID, `timestamp` to now and `framework` to `"onnx"`. The call is
    /// counted in the metrics, and the event buffered for the store unless sampling or a full
    /// buffer says otherwise (the answer's `admission`).
    #[napi(ts_args_type = "event: HostEvent")]
    pub fn record_event(&self, event: Unknown<'_>) -> Result<RecordedEvent> {
        sync(|| {
            let recorder = self.engine.recorder();
            let event = host_event(&event, recorder.now())?;
            let inference_id = event.id.clone();
            let admitted = recorder.record(event)?;
            Ok(RecordedEvent { inference_id, admission: admission(admitted).to_string() })
        })
    }
}

impl Engine {
    fn build(
        store: Arc<dyn harper_edge_core::Store>,
        (config, tick): (harper_edge_core::TelemetryConfig, Option<std::time::Duration>),
        data_dir: Option<PathBuf>,
    ) -> CoreResult<Self> {
        let mut engine = CoreEngine::builder().store(store).telemetry(config).tick_interval(tick);
        if let Some(dir) = data_dir {
            engine = engine.data_dir(dir);
        }
        Ok(Engine { engine: Arc::new(engine.build()?) })
    }
}

fn registration_of(value: &Unknown<'_>) -> CoreResult<(ModelRegistration, Option<Buffer>)> {
    let expected = "an object { name, version, path? | bytes?, framework?, stage?, metadata? }";
    let options: RegistrationOptions = convert::object(value, "registration", expected)?
        .ok_or_else(|| CoreError::invalid_input(format!("registration must be {expected}")))?;
    let framework: Framework = options.framework.as_deref().unwrap_or("onnx").parse()?;
    let mut registration = ModelRegistration::new(options.name, options.version, framework);
    if let Some(stage) = options.stage {
        registration = registration.stage(stage.parse::<Stage>()?);
    }
    if let Some(metadata) = options.metadata {
        registration = registration.metadata(metadata);
    }
    match (options.path, options.bytes) {
        (Some(_), Some(_)) => {
            Err(CoreError::invalid_input("registration: give either path or bytes, not both"))
        }
        (Some(path), None) => Ok((registration.file(path), None)),
        (None, bytes) => Ok((registration, bytes)),
    }
}

/// Runs `reference` on one f32 tensor borrowing `data`.
fn run_f32(
    engine: &CoreEngine,
    reference: &ModelRef,
    data: &Float32Array,
    shape: Option<Vec<usize>>,
    context: &InferContext,
) -> CoreResult<harper_edge_core::Prediction> {
    let data: &[f32] = data;
    let shape = match shape {
        Some(shape) => shape,
        None => match engine.inputs(reference)?.as_slice() {
            [info] => infer_shape(&reference.to_string(), info, data.len())?,
            declared => {
                return Err(CoreError::invalid_input(format!(
                    "model '{reference}' has {} inputs: infer() takes one; use inferJson() with \
                     an object keyed by input name",
                    declared.len()
                )));
            }
        },
    };
    let tensor = Tensor::from_f32(&shape, data)?;
    engine.infer(reference, &Inputs::single(tensor), context)
}

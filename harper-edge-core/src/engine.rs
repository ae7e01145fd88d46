//! The [`Engine`]: registers models, resolves them by name and version, runs them, times each
//! call and hands it to the telemetry [`Recorder`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::backend::{self, ModelSource, ModelSpec, Session};
use crate::clock::{Clock, SystemClock, Timestamp};
use crate::drift::baseline::{Baseline, BaselineConfig, Column};
use crate::drift::check::DriftMetrics;
use crate::drift::frame::Frame;
use crate::drift::quality::{DataQuality, DataQualityMetrics};
use crate::drift::records::{DriftQuery, LabelCounts, ModelBaseline};
use crate::drift::segment::{
    SegmentConfig, SegmentReference, SegmentedBaseline, SegmentedReport, check_segments,
};
use crate::error::{Error, Result};
use crate::fetch::jobs::{FetchQueue, QueueOptions};
use crate::monitor::{self, CurrentData, DriftCheck, DriftCheckConfig, WindowInfo};
use crate::registry::{Model, ModelFile, ModelRef, ModelRegistration, sha256_hex};
use crate::store::{MemoryStore, OutboxEntry, SqliteStore, Store};
use crate::task;
pub use crate::telemetry::InferContext;
use crate::telemetry::{
    EventQuery, InferenceCall, InferenceEvent, MetricsQuery, ModelMetrics, Recorder, SampledCall,
    SegmentedMetrics, Series, TelemetryConfig, TelemetryStats, Ticker, WindowStats,
    outcome_matches, segment_rollups,
};
use crate::tensor::{DType, Inputs, Outputs, Tensor, TensorInfo};

mod cache;
mod models;
mod text;

pub use cache::CacheStats;
pub use text::{Embeddings, GenerateResult};

/// Environment variable naming the data directory.
pub const HOME_ENV: &str = "HARPER_EDGE_HOME";
/// Data directory used when [`HOME_ENV`] is not set.
pub const DEFAULT_HOME: &str = ".harper-edge";

/// The answer to one call.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prediction {
    /// Id of the recorded [`InferenceEvent`]; pass it to [`Engine::feedback`].
    pub inference_id: String,
    /// Model name.
    pub model_name: String,
    /// Model version that answered.
    pub model_version: String,
    /// The prediction (a label for classifiers; see [`task::summarize`]).
    pub prediction: Value,
    /// Confidence in `[0, 1]`, when the task defines one.
    pub confidence: Option<f64>,
    /// Wall time of the call in milliseconds.
    pub latency_ms: f64,
    /// Every output tensor.
    #[serde(skip)]
    pub outputs: Outputs,
}

#[derive(Debug)]
struct Loaded {
    model: Model,
    session: Box<dyn Session>,
    /// The backend that loaded it (`tract`, `ort` …).
    backend: &'static str,
    series: Arc<Series>,
    /// The tokenizer and pooling of a token-level text encoder.
    encoder: text::TextEncoder,
}

/// How often the background ticker flushes telemetry by default.
pub const DEFAULT_TICK_INTERVAL: Duration = Duration::from_secs(1);

/// Builds an [`Engine`] with a chosen store, clock and telemetry settings.
#[derive(Debug)]
pub struct EngineBuilder {
    store: Option<Arc<dyn Store>>,
    clock: Option<Arc<dyn Clock>>,
    telemetry: TelemetryConfig,
    tick_interval: Option<Duration>,
    data_dir: Option<PathBuf>,
    fetch: QueueOptions,
    cache_capacity: usize,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder {
            store: None,
            clock: None,
            telemetry: TelemetryConfig::default(),
            tick_interval: Some(DEFAULT_TICK_INTERVAL),
            data_dir: None,
            fetch: QueueOptions::default(),
            cache_capacity: cache::DEFAULT_CAPACITY,
        }
    }
}

impl EngineBuilder {
    /// Uses `store` for records (default: a [`MemoryStore`]).
    #[must_use]
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Uses `clock` for timestamps (default: [`SystemClock`]).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Sets how raw events are buffered, sampled and retained.
    #[must_use]
    pub fn telemetry(mut self, config: TelemetryConfig) -> Self {
        self.telemetry = config;
        self
    }

    /// The data directory fetched model files are stored in (`<dir>/models/<sha256>`);
    /// [`Engine::open`] sets it to its home. Without one, [`Engine::fetch_queue`] fails.
    #[must_use]
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// How many loaded models the engine keeps (default 32, at least 1); the least recently
    /// used is dropped to load another. See [`Engine::cache_stats`].
    #[must_use]
    pub fn model_cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// How many fetch jobs download at once (default 3).
    #[must_use]
    pub fn fetch_concurrency(mut self, concurrency: usize) -> Self {
        self.fetch.concurrency = concurrency;
        self
    }

    /// Sets how often a background thread calls [`Engine::tick`] (default: every second);
    /// `None` starts no thread, and the host calls [`Engine::tick`] itself.
    #[must_use]
    pub fn tick_interval(mut self, interval: Option<Duration>) -> Self {
        self.tick_interval = interval;
        self
    }

    /// Builds the engine and starts its ticker.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for invalid telemetry settings or a zero tick interval;
    /// [`Error::Internal`] when the ticker thread cannot be started.
    pub fn build(self) -> Result<Engine> {
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let recorder = Arc::new(Recorder::with_config(
            Arc::clone(&store),
            Arc::clone(&clock),
            self.telemetry,
        )?);
        // Versions with a baseline keep a drift window from their first call on.
        for (name, version) in store.baseline_versions()? {
            recorder.enable_drift_sample(&name, &version)?;
        }
        let ticker = self.tick_interval.map(|i| recorder.start_ticker(i)).transpose()?;
        Ok(Engine {
            store,
            clock,
            recorder,
            ticker,
            loaded: cache::SessionCache::new(self.cache_capacity),
            newest: RwLock::default(),
            data_dir: self.data_dir,
            fetch_options: self.fetch,
            fetch: std::sync::Mutex::default(),
        })
    }
}

/// Registers, resolves and runs models; records every call.
///
/// `Engine` is `Send + Sync`: share one across threads. Loaded models are cached, so only the
/// first call of a model pays for loading it.
///
/// # Examples
///
/// ```
/// use harper_edge_core::{Engine, Framework, Inputs, InferContext, ModelRegistration, Tensor};
///
/// let engine = Engine::in_memory()?;
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.onnx");
/// engine.register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(path))?;
///
/// let row = [5.1_f32, 3.5, 1.4, 0.2];
/// let inputs = Inputs::single(Tensor::from_f32(&[1, 4], &row)?);
/// let p = engine.infer(&"iris".parse()?, &inputs, &InferContext::new())?;
/// assert_eq!(p.prediction, serde_json::json!(0)); // setosa
///
/// let event = engine.feedback(&p.inference_id, serde_json::json!(0))?;
/// assert_eq!(event.correct, Some(true));
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Engine {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    recorder: Arc<Recorder>,
    ticker: Option<Ticker>,
    loaded: cache::SessionCache,
    /// Model name → its newest version and when the store last said so: a call without a
    /// version does not query the store each time.
    newest: RwLock<HashMap<String, (String, Instant)>>,
    data_dir: Option<PathBuf>,
    fetch_options: QueueOptions,
    /// The fetch queue, started on first use.
    fetch: std::sync::Mutex<Option<Arc<FetchQueue>>>,
}

/// The most stored calls [`Engine::fit_baseline`] reads (the newest of the period).
pub const FIT_EVENT_LIMIT: usize = 1_000_000;

/// Options of [`Engine::set_baseline`].
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct BaselineOptions {
    /// The baseline features that are model outputs (default: those named `prediction` or
    /// `confidence`).
    pub prediction_features: Option<Vec<String>>,
    /// The labelled accuracy of the reference period, for concept drift (default: none, no
    /// concept drift).
    pub accuracy: Option<LabelCounts>,
    /// Where the baseline came from (free text).
    pub source: Option<String>,
    /// Ready-made baselines per segment ([`Engine::set_baseline`]).
    pub segments: Vec<SegmentedBaseline>,
    /// Keys to fit baselines per segment for ([`Engine::fit_baseline`] and
    /// [`Engine::fit_baseline_from_events`]): a later check split by one of them compares
    /// each segment with its own reference segment (see [`crate::drift::segment`]).
    pub segment_by: Vec<String>,
    /// Reference segments with fewer rows get no baseline of their own (default 30).
    pub segment_min_rows: Option<u64>,
}

impl BaselineOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`BaselineOptions::prediction_features`].
    #[must_use]
    pub fn prediction_features<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Self {
        self.prediction_features = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Sets [`BaselineOptions::accuracy`].
    #[must_use]
    pub fn accuracy(mut self, counts: LabelCounts) -> Self {
        self.accuracy = Some(counts);
        self
    }

    /// Sets [`BaselineOptions::source`].
    #[must_use]
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Adds a key to [`BaselineOptions::segment_by`].
    #[must_use]
    pub fn segment_by(mut self, key: impl Into<String>) -> Self {
        self.segment_by.push(key.into());
        self
    }
}

/// How long a model's newest version is trusted before the store is asked again (another
/// process or HarperDB worker may have registered a newer one).
const NEWEST_TTL: Duration = Duration::from_secs(1);

impl Drop for Engine {
    /// Stops the ticker and flushes what is pending (best effort: a failing store loses the
    /// unflushed telemetry, as a killed process would).
    fn drop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.stop();
        }
        let _ = self.recorder.flush(None);
    }
}

impl Engine {
    /// A builder to choose the store and clock.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// An engine whose records live in memory only, with the default telemetry settings.
    ///
    /// # Errors
    ///
    /// [`Error::Internal`] when the ticker thread cannot be started.
    pub fn in_memory() -> Result<Self> {
        Self::builder().build()
    }

    /// An engine on the embedded SQLite store in directory `home`.
    ///
    /// # Errors
    ///
    /// As [`SqliteStore::open`].
    pub fn open(home: impl AsRef<Path>) -> Result<Self> {
        let store = SqliteStore::open(home.as_ref())?;
        Self::builder().store(Arc::new(store)).data_dir(home.as_ref()).build()
    }

    /// The data directory: `$HARPER_EDGE_HOME`, else `./.harper-edge`.
    pub fn default_home() -> PathBuf {
        std::env::var_os(HOME_ENV)
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from(DEFAULT_HOME), PathBuf::from)
    }

    /// The record store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The telemetry recorder: hosts that run their own models record their calls with it
    /// ([`Recorder::record`], [`Recorder::series`]).
    pub fn recorder(&self) -> &Arc<Recorder> {
        &self.recorder
    }

    /// The telemetry of a model version, to record calls the host made itself
    /// ([`Series::observe`], [`Series::observe_columns`]). `reference` with a version needs no
    /// registration (a model the host runs itself); without one, it names the newest
    /// registered version.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unregistered name without a version; [`Error::InvalidInput`]
    /// for an empty name or version; [`Error::Storage`] when seeding from the store fails.
    pub fn series(&self, reference: &ModelRef) -> Result<Arc<Series>> {
        let version = match &reference.version {
            Some(v) => v.clone(),
            None => self.model(reference)?.model_version,
        };
        if reference.name.is_empty() || version.is_empty() {
            return Err(Error::invalid_input("a model name and version are required"));
        }
        self.recorder.series(&reference.name, &version)
    }

    /// What the telemetry has counted, buffered, written and dropped so far.
    pub fn telemetry_stats(&self) -> TelemetryStats {
        self.recorder.stats()
    }

    /// Registers a model: reads its file, loads it with its framework's backend (so a corrupt
    /// or unsupported model is refused now), and stores the record and the file.
    ///
    /// Registering the same `name:version` with the same file again returns the existing
    /// record.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for bad names, metadata or a missing file argument;
    /// [`Error::Io`] when the file cannot be read; [`Error::ModelLoad`] for a corrupt model;
    /// [`Error::BackendNotCompiled`] when its backend is not in this build;
    /// [`Error::Conflict`] when `name:version` exists with a different file.
    pub fn register_model(&self, registration: ModelRegistration) -> Result<Model> {
        let (model, session) = models::register(&self.store, &self.clock, &registration)?;
        if let Some((session, encoder, backend)) = session {
            let series = self.recorder.series(&model.model_name, &model.model_version)?;
            self.loaded.insert(Arc::new(Loaded {
                model: model.clone(),
                session,
                backend,
                series,
                encoder,
            }));
            self.newest
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(model.model_name.clone(), (model.model_version.clone(), Instant::now()));
        }
        Ok(model)
    }

    /// The model `reference` names (the newest version when it names none).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when no such model is registered.
    pub fn model(&self, reference: &ModelRef) -> Result<Model> {
        let found = match &reference.version {
            Some(v) => self.store.model(&reference.name, v)?,
            None => self.store.models(Some(&reference.name))?.pop(),
        };
        found.ok_or_else(|| Error::not_found("model", reference.to_string()))
    }

    /// Every registered model, oldest registration first.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the store fails.
    pub fn models(&self) -> Result<Vec<Model>> {
        self.store.models(None)
    }

    /// Runs the model `reference` names on `inputs` and records the call.
    ///
    /// Failed calls (a wrong shape, a backend error) are recorded too, with their error, and
    /// the error is returned.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown model; [`Error::InvalidInput`] or [`Error::Shape`]
    /// for inputs that do not fit the model; [`Error::Backend`] when the run fails;
    /// [`Error::ModelLoad`] / [`Error::Integrity`] when the stored file cannot be loaded;
    /// [`Error::Storage`] when the event cannot be recorded.
    pub fn infer(
        &self,
        reference: &ModelRef,
        inputs: &Inputs<'_>,
        context: &InferContext,
    ) -> Result<Prediction> {
        let loaded = self.load(reference)?;
        let start = Instant::now();
        let result = run(&loaded, inputs);
        let latency_ms = start.elapsed().as_secs_f64() * 1e3;
        let features_in = features_json(&loaded, inputs);
        let (outcome, result) = match result {
            Ok(outputs) => {
                let (prediction, confidence) = task::summarize(&outputs);
                (Ok((prediction.clone(), confidence)), Ok((prediction, confidence, outputs)))
            }
            Err(e) => (Err(e.to_string()), Err(e)),
        };
        let inference_id = self.recorder.record_call(
            &loaded.series,
            InferenceCall { model: &loaded.model, features_in, outcome, latency_ms, context },
        );
        let (prediction, confidence, outputs) = result?;
        Ok(Prediction {
            inference_id,
            model_name: loaded.model.model_name.clone(),
            model_version: loaded.model.model_version.clone(),
            prediction,
            confidence,
            latency_ms,
            outputs,
        })
    }

    /// Runs a model on inputs given as JSON and records the call.
    ///
    /// `input` is nested arrays for a single-input model, or an object of nested arrays keyed
    /// by input name. A single example may leave out the leading batch dimension:
    /// `[5.1, 3.5, 1.4, 0.2]` is read as `[[5.1, 3.5, 1.4, 0.2]]` by a model of input shape
    /// `[?, 4]`.
    ///
    /// # Errors
    ///
    /// As [`Engine::infer`]; [`Error::InvalidInput`] for JSON that is not numbers in arrays.
    pub fn infer_json(
        &self,
        reference: &ModelRef,
        input: &Value,
        context: &InferContext,
    ) -> Result<Prediction> {
        let loaded = self.load(reference)?;
        let declared = loaded.session.inputs();
        let mut inputs = Inputs::new();
        match (input, declared) {
            (Value::Object(map), _) => {
                for (name, value) in map {
                    let info = declared.iter().find(|i| i.name == *name).ok_or_else(|| {
                        Error::invalid_input(format!(
                            "model '{}' has no input '{name}'",
                            loaded.model.id
                        ))
                    })?;
                    inputs = inputs.with(name.clone(), json_tensor(value, info)?);
                }
            }
            (value, [info]) => inputs = Inputs::single(json_tensor(value, info)?),
            (_, _) => {
                return Err(Error::invalid_input(format!(
                    "model '{}' has {} inputs: give an object keyed by input name",
                    loaded.model.id,
                    declared.len()
                )));
            }
        }
        self.infer(reference, &inputs, context)
    }

    /// Events matching `query`, newest first. Buffered events are written first, so every
    /// recorded (and sampled) call is visible.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the store fails.
    pub fn events(&self, query: &EventQuery) -> Result<Vec<InferenceEvent>> {
        self.recorder.flush_events()?;
        self.store.events(query)
    }

    /// The event with this inference id.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when there is none.
    pub fn event(&self, inference_id: &str) -> Result<InferenceEvent> {
        self.recorder.flush_events()?;
        self.store.event(inference_id)?.ok_or_else(|| {
            let what = if self.recorder.config().sample_rate < 1.0 {
                "inference event (or one left out by sampling)"
            } else {
                "inference event"
            };
            Error::not_found(what, inference_id)
        })
    }

    /// Records the ground truth of an earlier call, minutes or days later: sets
    /// `actualOutcome`, `correct` (whether the prediction equals it, see
    /// [`outcome_matches`]) and `feedbackTimestamp`. Feedback given again replaces the earlier
    /// one. Returns the updated event.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown inference id (or one whose raw event was not kept:
    /// sampled out, dropped from a full buffer, or past retention); [`Error::InvalidInput`]
    /// for a `null` outcome or feedback on a failed call.
    pub fn feedback(&self, inference_id: &str, actual_outcome: Value) -> Result<InferenceEvent> {
        if actual_outcome.is_null() {
            return Err(Error::invalid_input("actual outcome must not be null"));
        }
        let mut event = self.event(inference_id)?;
        if event.error.is_some() {
            return Err(Error::invalid_input(format!(
                "inference '{inference_id}' failed and has no prediction to compare"
            )));
        }
        let previous = event.correct;
        event.correct = Some(outcome_matches(&event.prediction, &actual_outcome));
        event.actual_outcome = Some(actual_outcome);
        event.feedback_timestamp = Some(self.clock.now());
        self.store.update_event(&event)?;
        self.recorder.record_feedback(&event, previous)?;
        Ok(event)
    }

    /// The real-time view of a model version (the newest when `reference` names none): calls,
    /// errors, throughput, latency percentiles, confidence and accuracy over the last five
    /// minutes. A process that did not record the calls itself (a CLI invocation, a
    /// restarted server) reads them from the store on its first query.
    ///
    /// A model the host runs itself (not registered) has a view once this process recorded
    /// calls of it; name it with its version.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown model; [`Error::Storage`] when the store fails.
    pub fn realtime(&self, reference: &ModelRef) -> Result<WindowStats> {
        if let Some(version) = &reference.version
            && self.recorder.has_series(&reference.name, version)
        {
            return self.recorder.realtime(&reference.name, version);
        }
        let model = self.model(reference)?;
        self.recorder.realtime(&model.model_name, &model.model_version)
    }

    /// Writes the metrics of every 5-minute period that has ended (by the engine's clock) and
    /// updates the hourly and daily rows they roll up into; call it on a schedule (every
    /// minute, say) and the rollups stay current. Returns the rows written.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the store fails; the unwritten rows stay pending.
    pub fn tick(&self) -> Result<Vec<ModelMetrics>> {
        self.recorder.tick()
    }

    /// Like [`Engine::tick`], but also writes the periods still open (their rows are completed
    /// by later flushes, since rows merge). Call it before a process exits: a process killed
    /// without it loses the metrics of the periods not yet flushed, never the events.
    ///
    /// # Errors
    ///
    /// As [`Engine::tick`].
    pub fn flush(&self) -> Result<Vec<ModelMetrics>> {
        self.recorder.flush(None)
    }

    /// Stored metrics rows matching `query`, oldest period first.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the store fails.
    pub fn metrics(&self, query: &MetricsQuery) -> Result<Vec<ModelMetrics>> {
        self.store.metrics(query)
    }

    /// Up to `limit` outbox entries after `after` (see [`Store::outbox`]).
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the store fails.
    pub fn outbox(&self, after: u64, limit: usize) -> Result<Vec<OutboxEntry>> {
        self.store.outbox(after, limit)
    }

    /// Deletes outbox entries up to and including `through`.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the store fails.
    pub fn prune_outbox(&self, through: u64) -> Result<usize> {
        self.store.prune_outbox(through)
    }

    /// `name` and version of `reference`: its version, else the newest registered one.
    pub(crate) fn name_version(&self, reference: &ModelRef) -> Result<(String, String)> {
        let version = match &reference.version {
            Some(v) => v.clone(),
            None => self.model(reference)?.model_version,
        };
        if reference.name.is_empty() || version.is_empty() {
            return Err(Error::invalid_input("a model name and version are required"));
        }
        Ok((reference.name.clone(), version))
    }

    /// Sets the drift baseline of a model version (replacing any), stores it (the
    /// `DriftBaseline` table, through the outbox) and starts the version's drift window.
    /// `reference` with a version needs no registration (a model the host runs itself);
    /// without one, it names the newest registered version.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unregistered name without a version;
    /// [`Error::InvalidInput`] for a prediction feature that is not a baseline feature;
    /// [`Error::Storage`] when the store fails.
    pub fn set_baseline(
        &self,
        reference: &ModelRef,
        baseline: Baseline,
        options: BaselineOptions,
    ) -> Result<ModelBaseline> {
        let (name, version) = self.name_version(reference)?;
        let prediction_features = options.prediction_features.unwrap_or_else(|| {
            baseline
                .features()
                .iter()
                .map(|f| f.name().to_string())
                .filter(|n| matches!(n.as_str(), "prediction" | "confidence"))
                .collect()
        });
        let record = ModelBaseline {
            id: ModelBaseline::id_of(&name, &version),
            model_name: name.clone(),
            model_version: version.clone(),
            created_at: self.clock.now(),
            prediction_features,
            accuracy: options.accuracy,
            source: options.source,
            baseline,
            segments: options.segments,
        };
        record.validate()?;
        self.store.put_baseline(&record)?;
        self.recorder.enable_drift_sample(&name, &version)?;
        Ok(record)
    }

    /// Fits and sets the baseline of a model version from its stored calls with a timestamp
    /// in `[from, to)` (the newest [`FIT_EVENT_LIMIT`] of them; failed calls skipped), named
    /// as in [`crate::monitor`], with the kinds inferred, and the labelled accuracy of the
    /// same period for concept drift.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the period has no successful call; otherwise as
    /// [`Engine::set_baseline`] and [`Baseline::fit`].
    pub fn fit_baseline(
        &self,
        reference: &ModelRef,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
        config: BaselineConfig,
        options: BaselineOptions,
    ) -> Result<ModelBaseline> {
        let (name, version) = self.name_version(reference)?;
        self.recorder.flush_events()?;
        let query = EventQuery::new()
            .model(name.clone())
            .version(version.clone())
            .between(from, to)
            .limit(FIT_EVENT_LIMIT);
        let events = self.store.events(&query)?;
        let span =
            |t: Option<Timestamp>| t.map_or_else(|| "…".to_string(), |t| t.as_millis().to_string());
        let source = format!("events [{}, {}): {} calls", span(from), span(to), events.len());
        let reference = ModelRef { name, version: Some(version) };
        let options = BaselineOptions { source: options.source.or(Some(source)), ..options };
        self.fit_baseline_from_events(&reference, &events, config, options)
    }

    /// Fits and sets the baseline of a model version from `events` (calls the host keeps
    /// elsewhere, e.g. a HarperDB table): failed calls and events of other versions are
    /// skipped; features named as in [`crate::monitor`] with their kinds inferred; the
    /// accuracy is that of the events' `correct` flags (none without labels).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when no event is a successful call of the version; otherwise
    /// as [`Engine::set_baseline`] and [`Baseline::fit`].
    pub fn fit_baseline_from_events(
        &self,
        reference: &ModelRef,
        events: &[InferenceEvent],
        config: BaselineConfig,
        options: BaselineOptions,
    ) -> Result<ModelBaseline> {
        let (name, version) = self.name_version(reference)?;
        let mine: Vec<InferenceEvent> = events
            .iter()
            .filter(|e| e.model_name == name && e.model_version == version)
            .cloned()
            .collect();
        let mut frame = monitor::events_frame(&mine)?;
        let event_keys: Vec<&str> = options
            .segment_by
            .iter()
            .map(String::as_str)
            .filter(|k| monitor::EVENT_SEGMENT_KEYS.contains(k) && frame.column(k).is_none())
            .collect();
        let key_columns = monitor::event_key_columns(&mine, &event_keys)?;
        if frame.rows() == 0 {
            return Err(Error::invalid_input(format!(
                "no successful call of '{name}:{version}' among the events: nothing to fit a \
                 baseline on"
            )));
        }
        let baseline = frame.fit_baseline(None, config)?;
        for (key, column) in key_columns {
            frame.push(key, column)?;
        }
        let min_rows = options.segment_min_rows.unwrap_or(SegmentConfig::default().min_rows);
        let mut segments = options.segments;
        for key in &options.segment_by {
            let schema = frame.infer_schema();
            let segmented = frame.with_columns(|columns| {
                SegmentedBaseline::fit(&schema, columns, key, min_rows, config)
            })?;
            segments.push(segmented);
        }
        let labels = monitor::event_labels(&mine)?;
        let options = BaselineOptions {
            prediction_features: Some(
                options.prediction_features.unwrap_or_else(|| monitor::prediction_columns(&frame)),
            ),
            accuracy: (labels.total > 0).then_some(labels),
            source: options.source,
            segments,
            segment_by: Vec::new(),
            segment_min_rows: None,
        };
        let reference = ModelRef { name, version: Some(version) };
        self.set_baseline(&reference, baseline, options)
    }

    /// Stores a baseline record as it is (its id and `createdAt` kept) and starts the
    /// version's drift window: for hosts that keep baselines in their own tables and load
    /// them into each engine (a HarperDB worker), so that re-storing a loaded record writes
    /// the same record again.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the id is not `modelName:modelVersion` or a prediction
    /// feature is not a baseline feature; [`Error::Storage`] when the store fails.
    pub fn restore_baseline(&self, record: &ModelBaseline) -> Result<()> {
        if record.id != ModelBaseline::id_of(&record.model_name, &record.model_version) {
            return Err(Error::invalid_input(format!(
                "baseline id '{}' is not '{}:{}'",
                record.id, record.model_name, record.model_version
            )));
        }
        record.validate()?;
        self.store.put_baseline(record)?;
        self.recorder.enable_drift_sample(&record.model_name, &record.model_version)?;
        Ok(())
    }

    /// The baseline of a model version.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when none is set (or, without a version, the model is not
    /// registered); [`Error::Storage`] when the store fails.
    pub fn baseline(&self, reference: &ModelRef) -> Result<ModelBaseline> {
        let (name, version) = self.name_version(reference)?;
        self.store
            .baseline(&name, &version)?
            .ok_or_else(|| Error::not_found("drift baseline", format!("{name}:{version}")))
    }

    /// Checks a model version for drift against its baseline and stores the result: one
    /// `DriftMetrics` row per checked feature (driftType `prediction` for the baseline's
    /// prediction features, `input` otherwise), one for concept drift when the baseline has
    /// an accuracy and the current period has labels, and one `DataQualityMetrics` row — in
    /// one transaction, through the outbox.
    ///
    /// With [`CurrentData::Window`], the current data are the calls sampled since the last
    /// window check (see [`crate::telemetry::FeatureSample`]), flattened as described in
    /// [`crate::monitor`]; columns that are not baseline features are ignored; labels are the
    /// feedback on the version's calls made in the window's period. The window is emptied
    /// when the check succeeds, kept when it fails.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] without a baseline; [`Error::InvalidInput`] for an empty window or
    /// bad columns (see [`crate::drift::check::check`]); [`Error::Storage`] when the store
    /// fails.
    pub fn check_drift(
        &self,
        reference: &ModelRef,
        current: CurrentData<'_>,
        config: &DriftCheckConfig,
    ) -> Result<DriftCheck> {
        let baseline = self.baseline(reference)?;
        let (name, version) = (baseline.model_name.clone(), baseline.model_version.clone());
        let now = self.clock.now();
        match current {
            CurrentData::Columns { columns, labels } => {
                let result = monitor::evaluate(&baseline, columns, labels, now, None, config)?;
                self.store.insert_drift(&result.rows, Some(&result.quality))?;
                Ok(result)
            }
            CurrentData::Events(events) => {
                let mine: Vec<InferenceEvent> = events
                    .iter()
                    .filter(|e| e.model_name == name && e.model_version == version)
                    .filter(|e| e.error.is_none())
                    .cloned()
                    .collect();
                let (Some(from), Some(to)) = (
                    mine.iter().map(|e| e.timestamp).min(),
                    mine.iter().map(|e| e.timestamp).max(),
                ) else {
                    return Err(monitor::no_events(&name, &version));
                };
                let calls = mine.len() as u64;
                let window = WindowInfo { calls, sampled: calls, from, to };
                let frame = monitor::events_frame(&mine)?;
                let labels = monitor::event_labels(&mine)?;
                self.check_frame(&baseline, &frame, labels, now, window, config)
            }
            CurrentData::Window => {
                let sample = self.recorder.enable_drift_sample(&name, &version)?;
                let taken = sample.take();
                // With a window length, calls sampled before `now − window` are left out.
                let cutoff = config
                    .window_ms
                    .map(|w| Timestamp::from_millis(now.as_millis().saturating_sub(w)));
                let kept: Vec<SampledCall>;
                let calls: &[SampledCall] = match cutoff {
                    Some(c) if taken.calls.iter().any(|s| s.timestamp < c) => {
                        kept = taken.calls.iter().filter(|s| s.timestamp >= c).cloned().collect();
                        &kept
                    }
                    _ => &taken.calls,
                };
                let span = taken.span.map(|(f, t)| (cutoff.map_or(f, |c| f.max(c)), t));
                let Some((from, to)) = span.filter(|_| !calls.is_empty()) else {
                    sample.restore(taken);
                    return Err(monitor::empty_window(&name, &version));
                };
                let window =
                    WindowInfo { calls: taken.seen, sampled: calls.len() as u64, from, to };
                let run = || -> Result<DriftCheck> {
                    let frame = monitor::calls_frame(calls)?;
                    let end = Some(Timestamp::from_millis(to.as_millis().saturating_add(1)));
                    let labels = self.store.label_counts(&name, &version, Some(from), end)?;
                    self.check_frame(&baseline, &frame, labels, now, window, config)
                };
                let result = run();
                if result.is_err() {
                    sample.restore(taken);
                }
                result
            }
        }
    }

    /// Checks a model version for drift split by a segment key (see
    /// [`crate::drift::segment`]): per-segment reports with the same calibrated tests as
    /// [`Engine::check_drift`], and a verdict whose error rate is controlled across every
    /// segment. Nothing is stored and the drift window is not emptied.
    ///
    /// The key is a feature column of the current data (`arm`, `cohort`, `prediction`, …)
    /// or, for stored events, an event field ([`monitor::EVENT_SEGMENT_KEYS`]:
    /// `modelVersion`, `userId`, `sessionId`, `framework`). With `modelVersion`, the
    /// events of every version of the model are compared with this version's baseline (a
    /// canary against the version it replaces). When the baseline was fitted with segments
    /// by the key ([`BaselineOptions::segment_by`]), each segment is compared with its own
    /// reference segment; otherwise with the whole baseline.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] without a baseline; [`Error::InvalidInput`] for an empty window or
    /// no events, a missing key column, an event-field key on the drift window (which keeps
    /// no event fields), or a key that is a baseline feature without segment baselines
    /// (comparing its segments with the pooled reference would report their differences as
    /// drift); as [`check_segments`] otherwise.
    pub fn check_drift_segments(
        &self,
        reference: &ModelRef,
        current: CurrentData<'_>,
        segments: &SegmentConfig,
        config: &DriftCheckConfig,
    ) -> Result<SegmentedReport> {
        segments.validate()?;
        let baseline = self.baseline(reference)?;
        let (name, version) = (baseline.model_name.as_str(), baseline.model_version.as_str());
        let key = segments.key.as_str();
        let ignored: Vec<&str> = config.ignore.iter().map(String::as_str).collect();
        let whole = baseline.baseline.without(&ignored);
        let against = match baseline.segmented_by(key) {
            Some(s) => SegmentReference::PerSegment(s),
            None if whole.feature(key).is_some() => {
                return Err(Error::invalid_input(format!(
                    "'{key}' is a feature of the baseline of '{name}:{version}', which has no \
                     baselines per '{key}' segment: comparing each segment with the whole \
                     reference would report their differences as drift; fit the baseline with \
                     segments by '{key}'"
                )));
            }
            None => SegmentReference::Whole(&whole),
        };
        let run = |columns: &[(&str, Column<'_>)]| {
            let kept: Vec<(&str, Column<'_>)> = columns
                .iter()
                .filter(|(n, _)| *n == key || !config.ignore.contains(*n))
                .copied()
                .collect();
            check_segments(against, &kept, segments, &config.drift)
        };
        match current {
            CurrentData::Columns { columns, .. } => run(columns),
            CurrentData::Events(events) => {
                let every_version = key == "modelVersion";
                let mine: Vec<InferenceEvent> = events
                    .iter()
                    .filter(|e| {
                        e.model_name == name && (every_version || e.model_version == version)
                    })
                    .filter(|e| e.error.is_none())
                    .cloned()
                    .collect();
                if mine.is_empty() {
                    return Err(monitor::no_events(name, version));
                }
                let mut frame = monitor::events_frame(&mine)?;
                if monitor::EVENT_SEGMENT_KEYS.contains(&key) && frame.column(key).is_none() {
                    for (k, c) in monitor::event_key_columns(&mine, &[key])? {
                        frame.push(k, c)?;
                    }
                }
                frame.with_columns(run)
            }
            CurrentData::Window => {
                if monitor::EVENT_SEGMENT_KEYS.contains(&key) {
                    return Err(Error::invalid_input(format!(
                        "the drift window keeps features, not the event field '{key}': split \
                         stored events by it instead"
                    )));
                }
                let sample = self.recorder.enable_drift_sample(name, version)?;
                let snapshot = sample.snapshot();
                if snapshot.calls.is_empty() {
                    return Err(monitor::empty_window(name, version));
                }
                monitor::calls_frame(&snapshot.calls)?.with_columns(run)
            }
        }
    }

    /// Rollups split by a segment key, computed from the stored calls of the model (one
    /// version with `query.model_version`) started in `[query.from, query.to)`: the same
    /// fields as [`Engine::metrics`], per segment, version and period. The key is read as in
    /// [`monitor::event_segment`] (an event field, or a feature of the call). At most
    /// [`FIT_EVENT_LIMIT`] calls are read, the newest; `truncated` says when more existed.
    /// Raw events are what the telemetry kept: with `sampleRate` below 1, successful calls
    /// are a sample (failures are always kept), so counts and error rates describe the
    /// stored calls, not all of them.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty key; [`Error::Storage`] when the store fails.
    pub fn metrics_by_segment(&self, query: &MetricsQuery, key: &str) -> Result<SegmentedMetrics> {
        if key.is_empty() {
            return Err(Error::invalid_input("segment key is empty"));
        }
        self.recorder.flush_events()?;
        let mut events_query = EventQuery::new()
            .model(query.model_name.clone())
            .between(query.from, query.to)
            .limit(FIT_EVENT_LIMIT);
        if let Some(v) = &query.model_version {
            events_query = events_query.version(v.clone());
        }
        let events = self.store.events(&events_query)?;
        let mut segments =
            segment_rollups(key, query.granularity, &events, |e| monitor::event_segment(e, key))?;
        let limit = query.effective_limit();
        for s in &mut segments {
            let extra = s.rows.len().saturating_sub(limit);
            s.rows.drain(..extra);
        }
        Ok(SegmentedMetrics {
            key: key.to_string(),
            segments,
            events: events.len() as u64,
            truncated: events.len() >= FIT_EVENT_LIMIT,
        })
    }

    /// Checks the baseline features among `frame`'s columns (labels count when there are
    /// any) and stores the rows.
    fn check_frame(
        &self,
        baseline: &ModelBaseline,
        frame: &Frame,
        labels: LabelCounts,
        now: Timestamp,
        window: WindowInfo,
        config: &DriftCheckConfig,
    ) -> Result<DriftCheck> {
        let labels = (labels.total > 0).then_some(labels);
        let result = frame.with_columns(|columns| {
            let columns = baseline.baseline.known_columns(columns);
            monitor::evaluate(baseline, &columns, labels, now, Some(window), config)
        })?;
        self.store.insert_drift(&result.rows, Some(&result.quality))?;
        Ok(result)
    }

    /// Checks the data quality of the calls in the version's drift window against its
    /// baseline, without emptying the window, and stores the `DataQualityMetrics` row.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] without a baseline; [`Error::InvalidInput`] for an empty window;
    /// [`Error::Storage`] when the store fails.
    pub fn check_quality(&self, reference: &ModelRef) -> Result<DataQualityMetrics> {
        let baseline = self.baseline(reference)?;
        let (name, version) = (&baseline.model_name, &baseline.model_version);
        let sample = self.recorder.enable_drift_sample(name, version)?;
        let snapshot = sample.snapshot();
        if snapshot.calls.is_empty() {
            return Err(monitor::empty_window(name, version));
        }
        let frame = monitor::calls_frame(&snapshot.calls)?;
        let now = self.clock.now();
        let quality = frame.with_columns(|columns| {
            let columns = baseline.baseline.known_columns(columns);
            DataQuality::check(&baseline.baseline, &columns, name, version, now)
        })?;
        self.store.insert_drift(&[], Some(&quality))?;
        Ok(quality)
    }

    /// Stored drift rows matching `query`, newest first.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the store fails.
    pub fn drift_metrics(&self, query: &DriftQuery) -> Result<Vec<DriftMetrics>> {
        self.store.drift_metrics(query)
    }

    /// Stored data-quality rows matching `query`, newest first.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the store fails.
    pub fn data_quality(&self, query: &DriftQuery) -> Result<Vec<DataQualityMetrics>> {
        self.store.data_quality(query)
    }

    /// Declared inputs of a model (the newest version when `reference` names none).
    ///
    /// # Errors
    ///
    /// As [`Engine::model`], and load errors.
    pub fn inputs(&self, reference: &ModelRef) -> Result<Vec<TensorInfo>> {
        Ok(self.load(reference)?.session.inputs().to_vec())
    }

    /// The model cache's size and counts.
    pub fn cache_stats(&self) -> CacheStats {
        self.loaded.stats()
    }

    fn load(&self, reference: &ModelRef) -> Result<Arc<Loaded>> {
        let newest = match &reference.version {
            Some(_) => None,
            None => self
                .newest
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&reference.name)
                .filter(|(_, at)| at.elapsed() < NEWEST_TTL)
                .map(|(v, _)| v.clone()),
        };
        if let Some(version) = reference.version.as_ref().or(newest.as_ref()) {
            let id = format!("{}:{version}", reference.name);
            if let Some(loaded) = self.loaded.get(&id) {
                self.loaded.hit();
                return Ok(loaded);
            }
        }
        let model = self.model(reference)?;
        if reference.version.is_none() {
            self.newest
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(model.model_name.clone(), (model.model_version.clone(), Instant::now()));
        }
        if let Some(loaded) = self.loaded.get(&model.id) {
            self.loaded.hit();
            return Ok(loaded);
        }
        self.loaded.miss();
        let loaded = Arc::new(self.open_session(model)?);
        Ok(self.loaded.insert(loaded))
    }

    /// Reads, verifies and loads `model`'s stored files into a new session (not cached).
    fn open_session(&self, model: Model) -> Result<Loaded> {
        let bytes: Arc<[u8]> = match self.store.model_file(&model.sha256)? {
            ModelFile::Bytes(b) => b,
            ModelFile::Path(p) => Arc::from(std::fs::read(&p).map_err(|e| Error::io(&p, e))?),
        };
        if sha256_hex(&bytes) != model.sha256 {
            return Err(Error::Integrity {
                message: format!(
                    "stored file of model '{}' does not match its sha256 {}",
                    model.id, model.sha256
                ),
            });
        }
        let held = models::companion_files(self.store.as_ref(), &model.files, &model.sha256)?;
        let companions = models::companions(&held);
        let spec = ModelSpec::new(&model.id, model.framework, ModelSource::Bytes(&bytes))
            .with_companions(&companions);
        let backend = backend::for_model(model.framework, &model.metadata)?;
        let session = backend.load(&spec)?;
        let encoder = text::TextEncoder::for_model(&spec, session.as_ref(), &model.metadata);
        let series = self.recorder.series(&model.model_name, &model.model_version)?;
        Ok(Loaded { model, session, backend: backend.name(), series, encoder })
    }

    /// A freshly loaded session of `reference`'s model for the benchmark runner, outside the
    /// session cache (its load is timed, and dropping it frees it), whose calls are not
    /// recorded as telemetry.
    pub(crate) fn unrecorded_session(&self, reference: &ModelRef) -> Result<UnrecordedSession> {
        let model = self.model(reference)?;
        Ok(UnrecordedSession(self.open_session(model)?))
    }
}

/// A loaded model whose calls bypass telemetry (see [`Engine::unrecorded_session`]).
#[derive(Debug)]
pub(crate) struct UnrecordedSession(Loaded);

impl UnrecordedSession {
    /// The registered model.
    pub(crate) fn model(&self) -> &Model {
        &self.0.model
    }

    /// The backend running it.
    pub(crate) fn backend(&self) -> &'static str {
        self.0.backend
    }

    /// The session's declared inputs.
    pub(crate) fn inputs(&self) -> &[TensorInfo] {
        self.0.session.inputs()
    }

    /// Whether [`UnrecordedSession::embed`] applies (the model takes text or token ids).
    pub(crate) fn is_text_model(&self) -> bool {
        self.0.session.inputs().iter().any(|i| i.dtype == DType::String || i.name == "input_ids")
    }

    /// Runs the model on `inputs`.
    pub(crate) fn run(&self, inputs: &Inputs<'_>) -> Result<Outputs> {
        run(&self.0, inputs)
    }

    /// Embeds `texts` as [`Engine::embed`] does: `(dim, row-major vectors)`.
    pub(crate) fn embed(&self, texts: &[&str]) -> Result<(usize, Vec<f32>)> {
        text::embed_loaded(&self.0, texts)
    }
}

fn run(loaded: &Loaded, inputs: &Inputs<'_>) -> Result<Outputs> {
    let tensors = inputs.resolve(&loaded.model.id, loaded.session.inputs())?;
    loaded.session.run(&tensors)
}

fn features_json(loaded: &Loaded, inputs: &Inputs<'_>) -> Value {
    match inputs.iter().collect::<Vec<_>>().as_slice() {
        [(_, tensor)] if loaded.session.inputs().len() == 1 => tensor.to_json(),
        all => Value::Object(
            all.iter()
                .map(|(name, t)| (name.unwrap_or("input").to_string(), t.to_json()))
                .collect(),
        ),
    }
}

/// Reads `value` as a tensor for `info`, adding a leading batch dimension of 1 when the value
/// has one dimension fewer than declared.
fn json_tensor(value: &Value, info: &TensorInfo) -> Result<Tensor<'static>> {
    let t = Tensor::from_json(value, info.dtype)?;
    if t.shape().len() + 1 == info.shape.len() {
        let mut shape = Vec::with_capacity(info.shape.len());
        shape.push(1);
        shape.extend_from_slice(t.shape());
        let data = t.data().clone();
        return Tensor::new(shape, data).map(Tensor::into_owned);
    }
    Ok(t)
}

/// The shape of a flat buffer of `len` elements for `info`: every fixed dimension as declared,
/// the one dynamic dimension computed from `len`.
///
/// # Errors
///
/// [`Error::Shape`] when `len` does not fit, or the declaration has more than one dynamic
/// dimension (give the shape explicitly then).
///
/// # Examples
///
/// ```
/// use harper_edge_core::{DType, TensorInfo, engine::infer_shape};
///
/// let info = TensorInfo { name: "X".into(), dtype: DType::F32, shape: vec![None, Some(4)] };
/// assert_eq!(infer_shape("iris:1", &info, 8)?, vec![2, 4]);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn infer_shape(model: &str, info: &TensorInfo, len: usize) -> Result<Vec<usize>> {
    let shape_err = |message: String| Error::Shape {
        model: model.to_string(),
        input: info.name.clone(),
        message,
    };
    let fixed: usize = info.shape.iter().flatten().product();
    let dynamic = info.shape.iter().filter(|d| d.is_none()).count();
    match dynamic {
        0 if fixed == len => Ok(info.shape.iter().flatten().copied().collect()),
        1 if fixed > 0 && len.is_multiple_of(fixed) => {
            Ok(info.shape.iter().map(|d| d.unwrap_or(len / fixed)).collect())
        }
        0 | 1 => {
            Err(shape_err(format!("{len} elements do not fit shape {}", info.display_shape())))
        }
        _ => Err(shape_err(format!(
            "shape {} has several dynamic dimensions: give the shape explicitly",
            info.display_shape()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DType;

    #[test]
    fn infer_shape_fills_the_dynamic_dimension() {
        let info = TensorInfo { name: "X".into(), dtype: DType::F32, shape: vec![None, Some(4)] };
        assert_eq!(infer_shape("m", &info, 12).unwrap(), vec![3, 4]);
        assert_eq!(infer_shape("m", &info, 6).unwrap_err().kind(), crate::ErrorKind::Shape);
        let two = TensorInfo { shape: vec![None, None], ..info };
        assert!(infer_shape("m", &two, 6).is_err());
    }
}

//! The [`Engine`]: registers models, resolves them by name and version, runs them, times each
//! call and hands it to the telemetry [`Recorder`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::backend::{self, ModelSource, ModelSpec, Session};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::registry::{Model, ModelFile, ModelRef, ModelRegistration, sha256_hex};
use crate::store::{MemoryStore, OutboxEntry, SqliteStore, Store};
use crate::task;
pub use crate::telemetry::InferContext;
use crate::telemetry::{
    EventQuery, InferenceCall, InferenceEvent, MetricsQuery, ModelMetrics, Recorder, Series,
    TelemetryConfig, TelemetryStats, Ticker, WindowStats, outcome_matches,
};
use crate::tensor::{Inputs, Outputs, Tensor, TensorInfo};

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
    series: Arc<Series>,
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
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder {
            store: None,
            clock: None,
            telemetry: TelemetryConfig::default(),
            tick_interval: Some(DEFAULT_TICK_INTERVAL),
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
        let ticker = self.tick_interval.map(|i| recorder.start_ticker(i)).transpose()?;
        Ok(Engine {
            store,
            clock,
            recorder,
            ticker,
            loaded: RwLock::default(),
            newest: RwLock::default(),
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
    loaded: RwLock<HashMap<String, Arc<Loaded>>>,
    /// Model name → its newest version and when the store last said so: a call without a
    /// version does not query the store each time.
    newest: RwLock<HashMap<String, (String, Instant)>>,
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
        let store = SqliteStore::open(home)?;
        Self::builder().store(Arc::new(store)).build()
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
        let bytes = registration.validate_and_read()?;
        let id = format!("{}:{}", registration.name(), registration.version());
        let sha256 = sha256_hex(&bytes);
        if let Some(existing) = self.store.model(registration.name(), registration.version())? {
            return if existing.sha256 == sha256 {
                Ok(existing)
            } else {
                Err(Error::Conflict {
                    message: format!("model '{id}' already exists with a different file"),
                })
            };
        }
        let backend = backend::for_framework(registration.framework())?;
        let session = backend.load(&ModelSpec::new(
            &id,
            registration.framework(),
            ModelSource::Bytes(&bytes),
        ))?;
        let model = Model {
            id: id.clone(),
            model_name: registration.name().to_string(),
            model_version: registration.version().to_string(),
            framework: registration.framework(),
            stage: registration.stage_value(),
            blob_size: bytes.len() as u64,
            sha256,
            input_schema: session.inputs().to_vec(),
            output_schema: session.outputs().to_vec(),
            metadata: registration.metadata_value().clone(),
            uploaded_at: self.clock.now(),
        };
        self.store.insert_model(&model, &bytes)?;
        let series = self.recorder.series(&model.model_name, &model.model_version)?;
        self.cache().insert(id, Arc::new(Loaded { model: model.clone(), session, series }));
        self.newest
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(model.model_name.clone(), (model.model_version.clone(), Instant::now()));
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

    /// Declared inputs of a model (the newest version when `reference` names none).
    ///
    /// # Errors
    ///
    /// As [`Engine::model`], and load errors.
    pub fn inputs(&self, reference: &ModelRef) -> Result<Vec<TensorInfo>> {
        Ok(self.load(reference)?.session.inputs().to_vec())
    }

    fn cache(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<Loaded>>> {
        self.loaded.write().unwrap_or_else(std::sync::PoisonError::into_inner)
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
            let cached = self
                .loaded
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&id)
                .cloned();
            if let Some(loaded) = cached {
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
        if let Some(loaded) =
            self.loaded.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(&model.id)
        {
            return Ok(Arc::clone(loaded));
        }
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
        let backend = backend::for_framework(model.framework)?;
        let session = backend.load(&ModelSpec::new(
            &model.id,
            model.framework,
            ModelSource::Bytes(&bytes),
        ))?;
        let series = self.recorder.series(&model.model_name, &model.model_version)?;
        let loaded = Arc::new(Loaded { model, session, series });
        Ok(Arc::clone(self.cache().entry(loaded.model.id.clone()).or_insert(loaded)))
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

//! Model fetching (fetch jobs, inspection), the registry's listing and removal, and profiles.
//!
//! Thin: every call decodes its arguments into the core's types (sources and options in the
//! core's serde shapes), runs the core, and hands its records back as plain objects with the
//! core's camelCase fields. Calls that touch the network or wait (`fetchModel`, `waitJob`,
//! `inspectSource`, `deployProfile`) return Promises and run on the libuv pool; progress
//! callbacks are weak, non-blocking ThreadsafeFunctions: the worker only queues the call.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use harper_edge_core::fetch::jobs::{
    FetchJob, FetchRequest, JobFilter, JobRegistration, JobState, SourceSpec,
};
use harper_edge_core::fetch::{FetchOptions, inspect};
use harper_edge_core::profile::{DeployOptions, Profile, deploy};
use harper_edge_core::{Engine as CoreEngine, Error as CoreError, Framework, ModelFilter, Stage};
use napi::bindgen_prelude::{AsyncTask, Function, JsObjectValue, ToNapiValue, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, JsValue, ScopedTask, Status, ValueType};
use napi_derive::napi;
use serde_json::Value;

use crate::convert::{self, decode};
use crate::engine::Engine;
use crate::error::{CoreResult, Result, guarded, rejection, sync};
use crate::tasks::{Job, work};
use crate::telemetry::record;

/// A weak, non-blocking ThreadsafeFunction taking one JSON value.
pub(crate) type Callback =
    ThreadsafeFunction<Value, Unknown<'static>, Value, napi::Status, false, true>;

/// How often `waitJob` and `deployProfile` look at a running job.
const POLL: Duration = Duration::from_millis(100);

/// Options of `Engine.fetchModel`.
#[napi(object, object_to_js = false)]
pub struct FetchModelOptions {
    /// The variant to fetch (`default`, `quantized`, `fp16`, …), recorded in the provenance.
    pub variant: Option<String>,
    /// Hex sha256 the fetched file must have (one-file sources).
    pub sha256: Option<String>,
    /// Hub sources: the files to fetch (default: chosen by the variant).
    pub files: Option<Vec<String>>,
    /// Hub sources: branch, tag or commit (default `main`).
    pub revision: Option<String>,
    /// Framework of the registered model (default: the model file's extension says).
    #[napi(ts_type = "Framework")]
    pub framework: Option<String>,
    /// Stage of the registered model (default `candidate`).
    #[napi(ts_type = "Stage")]
    pub stage: Option<String>,
    /// Metadata of the registered model (taskType, equivalenceGroup, …).
    #[napi(ts_type = "Record<string, unknown>")]
    pub metadata: Option<Value>,
    /// The file the backend loads, by its name in the fetch.
    pub main_file: Option<String>,
    /// Register the files as a model once verified (default true).
    pub register: Option<bool>,
    /// Download settings, in the core's `FetchOptions` shape.
    #[napi(ts_type = "FetchOptions")]
    pub fetch: Option<Value>,
}

/// Options of `waitJob`.
#[napi(object, object_to_js = false)]
pub struct WaitJobOptions {
    /// Longest wait in milliseconds (default: until the job ends).
    pub timeout_ms: Option<f64>,
    /// Called with the job each time its state or progress changes, on the JS thread.
    #[napi(ts_type = "(job: FetchJob) => void")]
    pub on_progress: Option<Unknown<'static>>,
}

/// Options of `fetchJobs`.
#[napi(object, object_to_js = false)]
pub struct FetchJobQuery {
    /// Only the jobs of this model.
    pub model_name: Option<String>,
    /// Only jobs in this state.
    #[napi(ts_type = "JobState")]
    pub state: Option<String>,
    /// At most this many (default 100).
    pub limit: Option<f64>,
}

/// Filter of `listModels`.
#[napi(object, object_to_js = false)]
pub struct ModelQuery {
    /// Model name.
    pub name: Option<String>,
    /// Framework.
    #[napi(ts_type = "Framework")]
    pub framework: Option<String>,
    /// The metadata's `taskType`.
    pub task_type: Option<String>,
    /// Lifecycle stage.
    #[napi(ts_type = "Stage")]
    pub stage: Option<String>,
}

/// Options of `inspectSource`.
#[napi(object, object_to_js = false)]
pub struct InspectOptions {
    /// The variant whose files would be selected.
    pub variant: Option<String>,
    /// Hub sources: the files to fetch.
    pub files: Option<Vec<String>>,
    /// Hub sources: branch, tag or commit.
    pub revision: Option<String>,
    /// Download settings (timeouts, headers), in the core's `FetchOptions` shape.
    #[napi(ts_type = "FetchOptions")]
    pub fetch: Option<Value>,
}

/// Options of `deployProfile`.
#[napi(object, object_to_js = false)]
pub struct DeployProfileOptions {
    /// Confines every filesystem path of the profile to this directory (relative paths are
    /// read from it): for profiles a server was sent. An inline profile's relative paths are
    /// read from it too (default: the current directory).
    pub root: Option<String>,
    /// Only check the profile and report what would be done (`would_register`).
    pub dry_run: Option<bool>,
    /// Longest wait for all fetches in milliseconds (default one hour).
    pub timeout_ms: Option<f64>,
    /// Called with each job as it changes, on the JS thread.
    #[napi(ts_type = "(job: FetchJob) => void")]
    pub on_progress: Option<Unknown<'static>>,
}

#[napi]
impl Engine {
    /// Queues a fetch of model `name:version` from `source` and returns the job as queued
    /// (follow it with `waitJob`). `source` is `"hf:org/name[@rev]"`, an `http(s)://` URL or a
    /// path on this machine, or a `SourceSpec` object. By default the files are registered as
    /// the model once verified (`options.register: false` only fetches). Submitting the same
    /// model version from the same source again returns the existing job; from another source
    /// it fails with `HARPER_EDGE_CONFLICT`. Needs an engine with a data directory
    /// (`Engine.open`, or `Engine.inMemory({ dataDir })`).
    #[napi(
        ts_args_type = "name: string, version: string, source: string | SourceSpec, options?: FetchModelOptions",
        ts_return_type = "Promise<FetchJob>"
    )]
    pub fn fetch_model(
        &self,
        name: Unknown<'_>,
        version: Unknown<'_>,
        source: Unknown<'_>,
        options: Unknown<'_>,
    ) -> AsyncTask<Job<Value>> {
        let engine = Arc::clone(&self.engine);
        let prepared = fetch_request(&name, &version, &source, &options)
            .map(|request| work(move || record(engine.fetch_model(request)?)));
        AsyncTask::new(Job::new(prepared))
    }

    /// Waits until the job `id` ends, or `options.timeoutMs` passes; resolves with the job as
    /// it is then (`completed`, `cancelled`, or still running after a timeout). A job that
    /// ends `failed` rejects the Promise with an error whose `code` and `message` are the
    /// job's error (`HARPER_EDGE_NOT_FOUND` for an HTTP 404, …) and whose `job` is the job.
    /// `options.onProgress` is called with the job whenever its state or `bytesDone` changes.
    #[napi(
        ts_args_type = "id: string, options?: WaitJobOptions",
        ts_return_type = "Promise<FetchJob>"
    )]
    pub fn wait_job(&self, id: Unknown<'_>, options: Unknown<'_>) -> AsyncTask<WaitTask> {
        let engine = Arc::clone(&self.engine);
        let prepared = (|| -> CoreResult<WaitArgs> {
            let id: String = decode(&id, "id", "a string")?;
            let options: Option<WaitJobOptions> =
                convert::object(&options, "options", "an object { timeoutMs?, onProgress? }")?;
            let (timeout, progress) = match options {
                Some(o) => (
                    o.timeout_ms.map(|t| millis(t, "options.timeoutMs")).transpose()?,
                    o.on_progress
                        .as_ref()
                        .map(|f| threadsafe(f, "options.onProgress"))
                        .transpose()?,
                ),
                None => (None, None),
            };
            // Unknown job: reject now rather than after the first poll.
            engine.fetch_queue()?.get(&id)?;
            Ok((engine, id, timeout, progress))
        })();
        AsyncTask::new(WaitTask { prepared: Some(prepared) })
    }

    /// The fetch job `id` (`name:version`).
    #[napi(ts_args_type = "id: string", ts_return_type = "FetchJob")]
    pub fn fetch_job(&self, id: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let id: String = decode(&id, "id", "a string")?;
            record(self.engine.fetch_queue()?.get(&id)?)
        })
    }

    /// Fetch jobs, newest first, of one model or in one state when `query` says.
    #[napi(ts_args_type = "query?: FetchJobQuery", ts_return_type = "Array<FetchJob>")]
    pub fn fetch_jobs(&self, query: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let query: Option<FetchJobQuery> =
                convert::object(&query, "query", "an object { modelName?, state?, limit? }")?;
            let mut filter = JobFilter::default();
            if let Some(q) = query {
                filter.model_name = q.model_name;
                filter.state = q.state.map(|s| job_state(&s)).transpose()?;
                filter.limit = q.limit.map(|l| convert::size(l, "query.limit")).transpose()?;
            }
            record(self.engine.fetch_queue()?.list(&filter)?)
        })
    }

    /// Cancels the job `id` (queued or running); returns it, now `cancelled`.
    /// `HARPER_EDGE_INVALID_TRANSITION` when it has already ended.
    #[napi(ts_args_type = "id: string", ts_return_type = "FetchJob")]
    pub fn cancel_job(&self, id: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let id: String = decode(&id, "id", "a string")?;
            record(self.engine.fetch_queue()?.cancel(&id)?)
        })
    }

    /// Queues the failed or cancelled job `id` again; returns it, now `queued`.
    /// `HARPER_EDGE_INVALID_TRANSITION` unless it is `failed` or `cancelled`.
    #[napi(ts_args_type = "id: string", ts_return_type = "FetchJob")]
    pub fn retry_job(&self, id: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let id: String = decode(&id, "id", "a string")?;
            record(self.engine.fetch_queue()?.retry(&id)?)
        })
    }

    /// Registered models passing `filter`, oldest registration first.
    #[napi(ts_args_type = "filter?: ModelQuery", ts_return_type = "Array<Model>")]
    pub fn list_models(&self, filter: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let query: Option<ModelQuery> = convert::object(
                &filter,
                "filter",
                "an object { name?, framework?, taskType?, stage? }",
            )?;
            let mut filter = ModelFilter::default();
            if let Some(q) = query {
                filter.name = q.name;
                filter.framework = q.framework.map(|f| f.parse::<Framework>()).transpose()?;
                filter.task_type = q.task_type;
                filter.stage = q.stage.map(|s| s.parse::<Stage>()).transpose()?;
            }
            record(self.engine.list_models(&filter)?)
        })
    }

    /// Removes the model version `model` names (`"name:version"`: the version is required),
    /// with its fetch job and the files no other model uses; returns its record.
    /// `HARPER_EDGE_CONFLICT` while a fetch job for it runs (cancel it first).
    #[napi(ts_args_type = "model: string", ts_return_type = "Model")]
    pub fn remove_model(&self, model: Unknown<'_>) -> Result<Value> {
        sync(|| record(self.engine.remove_model(&convert::model_ref(&model)?)?))
    }

    /// Deploys a profile: the path of a profile JSON file, or the profile itself as an
    /// object (its relative paths read from `options.root`, else the current directory).
    /// Models already registered are left alone (`already_registered`); the others are
    /// fetched and registered (`registered`), or fail with the error in their entry
    /// (`failed`: the Promise still resolves). A profile that does not validate rejects with
    /// `HARPER_EDGE_INVALID_INPUT` naming each model and field at fault. With
    /// `options.root`, a filesystem path outside it fails its model ("outside the deploy
    /// root").
    #[napi(
        ts_args_type = "profile: string | Record<string, unknown>, options?: DeployProfileOptions",
        ts_return_type = "Promise<DeployReport>"
    )]
    pub fn deploy_profile(
        &self,
        profile: Unknown<'_>,
        options: Unknown<'_>,
    ) -> AsyncTask<Job<Value>> {
        let engine = Arc::clone(&self.engine);
        let prepared = (|| {
            let options: Option<DeployProfileOptions> = convert::object(
                &options,
                "options",
                "an object { root?, dryRun?, timeoutMs?, onProgress? }",
            )?;
            let mut deploy_options = DeployOptions::default();
            let mut progress = None;
            if let Some(o) = options {
                deploy_options.root = o.root.map(PathBuf::from);
                deploy_options.dry_run = o.dry_run.unwrap_or(false);
                if let Some(t) = o.timeout_ms {
                    deploy_options.timeout = millis(t, "options.timeoutMs")?;
                }
                progress = o
                    .on_progress
                    .as_ref()
                    .map(|f| threadsafe(f, "options.onProgress"))
                    .transpose()?;
            }
            let source = profile_source(&profile)?;
            Ok(work(move || {
                let profile = source.load(deploy_options.root.as_ref())?;
                let mut last: Option<(JobState, u64, String)> = None;
                let mut report = |job: &FetchJob| {
                    let seen = (job.state, job.bytes_done, job.id.clone());
                    if last.as_ref() != Some(&seen) {
                        last = Some(seen);
                        notify(progress.as_ref(), job);
                    }
                };
                record(deploy(&engine, &profile, &deploy_options, &mut report)?)
            }))
        })();
        AsyncTask::new(Job::new(prepared))
    }
}

/// Checks a profile (a file path, or the profile as an object) without deploying it: returns
/// `{ valid, name, models, problems }`, where each problem names its `model` (the modelName,
/// or `models[i]`), its `field` (`models[0].modelBlob.path`) and the `message`. Throws only
/// when the file cannot be read (`HARPER_EDGE_IO`) or is not JSON (`HARPER_EDGE_INVALID_INPUT`).
#[napi(
    ts_args_type = "profile: string | Record<string, unknown>",
    ts_return_type = "ProfileValidation"
)]
pub fn validate_profile(profile: Unknown<'_>) -> Result<Value> {
    sync(|| {
        let source = profile_source(&profile)?;
        let (value, base) = source.json()?;
        let (parsed, problems) = Profile::check(&value, base);
        let name = value.get("name").cloned().unwrap_or(Value::Null);
        let models = match &parsed {
            Some(p) => record(&p.models)?,
            None => Value::Array(Vec::new()),
        };
        Ok(serde_json::json!({
            "valid": problems.is_empty(),
            "name": name,
            "models": models,
            "problems": record(&problems)?,
        }))
    })
}

/// Describes a source without downloading its model files: its files and sizes, which ones a
/// fetch would take, the framework, the revision a fetch would record and a suggested model
/// name. `source` as in `fetchModel`.
#[napi(
    ts_args_type = "source: string | SourceSpec, options?: InspectOptions",
    ts_return_type = "Promise<Inspection>"
)]
pub fn inspect_source(source: Unknown<'_>, options: Unknown<'_>) -> AsyncTask<Job<Value>> {
    let prepared = (|| {
        let options: Option<InspectOptions> = convert::object(
            &options,
            "options",
            "an object { variant?, files?, revision?, fetch? }",
        )?;
        let mut fetch = FetchOptions::default();
        let mut spec = source_spec(&source)?;
        if let Some(o) = options {
            if let Some(f) = o.fetch {
                fetch = fetch_options(f, "options.fetch")?;
            }
            if o.variant.is_some() {
                fetch.variant = o.variant;
            }
            spec = hub_selection(spec, o.files, o.revision)?;
        }
        Ok(work(move || record(inspect(&spec, &fetch)?)))
    })();
    AsyncTask::new(Job::new(prepared))
}

/// A profile given as a path or inline.
enum ProfileSource {
    Path(PathBuf),
    Inline(Value),
}

impl ProfileSource {
    /// The profile's JSON and the directory its relative paths are read from.
    fn json(&self) -> CoreResult<(Value, PathBuf)> {
        match self {
            ProfileSource::Path(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| CoreError::io(path, e))?;
                let value: Value = serde_json::from_str(&text).map_err(|e| {
                    CoreError::invalid_input(format!(
                        "profile '{}' is not valid JSON (line {}, column {}): {e}",
                        path.display(),
                        e.line(),
                        e.column()
                    ))
                })?;
                Ok((value, parent(path)))
            }
            ProfileSource::Inline(value) => Ok((value.clone(), PathBuf::from("."))),
        }
    }

    /// The parsed profile; an inline one reads its relative paths from `root`.
    fn load(&self, root: Option<&PathBuf>) -> CoreResult<Profile> {
        match self {
            ProfileSource::Path(path) => Profile::load(path),
            ProfileSource::Inline(value) => {
                let base = root.cloned().unwrap_or_else(|| PathBuf::from("."));
                Profile::parse(&value.to_string(), base)
                    .map_err(|e| CoreError::invalid_input(format!("profile: {}", strip(&e))))
            }
        }
    }
}

/// The message of an error without the kind's own prefix ("invalid input: ").
fn strip(e: &CoreError) -> String {
    let text = e.to_string();
    text.strip_prefix("invalid input: ").map_or_else(|| text.clone(), str::to_string)
}

fn parent(path: &std::path::Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn profile_source(value: &Unknown<'_>) -> CoreResult<ProfileSource> {
    let expected = "a profile file path or a profile object";
    match value.get_type() {
        Ok(ValueType::String) => {
            Ok(ProfileSource::Path(PathBuf::from(decode::<String>(value, "profile", expected)?)))
        }
        Ok(ValueType::Object) if !value.is_array().unwrap_or(false) => {
            let mut json = decode::<Value>(value, "profile", expected)?;
            convert::integral_numbers(&mut json);
            Ok(ProfileSource::Inline(json))
        }
        _ => Err(CoreError::invalid_input(format!("profile must be {expected}"))),
    }
}

/// A source: a string for `SourceSpec::parse`, or an object in the `SourceSpec` serde shape.
fn source_spec(value: &Unknown<'_>) -> CoreResult<SourceSpec> {
    if matches!(value.get_type(), Ok(ValueType::String)) {
        let text: String = decode(value, "source", "a string")?;
        return SourceSpec::parse(&text);
    }
    convert::from_js(
        value,
        "source",
        "a string ('hf:org/name@rev', a URL, a path) or an object { kind: 'http' | 'fs' | 'hf', … }",
    )
}

/// Applies `files` and `revision` to a Hub source (refused for other sources).
fn hub_selection(
    spec: SourceSpec,
    files: Option<Vec<String>>,
    revision: Option<String>,
) -> CoreResult<SourceSpec> {
    if files.is_none() && revision.is_none() {
        return Ok(spec);
    }
    let mut json = serde_json::to_value(&spec).map_err(CoreError::from)?;
    if json.get("kind").and_then(Value::as_str) != Some("hf") {
        return Err(CoreError::invalid_input(
            "options.files and options.revision are for Hugging Face sources ('hf:org/name')",
        ));
    }
    if let Some(files) = files {
        json["files"] = serde_json::json!(files);
    }
    if let Some(revision) = revision {
        json["revision"] = Value::String(revision);
    }
    convert::from_json(json, "source")
}

fn fetch_options(mut value: Value, what: &str) -> CoreResult<FetchOptions> {
    if !value.is_object() {
        return Err(CoreError::invalid_input(format!("{what} must be an object")));
    }
    convert::integral_numbers(&mut value);
    convert::from_json(value, what)
}

fn fetch_request(
    name: &Unknown<'_>,
    version: &Unknown<'_>,
    source: &Unknown<'_>,
    options: &Unknown<'_>,
) -> CoreResult<FetchRequest> {
    let name: String = decode(name, "name", "a string")?;
    let version: String = decode(version, "version", "a string")?;
    let mut spec = source_spec(source)?;
    let expected = "an object { variant?, sha256?, files?, revision?, framework?, stage?, \
                    metadata?, mainFile?, register?, fetch? }";
    let options: Option<FetchModelOptions> = convert::object(options, "options", expected)?;
    let mut fetch = FetchOptions::default();
    let mut registration = Some(JobRegistration::default());
    if let Some(o) = options {
        if let Some(f) = o.fetch {
            fetch = fetch_options(f, "options.fetch")?;
        }
        if o.variant.is_some() {
            fetch.variant = o.variant;
        }
        if o.sha256.is_some() {
            fetch.expected_sha256 = o.sha256;
        }
        spec = hub_selection(spec, o.files, o.revision)?;
        if o.register == Some(false) {
            registration = None;
        } else {
            let defaults = JobRegistration::default();
            let metadata = o.metadata.map(|mut m| {
                convert::integral_numbers(&mut m);
                m
            });
            registration = Some(JobRegistration {
                framework: o.framework.map(|f| f.parse::<Framework>()).transpose()?,
                stage: o.stage.map(|s| s.parse::<Stage>()).transpose()?.unwrap_or(defaults.stage),
                metadata: metadata.unwrap_or(defaults.metadata),
                main_file: o.main_file,
            });
        }
    }
    let request = FetchRequest::new(name, version, spec).options(fetch);
    Ok(match registration {
        Some(r) => request.registration(r),
        None => request,
    })
}

fn job_state(text: &str) -> CoreResult<JobState> {
    serde_json::from_value(Value::String(text.to_string())).map_err(|_| {
        CoreError::invalid_input(format!(
            "state must be queued, downloading, verifying, completed, failed or cancelled, got \
             '{text}'"
        ))
    })
}

fn millis(value: f64, what: &str) -> CoreResult<Duration> {
    Ok(Duration::from_millis(convert::count(value, what)?))
}

/// A JS function as a weak, non-blocking ThreadsafeFunction taking one value.
pub(crate) fn threadsafe(value: &Unknown<'_>, what: &str) -> CoreResult<Callback> {
    if !matches!(value.get_type(), Ok(ValueType::Function)) {
        return Err(CoreError::invalid_input(format!("{what} must be a function")));
    }
    let function: Function<'_, Value, Unknown<'static>> = decode(value, what, "a function")?;
    function
        .build_threadsafe_function::<Value>()
        .weak::<true>()
        .build()
        .map_err(|e| CoreError::Internal { message: format!("cannot wrap {what}: {e}") })
}

/// Queues a call of `callback` with `job` (never waits for JavaScript).
fn notify(callback: Option<&Callback>, job: &FetchJob) {
    if let (Some(callback), Ok(value)) = (callback, serde_json::to_value(job)) {
        callback.call(value, ThreadsafeFunctionCallMode::NonBlocking);
    }
}

type WaitArgs = (Arc<CoreEngine>, String, Option<Duration>, Option<Callback>);

/// `waitJob`: polls the job on the libuv pool, reporting changes; a failed job rejects.
pub struct WaitTask {
    prepared: Option<CoreResult<WaitArgs>>,
}

impl std::fmt::Debug for WaitTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitTask").finish_non_exhaustive()
    }
}

fn wait(
    engine: &CoreEngine,
    id: &str,
    timeout: Option<Duration>,
    progress: Option<&Callback>,
) -> CoreResult<FetchJob> {
    let queue = engine.fetch_queue()?;
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut last: Option<(JobState, u64)> = None;
    loop {
        let job = queue.get(id)?;
        if last != Some((job.state, job.bytes_done)) {
            last = Some((job.state, job.bytes_done));
            notify(progress, &job);
        }
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left.is_some_and(|l| l.is_zero()) {
            return Ok(job);
        }
        let step = left.map_or(POLL, |l| l.min(POLL));
        let job = queue.wait(id, step)?;
        if job.state.is_terminal() {
            // wait() returns a terminal job only once no worker runs it any more.
            let job = queue.wait(id, Duration::ZERO)?;
            if job.state.is_terminal() {
                if last != Some((job.state, job.bytes_done)) {
                    notify(progress, &job);
                }
                return Ok(job);
            }
        }
    }
}

impl<'task> ScopedTask<'task> for WaitTask {
    type Output = CoreResult<FetchJob>;
    type JsValue = Unknown<'task>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(match self.prepared.take() {
            Some(Ok((engine, id, timeout, progress))) => {
                guarded(|| wait(&engine, &id, timeout, progress.as_ref()))
            }
            Some(Err(e)) => Err(e),
            None => Err(CoreError::invalid_input("an async task cannot run twice")),
        })
    }

    fn resolve(&mut self, env: &'task Env, output: Self::Output) -> napi::Result<Unknown<'task>> {
        let job = match output {
            Ok(job) => job,
            Err(e) => return Err(rejection(env, &e)),
        };
        let value = serde_json::to_value(&job)
            .map_err(|e| napi::Error::new(Status::GenericFailure, e.to_string()))?;
        match (&job.state, &job.error) {
            (JobState::Failed, Some(error)) => {
                let mut object = env.create_error(napi::Error::new(
                    Status::GenericFailure,
                    error.message.clone(),
                ))?;
                object.set_named_property("code", error.code.as_str())?;
                object.set_named_property("retryable", error.retryable)?;
                if let Some(status) = error.http_status {
                    object.set_named_property("httpStatus", u32::from(status))?;
                }
                object.set_named_property("job", value)?;
                Err(napi::Error::from(object.to_unknown()))
            }
            _ => value.into_unknown(env),
        }
    }
}

//! Fetch jobs: fetches recorded in the store ([`Table::FetchJob`]) and run by a
//! [`FetchQueue`] with a concurrency limit, so they survive the process and can be watched,
//! cancelled and retried.
//!
//! ```text
//! queued ──► downloading ──► verifying ──► completed
//!   ▲  │          │               │
//!   │  │          └───────────────┴──► failed ──retry──┐
//!   │  └──────────┴──cancel──────────► cancelled ─retry─┤
//!   └─────────────────────────────────────────────────────┘
//! ```
//!
//! Every change of state is a compare-and-set on the state the job is read in
//! ([`crate::store::Expect`]), so two writers cannot both move a job. Progress writes
//! change only `bytesDone`, `bytesTotal` and `percent`, and only of a job that is still
//! `downloading` in the same attempt: a late progress report cannot bring back a job that
//! was cancelled or finished.
//!
//! A job's id is `name:version`: submitting the same model version from the same source
//! again returns the existing job, from another source fails with [`Error::Conflict`].
//!
//! Retries: the fetch itself retries retryable errors [`FetchOptions::retries`] times with
//! backoff (see [`crate::fetch`]); once those are spent the job is `failed` with its typed
//! error and can be retried by hand ([`FetchQueue::retry`]).
//!
//! Crash recovery: [`FetchQueue::new`] puts the jobs a dead process left `downloading` or
//! `verifying` back to `queued`, and queues them with the ones already queued. Their
//! download starts again from byte 0; the temporary files such a process left are removed
//! once idle for [`STALE_TEMPORARY`]. One queue per data directory: a second live process
//! on the same store would take over the first one's running jobs.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{
    CancelToken, FetchOptions, Fetched, Fetcher, FileRecord, FsSource, HfSource, HttpSource, Source,
};
use serde_json::Value;

use crate::backend::Framework;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::registry::Stage;
use crate::store::{Expect, MonitorRecord, RecordQuery, Store, Table};

/// What to fetch, as a job records it (serde: `{"kind": "http", "url": …}` or
/// `{"kind": "fs", "root": …, "path": …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[non_exhaustive]
pub enum SourceSpec {
    /// One file at an HTTP(S) URL ([`HttpSource`]). The URL is stored whole, so that a
    /// recovered job can request it again.
    Http {
        /// The URL.
        url: String,
    },
    /// A file or directory tree under a root on this machine ([`FsSource`]).
    Fs {
        /// The import root.
        root: PathBuf,
        /// The path below it.
        path: String,
    },
    /// A Hugging Face Hub repository ([`HfSource`]); the token is not part of it (it comes
    /// from `HF_TOKEN` or the cache when the job runs, or from the submitting process).
    Hf {
        /// `org/name`.
        repo: String,
        /// Branch, tag or commit (default `main`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        revision: Option<String>,
        /// Files to fetch (default: chosen by the variant, see [`crate::fetch::select_files`]).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        files: Vec<String>,
        /// The Hub's base URL (default `HF_ENDPOINT`, else the public Hub).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        endpoint: Option<String>,
    },
}

impl SourceSpec {
    /// An HTTP(S) source, checked as [`HttpSource::new`] checks it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when `url` is not an `http://` or `https://` URL.
    pub fn http(url: impl Into<String>) -> Result<Self> {
        let source = HttpSource::new(url)?;
        Ok(SourceSpec::Http { url: source.url().to_string() })
    }

    /// A filesystem source (checked when the job runs).
    pub fn fs(root: impl Into<PathBuf>, path: impl Into<String>) -> Self {
        SourceSpec::Fs { root: root.into(), path: path.into() }
    }

    /// A Hugging Face repository at `main`, files chosen by variant.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when `repo` is not a repository id.
    pub fn hf(repo: impl Into<String>) -> Result<Self> {
        let source = HfSource::new(repo)?;
        Ok(SourceSpec::Hf {
            repo: source.repo().to_string(),
            revision: None,
            files: Vec::new(),
            endpoint: None,
        })
    }

    /// Parses the short forms a command line or profile uses: `hf:org/name[@revision]`
    /// (also `hf://…`), an `http://` or `https://` URL, or a path on this machine (its
    /// directory is the import root, so `..` cannot leave it).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty string, a bad repository id or URL.
    ///
    /// # Examples
    ///
    /// ```
    /// use harper_edge_core::fetch::jobs::SourceSpec;
    ///
    /// let s = SourceSpec::parse("hf:sentence-transformers/all-MiniLM-L6-v2@main")?;
    /// assert!(matches!(s, SourceSpec::Hf { ref revision, .. } if revision.as_deref() == Some("main")));
    /// assert!(matches!(SourceSpec::parse("https://example.com/m.onnx")?, SourceSpec::Http { .. }));
    /// assert!(matches!(SourceSpec::parse("models/iris.onnx")?, SourceSpec::Fs { .. }));
    /// # Ok::<(), harper_edge_core::Error>(())
    /// ```
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::invalid_input("an empty model source"));
        }
        if let Some(rest) = s.strip_prefix("hf://").or_else(|| s.strip_prefix("hf:")) {
            let (repo, revision) = match rest.split_once('@') {
                Some((repo, rev)) if !rev.is_empty() => (repo, Some(rev.to_string())),
                Some((repo, _)) => (repo, None),
                None => (rest, None),
            };
            let SourceSpec::Hf { repo, files, endpoint, .. } = SourceSpec::hf(repo)? else {
                unreachable!("SourceSpec::hf builds an Hf spec")
            };
            return Ok(SourceSpec::Hf { repo, revision, files, endpoint });
        }
        if s.starts_with("http://") || s.starts_with("https://") {
            return SourceSpec::http(s);
        }
        if let Some((scheme, _)) = s.split_once("://") {
            return Err(Error::invalid_input(format!(
                "unsupported source scheme '{scheme}://' (expected hf:, http://, https:// or a path)"
            )));
        }
        let path = std::path::Path::new(s);
        let name = path.file_name().ok_or_else(|| {
            Error::invalid_input(format!("'{s}' does not name a file or directory"))
        })?;
        let root = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Ok(SourceSpec::Fs { root, path: name.to_string_lossy().into_owned() })
    }

    pub(crate) fn source(&self) -> Result<Box<dyn Source>> {
        Ok(match self {
            SourceSpec::Http { url } => Box::new(HttpSource::new(url.clone())?),
            SourceSpec::Fs { root, path } => Box::new(FsSource::new(root, path.as_str())),
            SourceSpec::Hf { .. } => Box::new(self.hf_source()?),
        })
    }

    pub(crate) fn hf_source(&self) -> Result<HfSource> {
        let SourceSpec::Hf { repo, revision, files, endpoint } = self else {
            return Err(Error::invalid_input("not a Hugging Face source"));
        };
        let mut source = HfSource::new(repo.clone())?.files(files.iter().cloned());
        if let Some(revision) = revision {
            source = source.revision(revision.clone());
        }
        if let Some(endpoint) = endpoint {
            source = source.endpoint(endpoint.clone());
        }
        Ok(source)
    }

    /// How the source is shown in messages (a URL without its query or user info).
    pub fn shown(&self) -> String {
        match self {
            SourceSpec::Http { url } => super::http::redact(url),
            SourceSpec::Fs { root, path } => format!("{}/{path}", root.display()),
            SourceSpec::Hf { repo, revision, .. } => match revision {
                Some(r) => format!("hf:{repo}@{r}"),
                None => format!("hf:{repo}"),
            },
        }
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for a free slot.
    Queued,
    /// Its files are being fetched.
    Downloading,
    /// The stored files are being hashed again.
    Verifying,
    /// Done: see [`FetchJob::result`].
    Completed,
    /// Gave up: see [`FetchJob::error`].
    Failed,
    /// Stopped by [`FetchQueue::cancel`].
    Cancelled,
}

impl JobState {
    /// The serde name (`queued`, `downloading` …).
    pub const fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Downloading => "downloading",
            JobState::Verifying => "verifying",
            JobState::Completed => "completed",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Parses a state name (`queued`, `downloading`, …).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the states.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "queued" => JobState::Queued,
            "downloading" => JobState::Downloading,
            "verifying" => JobState::Verifying,
            "completed" => JobState::Completed,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            other => {
                return Err(Error::invalid_input(format!(
                    "unknown job state '{other}' (expected queued, downloading, verifying, \
                     completed, failed or cancelled)"
                )));
            }
        })
    }

    /// Whether the job has ended (`completed`, `failed` or `cancelled`).
    pub const fn is_terminal(self) -> bool {
        matches!(self, JobState::Completed | JobState::Failed | JobState::Cancelled)
    }
}

/// Why a job failed (serde camelCase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobError {
    /// The stable code of the error's kind ([`crate::ErrorKind::code`], `HARPER_EDGE_NETWORK`).
    pub code: String,
    /// The error message.
    pub message: String,
    /// Whether the same fetch may succeed later ([`Error::is_retryable`]).
    pub retryable: bool,
    /// The HTTP status of the answer, when a server answered.
    pub http_status: Option<u16>,
}

impl From<&Error> for JobError {
    fn from(e: &Error) -> Self {
        JobError {
            code: e.kind().code().to_string(),
            message: e.to_string(),
            retryable: e.is_retryable(),
            http_status: e.http_status(),
        }
    }
}

/// What a completed job fetched (serde camelCase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobResult {
    /// The files, in the order the source gave them.
    pub files: Vec<FileRecord>,
    /// The model registered from them (`name:version`), when the job registers one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
}

/// How a job registers its files as a model once they are verified (serde camelCase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRegistration {
    /// The model's framework (default: the one the model file's name implies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<Framework>,
    /// Its lifecycle stage (default candidate).
    #[serde(default)]
    pub stage: Stage,
    /// Its metadata (a JSON object; default `{}`).
    #[serde(default = "empty_object")]
    pub metadata: Value,
    /// The file the backend loads, by its name in the fetch (default: the only `.onnx` or
    /// `.safetensors` file; with several, `model.onnx` / `model.safetensors`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main_file: Option<String>,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

impl Default for JobRegistration {
    fn default() -> Self {
        JobRegistration {
            framework: None,
            stage: Stage::default(),
            metadata: empty_object(),
            main_file: None,
        }
    }
}

/// A request to fetch a model version (serde camelCase): [`FetchQueue::submit_request`].
///
/// # Examples
///
/// ```
/// use harper_edge_core::fetch::jobs::{FetchRequest, SourceSpec};
///
/// let request = FetchRequest::new("minilm", "1", SourceSpec::parse("hf:sentence-transformers/all-MiniLM-L6-v2")?)
///     .register(serde_json::json!({"taskType": "text-embedding", "equivalenceGroup": "embeddings-384"}));
/// assert!(request.registration.is_some());
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FetchRequest {
    /// The model the files are for.
    pub model_name: String,
    /// Its version.
    pub model_version: String,
    /// Where the files come from.
    pub source: SourceSpec,
    /// How they are fetched.
    #[serde(default)]
    pub options: FetchOptions,
    /// How the files become a registered model (none: the job only fetches).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<JobRegistration>,
}

impl FetchRequest {
    /// A fetch of `source` for `name:version`, with default options, registering nothing.
    pub fn new(name: impl Into<String>, version: impl Into<String>, source: SourceSpec) -> Self {
        FetchRequest {
            model_name: name.into(),
            model_version: version.into(),
            source,
            options: FetchOptions::default(),
            registration: None,
        }
    }

    /// Sets the fetch options.
    #[must_use]
    pub fn options(mut self, options: FetchOptions) -> Self {
        self.options = options;
        self
    }

    /// Registers the files as a model with this metadata once verified (framework from the
    /// file name, stage candidate); see [`FetchRequest::registration`] for the rest.
    #[must_use]
    pub fn register(mut self, metadata: Value) -> Self {
        self.registration = Some(JobRegistration { metadata, ..JobRegistration::default() });
        self
    }

    /// Sets how the files are registered.
    #[must_use]
    pub fn registration(mut self, registration: JobRegistration) -> Self {
        self.registration = Some(registration);
        self
    }
}

/// A fetch job: the original design's `ModelFetchJob` (serde camelCase), stored in
/// [`Table::FetchJob`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FetchJob {
    /// Primary key: `name:version`.
    pub id: String,
    /// The model the files are for.
    pub model_name: String,
    /// Its version.
    pub model_version: String,
    /// Where the files come from.
    pub source: SourceSpec,
    /// How they are fetched. Header values are not stored (they are replaced by `***`), so
    /// a job recovered after a restart runs without its extra headers.
    pub options: FetchOptions,
    /// Where the job is.
    pub state: JobState,
    /// Bytes fetched so far in the current attempt.
    pub bytes_done: u64,
    /// Bytes to fetch, when known.
    pub bytes_total: Option<u64>,
    /// `bytesDone / bytesTotal` in percent, rounded down (0 while the total is unknown; 100
    /// once completed).
    pub percent: u8,
    /// How many times the job was started (automatic retries inside a fetch not counted).
    pub attempts: u32,
    /// Why the last attempt failed.
    pub error: Option<JobError>,
    /// When it was submitted.
    pub created_at: Timestamp,
    /// When the current attempt started.
    pub started_at: Option<Timestamp>,
    /// When it ended (completed, failed or cancelled).
    pub finished_at: Option<Timestamp>,
    /// What it fetched, once completed.
    pub result: Option<JobResult>,
    /// How the files are registered as a model once verified (none: fetch only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<JobRegistration>,
}

impl FetchJob {
    /// The job id of a model version: `name:version`.
    pub fn id_of(model_name: &str, model_version: &str) -> String {
        format!("{model_name}:{model_version}")
    }

    /// The record the store keeps ([`Table::FetchJob`], status = state, timestamp =
    /// `createdAt`).
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the job cannot be serialised.
    pub fn to_record(&self) -> Result<MonitorRecord> {
        Ok(MonitorRecord {
            table: Table::FetchJob,
            id: self.id.clone(),
            model_name: Some(self.model_name.clone()),
            model_version: Some(self.model_version.clone()),
            timestamp: self.created_at,
            status: Some(self.state.as_str().into()),
            record: serde_json::to_value(self)?,
        })
    }

    /// The job in a stored record.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the record is not a fetch job.
    pub fn from_record(r: &MonitorRecord) -> Result<Self> {
        serde_json::from_value(r.record.clone())
            .map_err(|e| Error::storage(format!("corrupt FetchJob '{}'", r.id), e))
    }

    fn set_progress(&mut self, done: u64, total: Option<u64>) {
        self.bytes_done = done;
        self.bytes_total = total;
        self.percent = match total {
            Some(t) if t > 0 => u8::try_from((done.min(t) * 100) / t).unwrap_or(100),
            _ => 0,
        };
    }
}

/// Which jobs [`FetchQueue::list`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Only jobs of this model.
    pub model_name: Option<String>,
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// At most this many (default [`RecordQuery::DEFAULT_LIMIT`]).
    pub limit: Option<usize>,
}

/// The job `id` as `store` has it, without starting a queue (what a process that only looks
/// at jobs uses: starting a [`FetchQueue`] would take the jobs over).
///
/// # Errors
///
/// [`Error::NotFound`] when there is no such job; [`Error::Storage`].
pub fn read_job(store: &dyn Store, id: &str) -> Result<FetchJob> {
    store
        .record(Table::FetchJob, id)?
        .as_ref()
        .map(FetchJob::from_record)
        .transpose()?
        .ok_or_else(|| Error::not_found("fetch job", id))
}

/// Jobs in `store` matching `filter`, newest first, without starting a queue.
///
/// # Errors
///
/// [`Error::Storage`].
pub fn list_jobs(store: &dyn Store, filter: &JobFilter) -> Result<Vec<FetchJob>> {
    let query = RecordQuery {
        model_name: filter.model_name.clone(),
        status: filter.state.map(|s| s.as_str().to_string()),
        limit: filter.limit,
        ..RecordQuery::default()
    };
    store.records(Table::FetchJob, &query)?.iter().map(FetchJob::from_record).collect()
}

/// Temporary files idle this long are removed when a queue starts ([`FetchQueue::recover`]).
pub const STALE_TEMPORARY: Duration = Duration::from_secs(600);

/// Called when a job ends: completed, failed or cancelled.
pub type CompletionCallback = dyn Fn(&FetchJob) + Send + Sync;

/// Registers a verified job's files as a model ([`FetchJob::registration`]); returns the
/// model id. An error fails the job with it (a corrupt model: `ModelLoad`, not retryable).
/// [`crate::Engine::fetch_queue`] installs one that registers into the engine's store.
pub type Finisher = dyn Fn(&FetchJob, &JobResult) -> Result<String> + Send + Sync;

/// Settings of a [`FetchQueue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueOptions {
    /// Most jobs downloading at once (default 3).
    pub concurrency: usize,
}

impl Default for QueueOptions {
    fn default() -> Self {
        QueueOptions { concurrency: 3 }
    }
}

/// Why a running job's token was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Cancel,
    Shutdown,
}

#[derive(Debug)]
struct Running {
    token: CancelToken,
    stop: Option<Stop>,
}

#[derive(Debug, Default)]
struct Sched {
    queue: VecDeque<String>,
    running: HashMap<String, Running>,
    /// Header values of jobs submitted in this process (the store keeps none).
    headers: HashMap<String, Vec<(String, String)>>,
    shutdown: bool,
}

struct Inner {
    store: Arc<dyn Store>,
    fetcher: Fetcher,
    sched: Mutex<Sched>,
    changed: Condvar,
    /// Serialises read-modify-write of job records within this process; across processes
    /// the compare-and-set on the state is what protects them.
    write: Mutex<()>,
    callbacks: Mutex<Vec<Arc<CompletionCallback>>>,
    finisher: Option<Arc<Finisher>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner").field("store", &self.store).finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs fetch jobs on worker threads, at most [`QueueOptions::concurrency`] at once, in the
/// order they were queued; a waiting job starts as soon as a slot frees.
///
/// Dropping the queue stops its workers: running downloads are interrupted and their jobs
/// put back to `queued`, for the next queue on the same store to run.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use harper_edge_core::fetch::jobs::{FetchQueue, JobState, QueueOptions, SourceSpec};
/// use harper_edge_core::fetch::{ContentStore, FetchOptions, Fetcher};
/// use harper_edge_core::MemoryStore;
///
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("model.onnx"), b"not really onnx")?;
/// let fetcher = Fetcher::new(ContentStore::open(dir.path().join("home"))?);
/// let queue = FetchQueue::new(Arc::new(MemoryStore::new()), fetcher, QueueOptions::default())?;
///
/// let spec = SourceSpec::fs(dir.path(), "model.onnx");
/// let job = queue.submit("demo", "1", spec, FetchOptions::default())?;
/// let job = queue.wait(&job.id, Duration::from_secs(30))?;
/// assert_eq!(job.state, JobState::Completed);
/// assert_eq!(job.result.unwrap().files[0].size, 15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FetchQueue {
    inner: Arc<Inner>,
    workers: Vec<JoinHandle<()>>,
}

impl FetchQueue {
    /// A queue writing jobs to `store` and fetching with `fetcher`; recovers the jobs left
    /// by a previous process ([`FetchQueue::recover`]) and starts the workers.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a concurrency of 0; [`Error::Storage`] when the jobs
    /// cannot be read.
    pub fn new(store: Arc<dyn Store>, fetcher: Fetcher, options: QueueOptions) -> Result<Self> {
        Self::with_finisher(store, fetcher, options, None)
    }

    /// As [`FetchQueue::new`], with the function that registers a job's files as a model
    /// once they are verified (jobs with a [`FetchJob::registration`] only).
    ///
    /// # Errors
    ///
    /// As [`FetchQueue::new`].
    pub fn with_finisher(
        store: Arc<dyn Store>,
        fetcher: Fetcher,
        options: QueueOptions,
        finisher: Option<Arc<Finisher>>,
    ) -> Result<Self> {
        if options.concurrency == 0 {
            return Err(Error::invalid_input("concurrency must be at least 1"));
        }
        let inner = Arc::new(Inner {
            store,
            fetcher,
            sched: Mutex::default(),
            changed: Condvar::new(),
            write: Mutex::new(()),
            callbacks: Mutex::default(),
            finisher,
        });
        let mut queue = FetchQueue { inner, workers: Vec::new() };
        queue.recover()?;
        for _ in 0..options.concurrency {
            let inner = Arc::clone(&queue.inner);
            queue.workers.push(std::thread::spawn(move || inner.work()));
        }
        Ok(queue)
    }

    /// Puts jobs left `downloading` or `verifying` (by a process that died) back to
    /// `queued`, and queues every `queued` job not queued yet, oldest first. Returns how
    /// many jobs were queued.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the store fails.
    pub fn recover(&self) -> Result<usize> {
        // Partial downloads of dead processes; a live download writes more often than this.
        let _ = self.inner.fetcher.store().sweep_temporary(STALE_TEMPORARY);
        let query = RecordQuery { limit: Some(usize::MAX), ..RecordQuery::default() };
        let mut jobs: Vec<FetchJob> = self
            .inner
            .store
            .records(Table::FetchJob, &query)?
            .iter()
            .map(FetchJob::from_record)
            .collect::<Result<_>>()?;
        jobs.reverse();
        let mut queued = 0;
        for job in jobs {
            let busy = {
                let sched = lock(&self.inner.sched);
                sched.running.contains_key(&job.id) || sched.queue.contains(&job.id)
            };
            if busy {
                continue;
            }
            let requeue = match job.state {
                JobState::Queued => true,
                JobState::Downloading | JobState::Verifying => self
                    .inner
                    .transition(&job.id, &[job.state], JobState::Queued, |j| {
                        j.set_progress(0, None);
                        j.started_at = None;
                    })
                    .is_ok(),
                _ => false,
            };
            if requeue {
                self.inner.enqueue(&job.id);
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Queues a fetch of `source` for model `name:version` that registers nothing; returns
    /// the job. Shorthand for [`FetchQueue::submit_request`].
    ///
    /// # Errors
    ///
    /// As [`FetchQueue::submit_request`].
    pub fn submit(
        &self,
        model_name: &str,
        model_version: &str,
        source: SourceSpec,
        options: FetchOptions,
    ) -> Result<FetchJob> {
        self.submit_request(FetchRequest::new(model_name, model_version, source).options(options))
    }

    /// Queues `request`; returns the job.
    ///
    /// Idempotent: when a job for `name:version` with the same source exists, in any
    /// state, it is returned unchanged (its options and registration are kept).
    ///
    /// # Errors
    ///
    /// [`Error::Conflict`] when a job for `name:version` exists with another source;
    /// [`Error::InvalidInput`] for an invalid name or version, malformed options, or a
    /// registration whose metadata is not a JSON object; [`Error::Storage`] when the store
    /// fails.
    pub fn submit_request(&self, request: FetchRequest) -> Result<FetchJob> {
        let FetchRequest { model_name, model_version, source, options, registration } = request;
        let (model_name, model_version) = (model_name.as_str(), model_version.as_str());
        crate::registry::ModelRef::new(model_name, Some(model_version))?;
        if let Some(r) = &registration
            && !r.metadata.is_object()
        {
            return Err(Error::invalid_input("model metadata must be a JSON object"));
        }
        options.expected()?;
        source.source()?;
        let id = FetchJob::id_of(model_name, model_version);
        let _write = lock(&self.inner.write);
        if let Some(existing) = self.inner.read(&id)? {
            return if existing.source == source {
                Ok(existing)
            } else {
                Err(Error::Conflict {
                    message: format!(
                        "fetch job '{id}' exists with source '{}', not '{}'",
                        existing.source.shown(),
                        source.shown()
                    ),
                })
            };
        }
        let headers = options.headers.clone();
        let mut stored = options;
        for (_, value) in &mut stored.headers {
            *value = "***".into();
        }
        let job = FetchJob {
            id: id.clone(),
            model_name: model_name.into(),
            model_version: model_version.into(),
            source,
            options: stored,
            state: JobState::Queued,
            bytes_done: 0,
            bytes_total: None,
            percent: 0,
            attempts: 0,
            error: None,
            created_at: self.inner.fetcher.clock().now(),
            started_at: None,
            finished_at: None,
            result: None,
            registration,
        };
        let expect = Expect { table: Table::FetchJob, id: id.clone(), status: None };
        match self.inner.store.put_records(&[job.to_record()?], &[expect]) {
            Ok(()) => {}
            // Another process created it between our read and write.
            Err(Error::Conflict { .. }) => return self.get(&id),
            Err(e) => return Err(e),
        }
        lock(&self.inner.sched).headers.insert(id.clone(), headers);
        self.inner.enqueue(&id);
        Ok(job)
    }

    /// The job `id`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when there is no such job; [`Error::Storage`].
    pub fn get(&self, id: &str) -> Result<FetchJob> {
        read_job(self.inner.store.as_ref(), id)
    }

    /// Jobs matching `filter`, newest first.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`].
    pub fn list(&self, filter: &JobFilter) -> Result<Vec<FetchJob>> {
        list_jobs(self.inner.store.as_ref(), filter)
    }

    /// Cancels the job `id`: a queued job is taken off the queue, a running one is
    /// interrupted (its download and any retry wait stop, its temporary file is removed once
    /// the worker has stopped: [`FetchQueue::wait`] returns after that). Returns the job,
    /// now `cancelled`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`]; [`Error::InvalidTransition`] when the job has already ended.
    pub fn cancel(&self, id: &str) -> Result<FetchJob> {
        let from = [JobState::Queued, JobState::Downloading, JobState::Verifying];
        let now = self.inner.fetcher.clock().now();
        let job = self.inner.transition(id, &from, JobState::Cancelled, |j| {
            j.finished_at = Some(now);
        })?;
        {
            let mut sched = lock(&self.inner.sched);
            sched.queue.retain(|q| q != id);
            if let Some(r) = sched.running.get_mut(id) {
                r.stop = Some(Stop::Cancel);
                r.token.cancel();
            }
        }
        self.inner.changed.notify_all();
        self.inner.completed(&job);
        Ok(job)
    }

    /// Queues the failed or cancelled job `id` again (error and progress cleared).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`]; [`Error::InvalidTransition`] unless the job is `failed` or
    /// `cancelled`.
    pub fn retry(&self, id: &str) -> Result<FetchJob> {
        let job = self.inner.transition(
            id,
            &[JobState::Failed, JobState::Cancelled],
            JobState::Queued,
            |j| {
                j.error = None;
                j.result = None;
                j.started_at = None;
                j.finished_at = None;
                j.set_progress(0, None);
            },
        )?;
        self.inner.enqueue(id);
        Ok(job)
    }

    /// Waits until the job `id` has ended and no worker of this queue runs it any more, or
    /// until `timeout`; returns the job as it is then.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`]; [`Error::Storage`].
    pub fn wait(&self, id: &str, timeout: Duration) -> Result<FetchJob> {
        let deadline = Instant::now() + timeout;
        let mut sched = lock(&self.inner.sched);
        loop {
            let job = self.get(id)?;
            let idle = !sched.running.contains_key(id) && !sched.queue.iter().any(|q| q == id);
            if job.state.is_terminal() && idle {
                return Ok(job);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(job);
            }
            // Bounded so that a change made by another process is seen too.
            let step = (deadline - now).min(Duration::from_millis(200));
            sched = self
                .inner
                .changed
                .wait_timeout(sched, step)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Calls `callback` each time a job ends (completed, failed or cancelled), on the thread
    /// that ended it.
    pub fn on_complete(&self, callback: impl Fn(&FetchJob) + Send + Sync + 'static) {
        lock(&self.inner.callbacks).push(Arc::new(callback));
    }
}

impl Drop for FetchQueue {
    fn drop(&mut self) {
        {
            let mut sched = lock(&self.inner.sched);
            sched.shutdown = true;
            for r in sched.running.values_mut() {
                if r.stop.is_none() {
                    r.stop = Some(Stop::Shutdown);
                }
                r.token.cancel();
            }
        }
        self.inner.changed.notify_all();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl Inner {
    fn read(&self, id: &str) -> Result<Option<FetchJob>> {
        self.store.record(Table::FetchJob, id)?.as_ref().map(FetchJob::from_record).transpose()
    }

    fn enqueue(&self, id: &str) {
        let mut sched = lock(&self.sched);
        if !sched.queue.iter().any(|q| q == id) {
            sched.queue.push_back(id.to_string());
        }
        drop(sched);
        self.changed.notify_all();
    }

    /// Moves job `id` from one of `from` to `to` with `change`, compare-and-set on the state
    /// it was read in.
    fn transition(
        &self,
        id: &str,
        from: &[JobState],
        to: JobState,
        change: impl FnOnce(&mut FetchJob),
    ) -> Result<FetchJob> {
        let _write = lock(&self.write);
        let mut job = self.read(id)?.ok_or_else(|| Error::not_found("fetch job", id))?;
        let invalid = |now: JobState| Error::InvalidTransition {
            entity: "fetch job",
            id: id.to_string(),
            from: now.as_str().into(),
            to: to.as_str().into(),
        };
        if !from.contains(&job.state) {
            return Err(invalid(job.state));
        }
        let expect = Expect {
            table: Table::FetchJob,
            id: id.into(),
            status: Some(job.state.as_str().into()),
        };
        job.state = to;
        change(&mut job);
        match self.store.put_records(&[job.to_record()?], &[expect]) {
            Ok(()) => {
                self.changed.notify_all();
                Ok(job)
            }
            Err(Error::Conflict { .. }) => {
                let now = self.read(id)?.map_or(JobState::Cancelled, |j| j.state);
                Err(invalid(now))
            }
            Err(e) => Err(e),
        }
    }

    /// Records progress of attempt `attempt` of job `id`, only while it is `downloading`
    /// in that attempt; never changes its state.
    fn progress(&self, id: &str, attempt: u32, done: u64, total: Option<u64>) -> Result<bool> {
        let _write = lock(&self.write);
        let Some(mut job) = self.read(id)? else { return Ok(false) };
        if job.state != JobState::Downloading || job.attempts != attempt {
            return Ok(false);
        }
        job.set_progress(done, total);
        let expect = Expect {
            table: Table::FetchJob,
            id: id.into(),
            status: Some(JobState::Downloading.as_str().into()),
        };
        match self.store.put_records(&[job.to_record()?], &[expect]) {
            Ok(()) => Ok(true),
            Err(Error::Conflict { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn completed(&self, job: &FetchJob) {
        let callbacks: Vec<_> = lock(&self.callbacks).clone();
        for c in callbacks {
            c(job);
        }
    }

    fn work(&self) {
        loop {
            let (id, token) = {
                let mut sched = lock(&self.sched);
                loop {
                    if sched.shutdown {
                        return;
                    }
                    if let Some(id) = sched.queue.pop_front() {
                        let token = CancelToken::new();
                        sched
                            .running
                            .insert(id.clone(), Running { token: token.clone(), stop: None });
                        break (id, token);
                    }
                    sched = self.changed.wait(sched).unwrap_or_else(PoisonError::into_inner);
                }
            };
            // A failure to reach the store leaves the job as it is, for recovery.
            let _ = self.run(&id, &token);
            lock(&self.sched).running.remove(&id);
            self.changed.notify_all();
        }
    }

    fn run(&self, id: &str, token: &CancelToken) -> Result<()> {
        let now = self.fetcher.clock().now();
        let Ok(job) = self.transition(id, &[JobState::Queued], JobState::Downloading, |j| {
            j.attempts += 1;
            j.started_at = Some(now);
            j.error = None;
            j.set_progress(0, None);
        }) else {
            return Ok(());
        };
        let mut options = job.options.clone();
        if let Some(headers) = lock(&self.sched).headers.get(id) {
            options.headers = headers.clone();
        } else {
            options.headers.clear();
        }
        let fetcher = self.fetcher.clone().with_cancel(token.clone());
        let attempt = job.attempts;
        let fetched = job.source.source().and_then(|source| {
            fetcher.fetch(source.as_ref(), &options, &mut |done, total| {
                let _ = self.progress(id, attempt, done, total);
            })
        });
        let stop = lock(&self.sched).running.get(id).and_then(|r| r.stop);
        match (fetched, stop) {
            (_, Some(Stop::Cancel)) => Ok(()),
            (_, Some(Stop::Shutdown)) => {
                self.transition(
                    id,
                    &[JobState::Downloading, JobState::Verifying],
                    JobState::Queued,
                    |j| {
                        j.set_progress(0, None);
                        j.started_at = None;
                    },
                )?;
                Ok(())
            }
            (Ok(files), None) => self.verify(id, &files),
            (Err(e), None) => self.fail(id, &e),
        }
    }

    fn verify(&self, id: &str, files: &[Fetched]) -> Result<()> {
        if self.transition(id, &[JobState::Downloading], JobState::Verifying, |_| {}).is_err() {
            return Ok(());
        }
        for f in files {
            if let Err(e) = self.fetcher.store().verify(&f.blob.sha256) {
                return self.fail(id, &e);
            }
        }
        let mut result =
            JobResult { files: files.iter().map(FileRecord::from).collect(), model_id: None };
        if let (Some(finisher), Ok(Some(job))) = (&self.finisher, self.read(id))
            && job.registration.is_some()
        {
            match finisher(&job, &result) {
                Ok(model_id) => result.model_id = Some(model_id),
                Err(e) => return self.fail(id, &e),
            }
        }
        let now = self.fetcher.clock().now();
        let size: u64 = files.iter().map(|f| f.blob.size).sum();
        if let Ok(job) = self.transition(id, &[JobState::Verifying], JobState::Completed, |j| {
            j.set_progress(size, Some(size));
            j.percent = 100;
            j.finished_at = Some(now);
            j.result = Some(result);
        }) {
            self.completed(&job);
        }
        Ok(())
    }

    fn fail(&self, id: &str, e: &Error) -> Result<()> {
        let now = self.fetcher.clock().now();
        let from = [JobState::Downloading, JobState::Verifying];
        if let Ok(job) = self.transition(id, &from, JobState::Failed, |j| {
            j.error = Some(JobError::from(e));
            j.finished_at = Some(now);
        }) {
            self.completed(&job);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::ContentStore;
    use crate::store::MemoryStore;

    fn job(state: JobState, attempts: u32) -> FetchJob {
        FetchJob {
            id: "m:1".into(),
            model_name: "m".into(),
            model_version: "1".into(),
            source: SourceSpec::fs("/nowhere", "x"),
            options: FetchOptions::default(),
            state,
            bytes_done: 0,
            bytes_total: None,
            percent: 0,
            attempts,
            error: None,
            created_at: Timestamp::from_millis(1),
            started_at: None,
            finished_at: None,
            result: None,
            registration: None,
        }
    }

    fn inner(store: Arc<dyn Store>, home: &tempfile::TempDir) -> Inner {
        Inner {
            store,
            fetcher: Fetcher::new(ContentStore::open(home.path()).unwrap()),
            sched: Mutex::default(),
            changed: Condvar::new(),
            write: Mutex::new(()),
            callbacks: Mutex::default(),
            finisher: None,
        }
    }

    #[test]
    fn progress_never_moves_a_job_that_left_downloading() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let home = tempfile::tempdir().unwrap();
        let inner = inner(Arc::clone(&store), &home);
        store.put_records(&[job(JobState::Downloading, 1).to_record().unwrap()], &[]).unwrap();
        assert!(inner.progress("m:1", 1, 50, Some(200)).unwrap());
        let j = inner.read("m:1").unwrap().unwrap();
        assert_eq!((j.state, j.bytes_done, j.percent), (JobState::Downloading, 50, 25));

        inner.transition("m:1", &[JobState::Downloading], JobState::Cancelled, |_| {}).unwrap();
        assert!(!inner.progress("m:1", 1, 150, Some(200)).unwrap());
        let j = inner.read("m:1").unwrap().unwrap();
        assert_eq!((j.state, j.bytes_done), (JobState::Cancelled, 50));

        // A later attempt is downloading: the old attempt's report is ignored.
        store.put_records(&[job(JobState::Downloading, 2).to_record().unwrap()], &[]).unwrap();
        assert!(!inner.progress("m:1", 1, 150, Some(200)).unwrap());
        assert_eq!(inner.read("m:1").unwrap().unwrap().bytes_done, 0);
    }

    #[test]
    fn transitions_are_checked_against_the_stored_state() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let home = tempfile::tempdir().unwrap();
        let inner = inner(Arc::clone(&store), &home);
        store.put_records(&[job(JobState::Completed, 1).to_record().unwrap()], &[]).unwrap();
        let err = inner
            .transition("m:1", &[JobState::Failed, JobState::Cancelled], JobState::Queued, |_| {})
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidTransition);
        assert!(err.to_string().contains("from 'completed' to 'queued'"), "{err}");
    }

    #[test]
    fn a_job_record_round_trips_with_camel_case_fields() {
        let j = job(JobState::Queued, 0);
        let r = j.to_record().unwrap();
        assert_eq!(r.status.as_deref(), Some("queued"));
        assert_eq!(r.record["source"]["kind"], "fs");
        assert_eq!(r.record["modelName"], "m");
        assert!(r.record.get("bytesDone").is_some());
        assert_eq!(FetchJob::from_record(&r).unwrap(), j);
    }
}

//! Fetching model files into the data directory: from the Hugging Face Hub ([`HfSource`]),
//! HTTP(S) URLs ([`HttpSource`]) and a directory on this machine ([`FsSource`]); what a
//! source holds can be looked at before anything is downloaded ([`inspect`]).
//!
//! Every fetched file ends in the [`ContentStore`], named by its sha256 — the same
//! `models/<sha256>` files the embedded store keeps registered models in — and comes back as
//! a [`Fetched`] with its [`Provenance`] (where it came from, which revision, its digest and
//! size, when).
//!
//! HTTP downloads stream into a temporary file beside their destination while the sha256 is
//! computed; the size limit is enforced from `Content-Length` before reading and again while
//! streaming, so memory stays bounded whatever the server sends. A dropped connection is
//! resumed with `Range: bytes=N-` when the server honours ranges (checked against its
//! `Content-Range`), and restarted from the first byte when it does not. Connection errors,
//! timeouts, HTTP 408, 429 and 5xx answers are retried [`FetchOptions::retries`] times after a
//! wait that is really slept through the fetcher's [`Sleeper`]: the server's `Retry-After`
//! (seconds or an HTTP date, capped at [`FetchOptions::retry_after_cap`]) or a jittered
//! exponential backoff. An attempt that moved the download forward starts the retry count
//! again. [`Fetcher::fetch`] has an example; guide: docs/fetch.md.

mod content;
mod fs;
mod hf;
mod http;
mod inspect;
pub mod jobs;

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::clock::{Clock, ManualClock, SystemClock, Timestamp};
use crate::error::{Error, Result};

pub use content::{Blob, ContentStore};
pub use fs::FsSource;
pub use hf::{
    COMPANION_FILES, DEFAULT_ENDPOINT, HfListing, HfSource, framework_of, is_commit, select_files,
};
pub use http::HttpSource;
pub use inspect::{InspectedFile, Inspection, inspect};

/// Settings of one fetch (serde camelCase; durations in milliseconds).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use harper_edge_core::fetch::FetchOptions;
///
/// let options = FetchOptions { retries: 5, read_timeout: Duration::from_secs(10), ..Default::default() };
/// assert_eq!(options.max_bytes, 5 << 30);
/// let json = serde_json::to_value(&options)?;
/// assert_eq!(json["readTimeoutMs"], 10_000);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FetchOptions {
    /// Largest file accepted, in bytes (default 5 GiB); for a directory, the limit of each
    /// file.
    pub max_bytes: u64,
    /// The hex sha256 the fetched file must have; only for sources that yield one file.
    pub expected_sha256: Option<String>,
    /// Longest wait for a TCP connection (default 30 s).
    #[serde(rename = "connectTimeoutMs", with = "millis")]
    pub connect_timeout: Duration,
    /// Longest wait for any single read from the server, headers or body (default 60 s);
    /// a slow but moving download is never cut off.
    #[serde(rename = "readTimeoutMs", with = "millis")]
    pub read_timeout: Duration,
    /// Retries after the first attempt (default 3).
    pub retries: u32,
    /// Backoff before the first retry (default 1 s); doubled for each further retry.
    #[serde(rename = "backoffBaseMs", with = "millis")]
    pub backoff_base: Duration,
    /// Longest backoff (default 60 s).
    #[serde(rename = "backoffMaxMs", with = "millis")]
    pub backoff_max: Duration,
    /// Longest `Retry-After` honoured (default 1 h); longer answers wait this long.
    #[serde(rename = "retryAfterCapMs", with = "millis")]
    pub retry_after_cap: Duration,
    /// `User-Agent` of HTTP requests (default `harper-edge/<version>`).
    pub user_agent: String,
    /// The variant being fetched (`default`, `quantized`, …), recorded in
    /// [`Provenance::variant`].
    pub variant: Option<String>,
    /// Extra HTTP request headers (name, value); values are never logged or put in errors.
    pub headers: Vec<(String, String)>,
    /// Shortest interval between two progress calls (default 250 ms); the first and the
    /// last call are always made.
    #[serde(rename = "progressIntervalMs", with = "millis")]
    pub progress_interval: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            max_bytes: 5 << 30,
            expected_sha256: None,
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            retries: 3,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            retry_after_cap: Duration::from_secs(3600),
            user_agent: concat!("harper-edge/", env!("CARGO_PKG_VERSION")).to_string(),
            variant: None,
            headers: Vec::new(),
            progress_interval: Duration::from_millis(250),
        }
    }
}

impl FetchOptions {
    /// The expected sha256 in lowercase, checked to be 64 hex digits.
    fn expected(&self) -> Result<Option<String>> {
        match &self.expected_sha256 {
            None => Ok(None),
            Some(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Ok(Some(s.to_ascii_lowercase()))
            }
            Some(s) => Err(Error::invalid_input(format!(
                "expectedSha256 '{s}' is not a sha256 (64 hex digits)"
            ))),
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// Where a file was fetched from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SourceKind {
    /// An HTTP(S) URL.
    Http,
    /// A directory on this machine.
    Fs,
    /// A Hugging Face Hub repository.
    Hf,
}

impl SourceKind {
    /// `http`, `fs` or `hf`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SourceKind::Http => "http",
            SourceKind::Fs => "fs",
            SourceKind::Hf => "hf",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a stored file came from (serde camelCase): what a model record keeps about its fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    /// The kind of source.
    pub source: SourceKind,
    /// The file's address in its source: the URL (without user info or query), the
    /// canonical path, or `repo/path` on the Hub.
    pub reference: String,
    /// The version of the file the source reported: the `ETag` (else `Last-Modified`) of an
    /// HTTP answer, the commit hash on the Hub; none for files on disk.
    pub revision: Option<String>,
    /// A variant the caller asked for (`default`, `quantized`, …).
    pub variant: Option<String>,
    /// Hex sha256 of the file.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// When the file was stored.
    pub fetched_at: Timestamp,
}

/// A stored file as records keep it (serde camelCase): in a completed fetch job and in a
/// model's [`crate::Model::files`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileRecord {
    /// The file's path relative to what was fetched (`onnx/model.onnx`, `tokenizer.json`).
    pub name: String,
    /// Hex sha256: the file is `<home>/models/<sha256>`.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Where it came from.
    pub provenance: Provenance,
}

impl From<&Fetched> for FileRecord {
    fn from(f: &Fetched) -> Self {
        FileRecord {
            name: f.name.clone(),
            sha256: f.blob.sha256.clone(),
            size: f.blob.size,
            provenance: f.provenance.clone(),
        }
    }
}

/// One fetched file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The file's path relative to what was fetched, with `/` separators: its file name for
    /// a single file, its path below the directory for a directory import.
    pub name: String,
    /// The stored file.
    pub blob: Blob,
    /// Where it came from.
    pub provenance: Provenance,
}

/// Called with `(bytes_done, bytes_total)` while a fetch runs, at most once per
/// [`FetchOptions::progress_interval`] (plus a first and a last call). The total is `None`
/// when the server does not announce it.
pub type Progress<'a> = dyn FnMut(u64, Option<u64>) + 'a;

/// A place files are fetched from.
///
/// A source names what to fetch; the [`Fetcher`] it runs in provides the content store, the
/// clock, the sleeper and the HTTP machinery, so a new source (the Hugging Face Hub) only
/// resolves its files and calls them.
pub trait Source: fmt::Debug + Send + Sync {
    /// The kind of source, recorded in [`Provenance::source`].
    fn kind(&self) -> SourceKind;

    /// Fetches the files into `fetcher`'s content store.
    ///
    /// # Errors
    ///
    /// As [`Fetcher::fetch`].
    fn fetch(
        &self,
        fetcher: &Fetcher,
        options: &FetchOptions,
        progress: &mut Progress<'_>,
    ) -> Result<Vec<Fetched>>;
}

/// Waits between retries. The fetcher sleeps only through this, so tests observe the waits
/// ([`RecordingSleeper`]) instead of spending them.
pub trait Sleeper: Send + Sync + fmt::Debug {
    /// Waits `d`.
    fn sleep(&self, d: Duration);

    /// Waits `d`, or less when `cancel` is cancelled meanwhile. The default does not wait
    /// at all for a token already cancelled, and otherwise waits like [`Sleeper::sleep`].
    fn sleep_unless_cancelled(&self, d: Duration, cancel: &CancelToken) {
        if !cancel.is_cancelled() {
            self.sleep(d);
        }
    }
}

/// A flag that stops a running fetch: the download checks it before each attempt, after
/// each read and during each retry wait, and then fails with [`Error::Io`] of kind
/// [`std::io::ErrorKind::Interrupted`], removing its temporary file. Clones share the flag.
///
/// # Examples
///
/// ```
/// use harper_edge_core::fetch::CancelToken;
///
/// let token = CancelToken::new();
/// let seen_by_the_fetch = token.clone();
/// token.cancel();
/// assert!(seen_by_the_fetch.is_cancelled());
/// ```
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    flag: Arc<(Mutex<bool>, Condvar)>,
}

impl CancelToken {
    /// A token not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels: every clone sees it, and waits in [`CancelToken::wait`] end.
    pub fn cancel(&self) {
        let (lock, cv) = &*self.flag;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cv.notify_all();
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        *self.flag.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits up to `d`, returning early (with `true`) when the token is cancelled.
    pub fn wait(&self, d: Duration) -> bool {
        let (lock, cv) = &*self.flag;
        let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = cv
            .wait_timeout_while(guard, d, |cancelled| !*cancelled)
            .unwrap_or_else(PoisonError::into_inner);
        *guard
    }
}

/// Sleeps the calling thread ([`std::thread::sleep`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct ThreadSleeper;

impl Sleeper for ThreadSleeper {
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }

    fn sleep_unless_cancelled(&self, d: Duration, cancel: &CancelToken) {
        cancel.wait(d);
    }
}

/// Records each wait instead of sleeping, and advances a [`ManualClock`] by it when given
/// one; for tests.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use harper_edge_core::{Clock, ManualClock, Timestamp};
/// use harper_edge_core::fetch::{RecordingSleeper, Sleeper};
///
/// let clock = Arc::new(ManualClock::new(Timestamp::from_millis(0)));
/// let sleeper = RecordingSleeper::with_clock(Arc::clone(&clock));
/// sleeper.sleep(Duration::from_secs(2));
/// assert_eq!(sleeper.waits(), vec![Duration::from_secs(2)]);
/// assert_eq!(clock.now().as_millis(), 2_000);
/// ```
#[derive(Debug, Default)]
pub struct RecordingSleeper {
    waits: Mutex<Vec<Duration>>,
    clock: Option<Arc<ManualClock>>,
}

impl RecordingSleeper {
    /// A sleeper that only records.
    pub fn new() -> Self {
        Self::default()
    }

    /// A sleeper that records and moves `clock` forward by each wait.
    pub fn with_clock(clock: Arc<ManualClock>) -> Self {
        RecordingSleeper { waits: Mutex::default(), clock: Some(clock) }
    }

    /// The waits so far, in order.
    pub fn waits(&self) -> Vec<Duration> {
        self.waits.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, d: Duration) {
        self.waits.lock().unwrap_or_else(PoisonError::into_inner).push(d);
        if let Some(clock) = &self.clock {
            clock.advance(d);
        }
    }
}

/// Runs [`Source`]s: stores what they fetch in a [`ContentStore`], timestamps it with a
/// [`Clock`] and waits between retries through a [`Sleeper`].
#[derive(Debug, Clone)]
pub struct Fetcher {
    store: ContentStore,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    cancel: Option<CancelToken>,
}

impl Fetcher {
    /// A fetcher into `store`, on the system clock, sleeping the calling thread.
    pub fn new(store: ContentStore) -> Self {
        Fetcher {
            store,
            clock: Arc::new(SystemClock),
            sleeper: Arc::new(ThreadSleeper),
            cancel: None,
        }
    }

    /// Stops its fetches when `cancel` is cancelled (see [`CancelToken`]).
    #[must_use]
    pub fn with_cancel(mut self, cancel: CancelToken) -> Self {
        self.cancel = Some(cancel);
        self
    }

    /// Fails with the cancellation error when the fetcher's token is cancelled.
    pub(crate) fn check_cancelled(&self, what: &str) -> Result<()> {
        match &self.cancel {
            Some(c) if c.is_cancelled() => Err(Error::io(
                what,
                std::io::Error::new(std::io::ErrorKind::Interrupted, "the fetch was cancelled"),
            )),
            _ => Ok(()),
        }
    }

    /// Waits `d` through the sleeper, cut short by cancellation.
    pub(crate) fn wait(&self, d: Duration) {
        match &self.cancel {
            Some(c) => self.sleeper.sleep_unless_cancelled(d, c),
            None => self.sleeper.sleep(d),
        }
    }

    /// Uses `clock` for [`Provenance::fetched_at`] and for `Retry-After` dates.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Waits between retries through `sleeper`.
    #[must_use]
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// The content store files go into.
    pub fn store(&self) -> &ContentStore {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The sleeper.
    pub fn sleeper(&self) -> &Arc<dyn Sleeper> {
        &self.sleeper
    }

    /// Fetches `source` into the content store, calling `progress` as bytes arrive.
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidInput`]: malformed options or URL; a path that leaves the import
    ///   root (`..`, an absolute path or a symlink elsewhere) or is not a regular file or
    ///   directory; an expected sha256 for a source of several files;
    /// - [`Error::NotFound`]: the server answered 404 or 410, or the path does not exist;
    /// - [`Error::Network`]: the server answered another error status (401 and 403 are not
    ///   retryable; 408, 429 and 5xx are retryable and reported once the retries are spent),
    ///   or the connection failed or timed out on every attempt (retryable);
    /// - [`Error::Integrity`]: the file does not have the expected sha256, or a server's
    ///   `Content-Range` does not fit the request;
    /// - [`Error::Capacity`]: the file is larger than [`FetchOptions::max_bytes`];
    /// - [`Error::Io`]: a file could not be read or written.
    ///
    /// On error nothing is added to the store and temporary files are removed.
    ///
    /// # Examples
    ///
    /// ```
    /// use harper_edge_core::fetch::{ContentStore, FetchOptions, Fetcher, FsSource, SourceKind};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let root = dir.path().join("exported");
    /// std::fs::create_dir_all(&root)?;
    /// std::fs::write(root.join("model.onnx"), b"not really onnx")?;
    ///
    /// let fetcher = Fetcher::new(ContentStore::open(dir.path().join("home"))?);
    /// let source = FsSource::new(&root, "model.onnx");
    /// let files = fetcher.fetch(&source, &FetchOptions::default(), &mut |_done, _total| {})?;
    /// assert_eq!(files[0].provenance.source, SourceKind::Fs);
    /// assert_eq!(std::fs::read(&files[0].blob.path)?, b"not really onnx");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fetch(
        &self,
        source: &dyn Source,
        options: &FetchOptions,
        progress: &mut Progress<'_>,
    ) -> Result<Vec<Fetched>> {
        options.expected()?;
        source.fetch(self, options, progress)
    }

    fn provenance(
        &self,
        options: &FetchOptions,
        source: SourceKind,
        reference: String,
        revision: Option<String>,
        blob: &Blob,
    ) -> Provenance {
        Provenance {
            source,
            reference,
            revision,
            variant: options.variant.clone(),
            sha256: blob.sha256.clone(),
            size: blob.size,
            fetched_at: self.clock.now(),
        }
    }
}

/// Calls a progress callback at most once per interval, and always for the first and last
/// report.
struct Throttle<'p, 'a> {
    callback: &'p mut Progress<'a>,
    interval: Duration,
    last: Option<Instant>,
}

impl<'p, 'a> Throttle<'p, 'a> {
    fn new(callback: &'p mut Progress<'a>, interval: Duration) -> Self {
        Throttle { callback, interval, last: None }
    }

    fn report(&mut self, done: u64, total: Option<u64>) {
        let now = Instant::now();
        if self.last.is_none_or(|t| now.duration_since(t) >= self.interval) {
            self.last = Some(now);
            (self.callback)(done, total);
        }
    }

    fn finish(&mut self, done: u64, total: Option<u64>) {
        self.last = Some(Instant::now());
        (self.callback)(done, total);
    }
}

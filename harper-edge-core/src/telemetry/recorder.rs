use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::background::Periodic;
use crate::clock::{Clock, Timestamp};
use crate::error::{Error, Result};
use crate::registry::Model;
use crate::store::Store;
use crate::telemetry::buffer::EventBuffer;
use crate::telemetry::series::{shard_count, thread_index};
use crate::telemetry::{
    Admission, EventQuery, FeatureSample, InferenceEvent, MetricsQuery, ModelMetrics, Observation,
    Overflow, Series, SlidingWindow, WindowStats,
};

/// Caller-supplied context of one call, stored with its event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct InferContext {
    /// The caller's request id.
    pub request_id: Option<String>,
    /// The caller's user id.
    pub user_id: Option<String>,
    /// The caller's session id.
    pub session_id: Option<String>,
}

impl InferContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the user id.
    #[must_use]
    pub fn user_id(mut self, id: impl Into<String>) -> Self {
        self.user_id = Some(id.into());
        self
    }

    /// Sets the session id.
    #[must_use]
    pub fn session_id(mut self, id: impl Into<String>) -> Self {
        self.session_id = Some(id.into());
        self
    }

    /// Sets the request id.
    #[must_use]
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }
}

/// What the engine knows about one finished call.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InferenceCall<'a> {
    /// The model that was called.
    pub model: &'a Model,
    /// The inputs as JSON.
    pub features_in: Value,
    /// The prediction, or `Err(message)` when the call failed.
    pub outcome: std::result::Result<(Value, Option<f64>), String>,
    /// Wall time of the call in milliseconds.
    pub latency_ms: f64,
    /// Caller-supplied context.
    pub context: &'a InferContext,
}

/// How the [`Recorder`] keeps raw events.
///
/// Metrics (real-time windows and rollups) count every call whatever this says; these settings
/// govern only the raw [`InferenceEvent`]s kept for queries, feedback and drift.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TelemetryConfig {
    /// Raw events held in memory between flushes (default 100,000). Memory stays bounded by
    /// it however fast calls come and however long the store is unavailable.
    pub event_capacity: usize,
    /// What happens to a new event when the buffer is full (default: drop the oldest).
    pub overflow: Overflow,
    /// Share of successful calls whose raw event is kept, in `[0, 1]` (default 1). The choice
    /// is a hash of the inference id, so it is the same in every process; failed calls are
    /// always kept.
    pub sample_rate: f64,
    /// How long stored events are kept (default 30 days; `None`: forever). Older events are
    /// deleted by [`Recorder::tick`], at most once a minute.
    pub retention: Option<Duration>,
    /// Calls kept in the drift window of each model version with a drift baseline (default
    /// 10,000; at least 1): a uniform sample of the calls since the last drift check (see
    /// [`FeatureSample`]).
    pub drift_sample_size: usize,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            event_capacity: 100_000,
            overflow: Overflow::DropOldest,
            sample_rate: 1.0,
            retention: Some(Duration::from_secs(30 * 24 * 3600)),
            drift_sample_size: 10_000,
        }
    }
}

impl TelemetryConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`TelemetryConfig::event_capacity`].
    #[must_use]
    pub fn event_capacity(mut self, capacity: usize) -> Self {
        self.event_capacity = capacity;
        self
    }

    /// Sets [`TelemetryConfig::overflow`].
    #[must_use]
    pub fn overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }

    /// Sets [`TelemetryConfig::sample_rate`].
    #[must_use]
    pub fn sample_rate(mut self, rate: f64) -> Self {
        self.sample_rate = rate;
        self
    }

    /// Sets [`TelemetryConfig::retention`].
    #[must_use]
    pub fn retention(mut self, retention: Option<Duration>) -> Self {
        self.retention = retention;
        self
    }

    /// Sets [`TelemetryConfig::drift_sample_size`].
    #[must_use]
    pub fn drift_sample_size(mut self, size: usize) -> Self {
        self.drift_sample_size = size;
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the field: a zero capacity or drift sample size, a
    /// sample rate outside `[0, 1]`, a zero retention.
    pub fn validate(&self) -> Result<()> {
        if self.event_capacity == 0 {
            return Err(Error::invalid_input("telemetry event_capacity must be at least 1"));
        }
        if self.drift_sample_size == 0 {
            return Err(Error::invalid_input("telemetry drift_sample_size must be at least 1"));
        }
        if !(0.0..=1.0).contains(&self.sample_rate) {
            return Err(Error::invalid_input(format!(
                "telemetry sample_rate must be between 0 and 1, got {}",
                self.sample_rate
            )));
        }
        if self.retention == Some(Duration::ZERO) {
            return Err(Error::invalid_input("telemetry retention must be positive (or none)"));
        }
        Ok(())
    }
}

/// What the recorder has done, for monitoring the monitoring: nothing is dropped silently.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TelemetryStats {
    /// Calls counted in the metrics by this process.
    pub observations: u64,
    /// Raw events waiting in memory for the next flush.
    pub events_buffered: u64,
    /// The buffer's capacity.
    pub event_capacity: u64,
    /// Raw events written to the store.
    pub events_written: u64,
    /// Raw events dropped: pushed out of a full buffer (drop-oldest), or not put back after a
    /// failed write because the buffer had filled meanwhile.
    pub events_dropped: u64,
    /// Raw events refused by a full buffer (reject policy).
    pub events_rejected: u64,
    /// Raw events left out by sampling.
    pub events_sampled_out: u64,
    /// Raw events not written because their id was already stored.
    pub events_duplicate: u64,
    /// Stored events deleted by retention.
    pub events_expired: u64,
    /// Calls and labels that arrived after their real-time window slot had passed.
    pub late: u64,
    /// Flushes that failed (their events and rows were kept for the next one).
    pub flush_errors: u64,
    /// The last flush error.
    pub last_flush_error: Option<String>,
}

/// Counts of one batch handed to [`Recorder::record_batch`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchAdmission {
    /// Events buffered (including those that pushed an older event out).
    pub buffered: u64,
    /// Older events dropped to make room.
    pub dropped: u64,
    /// Events refused by a full buffer.
    pub rejected: u64,
    /// Events left out by sampling.
    pub sampled_out: u64,
}

/// Model name → version → statistics; nested so a lookup borrows `&str` and allocates nothing.
/// Keys are model names and versions the host chose, so a fast non-keyed hash is safe here.
type SeriesMap = HashMap<String, HashMap<String, Arc<Series>, Fnv>, Fnv>;

/// FNV-1a as a `Hasher`, for the short keys of the series map.
#[derive(Debug, Clone, Copy)]
struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type Fnv = std::hash::BuildHasherDefault<FnvHasher>;

/// Records every call: counts it in the metrics of its model version (real-time window and
/// 5-minute period) and keeps its raw event in a bounded buffer; [`Recorder::flush`] and
/// [`Recorder::tick`] (on a schedule, or from the background [`Ticker`]) write buffered
/// events and ended periods to the store.
///
/// Recording is O(1), does no I/O and, in the steady state, allocates nothing: a lock of one
/// of a few shards (chosen per thread) and a few additions. A process that dies loses what
/// was recorded since the last flush — never more, and never the store's consistency.
pub struct Recorder {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: TelemetryConfig,
    sample_below: u64,
    series: RwLock<SeriesMap>,
    buffer: EventBuffer,
    written: AtomicU64,
    duplicates: AtomicU64,
    expired: AtomicU64,
    flush_errors: AtomicU64,
    last_error: Mutex<Option<String>>,
    /// One flush at a time (the ticker's and the host's).
    flushing: Mutex<()>,
    last_prune: AtomicI64,
}

/// At most this many stored events seed a model's real-time window in a new process.
const SEED_LIMIT: usize = 1_000_000;

/// Retention deletes at most this often.
const PRUNE_EVERY_MS: i64 = 60_000;

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("store", &self.store)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A stable hash of the inference id, so sampling keeps the same events everywhere: FNV-1a,
/// then the SplitMix64 finaliser, whose avalanche makes every input bit reach the high bits
/// (plain FNV-1a barely moves them for ids that differ in their last characters, such as
/// `req-000123` and `req-000124`, which biased sampling).
fn stable_hash(s: &str) -> u64 {
    let mut h = FnvHasher::default();
    std::hash::Hasher::write(&mut h, s.as_bytes());
    let mut z = h.0;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Recorder {
    /// A recorder with the default [`TelemetryConfig`].
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self::with_config(store, clock, TelemetryConfig::default())
            .expect("the default telemetry config is valid")
    }

    /// A recorder writing to `store`, stamping events with `clock`.
    ///
    /// # Errors
    ///
    /// As [`TelemetryConfig::validate`].
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    pub fn with_config(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: TelemetryConfig,
    ) -> Result<Self> {
        config.validate()?;
        let sample_below = if config.sample_rate >= 1.0 {
            u64::MAX
        } else {
            (config.sample_rate * u64::MAX as f64) as u64
        };
        let buffer = EventBuffer::new(config.event_capacity, config.overflow, shard_count());
        Ok(Recorder {
            store,
            clock,
            config,
            sample_below,
            series: RwLock::default(),
            buffer,
            written: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            expired: AtomicU64::new(0),
            flush_errors: AtomicU64::new(0),
            last_error: Mutex::new(None),
            flushing: Mutex::new(()),
            last_prune: AtomicI64::new(i64::MIN),
        })
    }

    /// The settings.
    pub fn config(&self) -> &TelemetryConfig {
        &self.config
    }

    /// The current time by the recorder's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The statistics of `name:version` in this process, created on first use and seeded
    /// with the stored events of the last window span (so a new process sees the real-time
    /// view of the one that recorded the calls). Keep the returned handle to record through
    /// it without a lookup.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when seeding from the store fails.
    pub fn series(&self, name: &str, version: &str) -> Result<Arc<Series>> {
        Ok(self.series_entry(name, version)?.0)
    }

    /// Whether this process has statistics of `name:version` (it recorded, labelled or
    /// queried calls of it).
    pub fn has_series(&self, name: &str, version: &str) -> bool {
        let map = self.series.read().unwrap_or_else(PoisonError::into_inner);
        map.get(name).is_some_and(|versions| versions.contains_key(version))
    }

    /// The series and whether this call created it.
    fn series_entry(&self, name: &str, version: &str) -> Result<(Arc<Series>, bool)> {
        let found = self
            .series
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .and_then(|versions| versions.get(version))
            .cloned();
        if let Some(series) = found {
            return Ok((series, false));
        }
        // Seeded outside the lock: a slow store does not stall other models.
        let series = Series::new(name, version);
        series.seed(&self.recent_events(name, version)?);
        let mut map = self.series.write().unwrap_or_else(PoisonError::into_inner);
        let versions = map.entry(name.to_string()).or_default();
        if let Some(existing) = versions.get(version) {
            return Ok((Arc::clone(existing), false));
        }
        let series = Arc::new(series);
        versions.insert(version.to_string(), Arc::clone(&series));
        Ok((series, true))
    }

    /// Starts keeping a drift window ([`FeatureSample`] of
    /// [`TelemetryConfig::drift_sample_size`] calls) for `name:version`, and returns it (the
    /// existing one when already started).
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the version's statistics, created here if new, cannot be
    /// seeded from the store.
    pub fn enable_drift_sample(&self, name: &str, version: &str) -> Result<Arc<FeatureSample>> {
        let (series, _) = self.series_entry(name, version)?;
        Ok(series.enable_drift_sample(self.config.drift_sample_size))
    }

    fn all_series(&self) -> Vec<Arc<Series>> {
        let map = self.series.read().unwrap_or_else(PoisonError::into_inner);
        map.values().flat_map(|versions| versions.values()).cloned().collect()
    }

    /// The stored events of `name:version` within the last window span.
    fn recent_events(&self, name: &str, version: &str) -> Result<Vec<InferenceEvent>> {
        let span = i64::try_from(SlidingWindow::DEFAULT_SPAN.as_millis()).unwrap_or(i64::MAX);
        let from = Timestamp::from_millis(self.clock.now().as_millis().saturating_sub(span));
        let query = EventQuery::new().model(name).version(version).between(Some(from), None);
        self.store.events(&query.limit(SEED_LIMIT))
    }

    /// Whether the raw event of a successful call with this id is kept.
    fn sampled(&self, id: &str) -> bool {
        self.sample_below == u64::MAX || stable_hash(id) < self.sample_below
    }

    /// Counts `event` in the metrics of `series` (which must be its model version) and
    /// buffers it, unless sampling leaves it out or a full buffer refuses it.
    fn admit(&self, series: &Series, event: InferenceEvent) -> Admission {
        series.observe(Observation {
            at: event.timestamp,
            latency_ms: event.latency_ms,
            error: event.error.is_some(),
            confidence: event.confidence,
        });
        if let Some(sample) = series.drift_sample() {
            sample.offer(&event);
        }
        let shard = thread_index();
        if event.error.is_none() && !self.sampled(&event.id) {
            self.buffer.count_sampled_out(shard);
            return Admission::SampledOut;
        }
        self.buffer.push(shard, event)
    }

    /// Records one call made by the host's own code (the engine records its calls itself):
    /// counts it in its model version's metrics and buffers the raw event for the store.
    ///
    /// The event is taken as given — its id, timestamp (which may be in the past: late
    /// events count in their own window slot and 5-minute period) and fields. An id already
    /// stored is skipped at the flush and counted in [`TelemetryStats::events_duplicate`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty model name or version, or a latency that is not a
    /// finite number 0 or more; [`Error::Storage`] when
    /// the model version's statistics, created on its first event, cannot be seeded from the
    /// store.
    pub fn record(&self, event: InferenceEvent) -> Result<Admission> {
        check_event(&event)?;
        let series = self.series(&event.model_name, &event.model_version)?;
        Ok(self.admit(&series, event))
    }

    /// Records many calls, looking each model version up once per run of events of the same
    /// version.
    ///
    /// # Errors
    ///
    /// As [`Recorder::record`]; the events before the failing one are recorded.
    pub fn record_batch(
        &self,
        events: impl IntoIterator<Item = InferenceEvent>,
    ) -> Result<BatchAdmission> {
        let mut counts = BatchAdmission::default();
        let mut current: Option<Arc<Series>> = None;
        for event in events {
            let same = current.as_ref().is_some_and(|s| {
                s.name() == event.model_name && s.version() == event.model_version
            });
            check_event(&event)?;
            if !same {
                current = Some(self.series(&event.model_name, &event.model_version)?);
            }
            let Some(series) = current.as_deref() else { continue };
            match self.admit(series, event) {
                Admission::Buffered => counts.buffered += 1,
                Admission::DroppedOldest => {
                    counts.buffered += 1;
                    counts.dropped += 1;
                }
                Admission::Rejected => counts.rejected += 1,
                Admission::SampledOut => counts.sampled_out += 1,
            }
        }
        Ok(counts)
    }

    /// Builds the event of a call the engine made, records it in `series` (the statistics of
    /// the call's model version) and returns the event's id.
    pub fn record_call(&self, series: &Series, call: InferenceCall<'_>) -> String {
        let (prediction, confidence, error) = match call.outcome {
            Ok((prediction, confidence)) => (prediction, confidence, None),
            Err(message) => (Value::Null, None, Some(message)),
        };
        let id = InferenceEvent::new_id();
        let event = InferenceEvent {
            id: id.clone(),
            model_name: call.model.model_name.clone(),
            model_version: call.model.model_version.clone(),
            framework: call.model.framework,
            request_id: call.context.request_id.clone(),
            user_id: call.context.user_id.clone(),
            session_id: call.context.session_id.clone(),
            features_in: call.features_in,
            prediction,
            confidence,
            latency_ms: call.latency_ms,
            timestamp: self.clock.now(),
            error,
            actual_outcome: None,
            correct: None,
            feedback_timestamp: None,
        };
        self.admit(series, event);
        id
    }

    /// Counts the ground truth of `event` (just updated in the store) in the real-time view;
    /// `previous` is the label it replaced, if any.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when seeding the window from the store fails.
    pub fn record_feedback(&self, event: &InferenceEvent, previous: Option<bool>) -> Result<()> {
        let Some(correct) = event.correct else { return Ok(()) };
        let (series, created) = self.series_entry(&event.model_name, &event.model_version)?;
        // A series seeded just now read the updated event from the store already.
        if !created {
            series.label(event.timestamp, previous, correct);
        }
        Ok(())
    }

    /// The real-time view of `name:version`: the last five minutes of calls.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when seeding the window from the store fails.
    pub fn realtime(&self, name: &str, version: &str) -> Result<WindowStats> {
        Ok(self.series(name, version)?.stats(self.clock.now()))
    }

    /// Writes the buffered raw events to the store in one transaction. On failure they go
    /// back to the buffer (as far as it has room) for the next flush.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the store fails.
    pub fn flush_events(&self) -> Result<usize> {
        let _one = self.flushing.lock().unwrap_or_else(PoisonError::into_inner);
        self.flush_events_locked()
    }

    fn flush_events_locked(&self) -> Result<usize> {
        let (arrivals, events) = self.buffer.drain();
        if events.is_empty() {
            return Ok(0);
        }
        match self.store.insert_events(&events) {
            Ok(inserted) => {
                self.written.fetch_add(inserted as u64, Ordering::Relaxed);
                let skipped = (events.len() - inserted) as u64;
                self.duplicates.fetch_add(skipped, Ordering::Relaxed);
                Ok(inserted)
            }
            Err(e) => {
                self.buffer.restore(arrivals, events);
                Err(self.failed(e))
            }
        }
    }

    fn failed(&self, e: Error) -> Error {
        self.flush_errors.fetch_add(1, Ordering::Relaxed);
        *self.last_error.lock().unwrap_or_else(PoisonError::into_inner) = Some(e.to_string());
        e
    }

    /// Writes the buffered events, then the 5-minute rows of the periods that ended by
    /// `until` (every period, open ones too, when `None`), merging each into the row already
    /// stored for its period, then recomputes the hourly and daily rows of the periods
    /// touched from their finer rows. Returns the metrics rows written, finest first. What
    /// cannot be written stays pending for the next flush.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the store fails.
    pub fn flush(&self, until: Option<Timestamp>) -> Result<Vec<ModelMetrics>> {
        let _one = self.flushing.lock().unwrap_or_else(PoisonError::into_inner);
        let events = self.flush_events_locked();
        let rows = self.flush_rollups(until).map_err(|e| self.failed(e));
        events?;
        rows
    }

    /// [`Recorder::flush`] of the periods ended by now, then retention: stored events older
    /// than [`TelemetryConfig::retention`] are deleted (at most once a minute). Call it on a
    /// schedule, or let a [`Ticker`] do it.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the store fails.
    pub fn tick(&self) -> Result<Vec<ModelMetrics>> {
        let now = self.clock.now();
        let rows = self.flush(Some(now))?;
        if let Some(retention) = self.config.retention {
            let last = self.last_prune.load(Ordering::Relaxed);
            if now.as_millis().saturating_sub(last) >= PRUNE_EVERY_MS {
                self.last_prune.store(now.as_millis(), Ordering::Relaxed);
                let keep = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
                let before = Timestamp::from_millis(now.as_millis().saturating_sub(keep));
                let deleted =
                    self.store.delete_events_before(before).map_err(|e| self.failed(e))?;
                self.expired.fetch_add(deleted as u64, Ordering::Relaxed);
            }
        }
        Ok(rows)
    }

    fn flush_rollups(&self, until: Option<Timestamp>) -> Result<Vec<ModelMetrics>> {
        let all = self.all_series();
        let mut rows: Vec<(Arc<Series>, ModelMetrics)> = Vec::new();
        for series in &all {
            rows.extend(series.take(until).into_iter().map(|r| (Arc::clone(series), r)));
        }
        let mut written = Vec::with_capacity(rows.len());
        let mut rows = rows.into_iter();
        while let Some((series, row)) = rows.next() {
            let stored = self.store.metrics_row(&row.id).and_then(|existing| {
                let row = match existing {
                    Some(old) => ModelMetrics::merged(
                        &row.model_name,
                        &row.model_version,
                        row.granularity,
                        row.period_start,
                        [&old, &row],
                    )?,
                    None => row.clone(),
                };
                self.store.upsert_metrics(&row).map(|()| row)
            });
            match stored {
                Ok(row) => written.push(row),
                Err(e) => {
                    // Same accuracy everywhere: restoring cannot fail.
                    let _ = series.restore(&row);
                    for (series, row) in rows {
                        let _ = series.restore(&row);
                    }
                    return Err(e);
                }
            }
        }
        let mut finer = written.clone();
        while let Some(granularity) = finer.first().and_then(|r| r.granularity.coarser()) {
            let mut periods: Vec<(String, String, Timestamp)> = finer
                .iter()
                .map(|r| {
                    (
                        r.model_name.clone(),
                        r.model_version.clone(),
                        granularity.period_start(r.period_start),
                    )
                })
                .collect();
            periods.sort();
            periods.dedup();
            let child = finer[0].granularity;
            finer = Vec::with_capacity(periods.len());
            for (name, version, start) in periods {
                let end = Timestamp::from_millis(start.as_millis() + granularity.millis());
                let children = self.store.metrics(
                    &MetricsQuery::new(&name, child)
                        .version(&version)
                        .between(Some(start), Some(end))
                        .limit(usize::MAX),
                )?;
                let row = ModelMetrics::merged(&name, &version, granularity, start, &children)?;
                self.store.upsert_metrics(&row)?;
                finer.push(row);
            }
            written.extend(finer.iter().cloned());
        }
        Ok(written)
    }

    /// What the recorder has done so far.
    pub fn stats(&self) -> TelemetryStats {
        let (buffered, dropped, rejected, sampled_out) = self.buffer.counts();
        let all = self.all_series();
        TelemetryStats {
            observations: all.iter().map(|s| s.observed()).sum(),
            events_buffered: buffered as u64,
            event_capacity: self.buffer.capacity() as u64,
            events_written: self.written.load(Ordering::Relaxed),
            events_dropped: dropped,
            events_rejected: rejected,
            events_sampled_out: sampled_out,
            events_duplicate: self.duplicates.load(Ordering::Relaxed),
            events_expired: self.expired.load(Ordering::Relaxed),
            late: all.iter().map(|s| s.late()).sum(),
            flush_errors: self.flush_errors.load(Ordering::Relaxed),
            last_flush_error: self
                .last_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }

    /// Starts a background thread that calls [`Recorder::tick`] every `interval` until the
    /// returned [`Ticker`] is stopped or dropped. Errors are counted in
    /// [`TelemetryStats::flush_errors`] and retried at the next tick.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a zero interval; [`Error::Internal`] when the thread cannot
    /// be started.
    pub fn start_ticker(self: &Arc<Self>, interval: Duration) -> Result<Ticker> {
        if interval.is_zero() {
            return Err(Error::invalid_input("ticker interval must be positive"));
        }
        let recorder = Arc::clone(self);
        let thread = Periodic::spawn("harper-edge-ticker", interval, false, move || {
            // A panic in a store must not kill the thread silently.
            if let Err(e) = crate::error::guard(|| recorder.tick()) {
                recorder.failed(e);
            }
        })
        .map_err(|e| Error::Internal { message: format!("cannot start the ticker: {e}") })?;
        Ok(Ticker { thread })
    }
}

fn check_event(event: &InferenceEvent) -> Result<()> {
    if event.model_name.is_empty() || event.model_version.is_empty() {
        return Err(Error::invalid_input("an event needs a model name and a model version"));
    }
    if !(event.latency_ms.is_finite() && event.latency_ms >= 0.0) {
        return Err(Error::invalid_input(format!(
            "event '{}' has latency_ms {}: it must be a finite number of milliseconds, 0 or more",
            event.id, event.latency_ms
        )));
    }
    Ok(())
}

/// The background thread of [`Recorder::start_ticker`]; stops (and joins) when dropped.
#[derive(Debug)]
pub struct Ticker {
    thread: Periodic,
}

impl Ticker {
    /// Stops the thread and waits for it; a tick in progress finishes first.
    pub fn stop(mut self) {
        self.thread.shutdown();
    }
}

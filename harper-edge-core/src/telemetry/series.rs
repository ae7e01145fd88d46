//! The in-process statistics of one model version: its real-time window and the 5-minute
//! periods not yet written as `ModelMetrics` rows, in lock shards so threads recording the
//! same model do not contend on one lock.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use crate::clock::Timestamp;
use crate::error::Result;
use crate::telemetry::sketch::Key;
use crate::telemetry::window::WindowAccumulator;
use crate::telemetry::{
    FeatureSample, Granularity, InferenceEvent, ModelMetrics, QuantileSketch, SlidingWindow,
    WindowStats,
};

/// One call, as the metrics see it: when, how long, whether it failed, how confident.
///
/// `Copy` and allocation-free, so recording one costs a lock and a few additions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// When the call was made.
    pub at: Timestamp,
    /// Wall time of the call in milliseconds.
    pub latency_ms: f64,
    /// Whether the call failed.
    pub error: bool,
    /// Confidence of the prediction, when the task defines one.
    pub confidence: Option<f64>,
}

impl Observation {
    /// A successful call made at `at` that took `latency_ms`.
    pub fn new(at: Timestamp, latency_ms: f64) -> Self {
        Observation { at, latency_ms, error: false, confidence: None }
    }

    /// Marks the call as failed (or not).
    #[must_use]
    pub fn error(mut self, error: bool) -> Self {
        self.error = error;
        self
    }

    /// Sets the confidence of the prediction.
    #[must_use]
    pub fn confidence(mut self, confidence: Option<f64>) -> Self {
        self.confidence = confidence;
        self
    }
}

/// An error flag in a column of calls: `bool`, or `u8` (non-zero = failed; what a
/// JavaScript `Uint8Array` holds).
pub trait Flag: Copy {
    /// Whether the call failed.
    fn flag(self) -> bool;
}

impl Flag for bool {
    fn flag(self) -> bool {
        self
    }
}

impl Flag for u8 {
    fn flag(self) -> bool {
        self != 0
    }
}

/// A time in a column of calls, in milliseconds since the Unix epoch: `i64`, or `f64` (what
/// JavaScript numbers are; fractions are dropped).
pub trait Millis: Copy {
    /// The time, or `None` when it is not one (NaN, infinite, out of range).
    fn millis(self) -> Option<i64>;
}

impl Millis for i64 {
    fn millis(self) -> Option<i64> {
        Some(self)
    }
}

impl Millis for f64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    fn millis(self) -> Option<i64> {
        (self.is_finite() && self.abs() < 9.0e15).then(|| self.floor() as i64)
    }
}

/// Calls given as columns (one entry per call), as numpy arrays and typed arrays hold them.
#[derive(Debug, Clone, Copy)]
pub struct Columns<'a, E: Flag = bool, T: Millis = i64> {
    /// Latency of each call in milliseconds.
    pub latency_ms: &'a [f64],
    /// Whether each call failed (none failed when `None`).
    pub errors: Option<&'a [E]>,
    /// Confidence of each call; NaN for "none" (no confidence when `None`).
    pub confidence: Option<&'a [f64]>,
    /// When each call was made (now, for all, when `None`).
    pub timestamps: Option<&'a [T]>,
}

/// A cache line of its own, so that two shards never share one.
#[derive(Debug)]
#[repr(align(128))]
struct Padded<T>(T);

/// The open 5-minute periods of one shard.
#[derive(Debug)]
struct Period {
    start: i64,
    errors: u64,
    latency: QuantileSketch,
}

#[derive(Debug)]
struct Shard {
    window: SlidingWindow,
    /// Open periods, oldest first; usually one.
    periods: Vec<Period>,
    /// Index of the period last recorded into.
    last: usize,
    /// Sketches of taken periods, kept for reuse so a new period does not allocate.
    spare: Vec<QuantileSketch>,
    observed: u64,
}

impl Shard {
    fn observe(&mut self, o: &Observation) {
        let key = self.window.key(o.latency_ms);
        if key == Key::Skip {
            // Not a latency: counted nowhere, so every view stays consistent.
            return;
        }
        self.window.record_keyed(o.at, o.latency_ms, key, o.error, o.confidence);
        let ms = o.at.as_millis();
        let i = match self.periods.get(self.last) {
            Some(p) if ms.checked_sub(p.start).is_some_and(|d| (0..PERIOD_MS).contains(&d)) => {
                self.last
            }
            _ => self.find_period(ms),
        };
        let period = &mut self.periods[i];
        period.errors += u64::from(o.error);
        period.latency.add_keyed(o.latency_ms, key);
        self.observed += 1;
    }

    /// The index of the open period holding `ms`, created if needed.
    #[cold]
    fn find_period(&mut self, ms: i64) -> usize {
        let start = Granularity::FiveMinutes.period_start(Timestamp::from_millis(ms)).as_millis();
        let i = match self.periods.binary_search_by_key(&start, |p| p.start) {
            Ok(i) => i,
            Err(i) => {
                let latency = self.spare.pop().unwrap_or_else(new_sketch);
                self.periods.insert(i, Period { start, errors: 0, latency });
                i
            }
        };
        self.last = i;
        i
    }
}

/// Length of a 5-minute period.
const PERIOD_MS: i64 = 300_000;

fn new_sketch() -> QuantileSketch {
    QuantileSketch::new(QuantileSketch::DEFAULT_ALPHA).expect("the default accuracy is valid")
}

/// Number of shards per model version: the machine's parallelism, as a power of two, 1 to 16.
pub(crate) fn shard_count() -> usize {
    std::thread::available_parallelism().map_or(4, usize::from).next_power_of_two().clamp(1, 16)
}

/// This thread's number: threads take consecutive numbers on first use, so the threads of a
/// process spread evenly over the shards.
pub(crate) fn thread_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static MINE: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    MINE.with(|m| {
        if m.get() == usize::MAX {
            m.set(NEXT.fetch_add(1, Ordering::Relaxed));
        }
        m.get()
    })
}

fn thread_shard(count: usize) -> usize {
    thread_index() % count
}

/// The statistics of one model version in this process.
///
/// Get one from [`crate::telemetry::Recorder::series`] and keep it: recording through a
/// `Series` ([`Series::observe`]) is a shard lock and a few additions — no lookup, no I/O, no
/// allocation once the latency sketches have grown to the range of latencies seen.
pub struct Series {
    name: String,
    version: String,
    shards: Box<[Padded<Mutex<Shard>>]>,
    drift_sample: OnceLock<Arc<FeatureSample>>,
}

impl fmt::Debug for Series {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Series")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

impl Series {
    /// Empty statistics of `name:version` with the default window.
    pub(crate) fn new(name: &str, version: &str) -> Self {
        let shards = (0..shard_count())
            .map(|_| {
                let window =
                    SlidingWindow::new(SlidingWindow::DEFAULT_SPAN, SlidingWindow::DEFAULT_SLOT)
                        .expect("the default window splits into whole slots");
                Padded(Mutex::new(Shard {
                    window,
                    periods: Vec::with_capacity(4),
                    last: 0,
                    spare: Vec::new(),
                    observed: 0,
                }))
            })
            .collect();
        Series {
            name: name.to_string(),
            version: version.to_string(),
            shards,
            drift_sample: OnceLock::new(),
        }
    }

    /// The version's drift window, when one was started.
    pub fn drift_sample(&self) -> Option<&Arc<FeatureSample>> {
        self.drift_sample.get()
    }

    /// Starts the version's drift window of `capacity` calls (the existing one when already
    /// started); see [`FeatureSample`].
    pub fn enable_drift_sample(&self, capacity: usize) -> Arc<FeatureSample> {
        let seed = self
            .name
            .bytes()
            .chain([0])
            .chain(self.version.bytes())
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
        Arc::clone(self.drift_sample.get_or_init(|| Arc::new(FeatureSample::new(capacity, seed))))
    }

    /// Model name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Model version.
    pub fn version(&self) -> &str {
        &self.version
    }

    fn lock(&self, i: usize) -> MutexGuard<'_, Shard> {
        // A panic mid-update leaves at worst one miscounted call.
        self.shards[i].0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one call in the real-time window and in its 5-minute period. A call whose
    /// latency is not a finite number 0 or more is not a measurement and is not counted (the
    /// checked entry points, [`Series::observe_columns`] and `Recorder::record`, refuse it).
    pub fn observe(&self, observation: Observation) {
        self.lock(thread_shard(self.shards.len())).observe(&observation);
    }

    /// Counts many calls under one lock.
    pub fn observe_batch(&self, observations: &[Observation]) {
        let mut shard = self.lock(thread_shard(self.shards.len()));
        for o in observations {
            shard.observe(o);
        }
    }

    /// Counts stored events (and their labels) in the real-time window only: they were
    /// counted in their periods by the process that recorded them.
    pub(crate) fn seed(&self, events: &[InferenceEvent]) {
        let mut shard = self.lock(0);
        for e in events {
            shard.window.record(e.timestamp, e.latency_ms, e.error.is_some(), e.confidence);
            if let Some(correct) = e.correct {
                shard.window.feedback(e.timestamp, correct);
            }
        }
    }

    /// Counts calls given as columns, all stamped `now` unless the columns carry times;
    /// returns how many. Everything is checked before anything is counted, and calls are
    /// counted in chunks under one lock each, without allocating.
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidInput`] when a column's length differs from `latency_ms`'s, a
    /// latency is not a finite number 0 or more, or a time is not a number of milliseconds
    /// (naming the column and entry).
    pub fn observe_columns<E: Flag, T: Millis>(
        &self,
        columns: &Columns<'_, E, T>,
        now: Timestamp,
    ) -> Result<usize> {
        let n = columns.latency_ms.len();
        let check = |name: &str, len: Option<usize>| match len {
            Some(len) if len != n => Err(crate::Error::invalid_input(format!(
                "column '{name}' has length {len} but latency_ms has length {n}"
            ))),
            _ => Ok(()),
        };
        check("errors", columns.errors.map(<[E]>::len))?;
        check("confidence", columns.confidence.map(<[f64]>::len))?;
        check("timestamps", columns.timestamps.map(<[T]>::len))?;
        if let Some(i) = columns.latency_ms.iter().position(|l| !(l.is_finite() && *l >= 0.0)) {
            return Err(crate::Error::invalid_input(format!(
                "column 'latency_ms' entry {i} is {}: latencies are finite numbers of \
                 milliseconds, 0 or more",
                columns.latency_ms[i]
            )));
        }
        if let Some(times) = columns.timestamps
            && let Some(i) = times.iter().position(|t| t.millis().is_none())
        {
            return Err(crate::Error::invalid_input(format!(
                "column 'timestamps' entry {i} is not a time in epoch milliseconds"
            )));
        }
        // Under one lock per chunk, so a huge batch does not hold a shard for long.
        const CHUNK: usize = 4096;
        let observation = |i: usize| Observation {
            at: columns.timestamps.and_then(|t| t[i].millis()).map_or(now, Timestamp::from_millis),
            latency_ms: columns.latency_ms[i],
            error: columns.errors.is_some_and(|e| e[i].flag()),
            confidence: columns.confidence.map(|c| c[i]).filter(|c| !c.is_nan()),
        };
        let mut start = 0;
        while start < n {
            let end = n.min(start + CHUNK);
            let mut shard = self.lock(thread_shard(self.shards.len()));
            for i in start..end {
                shard.observe(&observation(i));
            }
            drop(shard);
            start = end;
        }
        Ok(n)
    }

    /// Counts the ground truth of a call made at `predicted_at` (replacing an earlier label
    /// `previous`, if any) in the window slot of the prediction; late if that slot has left.
    pub fn label(&self, predicted_at: Timestamp, previous: Option<bool>, correct: bool) {
        for i in 0..self.shards.len() {
            if self.lock(i).window.try_relabel(predicted_at, previous, correct) {
                return;
            }
        }
        // Not in any shard's window: counted late, once.
        self.lock(0).window.relabel(predicted_at, previous, correct);
    }

    /// The real-time statistics of the window ending at `now`.
    pub fn stats(&self, now: Timestamp) -> WindowStats {
        let first = self.lock(0);
        let mut acc = WindowAccumulator::new(&first.window, now);
        acc.add(&first.window);
        drop(first);
        for i in 1..self.shards.len() {
            acc.add(&self.lock(i).window);
        }
        acc.finish()
    }

    /// Calls and labels that arrived after their window slot had left the window.
    pub fn late(&self) -> u64 {
        (0..self.shards.len()).map(|i| self.lock(i).window.late()).sum()
    }

    /// Calls counted by this series in this process.
    pub fn observed(&self) -> u64 {
        (0..self.shards.len()).map(|i| self.lock(i).observed).sum()
    }

    /// Removes the 5-minute periods that ended by `until` (all, when `None`) and returns
    /// them as rows, oldest first; the shards' partial periods are merged.
    pub(crate) fn take(&self, until: Option<Timestamp>) -> Vec<ModelMetrics> {
        let keep_from =
            until.map_or(i64::MAX, |t| Granularity::FiveMinutes.period_start(t).as_millis());
        let mut closed: Vec<Period> = Vec::new();
        for i in 0..self.shards.len() {
            let mut guard = self.lock(i);
            let shard = &mut *guard;
            let split = shard.periods.partition_point(|p| p.start < keep_from);
            for p in shard.periods.drain(..split) {
                match closed.iter_mut().find(|c| c.start == p.start) {
                    Some(c) => {
                        c.errors += p.errors;
                        c.latency.merge(&p.latency).expect("one accuracy");
                        let mut spare = p.latency;
                        spare.clear();
                        shard.spare.push(spare);
                    }
                    None => closed.push(p),
                }
            }
        }
        closed.sort_unstable_by_key(|p| p.start);
        closed
            .into_iter()
            .map(|p| {
                let at = Timestamp::from_millis(p.start);
                let granularity = Granularity::FiveMinutes;
                ModelMetrics::new(&self.name, &self.version, granularity, at, p.errors, p.latency)
            })
            .collect()
    }

    /// Puts back a row that could not be written, so the next flush retries it.
    pub(crate) fn restore(&self, row: &ModelMetrics) -> Result<()> {
        let mut shard = self.lock(0);
        let start = row.period_start.as_millis();
        match shard.periods.iter_mut().find(|p| p.start == start) {
            Some(p) => {
                p.errors += row.error_count;
                p.latency.merge(&row.latency_sketch)?;
            }
            None => {
                shard.periods.push(Period {
                    start,
                    errors: row.error_count,
                    latency: row.latency_sketch.clone(),
                });
                shard.periods.sort_unstable_by_key(|p| p.start);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_100_000;

    #[test]
    fn threads_on_different_shards_add_up() {
        let series = Series::new("m", "1");
        std::thread::scope(|s| {
            for t in 0..4 {
                let series = &series;
                s.spawn(move || {
                    for i in 0..1000 {
                        let at = Timestamp::from_millis(T0 + i);
                        series.observe(Observation::new(at, 1.0 + f64::from(t)).error(i % 10 == 0));
                    }
                });
            }
        });
        let stats = series.stats(Timestamp::from_millis(T0 + 1000));
        assert_eq!((stats.request_count, stats.error_count), (4000, 400));
        assert_eq!(stats.max_latency, Some(4.0));
        assert_eq!(series.observed(), 4000);
        let rows = series.take(None);
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].request_count, rows[0].error_count), (4000, 400));
        assert!((rows[0].avg_latency.unwrap() - 2.5).abs() < 1e-12);
        assert!(series.take(None).is_empty());
    }

    #[test]
    fn take_leaves_open_periods_and_restore_puts_rows_back() {
        let series = Series::new("m", "1");
        let five = 300_000;
        let start = Granularity::FiveMinutes.period_start(Timestamp::from_millis(T0)).as_millis();
        series.observe(Observation::new(Timestamp::from_millis(start + five), 2.0));
        series.observe(Observation::new(Timestamp::from_millis(start), 1.0));
        let rows = series.take(Some(Timestamp::from_millis(start + five + 1)));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].period_start.as_millis(), start);
        series.restore(&rows[0]).unwrap();
        let all = series.take(None);
        assert_eq!(all.iter().map(|r| r.request_count).collect::<Vec<_>>(), vec![1, 1]);
    }

    #[test]
    fn columns_are_checked_then_counted() {
        let series = Series::new("m", "1");
        let now = Timestamp::from_millis(T0);
        let latency: Vec<f64> = (0..1000).map(f64::from).collect();
        let errors: Vec<u8> = (0..1000).map(|i| u8::from(i % 10 == 0)).collect();
        let confidence: Vec<f64> =
            (0..1000).map(|i| if i % 2 == 0 { f64::NAN } else { 0.5 }).collect();
        let cols = Columns {
            latency_ms: &latency,
            errors: Some(&errors[..]),
            confidence: Some(&confidence[..]),
            timestamps: None::<&[i64]>,
        };
        assert_eq!(series.observe_columns(&cols, now).unwrap(), 1000);
        let s = series.stats(now);
        assert_eq!((s.request_count, s.error_count, s.max_latency), (1000, 100, Some(999.0)));
        assert_eq!(s.avg_confidence, Some(0.5));

        let short = Columns { errors: Some(&errors[..10]), ..cols };
        let err = series.observe_columns(&short, now).unwrap_err();
        assert!(err.to_string().contains("'errors' has length 10"), "{err}");
        let times = [T0 as f64, f64::NAN];
        let bad = Columns::<bool, f64> {
            latency_ms: &latency[..2],
            errors: None,
            confidence: None,
            timestamps: Some(&times),
        };
        let err = series.observe_columns(&bad, now).unwrap_err();
        assert!(err.to_string().contains("entry 1"), "{err}");
        assert_eq!(series.observed(), 1000, "nothing counted from a bad batch");
    }

    #[test]
    fn labels_land_in_the_slot_of_their_prediction_or_count_late() {
        let series = Series::new("m", "1");
        let at = Timestamp::from_millis(T0);
        series.observe(Observation::new(at, 1.0));
        series.label(at, None, true);
        series.label(at, Some(true), false);
        let stats = series.stats(at);
        assert_eq!((stats.labelled_count, stats.accuracy), (1, Some(0.0)));
        series.label(Timestamp::from_millis(T0 - 3_600_000), None, true);
        assert_eq!(series.late(), 1);
    }
}

//! The real-time view of one model version: a sliding window over the last few minutes.
//!
//! The window is a ring of fixed-width slots (default: 5 minutes in 30 slots of 10 s). An
//! event lands in the slot of its own timestamp; a slot older than the window is cleared and
//! reused when time reaches it again, so memory is fixed and recording allocates nothing once
//! the latency sketches have grown to their working range. Feedback counts in the slot of the
//! prediction it labels, as long as that slot is still in the window.

use std::time::Duration;

use serde::Serialize;

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::telemetry::QuantileSketch;
use crate::telemetry::sketch::Key;

/// Statistics of a [`SlidingWindow`] at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowStats {
    /// Start of the window (inclusive).
    pub window_start: Timestamp,
    /// End of the window (exclusive).
    pub window_end: Timestamp,
    /// Calls in the window, failed ones included.
    pub request_count: u64,
    /// Failed calls in the window.
    pub error_count: u64,
    /// `error_count / request_count` (0 when there were no calls).
    pub error_rate: f64,
    /// `request_count` divided by the window's length in seconds.
    pub throughput_per_second: f64,
    /// Mean latency in milliseconds.
    pub avg_latency: Option<f64>,
    /// Median latency (within the sketch's relative accuracy).
    pub p50_latency: Option<f64>,
    /// 95th percentile latency.
    pub p95_latency: Option<f64>,
    /// 99th percentile latency.
    pub p99_latency: Option<f64>,
    /// Largest latency (exact).
    pub max_latency: Option<f64>,
    /// Mean confidence of the calls that reported one.
    pub avg_confidence: Option<f64>,
    /// Calls in the window whose ground truth has arrived.
    pub labelled_count: u64,
    /// Share of labelled calls that were correct, when any are labelled.
    pub accuracy: Option<f64>,
}

#[derive(Debug, Clone)]
struct Slot {
    /// Slot number (`timestamp / slot width`) this slot currently holds; `i64::MIN` if unused.
    number: i64,
    requests: u64,
    errors: u64,
    latency: QuantileSketch,
    confidence_sum: f64,
    confidence_count: u64,
    labelled: u64,
    correct: u64,
}

impl Slot {
    fn reset(&mut self, number: i64) {
        self.number = number;
        self.requests = 0;
        self.errors = 0;
        self.latency.clear();
        self.confidence_sum = 0.0;
        self.confidence_count = 0;
        self.labelled = 0;
        self.correct = 0;
    }
}

/// A fixed-memory sliding window of call statistics.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use harper_edge_core::Timestamp;
/// use harper_edge_core::telemetry::SlidingWindow;
///
/// let mut w = SlidingWindow::new(Duration::from_secs(300), Duration::from_secs(10))?;
/// let t0 = Timestamp::from_millis(1_000_000);
/// w.record(t0, 2.5, false, Some(0.9));
/// w.record(t0, 7.5, true, None);
/// let stats = w.stats(t0);
/// assert_eq!((stats.request_count, stats.error_count), (2, 1));
/// assert_eq!(stats.max_latency, Some(7.5));
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SlidingWindow {
    slot_ms: i64,
    slots: Vec<Slot>,
    /// The slot last recorded into (index and number): most calls land in it, and finding
    /// it again then takes two comparisons instead of two divisions.
    last: (usize, i64),
    /// Events and feedback older than the window when they arrived.
    late: u64,
}

impl SlidingWindow {
    /// The default window: 5 minutes.
    pub const DEFAULT_SPAN: Duration = Duration::from_secs(300);
    /// The default slot width: 10 seconds.
    pub const DEFAULT_SLOT: Duration = Duration::from_secs(10);

    /// A window of `span`, kept in slots of `slot` width.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] unless `slot` is at least 1 ms and divides `span` into 1 to
    /// 3600 slots.
    pub fn new(span: Duration, slot: Duration) -> Result<Self> {
        let span_ms = i64::try_from(span.as_millis()).unwrap_or(i64::MAX);
        let slot_ms = i64::try_from(slot.as_millis()).unwrap_or(i64::MAX);
        let n = if slot_ms > 0 && span_ms % slot_ms == 0 { span_ms / slot_ms } else { 0 };
        if !(1..=3600).contains(&n) {
            return Err(Error::invalid_input(format!(
                "window of {span:?} cannot be split into slots of {slot:?} (1 to 3600 whole slots)"
            )));
        }
        let sketch = QuantileSketch::new(QuantileSketch::DEFAULT_ALPHA)?;
        let empty = Slot {
            number: i64::MIN,
            requests: 0,
            errors: 0,
            latency: sketch,
            confidence_sum: 0.0,
            confidence_count: 0,
            labelled: 0,
            correct: 0,
        };
        let slots = vec![empty; usize::try_from(n).unwrap_or(1)];
        Ok(SlidingWindow { slot_ms, slots, last: (0, i64::MIN), late: 0 })
    }

    /// The window's length.
    pub fn span(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.span_ms()).unwrap_or(0))
    }

    /// Events and feedback that arrived after their slot had left the window.
    pub fn late(&self) -> u64 {
        self.late
    }

    fn span_ms(&self) -> i64 {
        self.slot_ms * self.slots.len() as i64
    }

    /// The slot for time `at`, cleared if it held an older slot; `None` if `at` is older than
    /// what the ring holds for that position.
    fn slot_for(&mut self, at: Timestamp) -> Option<&mut Slot> {
        let ms = at.as_millis();
        let (index, number) = self.last;
        if number != i64::MIN
            && self.slots[index].number == number
            && ms.checked_sub(number * self.slot_ms).is_some_and(|d| (0..self.slot_ms).contains(&d))
        {
            return Some(&mut self.slots[index]);
        }
        let number = ms.div_euclid(self.slot_ms);
        let len = self.slots.len() as i64;
        let index = usize::try_from(number.rem_euclid(len)).unwrap_or(0);
        let slot = &mut self.slots[index];
        if slot.number < number {
            slot.reset(number);
        }
        if slot.number == number {
            self.last = (index, number);
            Some(slot)
        } else {
            None
        }
    }

    /// Records one call made at `at`.
    pub fn record(&mut self, at: Timestamp, latency_ms: f64, error: bool, confidence: Option<f64>) {
        let key = self.key(latency_ms);
        self.record_keyed(at, latency_ms, key, error, confidence);
    }

    /// The sketch key of a latency, valid for every sketch of the default accuracy.
    pub(crate) fn key(&self, latency_ms: f64) -> Key {
        self.slots[0].latency.key(latency_ms)
    }

    /// [`SlidingWindow::record`] with the latency's sketch key computed by the caller.
    pub(crate) fn record_keyed(
        &mut self,
        at: Timestamp,
        latency_ms: f64,
        key: Key,
        error: bool,
        confidence: Option<f64>,
    ) {
        let Some(slot) = self.slot_for(at) else {
            self.late += 1;
            return;
        };
        slot.requests += 1;
        slot.errors += u64::from(error);
        slot.latency.add_keyed(latency_ms, key);
        if let Some(c) = confidence.filter(|c| c.is_finite()) {
            slot.confidence_sum += c;
            slot.confidence_count += 1;
        }
    }

    /// Records the ground truth of a call made at `predicted_at`.
    pub fn feedback(&mut self, predicted_at: Timestamp, correct: bool) {
        self.relabel(predicted_at, None, correct);
    }

    /// Records the ground truth of a call made at `predicted_at` that replaces an earlier
    /// label (`previous`), so a corrected label is counted once. A label whose slot has left
    /// the window is counted as late.
    pub fn relabel(&mut self, predicted_at: Timestamp, previous: Option<bool>, correct: bool) {
        if !self.try_relabel(predicted_at, previous, correct) {
            self.late += 1;
        }
    }

    /// Like [`SlidingWindow::relabel`], but returns `false` (and counts nothing) when the
    /// slot of `predicted_at` is not in the window.
    pub(crate) fn try_relabel(
        &mut self,
        predicted_at: Timestamp,
        previous: Option<bool>,
        correct: bool,
    ) -> bool {
        let number = predicted_at.as_millis().div_euclid(self.slot_ms);
        let len = self.slots.len() as i64;
        let slot = &mut self.slots[usize::try_from(number.rem_euclid(len)).unwrap_or(0)];
        if slot.number != number {
            return false;
        }
        if let Some(previous) = previous {
            slot.labelled = slot.labelled.saturating_sub(1);
            slot.correct = slot.correct.saturating_sub(u64::from(previous));
        }
        slot.labelled += 1;
        slot.correct += u64::from(correct);
        true
    }

    /// The statistics of the window ending at `now` (the slots whose start lies in
    /// `(now − span, now]`).
    pub fn stats(&self, now: Timestamp) -> WindowStats {
        let mut acc = WindowAccumulator::new(self, now);
        acc.add(self);
        acc.finish()
    }
}

/// Sums the slots of several windows of the same shape (the shards of one model version)
/// into one [`WindowStats`].
#[derive(Debug)]
pub(crate) struct WindowAccumulator {
    slot_ms: i64,
    oldest: i64,
    newest: i64,
    latency: QuantileSketch,
    requests: u64,
    errors: u64,
    conf_sum: f64,
    conf_n: u64,
    labelled: u64,
    correct: u64,
}

impl WindowAccumulator {
    /// An empty sum for windows shaped like `shape`, ending at `now`.
    pub(crate) fn new(shape: &SlidingWindow, now: Timestamp) -> Self {
        let newest = now.as_millis().div_euclid(shape.slot_ms);
        WindowAccumulator {
            slot_ms: shape.slot_ms,
            oldest: newest - shape.slots.len() as i64 + 1,
            newest,
            latency: QuantileSketch::new(QuantileSketch::DEFAULT_ALPHA)
                .expect("the default accuracy is valid"),
            requests: 0,
            errors: 0,
            conf_sum: 0.0,
            conf_n: 0,
            labelled: 0,
            correct: 0,
        }
    }

    /// Adds the slots of `window` that lie in the accumulated window.
    pub(crate) fn add(&mut self, window: &SlidingWindow) {
        let range = self.oldest..=self.newest;
        for s in window.slots.iter().filter(|s| range.contains(&s.number)) {
            self.requests += s.requests;
            self.errors += s.errors;
            self.latency.merge(&s.latency).expect("slots share one accuracy");
            self.conf_sum += s.confidence_sum;
            self.conf_n += s.confidence_count;
            self.labelled += s.labelled;
            self.correct += s.correct;
        }
    }

    /// The statistics.
    #[allow(clippy::cast_precision_loss)]
    pub(crate) fn finish(self) -> WindowStats {
        let (requests, errors, labelled) = (self.requests, self.errors, self.labelled);
        let span_s = ((self.newest - self.oldest + 1) * self.slot_ms) as f64 / 1000.0;
        WindowStats {
            window_start: Timestamp::from_millis(self.oldest * self.slot_ms),
            window_end: Timestamp::from_millis((self.newest + 1) * self.slot_ms),
            request_count: requests,
            error_count: errors,
            error_rate: if requests == 0 { 0.0 } else { errors as f64 / requests as f64 },
            throughput_per_second: requests as f64 / span_s,
            avg_latency: self.latency.mean(),
            p50_latency: self.latency.quantile(0.5),
            p95_latency: self.latency.quantile(0.95),
            p99_latency: self.latency.quantile(0.99),
            max_latency: self.latency.max(),
            avg_confidence: (self.conf_n > 0).then(|| self.conf_sum / self.conf_n as f64),
            labelled_count: labelled,
            accuracy: (labelled > 0).then(|| self.correct as f64 / labelled as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn window() -> SlidingWindow {
        SlidingWindow::new(SlidingWindow::DEFAULT_SPAN, SlidingWindow::DEFAULT_SLOT).unwrap()
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(1_700_000_000_000 + ms)
    }

    #[test]
    fn counts_rates_and_latencies_within_the_window() {
        let mut w = window();
        for i in 0..100 {
            w.record(at(i * 1000), f64::from(i as i32 + 1), i % 10 == 0, Some(0.8));
        }
        let s = w.stats(at(99_000));
        assert_eq!(s.request_count, 100);
        assert_eq!(s.error_count, 10);
        assert!((s.error_rate - 0.1).abs() < 1e-12);
        assert!((s.throughput_per_second - 100.0 / 300.0).abs() < 1e-12);
        assert_eq!(s.max_latency, Some(100.0));
        assert!((s.avg_latency.unwrap() - 50.5).abs() < 1e-9);
        assert!((s.p95_latency.unwrap() - 95.0).abs() <= 0.95);
        assert!((s.avg_confidence.unwrap() - 0.8).abs() < 1e-12);
        assert_eq!(s.accuracy, None);
    }

    #[test]
    fn old_slots_leave_the_window_and_are_reused() {
        let mut w = window();
        w.record(at(0), 1.0, false, None);
        w.record(at(4 * MIN), 2.0, false, None);
        assert_eq!(w.stats(at(4 * MIN)).request_count, 2);
        // Six minutes later the first call is out; the second is still in.
        assert_eq!(w.stats(at(6 * MIN)).request_count, 1);
        // A gap with no traffic: nothing left.
        assert_eq!(w.stats(at(60 * MIN)).request_count, 0);
        // The ring position of the first call is reused for a new one.
        w.record(at(5 * MIN), 3.0, false, None);
        let s = w.stats(at(5 * MIN));
        assert_eq!(s.request_count, 2);
        assert_eq!(s.max_latency, Some(3.0));
    }

    #[test]
    fn late_feedback_counts_in_the_slot_of_its_prediction() {
        let mut w = window();
        w.record(at(0), 1.0, false, None);
        w.record(at(2 * MIN), 1.0, false, None);
        w.feedback(at(0), true);
        w.feedback(at(2 * MIN), true);
        w.relabel(at(2 * MIN), Some(true), false); // a corrected label counts once
        let s = w.stats(at(3 * MIN));
        assert_eq!((s.labelled_count, s.accuracy), (2, Some(0.5)));
        // Once the first prediction's slot has left, its label leaves with it.
        let s = w.stats(at(6 * MIN));
        assert_eq!((s.labelled_count, s.accuracy), (1, Some(0.0)));
        // Feedback for a prediction already out of the window is counted as late.
        w.record(at(10 * MIN), 1.0, false, None);
        w.feedback(at(0), true);
        assert_eq!(w.late(), 1);
    }

    #[test]
    fn events_older_than_the_ring_are_late_not_misfiled() {
        let mut w = window();
        w.record(at(10 * MIN), 1.0, false, None);
        // Same ring position, ten minutes earlier: must not land in the newer slot.
        w.record(at(0), 99.0, false, None);
        assert_eq!(w.late(), 1);
        assert_eq!(w.stats(at(10 * MIN)).max_latency, Some(1.0));
    }

    #[test]
    fn rejects_windows_that_do_not_split_into_slots() {
        assert!(SlidingWindow::new(Duration::from_secs(300), Duration::from_secs(7)).is_err());
        assert!(SlidingWindow::new(Duration::from_secs(300), Duration::ZERO).is_err());
        assert!(SlidingWindow::new(Duration::from_secs(36_000), Duration::from_secs(1)).is_err());
    }
}

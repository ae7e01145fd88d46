//! The drift window of one model version: a bounded, uniform sample of its recent calls'
//! features and predictions ([`FeatureSample`]), kept only for versions with a drift
//! baseline.
//!
//! # Sampling
//!
//! Reservoir sampling (Vitter's Algorithm R): the first `capacity` calls since the window
//! opened are kept; call `n > capacity` replaces a random kept one with probability
//! `capacity / n`. Every call since the window opened is then in the sample with the same
//! probability, whatever the traffic — a check sees the whole period, not just its last
//! seconds. A check takes the sample and opens a new window ([`FeatureSample::take`]), so
//! consecutive checks see disjoint periods. Failed calls (no prediction) are not sampled.
//!
//! Cost on the call path: one lock and one random number per call; the features and the
//! prediction are cloned only when the call is kept, which becomes rare once the window is
//! full (`capacity / n`). Memory: at most `capacity` calls' JSON features and predictions.
//! The random stream is SplitMix64, seeded per sample, so a run is reproducible in tests.

use std::sync::Mutex;

use serde_json::Value;

use super::event::InferenceEvent;
use crate::clock::Timestamp;

/// One sampled call.
#[derive(Debug, Clone, PartialEq)]
pub struct SampledCall {
    /// When the call was made.
    pub timestamp: Timestamp,
    /// Its input features, as stored in the event's `featuresIn`.
    pub features_in: Value,
    /// Its prediction.
    pub prediction: Value,
    /// Its confidence, if any.
    pub confidence: Option<f64>,
}

/// What [`FeatureSample::take`] returns: the calls kept and the period they stand for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TakenSample {
    /// The sampled calls, in no particular order.
    pub calls: Vec<SampledCall>,
    /// Calls offered since the window opened (the sample stands for this many).
    pub seen: u64,
    /// The earliest and latest timestamp among the offered calls (`None` when none was).
    pub span: Option<(Timestamp, Timestamp)>,
}

#[derive(Debug)]
struct Reservoir {
    calls: Vec<SampledCall>,
    seen: u64,
    span: Option<(Timestamp, Timestamp)>,
    rng: u64,
}

/// A bounded uniform sample of a model version's recent calls (see the module documentation).
#[derive(Debug)]
pub struct FeatureSample {
    capacity: usize,
    inner: Mutex<Reservoir>,
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl FeatureSample {
    /// An empty sample keeping at most `capacity` calls (at least 1), with random stream
    /// `seed`.
    pub fn new(capacity: usize, seed: u64) -> Self {
        FeatureSample {
            capacity: capacity.max(1),
            inner: Mutex::new(Reservoir { calls: Vec::new(), seen: 0, span: None, rng: seed }),
        }
    }

    /// The most calls kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Reservoir> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Offers one call (failed calls — with an `error` — are ignored).
    pub fn offer(&self, event: &InferenceEvent) {
        if event.error.is_some() {
            return;
        }
        let mut r = self.lock();
        r.seen += 1;
        let t = event.timestamp;
        r.span = Some(r.span.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))));
        let slot = if r.calls.len() < self.capacity {
            None
        } else {
            // Uniform in [0, seen): keep when it falls among the capacity slots.
            let draw = splitmix64(&mut r.rng) % r.seen;
            match usize::try_from(draw) {
                Ok(i) if i < self.capacity => Some(i),
                _ => return,
            }
        };
        let call = SampledCall {
            timestamp: t,
            features_in: event.features_in.clone(),
            prediction: event.prediction.clone(),
            confidence: event.confidence,
        };
        match slot {
            None => r.calls.push(call),
            Some(i) => r.calls[i] = call,
        }
    }

    /// Calls offered since the window opened.
    pub fn seen(&self) -> u64 {
        self.lock().seen
    }

    /// A copy of the current sample, leaving the window open.
    pub fn snapshot(&self) -> TakenSample {
        let r = self.lock();
        TakenSample { calls: r.calls.clone(), seen: r.seen, span: r.span }
    }

    /// Takes the sample and opens a new, empty window.
    pub fn take(&self) -> TakenSample {
        let mut r = self.lock();
        let calls = std::mem::take(&mut r.calls);
        let taken = TakenSample { calls, seen: r.seen, span: r.span };
        r.seen = 0;
        r.span = None;
        taken
    }

    /// Puts calls back (a check that failed to store its rows), as if they had been offered
    /// again; the window's count grows by their number.
    pub fn restore(&self, taken: TakenSample) {
        let calls = taken.calls;
        for call in calls {
            let mut r = self.lock();
            r.seen += 1;
            let t = call.timestamp;
            r.span = Some(r.span.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))));
            if r.calls.len() < self.capacity {
                r.calls.push(call);
            } else {
                let draw = splitmix64(&mut r.rng) % r.seen;
                if let Ok(i) = usize::try_from(draw)
                    && i < self.capacity
                {
                    r.calls[i] = call;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Framework;
    use serde_json::json;

    fn event(i: i64) -> InferenceEvent {
        InferenceEvent {
            id: format!("e{i}"),
            model_name: "m".into(),
            model_version: "1".into(),
            framework: Framework::Onnx,
            request_id: None,
            user_id: None,
            session_id: None,
            features_in: json!({ "i": i }),
            prediction: json!(i % 3),
            confidence: Some(0.5),
            latency_ms: 1.0,
            timestamp: Timestamp::from_millis(i),
            error: None,
            actual_outcome: None,
            correct: None,
            feedback_timestamp: None,
        }
    }

    #[test]
    fn keeps_everything_until_full_then_stays_bounded() {
        let s = FeatureSample::new(10, 1);
        for i in 0..10 {
            s.offer(&event(i));
        }
        assert_eq!(s.snapshot().calls.len(), 10);
        for i in 10..1_000 {
            s.offer(&event(i));
        }
        let t = s.take();
        assert_eq!((t.calls.len(), t.seen), (10, 1_000));
        assert_eq!(t.span, Some((Timestamp::from_millis(0), Timestamp::from_millis(999))));
        let after = s.snapshot();
        assert_eq!((after.calls.len(), after.seen, after.span), (0, 0, None));
    }

    #[test]
    fn failed_calls_are_not_sampled() {
        let s = FeatureSample::new(10, 1);
        let mut e = event(1);
        e.error = Some("boom".into());
        s.offer(&e);
        assert_eq!(s.seen(), 0);
    }

    #[test]
    fn the_sample_is_uniform_over_the_window() {
        // 200 windows of 1,000 calls, 100 kept each: every decile of the window is kept
        // 10 times per window on average; a chi-square over the deciles stays small.
        let mut per_decile = [0u64; 10];
        let s = FeatureSample::new(100, 7);
        for _ in 0..200 {
            for i in 0..1_000 {
                s.offer(&event(i));
            }
            for c in s.take().calls {
                per_decile[(c.timestamp.as_millis() / 100) as usize] += 1;
            }
        }
        let expected = 200.0 * 100.0 / 10.0;
        let chi2: f64 = per_decile.iter().map(|&o| (o as f64 - expected).powi(2) / expected).sum();
        // 9 degrees of freedom: P(chi2 > 27.88) = 0.001.
        assert!(chi2 < 27.88, "deciles {per_decile:?}, chi2 {chi2}");
    }

    #[test]
    fn restore_puts_calls_back() {
        let s = FeatureSample::new(5, 3);
        for i in 0..3 {
            s.offer(&event(i));
        }
        let t = s.take();
        s.offer(&event(10));
        s.restore(t);
        let now = s.snapshot();
        assert_eq!((now.calls.len(), now.seen), (4, 4));
    }
}

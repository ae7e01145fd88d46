//! A mergeable quantile sketch with a relative-error guarantee (DDSketch).
//!
//! Values are counted in logarithmic buckets: with relative accuracy `α` and
//! `γ = (1 + α) / (1 − α)`, a positive value `x` falls in bucket `i = ⌈log_γ x⌉`, which covers
//! `(γ^(i−1), γ^i]`, and the bucket is represented by `2γ^i / (γ + 1)`. Every value of the
//! bucket is within a factor `1 ± α` of that representative, so for any quantile `q` the
//! estimate `v̂` of the value `v` of rank `⌊q (n − 1)⌋` in sorted order satisfies
//! `|v̂ − v| ≤ α · v` (Masson, Rim & Lee, *DDSketch*, VLDB 2019). Values at or below
//! [`QuantileSketch::MIN_POSITIVE`] (and zero) are counted in a separate zero bucket.
//!
//! Merging adds bucket counts, so it is exact: merging the sketches of two streams gives the
//! sketch of their union, in any order. That is how 5-minute rows roll up into hourly and
//! daily rows, and how rows from several nodes combine.
//!
//! Memory is bounded: past [`QuantileSketch::max_buckets`] buckets, the lowest buckets are
//! collapsed into one, which keeps the guarantee for every quantile above the collapsed
//! range (latency tails are what matter). With the default `α = 0.01` and 2048 buckets, the
//! guarantee covers a range of `γ^2048 ≈ 10^17`, far beyond microseconds to hours.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where a value goes in a sketch: see [`QuantileSketch::key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    /// Not a latency (negative, NaN, infinite): ignored.
    Skip,
    /// The zero bucket.
    Zero,
    /// Bucket `i`.
    Bucket(i32),
}

/// A DDSketch of non-negative values (latencies, in any unit).
///
/// Serialised (for `ModelMetrics` rows) as its parameters, bucket offset and dense counts;
/// reading one back checks that the counts add up.
///
/// # Examples
///
/// ```
/// use harper_edge_core::telemetry::QuantileSketch;
///
/// let mut a = QuantileSketch::new(0.01)?;
/// let mut b = QuantileSketch::new(0.01)?;
/// for ms in 1..=500 { a.add(f64::from(ms)); }
/// for ms in 501..=1000 { b.add(f64::from(ms)); }
/// a.merge(&b)?;
/// let p99 = a.quantile(0.99).expect("not empty");
/// assert!((p99 - 990.0).abs() <= 0.01 * 990.0);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawSketch", into = "RawSketch")]
pub struct QuantileSketch {
    alpha: f64,
    max_buckets: usize,
    /// Index of `counts[0]`.
    offset: i32,
    counts: Vec<u64>,
    zero_count: u64,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    ln_gamma: f64,
}

/// The serialised form: the sketch without its derived constant, checked when read back.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSketch {
    alpha: f64,
    max_buckets: usize,
    offset: i32,
    counts: Vec<u64>,
    zero_count: u64,
    count: u64,
    sum: f64,
    /// `None` for an empty sketch (JSON has no infinity).
    min: Option<f64>,
    max: Option<f64>,
}

impl From<QuantileSketch> for RawSketch {
    fn from(s: QuantileSketch) -> Self {
        RawSketch {
            alpha: s.alpha,
            max_buckets: s.max_buckets,
            offset: s.offset,
            counts: s.counts,
            zero_count: s.zero_count,
            count: s.count,
            sum: s.sum,
            min: (s.count > 0).then_some(s.min),
            max: (s.count > 0).then_some(s.max),
        }
    }
}

impl TryFrom<RawSketch> for QuantileSketch {
    type Error = Error;

    fn try_from(r: RawSketch) -> Result<Self> {
        let mut s = QuantileSketch::with_max_buckets(r.alpha, r.max_buckets)?;
        let total = r.counts.iter().try_fold(r.zero_count, |acc, &c| acc.checked_add(c));
        if total != Some(r.count) || r.counts.len() > r.max_buckets {
            return Err(Error::Integrity {
                message: format!(
                    "corrupt sketch: {} buckets summing to {total:?}, header says {} values",
                    r.counts.len(),
                    r.count
                ),
            });
        }
        s.offset = r.offset;
        s.counts = r.counts;
        s.zero_count = r.zero_count;
        s.count = r.count;
        s.sum = r.sum;
        if r.count > 0 {
            let (Some(min), Some(max)) = (r.min, r.max) else {
                return Err(Error::Integrity {
                    message: "corrupt sketch: values without a min and max".to_string(),
                });
            };
            s.min = min;
            s.max = max;
        }
        Ok(s)
    }
}

impl QuantileSketch {
    /// Default relative accuracy: 1%.
    pub const DEFAULT_ALPHA: f64 = 0.01;
    /// Default bucket cap.
    pub const DEFAULT_MAX_BUCKETS: usize = 2048;
    /// Values at or below this count as zero.
    pub const MIN_POSITIVE: f64 = 1e-9;

    /// An empty sketch with relative accuracy `alpha` and the default bucket cap.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] unless `0 < alpha < 1`.
    pub fn new(alpha: f64) -> Result<Self> {
        Self::with_max_buckets(alpha, Self::DEFAULT_MAX_BUCKETS)
    }

    /// An empty sketch with relative accuracy `alpha` keeping at most `max_buckets` buckets.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] unless `0 < alpha < 1` and `max_buckets >= 16`.
    pub fn with_max_buckets(alpha: f64, max_buckets: usize) -> Result<Self> {
        if !(alpha > 0.0 && alpha < 1.0) {
            return Err(Error::invalid_input(format!(
                "sketch relative accuracy must be in (0, 1), got {alpha}"
            )));
        }
        if max_buckets < 16 {
            return Err(Error::invalid_input(format!(
                "sketch max_buckets must be at least 16, got {max_buckets}"
            )));
        }
        Ok(QuantileSketch {
            alpha,
            max_buckets,
            offset: 0,
            counts: Vec::new(),
            zero_count: 0,
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            ln_gamma: ln_gamma(alpha),
        })
    }

    /// The relative accuracy `α`.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The bucket cap.
    pub fn max_buckets(&self) -> usize {
        self.max_buckets
    }

    /// Number of values added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of the values added.
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// Smallest value added (exact), if any.
    pub fn min(&self) -> Option<f64> {
        (self.count > 0).then_some(self.min)
    }

    /// Largest value added (exact), if any.
    pub fn max(&self) -> Option<f64> {
        (self.count > 0).then_some(self.max)
    }

    /// Mean of the values added (exact), if any.
    #[allow(clippy::cast_precision_loss)]
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }

    /// Whether no value was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Empties the sketch, keeping its allocation (so a reused sketch does not allocate).
    pub fn clear(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0);
        self.zero_count = 0;
        self.count = 0;
        self.sum = 0.0;
        self.min = f64::INFINITY;
        self.max = f64::NEG_INFINITY;
    }

    /// Adds one value. Negative and NaN values are not latencies and are ignored; infinite
    /// values too. Allocates only when the value falls outside the buckets seen so far.
    pub fn add(&mut self, value: f64) {
        self.add_keyed(value, self.key(value));
    }

    /// Where `value` goes in a sketch of this accuracy: computed once (one logarithm) and
    /// added to several sketches of the same accuracy with [`QuantileSketch::add_keyed`].
    pub(crate) fn key(&self, value: f64) -> Key {
        if !(value.is_finite() && value >= 0.0) {
            Key::Skip
        } else if value <= Self::MIN_POSITIVE {
            Key::Zero
        } else {
            Key::Bucket(self.index(value))
        }
    }

    /// Adds `value`, whose key a sketch of the same accuracy computed.
    pub(crate) fn add_keyed(&mut self, value: f64, key: Key) {
        let index = match key {
            Key::Skip => return,
            Key::Zero => None,
            Key::Bucket(i) => Some(i),
        };
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        match index {
            None => self.zero_count += 1,
            Some(index) => {
                let slot = self.slot(index);
                self.counts[slot] += 1;
            }
        }
    }

    /// The estimated value of quantile `q` (`0 ≤ q ≤ 1`), or `None` when empty or `q` is out
    /// of range. Within `α` of the value of rank `⌊q (n − 1)⌋`, and clamped to `[min, max]`.
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = (q * (self.count - 1) as f64).floor() as u64;
        if rank < self.zero_count {
            return Some(self.min.max(0.0));
        }
        let mut seen = self.zero_count;
        for (slot, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen > rank {
                let index = self.offset + i32::try_from(slot).unwrap_or(i32::MAX);
                return Some(self.value(index).clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }

    /// Adds every value of `other` to this sketch.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the two sketches have different relative accuracies.
    pub fn merge(&mut self, other: &QuantileSketch) -> Result<()> {
        if (self.alpha - other.alpha).abs() > f64::EPSILON {
            return Err(Error::invalid_input(format!(
                "cannot merge sketches of relative accuracy {} and {}",
                self.alpha, other.alpha
            )));
        }
        if other.count == 0 {
            return Ok(());
        }
        for (slot, &c) in other.counts.iter().enumerate() {
            if c > 0 {
                let index = other.offset + i32::try_from(slot).unwrap_or(i32::MAX);
                let slot = self.slot(index);
                self.counts[slot] += c;
            }
        }
        self.zero_count += other.zero_count;
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        Ok(())
    }

    #[allow(clippy::cast_possible_truncation)]
    fn index(&self, value: f64) -> i32 {
        (value.ln() / self.ln_gamma).ceil() as i32
    }

    fn value(&self, index: i32) -> f64 {
        let gamma = self.ln_gamma.exp();
        2.0 * (f64::from(index) * self.ln_gamma).exp() / (gamma + 1.0)
    }

    /// The slot of bucket `index`, growing (or collapsing) the dense array as needed.
    #[allow(clippy::cast_sign_loss)]
    fn slot(&mut self, index: i32) -> usize {
        // The common case: a bucket already in the array.
        if let Ok(slot) = usize::try_from(index.wrapping_sub(self.offset))
            && slot < self.counts.len()
        {
            return slot;
        }
        if self.counts.is_empty() {
            self.offset = index;
            self.counts.push(0);
            return 0;
        }
        if index < self.offset {
            let grow = (self.offset - index) as usize;
            if self.counts.len() + grow > self.max_buckets {
                // Too wide: the value joins the lowest bucket (the collapsed range).
                return 0;
            }
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.offset = index;
            return 0;
        }
        let slot = (index - self.offset) as usize;
        if slot >= self.counts.len() {
            self.counts.resize(slot + 1, 0);
        }
        if self.counts.len() > self.max_buckets {
            let excess = self.counts.len() - self.max_buckets;
            let collapsed: u64 = self.counts.drain(..=excess).sum();
            self.counts.insert(0, collapsed);
            self.offset += i32::try_from(excess).unwrap_or(i32::MAX);
            return slot - excess;
        }
        slot
    }
}

fn ln_gamma(alpha: f64) -> f64 {
    ((1.0 + alpha) / (1.0 - alpha)).ln()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sketch(values: &[f64]) -> QuantileSketch {
        let mut s = QuantileSketch::new(0.01).unwrap();
        values.iter().for_each(|&v| s.add(v));
        s
    }

    fn exact(sorted: &[f64], q: f64) -> f64 {
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        sorted[(q * (sorted.len() - 1) as f64).floor() as usize]
    }

    /// Latency-like values: log-uniform from a microsecond to an hour (in ms), some zeros.
    fn latencies() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(
            prop_oneof![9 => (-3.0f64..6.6).prop_map(|e| 10f64.powf(e)), 1 => Just(0.0)],
            1..400,
        )
    }

    proptest! {
        #[test]
        fn relative_error_bound_holds(values in latencies()) {
            let s = sketch(&values);
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            for q in [0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0] {
                let want = exact(&sorted, q);
                let got = s.quantile(q).unwrap();
                prop_assert!((got - want).abs() <= 0.01 * want + 1e-12, "q={q} got={got} want={want}");
            }
            prop_assert_eq!(s.count(), values.len() as u64);
            prop_assert_eq!(s.max(), sorted.last().copied());
            prop_assert_eq!(s.min(), sorted.first().copied());
        }

        #[test]
        fn merge_equals_sketching_the_union(a in latencies(), b in latencies()) {
            let mut merged = sketch(&a);
            merged.merge(&sketch(&b)).unwrap();
            let union = sketch(&[a.as_slice(), b.as_slice()].concat());
            prop_assert_eq!(&merged.counts, &union.counts);
            prop_assert_eq!(merged.offset, union.offset);
            prop_assert_eq!(merged.zero_count, union.zero_count);
            prop_assert_eq!(merged.count, union.count);
            prop_assert!((merged.sum - union.sum).abs() <= 1e-9 * union.sum.abs().max(1.0));
            for q in [0.5, 0.95, 0.99] {
                prop_assert_eq!(merged.quantile(q), union.quantile(q));
            }
        }

        #[test]
        fn merge_is_associative(a in latencies(), b in latencies(), c in latencies()) {
            let (sa, sb, sc) = (sketch(&a), sketch(&b), sketch(&c));
            let mut left = sa.clone();
            left.merge(&sb).unwrap();
            left.merge(&sc).unwrap();
            let mut right = sb.clone();
            right.merge(&sc).unwrap();
            let mut right_all = sa.clone();
            right_all.merge(&right).unwrap();
            prop_assert_eq!(&left.counts, &right_all.counts);
            prop_assert_eq!(left.offset, right_all.offset);
            prop_assert_eq!(left.count, right_all.count);
            prop_assert_eq!(left.quantile(0.99), right_all.quantile(0.99));
        }
    }

    #[test]
    fn rejects_bad_parameters_and_mismatched_merges() {
        assert!(QuantileSketch::new(0.0).is_err());
        assert!(QuantileSketch::new(1.0).is_err());
        assert!(QuantileSketch::with_max_buckets(0.01, 4).is_err());
        let mut a = QuantileSketch::new(0.01).unwrap();
        let b = QuantileSketch::new(0.02).unwrap();
        assert_eq!(a.merge(&b).unwrap_err().kind(), crate::ErrorKind::InvalidInput);
    }

    #[test]
    fn ignores_values_that_are_not_latencies() {
        let mut s = QuantileSketch::new(0.01).unwrap();
        for v in [f64::NAN, -1.0, f64::INFINITY] {
            s.add(v);
        }
        assert!(s.is_empty());
        assert_eq!(s.quantile(0.5), None);
    }

    #[test]
    fn memory_stays_bounded_and_the_tail_keeps_its_guarantee() {
        let mut s = QuantileSketch::with_max_buckets(0.01, 64).unwrap();
        let values: Vec<f64> = (0..10_000).map(|i| 1e-6 * 1.01f64.powi(i % 3000)).collect();
        values.iter().for_each(|&v| s.add(v));
        assert!(s.counts.len() <= 64);
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let (got, want) = (s.quantile(0.99).unwrap(), exact(&sorted, 0.99));
        assert!((got - want).abs() <= 0.01 * want, "{got} vs {want}");
    }

    #[test]
    fn serde_round_trip_keeps_quantiles_and_refuses_corrupt_sketches() {
        let s = sketch(&[0.5, 1.0, 2.0, 40.0, 0.0]);
        let json = serde_json::to_string(&s).unwrap();
        let back: QuantileSketch = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        let mut tampered: serde_json::Value = serde_json::from_str(&json).unwrap();
        tampered["count"] = serde_json::json!(99);
        let err = serde_json::from_value::<QuantileSketch>(tampered).unwrap_err();
        assert!(err.to_string().contains("corrupt sketch"), "{err}");
        let empty: QuantileSketch = serde_json::from_str(
            &serde_json::to_string(&QuantileSketch::new(0.01).unwrap()).unwrap(),
        )
        .unwrap();
        assert!(empty.is_empty());
    }
}

//! Latency statistics of a benchmark cell.
//!
//! Percentiles use **linear interpolation between closest ranks** (Hyndman & Fan type 7, the
//! default of numpy's `percentile` and of R's `quantile`): for `n` sorted samples `x₀ ≤ … ≤
//! xₙ₋₁` and a fraction `p`, the rank is `h = (n − 1)·p` and the percentile
//! `x⌊h⌋ + (h − ⌊h⌋)·(x⌊h⌋₊₁ − x⌊h⌋)`. So p50 of an even count is the mean of the two middle
//! samples, and p99 of 100 samples lies between the two largest.

use serde::{Deserialize, Serialize};

/// Latency statistics of the successful calls of one cell, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatencyStats {
    /// How many calls (samples).
    pub count: usize,
    /// Fastest call.
    pub min_us: f64,
    /// Arithmetic mean.
    pub mean_us: f64,
    /// Median ([module docs](self) for the method).
    pub p50_us: f64,
    /// 95th percentile.
    pub p95_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Slowest call.
    pub max_us: f64,
    /// Sample standard deviation (`n − 1` in the denominator; 0 for one sample).
    pub stddev_us: f64,
}

impl LatencyStats {
    /// The statistics of `samples_us` (any order); `None` when there are none.
    ///
    /// # Examples
    ///
    /// ```
    /// use harper_edge_core::bench::LatencyStats;
    ///
    /// let samples: Vec<f64> = (1..=100).map(f64::from).collect();
    /// let s = LatencyStats::from_samples(&samples).unwrap();
    /// assert_eq!((s.min_us, s.p50_us, s.max_us), (1.0, 50.5, 100.0));
    /// assert!((s.p99_us - 99.01).abs() < 1e-9);
    /// ```
    pub fn from_samples(samples_us: &[f64]) -> Option<LatencyStats> {
        let mut sorted: Vec<f64> = samples_us.iter().copied().filter(|x| x.is_finite()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        #[allow(clippy::cast_precision_loss)]
        let n = sorted.len() as f64;
        let mean = sorted.iter().sum::<f64>() / n;
        let var = if sorted.len() > 1 {
            sorted.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        Some(LatencyStats {
            count: sorted.len(),
            min_us: sorted[0],
            mean_us: mean,
            p50_us: percentile(&sorted, 0.50),
            p95_us: percentile(&sorted, 0.95),
            p99_us: percentile(&sorted, 0.99),
            max_us: sorted[sorted.len() - 1],
            stddev_us: var.sqrt(),
        })
    }
}

/// The `p`-quantile (`p` in `[0, 1]`, clamped) of `sorted` (ascending) by linear interpolation
/// between closest ranks; NaN for no samples.
///
/// # Examples
///
/// ```
/// use harper_edge_core::bench::percentile;
///
/// let x = [1.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 9.0];
/// assert_eq!(percentile(&x, 0.5), 3.5);
/// assert!((percentile(&x, 0.95) - 7.95).abs() < 1e-12); // numpy.percentile(x, 95)
/// ```
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    match sorted {
        [] => f64::NAN,
        [only] => *only,
        _ => {
            #[allow(clippy::cast_precision_loss)]
            let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(sorted.len() - 1);
            sorted[lo] + (h - h.floor()) * (sorted[hi] - sorted[lo])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn percentiles_match_numpy_on_known_samples() {
        // numpy.percentile(x, [50, 95, 99]) for each x (linear method, numpy's default).
        let cases: [(&[f64], [f64; 3]); 4] = [
            (&[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0], [3.5, 7.95, 8.79]),
            (&[10.0, 20.0], [15.0, 19.5, 19.9]),
            (&[7.0], [7.0, 7.0, 7.0]),
            (&[5.0, 1.0, 3.0], [3.0, 4.8, 4.96]),
        ];
        for (x, [p50, p95, p99]) in cases {
            let s = LatencyStats::from_samples(x).unwrap();
            assert!(close(s.p50_us, p50), "{x:?}: p50 {}", s.p50_us);
            assert!(close(s.p95_us, p95), "{x:?}: p95 {}", s.p95_us);
            assert!(close(s.p99_us, p99), "{x:?}: p99 {}", s.p99_us);
        }
    }

    #[test]
    fn one_to_a_hundred() {
        let x: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let s = LatencyStats::from_samples(&x).unwrap();
        assert_eq!(s.count, 100);
        assert!(close(s.mean_us, 50.5));
        assert!(close(s.p50_us, 50.5));
        assert!(close(s.p95_us, 95.05));
        assert!(close(s.p99_us, 99.01));
        assert_eq!((s.min_us, s.max_us), (1.0, 100.0));
        // Sample standard deviation of 1..=100: sqrt(841.666…).
        assert!(close(s.stddev_us, (10100.0_f64 / 12.0).sqrt()));
    }

    #[test]
    fn no_samples_and_non_finite_samples() {
        assert_eq!(LatencyStats::from_samples(&[]), None);
        assert_eq!(LatencyStats::from_samples(&[f64::NAN]), None);
        let s = LatencyStats::from_samples(&[2.0, f64::INFINITY, 4.0]).unwrap();
        assert_eq!((s.count, s.p50_us, s.stddev_us), (2, 3.0, 2f64.sqrt()));
        assert!(percentile(&[], 0.5).is_nan());
    }
}

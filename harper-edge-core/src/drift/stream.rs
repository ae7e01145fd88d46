//! Streaming drift detectors: they read one value at a time (a latency, an error flag, a
//! prediction's confidence, a feature) and say when its distribution has changed, in O(1)
//! amortised time per value and bounded memory.
//!
//! - [`PageHinkley`]: the Page–Hinkley test for a change in the mean (Page, *Continuous
//!   inspection schemes*, Biometrika 1954; the form of Mouss et al. 2004 used by MOA and
//!   River), in one direction or both.
//! - [`Adwin`]: ADaptive WINdowing (Bifet & Gavaldà, *Learning from time-changing data with
//!   adaptive windowing*, SDM 2007, the ADWIN2 variant): a window whose length adapts, kept
//!   as an exponential histogram of buckets, cut whenever two sub-windows have means that
//!   differ by more than a Hoeffding/Bernstein-style bound at confidence `delta`.
//!
//! Both reject NaN and infinite values with [`Error::InvalidInput`], so one bad value cannot
//! poison a detector's state silently.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

fn finite(x: f64) -> Result<f64> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(Error::invalid_input(format!("a drift detector needs finite values, got {x}")))
    }
}

/// Checks every value first (nothing is read from a batch with a non-finite value), then
/// feeds them to `update`; the positions where it signalled a change.
fn update_each(values: &[f64], mut update: impl FnMut(f64) -> Result<bool>) -> Result<Vec<usize>> {
    if let Some(i) = values.iter().position(|x| !x.is_finite()) {
        return Err(Error::invalid_input(format!(
            "a drift detector needs finite values, got {} at position {i}",
            values[i]
        )));
    }
    let mut changes = Vec::new();
    for (i, &x) in values.iter().enumerate() {
        if update(x)? {
            changes.push(i);
        }
    }
    Ok(changes)
}

/// Which change in the mean [`PageHinkley`] looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// An increase (e.g. latency or error rate going up).
    Up,
    /// A decrease (e.g. accuracy going down).
    Down,
    /// Either.
    #[default]
    Both,
}

impl std::str::FromStr for Direction {
    type Err = Error;

    /// `"up"`, `"down"` or `"both"`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "up" => Ok(Direction::Up),
            "down" => Ok(Direction::Down),
            "both" => Ok(Direction::Both),
            other => Err(Error::invalid_input(format!(
                "direction must be \"up\", \"down\" or \"both\", got \"{other}\""
            ))),
        }
    }
}

/// Settings of [`PageHinkley`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageHinkleyConfig {
    /// Values seen before a change can be signalled (default 30).
    pub min_instances: u64,
    /// Magnitude of change tolerated, `δ` (default 0.005).
    pub delta: f64,
    /// Detection threshold, `λ` (default 50).
    pub threshold: f64,
    /// Forgetting factor `α` of the cumulative sums, in `(0, 1]` (default `1 − 1e-4`).
    pub alpha: f64,
    /// Which change to look for (default both).
    pub direction: Direction,
}

impl Default for PageHinkleyConfig {
    fn default() -> Self {
        PageHinkleyConfig {
            min_instances: 30,
            delta: 0.005,
            threshold: 50.0,
            alpha: 1.0 - 1e-4,
            direction: Direction::Both,
        }
    }
}

/// The Page–Hinkley test.
///
/// With `x̄ₜ` the running mean of the values since the last change,
/// `mₜ = α·mₜ₋₁ + (xₜ − x̄ₜ − δ)` and `Mₜ = min(Mₜ₋₁, mₜ)` for an increase; a change is
/// signalled when `mₜ − Mₜ > λ` after at least `min_instances` values. A decrease uses
/// `m'ₜ = α·m'ₜ₋₁ + (x̄ₜ − xₜ − δ)` the same way. After a change the detector starts afresh.
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::stream::{PageHinkley, PageHinkleyConfig};
///
/// let mut ph = PageHinkley::new(PageHinkleyConfig { threshold: 5.0, ..Default::default() })?;
/// for _ in 0..200 { assert!(!ph.update(1.0)?); }
/// let detected = (0..200).any(|_| ph.update(3.0).unwrap());
/// assert!(detected);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageHinkley {
    config: PageHinkleyConfig,
    n: u64,
    mean: f64,
    sum_up: f64,
    min_up: f64,
    sum_down: f64,
    min_down: f64,
    changes: u64,
}

impl PageHinkley {
    /// A detector with these settings.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a negative or non-finite `delta` or `threshold`, or an
    /// `alpha` outside `(0, 1]`.
    pub fn new(config: PageHinkleyConfig) -> Result<Self> {
        if !(config.delta.is_finite() && config.delta >= 0.0) {
            return Err(Error::invalid_input("page-hinkley delta must be a finite number >= 0"));
        }
        if !(config.threshold.is_finite() && config.threshold > 0.0) {
            return Err(Error::invalid_input("page-hinkley threshold must be a finite number > 0"));
        }
        if !(config.alpha > 0.0 && config.alpha <= 1.0) {
            return Err(Error::invalid_input("page-hinkley alpha must be in (0, 1]"));
        }
        Ok(PageHinkley {
            config,
            n: 0,
            mean: 0.0,
            sum_up: 0.0,
            min_up: 0.0,
            sum_down: 0.0,
            min_down: 0.0,
            changes: 0,
        })
    }

    /// The settings.
    pub fn config(&self) -> &PageHinkleyConfig {
        &self.config
    }

    /// Values seen since the last change.
    pub fn len(&self) -> u64 {
        self.n
    }

    /// Whether no value was seen since the last change.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Changes signalled so far.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Reads many values; returns the positions (in `values`) of the values that completed a
    /// change. Checked first: a NaN or infinite value anywhere leaves the state unchanged.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the first non-finite value's position.
    pub fn update_many(&mut self, values: &[f64]) -> Result<Vec<usize>> {
        update_each(values, |x| self.update(x))
    }

    /// Reads one value; `true` when it completes a change (the detector then starts afresh).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for NaN or an infinite value (the state is unchanged).
    #[allow(clippy::cast_precision_loss)]
    pub fn update(&mut self, x: f64) -> Result<bool> {
        let x = finite(x)?;
        self.n += 1;
        self.mean += (x - self.mean) / self.n as f64;
        let c = &self.config;
        self.sum_up = c.alpha * self.sum_up + (x - self.mean - c.delta);
        self.min_up = self.min_up.min(self.sum_up);
        self.sum_down = c.alpha * self.sum_down + (self.mean - x - c.delta);
        self.min_down = self.min_down.min(self.sum_down);
        if self.n < c.min_instances {
            return Ok(false);
        }
        let up = self.sum_up - self.min_up > c.threshold;
        let down = self.sum_down - self.min_down > c.threshold;
        let change = match c.direction {
            Direction::Up => up,
            Direction::Down => down,
            Direction::Both => up || down,
        };
        if change {
            self.changes += 1;
            *self = PageHinkley { changes: self.changes, ..PageHinkley::new(self.config)? };
        }
        Ok(change)
    }
}

/// Settings of [`Adwin`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdwinConfig {
    /// Confidence `δ` of the cut test (default 0.002): the chance of a false cut at one check.
    pub delta: f64,
    /// Buckets kept per size before two merge, `M` (default 5): memory and accuracy.
    pub max_buckets: usize,
    /// Values between two cut checks (default 32).
    pub clock: u64,
    /// Smallest sub-window a cut may leave on either side (default 5).
    pub min_window_length: u64,
    /// Values seen before the first check (default 10).
    pub grace_period: u64,
}

impl Default for AdwinConfig {
    fn default() -> Self {
        AdwinConfig {
            delta: 0.002,
            max_buckets: 5,
            clock: 32,
            min_window_length: 5,
            grace_period: 10,
        }
    }
}

/// A bucket of the exponential histogram: `2^level` values summarised by their sum and the
/// sum of squared deviations from their mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Bucket {
    total: f64,
    variance: f64,
}

/// ADWIN: a window of recent values that shrinks when its two ends disagree.
///
/// The window is an exponential histogram: row `i` holds up to `M` buckets of `2^i` values
/// each, so `n` values take `O(M log n)` memory. Every `clock` values the
/// window is tested at each bucket boundary (oldest first): with `n₀`, `n₁` values and means
/// `μ₀`, `μ₁` on each side, `σ²` the window's variance, `δ' = ln(2 ln n / δ)` and
/// `1/m = 1/(n₀ − w + 1) + 1/(n₁ − w + 1)` (`w` the minimum sub-window), the older part is
/// dropped while `|μ₀ − μ₁| > sqrt(2 σ² δ' / m) + (2/3) δ' / m`. A cut signals a change.
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::stream::{Adwin, AdwinConfig};
///
/// let mut adwin = Adwin::new(AdwinConfig::default())?;
/// for i in 0..1000 { adwin.update(f64::from(i % 2))?; } // mean 0.5
/// let mut cuts = 0;
/// for _ in 0..1000 { cuts += u32::from(adwin.update(1.0)?); } // mean 1
/// assert!(cuts >= 1);
/// assert!(adwin.mean() > 0.9, "the window now holds the new regime");
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Adwin {
    config: AdwinConfig,
    /// Row `i`: buckets of `2^i` values, oldest first (at most `M + 1`, so shifting is a
    /// few copies).
    rows: Vec<Vec<Bucket>>,
    width: u64,
    total: f64,
    /// Mean of the window, kept incrementally (`total / width`).
    mean: f64,
    /// Sum of squared deviations from the mean.
    variance: f64,
    since_check: u64,
    seen: u64,
    changes: u64,
}

impl Adwin {
    /// A detector with these settings.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] unless `0 < delta < 1`, `max_buckets >= 2`, `clock >= 1` and
    /// `min_window_length >= 1`.
    pub fn new(config: AdwinConfig) -> Result<Self> {
        if !(config.delta > 0.0 && config.delta < 1.0) {
            return Err(Error::invalid_input("adwin delta must be in (0, 1)"));
        }
        if config.max_buckets < 2 || config.clock == 0 || config.min_window_length == 0 {
            return Err(Error::invalid_input(
                "adwin needs max_buckets >= 2, clock >= 1 and min_window_length >= 1",
            ));
        }
        Ok(Adwin {
            config,
            rows: Vec::new(),
            width: 0,
            total: 0.0,
            mean: 0.0,
            variance: 0.0,
            since_check: 0,
            seen: 0,
            changes: 0,
        })
    }

    /// The settings.
    pub fn config(&self) -> &AdwinConfig {
        &self.config
    }

    /// Values in the window.
    pub fn width(&self) -> u64 {
        self.width
    }

    /// Mean of the window (0 when empty).
    #[allow(clippy::cast_precision_loss)]
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// Variance of the window (population; 0 when empty).
    #[allow(clippy::cast_precision_loss)]
    pub fn variance(&self) -> f64 {
        if self.width == 0 { 0.0 } else { self.variance / self.width as f64 }
    }

    /// Changes signalled so far.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Reads many values; returns the positions (in `values`) of the values after which the
    /// window was cut. Checked first: a NaN or infinite value anywhere leaves the state
    /// unchanged.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the first non-finite value's position.
    pub fn update_many(&mut self, values: &[f64]) -> Result<Vec<usize>> {
        update_each(values, |x| self.update(x))
    }

    /// Reads one value; `true` when the window was cut (a change).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for NaN or an infinite value (the state is unchanged).
    pub fn update(&mut self, x: f64) -> Result<bool> {
        let x = finite(x)?;
        self.insert(x);
        self.seen += 1;
        self.since_check += 1;
        if self.since_check < self.config.clock || self.seen < self.config.grace_period {
            return Ok(false);
        }
        self.since_check = 0;
        let cut = self.cut();
        if cut {
            self.changes += 1;
        }
        Ok(cut)
    }

    /// Adds `x` as a bucket of one value, and merges the two oldest buckets of each row that
    /// overflows into one bucket of the next row.
    #[allow(clippy::cast_precision_loss)]
    fn insert(&mut self, x: f64) {
        // Welford: one division per value.
        let d = x - self.mean;
        self.width += 1;
        self.mean += d / self.width as f64;
        self.variance += d * (x - self.mean);
        self.total += x;
        if self.rows.is_empty() {
            self.rows.push(Vec::with_capacity(self.config.max_buckets + 1));
        }
        self.rows[0].push(Bucket { total: x, variance: 0.0 });
        let mut level = 0;
        while self.rows[level].len() > self.config.max_buckets {
            let row = &mut self.rows[level];
            let size = (1u64 << level) as f64;
            let merged = merge(row[0], row[1], size, size);
            row.drain(..2);
            if self.rows.len() == level + 1 {
                self.rows.push(Vec::with_capacity(self.config.max_buckets + 1));
            }
            self.rows[level + 1].push(merged);
            level += 1;
        }
    }

    /// Drops the oldest bucket while some split of the window shows a difference; whether
    /// anything was dropped.
    fn cut(&mut self) -> bool {
        let mut cut_any = false;
        while self.split_differs() {
            self.drop_oldest();
            cut_any = true;
        }
        cut_any
    }

    /// Whether a split at some bucket boundary (oldest buckets first) leaves two sub-windows
    /// whose means differ by more than the bound.
    #[allow(clippy::cast_precision_loss)]
    fn split_differs(&self) -> bool {
        let min = self.config.min_window_length;
        if self.width <= 2 * min {
            return false;
        }
        let n = self.width as f64;
        let delta_prime = (2.0 * n.ln() / self.config.delta).ln();
        let w = min as f64;
        let variance = self.variance / n;
        let (mut n0, mut total0) = (0u64, 0.0f64);
        // The oldest buckets are at the start of the highest rows.
        for (level, row) in self.rows.iter().enumerate().rev() {
            for b in row {
                n0 += 1u64 << level;
                total0 += b.total;
                let n1 = self.width - n0;
                if n1 < min {
                    return false;
                }
                if n0 < min {
                    continue;
                }
                let (f0, f1) = (n0 as f64, n1 as f64);
                let diff = (total0 / f0 - (self.total - total0) / f1).abs();
                let m_recip = 1.0 / (f0 - w + 1.0) + 1.0 / (f1 - w + 1.0);
                // |diff| > sqrt(2 m σ² δ') + (2/3) δ' m, without the square root.
                let excess = diff - 2.0 / 3.0 * delta_prime * m_recip;
                if excess > 0.0 && excess * excess > 2.0 * m_recip * variance * delta_prime {
                    return true;
                }
            }
        }
        false
    }

    /// Removes the oldest bucket from the window.
    #[allow(clippy::cast_precision_loss)]
    fn drop_oldest(&mut self) {
        let Some(level) = self.rows.iter().rposition(|r| !r.is_empty()) else { return };
        let b = self.rows[level].remove(0);
        let size = 1u64 << level;
        let (n, k) = (self.width as f64, size as f64);
        let rest = n - k;
        if rest > 0.0 {
            let mean_rest = (self.total - b.total) / rest;
            let mean_b = b.total / k;
            self.variance -= b.variance + k * rest / n * (mean_b - mean_rest).powi(2);
            self.variance = self.variance.max(0.0);
        } else {
            self.variance = 0.0;
        }
        self.width -= size;
        self.total -= b.total;
        self.mean = if self.width == 0 { 0.0 } else { self.total / self.width as f64 };
        while self.rows.last().is_some_and(Vec::is_empty) {
            self.rows.pop();
        }
    }
}

/// The bucket of the values of `a` (`na` of them) and `b` (`nb`).
fn merge(a: Bucket, b: Bucket, na: f64, nb: f64) -> Bucket {
    let diff = a.total / na - b.total / nb;
    Bucket {
        total: a.total + b.total,
        variance: a.variance + b.variance + na * nb / (na + nb) * diff * diff,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic uniform generator in [0, 1).
    fn uniform(seed: &mut u64) -> f64 {
        *seed =
            seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn page_hinkley_finds_an_increase_and_a_decrease_and_stays_quiet_without_one() {
        let mut seed = 7;
        let mut ph = PageHinkley::new(PageHinkleyConfig::default()).unwrap();
        // The threshold is in the data's units: noise of sd 0.03 stays far below 50.
        for _ in 0..20_000 {
            assert!(!ph.update(0.1 * uniform(&mut seed)).unwrap(), "no change in the mean");
        }
        let at = (0..5_000).position(|_| ph.update(0.1 * uniform(&mut seed) + 1.0).unwrap());
        assert!(at.is_some_and(|i| i < 200), "an increase of 1 is found fast: {at:?}");
        assert_eq!(ph.changes(), 1);
        assert_eq!(ph.len(), 0, "starts afresh");

        let down = PageHinkleyConfig { direction: Direction::Down, ..Default::default() };
        let mut ph = PageHinkley::new(down).unwrap();
        (0..1_000).for_each(|_| assert!(!ph.update(5.0 + uniform(&mut seed)).unwrap()));
        assert!((0..1_000).all(|_| !ph.update(9.0).unwrap()), "looks only for decreases");
        let mut ph = PageHinkley::new(down).unwrap();
        (0..1_000).for_each(|_| assert!(!ph.update(5.0 + uniform(&mut seed)).unwrap()));
        assert!((0..1_000).any(|_| ph.update(1.0).unwrap()));
    }

    #[test]
    fn adwin_tracks_the_mean_and_variance_of_its_window_exactly() {
        let mut adwin = Adwin::new(AdwinConfig::default()).unwrap();
        let mut seed = 3;
        let values: Vec<f64> = (0..10_000).map(|_| uniform(&mut seed)).collect();
        for &v in &values {
            adwin.update(v).unwrap();
        }
        assert_eq!(adwin.changes(), 0, "stationary data: no cut");
        assert_eq!(adwin.width(), 10_000);
        let mean = values.iter().sum::<f64>() / 1e4;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 1e4;
        assert!((adwin.mean() - mean).abs() < 1e-12);
        assert!((adwin.variance() - var).abs() < 1e-9);
        // O(M log n) buckets.
        let buckets: usize = adwin.rows.iter().map(Vec::len).sum();
        assert!(buckets <= (5 + 1) * 14, "{buckets} buckets");
    }

    #[test]
    fn adwin_cuts_after_a_shift_and_keeps_the_new_regime() {
        let mut adwin = Adwin::new(AdwinConfig::default()).unwrap();
        let mut seed = 11;
        for _ in 0..5_000 {
            adwin.update(uniform(&mut seed) * 0.2).unwrap(); // mean 0.1
        }
        let at = (0..5_000).position(|_| adwin.update(0.5 + uniform(&mut seed) * 0.2).unwrap());
        assert!(at.is_some_and(|i| i < 100), "a shift of 0.5 is found within 100 values: {at:?}");
        for _ in 0..2_000 {
            adwin.update(0.5 + uniform(&mut seed) * 0.2).unwrap();
        }
        assert!((adwin.mean() - 0.6).abs() < 0.02, "mean {}", adwin.mean());
    }

    #[test]
    fn detectors_refuse_non_finite_values_and_bad_settings() {
        let mut adwin = Adwin::new(AdwinConfig::default()).unwrap();
        adwin.update(1.0).unwrap();
        assert!(adwin.update(f64::NAN).is_err());
        assert_eq!(adwin.width(), 1, "state unchanged");
        let mut ph = PageHinkley::new(PageHinkleyConfig::default()).unwrap();
        assert!(ph.update(f64::INFINITY).is_err());
        assert!(ph.is_empty());
        assert!(Adwin::new(AdwinConfig { delta: 0.0, ..Default::default() }).is_err());
        assert!(PageHinkley::new(PageHinkleyConfig { alpha: 1.5, ..Default::default() }).is_err());
    }

    #[test]
    fn update_many_reports_positions_and_checks_everything_first() {
        let mut seed = 5;
        let values: Vec<f64> = (0..4000)
            .map(|i| uniform(&mut seed) * 0.2 + if i >= 2000 { 0.5 } else { 0.0 })
            .collect();
        let mut one = Adwin::new(AdwinConfig::default()).unwrap();
        let singles: Vec<usize> = values
            .iter()
            .enumerate()
            .filter(|(_, v)| one.update(**v).unwrap())
            .map(|(i, _)| i)
            .collect();
        let mut many = Adwin::new(AdwinConfig::default()).unwrap();
        assert_eq!(many.update_many(&values).unwrap(), singles);
        assert!(singles.first().is_some_and(|&i| (2000..2100).contains(&i)), "{singles:?}");
        assert_eq!(many, one);
        let before = many.clone();
        let err = many.update_many(&[1.0, f64::NAN]).unwrap_err();
        assert!(err.to_string().contains("position 1"), "{err}");
        assert_eq!(many, before, "nothing read from a bad batch");
        let mut ph = PageHinkley::new(PageHinkleyConfig::default()).unwrap();
        assert!(ph.update_many(&values[..2000]).unwrap().is_empty());
    }

    #[test]
    fn detectors_serialise_and_resume() {
        let mut adwin = Adwin::new(AdwinConfig::default()).unwrap();
        (0..1000).for_each(|i| {
            adwin.update(f64::from(i % 7)).unwrap();
        });
        let json = serde_json::to_string(&adwin).unwrap();
        let mut back: Adwin = serde_json::from_str(&json).unwrap();
        assert_eq!(back, adwin);
        assert_eq!(back.update(3.0).unwrap(), adwin.update(3.0).unwrap());
        assert_eq!(back, adwin);
    }
}

//! Distances between a reference (baseline) distribution and a current one: the population
//! stability index ([`PsiBaseline`], [`CategoricalPsiBaseline`], [`psi`]), the
//! Jensen–Shannon distance ([`jensen_shannon`], as `scipy.spatial.distance.jensenshannon`)
//! and the Wasserstein-1 distance ([`wasserstein`], [`wasserstein_weighted`], as
//! `scipy.stats.wasserstein_distance`; [`wasserstein_drift`] normalised by the reference
//! standard deviation).
//!
//! # Input conventions
//!
//! Samples are `f64` slices. NaN and ±∞ are refused with [`Error::InvalidInput`] naming the
//! sample and the index (`"current[17] is NaN"`); an empty sample is refused too. Nothing is
//! silently dropped.
//!
//! # PSI
//!
//! `PSI = Σᵢ (cᵢ − rᵢ) · ln(cᵢ / rᵢ)` over bins `i`, with `rᵢ` / `cᵢ` the reference / current
//! proportions of the bin. Every term is ≥ 0 (also in floating point), so `PSI ≥ 0`, with 0
//! for equal proportions. Common reading: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25
//! major shift.
//!
//! **Bins** (numeric data) come from the reference only, in [`PsiBaseline::fit`]:
//!
//! 1. cut points `qₖ = quantile(reference, k / B)` for `k = 1, …, B − 1` (`B` =
//!    [`PsiConfig::bins`], default 10), with numpy's default quantile method `"linear"`
//!    (Hyndman & Fan type 7): sort the `n` values `x₍₀₎ ≤ … ≤ x₍ₙ₋₁₎`, let
//!    `h = (n − 1) · p`, `j = ⌊h⌋`, `g = h − j`; then `q = x₍ⱼ₎ + g (x₍ⱼ₊₁₎ − x₍ⱼ₎)`, evaluated
//!    as numpy's `_lerp` does (`x₍ⱼ₊₁₎ − (1 − g)(x₍ⱼ₊₁₎ − x₍ⱼ₎)` when `g ≥ ½`), so the edges equal
//!    `np.quantile(reference, np.arange(1, B) / B)` bit for bit;
//! 2. ties: the cut points are sorted and deduplicated (`np.unique`), and a cut point equal to
//!    the reference maximum is dropped (it would leave the last bin empty in the reference);
//!    so a constant reference has **one bin** and PSI 0 against anything — PSI cannot see a
//!    change of a constant feature; use [`wasserstein_drift`] for that;
//! 3. the `E` remaining edges `e₁ < … < e_E` make `E + 1` bins, right-closed and open-ended:
//!    `(−∞, e₁], (e₁, e₂], …, (e_E, +∞)`; a value `x` goes to bin `#{k : eₖ < x}`
//!    (`np.searchsorted(edges, x, side="left")`). Current values outside the reference range
//!    fall into the first or last bin.
//!
//! **Epsilon** ([`PsiConfig::epsilon`], default `10⁻⁴`): a bin with **zero count** in a sample
//! gets the proportion `ε` in that sample instead of 0, for the reference and the current
//! sample alike, and only for empty bins (a non-empty bin keeps `count / n` even if smaller
//! than `ε`); the proportions are not renormalised afterwards. A bin empty in both samples
//! then contributes `(ε − ε) ln 1 = 0`.
//!
//! **Categorical data** ([`CategoricalPsiBaseline`]): the bins are the categories of the union
//! of both samples (ascending); a category unseen in the reference gets `rᵢ = ε` and is
//! reported in [`CategoricalPsi::new_categories`]; categories with count 0 in both are
//! dropped (they would contribute 0).
//!
//! # Jensen–Shannon distance
//!
//! For histograms `p` and `q` (any non-negative weights; each normalised to sum 1),
//! `m = (p + q) / 2` and `JS(p, q) = √((D(p‖m) + D(q‖m)) / 2)` with
//! `D(p‖m) = Σᵢ pᵢ ln(pᵢ / mᵢ)` (`0 ln 0 = 0`), divided by `ln b` inside the root for base
//! `b`. Natural base: `0 ≤ JS ≤ √(ln 2)`; base 2: `0 ≤ JS ≤ 1`. Symmetric; a metric.
//!
//! # Wasserstein-1
//!
//! `W₁(u, v) = ∫ |F_u(x) − F_v(x)| dx`, with `F` the empirical CDFs (with weights:
//! `F_u(x) = Σ_{uᵢ ≤ x} wᵢ / Σ wᵢ`), computed exactly as a sum over the merged sorted values:
//! `Σₖ |F_u(zₖ) − F_v(zₖ)| (zₖ₊₁ − zₖ)`. Symmetric, translation-equivariant
//! (`W₁(u + c, v + c) = W₁(u, v)`), in the unit of the data, 0 for identical samples (so for
//! two equal constant columns). [`wasserstein_drift`] also divides by the population standard
//! deviation of the reference (`ddof = 0`, as `np.std`), which makes it unit-free; a constant
//! reference has no scale, and then the normalised value is `None` (never NaN or ∞).
//! Cost: sorting copies of both samples, `O((n + m) log(n + m))`.
//!
//! Sums here use Neumaier compensation where numpy sums pairwise; on the fixtures the results
//! agree with scipy to about 10⁻¹⁵ relative.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::chi2::tally;
use super::special::compensated_sum;
use crate::error::{Error, Result};

/// Refuses an empty sample and NaN or infinite values, naming the sample and the index.
fn check_sample(name: &str, values: &[f64]) -> Result<()> {
    if values.is_empty() {
        return Err(Error::invalid_input(format!("{name} sample is empty")));
    }
    check_finite(name, values)
}

fn check_finite(name: &str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => {
            let what = if values[i].is_nan() { "NaN" } else { "infinite" };
            Err(Error::invalid_input(format!("{name}[{i}] is {what}")))
        }
    }
}

fn check_epsilon(epsilon: f64) -> Result<()> {
    if epsilon > 0.0 && epsilon < 1.0 {
        Ok(())
    } else {
        Err(Error::invalid_input(format!("PSI epsilon must be in (0, 1), got {epsilon}")))
    }
}

/// Counts raw categorical values: `(category, count)` pairs in ascending order of category,
/// ready for [`CategoricalPsiBaseline::fit`] and [`super::chi2::categorical`].
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::distance::category_counts;
/// assert_eq!(category_counts(["b", "a", "b"]), [("a", 1), ("b", 2)]);
/// ```
pub fn category_counts<K: Ord>(values: impl IntoIterator<Item = K>) -> Vec<(K, u64)> {
    let mut map: BTreeMap<K, u64> = BTreeMap::new();
    for v in values {
        *map.entry(v).or_insert(0) += 1;
    }
    map.into_iter().collect()
}

/// Parameters of the PSI: number of quantile bins and the empty-bin proportion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PsiConfig {
    /// Number of quantile bins requested, `1 ≤ B ≤` [`PsiConfig::MAX_BINS`] (ties in the
    /// reference may leave fewer).
    pub bins: usize,
    /// Proportion given to a bin with zero count, `0 < ε < 1`.
    pub epsilon: f64,
}

impl PsiConfig {
    /// Default number of bins: 10 (deciles).
    pub const DEFAULT_BINS: usize = 10;
    /// Default empty-bin proportion: `10⁻⁴`.
    pub const DEFAULT_EPSILON: f64 = 1e-4;

    /// Largest number of bins accepted.
    pub const MAX_BINS: usize = 10_000;

    /// Checks the bin count and epsilon.
    pub(crate) fn check(&self) -> Result<()> {
        if self.bins == 0 || self.bins > Self::MAX_BINS {
            return Err(Error::invalid_input(format!(
                "PSI bins must be in 1..={}, got {}",
                Self::MAX_BINS,
                self.bins
            )));
        }
        check_epsilon(self.epsilon)
    }
}

impl Default for PsiConfig {
    fn default() -> Self {
        PsiConfig { bins: Self::DEFAULT_BINS, epsilon: Self::DEFAULT_EPSILON }
    }
}

/// The PSI of a current sample against a baseline, bin by bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Psi {
    /// `Σᵢ (cᵢ − rᵢ) ln(cᵢ / rᵢ)`.
    pub value: f64,
    /// Reference proportion `rᵢ` of each bin, `ε` for an empty bin.
    pub reference: Vec<f64>,
    /// Current proportion `cᵢ` of each bin, `ε` for an empty bin.
    pub current: Vec<f64>,
    /// Current count of each bin.
    pub current_counts: Vec<u64>,
    /// `(cᵢ − rᵢ) ln(cᵢ / rᵢ)` of each bin (each ≥ 0).
    pub contributions: Vec<f64>,
}

/// Proportions with the empty-bin rule: `count / total`, or `ε` for a zero count.
fn proportions(counts: &[u64], total: u64, epsilon: f64) -> Vec<f64> {
    counts.iter().map(|&c| if c == 0 { epsilon } else { c as f64 / total as f64 }).collect()
}

/// `(cᵢ − rᵢ) ln(cᵢ / rᵢ)` per bin and their sum.
fn psi_terms(reference: &[f64], current: &[f64]) -> (f64, Vec<f64>) {
    let contributions: Vec<f64> =
        reference.iter().zip(current).map(|(&r, &c)| (c - r) * (c / r).ln()).collect();
    (compensated_sum(contributions.iter().copied()), contributions)
}

/// Quantile of sorted, non-empty data with numpy's `"linear"` method, bit for bit.
pub(crate) fn quantile_linear(sorted: &[f64], p: f64) -> f64 {
    let last = sorted.len() - 1;
    let h = last as f64 * p;
    if h >= last as f64 {
        return sorted[last];
    }
    let j = h.floor() as usize;
    let g = h - j as f64;
    let (a, b) = (sorted[j], sorted[j + 1]);
    let diff = b - a;
    if g >= 0.5 { b - diff * (1.0 - g) } else { a + diff * g }
}

/// A numeric PSI baseline: the quantile bin edges of a reference sample and its count per
/// bin, reusable against any number of current samples, and storable (serde, camelCase;
/// reading one back checks its consistency).
///
/// See the module documentation for the binning and the epsilon rule.
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::distance::{PsiBaseline, PsiConfig};
///
/// let reference: Vec<f64> = (0..1000).map(f64::from).collect();
/// let baseline = PsiBaseline::fit(&reference, PsiConfig::default())?;
/// assert_eq!(baseline.edges().len(), 9); // deciles
/// assert_eq!(baseline.edges()[0], 99.9); // np.quantile(range(1000), 0.1)
/// assert_eq!(baseline.psi(&reference)?.value, 0.0);
/// let shifted: Vec<f64> = reference.iter().map(|x| x + 300.0).collect();
/// assert!(baseline.psi(&shifted)?.value > 0.25);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawPsiBaseline", into = "RawPsiBaseline")]
pub struct PsiBaseline {
    edges: Vec<f64>,
    counts: Vec<u64>,
    total: u64,
    epsilon: f64,
}

/// Serialised form of [`PsiBaseline`], checked when read back.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPsiBaseline {
    edges: Vec<f64>,
    counts: Vec<u64>,
    epsilon: f64,
}

impl From<PsiBaseline> for RawPsiBaseline {
    fn from(b: PsiBaseline) -> Self {
        RawPsiBaseline { edges: b.edges, counts: b.counts, epsilon: b.epsilon }
    }
}

impl TryFrom<RawPsiBaseline> for PsiBaseline {
    type Error = Error;

    fn try_from(r: RawPsiBaseline) -> Result<Self> {
        check_epsilon(r.epsilon)?;
        let corrupt =
            |what: &str| Error::Integrity { message: format!("corrupt PSI baseline: {what}") };
        if r.edges.iter().any(|e| !e.is_finite()) || r.edges.windows(2).any(|w| w[0] >= w[1]) {
            return Err(corrupt("edges are not finite and strictly increasing"));
        }
        if r.counts.len() != r.edges.len() + 1 {
            return Err(corrupt("the number of counts is not the number of edges plus one"));
        }
        let total = r.counts.iter().try_fold(0u64, |acc, &c| acc.checked_add(c));
        match total {
            Some(total) if total > 0 => {
                Ok(PsiBaseline { edges: r.edges, counts: r.counts, total, epsilon: r.epsilon })
            }
            _ => Err(corrupt("counts are zero or overflow")),
        }
    }
}

impl PsiBaseline {
    /// Bins a reference sample by its quantiles (see the module documentation).
    ///
    /// Sorts a copy of the sample unless it is sorted already: `O(n log n)`, `O(n)` for a
    /// sorted sample (no copy then).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if the sample is empty or holds NaN or ±∞, `bins` is 0 or above
    /// [`PsiConfig::MAX_BINS`], or `epsilon` is not in `(0, 1)`.
    pub fn fit(reference: &[f64], config: PsiConfig) -> Result<Self> {
        config.check()?;
        check_sample("reference", reference)?;
        if reference.is_sorted_by(|a, b| a <= b) {
            return Ok(Self::fit_sorted(reference, config));
        }
        let mut sorted = reference.to_vec();
        super::ks::sort_finite(&mut sorted);
        Ok(Self::fit_sorted(&sorted, config))
    }

    fn fit_sorted(sorted: &[f64], config: PsiConfig) -> Self {
        let n = sorted.len();
        let max = sorted[n - 1];
        let bins = config.bins as f64;
        let mut edges: Vec<f64> =
            (1..config.bins).map(|k| quantile_linear(sorted, k as f64 / bins)).collect();
        edges.sort_unstable_by(f64::total_cmp);
        edges.dedup();
        edges.retain(|&e| e < max);
        let mut counts = Vec::with_capacity(edges.len() + 1);
        let mut below = 0;
        for &e in &edges {
            let upto = sorted.partition_point(|&v| v <= e);
            counts.push((upto - below) as u64);
            below = upto;
        }
        counts.push((n - below) as u64);
        PsiBaseline { edges, counts, total: n as u64, epsilon: config.epsilon }
    }

    /// Interior bin edges `e₁ < … < e_E` (empty for a single bin).
    pub fn edges(&self) -> &[f64] {
        &self.edges
    }

    /// Reference count of each of the `E + 1` bins.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Size of the reference sample.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The empty-bin proportion `ε`.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// Reference proportion of each bin, `count / total`, or `ε` for an empty bin (the `rᵢ`
    /// of the PSI).
    pub fn proportions(&self) -> Vec<f64> {
        proportions(&self.counts, self.total, self.epsilon)
    }

    /// The bin of a value: `#{k : eₖ < x}`, so bin `i` is `(eᵢ, eᵢ₊₁]`.
    pub fn bin_of(&self, x: f64) -> usize {
        self.edges.partition_point(|&e| e < x)
    }

    /// Counts a current sample in the baseline's bins, refusing NaN and ±∞.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if the sample holds NaN or ±∞ (naming `current` and the index).
    pub fn bin_counts(&self, current: &[f64]) -> Result<Vec<u64>> {
        check_finite("current", current)?;
        let mut counts = vec![0u64; self.counts.len()];
        for &x in current {
            counts[self.bin_of(x)] += 1;
        }
        Ok(counts)
    }

    /// Counts a sample already sorted ascending (without NaN) in the baseline's bins: one
    /// binary search per edge, `O(E log m)` — the same counts as [`PsiBaseline::bin_counts`].
    pub fn bin_counts_sorted(&self, sorted: &[f64]) -> Vec<u64> {
        let mut counts = Vec::with_capacity(self.counts.len());
        let mut below = 0;
        for &e in &self.edges {
            // Bin i is (e_i, e_(i+1)]: values <= e are in this bin or an earlier one.
            let upto = sorted.partition_point(|&v| v <= e);
            counts.push((upto - below) as u64);
            below = upto;
        }
        counts.push((sorted.len() - below) as u64);
        counts
    }

    /// PSI of a current sample against this baseline. `O(m log E)` for `m` values.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if the sample is empty or holds NaN or ±∞.
    pub fn psi(&self, current: &[f64]) -> Result<Psi> {
        check_sample("current", current)?;
        self.psi_of_counts(self.bin_counts(current)?)
    }

    /// PSI of a current sample already counted in this baseline's bins
    /// ([`PsiBaseline::bin_counts`]), so a caller that needs the counts too bins once.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if there is not one count per bin or the counts add up to 0.
    pub fn psi_of_counts(&self, current_counts: Vec<u64>) -> Result<Psi> {
        if current_counts.len() != self.counts.len() {
            return Err(Error::invalid_input(format!(
                "{} current counts for {} bins",
                current_counts.len(),
                self.counts.len()
            )));
        }
        let total: u64 = current_counts.iter().sum();
        if total == 0 {
            return Err(Error::invalid_input("current sample is empty"));
        }
        let reference = self.proportions();
        let current = proportions(&current_counts, total, self.epsilon);
        let (value, contributions) = psi_terms(&reference, &current);
        Ok(Psi { value, reference, current, current_counts, contributions })
    }
}

/// One-shot PSI: [`PsiBaseline::fit`] on the reference, then [`PsiBaseline::psi`].
///
/// # Errors
///
/// As those two.
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::distance::{psi, PsiConfig};
/// let reference = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
/// let current = [5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0];
/// let p = psi(&reference, &current, PsiConfig { bins: 4, epsilon: 1e-4 })?;
/// // edges 2.75, 4.5, 6.25: reference ¼ per bin, current 0, 0, ¼, ¾
/// assert_eq!(p.current, [1e-4, 1e-4, 0.25, 0.75]);
/// let want = 2.0 * (1e-4 - 0.25) * (1e-4f64 / 0.25).ln() + 0.5 * 3f64.ln();
/// assert!((p.value - want).abs() < 1e-12);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn psi(reference: &[f64], current: &[f64], config: PsiConfig) -> Result<Psi> {
    PsiBaseline::fit(reference, config)?.psi(current)
}

/// The PSI of a current categorical sample against a [`CategoricalPsiBaseline`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoricalPsi<K> {
    /// `Σᵢ (cᵢ − rᵢ) ln(cᵢ / rᵢ)` over `categories`.
    pub value: f64,
    /// Union of the categories counted in either sample, ascending.
    pub categories: Vec<K>,
    /// Reference proportion of each category, `ε` if unseen in the reference.
    pub reference: Vec<f64>,
    /// Current proportion of each category, `ε` if absent now.
    pub current: Vec<f64>,
    /// `(cᵢ − rᵢ) ln(cᵢ / rᵢ)` per category.
    pub contributions: Vec<f64>,
    /// Categories counted now but not in the reference (ascending).
    pub new_categories: Vec<K>,
}

/// A categorical PSI baseline: the categories of a reference sample (ascending, counts > 0)
/// with their counts; storable (serde, camelCase; checked when read back).
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::distance::CategoricalPsiBaseline;
/// let baseline = CategoricalPsiBaseline::fit([("a", 60), ("b", 40)], 1e-4)?;
/// let p = baseline.psi([("a", 50), ("b", 40), ("c", 10)])?;
/// assert_eq!(p.categories, ["a", "b", "c"]);
/// assert_eq!(p.new_categories, ["c"]);
/// assert_eq!(p.reference, [0.6, 0.4, 1e-4]);
/// assert_eq!(p.current, [0.5, 0.4, 0.1]);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    try_from = "RawCategoricalBaseline<K>",
    into = "RawCategoricalBaseline<K>",
    bound(serialize = "K: Serialize + Clone", deserialize = "K: Deserialize<'de> + Ord")
)]
pub struct CategoricalPsiBaseline<K> {
    categories: Vec<K>,
    counts: Vec<u64>,
    total: u64,
    epsilon: f64,
}

/// Serialised form of [`CategoricalPsiBaseline`], checked when read back.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCategoricalBaseline<K> {
    categories: Vec<K>,
    counts: Vec<u64>,
    epsilon: f64,
}

impl<K> From<CategoricalPsiBaseline<K>> for RawCategoricalBaseline<K> {
    fn from(b: CategoricalPsiBaseline<K>) -> Self {
        RawCategoricalBaseline { categories: b.categories, counts: b.counts, epsilon: b.epsilon }
    }
}

impl<K: Ord> TryFrom<RawCategoricalBaseline<K>> for CategoricalPsiBaseline<K> {
    type Error = Error;

    fn try_from(r: RawCategoricalBaseline<K>) -> Result<Self> {
        check_epsilon(r.epsilon)?;
        let corrupt = |what: &str| Error::Integrity {
            message: format!("corrupt categorical PSI baseline: {what}"),
        };
        if r.categories.len() != r.counts.len() {
            return Err(corrupt("not one count per category"));
        }
        if r.categories.windows(2).any(|w| w[0] >= w[1]) {
            return Err(corrupt("categories are not strictly ascending"));
        }
        if r.counts.contains(&0) {
            return Err(corrupt("a category has count 0"));
        }
        match r.counts.iter().try_fold(0u64, |acc, &c| acc.checked_add(c)) {
            Some(total) if total > 0 => Ok(CategoricalPsiBaseline {
                categories: r.categories,
                counts: r.counts,
                total,
                epsilon: r.epsilon,
            }),
            _ => Err(corrupt("counts are zero or overflow")),
        }
    }
}

impl<K: Ord + Clone> CategoricalPsiBaseline<K> {
    /// A baseline from reference `(category, count)` pairs in any order (repeated categories
    /// add up; zero counts are dropped) and the empty-bin proportion `epsilon`
    /// ([`PsiConfig::DEFAULT_EPSILON`] is the usual choice).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if the reference has no counts, a category's counts overflow,
    /// or `epsilon` is not in `(0, 1)`.
    pub fn fit(reference: impl IntoIterator<Item = (K, u64)>, epsilon: f64) -> Result<Self> {
        check_epsilon(epsilon)?;
        let map = tally(reference, "reference")?;
        let (categories, counts): (Vec<K>, Vec<u64>) =
            map.into_iter().filter(|&(_, c)| c > 0).unzip();
        let total = counts
            .iter()
            .try_fold(0u64, |acc, &c| acc.checked_add(c))
            .ok_or_else(|| Error::invalid_input("reference counts overflow u64"))?;
        if total == 0 {
            return Err(Error::invalid_input("categorical PSI: the reference has no counts"));
        }
        Ok(CategoricalPsiBaseline { categories, counts, total, epsilon })
    }

    /// The reference categories, ascending.
    pub fn categories(&self) -> &[K] {
        &self.categories
    }

    /// Reference count of each category.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Size of the reference sample.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The empty-bin proportion `ε`.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// PSI of current `(category, count)` pairs (any order, repeats add up) against this
    /// baseline, over the union of categories.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if the current sample has no counts or a category's counts
    /// overflow.
    pub fn psi(&self, current: impl IntoIterator<Item = (K, u64)>) -> Result<CategoricalPsi<K>> {
        let current = tally(current, "current")?;
        let current_total = current
            .values()
            .try_fold(0u64, |acc, &c| acc.checked_add(c))
            .ok_or_else(|| Error::invalid_input("current counts overflow u64"))?;
        if current_total == 0 {
            return Err(Error::invalid_input("categorical PSI: the current sample has no counts"));
        }
        let mut merged: BTreeMap<K, (u64, u64)> =
            self.categories.iter().cloned().zip(self.counts.iter().map(|&c| (c, 0))).collect();
        for (k, c) in current {
            if c > 0 {
                merged.entry(k).or_default().1 = c;
            }
        }
        let mut out = CategoricalPsi {
            value: 0.0,
            categories: Vec::with_capacity(merged.len()),
            reference: Vec::with_capacity(merged.len()),
            current: Vec::with_capacity(merged.len()),
            contributions: Vec::new(),
            new_categories: Vec::new(),
        };
        let (mut ref_counts, mut cur_counts) = (Vec::new(), Vec::new());
        for (k, (r, c)) in merged {
            if r == 0 {
                out.new_categories.push(k.clone());
            }
            out.categories.push(k);
            ref_counts.push(r);
            cur_counts.push(c);
        }
        out.reference = proportions(&ref_counts, self.total, self.epsilon);
        out.current = proportions(&cur_counts, current_total, self.epsilon);
        (out.value, out.contributions) = psi_terms(&out.reference, &out.current);
        Ok(out)
    }
}

/// Jensen–Shannon distance between two histograms, as
/// `scipy.spatial.distance.jensenshannon(p, q, base)`: `p` and `q` are normalised to sum 1,
/// and `JS = √((D(p‖m) + D(q‖m)) / (2 ln b))` with `m = (p + q)/2` (see the module
/// documentation). `base = None` is the natural logarithm (`JS ≤ √(ln 2)`); `Some(2.0)` gives
/// bits (`JS ≤ 1`).
///
/// A rounding residue below 0 (possible for nearly equal histograms, where scipy would
/// return NaN) is clamped to 0.
///
/// # Errors
///
/// [`Error::InvalidInput`] if `p` or `q` is empty, their lengths differ, an entry is NaN,
/// infinite or negative, a histogram sums to 0, or `base` is not finite and `> 1` (scipy
/// returns NaN for a base below 1, whose logarithm is negative).
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::distance::jensen_shannon;
/// // scipy's docstring example
/// let d = jensen_shannon(&[1.0, 0.0, 0.0], &[0.0, 1.0, 0.0], Some(2.0))?;
/// assert!((d - 1.0).abs() < 1e-15);
/// let d = jensen_shannon(&[1.0, 0.0], &[0.5, 0.5], None)?;
/// assert!((d - 0.46450140402245893).abs() < 1e-15);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn jensen_shannon(p: &[f64], q: &[f64], base: Option<f64>) -> Result<f64> {
    let p = normalised("p", p)?;
    let q = normalised("q", q)?;
    if p.len() != q.len() {
        return Err(Error::invalid_input(format!(
            "jensen_shannon: p has {} entries, q has {}",
            p.len(),
            q.len()
        )));
    }
    let ln_base = match base {
        None => 1.0,
        Some(b) if b.is_finite() && b > 1.0 => b.ln(),
        Some(b) => {
            return Err(Error::invalid_input(format!(
                "jensen_shannon: base must be finite and > 1, got {b}"
            )));
        }
    };
    let m: Vec<f64> = p.iter().zip(&q).map(|(&a, &b)| (a + b) / 2.0).collect();
    let left = compensated_sum(p.iter().zip(&m).map(|(&a, &mi)| rel_entr(a, mi)));
    let right = compensated_sum(q.iter().zip(&m).map(|(&b, &mi)| rel_entr(b, mi)));
    let mut js = left + right;
    if base.is_some() {
        js /= ln_base;
    }
    Ok((js / 2.0).max(0.0).sqrt())
}

/// scipy's `rel_entr(x, y)` for `x ≥ 0`, `y > 0` wherever `x > 0`: `x ln(x / y)`, `0` at `x = 0`.
fn rel_entr(x: f64, y: f64) -> f64 {
    if x > 0.0 { x * (x / y).ln() } else { 0.0 }
}

/// Checks a histogram and divides it by its sum.
fn normalised(name: &str, values: &[f64]) -> Result<Vec<f64>> {
    check_sample(name, values)?;
    if let Some(i) = values.iter().position(|&v| v < 0.0) {
        return Err(Error::invalid_input(format!("{name}[{i}] is negative ({})", values[i])));
    }
    let sum = compensated_sum(values.iter().copied());
    if sum <= 0.0 || !sum.is_finite() {
        return Err(Error::invalid_input(format!("{name} must have a positive, finite sum")));
    }
    Ok(values.iter().map(|&v| v / sum).collect())
}

/// A sorted sample with its cumulative weights (`None`: unweighted).
struct Cdf {
    values: Vec<f64>,
    /// `cumulative[k]` = weight of the first `k` sorted values; `cumulative[n]` = total.
    cumulative: Option<Vec<f64>>,
}

impl Cdf {
    fn unweighted(values: &[f64]) -> Self {
        let mut values = values.to_vec();
        super::ks::sort_finite(&mut values);
        Cdf { values, cumulative: None }
    }

    fn weighted(values: &[f64], weights: &[f64]) -> Self {
        let mut pairs: Vec<(f64, f64)> =
            values.iter().copied().zip(weights.iter().copied()).collect();
        pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut cumulative = Vec::with_capacity(pairs.len() + 1);
        let mut acc = 0.0;
        cumulative.push(acc);
        for &(_, w) in &pairs {
            acc += w;
            cumulative.push(acc);
        }
        Cdf { values: pairs.into_iter().map(|(v, _)| v).collect(), cumulative: Some(cumulative) }
    }

    /// `F(x)` given `k` = the number of values `≤ x`.
    fn at(&self, k: usize) -> f64 {
        match &self.cumulative {
            None => k as f64 / self.values.len() as f64,
            Some(c) => c[k] / c[c.len() - 1],
        }
    }
}

/// `Σₖ |F_u(zₖ) − F_v(zₖ)| (zₖ₊₁ − zₖ)` over the merged sorted values.
fn cdf_l1(u: &Cdf, v: &Cdf) -> f64 {
    cdf_l1_by(&u.values, &v.values, |i| u.at(i), |j| v.at(j))
}

/// [`cdf_l1`] of sorted values `a`, `b` with `F_a(x) = fa(#{aᵢ ≤ x})`, `F_b` likewise;
/// compensated (Neumaier) sum.
fn cdf_l1_by(a: &[f64], b: &[f64], fa: impl Fn(usize) -> f64, fb: impl Fn(usize) -> f64) -> f64 {
    let next = |i: usize, j: usize| match (a.get(i), b.get(j)) {
        (Some(&x), Some(&y)) => Some(x.min(y)),
        (Some(&x), None) => Some(x),
        (None, Some(&y)) => Some(y),
        (None, None) => None,
    };
    let (mut i, mut j) = (0, 0);
    let mut sum = 0.0f64;
    let mut compensation = 0.0f64;
    let Some(mut x) = next(0, 0) else { return 0.0 };
    loop {
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        let Some(z) = next(i, j) else { break };
        let term = (fa(i) - fb(j)).abs() * (z - x);
        let t = sum + term;
        compensation += if sum >= term { (sum - t) + term } else { (term - t) + sum };
        sum = t;
        x = z;
    }
    sum + compensation
}

/// Wasserstein-1 distance between two samples, as `scipy.stats.wasserstein_distance(u, v)`:
/// `∫ |F_u − F_v|`, exact for the empirical CDFs (see the module documentation).
/// `O((n + m) log(n + m))`.
///
/// # Errors
///
/// [`Error::InvalidInput`] if a sample is empty or holds NaN or ±∞ (naming `u` or `v` and the
/// index).
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::distance::wasserstein;
/// assert_eq!(wasserstein(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0])?, 5.0);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn wasserstein(u: &[f64], v: &[f64]) -> Result<f64> {
    check_sample("u", u)?;
    check_sample("v", v)?;
    Ok(cdf_l1(&Cdf::unweighted(u), &Cdf::unweighted(v)))
}

/// Checks weights: one per value, finite, non-negative, with a positive sum.
fn check_weights(name: &str, weights: &[f64], values: usize) -> Result<()> {
    if weights.len() != values {
        return Err(Error::invalid_input(format!(
            "{name} has {} weights for {values} values",
            weights.len()
        )));
    }
    check_finite(name, weights)?;
    if let Some(i) = weights.iter().position(|&w| w < 0.0) {
        return Err(Error::invalid_input(format!("{name}[{i}] is negative ({})", weights[i])));
    }
    let sum = compensated_sum(weights.iter().copied());
    if !(sum > 0.0 && sum.is_finite()) {
        return Err(Error::invalid_input(format!("{name} must have a positive, finite sum")));
    }
    Ok(())
}

/// Weighted Wasserstein-1 distance, as
/// `scipy.stats.wasserstein_distance(u, v, u_weights, v_weights)`: each sample's CDF is
/// `F(x) = Σ_{xᵢ ≤ x} wᵢ / Σ wᵢ` (weights need not sum to 1).
///
/// # Errors
///
/// As [`wasserstein`], and [`Error::InvalidInput`] if a weight slice has a different length
/// than its values, holds NaN, ±∞ or a negative weight, or sums to 0.
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::distance::wasserstein_weighted;
/// let d = wasserstein_weighted(&[0.0, 1.0], &[3.0, 1.0], &[0.0, 1.0], &[2.0, 2.0])?;
/// assert!((d - 0.25).abs() < 1e-15);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn wasserstein_weighted(
    u: &[f64],
    u_weights: &[f64],
    v: &[f64],
    v_weights: &[f64],
) -> Result<f64> {
    check_sample("u", u)?;
    check_sample("v", v)?;
    check_weights("u_weights", u_weights, u.len())?;
    check_weights("v_weights", v_weights, v.len())?;
    Ok(cdf_l1(&Cdf::weighted(u, u_weights), &Cdf::weighted(v, v_weights)))
}

/// Wasserstein-1 drift of a current sample from a reference, raw and normalised.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WassersteinDrift {
    /// `W₁(reference, current)`, in the unit of the data.
    pub distance: f64,
    /// Population standard deviation of the reference, `√(Σ (xᵢ − x̄)² / n)` (`ddof = 0`, as
    /// `np.std`).
    pub reference_std: f64,
    /// `distance / reference_std`; `None` when the reference is constant (`reference_std =
    /// 0`), where no scale exists — then `distance` alone says whether anything moved.
    pub normalized: Option<f64>,
}

/// [`wasserstein`] between a reference and a current sample, plus the distance in units of the
/// reference standard deviation (see [`WassersteinDrift`]).
///
/// # Errors
///
/// [`Error::InvalidInput`] if a sample is empty or holds NaN or ±∞ (naming `reference` or
/// `current` and the index).
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::distance::wasserstein_drift;
/// let d = wasserstein_drift(&[1.0, 3.0], &[2.0, 4.0])?; // shift by 1, std 1
/// assert_eq!((d.distance, d.reference_std, d.normalized), (1.0, 1.0, Some(1.0)));
/// let constant = wasserstein_drift(&[5.0, 5.0], &[5.0, 7.0])?;
/// assert_eq!((constant.distance, constant.normalized), (1.0, None));
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn wasserstein_drift(reference: &[f64], current: &[f64]) -> Result<WassersteinDrift> {
    check_sample("reference", reference)?;
    check_sample("current", current)?;
    let distance = cdf_l1(&Cdf::unweighted(reference), &Cdf::unweighted(current));
    let n = reference.len() as f64;
    let mean = compensated_sum(reference.iter().copied()) / n;
    let variance = compensated_sum(reference.iter().map(|&x| (x - mean) * (x - mean))) / n;
    let reference_std = variance.sqrt();
    let normalized = (reference_std > 0.0).then(|| distance / reference_std);
    Ok(WassersteinDrift { distance, reference_std, normalized })
}

/// [`wasserstein_drift`] of samples already sorted ascending (checked, `O(n + m)`), with
/// the reference's population standard deviation given (a baseline keeps it): no copy, no
/// sort.
///
/// # Errors
///
/// [`Error::InvalidInput`] if a sample is empty, holds NaN or ±∞, or is not sorted, or
/// `reference_std` is negative or not finite.
pub fn wasserstein_drift_sorted(
    reference: &[f64],
    current: &[f64],
    reference_std: f64,
) -> Result<WassersteinDrift> {
    for (name, values) in [("reference", reference), ("current", current)] {
        check_sample(name, values)?;
        if let Some(i) = values.windows(2).position(|w| w[1] < w[0]) {
            return Err(Error::invalid_input(format!(
                "{name} is not sorted ascending at index {}",
                i + 1
            )));
        }
    }
    if !(reference_std.is_finite() && reference_std >= 0.0) {
        return Err(Error::invalid_input(format!(
            "reference_std must be finite and >= 0, got {reference_std}"
        )));
    }
    let distance = cdf_l1_sorted(reference, current);
    let normalized = (reference_std > 0.0).then(|| distance / reference_std);
    Ok(WassersteinDrift { distance, reference_std, normalized })
}

/// [`cdf_l1`] of two unweighted sorted samples, borrowed.
#[allow(clippy::cast_precision_loss)]
fn cdf_l1_sorted(a: &[f64], b: &[f64]) -> f64 {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    cdf_l1_by(a, b, |i| i as f64 / na, |j| j as f64 / nb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn the_sorted_wasserstein_equals_the_copying_one() {
        let r: Vec<f64> = (0..500).map(|i| f64::from(i % 37) * 0.5).collect();
        let c: Vec<f64> = (0..300).map(|i| f64::from(i % 23) + 3.0).collect();
        let want = wasserstein_drift(&r, &c).unwrap();
        let (mut rs, mut cs) = (r.clone(), c.clone());
        rs.sort_unstable_by(f64::total_cmp);
        cs.sort_unstable_by(f64::total_cmp);
        let got = wasserstein_drift_sorted(&rs, &cs, want.reference_std).unwrap();
        assert!((got.distance - want.distance).abs() <= 1e-12 * want.distance);
        assert_eq!(got.normalized.is_some(), want.normalized.is_some());
        let e = wasserstein_drift_sorted(&r, &cs, 1.0).unwrap_err();
        assert!(e.to_string().contains("not sorted"), "{e}");
        assert!(wasserstein_drift_sorted(&rs, &cs, f64::NAN).is_err());
    }

    #[test]
    fn sorted_bin_counts_equal_the_per_value_ones() {
        let r: Vec<f64> = (0..1000).map(|i| f64::from(i % 97)).collect();
        let b = PsiBaseline::fit(&r, PsiConfig::default()).unwrap();
        let mut c: Vec<f64> = (0..777).map(|i| f64::from(i % 131) - 10.0).collect();
        c.sort_unstable_by(f64::total_cmp);
        assert_eq!(b.bin_counts_sorted(&c), b.bin_counts(&c).unwrap());
    }

    #[test]
    fn psi_of_counts_equals_psi() {
        let r: Vec<f64> = (0..1000).map(f64::from).collect();
        let c: Vec<f64> = (300..900).map(f64::from).collect();
        let b = PsiBaseline::fit(&r, PsiConfig::default()).unwrap();
        assert_eq!(b.psi_of_counts(b.bin_counts(&c).unwrap()).unwrap(), b.psi(&c).unwrap());
        assert!(b.psi_of_counts(vec![0; 10]).is_err());
        assert!(b.psi_of_counts(vec![1; 3]).is_err());
    }

    #[test]
    fn quantiles_equal_numpy_linear() {
        let sorted: Vec<f64> = (0..1000).map(f64::from).collect();
        // np.quantile(np.arange(1000), [0.1, 0.3, 0.7]) = [99.9, 299.7, 699.3]
        assert_eq!(quantile_linear(&sorted, 0.1), 99.9);
        assert_eq!(quantile_linear(&sorted, 0.3), 299.7);
        assert_eq!(quantile_linear(&sorted, 0.7), 699.3);
        assert_eq!(quantile_linear(&[4.0], 0.5), 4.0);
    }

    #[test]
    fn ties_and_constant_references() {
        // 70% zeros: the first quantiles coincide at 0 and dedup to one edge.
        let reference = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0];
        let b = PsiBaseline::fit(&reference, PsiConfig::default()).unwrap();
        assert_eq!(b.edges()[0], 0.0);
        assert_eq!(b.counts()[0], 7);
        assert_eq!(b.counts().iter().sum::<u64>(), 10);
        // Constant: one bin, PSI 0 whatever the current sample.
        let b = PsiBaseline::fit(&[3.0; 50], PsiConfig::default()).unwrap();
        assert!(b.edges().is_empty());
        assert_eq!(b.psi(&[100.0, -4.0]).unwrap().value, 0.0);
        // Top ties: the edge at the maximum is dropped, so the last bin holds the maximum.
        let b = PsiBaseline::fit(
            &[0.0, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0],
            PsiConfig::default(),
        )
        .unwrap();
        assert!(b.edges().iter().all(|&e| e < 3.0));
        assert_eq!(*b.counts().last().unwrap(), 7);
    }

    #[test]
    fn epsilon_only_for_empty_bins() {
        let b =
            PsiBaseline::fit(&[1.0, 2.0, 3.0, 4.0], PsiConfig { bins: 2, epsilon: 0.01 }).unwrap();
        assert_eq!(b.edges(), [2.5]);
        let p = b.psi(&[1.0, 1.0, 1.0]).unwrap();
        assert_eq!(p.reference, [0.5, 0.5]);
        assert_eq!(p.current, [1.0, 0.01]);
        assert_eq!(p.current_counts, [3, 0]);
        let want = 0.5 * 2f64.ln() + (0.01 - 0.5) * (0.01f64 / 0.5).ln();
        assert!((p.value - want).abs() < 1e-15);
    }

    #[test]
    fn baselines_round_trip_and_corrupt_ones_are_refused() {
        let b = PsiBaseline::fit(&[1.0, 5.0, 2.0, 8.0, 3.0], PsiConfig::default()).unwrap();
        let json = serde_json::to_string(&b).unwrap();
        let back: PsiBaseline = serde_json::from_str(&json).unwrap();
        assert_eq!(back, b);
        for bad in [
            r#"{"edges":[2.0,1.0],"counts":[1,1,1],"epsilon":0.0001}"#,
            r#"{"edges":[1.0],"counts":[1],"epsilon":0.0001}"#,
            r#"{"edges":[],"counts":[0],"epsilon":0.0001}"#,
            r#"{"edges":[],"counts":[3],"epsilon":0.0}"#,
        ] {
            assert!(serde_json::from_str::<PsiBaseline>(bad).is_err(), "{bad}");
        }
        let c = CategoricalPsiBaseline::fit([("x".to_string(), 3), ("a".to_string(), 1)], 1e-4)
            .unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"categories":["a","x"],"counts":[1,3],"epsilon":0.0001}"#);
        let back: CategoricalPsiBaseline<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        for bad in [
            r#"{"categories":["x","a"],"counts":[1,3],"epsilon":0.0001}"#,
            r#"{"categories":["a"],"counts":[1,3],"epsilon":0.0001}"#,
            r#"{"categories":["a"],"counts":[0],"epsilon":0.0001}"#,
        ] {
            assert!(serde_json::from_str::<CategoricalPsiBaseline<String>>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_input_is_named() {
        let err = psi(&[1.0, f64::NAN], &[1.0], PsiConfig::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(err.to_string(), "invalid input: reference[1] is NaN");
        let err = wasserstein(&[1.0], &[0.0, f64::INFINITY]).unwrap_err();
        assert_eq!(err.to_string(), "invalid input: v[1] is infinite");
        assert!(psi(&[], &[1.0], PsiConfig::default()).is_err());
        assert!(psi(&[1.0], &[], PsiConfig::default()).is_err());
        assert!(psi(&[1.0], &[1.0], PsiConfig { bins: 0, epsilon: 1e-4 }).is_err());
        assert!(psi(&[1.0], &[1.0], PsiConfig { bins: usize::MAX, epsilon: 1e-4 }).is_err());
        assert!(psi(&[1.0], &[1.0], PsiConfig { bins: 3, epsilon: 0.0 }).is_err());
        assert!(jensen_shannon(&[1.0], &[1.0, 2.0], None).is_err());
        assert!(jensen_shannon(&[0.0], &[1.0], None).is_err());
        assert!(jensen_shannon(&[-1.0, 2.0], &[1.0, 1.0], None).is_err());
        assert!(jensen_shannon(&[1.0], &[1.0], Some(1.0)).is_err());
        assert!(wasserstein_weighted(&[1.0], &[-1.0], &[1.0], &[1.0]).is_err());
        assert!(wasserstein_weighted(&[1.0], &[0.0], &[1.0], &[1.0]).is_err());
        assert!(wasserstein_weighted(&[1.0], &[1.0, 2.0], &[1.0], &[1.0]).is_err());
        assert!(CategoricalPsiBaseline::<u8>::fit([], 1e-4).is_err());
        let b = CategoricalPsiBaseline::fit([(1u8, 2)], 1e-4).unwrap();
        assert!(b.psi([(1u8, 0)]).is_err());
    }
}

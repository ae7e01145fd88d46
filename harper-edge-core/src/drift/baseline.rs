//! Reference baselines: a per-feature schema ([`FeatureSchema`]) and the statistics of a
//! reference data set ([`Baseline`]) that later drift and data-quality checks compare current
//! data against. Prediction and label distributions are features like any other: the caller
//! names them.
//!
//! # Input
//!
//! Reference (and current) data come as named columns ([`Column`]): numeric columns are
//! `&[f64]` where **NaN means missing** (null); categorical columns are `&[Option<&str>]`
//! where `None` is null; [`Column::Mixed`] holds [`Value`]s of any kind (for data whose
//! kind is only known per value, such as JSON). Categories are strings: a categorical feature
//! with integer codes is given as their decimal strings.
//!
//! # What a baseline keeps
//!
//! Per feature: `count` (rows), `nullCount`, and
//!
//! - **numeric** ([`NumericSummary`], absent when every value is null): the non-null values
//!   sorted ([`SortedSample`], so [`super::ks::ks_2samp_sorted`] against it gives exactly
//!   scipy's `ks_2samp` on the full reference), the numeric PSI baseline
//!   ([`PsiBaseline`], bins and epsilon from [`BaselineConfig::psi`]), mean, standard
//!   deviation (`ddof = 0`, as `np.std`), min, max, quartiles (numpy's default `"linear"`
//!   method, as `np.quantile(x, [0.25, 0.5, 0.75])`) and the Tukey fences
//!   `Q1 − 1.5·IQR`, `Q3 + 1.5·IQR` (`IQR = Q3 − Q1`): a value strictly outside them is an
//!   outlier ([`NumericSummary::is_outlier`]).
//! - **categorical**: the count of each category seen (ascending, counts > 0) and the
//!   categorical PSI baseline built from them ([`FeatureBaseline::categorical_psi`]).
//!
//! # Memory
//!
//! The sorted sample costs 8 bytes per non-null reference value (in memory and about 20 bytes
//! per value in JSON): 1M values are 8 MB. [`BaselineConfig::max_sample`] bounds it: a
//! feature with `n > k = max_sample` non-null values keeps only `k` **evenly spaced order
//! statistics** of its sorted values, the ones at indices `⌊j·(n − 1)/(k − 1)⌋` for
//! `j = 0, …, k − 1` (so the minimum and the maximum are kept). Everything else (moments,
//! min, max, quartiles, PSI bins) is computed from all `n` values before subsampling. Effect
//! on the KS test: the reference ECDF of the subsample is within `1/(k − 1)` of the full one
//! at every point, so the statistic moves by at most about `1/(k − 1)`; the p-value is that
//! of a reference of size `k` instead of `n`, i.e. a test with effective size
//! `km/(k + m)` instead of `nm/(n + m)` for `m` current values — it loses power (larger
//! p-values) unless `k ≫ m`. With `k ≥ 10·m` the effective size is within 10 % of `m`.
//!
//! # Storage
//!
//! A baseline is serialised with serde (camelCase; [`Baseline::to_json`],
//! [`Baseline::from_json`]). Non-finite numbers cannot be stored in JSON, so fitting refuses
//! infinite reference values. Reading one back checks it: feature names unique, samples
//! sorted and finite, counts adding up (`count = nullCount + non-null`, sample size, PSI
//! total, category counts), quartiles and fences consistent — [`Error::Integrity`] otherwise.
//!
//! # Merging
//!
//! [`Baseline::merge`] combines baselines fitted on disjoint parts of one reference with the
//! same schema and configuration. Counts, null counts and category counts add exactly; the
//! sorted samples merge; mean and standard deviation combine exactly (Chan et al.: means and
//! sums of squared deviations `M2`), to rounding; min and max exactly. Quartiles and PSI bin
//! edges cannot be combined from the parts' values, so they are **recomputed from the merged
//! sample**: without subsampling that is exactly the fit of the union. When a part was
//! subsampled, the merged sample is `k` evenly spaced order statistics of the mixture of
//! the parts' samples, each value weighted by the number of values it stands for
//! (`nᵢ / kᵢ`), and the quartiles and PSI bins (edges and counts) are those of this merged
//! sample, an approximation; the PSI then counts the merged sample (`total` = its size),
//! which changes no proportion it compares.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::distance::{CategoricalPsiBaseline, PsiBaseline, PsiConfig, quantile_linear};
use super::ks::SortedSample;
use super::special::compensated_sum;
use crate::error::{Error, Result};

/// The kind of a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FeatureKind {
    /// Real numbers (`f64`); NaN is null.
    Numeric,
    /// Strings from a set of categories; `None` is null.
    Categorical,
}

impl FeatureKind {
    /// `"numeric"` or `"categorical"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            FeatureKind::Numeric => "numeric",
            FeatureKind::Categorical => "categorical",
        }
    }
}

/// The declared schema of one feature (serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureSchema {
    /// Feature name, unique in a schema, not empty.
    pub name: String,
    /// Numeric or categorical.
    pub kind: FeatureKind,
    /// Allowed value range `[low, high]`, both inclusive (numeric features only; finite
    /// bounds, `low ≤ high` — JSON has no infinity: use `f64::MIN` / `f64::MAX` for an open
    /// end). Values outside are range violations in data-quality checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<(f64, f64)>,
    /// Known categories (categorical features only; unique). Values not in the list are
    /// unknown categories in data-quality checks; without a list, the categories seen in the
    /// baseline are the known ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
}

impl FeatureSchema {
    /// A numeric feature without a declared range.
    pub fn numeric(name: impl Into<String>) -> Self {
        FeatureSchema {
            name: name.into(),
            kind: FeatureKind::Numeric,
            range: None,
            categories: None,
        }
    }

    /// A categorical feature without declared categories.
    pub fn categorical(name: impl Into<String>) -> Self {
        FeatureSchema {
            name: name.into(),
            kind: FeatureKind::Categorical,
            range: None,
            categories: None,
        }
    }

    /// Declares the allowed range `[low, high]` (checked when a baseline is fitted).
    pub fn with_range(mut self, low: f64, high: f64) -> Self {
        self.range = Some((low, high));
        self
    }

    /// Declares the known categories (checked when a baseline is fitted).
    pub fn with_categories<S: Into<String>>(
        mut self,
        categories: impl IntoIterator<Item = S>,
    ) -> Self {
        self.categories = Some(categories.into_iter().map(Into::into).collect());
        self
    }

    /// Checks the declaration: name not empty, range only on a numeric feature with
    /// `low ≤ high` and no NaN, categories only on a categorical feature and unique.
    fn check(&self) -> Result<()> {
        if self.name.is_empty() {
            return Err(Error::invalid_input("feature name is empty"));
        }
        let name = &self.name;
        if let Some((low, high)) = self.range {
            if self.kind != FeatureKind::Numeric {
                return Err(Error::invalid_input(format!(
                    "feature '{name}': a range is only allowed on a numeric feature"
                )));
            }
            if !(low.is_finite() && high.is_finite() && low <= high) {
                return Err(Error::invalid_input(format!(
                    "feature '{name}': range [{low}, {high}] needs finite bounds, low <= high"
                )));
            }
        }
        if let Some(categories) = &self.categories {
            if self.kind != FeatureKind::Categorical {
                return Err(Error::invalid_input(format!(
                    "feature '{name}': categories are only allowed on a categorical feature"
                )));
            }
            let mut seen = BTreeSet::new();
            if let Some(dup) = categories.iter().find(|c| !seen.insert(c.as_str())) {
                return Err(Error::invalid_input(format!(
                    "feature '{name}': category '{dup}' is declared twice"
                )));
            }
        }
        Ok(())
    }
}

/// One value of a [`Column::Mixed`] column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Missing.
    Null,
    /// A number; NaN counts as null.
    Number(f64),
    /// A string (a category).
    Text(&'a str),
}

/// A column of input data, borrowed from the caller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Column<'a> {
    /// Numbers; NaN is null.
    Numeric(&'a [f64]),
    /// Categories; `None` is null.
    Categorical(&'a [Option<&'a str>]),
    /// Values of any kind, for data whose kind is known only per value (JSON). A value of
    /// the wrong kind for its feature is refused by [`Baseline::fit`] and counted as a
    /// schema violation by data-quality checks.
    Mixed(&'a [Value<'a>]),
    /// Categories as codes into a list (pandas `factorize` / `category` columns): row `i` is
    /// `categories[codes[i]]`; a negative code is null, and so is a code past the end of the
    /// list (callers check their codes). 8 bytes per row instead of 16 for
    /// [`Column::Categorical`].
    Coded {
        /// One code per row.
        codes: &'a [i64],
        /// The categories the codes index.
        categories: &'a [&'a str],
    },
}

impl<'a> Column<'a> {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Categorical(v) => v.len(),
            Column::Mixed(v) => v.len(),
            Column::Coded { codes, .. } => codes.len(),
        }
    }

    /// Whether the column has no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of row `i` (`None` past the end), with NaN and `None` as [`Value::Null`].
    pub fn get(&self, i: usize) -> Option<Value<'a>> {
        let v = match self {
            Column::Numeric(v) => Value::Number(*v.get(i)?),
            Column::Categorical(v) => v.get(i)?.map_or(Value::Null, Value::Text),
            Column::Mixed(v) => *v.get(i)?,
            Column::Coded { codes, categories } => usize::try_from(*codes.get(i)?)
                .ok()
                .and_then(|c| categories.get(c))
                .map_or(Value::Null, |s| Value::Text(s)),
        };
        Some(match v {
            Value::Number(x) if x.is_nan() => Value::Null,
            other => other,
        })
    }
}

/// Checks named columns against the features of a schema: names unique, each column naming a
/// feature, all columns of one length. Returns the number of rows (0 without columns) and
/// the column of each feature, in schema order (`None`: no column).
pub(crate) fn match_columns<'c, 'a>(
    schema: impl Iterator<Item = &'c FeatureSchema>,
    columns: &'c [(&'c str, Column<'a>)],
) -> Result<(usize, Vec<Option<Column<'a>>>)> {
    let mut by_name: BTreeMap<&str, Column<'a>> = BTreeMap::new();
    let rows = columns.first().map_or(0, |(_, c)| c.len());
    for (name, column) in columns {
        if by_name.insert(name, *column).is_some() {
            return Err(Error::invalid_input(format!("column '{name}' is given twice")));
        }
        if column.len() != rows {
            return Err(Error::invalid_input(format!(
                "column '{name}' has {} rows, column '{}' has {rows}",
                column.len(),
                columns[0].0
            )));
        }
    }
    let matched: Vec<Option<Column<'a>>> =
        schema.map(|f| by_name.remove(f.name.as_str())).collect();
    if let Some(name) = by_name.keys().next() {
        return Err(Error::invalid_input(format!(
            "column '{name}' is not a feature of the schema"
        )));
    }
    Ok((rows, matched))
}

/// How a baseline is fitted (serde camelCase).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BaselineConfig {
    /// Bins and epsilon of the numeric and categorical PSI baselines.
    pub psi: PsiConfig,
    /// At most this many sorted values kept per numeric feature (`≥ 2`), as evenly spaced
    /// order statistics (see the module documentation); `None` keeps them all.
    #[serde(default)]
    pub max_sample: Option<usize>,
}

impl BaselineConfig {
    fn check(&self) -> Result<()> {
        self.psi.check()?;
        if let Some(k) = self.max_sample
            && k < 2
        {
            return Err(Error::invalid_input(format!("max_sample must be at least 2, got {k}")));
        }
        Ok(())
    }
}

/// Statistics of the non-null values of a numeric feature (serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NumericSummary {
    /// The sorted non-null values, or `maxSample` evenly spaced order statistics of them.
    #[serde(with = "sorted_sample")]
    pub sample: SortedSample,
    /// Quantile-binned PSI baseline.
    pub psi: PsiBaseline,
    /// Arithmetic mean.
    pub mean: f64,
    /// Population standard deviation (`ddof = 0`).
    pub sd: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// `[Q1, median, Q3]`, numpy `"linear"` quantiles.
    pub quartiles: [f64; 3],
    /// Lower Tukey fence `Q1 − 1.5·(Q3 − Q1)`.
    pub lower_fence: f64,
    /// Upper Tukey fence `Q3 + 1.5·(Q3 − Q1)`.
    pub upper_fence: f64,
}

mod sorted_sample {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::SortedSample;

    pub(super) fn serialize<S: Serializer>(s: &SortedSample, ser: S) -> Result<S::Ok, S::Error> {
        s.as_slice().serialize(ser)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<SortedSample, D::Error> {
        let values = Vec::<f64>::deserialize(de)?;
        SortedSample::from_sorted(values).map_err(serde::de::Error::custom)
    }
}

impl NumericSummary {
    /// Whether `x` is an outlier by Tukey's rule: `x < lowerFence` or `x > upperFence`.
    pub fn is_outlier(&self, x: f64) -> bool {
        x < self.lower_fence || x > self.upper_fence
    }

    /// From all the sorted non-null values (finite, not empty).
    fn fit(sorted: Vec<f64>, config: &BaselineConfig) -> Result<Self> {
        let (mean, sd) = mean_sd(&sorted);
        let psi = PsiBaseline::fit(&sorted, config.psi)?;
        let quartiles = quartiles(&sorted);
        let (min, max) = (sorted[0], sorted[sorted.len() - 1]);
        let sample = match config.max_sample {
            Some(k) if sorted.len() > k => subsample(&sorted, k),
            _ => sorted,
        };
        Self::assemble(sample, psi, mean, sd, min, max, quartiles)
    }

    fn assemble(
        sample: Vec<f64>,
        psi: PsiBaseline,
        mean: f64,
        sd: f64,
        min: f64,
        max: f64,
        quartiles: [f64; 3],
    ) -> Result<Self> {
        let (lower_fence, upper_fence) = fences(quartiles);
        Ok(NumericSummary {
            sample: SortedSample::trusted(sample),
            psi,
            mean,
            sd,
            min,
            max,
            quartiles,
            lower_fence,
            upper_fence,
        })
    }

    /// Combines the summaries of `na` and `nb` non-null values of two disjoint parts.
    fn merge(&self, na: u64, other: &Self, nb: u64, config: &BaselineConfig) -> Result<Self> {
        let (a, b) = (self.sample.as_slice(), other.sample.as_slice());
        let n = na + nb;
        let full = a.len() as u64 == na && b.len() as u64 == nb;
        // Quartiles and PSI bins from all values when both parts kept all theirs (then the
        // merge equals the fit of the union), else from the weighted merged subsample.
        let (sample, psi, quartiles) = if full {
            let merged = merge_sorted(a, b);
            let psi = PsiBaseline::fit(&merged, config.psi)?;
            let quartiles = quartiles(&merged);
            let sample = match config.max_sample {
                Some(k) if merged.len() > k => subsample(&merged, k),
                _ => merged,
            };
            (sample, psi, quartiles)
        } else {
            let k = config
                .max_sample
                .unwrap_or(usize::MAX)
                .min(usize::try_from(n).unwrap_or(usize::MAX));
            let sample =
                weighted_subsample(a, na as f64 / a.len() as f64, b, nb as f64 / b.len() as f64, k);
            let psi = PsiBaseline::fit(&sample, config.psi)?;
            let quartiles = quartiles(&sample);
            (sample, psi, quartiles)
        };
        let (fa, fb, fnn) = (na as f64, nb as f64, n as f64);
        let delta = other.mean - self.mean;
        let mean = self.mean + delta * (fb / fnn);
        let m2 = self.sd * self.sd * fa + other.sd * other.sd * fb + delta * delta * fa * fb / fnn;
        Self::assemble(
            sample,
            psi,
            mean,
            (m2 / fnn).sqrt(),
            self.min.min(other.min),
            self.max.max(other.max),
            quartiles,
        )
    }

    /// Checks a summary read back, for `non_null` values.
    fn check(&self, name: &str, non_null: u64, config: &BaselineConfig) -> Result<()> {
        let corrupt = |what: String| Error::Integrity {
            message: format!("corrupt baseline: feature '{name}': {what}"),
        };
        let s = self.sample.as_slice();
        let (Some(&first), Some(&last)) = (s.first(), s.last()) else {
            return Err(corrupt("empty sample".into()));
        };
        if !first.is_finite() || !last.is_finite() {
            return Err(corrupt("sample has non-finite values".into()));
        }
        let len = s.len() as u64;
        let subsampled = len < non_null;
        let want = config.max_sample.map_or(non_null, |k| non_null.min(k as u64));
        if len != want {
            return Err(corrupt(format!(
                "sample has {len} values, expected {want} for {non_null} non-null values"
            )));
        }
        let psi_total = self.psi.total();
        if psi_total != non_null && !(subsampled && psi_total == len) {
            return Err(corrupt(format!(
                "PSI baseline counts {psi_total} values, expected {non_null}"
            )));
        }
        if self.min != first || self.max != last {
            return Err(corrupt("min or max is not the sample's".into()));
        }
        let [q1, q2, q3] = self.quartiles;
        let ordered = self.min <= q1 && q1 <= q2 && q2 <= q3 && q3 <= self.max;
        if !ordered || (self.lower_fence, self.upper_fence) != fences(self.quartiles) {
            return Err(corrupt("quartiles or fences are inconsistent".into()));
        }
        if !(self.sd.is_finite() && self.sd >= 0.0 && self.mean.is_finite()) {
            return Err(corrupt("mean or sd is not finite (sd >= 0)".into()));
        }
        Ok(())
    }
}

/// Mean and standard deviation (ddof 0) of non-empty values, with compensated sums.
pub(crate) fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = compensated_sum(values.iter().copied()) / n;
    let m2 = compensated_sum(values.iter().map(|&x| (x - mean) * (x - mean)));
    (mean, (m2 / n).sqrt())
}

/// `[Q1, median, Q3]` of sorted, non-empty values, numpy `"linear"`.
pub(crate) fn quartiles(sorted: &[f64]) -> [f64; 3] {
    [0.25, 0.5, 0.75].map(|p| quantile_linear(sorted, p))
}

/// The Tukey fences of quartiles.
fn fences([q1, _, q3]: [f64; 3]) -> (f64, f64) {
    let iqr = q3 - q1;
    (q1 - 1.5 * iqr, q3 + 1.5 * iqr)
}

/// The `k ≥ 2` evenly spaced order statistics `⌊j(n − 1)/(k − 1)⌋` of `n > k` sorted values.
fn subsample(sorted: &[f64], k: usize) -> Vec<f64> {
    let (n, k1) = (sorted.len() as u128 - 1, k as u128 - 1);
    (0..k as u128).map(|j| sorted[usize::try_from(j * n / k1).unwrap_or(0)]).collect()
}

/// Two sorted slices merged (ties: `a` first).
fn merge_sorted(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if b[j] < a[i] {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// `k` evenly spaced order statistics of the mixture of two sorted samples whose values
/// weigh `wa` and `wb` (values they stand for): the `j`-th is the first value whose cumulative
/// weight exceeds `j·(N − 1)/(k − 1)`, `N` the total weight. With unit weights this is
/// [`subsample`] of the merged values.
fn weighted_subsample(a: &[f64], wa: f64, b: &[f64], wb: f64, k: usize) -> Vec<f64> {
    let total = wa * a.len() as f64 + wb * b.len() as f64;
    let k = k.max(2);
    let mut out = Vec::with_capacity(k);
    let (mut i, mut j) = (0, 0);
    let mut cumulative = 0.0;
    let mut current = f64::NAN;
    for step in 0..k {
        let target = step as f64 * (total - 1.0) / (k - 1) as f64;
        while cumulative <= target && (i < a.len() || j < b.len()) {
            let take_b = i >= a.len() || (j < b.len() && b[j] < a[i]);
            if take_b {
                current = b[j];
                cumulative += wb;
                j += 1;
            } else {
                current = a[i];
                cumulative += wa;
                i += 1;
            }
        }
        out.push(current);
    }
    // The extremes are the mixture's, whatever the rounding of the cumulative weights.
    if let (Some(first), Some(&x), Some(&y)) = (out.first_mut(), a.first(), b.first()) {
        *first = x.min(y);
    }
    if let (Some(last), Some(&x), Some(&y)) = (out.last_mut(), a.last(), b.last()) {
        *last = x.max(y);
    }
    out
}

/// The baseline of one feature (serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureBaseline {
    /// The feature's declared schema.
    pub schema: FeatureSchema,
    /// Rows in the reference.
    pub count: u64,
    /// Null rows (NaN or `None`).
    pub null_count: u64,
    /// Numeric features with at least one non-null value: their statistics; else `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric: Option<NumericSummary>,
    /// Categorical features: the count of each category seen (counts > 0); empty for
    /// numeric features.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub categories: BTreeMap<String, u64>,
}

impl FeatureBaseline {
    /// The feature name.
    pub fn name(&self) -> &str {
        &self.schema.name
    }

    /// Non-null rows.
    pub fn non_null(&self) -> u64 {
        self.count - self.null_count.min(self.count)
    }

    /// The categorical PSI baseline of the category counts (`None` for a numeric feature or a
    /// categorical one without any non-null value), with the baseline's epsilon.
    pub fn categorical_psi(&self, epsilon: f64) -> Option<CategoricalPsiBaseline<String>> {
        if self.categories.is_empty() {
            return None;
        }
        CategoricalPsiBaseline::fit(self.categories.iter().map(|(k, &c)| (k.clone(), c)), epsilon)
            .ok()
    }

    /// Whether `category` is known: declared in the schema, or, without declared categories,
    /// seen in the reference.
    pub fn is_known_category(&self, category: &str) -> bool {
        match &self.schema.categories {
            Some(declared) => declared.iter().any(|c| c == category),
            None => self.categories.contains_key(category),
        }
    }

    fn check(&self, config: &BaselineConfig) -> Result<()> {
        let name = self.name();
        let corrupt = |what: String| Error::Integrity {
            message: format!("corrupt baseline: feature '{name}': {what}"),
        };
        self.schema.check().map_err(|e| corrupt(e.to_string()))?;
        if self.null_count > self.count {
            return Err(corrupt(format!(
                "null count {} exceeds count {}",
                self.null_count, self.count
            )));
        }
        let non_null = self.count - self.null_count;
        match self.schema.kind {
            FeatureKind::Numeric => {
                if !self.categories.is_empty() {
                    return Err(corrupt("a numeric feature has category counts".into()));
                }
                match &self.numeric {
                    None if non_null > 0 => {
                        return Err(corrupt(format!("no statistics for {non_null} values")));
                    }
                    None => {}
                    Some(s) => s.check(name, non_null, config)?,
                }
            }
            FeatureKind::Categorical => {
                if self.numeric.is_some() {
                    return Err(corrupt("a categorical feature has numeric statistics".into()));
                }
                if self.categories.values().any(|&c| c == 0) {
                    return Err(corrupt("a category has count 0".into()));
                }
                let sum = self.categories.values().try_fold(0u64, |acc, &c| acc.checked_add(c));
                if sum != Some(non_null) {
                    return Err(corrupt(format!(
                        "category counts do not add up to the {non_null} non-null values"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The statistics of a reference data set, feature by feature, in schema order (serde
/// camelCase; see the module documentation for what is kept, how it is stored and merged).
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::baseline::{Baseline, BaselineConfig, Column, FeatureSchema};
///
/// let schema = [FeatureSchema::numeric("age"), FeatureSchema::categorical("color")];
/// let ages = [30.0, f64::NAN, 40.0, 50.0, 20.0];
/// let colors = [Some("red"), Some("blue"), None, Some("red"), Some("red")];
/// let b = Baseline::fit(
///     &schema,
///     &[("age", Column::Numeric(&ages)), ("color", Column::Categorical(&colors))],
///     BaselineConfig::default(),
/// )?;
/// let age = b.feature("age").unwrap();
/// assert_eq!((age.count, age.null_count), (5, 1));
/// let stats = age.numeric.as_ref().unwrap();
/// assert_eq!(stats.quartiles, [27.5, 35.0, 42.5]); // np.quantile([20, 30, 40, 50], ...)
/// assert_eq!((stats.lower_fence, stats.upper_fence), (5.0, 65.0));
/// assert_eq!(b.feature("color").unwrap().categories["red"], 3);
/// assert_eq!(Baseline::from_json(&b.to_json()?)?, b);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawBaseline", into = "RawBaseline")]
pub struct Baseline {
    config: BaselineConfig,
    features: Vec<FeatureBaseline>,
}

/// Serialised form of [`Baseline`], checked when read back.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBaseline {
    config: BaselineConfig,
    features: Vec<FeatureBaseline>,
}

impl From<Baseline> for RawBaseline {
    fn from(b: Baseline) -> Self {
        RawBaseline { config: b.config, features: b.features }
    }
}

impl TryFrom<RawBaseline> for Baseline {
    type Error = Error;

    fn try_from(r: RawBaseline) -> Result<Self> {
        r.config
            .check()
            .map_err(|e| Error::Integrity { message: format!("corrupt baseline: {e}") })?;
        let mut names = BTreeSet::new();
        for f in &r.features {
            if !names.insert(f.name()) {
                return Err(Error::Integrity {
                    message: format!("corrupt baseline: feature '{}' appears twice", f.name()),
                });
            }
            f.check(&r.config)?;
        }
        Ok(Baseline { config: r.config, features: r.features })
    }
}

impl Baseline {
    /// Fits a baseline on reference columns, one per feature of `schema`.
    ///
    /// Declared ranges and categories are not enforced on the reference (a data-quality
    /// check does that); the reference is described as it is. Features are fitted in
    /// parallel on all cores (the result does not depend on the number of threads).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the feature or column if the schema is invalid (empty
    /// or repeated name, range on a categorical feature, not finite or with `low > high`,
    /// categories on a numeric feature or repeated), a column is missing, repeated, not a
    /// feature of the schema, or of another length than the first, there are no rows, a
    /// numeric value is infinite or a value has the wrong kind (text for a numeric feature, a
    /// number for a categorical one; naming the row), or the configuration is invalid (PSI
    /// bins or epsilon, `max_sample < 2`).
    pub fn fit(
        schema: &[FeatureSchema],
        columns: &[(&str, Column<'_>)],
        config: BaselineConfig,
    ) -> Result<Self> {
        config.check()?;
        let mut names = BTreeSet::new();
        for f in schema {
            f.check()?;
            if !names.insert(f.name.as_str()) {
                return Err(Error::invalid_input(format!(
                    "feature '{}' is declared twice",
                    f.name
                )));
            }
        }
        let (rows, matched) = match_columns(schema.iter(), columns)?;
        if rows == 0 {
            return Err(Error::invalid_input("the reference has no rows"));
        }
        let jobs = schema
            .iter()
            .zip(matched)
            .map(|(f, column)| {
                column.map(|c| (f, c)).ok_or_else(|| {
                    Error::invalid_input(format!("no column for feature '{}'", f.name))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let threads = super::thread_count(None, jobs.len());
        let features = super::par_map(&jobs, threads, |&(f, c)| fit_feature(f, c, rows, &config))?
            .into_iter()
            .collect::<Result<Vec<_>>>()?;
        Ok(Baseline { config, features })
    }

    /// Names of its categorical features, in schema order (the columns a binding reads as
    /// categories).
    pub fn categorical_names(&self) -> Vec<String> {
        self.schema()
            .filter(|f| f.kind == FeatureKind::Categorical)
            .map(|f| f.name.clone())
            .collect()
    }

    /// The columns that are features of this baseline (others are left out): current data
    /// may carry more columns than were fitted.
    pub fn known_columns<'a>(
        &self,
        columns: &[(&'a str, Column<'a>)],
    ) -> Vec<(&'a str, Column<'a>)> {
        columns.iter().filter(|(n, _)| self.feature(n).is_some()).copied().collect()
    }

    /// The baseline without the features named in `names` (names that are not features are
    /// ignored): for checking data that leaves some features out on purpose.
    #[must_use]
    pub fn without(&self, names: &[&str]) -> Baseline {
        Baseline {
            config: self.config,
            features: self
                .features
                .iter()
                .filter(|f| !names.contains(&f.name()))
                .cloned()
                .collect(),
        }
    }

    /// The configuration it was fitted with.
    pub fn config(&self) -> &BaselineConfig {
        &self.config
    }

    /// The features, in schema order.
    pub fn features(&self) -> &[FeatureBaseline] {
        &self.features
    }

    /// The feature named `name`.
    pub fn feature(&self, name: &str) -> Option<&FeatureBaseline> {
        self.features.iter().find(|f| f.schema.name == name)
    }

    /// The schema, in order.
    pub fn schema(&self) -> impl Iterator<Item = &FeatureSchema> {
        self.features.iter().map(|f| &f.schema)
    }

    /// The baseline as JSON.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] if serialisation fails (it does not for a fitted baseline).
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string(self)?)
    }

    /// Reads a baseline from JSON, checking it (see the module documentation).
    ///
    /// # Errors
    ///
    /// [`Error::Integrity`] naming what is wrong (and the feature) if the JSON is malformed
    /// or the baseline inconsistent.
    pub fn from_json(json: &str) -> Result<Self> {
        let corrupt =
            |e: serde_json::Error| Error::Integrity { message: format!("corrupt baseline: {e}") };
        let value: serde_json::Value = serde_json::from_str(json).map_err(corrupt)?;
        // Features one by one first, so that an error inside one names it.
        if let Some(features) = value.get("features").and_then(serde_json::Value::as_array) {
            for f in features {
                if let Err(e) = FeatureBaseline::deserialize(f) {
                    let name = f.pointer("/schema/name").and_then(serde_json::Value::as_str);
                    return Err(Error::Integrity {
                        message: format!(
                            "corrupt baseline: feature '{}': {e}",
                            name.unwrap_or("(unnamed)")
                        ),
                    });
                }
            }
        }
        let raw: RawBaseline = serde_json::from_value(value).map_err(corrupt)?;
        Baseline::try_from(raw)
    }

    /// Combines two baselines fitted on disjoint parts of one reference (see the module
    /// documentation for what is exact and what is recomputed).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if the schemas (names, kinds, ranges, categories, order) or
    /// configurations differ, or a count overflows `u64`.
    pub fn merge(&self, other: &Baseline) -> Result<Baseline> {
        if self.config != other.config {
            return Err(Error::invalid_input(
                "cannot merge baselines with different configurations",
            ));
        }
        if self.features.len() != other.features.len() {
            return Err(Error::invalid_input(format!(
                "cannot merge baselines of {} and {} features",
                self.features.len(),
                other.features.len()
            )));
        }
        let overflow =
            |name: &str| Error::invalid_input(format!("feature '{name}': count overflows"));
        let features = self
            .features
            .iter()
            .zip(&other.features)
            .map(|(a, b)| {
                let name = a.name();
                if a.schema != b.schema {
                    return Err(Error::invalid_input(format!(
                        "cannot merge baselines: the schemas of feature '{name}' (or the feature \
                         order) differ"
                    )));
                }
                let count = a.count.checked_add(b.count).ok_or_else(|| overflow(name))?;
                let null_count = a.null_count + b.null_count;
                let mut categories = a.categories.clone();
                for (k, &c) in &b.categories {
                    let slot = categories.entry(k.clone()).or_insert(0);
                    *slot = slot.checked_add(c).ok_or_else(|| overflow(name))?;
                }
                let numeric = match (&a.numeric, &b.numeric) {
                    (Some(x), Some(y)) => {
                        Some(x.merge(a.non_null(), y, b.non_null(), &self.config)?)
                    }
                    (x, y) => x.clone().or_else(|| y.clone()),
                };
                Ok(FeatureBaseline {
                    schema: a.schema.clone(),
                    count,
                    null_count,
                    numeric,
                    categories,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Baseline { config: self.config, features })
    }
}

fn wrong_kind(name: &str, row: usize, value: Value<'_>) -> Error {
    Error::invalid_input(format!("feature '{name}' row {row}: value of the wrong kind ({value:?})"))
}

fn fit_feature(
    schema: &FeatureSchema,
    column: Column<'_>,
    rows: usize,
    config: &BaselineConfig,
) -> Result<FeatureBaseline> {
    let name = &schema.name;
    let mut null_count = 0u64;
    let mut feature = FeatureBaseline {
        schema: schema.clone(),
        count: rows as u64,
        null_count: 0,
        numeric: None,
        categories: BTreeMap::new(),
    };
    match schema.kind {
        FeatureKind::Numeric => {
            let mut values = Vec::with_capacity(rows);
            if let Column::Numeric(slice) = column {
                // The common case, without a per-row match: NaN is null, ±∞ an error.
                let slice = &slice[..rows];
                if let Some(row) = slice.iter().position(|x| x.is_infinite()) {
                    return Err(Error::invalid_input(format!(
                        "feature '{name}' row {row}: {} is not finite",
                        slice[row]
                    )));
                }
                values.extend(slice.iter().copied().filter(|x| !x.is_nan()));
                null_count = (rows - values.len()) as u64;
            } else {
                for row in 0..rows {
                    match column.get(row).unwrap_or(Value::Null) {
                        Value::Null => null_count += 1,
                        Value::Number(x) if x.is_finite() => values.push(x),
                        Value::Number(x) => {
                            return Err(Error::invalid_input(format!(
                                "feature '{name}' row {row}: {x} is not finite"
                            )));
                        }
                        v @ Value::Text(_) => return Err(wrong_kind(name, row, v)),
                    }
                }
            }
            if !values.is_empty() {
                super::ks::sort_finite(&mut values);
                feature.numeric = Some(NumericSummary::fit(values, config)?);
            }
        }
        FeatureKind::Categorical => {
            let mut tally = CategoryTally::default();
            for row in 0..rows {
                match column.get(row).unwrap_or(Value::Null) {
                    Value::Null => null_count += 1,
                    Value::Text(s) => tally.add(s),
                    v @ Value::Number(_) => return Err(wrong_kind(name, row, v)),
                }
            }
            feature.categories =
                tally.into_counts().into_iter().map(|(k, c)| (k.to_string(), c)).collect();
        }
    }
    feature.null_count = null_count;
    Ok(feature)
}

/// Counts category strings, fast when equal categories share their bytes (the columns the
/// bindings build point every row at one string per category): up to 64 distinct strings
/// are told apart by address and length in a short list; past that, every string is counted
/// by value in a map. Either way [`CategoryTally::into_counts`] merges by value.
#[derive(Debug, Default)]
pub(crate) struct CategoryTally<'a> {
    /// `(address, length, string, count)`.
    by_address: Vec<(usize, usize, &'a str, u64)>,
    by_value: BTreeMap<&'a str, u64>,
    spilled: bool,
}

impl<'a> CategoryTally<'a> {
    const MAX_ADDRESSES: usize = 64;

    /// Counts one occurrence of `s`.
    pub(crate) fn add(&mut self, s: &'a str) {
        if !self.spilled {
            let address = s.as_ptr() as usize;
            if let Some(e) = self.by_address.iter_mut().find(|e| e.0 == address && e.1 == s.len()) {
                e.3 += 1;
                return;
            }
            if self.by_address.len() < Self::MAX_ADDRESSES {
                self.by_address.push((address, s.len(), s, 1));
                return;
            }
            self.spilled = true;
        }
        *self.by_value.entry(s).or_insert(0) += 1;
    }

    /// The count of each category, by value.
    pub(crate) fn into_counts(self) -> BTreeMap<&'a str, u64> {
        let mut counts = self.by_value;
        for (_, _, s, c) in self.by_address {
            *counts.entry(s).or_insert(0) += c;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coded_columns_read_like_categorical_ones() {
        let cats = ["red", "blue"];
        let codes = [0, 1, -1, 0, 7];
        let coded = Column::Coded { codes: &codes, categories: &cats };
        let plain = [Some("red"), Some("blue"), None, Some("red"), None];
        let plain = Column::Categorical(&plain);
        assert_eq!(coded.len(), 5);
        for i in 0..6 {
            assert_eq!(coded.get(i), plain.get(i), "row {i}");
        }
        let schema = [FeatureSchema::categorical("c")];
        let a = Baseline::fit(&schema, &[("c", coded)], BaselineConfig::default()).unwrap();
        let b = Baseline::fit(&schema, &[("c", plain)], BaselineConfig::default()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn without_drops_the_named_features_only() {
        let x = [1.0, 2.0, 3.0];
        let c = [Some("a"), None, Some("b")];
        let b = Baseline::fit(
            &[FeatureSchema::numeric("x"), FeatureSchema::categorical("c")],
            &[("x", Column::Numeric(&x)), ("c", Column::Categorical(&c))],
            BaselineConfig::default(),
        )
        .unwrap();
        let only_c = b.without(&["x", "nope"]);
        assert_eq!(only_c.features().len(), 1);
        assert_eq!(only_c.feature("c"), b.feature("c"));
        assert_eq!(Baseline::from_json(&only_c.to_json().unwrap()).unwrap(), only_c);
    }

    #[test]
    fn category_tally_counts_by_value_whatever_the_addresses() {
        let owned: Vec<String> = (0..200).map(|i| format!("c{}", i % 70)).collect();
        let shared = ["a", "b", "a", "a"];
        let mut t = CategoryTally::default();
        for s in shared.iter().copied().chain(owned.iter().map(String::as_str)) {
            t.add(s);
        }
        let counts = t.into_counts();
        assert_eq!((counts["a"], counts["b"]), (3, 1));
        assert_eq!(counts["c0"], 3); // 0, 70, 140
        assert_eq!(counts["c69"], 2);
        assert_eq!(counts.values().sum::<u64>(), 204);
    }

    #[test]
    fn quartiles_equal_numpy_linear() {
        // np.quantile([1, 2, 3, 4], [0.25, 0.5, 0.75]) = [1.75, 2.5, 3.25]
        assert_eq!(quartiles(&[1.0, 2.0, 3.0, 4.0]), [1.75, 2.5, 3.25]);
        assert_eq!(quartiles(&[7.0]), [7.0, 7.0, 7.0]);
        assert_eq!(fences([1.75, 2.5, 3.25]), (-0.5, 5.5));
    }

    #[test]
    fn subsample_keeps_evenly_spaced_order_statistics() {
        let sorted: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(subsample(&sorted, 4), [0.0, 3.0, 6.0, 9.0]);
        assert_eq!(subsample(&sorted, 3), [0.0, 4.0, 9.0]);
        // Unit weights: the weighted rule is the plain one.
        let (a, b) = (&sorted[..5], &sorted[5..]);
        assert_eq!(weighted_subsample(a, 1.0, b, 1.0, 4), subsample(&sorted, 4));
        assert_eq!(weighted_subsample(a, 1.0, b, 1.0, 3), subsample(&sorted, 3));
        assert_eq!(merge_sorted(&[1.0, 3.0], &[2.0, 3.0, 4.0]), [1.0, 2.0, 3.0, 3.0, 4.0]);
    }
}

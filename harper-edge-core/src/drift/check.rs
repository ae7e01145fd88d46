//! The drift check: current data against a [`Baseline`], feature by feature, into a
//! [`DriftReport`], plus concept drift from labelled accuracy ([`concept_drift`]) and the
//! [`DriftMetrics`] rows of the original design's table (serde camelCase throughout).
//!
//! # Methods and defaults ([`DriftConfig`])
//!
//! Each feature is tested by one [`DriftMethod`], whose statistic is the feature's
//! `driftScore` and whose rule gives the verdict `drifted`:
//!
//! | method | kinds | `driftScore` | `pValue` | drifted when | default threshold |
//! |---|---|---|---|---|---|
//! | `ks` (numeric default) | numeric | KS `D` | two-sided, [`ks::ks_2samp_sorted`] (`Method::Auto`) | `p < threshold` | `alpha` = 0.05 |
//! | `chi2` (categorical default) | categorical | chi-square statistic, [`chi2::categorical`] with Yates on 1 dof | yes | `p < threshold` | `alpha` = 0.05 |
//! | `psi` | both | PSI on the baseline's bins / categories, baseline epsilon | `None` | `score > threshold` | 0.2 |
//! | `wasserstein` | numeric | `W₁ / σ_ref` (σ of all reference values, ddof 0); `W₁` itself when the reference is constant | `None` | `score > threshold` | 0.1 |
//! | `js` | both | Jensen–Shannon distance, base 2 (in `[0, 1]`), over the PSI bins / category union | `None` | `score > threshold` | 0.1 |
//!
//! The reference of `ks` and `wasserstein` is the baseline's stored sorted sample (all its
//! values, or `maxSample` order statistics of them). Alongside the verdict, PSI (`psi`,
//! default on) and the normalised Wasserstein distance (`wasserstein`, numeric, default on)
//! are reported but decide nothing unless the feature's method is that one.
//!
//! # Current data
//!
//! Columns are matched to the baseline's features by name (a name given twice, unknown to the
//! baseline, or a length differing from the first column is an
//! [`Error::InvalidInput`]). A feature without a column is **not checked** (absent from the
//! report). As in [`super::quality`]: NaN (numeric) and `None` / [`Value::Null`] are
//! **nulls**, skipped and counted; a value of the wrong kind or `±∞` in a numeric feature is
//! a **schema violation**, skipped and counted (`violations` in the current summary) — the
//! data-quality check reports them, the drift check tests the valid values only. A feature
//! left with no valid value (current side) or without non-null baseline values is an
//! [`Error::InvalidInput`] naming the feature.
//!
//! # Order and parallelism
//!
//! Features are independent and computed on `threads` scoped threads (default
//! [`std::thread::available_parallelism`]), each taking the next feature when it is done; the
//! result does not depend on the number of threads. The report lists drifted features
//! first, each group by `driftScore` descending, ties by name.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::baseline::{
    Baseline, CategoryTally, Column, FeatureBaseline, FeatureKind, Value, match_columns, mean_sd,
    quartiles,
};
use super::chi2;
use super::distance::{jensen_shannon, wasserstein_drift_sorted};
use super::ks::{self, Alternative, SortedSample};
use super::multiple::{Correction, ModelVerdict, adjust};
use super::special::chi2_sf;
use crate::clock::Timestamp;
use crate::error::{Error, Result};

/// The test deciding a feature's verdict (serde and [`FromStr`]: `"ks"`, `"chi2"`, `"psi"`,
/// `"wasserstein"`, `"js"`; see the module documentation for each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DriftMethod {
    /// Two-sample Kolmogorov–Smirnov (numeric only); p-value against the threshold.
    Ks,
    /// Chi-square reference-vs-current (categorical only); p-value against the threshold.
    Chi2,
    /// Population stability index (both kinds); value against the threshold.
    Psi,
    /// Normalised Wasserstein-1 (numeric only); value against the threshold.
    Wasserstein,
    /// Jensen–Shannon distance, base 2 (both kinds); value against the threshold.
    Js,
}

impl DriftMethod {
    /// The method's name (`"ks"`, `"chi2"`, …), as stored in `driftMethod`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DriftMethod::Ks => "ks",
            DriftMethod::Chi2 => "chi2",
            DriftMethod::Psi => "psi",
            DriftMethod::Wasserstein => "wasserstein",
            DriftMethod::Js => "js",
        }
    }

    /// Whether the verdict compares a p-value (`ks`, `chi2`) rather than a distance.
    pub const fn uses_p_value(self) -> bool {
        matches!(self, DriftMethod::Ks | DriftMethod::Chi2)
    }

    /// Whether the method applies to features of `kind`.
    pub const fn supports(self, kind: FeatureKind) -> bool {
        match self {
            DriftMethod::Ks | DriftMethod::Wasserstein => matches!(kind, FeatureKind::Numeric),
            DriftMethod::Chi2 => matches!(kind, FeatureKind::Categorical),
            DriftMethod::Psi | DriftMethod::Js => true,
        }
    }
}

impl fmt::Display for DriftMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DriftMethod {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "ks" => DriftMethod::Ks,
            "chi2" => DriftMethod::Chi2,
            "psi" => DriftMethod::Psi,
            "wasserstein" => DriftMethod::Wasserstein,
            "js" => DriftMethod::Js,
            other => {
                return Err(Error::invalid_input(format!(
                    "unknown drift method '{other}' (expected ks, chi2, psi, wasserstein or js)"
                )));
            }
        })
    }
}

/// A per-feature override of [`DriftConfig`] (serde camelCase; `None` keeps the default).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureOverride {
    /// The method deciding the verdict (default: `ks` numeric, `chi2` categorical).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<DriftMethod>,
    /// The threshold of that method (default: the config's threshold for the method).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
}

/// How [`check`] decides drift (serde camelCase; every field has the default stated).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DriftConfig {
    /// Significance level of `ks` and `chi2`: drifted when `p < alpha`. Default 0.05; in
    /// `(0, 1)`.
    pub alpha: f64,
    /// Threshold of `psi`: drifted when PSI `> psi_threshold`. Default 0.2; finite, `> 0`.
    pub psi_threshold: f64,
    /// Threshold of `wasserstein` (in reference standard deviations). Default 0.1; finite,
    /// `> 0`.
    pub wasserstein_threshold: f64,
    /// Threshold of `js` (base-2 distance). Default 0.1; in `(0, 1]`.
    pub js_threshold: f64,
    /// Report PSI of every feature alongside its method. Default `true`.
    pub compute_psi: bool,
    /// Report the normalised Wasserstein distance of numeric features. Default `true`.
    pub compute_wasserstein: bool,
    /// Per-feature overrides by feature name; every name must be a baseline feature and the
    /// method must apply to its kind. Default empty.
    pub overrides: BTreeMap<String, FeatureOverride>,
    /// How the model-level verdict adjusts the features' p-values (default Holm; see
    /// [`super::multiple`]). It does not change the per-feature verdicts.
    pub correction: Correction,
    /// Whether a distance verdict (`psi`, `js`, `wasserstein`) also needs significance under
    /// no drift (default true): PSI and JS take the p-value of the reference-vs-current
    /// chi-square test of their cells (which accounts for both sample sizes), Wasserstein the
    /// KS p-value, and the feature drifts when its
    /// score passes the threshold **and** that p-value is below `alpha`. False gives the
    /// fixed-threshold verdict alone (no p-value).
    pub calibrate_distances: bool,
    /// Threads computing features; `None` (default): [`std::thread::available_parallelism`].
    /// `Some(0)` is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            alpha: 0.05,
            psi_threshold: 0.2,
            wasserstein_threshold: 0.1,
            js_threshold: 0.1,
            compute_psi: true,
            compute_wasserstein: true,
            overrides: BTreeMap::new(),
            correction: Correction::default(),
            calibrate_distances: true,
            threads: None,
        }
    }
}

fn check_level(field: &str, value: f64) -> Result<()> {
    if value > 0.0 && value < 1.0 {
        Ok(())
    } else {
        Err(Error::invalid_input(format!("{field} must be in (0, 1), got {value}")))
    }
}

fn check_positive(field: &str, value: f64, max: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 && value <= max {
        Ok(())
    } else {
        Err(Error::invalid_input(format!("{field} must be finite, > 0 and <= {max}, got {value}")))
    }
}

impl DriftConfig {
    /// Checks every field (see each field's range) and, when `baseline` is given, that every
    /// override names one of its features with a method applying to the feature's kind.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the field (`alpha`, `psiThreshold`, …, or
    /// `overrides['feature']`).
    pub fn validate(&self, baseline: Option<&Baseline>) -> Result<()> {
        check_level("alpha", self.alpha)?;
        check_positive("psiThreshold", self.psi_threshold, f64::MAX)?;
        check_positive("wassersteinThreshold", self.wasserstein_threshold, f64::MAX)?;
        check_positive("jsThreshold", self.js_threshold, 1.0)?;
        if self.threads == Some(0) {
            return Err(Error::invalid_input("threads must be at least 1"));
        }
        for (name, o) in &self.overrides {
            let field = format!("overrides['{name}']");
            if let Some(b) = baseline {
                let Some(feature) = b.feature(name) else {
                    return Err(Error::invalid_input(format!(
                        "{field}: '{name}' is not a feature of the baseline"
                    )));
                };
                let kind = feature.schema.kind;
                let method = o.method.unwrap_or_else(|| default_method(kind));
                if !method.supports(kind) {
                    return Err(Error::invalid_input(format!(
                        "{field}: method '{method}' does not apply to {} feature '{name}'",
                        kind.as_str()
                    )));
                }
                if let Some(t) = o.threshold {
                    self.check_threshold(&format!("{field}.threshold"), method, t)?;
                }
            } else if let Some(t) = o.threshold
                && !(t.is_finite() && t > 0.0)
            {
                return Err(Error::invalid_input(format!(
                    "{field}.threshold must be finite and > 0, got {t}"
                )));
            }
        }
        Ok(())
    }

    fn check_threshold(&self, field: &str, method: DriftMethod, t: f64) -> Result<()> {
        match method {
            DriftMethod::Ks | DriftMethod::Chi2 => check_level(field, t),
            DriftMethod::Js => check_positive(field, t, 1.0),
            DriftMethod::Psi | DriftMethod::Wasserstein => check_positive(field, t, f64::MAX),
        }
    }

    /// The default threshold of a method under this config.
    pub fn threshold_of(&self, method: DriftMethod) -> f64 {
        match method {
            DriftMethod::Ks | DriftMethod::Chi2 => self.alpha,
            DriftMethod::Psi => self.psi_threshold,
            DriftMethod::Wasserstein => self.wasserstein_threshold,
            DriftMethod::Js => self.js_threshold,
        }
    }

    /// The method and threshold applying to a feature (override, else the defaults).
    pub fn method_for(&self, name: &str, kind: FeatureKind) -> (DriftMethod, f64) {
        let o = self.overrides.get(name).copied().unwrap_or_default();
        let method = o.method.unwrap_or_else(|| default_method(kind));
        (method, o.threshold.unwrap_or_else(|| self.threshold_of(method)))
    }
}

const fn default_method(kind: FeatureKind) -> DriftMethod {
    match kind {
        FeatureKind::Numeric => DriftMethod::Ks,
        FeatureKind::Categorical => DriftMethod::Chi2,
    }
}

/// A small JSON-able summary of one side of a feature (serde camelCase, tagged by `kind`:
/// `"numeric"` or `"categorical"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum DistributionSummary {
    /// A numeric feature.
    #[serde(rename_all = "camelCase")]
    Numeric {
        /// Rows (values, nulls and violations).
        count: u64,
        /// Null rows (NaN, missing).
        nulls: u64,
        /// Schema violations (`±∞`, text); always 0 for the baseline.
        violations: u64,
        /// Mean of the valid values.
        mean: f64,
        /// Population standard deviation (`ddof = 0`).
        sd: f64,
        /// Smallest valid value.
        min: f64,
        /// `[Q1, median, Q3]`, numpy `"linear"` quantiles.
        quartiles: [f64; 3],
        /// Largest valid value.
        max: f64,
        /// Share of the valid values in each of the baseline's PSI bins (raw, no epsilon).
        bin_proportions: Vec<f64>,
        /// The baseline's interior PSI bin edges `e₁ < … < e_E` (bin `i` is `(eᵢ, eᵢ₊₁]`, the
        /// first and last open-ended), one fewer than `binProportions`; the same in both
        /// summaries of a feature. Empty in summaries stored before it was added.
        #[serde(default)]
        bin_edges: Vec<f64>,
    },
    /// A categorical feature.
    #[serde(rename_all = "camelCase")]
    Categorical {
        /// Rows (values, nulls and violations).
        count: u64,
        /// Null rows.
        nulls: u64,
        /// Schema violations (numbers); always 0 for the baseline.
        violations: u64,
        /// Count of each category.
        counts: BTreeMap<String, u64>,
    },
}

/// The drift of one feature (serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureDrift {
    /// The feature.
    pub feature_name: String,
    /// Its kind.
    pub kind: FeatureKind,
    /// The method deciding the verdict.
    pub drift_method: DriftMethod,
    /// The method's statistic (KS `D`, chi-square statistic, PSI, normalised W₁, JS distance).
    pub drift_score: f64,
    /// The p-value, for `ks` and `chi2`.
    pub p_value: Option<f64>,
    /// The threshold applied (to the p-value for `ks`/`chi2`, to the score otherwise).
    pub threshold: f64,
    /// The verdict.
    pub drifted: bool,
    /// The p-value adjusted across the report's tested features by
    /// [`DriftConfig::correction`] (`None` for distance methods).
    #[serde(default)]
    pub adjusted_p_value: Option<f64>,
    /// PSI, when computed (`computePsi` or method `psi`).
    pub psi: Option<f64>,
    /// Normalised Wasserstein-1 (numeric; `computeWasserstein` or method `wasserstein`).
    pub wasserstein: Option<f64>,
    /// The baseline's distribution.
    pub baseline_summary: DistributionSummary,
    /// The current distribution.
    pub current_summary: DistributionSummary,
}

/// The result of [`check`] (serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftReport {
    /// Checked features, drifted first, then by `driftScore` descending, then by name.
    pub features: Vec<FeatureDrift>,
    /// Number of drifted features.
    pub drifted_count: u64,
    /// `driftedCount / features.len()` (0 without features): the share of features that
    /// drifted, each at its own threshold (a secondary view; see `model`).
    pub drifted_share: f64,
    /// The model-level verdict, with the error rate across features controlled (see
    /// [`super::multiple`]).
    #[serde(default)]
    pub model: ModelVerdict,
}

impl Default for ModelVerdict {
    fn default() -> Self {
        ModelVerdict {
            correction: Correction::default(),
            alpha: 0.05,
            tested: 0,
            rejected: 0,
            min_adjusted_p_value: None,
            distance_drifted: 0,
            drifted: false,
        }
    }
}

/// What a drift row is about (serde: `"input"`, `"prediction"`, `"concept"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DriftType {
    /// A model input feature.
    Input,
    /// A model output.
    Prediction,
    /// The relation between inputs and labels (accuracy).
    Concept,
}

impl DriftType {
    /// `"input"`, `"prediction"` or `"concept"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DriftType::Input => "input",
            DriftType::Prediction => "prediction",
            DriftType::Concept => "concept",
        }
    }
}

/// One row of the `DriftMetrics` table (serde camelCase, the original design's fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftMetrics {
    /// `modelName:modelVersion:timestamp:driftType:featureName` (timestamp in epoch ms).
    pub id: String,
    /// The model.
    pub model_name: String,
    /// Its version.
    pub model_version: String,
    /// When the check ran (epoch milliseconds).
    pub timestamp: Timestamp,
    /// What drifted.
    pub drift_type: DriftType,
    /// The feature (for concept drift: `"accuracy"`).
    pub feature_name: String,
    /// The method's statistic.
    pub drift_score: f64,
    /// The method (`"ks"`, `"chi2"`, `"psi"`, `"wasserstein"`, `"js"`, `"accuracy_drop"`).
    pub drift_method: String,
    /// The p-value, when the method has one.
    pub p_value: Option<f64>,
    /// The threshold applied (to the p-value for `ks` / `chi2`, to the score otherwise; to the
    /// accuracy drop for concept drift). Not in the original design: stored so a reader of
    /// the table sees the verdict's rule.
    #[serde(default)]
    pub threshold: Option<f64>,
    /// The verdict. Not in the original design: stored so a reader of the table need not
    /// re-derive it.
    #[serde(default)]
    pub drifted: bool,
    /// The baseline's distribution summary (JSON).
    pub baseline_distribution: serde_json::Value,
    /// The current distribution summary (JSON).
    pub current_distribution: serde_json::Value,
}

fn row_id(model: &str, version: &str, t: Timestamp, ty: DriftType, feature: &str) -> String {
    format!("{model}:{version}:{}:{}:{feature}", t.as_millis(), ty.as_str())
}

impl DriftReport {
    /// One [`DriftMetrics`] row per feature, in report order: driftType `"prediction"` for
    /// the features named in `prediction_features`, `"input"` for the others.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] only if a summary cannot be turned into JSON (it always can:
    /// non-finite numbers never reach a summary).
    pub fn to_rows(
        &self,
        model_name: &str,
        model_version: &str,
        timestamp: Timestamp,
        prediction_features: &[&str],
    ) -> Result<Vec<DriftMetrics>> {
        self.features
            .iter()
            .map(|f| {
                let ty = if prediction_features.contains(&f.feature_name.as_str()) {
                    DriftType::Prediction
                } else {
                    DriftType::Input
                };
                Ok(DriftMetrics {
                    id: row_id(model_name, model_version, timestamp, ty, &f.feature_name),
                    model_name: model_name.to_string(),
                    model_version: model_version.to_string(),
                    timestamp,
                    drift_type: ty,
                    feature_name: f.feature_name.clone(),
                    drift_score: f.drift_score,
                    drift_method: f.drift_method.as_str().to_string(),
                    p_value: f.p_value,
                    threshold: Some(f.threshold),
                    drifted: f.drifted,
                    baseline_distribution: to_json(&f.baseline_summary)?,
                    current_distribution: to_json(&f.current_summary)?,
                })
            })
            .collect()
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v)
        .map_err(|e| Error::invalid_input(format!("drift summary is not JSON-able: {e}")))
}

/// Checks current columns against a baseline for drift (see the module documentation).
///
/// # Errors
///
/// [`Error::InvalidInput`]: an invalid config ([`DriftConfig::validate`]), a column given
/// twice, unknown to the baseline or of another length, or a checked feature without valid
/// current values or without non-null baseline values (naming the feature).
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::baseline::{Baseline, BaselineConfig, Column, FeatureSchema};
/// use harper_edge_core::drift::check::{check, DriftConfig, DriftMethod};
///
/// let reference: Vec<f64> = (0..200).map(f64::from).collect();
/// let schema = [FeatureSchema::numeric("x")];
/// let b = Baseline::fit(&schema, &[("x", Column::Numeric(&reference))], BaselineConfig::default())?;
/// let shifted: Vec<f64> = (100..300).map(f64::from).collect();
/// let r = check(&b, &[("x", Column::Numeric(&shifted))], &DriftConfig::default())?;
/// let x = &r.features[0];
/// assert_eq!((x.drift_method, x.drifted), (DriftMethod::Ks, true));
/// assert!((x.drift_score - 0.5).abs() < 1e-12); // KS D: half the current lies above the reference
/// assert_eq!(r.drifted_count, 1);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn check(
    baseline: &Baseline,
    current: &[(&str, Column<'_>)],
    config: &DriftConfig,
) -> Result<DriftReport> {
    config.validate(Some(baseline))?;
    let (rows, matched) = match_columns(baseline.schema(), current)?;
    let jobs: Vec<(&FeatureBaseline, Column<'_>)> =
        baseline.features().iter().zip(matched).filter_map(|(f, c)| c.map(|c| (f, c))).collect();
    let threads = super::thread_count(config.threads, jobs.len());
    let results =
        super::par_map(&jobs, threads, |&(f, c)| feature_drift(baseline, f, c, rows, config))?;
    let features = results.into_iter().collect::<Result<Vec<_>>>()?;
    report_of(features, config)
}

/// Sorts checked features into report order, counts them and gives the model verdict
/// (adjusting the p-values by `config.correction` at `config.alpha`).
pub(crate) fn report_of(
    mut features: Vec<FeatureDrift>,
    config: &DriftConfig,
) -> Result<DriftReport> {
    features.sort_by(|a, b| {
        b.drifted
            .cmp(&a.drifted)
            .then(b.drift_score.total_cmp(&a.drift_score))
            .then_with(|| a.feature_name.cmp(&b.feature_name))
    });
    let drifted_count = features.iter().filter(|f| f.drifted).count() as u64;
    let drifted_share =
        if features.is_empty() { 0.0 } else { drifted_count as f64 / features.len() as f64 };
    let model = model_verdict(&mut features, config)?;
    Ok(DriftReport { features, drifted_count, drifted_share, model })
}

/// Adjusts the tested features' p-values and gives the model-level verdict.
fn model_verdict(features: &mut [FeatureDrift], config: &DriftConfig) -> Result<ModelVerdict> {
    let tested: Vec<usize> =
        (0..features.len()).filter(|&i| features[i].p_value.is_some()).collect();
    let p: Vec<f64> = tested.iter().filter_map(|&i| features[i].p_value).collect();
    let adjusted = adjust(&p, config.correction)?;
    for (&i, &a) in tested.iter().zip(&adjusted) {
        features[i].adjusted_p_value = Some(a);
    }
    let alpha = config.alpha;
    // A distance feature counts when significant after adjustment and past its threshold.
    let rejected = tested
        .iter()
        .zip(&adjusted)
        .filter(|&(&i, &a)| {
            let f = &features[i];
            a < alpha && (f.drift_method.uses_p_value() || f.drift_score > f.threshold)
        })
        .count() as u64;
    let distance_drifted =
        features.iter().filter(|f| f.p_value.is_none() && f.drifted).count() as u64;
    Ok(ModelVerdict {
        correction: config.correction,
        alpha,
        tested: tested.len() as u64,
        rejected,
        min_adjusted_p_value: adjusted.iter().copied().reduce(f64::min),
        distance_drifted,
        drifted: rejected > 0 || distance_drifted > 0,
    })
}

fn feature_drift(
    baseline: &Baseline,
    feature: &FeatureBaseline,
    column: Column<'_>,
    rows: usize,
    config: &DriftConfig,
) -> Result<FeatureDrift> {
    let name = feature.name();
    let kind = feature.schema.kind;
    let (method, threshold) = config.method_for(name, kind);
    let named = |e: Error| Error::invalid_input(format!("feature '{name}': {e}"));
    let (mut nulls, mut violations) = (0u64, 0u64);
    let mut r = Scores::default();
    let (baseline_summary, current_summary) = match kind {
        FeatureKind::Numeric => {
            let Some(stats) = feature.numeric.as_ref() else {
                return Err(Error::invalid_input(format!(
                    "feature '{name}': the baseline has no non-null value"
                )));
            };
            let mut values = Vec::with_capacity(rows);
            if let Column::Numeric(slice) = column {
                // The common case, without a per-row match: NaN is null, ±∞ a violation.
                values.extend(slice[..rows].iter().copied().filter(|x| x.is_finite()));
                nulls = slice[..rows].iter().filter(|x| x.is_nan()).count() as u64;
                violations = (rows - values.len()) as u64 - nulls;
            } else {
                for i in 0..rows {
                    match column.get(i).unwrap_or(Value::Null) {
                        Value::Null => nulls += 1,
                        Value::Number(x) if x.is_finite() => values.push(x),
                        _ => violations += 1,
                    }
                }
            }
            if values.is_empty() {
                return Err(Error::invalid_input(format!(
                    "feature '{name}': no valid current value ({nulls} nulls, {violations} violations)"
                )));
            }
            let sorted = SortedSample::new(values).map_err(named)?;
            let cur = sorted.as_slice();
            let cur_bins = stats.psi.bin_counts_sorted(cur);
            let reference = stats.sample.as_slice();
            let wants_w1 = config.compute_wasserstein || method == DriftMethod::Wasserstein;
            let normalise = |d: f64| if stats.sd > 0.0 { d / stats.sd } else { d };
            // Wasserstein's verdict also asks KS (the matching test) for significance.
            let wants_ks = method == DriftMethod::Ks
                || (method == DriftMethod::Wasserstein && config.calibrate_distances);
            if wants_ks && wants_w1 {
                // One merge pass for both (the merge is most of their cost).
                let (t, w1) =
                    ks::ks_2samp_sorted_with_wasserstein(&stats.sample, &sorted).map_err(named)?;
                r.score = t.statistic;
                r.p = Some(t.p_value);
                r.wasserstein = Some(normalise(w1));
            } else {
                if wants_ks {
                    let t = ks::ks_2samp_sorted(
                        &stats.sample,
                        &sorted,
                        Alternative::TwoSided,
                        ks::Method::Auto,
                    )
                    .map_err(named)?;
                    r.score = t.statistic;
                    r.p = Some(t.p_value);
                }
                if wants_w1 {
                    let w = wasserstein_drift_sorted(reference, cur, stats.sd).map_err(named)?;
                    r.wasserstein = Some(w.normalized.unwrap_or(w.distance));
                }
            }
            if config.compute_psi || method == DriftMethod::Psi {
                r.psi = Some(stats.psi.psi_of_counts(cur_bins.clone()).map_err(named)?.value);
            }
            if method == DriftMethod::Js {
                let p: Vec<f64> = stats.psi.counts().iter().map(|&c| c as f64).collect();
                let q: Vec<f64> = cur_bins.iter().map(|&c| c as f64).collect();
                r.score = jensen_shannon(&p, &q, Some(2.0)).map_err(named)?;
            }
            if config.calibrate_distances && matches!(method, DriftMethod::Psi | DriftMethod::Js) {
                r.p = Some(table_p_value(stats.psi.counts(), &cur_bins).map_err(named)?);
            }
            let ref_total = stats.psi.total().max(1) as f64;
            let n = cur.len() as f64;
            let (mean, sd) = mean_sd(cur);
            (
                DistributionSummary::Numeric {
                    count: feature.count,
                    nulls: feature.null_count,
                    violations: 0,
                    mean: stats.mean,
                    sd: stats.sd,
                    min: stats.min,
                    quartiles: stats.quartiles,
                    max: stats.max,
                    bin_proportions: stats
                        .psi
                        .counts()
                        .iter()
                        .map(|&c| c as f64 / ref_total)
                        .collect(),
                    bin_edges: stats.psi.edges().to_vec(),
                },
                DistributionSummary::Numeric {
                    count: rows as u64,
                    nulls,
                    violations,
                    mean,
                    sd,
                    min: cur[0],
                    quartiles: quartiles(cur),
                    max: cur[cur.len() - 1],
                    bin_proportions: cur_bins.iter().map(|&c| c as f64 / n).collect(),
                    bin_edges: stats.psi.edges().to_vec(),
                },
            )
        }
        FeatureKind::Categorical => {
            if feature.categories.is_empty() {
                return Err(Error::invalid_input(format!(
                    "feature '{name}': the baseline has no non-null value"
                )));
            }
            let mut tally = CategoryTally::default();
            for i in 0..rows {
                match column.get(i).unwrap_or(Value::Null) {
                    Value::Null => nulls += 1,
                    Value::Text(s) => tally.add(s),
                    Value::Number(_) => violations += 1,
                }
            }
            let counts = tally.into_counts();
            if counts.is_empty() {
                return Err(Error::invalid_input(format!(
                    "feature '{name}': no valid current value ({nulls} nulls, {violations} violations)"
                )));
            }
            let t = chi2::categorical(
                feature.categories.iter().map(|(k, &c)| (k.as_str(), c)),
                counts.iter().map(|(&k, &c)| (k, c)),
                true,
            )
            .map_err(named)?;
            match method {
                DriftMethod::Chi2 => {
                    r.score = t.test.statistic;
                    r.p = Some(t.test.p_value);
                }
                DriftMethod::Js => {
                    let p: Vec<f64> = t.reference.iter().map(|&c| c as f64).collect();
                    let q: Vec<f64> = t.current.iter().map(|&c| c as f64).collect();
                    r.score = jensen_shannon(&p, &q, Some(2.0)).map_err(named)?;
                }
                _ => {}
            }
            if config.compute_psi || method == DriftMethod::Psi {
                let epsilon = baseline.config().psi.epsilon;
                let Some(psi_base) = feature.categorical_psi(epsilon) else {
                    return Err(Error::invalid_input(format!(
                        "feature '{name}': cannot fit a categorical PSI baseline"
                    )));
                };
                let p = psi_base
                    .psi(counts.iter().map(|(&k, &c)| (k.to_string(), c)))
                    .map_err(named)?;
                r.psi = Some(p.value);
            }
            if config.calibrate_distances && matches!(method, DriftMethod::Psi | DriftMethod::Js) {
                // The significance of the same table: the reference-vs-current chi-square.
                r.p = Some(t.test.p_value);
            }
            (
                DistributionSummary::Categorical {
                    count: feature.count,
                    nulls: feature.null_count,
                    violations: 0,
                    counts: feature.categories.clone(),
                },
                DistributionSummary::Categorical {
                    count: rows as u64,
                    nulls,
                    violations,
                    counts: counts.into_iter().map(|(k, c)| (k.to_string(), c)).collect(),
                },
            )
        }
    };
    match method {
        DriftMethod::Psi => r.score = r.psi.unwrap_or(0.0),
        DriftMethod::Wasserstein => r.score = r.wasserstein.unwrap_or(0.0),
        _ => {}
    }
    let drifted = match r.p {
        Some(p) if method.uses_p_value() => p < threshold,
        // A distance drifts when it passes its threshold and is unlikely under no drift.
        Some(p) => r.score > threshold && p < config.alpha,
        None => r.score > threshold,
    };
    Ok(FeatureDrift {
        feature_name: name.to_string(),
        kind,
        drift_method: method,
        drift_score: r.score,
        p_value: r.p,
        threshold,
        drifted,
        adjusted_p_value: None,
        psi: r.psi,
        wasserstein: r.wasserstein,
        baseline_summary,
        current_summary,
    })
}

/// The p-value of no difference between reference cell counts `a` and current cell counts
/// `b` (the numeric PSI bins): the two-sample Pearson chi-square statistic
/// `n·m · Σ (aᵢ/n − bᵢ/m)² / (aᵢ + bᵢ)` over the `k` occupied cells, against χ² with `k − 1`
/// degrees of freedom. A distance (PSI, JS) measures how far apart the two histograms are;
/// this says whether they are further apart than the two sample sizes explain. (The
/// second-order link `PSI ≈ χ²·(1/n + 1/m)` was tried first: with sparse cells and an
/// ε-filled empty bin it flagged up to half of healthy checks; see docs/drift-calibration.md.)
#[allow(clippy::cast_precision_loss)]
fn table_p_value(a: &[u64], b: &[u64]) -> Result<f64> {
    let (n, m) = (a.iter().sum::<u64>() as f64, b.iter().sum::<u64>() as f64);
    let mut cells = 0usize;
    let mut sum = 0.0;
    for (&x, &y) in a.iter().zip(b) {
        if x + y > 0 {
            cells += 1;
            let d = x as f64 / n - y as f64 / m;
            sum += d * d / (x + y) as f64;
        }
    }
    if cells < 2 || n == 0.0 || m == 0.0 {
        return Ok(1.0); // one cell: both sides are the same distribution
    }
    chi2_sf(n * m * sum, (cells - 1) as f64)
}

#[derive(Default)]
struct Scores {
    score: f64,
    p: Option<f64>,
    psi: Option<f64>,
    wasserstein: Option<f64>,
}

/// How [`concept_drift`] decides (serde camelCase, the original design's names).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConceptDriftConfig {
    /// Labelled samples needed on each side to judge. Default 100; at least 1.
    pub min_labeled_samples: u64,
    /// Accuracy drop (baseline − current, a fraction) above which concept drift may be
    /// declared. Default 0.05; in `[0, 1)`.
    pub accuracy_drop_threshold: f64,
    /// Significance level of the one-sided z-test. Default 0.05; in `(0, 1)`.
    pub alpha: f64,
}

impl Default for ConceptDriftConfig {
    fn default() -> Self {
        ConceptDriftConfig { min_labeled_samples: 100, accuracy_drop_threshold: 0.05, alpha: 0.05 }
    }
}

impl ConceptDriftConfig {
    /// Checks every field's range.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the field (`minLabeledSamples`,
    /// `accuracyDropThreshold`, `alpha`).
    pub fn validate(&self) -> Result<()> {
        if self.min_labeled_samples == 0 {
            return Err(Error::invalid_input("minLabeledSamples must be at least 1"));
        }
        let t = self.accuracy_drop_threshold;
        if !(0.0..1.0).contains(&t) {
            return Err(Error::invalid_input(format!(
                "accuracyDropThreshold must be in [0, 1), got {t}"
            )));
        }
        check_level("alpha", self.alpha)
    }
}

/// The result of [`concept_drift`] (serde camelCase).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConceptDrift {
    /// Correct predictions in the baseline window.
    pub baseline_correct: u64,
    /// Labelled predictions in the baseline window.
    pub baseline_total: u64,
    /// Correct predictions in the current window.
    pub current_correct: u64,
    /// Labelled predictions in the current window.
    pub current_total: u64,
    /// `baseline_correct / baseline_total` (`None` without labels).
    pub baseline_accuracy: Option<f64>,
    /// `current_correct / current_total` (`None` without labels).
    pub current_accuracy: Option<f64>,
    /// Baseline accuracy − current accuracy (`None` unless both exist).
    pub accuracy_drop: Option<f64>,
    /// Pooled two-proportion z statistic of the drop, `drop / √(p̂(1−p̂)(1/n₁ + 1/n₂))` with
    /// `p̂` the pooled accuracy; 0 when `p̂` is 0 or 1 (then both accuracies are equal).
    pub z_statistic: Option<f64>,
    /// One-sided p-value for a drop, `P(Z ≥ z)` of the standard normal.
    pub p_value: Option<f64>,
    /// Whether both sides have at least `minLabeledSamples` labels.
    pub enough_data: bool,
    /// The accuracy drop the verdict needs (the config's `accuracyDropThreshold`).
    #[serde(default)]
    pub threshold: Option<f64>,
    /// `enough_data && drop > accuracyDropThreshold && p < alpha`.
    pub drifted: bool,
}

/// The standard normal survival function `P(Z ≥ z)`, through the chi-square tail on one
/// degree of freedom (`P(Z² ≥ z²) = erfc(|z|/√2)`, [`chi2_sf`], relative accuracy ~1e-15).
///
/// # Errors
///
/// [`Error::InvalidInput`] if `z` is NaN.
pub fn normal_sf(z: f64) -> Result<f64> {
    if z.is_nan() {
        return Err(Error::invalid_input("normal_sf: z is NaN"));
    }
    let two_sided = chi2_sf(z * z, 1.0)?;
    Ok(if z >= 0.0 { 0.5 * two_sided } else { 1.0 - 0.5 * two_sided })
}

/// Concept drift from labelled accuracy: a one-sided pooled two-proportion z-test for a drop
/// from the baseline accuracy to the current one (see [`ConceptDrift`] for every field).
/// Too few labels is not an error: `enough_data` is then `false` and `drifted` too.
///
/// # Errors
///
/// [`Error::InvalidInput`] for an invalid config, or `baseline_correct > baseline_total` /
/// `current_correct > current_total` (naming the argument).
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::check::{concept_drift, ConceptDriftConfig};
/// let c = concept_drift(900, 1000, 800, 1000, &ConceptDriftConfig::default())?;
/// assert!((c.accuracy_drop.unwrap() - 0.1).abs() < 1e-12);
/// assert!(c.enough_data && c.drifted);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn concept_drift(
    baseline_correct: u64,
    baseline_total: u64,
    current_correct: u64,
    current_total: u64,
    config: &ConceptDriftConfig,
) -> Result<ConceptDrift> {
    config.validate()?;
    for (what, c, t) in [
        ("baseline_correct", baseline_correct, baseline_total),
        ("current_correct", current_correct, current_total),
    ] {
        if c > t {
            return Err(Error::invalid_input(format!("{what} ({c}) exceeds its total ({t})")));
        }
    }
    let acc = |c: u64, t: u64| (t > 0).then(|| c as f64 / t as f64);
    let (p1, p2) = (acc(baseline_correct, baseline_total), acc(current_correct, current_total));
    let mut out = ConceptDrift {
        baseline_correct,
        baseline_total,
        current_correct,
        current_total,
        baseline_accuracy: p1,
        current_accuracy: p2,
        accuracy_drop: None,
        z_statistic: None,
        p_value: None,
        enough_data: baseline_total >= config.min_labeled_samples
            && current_total >= config.min_labeled_samples,
        threshold: Some(config.accuracy_drop_threshold),
        drifted: false,
    };
    if let (Some(p1), Some(p2)) = (p1, p2) {
        let drop = p1 - p2;
        let (n1, n2) = (baseline_total as f64, current_total as f64);
        let pooled = (baseline_correct as f64 + current_correct as f64) / (n1 + n2);
        let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
        let z = if se > 0.0 { drop / se } else { 0.0 };
        let p = normal_sf(z)?;
        out.accuracy_drop = Some(drop);
        out.z_statistic = Some(z);
        out.p_value = Some(p);
        out.drifted = out.enough_data && drop > config.accuracy_drop_threshold && p < config.alpha;
    }
    Ok(out)
}

impl ConceptDrift {
    /// The [`DriftMetrics`] row: driftType `"concept"`, featureName `"accuracy"`, driftMethod
    /// `"accuracy_drop"`, driftScore the accuracy drop, the distributions
    /// `{correct, total, accuracy}` of each side. `None` when a side has no label (no
    /// accuracy to report).
    pub fn to_row(
        &self,
        model_name: &str,
        model_version: &str,
        timestamp: Timestamp,
    ) -> Option<DriftMetrics> {
        let drop = self.accuracy_drop?;
        let side = |c: u64, t: u64, a: Option<f64>| serde_json::json!({ "correct": c, "total": t, "accuracy": a });
        Some(DriftMetrics {
            id: row_id(model_name, model_version, timestamp, DriftType::Concept, "accuracy"),
            model_name: model_name.to_string(),
            model_version: model_version.to_string(),
            timestamp,
            drift_type: DriftType::Concept,
            feature_name: "accuracy".to_string(),
            drift_score: drop,
            drift_method: "accuracy_drop".to_string(),
            p_value: self.p_value,
            threshold: self.threshold,
            drifted: self.drifted,
            baseline_distribution: side(
                self.baseline_correct,
                self.baseline_total,
                self.baseline_accuracy,
            ),
            current_distribution: side(
                self.current_correct,
                self.current_total,
                self.current_accuracy,
            ),
        })
    }
}

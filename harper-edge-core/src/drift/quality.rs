//! Data-quality metrics of current data against a [`Baseline`]: schema violations, null
//! rates, outliers, value-range violations and unknown categories, as one
//! [`DataQualityMetrics`] record per check (serde camelCase, the original design's field
//! names; maps are `BTreeMap`s, so the JSON is stable).
//!
//! # Definitions
//!
//! The current data are named columns ([`Column`]), all of one length: that length is
//! `totalRecords` (0 without any column). For each feature of the baseline and each row, the
//! value is one of:
//!
//! - **null**: NaN in a numeric column, `None` in a categorical one, [`Value::Null`], or the
//!   feature's column is **missing** altogether;
//! - **a violation** of the schema: a value of the wrong kind (text for a numeric feature, a
//!   non-NaN number for a categorical one — whatever the column type), or `±∞` for a numeric
//!   feature;
//! - **valid** otherwise.
//!
//! Then:
//!
//! - `schemaViolations`: rows with at least one violation or at least one missing column
//!   (a row counts once however many features it violates);
//! - `nullRates[f]`: null rows of `f` / `totalRecords` (a missing column: 1; no rows: 0);
//! - `outlierCounts[f]` (numeric features): valid values outside the baseline's Tukey fences
//!   (`x < Q1 − 1.5·IQR` or `x > Q3 + 1.5·IQR`, see [`super::baseline::NumericSummary`]);
//!   0 when the baseline has no non-null value for `f`;
//! - `rangeViolations[f]` (numeric features with a declared
//!   [`range`](super::baseline::FeatureSchema::range) only): valid values outside
//!   `[low, high]` (both inclusive);
//! - `unknownCategories[f]` (categorical features): valid values not among the schema's
//!   declared categories, or, when the schema declares none, not seen in the baseline.
//!
//! Null and violating values count in none of the last three.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::baseline::{Baseline, Column, FeatureBaseline, FeatureKind, Value, match_columns};
use crate::clock::Timestamp;
use crate::error::Result;

/// The data quality of one batch of current data (serde camelCase; see the module
/// documentation for each field's definition).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataQualityMetrics {
    /// `modelName:modelVersion:timestamp` (timestamp in epoch ms): one row per check.
    pub id: String,
    /// The model the data were meant for.
    pub model_name: String,
    /// Its version.
    pub model_version: String,
    /// When the check ran (epoch milliseconds).
    pub timestamp: Timestamp,
    /// Rows checked.
    pub total_records: u64,
    /// Rows with at least one schema violation or missing column.
    pub schema_violations: u64,
    /// Per feature: share of null rows, in `[0, 1]`.
    pub null_rates: BTreeMap<String, f64>,
    /// Per numeric feature: values outside the baseline's Tukey fences.
    pub outlier_counts: BTreeMap<String, u64>,
    /// Per numeric feature with a declared range: values outside it.
    pub range_violations: BTreeMap<String, u64>,
    /// Per categorical feature: values of an unknown category.
    pub unknown_categories: BTreeMap<String, u64>,
}

/// The data-quality check ([`DataQuality::check`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct DataQuality;

impl DataQuality {
    /// Checks current columns against a baseline (see the module documentation).
    /// `O(rows × features)`, plus a category lookup per categorical value; features are
    /// counted in parallel on all cores.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) naming the column if a column is
    /// given twice, is not a feature of the baseline, or has another length than the first
    /// column.
    ///
    /// # Examples
    ///
    /// ```
    /// use harper_edge_core::Timestamp;
    /// use harper_edge_core::drift::baseline::{Baseline, BaselineConfig, Column, FeatureSchema};
    /// use harper_edge_core::drift::quality::DataQuality;
    ///
    /// let schema = [FeatureSchema::numeric("x").with_range(0.0, 10.0)];
    /// let reference = [1.0, 2.0, 3.0, 4.0];
    /// let columns = [("x", Column::Numeric(&reference))];
    /// let b = Baseline::fit(&schema, &columns, BaselineConfig::default())?;
    /// let current = [2.0, f64::NAN, 12.0, f64::INFINITY];
    /// let columns = [("x", Column::Numeric(&current))];
    /// let m = DataQuality::check(&b, &columns, "m", "1", Timestamp::from_millis(0))?;
    /// assert_eq!((m.total_records, m.schema_violations), (4, 1)); // ∞
    /// assert_eq!(m.null_rates["x"], 0.25); // NaN
    /// assert_eq!(m.outlier_counts["x"], 1); // 12 > 3.25 + 1.5 · 1.5
    /// assert_eq!(m.range_violations["x"], 1); // 12 > 10
    /// # Ok::<(), harper_edge_core::Error>(())
    /// ```
    pub fn check(
        baseline: &Baseline,
        columns: &[(&str, Column<'_>)],
        model_name: &str,
        model_version: &str,
        timestamp: Timestamp,
    ) -> Result<DataQualityMetrics> {
        let (rows, matched) = match_columns(baseline.schema(), columns)?;
        let mut m = DataQualityMetrics {
            id: format!("{model_name}:{model_version}:{}", timestamp.as_millis()),
            model_name: model_name.to_string(),
            model_version: model_version.to_string(),
            timestamp,
            total_records: rows as u64,
            schema_violations: 0,
            null_rates: BTreeMap::new(),
            outlier_counts: BTreeMap::new(),
            range_violations: BTreeMap::new(),
            unknown_categories: BTreeMap::new(),
        };
        let jobs: Vec<(&FeatureBaseline, Option<Column<'_>>)> =
            baseline.features().iter().zip(matched).collect();
        // Features on all cores, each thread taking the next; rows that violate are listed
        // per feature (rarely any) and merged.
        let threads = super::thread_count(None, jobs.len());
        let counted = super::par_map(&jobs, threads, |&(f, c)| feature_quality(f, c, rows))?;
        let mut violating: Option<Vec<bool>> = None;
        for ((feature, _), q) in jobs.iter().zip(counted) {
            let name = feature.name().to_string();
            let rate = if rows == 0 { 0.0 } else { q.nulls as f64 / rows as f64 };
            match feature.schema.kind {
                FeatureKind::Numeric => {
                    m.outlier_counts.insert(name.clone(), q.outliers);
                    if feature.schema.range.is_some() {
                        m.range_violations.insert(name.clone(), q.out_of_range);
                    }
                }
                FeatureKind::Categorical => {
                    m.unknown_categories.insert(name.clone(), q.unknown);
                }
            }
            m.null_rates.insert(name, rate);
            match q.violations {
                Violations::None => {}
                Violations::All => violating = Some(vec![true; rows]),
                Violations::Rows(list) => {
                    let flags = violating.get_or_insert_with(|| vec![false; rows]);
                    for r in list {
                        flags[r] = true;
                    }
                }
            }
        }
        m.schema_violations = violating.map_or(0, |v| v.iter().filter(|&&x| x).count()) as u64;
        Ok(m)
    }
}

/// Rows of one feature that violate the schema.
enum Violations {
    None,
    /// The feature's column is missing: every row.
    All,
    Rows(Vec<usize>),
}

/// The counts of one feature.
struct FeatureQuality {
    nulls: u64,
    outliers: u64,
    out_of_range: u64,
    unknown: u64,
    violations: Violations,
}

fn feature_quality(
    feature: &FeatureBaseline,
    column: Option<Column<'_>>,
    rows: usize,
) -> FeatureQuality {
    let mut q = FeatureQuality {
        nulls: 0,
        outliers: 0,
        out_of_range: 0,
        unknown: 0,
        violations: Violations::None,
    };
    let Some(column) = column else {
        q.nulls = rows as u64;
        if rows > 0 {
            q.violations = Violations::All;
        }
        return q;
    };
    let schema = &feature.schema;
    // Whether a category is known, remembered by the address and length of its text
    // (columns from the bindings share one string per category); at most 64 entries.
    let mut known_by_address: Vec<((usize, usize), bool)> = Vec::new();
    let mut violating = Vec::new();
    for row in 0..rows {
        match (schema.kind, column.get(row).unwrap_or(Value::Null)) {
            (_, Value::Null) => q.nulls += 1,
            (FeatureKind::Numeric, Value::Number(x)) if x.is_finite() => {
                if feature.numeric.as_ref().is_some_and(|s| s.is_outlier(x)) {
                    q.outliers += 1;
                }
                if schema.range.is_some_and(|(lo, hi)| x < lo || x > hi) {
                    q.out_of_range += 1;
                }
            }
            (FeatureKind::Categorical, Value::Text(s)) => {
                let address = (s.as_ptr() as usize, s.len());
                let known = match known_by_address.iter().find(|e| e.0 == address) {
                    Some(&(_, known)) => known,
                    None => {
                        let known = feature.is_known_category(s);
                        if known_by_address.len() < 64 {
                            known_by_address.push((address, known));
                        }
                        known
                    }
                };
                if !known {
                    q.unknown += 1;
                }
            }
            _ => violating.push(row),
        }
    }
    if !violating.is_empty() {
        q.violations = Violations::Rows(violating);
    }
    q
}

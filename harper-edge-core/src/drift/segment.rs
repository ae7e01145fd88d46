//! Drift per segment: the same check, split by the value of a key column — a model version,
//! a canary or A/B arm, a user cohort, any categorical feature.
//!
//! # Which reference a segment is compared with
//!
//! - **Its own reference segment** ([`SegmentReference::PerSegment`]), when the key is a
//!   column of the reference data (a cohort, a country, any categorical feature). Segments
//!   differ from each other even on healthy data; comparing one cohort with the pooled
//!   reference would flag that difference as drift. A [`SegmentedBaseline`] keeps one
//!   baseline per reference segment for that.
//! - **The whole reference** ([`SegmentReference::Whole`]), when the key is not a property
//!   of the data but of how it was served — a model version, a canary or A/B arm — so every
//!   segment sees the same population and should match the whole baseline.
//!
//! The key column itself is never tested inside a segment (it is constant there).
//!
//! # Calibration and multiple testing
//!
//! Each segment's [`DriftReport`] is computed exactly as an unsegmented check is, with the
//! same calibrated tests, and its own model verdict corrected across its features. The
//! overall verdict ([`SegmentedReport::model`]) and each segment's
//! [`SegmentDrift::drifted`] adjust **every** tested p-value of every segment together by
//! [`DriftConfig::correction`]: with Holm, the chance that any segment is called drifted on
//! healthy data is at most `alpha`, however many segments there are.
//!
//! # Small, new and surplus segments
//!
//! A segment with fewer than [`SegmentConfig::min_rows`] current rows, or (per segment) whose
//! reference segment has fewer, is listed but not tested, with the reason; so is a segment
//! that the reference never saw. Beyond [`SegmentConfig::max_segments`] (largest first) the
//! rest are counted in [`SegmentedReport::omitted_segments`] / `omitted_rows`. Rows whose key
//! is null form the segment `None`, compared with the whole reference.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::baseline::{Baseline, BaselineConfig, Column, FeatureSchema, Value};
use super::check::{self, DriftConfig, DriftReport, FeatureDrift};
use super::frame::number_category;
use super::multiple::{ModelVerdict, adjust};
use crate::error::{Error, Result};

/// How a check is split (serde camelCase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SegmentConfig {
    /// The column whose value names each row's segment.
    pub key: String,
    /// Segments with fewer current rows (or, compared per segment, fewer reference rows) are
    /// not tested (default 30).
    pub min_rows: u64,
    /// At most this many segments are tested, the largest first (default 100).
    pub max_segments: usize,
}

impl Default for SegmentConfig {
    fn default() -> Self {
        SegmentConfig { key: String::new(), min_rows: 30, max_segments: 100 }
    }
}

impl SegmentConfig {
    /// Splits by `key` with the default limits.
    pub fn by(key: impl Into<String>) -> Self {
        SegmentConfig { key: key.into(), ..SegmentConfig::default() }
    }

    /// Checks the configuration.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty key, `minRows` 0 or `maxSegments` 0.
    pub fn validate(&self) -> Result<()> {
        if self.key.is_empty() {
            return Err(Error::invalid_input("segment key is empty"));
        }
        if self.min_rows == 0 {
            return Err(Error::invalid_input("segment minRows must be at least 1"));
        }
        if self.max_segments == 0 {
            return Err(Error::invalid_input("segment maxSegments must be at least 1"));
        }
        Ok(())
    }
}

/// One baseline per segment of a reference, plus the whole reference's (serde camelCase;
/// [`SegmentedBaseline::to_json`] / [`SegmentedBaseline::from_json`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentedBaseline {
    key: String,
    whole: Baseline,
    segments: BTreeMap<String, Baseline>,
    /// Reference rows of every segment (also those too small to fit).
    rows: BTreeMap<String, u64>,
    min_rows: u64,
}

impl SegmentedBaseline {
    /// Fits the whole baseline on `columns` (the key left out) and one baseline per value
    /// of the key column with at least `min_rows` rows (smaller segments are counted only).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the key column is missing, `min_rows` is 0, or as
    /// [`Baseline::fit`].
    pub fn fit(
        schema: &[FeatureSchema],
        columns: &[(&str, Column<'_>)],
        key: &str,
        min_rows: u64,
        config: BaselineConfig,
    ) -> Result<Self> {
        SegmentConfig { key: key.to_string(), min_rows, max_segments: usize::MAX }.validate()?;
        let key_column = find_key(columns, key)?;
        let schema: Vec<FeatureSchema> = schema.iter().filter(|f| f.name != key).cloned().collect();
        let data: Vec<(&str, Column<'_>)> =
            columns.iter().filter(|(n, _)| schema.iter().any(|f| f.name == *n)).copied().collect();
        let whole = Baseline::fit(&schema, &data, config)?;
        let groups = group_rows(key_column)?;
        let mut segments = BTreeMap::new();
        let mut rows = BTreeMap::new();
        for (value, indices) in groups.named {
            rows.insert(value.clone(), indices.len() as u64);
            if (indices.len() as u64) < min_rows {
                continue;
            }
            let part = Gathered::take(&data, &indices);
            let baseline = part.with_columns(|c| Baseline::fit(&schema, c, config))?;
            segments.insert(value, baseline);
        }
        Ok(SegmentedBaseline { key: key.to_string(), whole, segments, rows, min_rows })
    }

    /// The key column.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The baseline of the whole reference.
    pub fn whole(&self) -> &Baseline {
        &self.whole
    }

    /// The baseline of one segment (`None`: not in the reference, or too small).
    pub fn segment(&self, value: &str) -> Option<&Baseline> {
        self.segments.get(value)
    }

    /// Reference rows per segment value.
    pub fn segment_rows(&self) -> &BTreeMap<String, u64> {
        &self.rows
    }

    /// The baseline as JSON.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] if serialisation fails (it does not for a fitted baseline).
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string(self)?)
    }

    /// Reads a segmented baseline from JSON (each baseline checked as by
    /// [`Baseline::from_json`]).
    ///
    /// # Errors
    ///
    /// [`Error::Integrity`] if the JSON is malformed or a baseline inconsistent.
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json)
            .map_err(|e| Error::Integrity { message: format!("corrupt segmented baseline: {e}") })
    }
}

/// What a segmented check compares its segments with.
#[derive(Debug, Clone, Copy)]
pub enum SegmentReference<'a> {
    /// Every segment against one baseline (versions, arms).
    Whole(&'a Baseline),
    /// Each segment against its own reference segment (cohorts, categorical features).
    PerSegment(&'a SegmentedBaseline),
}

/// Which reference a segment was compared with (serde: `"whole"`, `"segment"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ComparedWith {
    /// The whole reference.
    Whole,
    /// The same segment of the reference.
    Segment,
}

/// The drift of one segment (serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentDrift {
    /// The key's value (`None`: rows whose key is null).
    pub segment: Option<String>,
    /// Current rows in the segment.
    pub rows: u64,
    /// Rows of the reference it was compared with (0 when the reference never saw it).
    pub reference_rows: u64,
    /// What it was compared with.
    pub compared_with: ComparedWith,
    /// The check, when the segment was tested.
    pub report: Option<DriftReport>,
    /// Why it was not tested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Its smallest p-value adjusted across every segment's tested features.
    pub min_adjusted_p_value: Option<f64>,
    /// Whether the segment drifted, with the error rate controlled across all segments.
    pub drifted: bool,
}

/// The result of [`check_segments`] (serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentedReport {
    /// The key column.
    pub key: String,
    /// Tested and untested segments: drifted first, then by current rows, then by value.
    pub segments: Vec<SegmentDrift>,
    /// Segments that drifted.
    pub drifted_segments: u64,
    /// Segments past `maxSegments`, not listed.
    pub omitted_segments: u64,
    /// Current rows in those segments.
    pub omitted_rows: u64,
    /// The verdict over every tested feature of every segment, the error rate controlled
    /// across all of them.
    pub model: ModelVerdict,
}

impl SegmentedReport {
    /// The segment with key value `value` (`None` for the null segment).
    pub fn segment(&self, value: Option<&str>) -> Option<&SegmentDrift> {
        self.segments.iter().find(|s| s.segment.as_deref() == value)
    }
}

/// Checks `current` (which must carry the key column) segment by segment (see the module
/// documentation). Columns that are not features of the reference are ignored.
///
/// # Errors
///
/// [`Error::InvalidInput`] for a bad configuration, a missing key column, columns of
/// different lengths, or as [`check::check`].
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::baseline::{Column, FeatureSchema};
/// use harper_edge_core::drift::check::DriftConfig;
/// use harper_edge_core::drift::segment::{check_segments, SegmentConfig, SegmentReference};
///
/// let x: Vec<f64> = (0..1000).map(|i| f64::from(i % 100)).collect();
/// let baseline = harper_edge_core::drift::baseline::Baseline::fit(
///     &[FeatureSchema::numeric("x")],
///     &[("x", Column::Numeric(&x))],
///     Default::default(),
/// )?;
/// // Arm "b" serves shifted inputs, arm "a" the usual ones.
/// let current: Vec<f64> = (0..1000).map(|i| f64::from(i % 100) + if i % 2 == 1 { 30.0 } else { 0.0 }).collect();
/// let arms: Vec<Option<&str>> = (0..1000).map(|i| Some(if i % 2 == 1 { "b" } else { "a" })).collect();
/// let report = check_segments(
///     SegmentReference::Whole(&baseline),
///     &[("x", Column::Numeric(&current)), ("arm", Column::Categorical(&arms))],
///     &SegmentConfig::by("arm"),
///     &DriftConfig::default(),
/// )?;
/// assert!(report.segment(Some("b")).unwrap().drifted);
/// assert!(!report.segment(Some("a")).unwrap().drifted);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn check_segments(
    reference: SegmentReference<'_>,
    current: &[(&str, Column<'_>)],
    segments: &SegmentConfig,
    config: &DriftConfig,
) -> Result<SegmentedReport> {
    segments.validate()?;
    let key = segments.key.as_str();
    if let SegmentReference::PerSegment(b) = reference
        && b.key != key
    {
        return Err(Error::invalid_input(format!(
            "the segmented baseline is split by '{}', not by '{key}'",
            b.key
        )));
    }
    let key_column = find_key(current, key)?;
    let whole = match reference {
        SegmentReference::Whole(b) => b,
        SegmentReference::PerSegment(b) => &b.whole,
    };
    let whole = whole.without(&[key]);
    config.validate(Some(&whole))?;
    let data: Vec<(&str, Column<'_>)> =
        whole.known_columns(current).into_iter().filter(|(n, _)| *n != key).collect();
    if let Some((name, c)) = data.iter().find(|(_, c)| c.len() != key_column.len()) {
        return Err(Error::invalid_input(format!(
            "column '{name}' has {} rows, the key column '{key}' has {}",
            c.len(),
            key_column.len()
        )));
    }
    let whole_rows = whole.features().first().map_or(0, |f| f.count);
    let groups = group_rows(key_column)?;
    let mut all: Vec<(Option<String>, Vec<u32>)> =
        groups.named.into_iter().map(|(v, rows)| (Some(v), rows)).collect();
    if !groups.null.is_empty() {
        all.push((None, groups.null));
    }
    all.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    let omitted = all.split_off(all.len().min(segments.max_segments));
    let mut out = Vec::with_capacity(all.len());
    for (value, indices) in all {
        let rows = indices.len() as u64;
        let (baseline, compared_with, reference_rows, skip) = match (reference, &value) {
            (SegmentReference::PerSegment(b), Some(v)) => {
                let reference_rows = b.rows.get(v).copied().unwrap_or(0);
                match b.segments.get(v) {
                    Some(base) => (Some(base), ComparedWith::Segment, reference_rows, None),
                    None if reference_rows == 0 => {
                        (None, ComparedWith::Segment, 0, Some("not in the reference".to_string()))
                    }
                    None => (
                        None,
                        ComparedWith::Segment,
                        reference_rows,
                        Some(format!(
                            "the reference segment has {reference_rows} rows, fewer than minRows {}",
                            segments.min_rows.max(b.min_rows)
                        )),
                    ),
                }
            }
            _ => (Some(&whole), ComparedWith::Whole, whole_rows, None),
        };
        let skip = skip.or_else(|| {
            (rows < segments.min_rows)
                .then(|| format!("{rows} rows, fewer than minRows {}", segments.min_rows))
        });
        let report = match (baseline, &skip) {
            (Some(base), None) => {
                let part = Gathered::take(&data, &indices);
                Some(part.with_columns(|c| {
                    let c = base.known_columns(c);
                    check::check(base, &c, config)
                })?)
            }
            _ => None,
        };
        out.push(SegmentDrift {
            segment: value,
            rows,
            reference_rows,
            compared_with,
            report,
            skipped: skip,
            min_adjusted_p_value: None,
            drifted: false,
        });
    }
    let model = overall_verdict(&mut out, config)?;
    out.sort_by(|a, b| {
        b.drifted.cmp(&a.drifted).then(b.rows.cmp(&a.rows)).then_with(|| a.segment.cmp(&b.segment))
    });
    Ok(SegmentedReport {
        key: key.to_string(),
        drifted_segments: out.iter().filter(|s| s.drifted).count() as u64,
        segments: out,
        omitted_segments: omitted.len() as u64,
        omitted_rows: omitted.iter().map(|(_, r)| r.len() as u64).sum(),
        model,
    })
}

/// Adjusts every tested p-value of every segment together; sets each segment's verdict.
fn overall_verdict(segments: &mut [SegmentDrift], config: &DriftConfig) -> Result<ModelVerdict> {
    let tested: Vec<(usize, &FeatureDrift)> = segments
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.report.as_ref().map(|r| (i, r)))
        .flat_map(|(i, r)| r.features.iter().filter(|f| f.p_value.is_some()).map(move |f| (i, f)))
        .collect();
    let p: Vec<f64> = tested.iter().filter_map(|(_, f)| f.p_value).collect();
    let adjusted = adjust(&p, config.correction)?;
    let alpha = config.alpha;
    let mut rejected = 0u64;
    let mut per_segment: Vec<(Option<f64>, bool)> = vec![(None, false); segments.len()];
    for (&(i, f), &a) in tested.iter().zip(&adjusted) {
        let slot = &mut per_segment[i];
        slot.0 = Some(slot.0.map_or(a, |m: f64| m.min(a)));
        if a < alpha && (f.drift_method.uses_p_value() || f.drift_score > f.threshold) {
            rejected += 1;
            slot.1 = true;
        }
    }
    let tested_count = tested.len() as u64;
    let mut distance_drifted = 0u64;
    for (s, (min, rejected)) in segments.iter_mut().zip(per_segment) {
        let distance = s.report.as_ref().map_or(0, |r| {
            r.features.iter().filter(|f| f.p_value.is_none() && f.drifted).count() as u64
        });
        distance_drifted += distance;
        s.min_adjusted_p_value = min;
        s.drifted = rejected || distance > 0;
    }
    Ok(ModelVerdict {
        correction: config.correction,
        alpha,
        tested: tested_count,
        rejected,
        min_adjusted_p_value: adjusted.iter().copied().reduce(f64::min),
        distance_drifted,
        drifted: rejected > 0 || distance_drifted > 0,
    })
}

fn find_key<'a>(columns: &[(&str, Column<'a>)], key: &str) -> Result<Column<'a>> {
    columns
        .iter()
        .find(|(n, _)| *n == key)
        .map(|(_, c)| *c)
        .ok_or_else(|| Error::invalid_input(format!("no column '{key}' to split the segments by")))
}

/// Row indices per key value, and the rows whose key is null.
struct Groups {
    named: BTreeMap<String, Vec<u32>>,
    null: Vec<u32>,
}

fn group_rows(key: Column<'_>) -> Result<Groups> {
    let n = u32::try_from(key.len())
        .map_err(|_| Error::invalid_input("a segmented check takes at most 2^32 - 1 rows"))?;
    let mut index: HashMap<String, Vec<u32>> = HashMap::new();
    let mut null = Vec::new();
    for i in 0..n {
        let rows = match key.get(i as usize) {
            // A category already seen costs a lookup, not an allocation per row.
            Some(Value::Text(s)) => match index.get_mut(s) {
                Some(rows) => rows,
                None => index.entry(s.to_string()).or_default(),
            },
            Some(Value::Number(x)) => index.entry(number_category(x)).or_default(),
            _ => {
                null.push(i);
                continue;
            }
        };
        rows.push(i);
    }
    Ok(Groups { named: index.into_iter().collect(), null })
}

/// The rows of one segment, gathered from borrowed columns (strings stay borrowed).
enum GatheredColumn<'a> {
    Numeric(Vec<f64>),
    Categorical(Vec<Option<&'a str>>),
    Mixed(Vec<Value<'a>>),
    Coded(Vec<i64>, &'a [&'a str]),
}

struct Gathered<'n, 'a> {
    columns: Vec<(&'n str, GatheredColumn<'a>)>,
}

impl<'n, 'a> Gathered<'n, 'a> {
    fn take(columns: &[(&'n str, Column<'a>)], rows: &[u32]) -> Self {
        let pick = |r: &u32| *r as usize;
        let columns = columns
            .iter()
            .map(|&(name, c)| {
                let g = match c {
                    Column::Numeric(v) => {
                        GatheredColumn::Numeric(rows.iter().map(|r| v[pick(r)]).collect())
                    }
                    Column::Categorical(v) => {
                        GatheredColumn::Categorical(rows.iter().map(|r| v[pick(r)]).collect())
                    }
                    Column::Mixed(v) => {
                        GatheredColumn::Mixed(rows.iter().map(|r| v[pick(r)]).collect())
                    }
                    Column::Coded { codes, categories } => GatheredColumn::Coded(
                        rows.iter().map(|r| codes[pick(r)]).collect(),
                        categories,
                    ),
                };
                (name, g)
            })
            .collect();
        Gathered { columns }
    }

    fn with_columns<R>(&self, f: impl FnOnce(&[(&str, Column<'_>)]) -> R) -> R {
        let columns: Vec<(&str, Column<'_>)> = self
            .columns
            .iter()
            .map(|(name, g)| {
                let c = match g {
                    GatheredColumn::Numeric(v) => Column::Numeric(v),
                    GatheredColumn::Categorical(v) => Column::Categorical(v),
                    GatheredColumn::Mixed(v) => Column::Mixed(v),
                    GatheredColumn::Coded(codes, categories) => Column::Coded { codes, categories },
                };
                (*name, c)
            })
            .collect();
        f(&columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::baseline::FeatureSchema;

    /// A deterministic uniform stream in [0, 1).
    fn uniform(seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed;
        move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Rows of (cohort, x): cohort "north" centred on 0, "south" on 5 (+ `south_shift`).
    fn cohorts(n: usize, seed: u64, south_shift: f64) -> (Vec<Option<&'static str>>, Vec<f64>) {
        let mut u = uniform(seed);
        let mut keys = Vec::with_capacity(n);
        let mut xs = Vec::with_capacity(n);
        for i in 0..n {
            let north = i % 3 != 0;
            keys.push(Some(if north { "north" } else { "south" }));
            let centre = if north { 0.0 } else { 5.0 + south_shift };
            xs.push(centre + u() * 4.0);
        }
        (keys, xs)
    }

    fn schema() -> Vec<FeatureSchema> {
        vec![FeatureSchema::categorical("cohort"), FeatureSchema::numeric("x")]
    }

    #[test]
    fn per_segment_references_keep_healthy_cohorts_healthy() {
        let (rk, rx) = cohorts(3000, 1, 0.0);
        let reference = [("cohort", Column::Categorical(&rk)), ("x", Column::Numeric(&rx))];
        let segmented =
            SegmentedBaseline::fit(&schema(), &reference, "cohort", 30, Default::default())
                .unwrap();
        assert_eq!(segmented.segment_rows()["south"], 1000);
        assert!(segmented.whole().feature("cohort").is_none(), "the key is not a feature");
        // Current data: the cohort mix changed (mostly south now), each cohort is unchanged.
        let (mut ck, cx) = cohorts(3000, 2, 0.0);
        for k in ck.iter_mut().take(1500) {
            if *k == Some("north") {
                *k = Some("south");
            }
        }
        let (ck, cx): (Vec<_>, Vec<_>) = ck
            .iter()
            .zip(&cx)
            .map(|(k, x)| (*k, if *k == Some("south") && *x < 4.0 { x + 5.0 } else { *x }))
            .unzip();
        let current = [("cohort", Column::Categorical(&ck)), ("x", Column::Numeric(&cx))];
        let config = DriftConfig::default();
        let report = check_segments(
            SegmentReference::PerSegment(&segmented),
            &current,
            &SegmentConfig::by("cohort"),
            &config,
        )
        .unwrap();
        assert_eq!(report.segments.len(), 2);
        assert_eq!(report.drifted_segments, 0, "{report:#?}");
        for s in &report.segments {
            assert_eq!(s.compared_with, ComparedWith::Segment);
            assert!(s.report.is_some());
        }
        // Against the pooled reference instead, the mix change shows up as drift of x.
        let pooled = check_segments(
            SegmentReference::Whole(segmented.whole()),
            &current,
            &SegmentConfig::by("cohort"),
            &config,
        )
        .unwrap();
        assert_eq!(pooled.drifted_segments, 2);
    }

    #[test]
    fn a_shifted_cohort_is_found_and_others_are_not() {
        let (rk, rx) = cohorts(3000, 3, 0.0);
        let reference = [("cohort", Column::Categorical(&rk)), ("x", Column::Numeric(&rx))];
        let segmented =
            SegmentedBaseline::fit(&schema(), &reference, "cohort", 30, Default::default())
                .unwrap();
        let (ck, cx) = cohorts(3000, 4, 1.0);
        let current = [("x", Column::Numeric(&cx)), ("cohort", Column::Categorical(&ck))];
        let report = check_segments(
            SegmentReference::PerSegment(&segmented),
            &current,
            &SegmentConfig::by("cohort"),
            &DriftConfig::default(),
        )
        .unwrap();
        let south = report.segment(Some("south")).unwrap();
        assert!(south.drifted && south.min_adjusted_p_value.unwrap() < 1e-6, "{south:#?}");
        assert!(!report.segment(Some("north")).unwrap().drifted);
        assert_eq!(report.segments[0].segment.as_deref(), Some("south"), "drifted first");
        assert!(report.model.drifted);
        assert_eq!(report.model.tested, 2);
        // Round trip of the saved form.
        let back = SegmentedBaseline::from_json(&segmented.to_json().unwrap()).unwrap();
        assert_eq!(back, segmented);
        assert!(SegmentedBaseline::from_json("{\"key\": 3}").is_err());
    }

    #[test]
    fn small_new_null_and_surplus_segments_are_reported_not_tested() {
        let (rk, rx) = cohorts(600, 5, 0.0);
        let reference = [("cohort", Column::Categorical(&rk)), ("x", Column::Numeric(&rx))];
        let segmented =
            SegmentedBaseline::fit(&schema(), &reference, "cohort", 250, Default::default())
                .unwrap();
        assert!(segmented.segment("south").is_none(), "200 rows < 250");
        let keys: Vec<Option<&str>> = (0..700)
            .map(|i| match i % 7 {
                0 => None,
                1 => Some("east"),
                2 | 3 => Some("south"),
                _ => Some("north"),
            })
            .collect();
        let mut u = uniform(6);
        let xs: Vec<f64> = (0..700).map(|_| u() * 4.0).collect();
        let current = [("cohort", Column::Categorical(&keys)), ("x", Column::Numeric(&xs))];
        let seg = SegmentConfig { min_rows: 150, ..SegmentConfig::by("cohort") };
        let report = check_segments(
            SegmentReference::PerSegment(&segmented),
            &current,
            &seg,
            &Default::default(),
        )
        .unwrap();
        let east = report.segment(Some("east")).unwrap();
        assert_eq!(east.skipped.as_deref(), Some("not in the reference"));
        let south = report.segment(Some("south")).unwrap();
        assert!(south.skipped.as_deref().unwrap().contains("fewer than minRows"), "{south:?}");
        let null = report.segment(None).unwrap();
        assert_eq!((null.compared_with, null.rows), (ComparedWith::Whole, 100));
        assert!(null.skipped.as_deref().unwrap().contains("100 rows"));
        let north = report.segment(Some("north")).unwrap();
        assert!(north.report.is_some() && north.skipped.is_none());
        let capped = SegmentConfig { max_segments: 2, ..seg };
        let report = check_segments(
            SegmentReference::PerSegment(&segmented),
            &current,
            &capped,
            &Default::default(),
        )
        .unwrap();
        assert_eq!(report.segments.len(), 2);
        assert_eq!((report.omitted_segments, report.omitted_rows), (2, 200));
    }

    #[test]
    fn bad_requests_are_named() {
        let x = [1.0, 2.0, 3.0];
        let b = Baseline::fit(
            &[FeatureSchema::numeric("x")],
            &[("x", Column::Numeric(&x))],
            Default::default(),
        )
        .unwrap();
        let current = [("x", Column::Numeric(&x))];
        let e = check_segments(
            SegmentReference::Whole(&b),
            &current,
            &SegmentConfig::by("arm"),
            &Default::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("no column 'arm'"), "{e}");
        let e = SegmentConfig::default().validate().unwrap_err();
        assert!(e.to_string().contains("key is empty"), "{e}");
        let arms = [Some("a"), Some("b")];
        let current = [("x", Column::Numeric(&x)), ("arm", Column::Categorical(&arms))];
        let e = check_segments(
            SegmentReference::Whole(&b),
            &current,
            &SegmentConfig::by("arm"),
            &Default::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("has 3 rows"), "{e}");
    }

    #[test]
    fn holm_across_segments_controls_the_error_rate() {
        // 200 checks of 10 healthy arms each: some arm is called drifted in at most about
        // alpha of them (Holm across arms), while per-arm verdicts alone would say so far
        // more often.
        let mut u = uniform(7);
        let reference: Vec<f64> = (0..2000).map(|_| u()).collect();
        let b = Baseline::fit(
            &[FeatureSchema::numeric("x")],
            &[("x", Column::Numeric(&reference))],
            Default::default(),
        )
        .unwrap();
        let names = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
        let arms: Vec<Option<&str>> = (0..2000).map(|i| Some(names[i % 10])).collect();
        let (mut any, mut raw) = (0u32, 0u32);
        let trials = 200u32;
        for _ in 0..trials {
            let x: Vec<f64> = (0..2000).map(|_| u()).collect();
            let current = [("x", Column::Numeric(&x)), ("arm", Column::Categorical(&arms))];
            let r = check_segments(
                SegmentReference::Whole(&b),
                &current,
                &SegmentConfig::by("arm"),
                &Default::default(),
            )
            .unwrap();
            any += u32::from(r.model.drifted);
            raw += u32::from(
                r.segments.iter().any(|s| s.report.as_ref().is_some_and(|r| r.drifted_count > 0)),
            );
        }
        // Binomial(200, 0.05): sd 0.015; 0.11 is 4 sd above. Unadjusted: about 40 %.
        assert!(f64::from(any) / f64::from(trials) < 0.11, "holm {any}");
        assert!(f64::from(raw) / f64::from(trials) > 0.2, "raw {raw}");
    }
}

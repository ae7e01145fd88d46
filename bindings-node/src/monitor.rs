//! Drift checks from JavaScript: the `Baseline` class, `checkDrift`, and the engine's stored
//! checks (`Engine#setBaseline`, `fitBaseline`, `baseline`, `checkDrift`, `driftMetrics`,
//! `dataQuality`). Columns are `Float64Array`s (read in place) or plain arrays of numbers,
//! strings, booleans and nulls.

use std::collections::{BTreeMap, HashMap};

use harper_edge_core::drift::baseline::{Baseline as CoreBaseline, BaselineConfig, Column};
use harper_edge_core::drift::check::{
    ConceptDriftConfig, DriftConfig, DriftType, FeatureOverride, check,
};
use harper_edge_core::drift::distance::PsiConfig;
use harper_edge_core::drift::frame::{Frame, OwnedColumn, OwnedValue};
use harper_edge_core::drift::quality::DataQuality;
use harper_edge_core::drift::records::{DriftQuery, LabelCounts, ModelBaseline};
use harper_edge_core::monitor::{CurrentData, DriftCheckConfig};
use harper_edge_core::{BaselineOptions, Error as CoreError, Timestamp};
use napi::bindgen_prelude::{Float64ArraySlice, Unknown};
use napi_derive::napi;
use serde_json::Value;

use crate::convert;
use crate::engine::Engine;
use crate::error::{CoreResult, Result, sync};
use crate::telemetry::record;

/// Columns from JavaScript: typed arrays borrowed, plain arrays read into a frame.
pub(crate) struct Columns<'a> {
    numeric: Vec<(String, Float64ArraySlice<'a>)>,
    other: Frame,
}

impl<'a> Columns<'a> {
    /// Reads the columns; those named in `categorical` are read as categories (numbers
    /// become their text, see `number_category`).
    pub(crate) fn decode(
        value: &Unknown<'a>,
        what: &str,
        categorical: &[String],
    ) -> CoreResult<Self> {
        let expected = "an object of columns { name: Float64Array | Array }";
        let fields: HashMap<String, Unknown<'a>> = convert::object(value, what, expected)?
            .ok_or_else(|| CoreError::invalid_input(format!("{what} must be {expected}")))?;
        let mut fields: Vec<(String, Unknown<'a>)> = fields.into_iter().collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = Columns { numeric: Vec::new(), other: Frame::new() };
        for (name, column) in fields {
            let place = format!("{what}.{name}");
            let as_categories = categorical.contains(&name);
            if convert::is_typed_array(&column) && !as_categories {
                let slice =
                    convert::typed_array::<Float64ArraySlice<'a>>(&column, &place, "Float64Array")?;
                out.numeric.push((name, slice));
            } else if convert::is_typed_array(&column) {
                let slice =
                    convert::typed_array::<Float64ArraySlice<'a>>(&column, &place, "Float64Array")?;
                let values = OwnedColumn::Numeric(slice.to_vec()).into_categorical();
                out.other.push(name, values)?;
            } else {
                let cells: Vec<Value> =
                    convert::decode(&column, &place, "a Float64Array or an array")?;
                let values = cells
                    .iter()
                    .enumerate()
                    .map(|(row, cell)| {
                        OwnedValue::from_json(cell).ok_or_else(|| {
                            CoreError::invalid_input(format!(
                                "{place}[{row}] must be a number, string, boolean or null"
                            ))
                        })
                    })
                    .collect::<CoreResult<Vec<_>>>()?;
                let values = OwnedColumn::from_values(values);
                let values = if as_categories { values.into_categorical() } else { values };
                out.other.push(name, values)?;
            }
        }
        Ok(out)
    }

    pub(crate) fn with<R>(
        &self,
        f: impl FnOnce(&[(&str, Column<'_>)]) -> CoreResult<R>,
    ) -> CoreResult<R> {
        self.other.with_columns(|other| {
            let mut all: Vec<(&str, Column<'_>)> = other.to_vec();
            all.extend(self.numeric.iter().map(|(n, v)| (n.as_str(), Column::Numeric(v))));
            f(&all)
        })
    }

    pub(crate) fn schema(&self) -> Vec<harper_edge_core::drift::baseline::FeatureSchema> {
        use harper_edge_core::drift::baseline::FeatureSchema;
        let mut schema = self.other.infer_schema();
        schema.extend(self.numeric.iter().map(|(n, _)| FeatureSchema::numeric(n)));
        schema.sort_by(|a, b| a.name.cmp(&b.name));
        schema
    }
}

/// Options of `Baseline.fit`.
#[napi(object, object_to_js = false)]
pub struct FitOptions {
    /// Declared features (`{ name, kind: 'numeric' | 'categorical', range?, categories? }`);
    /// other columns are left out.
    #[napi(ts_type = "Array<FeatureSchema>")]
    pub schema: Option<Value>,
    /// Columns to treat as categorical.
    pub categorical: Option<Vec<String>>,
    /// Columns to treat as numeric.
    pub numeric: Option<Vec<String>>,
    /// PSI quantile bins (default 10).
    pub bins: Option<u32>,
    /// PSI empty-bin proportion (default 1e-4).
    pub epsilon: Option<f64>,
    /// Keep at most this many order statistics per numeric feature (default: all).
    pub max_sample: Option<u32>,
}

/// Reference statistics for drift checks: fitted once, saved as JSON, merged across parts.
#[napi]
#[derive(Debug)]
pub struct Baseline {
    pub(crate) inner: CoreBaseline,
}

#[napi]
impl Baseline {
    /// Fits a baseline on reference columns (`Float64Array`s are numeric features; arrays
    /// numeric when every non-null entry is a number, else categorical).
    #[napi(factory, ts_args_type = "columns: DriftColumns, options?: FitOptions")]
    pub fn fit(columns: Unknown<'_>, options: Unknown<'_>) -> Result<Baseline> {
        sync(|| {
            let o: Option<FitOptions> =
                convert::object(&options, "options", "a FitOptions object")?;
            let forced: Vec<String> = match o.as_ref().and_then(|o| o.schema.as_ref()) {
                Some(schema) => {
                    let schema: Vec<harper_edge_core::drift::baseline::FeatureSchema> =
                        convert::from_json(schema.clone(), "options.schema")?;
                    use harper_edge_core::drift::baseline::FeatureKind;
                    schema
                        .iter()
                        .filter(|f| f.kind == FeatureKind::Categorical)
                        .map(|f| f.name.clone())
                        .collect()
                }
                None => o.as_ref().and_then(|o| o.categorical.clone()).unwrap_or_default(),
            };
            let columns = Columns::decode(&columns, "columns", &forced)?;
            let o = o.unwrap_or(FitOptions {
                schema: None,
                categorical: None,
                numeric: None,
                bins: None,
                epsilon: None,
                max_sample: None,
            });
            let schema = match o.schema {
                Some(s) => convert::from_json(s, "options.schema")?,
                None => {
                    let mut schema = columns.schema();
                    for name in o.categorical.iter().flatten().chain(o.numeric.iter().flatten()) {
                        if !schema.iter().any(|f| &f.name == name) {
                            return Err(CoreError::invalid_input(format!(
                                "no column '{name}' in the data"
                            )));
                        }
                    }
                    for f in &mut schema {
                        use harper_edge_core::drift::baseline::FeatureKind;
                        if o.categorical.as_ref().is_some_and(|c| c.contains(&f.name)) {
                            f.kind = FeatureKind::Categorical;
                        } else if o.numeric.as_ref().is_some_and(|c| c.contains(&f.name)) {
                            f.kind = FeatureKind::Numeric;
                        }
                    }
                    schema
                }
            };
            let d = PsiConfig::default();
            let config = BaselineConfig {
                psi: PsiConfig {
                    bins: o.bins.map_or(d.bins, |b| b as usize),
                    epsilon: o.epsilon.unwrap_or(d.epsilon),
                },
                max_sample: o.max_sample.map(|m| m as usize),
            };
            let inner = columns.with(|all| {
                let selected: Vec<(&str, Column<'_>)> = all
                    .iter()
                    .filter(|(n, _)| schema.iter().any(|f| f.name == *n))
                    .copied()
                    .collect();
                CoreBaseline::fit(&schema, &selected, config)
            })?;
            Ok(Baseline { inner })
        })
    }

    /// Reads a baseline saved with `toJson()`; a corrupt one throws `HARPER_EDGE_INTEGRITY`.
    #[napi(factory)]
    pub fn from_json(json: String) -> Result<Baseline> {
        sync(|| Ok(Baseline { inner: CoreBaseline::from_json(&json)? }))
    }

    /// The baseline as JSON.
    #[napi]
    pub fn to_json(&self) -> Result<String> {
        sync(|| self.inner.to_json())
    }

    /// The baseline of both parts' data together.
    #[napi]
    pub fn merge(&self, other: &Baseline) -> Result<Baseline> {
        sync(|| Ok(Baseline { inner: self.inner.merge(&other.inner)? }))
    }

    /// Feature names, in schema order.
    #[napi(getter)]
    pub fn features(&self) -> Vec<String> {
        self.inner.features().iter().map(|f| f.name().to_string()).collect()
    }

    /// The schema: `{ name, kind, range?, categories? }` per feature.
    #[napi(getter, ts_return_type = "Array<FeatureSchema>")]
    pub fn schema(&self) -> Result<Value> {
        sync(|| record(self.inner.schema().collect::<Vec<_>>()))
    }
}

/// Tests and thresholds of a drift check (defaults: alpha 0.05 for KS and chi-square, PSI
/// 0.2, Wasserstein 0.1, JS 0.1).
#[napi(object, object_to_js = false)]
pub struct CheckOptions {
    /// Significance level of KS and chi-square.
    pub alpha: Option<f64>,
    /// PSI threshold.
    pub psi_threshold: Option<f64>,
    /// Normalised Wasserstein threshold.
    pub wasserstein_threshold: Option<f64>,
    /// Jensen–Shannon distance threshold.
    pub js_threshold: Option<f64>,
    /// Method per feature: `'ks' | 'chi2' | 'psi' | 'wasserstein' | 'js'`.
    pub methods: Option<HashMap<String, String>>,
    /// Threshold per feature.
    pub thresholds: Option<HashMap<String, f64>>,
    /// Threads (default: all cores).
    pub threads: Option<u32>,
    /// How the model verdict (`report.model`) adjusts the features' p-values for their number:
    /// `'holm'` (default: a false "drifted" on healthy data at most `alpha` of the time),
    /// `'bh'` (false discovery rate) or `'none'`.
    pub correction: Option<String>,
    /// Concept drift (engine checks): labelled predictions of the current data.
    pub labels: Option<LabelsObject>,
    /// Concept drift: labels needed on each side (default 100).
    pub min_labeled_samples: Option<u32>,
    /// Concept drift: accuracy drop needed (default 0.05).
    pub accuracy_drop_threshold: Option<f64>,
}

/// Labelled predictions: `correct` of `total`.
#[napi(object)]
pub struct LabelsObject {
    /// Predictions whose label matched.
    pub correct: u32,
    /// Predictions with a label.
    pub total: u32,
}

pub(crate) fn check_options(
    options: &Unknown<'_>,
) -> CoreResult<(DriftCheckConfig, Option<LabelCounts>)> {
    let o: Option<CheckOptions> = convert::object(options, "options", "a CheckOptions object")?;
    let Some(o) = o else { return Ok((DriftCheckConfig::default(), None)) };
    let d = DriftConfig::default();
    let mut drift = DriftConfig {
        alpha: o.alpha.unwrap_or(d.alpha),
        psi_threshold: o.psi_threshold.unwrap_or(d.psi_threshold),
        wasserstein_threshold: o.wasserstein_threshold.unwrap_or(d.wasserstein_threshold),
        js_threshold: o.js_threshold.unwrap_or(d.js_threshold),
        threads: o.threads.map(|t| t as usize),
        correction: match &o.correction {
            Some(c) => c.parse()?,
            None => d.correction,
        },
        ..d
    };
    let mut overrides: BTreeMap<String, FeatureOverride> = BTreeMap::new();
    for (name, method) in o.methods.into_iter().flatten() {
        overrides.entry(name).or_default().method = Some(method.parse()?);
    }
    for (name, threshold) in o.thresholds.into_iter().flatten() {
        overrides.entry(name).or_default().threshold = Some(threshold);
    }
    drift.overrides = overrides;
    let c = ConceptDriftConfig::default();
    let concept = ConceptDriftConfig {
        min_labeled_samples: o.min_labeled_samples.map_or(c.min_labeled_samples, u64::from),
        accuracy_drop_threshold: o.accuracy_drop_threshold.unwrap_or(c.accuracy_drop_threshold),
        alpha: drift.alpha,
    };
    let labels =
        o.labels.map(|l| LabelCounts::new(u64::from(l.correct), u64::from(l.total))).transpose()?;
    Ok((DriftCheckConfig { drift, concept, ..DriftCheckConfig::default() }, labels))
}

/// Checks current columns against a baseline: KS (numeric) and chi-square (categorical)
/// p-values with scipy's conventions, PSI and Wasserstein alongside, and data quality.
/// Returns `{ report, quality }`. Columns that are not baseline features are ignored.
/// Synchronous: runs on the calling thread (the features on all cores).
#[napi(
    ts_args_type = "baseline: Baseline, current: DriftColumns, options?: CheckOptions",
    ts_return_type = "DriftResult"
)]
pub fn check_drift(
    baseline: &Baseline,
    current: Unknown<'_>,
    options: Unknown<'_>,
) -> Result<Value> {
    sync(|| {
        let (config, _) = check_options(&options)?;
        let b = &baseline.inner;
        let columns = Columns::decode(&current, "current", &b.categorical_names())?;
        let (report, quality) = columns.with(|all| {
            let known = b.known_columns(all);
            let report = check(b, &known, &config.drift)?;
            let quality = DataQuality::check(b, &known, "", "", Timestamp::from_millis(0))?;
            Ok((report, quality))
        })?;
        let mut quality = record(quality)?;
        if let Some(q) = quality.as_object_mut() {
            for key in ["id", "modelName", "modelVersion", "timestamp"] {
                q.remove(key);
            }
        }
        Ok(serde_json::json!({ "report": report, "quality": quality }))
    })
}

/// Options of `Engine#setBaseline`.
#[napi(object, object_to_js = false)]
pub struct SetBaselineOptions {
    /// Baseline features that are model outputs (default: `prediction`, `confidence`).
    pub prediction_features: Option<Vec<String>>,
    /// Labelled accuracy of the reference period (enables concept drift).
    pub accuracy: Option<LabelsObject>,
    /// Where the baseline came from.
    pub source: Option<String>,
}

/// Options of `Engine#fitBaseline`.
#[napi(object, object_to_js = false)]
pub struct FitBaselineOptions {
    /// Calls at or after this time (epoch ms).
    pub from: Option<f64>,
    /// Calls before this time (epoch ms).
    pub to: Option<f64>,
    /// PSI bins (default 10).
    pub bins: Option<u32>,
    /// Keys to fit baselines per segment for (a cohort, an arm, `userId`, …): a later
    /// `checkDriftSegments` by one of them compares each segment with its own reference.
    pub segment_by: Option<Vec<String>>,
    /// Reference segments with fewer rows get no baseline of their own (default 30).
    pub segment_min_rows: Option<u32>,
}

impl FitBaselineOptions {
    fn baseline_options(&self) -> BaselineOptions {
        let mut options = BaselineOptions::new();
        options.segment_by = self.segment_by.clone().unwrap_or_default();
        options.segment_min_rows = self.segment_min_rows.map(u64::from);
        options
    }
}

/// Options of `Engine#driftMetrics` and `Engine#dataQuality`.
#[napi(object, object_to_js = false)]
pub struct DriftQueryOptions {
    /// Only rows of this drift type (drift rows only).
    #[napi(ts_type = "'input' | 'prediction' | 'concept'")]
    pub drift_type: Option<String>,
    /// Rows at or after this time (epoch ms).
    pub from: Option<f64>,
    /// Rows before this time (epoch ms).
    pub to: Option<f64>,
    /// At most this many rows (default 1000).
    pub limit: Option<u32>,
}

#[allow(clippy::cast_possible_truncation, reason = "epoch milliseconds from JS numbers")]
fn millis(v: Option<f64>, what: &str) -> CoreResult<Option<Timestamp>> {
    v.map(|t| {
        if t.is_finite() {
            Ok(Timestamp::from_millis(t as i64))
        } else {
            Err(CoreError::invalid_input(format!("{what} must be a finite number")))
        }
    })
    .transpose()
}

fn drift_query(model: &Unknown<'_>, options: &Unknown<'_>) -> CoreResult<DriftQuery> {
    let reference = convert::model_ref(model)?;
    let mut query = DriftQuery::new(reference.name);
    if let Some(v) = reference.version {
        query = query.version(v);
    }
    let o: Option<DriftQueryOptions> =
        convert::object(options, "options", "a DriftQueryOptions object")?;
    if let Some(o) = o {
        if let Some(t) = o.drift_type {
            query = query.drift_type(match t.as_str() {
                "input" => DriftType::Input,
                "prediction" => DriftType::Prediction,
                "concept" => DriftType::Concept,
                other => {
                    return Err(CoreError::invalid_input(format!(
                        "driftType must be 'input', 'prediction' or 'concept', got '{other}'"
                    )));
                }
            });
        }
        query = query.between(millis(o.from, "from")?, millis(o.to, "to")?);
        if let Some(l) = o.limit {
            query = query.limit(l as usize);
        }
    }
    Ok(query)
}

/// An engine check as JS: the core's record plus `drifted`.
fn check_value(result: &harper_edge_core::monitor::DriftCheck) -> CoreResult<Value> {
    let mut value = record(result)?;
    if let Some(map) = value.as_object_mut() {
        map.insert("drifted".into(), Value::Bool(result.drifted()));
    }
    Ok(value)
}

/// Inference events from JS (records with the core's field names, e.g. table rows).
pub(crate) fn events_of(value: &Unknown<'_>) -> CoreResult<Vec<harper_edge_core::InferenceEvent>> {
    let mut json: Value = convert::decode(value, "events", "an array of InferenceEvent records")?;
    if !json.is_array() {
        return Err(CoreError::invalid_input("events must be an array of InferenceEvent records"));
    }
    convert::integral_numbers(&mut json);
    convert::from_json(json, "events")
}

/// The stored baseline record without its statistics.
fn baseline_record(stored: &ModelBaseline) -> CoreResult<Value> {
    let mut value = record(stored)?;
    if let Some(map) = value.as_object_mut() {
        map.remove("baseline");
        map.insert("features".into(), serde_json::json!(stored.baseline.features().len()));
    }
    Ok(value)
}

#[napi]
impl Engine {
    /// Sets the drift baseline of a model version (`"name:version"`, or `"name"` for the
    /// newest registered version), stores it (`DriftBaseline`, through the outbox) and starts
    /// the version's drift window. Returns the record without its statistics.
    #[napi(
        ts_args_type = "model: string, baseline: Baseline, options?: SetBaselineOptions",
        ts_return_type = "StoredBaseline"
    )]
    pub fn set_baseline(
        &self,
        model: Unknown<'_>,
        baseline: &Baseline,
        options: Unknown<'_>,
    ) -> Result<Value> {
        sync(|| {
            let reference = convert::model_ref(&model)?;
            let o: Option<SetBaselineOptions> =
                convert::object(&options, "options", "a SetBaselineOptions object")?;
            let mut opts = BaselineOptions::new();
            if let Some(o) = o {
                opts.prediction_features = o.prediction_features;
                opts.source = o.source;
                if let Some(a) = o.accuracy {
                    opts =
                        opts.accuracy(LabelCounts::new(u64::from(a.correct), u64::from(a.total))?);
                }
            }
            let stored = self.engine.set_baseline(&reference, baseline.inner.clone(), opts)?;
            baseline_record(&stored)
        })
    }

    /// Fits and sets the baseline from the version's stored calls in `[from, to)`, with the
    /// accuracy of their feedback (features named `input[i]` for a tensor input, by key for
    /// JSON objects, plus `prediction` and `confidence`).
    #[napi(
        ts_args_type = "model: string, options?: FitBaselineOptions",
        ts_return_type = "StoredBaseline"
    )]
    pub fn fit_baseline(&self, model: Unknown<'_>, options: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let reference = convert::model_ref(&model)?;
            let o: Option<FitBaselineOptions> =
                convert::object(&options, "options", "a FitBaselineOptions object")?;
            let (from, to, bins) = match &o {
                Some(o) => (millis(o.from, "from")?, millis(o.to, "to")?, o.bins),
                None => (None, None, None),
            };
            let options = o.map(|o| o.baseline_options()).unwrap_or_default();
            let config = BaselineConfig {
                psi: PsiConfig {
                    bins: bins.map_or(PsiConfig::DEFAULT_BINS, |b| b as usize),
                    ..PsiConfig::default()
                },
                max_sample: None,
            };
            baseline_record(&self.engine.fit_baseline(&reference, from, to, config, options)?)
        })
    }

    /// Fits and sets the baseline from `events` the host keeps elsewhere (e.g. rows of a
    /// HarperDB `InferenceEvent` table): failed calls and other versions skipped, accuracy
    /// from their `correct` flags.
    #[napi(
        ts_args_type = "model: string, events: Array<InferenceEvent>, options?: FitBaselineOptions",
        ts_return_type = "StoredBaseline"
    )]
    pub fn fit_baseline_from_events(
        &self,
        model: Unknown<'_>,
        events: Unknown<'_>,
        options: Unknown<'_>,
    ) -> Result<Value> {
        sync(|| {
            let reference = convert::model_ref(&model)?;
            let events = events_of(&events)?;
            let o: Option<FitBaselineOptions> =
                convert::object(&options, "options", "a FitBaselineOptions object")?;
            let bins = o.as_ref().and_then(|o| o.bins);
            let config = BaselineConfig {
                psi: PsiConfig {
                    bins: bins.map_or(PsiConfig::DEFAULT_BINS, |b| b as usize),
                    ..PsiConfig::default()
                },
                max_sample: None,
            };
            let options = o
                .map(|o| o.baseline_options())
                .unwrap_or_default()
                .source(format!("{} events given by the host", events.len()));
            baseline_record(
                &self.engine.fit_baseline_from_events(&reference, &events, config, options)?,
            )
        })
    }

    /// Stores a baseline record as it is (a row of a `DriftBaseline` table: id and
    /// `createdAt` kept) and starts the version's drift window: how each HarperDB worker
    /// loads the baseline another one set.
    #[napi(ts_args_type = "record: StoredBaselineRecord")]
    pub fn restore_baseline(&self, record: Unknown<'_>) -> Result<()> {
        sync(|| {
            let record: ModelBaseline =
                convert::from_js(&record, "record", "a DriftBaseline record")?;
            self.engine.restore_baseline(&record)
        })
    }

    /// Checks a model version against its baseline on `events` the host keeps elsewhere (the
    /// successful calls of the version; their `correct` flags give the current accuracy) and
    /// stores the rows.
    #[napi(
        ts_args_type = "model: string, events: Array<InferenceEvent>, options?: CheckOptions",
        ts_return_type = "EngineDriftResult"
    )]
    pub fn check_drift_events(
        &self,
        model: Unknown<'_>,
        events: Unknown<'_>,
        options: Unknown<'_>,
    ) -> Result<Value> {
        sync(|| {
            let reference = convert::model_ref(&model)?;
            let events = events_of(&events)?;
            let (config, _) = check_options(&options)?;
            let result =
                self.engine.check_drift(&reference, CurrentData::Events(&events), &config)?;
            check_value(&result)
        })
    }

    /// The drift baseline of a model version; `HARPER_EDGE_NOT_FOUND` when none is set.
    #[napi(ts_args_type = "model: string")]
    pub fn baseline(&self, model: Unknown<'_>) -> Result<Baseline> {
        sync(|| {
            let stored = self.engine.baseline(&convert::model_ref(&model)?)?;
            Ok(Baseline { inner: stored.baseline })
        })
    }

    /// Checks a model version against its baseline and stores the rows (`DriftMetrics` per
    /// feature and for concept drift, one `DataQualityMetrics`): the calls sampled since the
    /// last window check when `current` is `null`/`undefined`, else the given columns (with
    /// `options.labels` for concept drift). Synchronous.
    #[napi(
        ts_args_type = "model: string, current?: DriftColumns | null, options?: CheckOptions",
        ts_return_type = "EngineDriftResult"
    )]
    pub fn check_drift(
        &self,
        model: Unknown<'_>,
        current: Unknown<'_>,
        options: Unknown<'_>,
    ) -> Result<Value> {
        sync(|| {
            let reference = convert::model_ref(&model)?;
            let (config, labels) = check_options(&options)?;
            let result = if convert::is_nullish(&current) {
                self.engine.check_drift(&reference, CurrentData::Window, &config)?
            } else {
                let stored = self.engine.baseline(&reference)?;
                let names = stored.baseline.categorical_names();
                let columns = Columns::decode(&current, "current", &names)?;
                columns.with(|all| {
                    self.engine.check_drift(
                        &reference,
                        CurrentData::Columns { columns: all, labels },
                        &config,
                    )
                })?
            };
            check_value(&result)
        })
    }

    /// Stored `DriftMetrics` rows of `"name"` or `"name:version"`, newest first.
    #[napi(
        ts_args_type = "model: string, options?: DriftQueryOptions",
        ts_return_type = "Array<DriftMetrics>"
    )]
    pub fn drift_metrics(&self, model: Unknown<'_>, options: Unknown<'_>) -> Result<Value> {
        sync(|| record(self.engine.drift_metrics(&drift_query(&model, &options)?)?))
    }

    /// Stored `DataQualityMetrics` rows, newest first (`driftType` is ignored).
    #[napi(
        ts_args_type = "model: string, options?: DriftQueryOptions",
        ts_return_type = "Array<DataQualityMetrics>"
    )]
    pub fn data_quality(&self, model: Unknown<'_>, options: Unknown<'_>) -> Result<Value> {
        sync(|| record(self.engine.data_quality(&drift_query(&model, &options)?)?))
    }
}

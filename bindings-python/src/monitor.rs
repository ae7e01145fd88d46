//! Drift checks from Python: `harper_edge.Baseline`, `harper_edge.check_drift` and the
//! `DriftResult` they return; the columns come from `harper_edge._drift.columns` (numpy
//! float64 arrays read in place, categorical columns as codes into a category list).

use std::path::PathBuf;

use harper_edge_core::drift::baseline::{
    Baseline, BaselineConfig, Column, FeatureKind, FeatureSchema,
};
use harper_edge_core::drift::check::{DriftConfig, DriftReport, check};
use harper_edge_core::drift::distance::PsiConfig;
use harper_edge_core::drift::frame::{Frame, OwnedColumn, OwnedValue};
use harper_edge_core::drift::quality::{DataQuality, DataQualityMetrics};
use harper_edge_core::monitor::DriftCheck;
use harper_edge_core::report::{self, RenderOptions};
use harper_edge_core::{Error, Timestamp};
use numpy::PyReadonlyArray1;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::Value;

use crate::columns;
use crate::error::Detach;
use crate::json;

/// One categorical column as codes into its categories (`-1`: null).
struct Coded<'py> {
    name: String,
    codes: Codes<'py>,
    categories: Vec<String>,
}

/// Codes borrowed from numpy, or read from an object array.
enum Codes<'py> {
    Array(PyReadonlyArray1<'py, i64>),
    Owned(Vec<i64>),
}

impl Codes<'_> {
    fn as_slice(&self) -> PyResult<&[i64]> {
        match self {
            Codes::Array(a) => Ok(a.as_slice()?),
            Codes::Owned(v) => Ok(v),
        }
    }
}

/// Reads a numpy object array of strings and nulls (`None`, float NaN) as codes into its
/// categories; `None` when another value is in it (the caller reads it value by value).
/// Objects are first told apart by identity — equal strings that are one object cost no
/// hashing —, then by value.
fn object_codes(
    array: &PyReadonlyArray1<'_, Py<PyAny>>,
) -> PyResult<Option<(Vec<i64>, Vec<String>)>> {
    let py = array.py();
    let objects = array.as_slice()?;
    let mut by_pointer = PointerCodes::new();
    let mut by_value: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    let mut categories: Vec<String> = Vec::new();
    let mut codes = Vec::with_capacity(objects.len());
    for object in objects {
        let pointer = object.as_ptr() as usize;
        if let Some(code) = by_pointer.get(pointer) {
            codes.push(code);
            continue;
        }
        let bound = object.bind(py);
        let code = if bound.is_none() {
            -1
        } else if let Ok(s) = bound.cast::<PyString>() {
            let text = s.to_str()?;
            match by_value.get(text) {
                Some(&c) => c,
                None => {
                    let c = i64::try_from(categories.len()).unwrap_or(i64::MAX);
                    by_value.insert(text.to_owned(), c);
                    categories.push(text.to_owned());
                    c
                }
            }
        } else if bound.cast::<PyFloat>().is_ok_and(|f| f.value().is_nan()) {
            -1
        } else {
            return Ok(None);
        };
        by_pointer.insert(pointer, code);
        codes.push(code);
    }
    Ok(Some((codes, categories)))
}

/// Codes by object address: an open-addressing table of 1024 slots (linear probing), holding
/// at most 512 addresses — beyond that, objects are coded by value only.
struct PointerCodes {
    slots: Vec<(usize, i64)>,
    len: usize,
}

impl PointerCodes {
    const SLOTS: usize = 1024;

    fn new() -> Self {
        PointerCodes { slots: vec![(0, 0); Self::SLOTS], len: 0 }
    }

    fn slot(pointer: usize) -> usize {
        // Objects are 16-byte aligned: drop those bits, then a multiplicative hash.
        ((pointer >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) & (Self::SLOTS - 1)
    }

    fn get(&self, pointer: usize) -> Option<i64> {
        let mut i = Self::slot(pointer);
        loop {
            match self.slots[i] {
                (0, _) => return None,
                (p, code) if p == pointer => return Some(code),
                _ => i = (i + 1) & (Self::SLOTS - 1),
            }
        }
    }

    fn insert(&mut self, pointer: usize, code: i64) {
        if self.len >= Self::SLOTS / 2 || pointer == 0 {
            return;
        }
        let mut i = Self::slot(pointer);
        while self.slots[i].0 != 0 {
            i = (i + 1) & (Self::SLOTS - 1);
        }
        self.slots[i] = (pointer, code);
        self.len += 1;
    }
}

/// Data from Python, lent to the core as columns.
pub(crate) struct Table<'py> {
    /// Column names in the order given.
    order: Vec<String>,
    numeric: Vec<(String, columns::Column<'py, f64>)>,
    coded: Vec<Coded<'py>>,
    other: Frame,
}

impl<'py> Table<'py> {
    /// Reads `data` through `harper_edge._drift.columns`; the columns named in `categorical`
    /// are read as categories (numbers become their text, as `number_category` writes them).
    pub(crate) fn read(data: &Bound<'py, PyAny>, categorical: &[String]) -> PyResult<Self> {
        let py = data.py();
        let prepared = py
            .import(pyo3::intern!(py, "harper_edge._drift"))?
            .call_method1(pyo3::intern!(py, "columns"), (data,))?;
        let prepared = prepared.cast_into::<PyDict>()?;
        let mut table = Table {
            order: Vec::new(),
            numeric: Vec::new(),
            coded: Vec::new(),
            other: Frame::new(),
        };
        for (name, column) in prepared.iter() {
            let name: String = name.extract()?;
            table.order.push(name.clone());
            if let Ok(pair) = column.cast::<PyTuple>()
                && pair.len() == 2
            {
                let codes: PyReadonlyArray1<'py, i64> = pair.get_item(0)?.extract()?;
                let categories: Vec<String> = pair.get_item(1)?.extract()?;
                let n = i64::try_from(categories.len()).unwrap_or(i64::MAX);
                if codes.as_slice()?.iter().any(|&c| c < -1 || c >= n) {
                    return Err(PyValueError::new_err(format!(
                        "column '{name}': a category code is out of range"
                    )));
                }
                table.coded.push(Coded { name, codes: Codes::Array(codes), categories });
            } else if let Ok(objects) = column.extract::<PyReadonlyArray1<'py, Py<PyAny>>>()
                && let Some((codes, categories)) = object_codes(&objects)?
            {
                table.coded.push(Coded { name, codes: Codes::Owned(codes), categories });
            } else if column.cast::<PyList>().is_ok()
                || column.extract::<PyReadonlyArray1<'py, Py<PyAny>>>().is_ok()
            {
                let values = column
                    .try_iter()?
                    .enumerate()
                    .map(|(row, v)| owned_value(&v?, &name, row))
                    .collect::<PyResult<Vec<_>>>()?;
                let values = OwnedColumn::from_values(values);
                let values =
                    if categorical.contains(&name) { values.into_categorical() } else { values };
                table.other.push(name, values).map_err(value_err)?;
            } else {
                let col = columns::float64(&column, &name)?;
                if categorical.contains(&name) {
                    let values = OwnedColumn::Numeric(col.as_slice()?.to_vec()).into_categorical();
                    table.other.push(name, values).map_err(value_err)?;
                } else {
                    table.numeric.push((name, col));
                }
            }
        }
        Ok(table)
    }

    /// The kind of each column: numeric arrays numeric, coded columns categorical, lists by
    /// their values.
    fn kinds(&self) -> Vec<(String, FeatureKind)> {
        let mut kinds: Vec<(String, FeatureKind)> =
            self.numeric.iter().map(|(n, _)| (n.clone(), FeatureKind::Numeric)).collect();
        kinds.extend(self.coded.iter().map(|c| (c.name.clone(), FeatureKind::Categorical)));
        kinds.extend(self.other.iter().map(|(n, c)| (n.to_string(), c.inferred_kind())));
        kinds.sort_by_key(|(n, _)| self.order.iter().position(|o| o == n));
        kinds
    }

    /// Calls `f` with every column borrowed (with the GIL held; `f` releases it).
    pub(crate) fn with_columns<R>(
        &self,
        f: impl FnOnce(&[(&str, Column<'_>)]) -> PyResult<R>,
    ) -> PyResult<R> {
        let category_refs: Vec<Vec<&str>> =
            self.coded.iter().map(|c| c.categories.iter().map(String::as_str).collect()).collect();
        let codes: Vec<&[i64]> =
            self.coded.iter().map(|c| c.codes.as_slice()).collect::<PyResult<_>>()?;
        let numeric: Vec<(&str, &[f64])> = self
            .numeric
            .iter()
            .map(|(n, c)| Ok((n.as_str(), c.as_slice()?)))
            .collect::<PyResult<_>>()?;
        self.other.with_columns(|other| {
            let mut all: Vec<(&str, Column<'_>)> = other.to_vec();
            all.extend(numeric.iter().map(|&(n, v)| (n, Column::Numeric(v))));
            all.extend(self.coded.iter().zip(codes.iter().zip(&category_refs)).map(
                |(c, (&codes, categories))| (c.name.as_str(), Column::Coded { codes, categories }),
            ));
            f(&all)
        })
    }
}

pub(crate) fn value_err(e: Error) -> PyErr {
    PyValueError::new_err(e.to_string())
}

#[allow(clippy::cast_precision_loss, reason = "as numpy converts an int64 to float64")]
fn owned_value(v: &Bound<'_, PyAny>, column: &str, row: usize) -> PyResult<OwnedValue> {
    if v.is_none() {
        return Ok(OwnedValue::Null);
    }
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(OwnedValue::Text(if b.is_true() { "true" } else { "false" }.into()));
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(OwnedValue::Text(s.to_str()?.to_owned()));
    }
    if let Ok(f) = v.cast::<PyFloat>() {
        return Ok(OwnedValue::Number(f.value()));
    }
    if v.is_instance_of::<PyInt>() {
        return Ok(OwnedValue::Number(v.extract::<f64>()?));
    }
    if let Ok(x) = v.extract::<f64>() {
        return Ok(OwnedValue::Number(x)); // numpy scalars
    }
    Err(PyTypeError::new_err(format!(
        "column '{column}', row {row}: a value must be a number, str, bool or None, got {}",
        v.get_type().name()?
    )))
}

/// The schema of `table`, inferred and adjusted by `categorical` / `numeric`.
pub(crate) fn schema_of(
    table: &Table<'_>,
    categorical: Option<Vec<String>>,
    numeric: Option<Vec<String>>,
) -> PyResult<Vec<FeatureSchema>> {
    let kinds = table.kinds();
    for name in categorical.iter().flatten().chain(numeric.iter().flatten()) {
        if !kinds.iter().any(|(n, _)| n == name) {
            return Err(PyValueError::new_err(format!("no column '{name}' in the data")));
        }
    }
    Ok(kinds
        .into_iter()
        .map(|(name, kind)| {
            let forced_cat = categorical.as_ref().is_some_and(|c| c.contains(&name));
            let forced_num = numeric.as_ref().is_some_and(|c| c.contains(&name));
            match (forced_cat, forced_num, kind) {
                (true, _, _) => FeatureSchema::categorical(name),
                (_, true, _) | (_, _, FeatureKind::Numeric) => FeatureSchema::numeric(name),
                _ => FeatureSchema::categorical(name),
            }
        })
        .collect())
}

/// Reference statistics for drift checks: fitted once from reference data, saved as JSON,
/// merged across parts.
#[pyclass(module = "harper_edge", name = "Baseline", frozen)]
#[derive(Debug)]
pub struct PyBaseline {
    pub(crate) inner: Baseline,
}

#[pymethods]
impl PyBaseline {
    /// Fits a baseline on reference data (a pandas DataFrame, pyarrow Table, polars
    /// DataFrame or mapping of name to 1-D array-like).
    #[staticmethod]
    #[pyo3(signature = (data, *, schema=None, categorical=None, numeric=None, bins=10, epsilon=1e-4, max_sample=None))]
    #[allow(clippy::too_many_arguments, reason = "the arguments of the Python method")]
    fn fit(
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        schema: Option<&Bound<'_, PyAny>>,
        categorical: Option<Vec<String>>,
        numeric: Option<Vec<String>>,
        bins: usize,
        epsilon: f64,
        max_sample: Option<usize>,
    ) -> PyResult<Self> {
        let declared: Option<Vec<FeatureSchema>> = schema
            .map(|s| {
                serde_json::from_value(json::from_py(s)?).map_err(|e| {
                    PyValueError::new_err(format!(
                        "schema must be a list of {{\"name\", \"kind\", \"range\"?, \"categories\"?}}: {e}"
                    ))
                })
            })
            .transpose()?;
        let forced = match &declared {
            Some(schema) => schema
                .iter()
                .filter(|f| f.kind == FeatureKind::Categorical)
                .map(|f| f.name.clone())
                .collect(),
            None => categorical.clone().unwrap_or_default(),
        };
        let table = Table::read(data, &forced)?;
        let schema = match declared {
            Some(schema) => schema,
            None => schema_of(&table, categorical, numeric)?,
        };
        let config = BaselineConfig { psi: PsiConfig { bins, epsilon }, max_sample };
        let inner = table.with_columns(|columns| {
            let selected: Vec<(&str, Column<'_>)> = columns
                .iter()
                .filter(|(n, _)| schema.iter().any(|f| f.name == *n))
                .copied()
                .collect();
            py.run_core(|| Baseline::fit(&schema, &selected, config))
        })?;
        Ok(PyBaseline { inner })
    }

    /// The baseline as JSON (what `from_json` reads back).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        py.run_core(|| self.inner.to_json())
    }

    /// Reads a baseline saved with `to_json` (checked: a corrupt one raises
    /// `IntegrityError`).
    #[staticmethod]
    fn from_json(py: Python<'_>, json: &str) -> PyResult<Self> {
        Ok(PyBaseline { inner: py.run_core(|| Baseline::from_json(json))? })
    }

    /// The baseline of both parts' data together (see the core documentation for which
    /// statistics merge exactly).
    fn merge(&self, py: Python<'_>, other: &PyBaseline) -> PyResult<Self> {
        Ok(PyBaseline { inner: py.run_core(|| self.inner.merge(&other.inner))? })
    }

    /// Feature names, in schema order.
    #[getter]
    fn features(&self) -> Vec<String> {
        self.inner.features().iter().map(|f| f.name().to_string()).collect()
    }

    /// The schema: one dict per feature (`name`, `kind`, and `range` / `categories` when
    /// declared).
    #[getter]
    fn schema<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let schema: Vec<&FeatureSchema> = self.inner.schema().collect();
        json::record_to_py(py, serde_json::to_value(schema))
    }

    fn __len__(&self) -> usize {
        self.inner.features().len()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyBaseline>().is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __repr__(&self) -> String {
        let rows = self.inner.features().first().map_or(0, |f| f.count);
        format!("Baseline(features={}, rows={rows})", self.inner.features().len())
    }
}

/// The result of a drift check.
#[pyclass(module = "harper_edge", name = "DriftResult", frozen)]
#[derive(Debug)]
pub struct PyDriftResult {
    /// The whole result as JSON (camelCase, as the core serialises it).
    value: Value,
    drifted_count: u64,
    drifted_share: f64,
    drifted: bool,
    /// What the HTML report renders.
    report: DriftReport,
    quality: DataQualityMetrics,
}

impl PyDriftResult {
    pub(crate) fn from_check(check: &DriftCheck) -> PyResult<Self> {
        let value =
            serde_json::to_value(check).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(PyDriftResult {
            value,
            drifted_count: check.report.drifted_count,
            drifted_share: check.report.drifted_share,
            drifted: check.drifted(),
            report: check.report.clone(),
            quality: check.quality.clone(),
        })
    }

    /// A check outside any engine: the quality record keeps its metrics only (no id, model
    /// or timestamp).
    fn from_report(report: &DriftReport, quality: &DataQualityMetrics) -> PyResult<Self> {
        let mut quality_json =
            serde_json::to_value(quality).map_err(|e| PyValueError::new_err(e.to_string()))?;
        if let Some(q) = quality_json.as_object_mut() {
            for key in ["id", "modelName", "modelVersion", "timestamp"] {
                q.remove(key);
            }
        }
        let value = serde_json::json!({ "report": report, "quality": quality_json });
        Ok(PyDriftResult {
            value,
            drifted_count: report.drifted_count,
            drifted_share: report.drifted_share,
            drifted: report.drifted_count > 0,
            report: report.clone(),
            quality: quality.clone(),
        })
    }

    fn part<'py>(&self, py: Python<'py>, pointer: &str) -> PyResult<Bound<'py, PyAny>> {
        let v = self.value.pointer(pointer).unwrap_or(&Value::Null);
        json::to_py(py, &snake_keys(v))
    }
}

/// Keys of map fields, whose own keys are data (feature or category names), not field names.
const MAP_FIELDS: [&str; 6] =
    ["counts", "nullRates", "outlierCounts", "rangeViolations", "unknownCategories", "overrides"];

/// `value` with its field names in snake_case (maps of data keys left as they are).
pub(crate) fn snake_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v =
                        if MAP_FIELDS.contains(&k.as_str()) { v.clone() } else { snake_keys(v) };
                    (crate::json::snake_case(k), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(snake_keys).collect()),
        other => other.clone(),
    }
}

#[pymethods]
impl PyDriftResult {
    /// Number of drifted features.
    #[getter]
    fn drifted_count(&self) -> u64 {
        self.drifted_count
    }

    /// Drifted features / checked features.
    #[getter]
    fn drifted_share(&self) -> f64 {
        self.drifted_share
    }

    /// Whether any feature (or concept drift) drifted.
    #[getter]
    fn drifted(&self) -> bool {
        self.drifted
    }

    /// One dict per checked feature, drifted first, then by score.
    #[getter]
    fn features<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.part(py, "/report/features")
    }

    /// The data-quality metrics of the current data.
    #[getter]
    fn quality<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.part(py, "/quality")
    }

    /// The model verdict: whether the model drifted, with the features' p-values adjusted
    /// for their number (`correction`, `alpha`, `tested`, `rejected`,
    /// `min_adjusted_p_value`, `distance_drifted`, `drifted`).
    #[getter]
    fn model<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.part(py, "/report/model")
    }

    /// Concept drift (engine checks with labels), else `None`.
    #[getter]
    fn concept<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.part(py, "/concept")
    }

    /// The `DriftMetrics` rows written (engine checks), else an empty list.
    #[getter]
    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.value.get("rows") {
            Some(rows) => json::to_py(py, &snake_keys(rows)),
            None => Ok(PyList::empty(py).into_any()),
        }
    }

    /// The whole result as a dict (snake_case keys).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::to_py(py, &snake_keys(&self.value))
    }

    /// The whole result as JSON (camelCase keys, as stored and as the Node binding gives).
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.value).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// One row per feature as a pandas DataFrame (needs pandas).
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let features = self.features(py)?;
        py.import(pyo3::intern!(py, "harper_edge._drift"))?
            .call_method1(pyo3::intern!(py, "report_frame"), (features,))
    }

    /// The result as one self-contained HTML document (inline CSS and SVG charts, no network
    /// reference): the verdicts, the drift table, histograms of the drifted features, data
    /// quality.
    #[pyo3(signature = (*, title=None))]
    fn to_html(&self, title: Option<String>) -> String {
        let options = RenderOptions { title, ..RenderOptions::default() };
        report::render_drift_report(&self.report, Some(&self.quality), &options)
    }

    /// Writes `to_html()` to `path`; returns the number of bytes written.
    #[pyo3(signature = (path, *, title=None))]
    fn save_html(&self, py: Python<'_>, path: PathBuf, title: Option<String>) -> PyResult<usize> {
        let html = self.to_html(title);
        py.run_core(|| std::fs::write(&path, &html).map_err(|e| Error::io(&path, e)))?;
        Ok(html.len())
    }

    /// The report as an HTML fragment with its stylesheet, for Jupyter's rich display.
    fn _repr_html_(&self) -> String {
        let options = RenderOptions { script: false, ..RenderOptions::default() };
        let section = report::render_drift_section(&self.report, Some(&self.quality), &options);
        format!("<style>{}</style>{section}", report::STYLE)
    }

    fn __repr__(&self) -> String {
        let n =
            self.value.pointer("/report/features").and_then(Value::as_array).map_or(0, Vec::len);
        format!("DriftResult(drifted={} of {n} features)", self.drifted_count)
    }
}

/// The `DriftConfig` of the keyword arguments.
#[allow(clippy::too_many_arguments, reason = "the keyword arguments of the Python functions")]
pub(crate) fn drift_config(
    alpha: f64,
    psi_threshold: f64,
    wasserstein_threshold: f64,
    js_threshold: f64,
    methods: Option<std::collections::BTreeMap<String, String>>,
    thresholds: Option<std::collections::BTreeMap<String, f64>>,
    threads: Option<usize>,
    correction: &str,
) -> PyResult<DriftConfig> {
    let mut config = DriftConfig {
        alpha,
        psi_threshold,
        wasserstein_threshold,
        js_threshold,
        threads,
        correction: correction.parse().map_err(value_err)?,
        ..DriftConfig::default()
    };
    for (name, method) in methods.into_iter().flatten() {
        let method = method.parse().map_err(value_err)?;
        config.overrides.entry(name).or_default().method = Some(method);
    }
    for (name, threshold) in thresholds.into_iter().flatten() {
        config.overrides.entry(name).or_default().threshold = Some(threshold);
    }
    Ok(config)
}

/// Checks current data against a baseline: KS for numeric features, chi-square for
/// categorical ones (or the methods given), PSI and Wasserstein alongside, and data quality.
#[pyfunction]
#[pyo3(signature = (baseline, current, *, alpha=0.05, psi_threshold=0.2, wasserstein_threshold=0.1, js_threshold=0.1, methods=None, thresholds=None, threads=None, correction="holm"))]
#[allow(clippy::too_many_arguments, reason = "the arguments of the Python function")]
pub(crate) fn check_drift(
    py: Python<'_>,
    baseline: &PyBaseline,
    current: &Bound<'_, PyAny>,
    alpha: f64,
    psi_threshold: f64,
    wasserstein_threshold: f64,
    js_threshold: f64,
    methods: Option<std::collections::BTreeMap<String, String>>,
    thresholds: Option<std::collections::BTreeMap<String, f64>>,
    threads: Option<usize>,
    correction: &str,
) -> PyResult<PyDriftResult> {
    let config = drift_config(
        alpha,
        psi_threshold,
        wasserstein_threshold,
        js_threshold,
        methods,
        thresholds,
        threads,
        correction,
    )?;
    let b = &baseline.inner;
    let table = Table::read(current, &b.categorical_names())?;
    let (report, quality) = table.with_columns(|columns| {
        let known = b.known_columns(columns);
        py.run_core(|| {
            let report = check(b, &known, &config)?;
            let quality = DataQuality::check(b, &known, "", "", Timestamp::from_millis(0))?;
            Ok((report, quality))
        })
    })?;
    PyDriftResult::from_report(&report, &quality)
}

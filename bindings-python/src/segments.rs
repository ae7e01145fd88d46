//! Drift by segment from Python: `harper_edge.SegmentedBaseline`,
//! `harper_edge.check_drift_segments` and the `SegmentedDriftResult` they (and
//! `Engine.check_drift_segments`) return; thin wrappers of `harper_edge_core::drift::segment`.

use harper_edge_core::drift::baseline::{BaselineConfig, Column};
use harper_edge_core::drift::distance::PsiConfig;
use harper_edge_core::drift::segment::{
    SegmentConfig, SegmentReference, SegmentedBaseline, SegmentedReport, check_segments,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use serde_json::Value;

use crate::error::Detach;
use crate::json;
use crate::monitor::{self, PyBaseline, Table, snake_keys};

/// Baselines per segment of a reference (one per value of a key column), plus the whole
/// reference's.
#[pyclass(module = "harper_edge", name = "SegmentedBaseline", frozen)]
#[derive(Debug)]
pub struct PySegmentedBaseline {
    pub(crate) inner: SegmentedBaseline,
}

#[pymethods]
impl PySegmentedBaseline {
    /// Fits one baseline per value of column `key` of `data` (a pandas DataFrame, pyarrow
    /// Table, polars DataFrame or mapping of name to 1-D array-like) with at least
    /// `min_rows` rows, and one on the whole of it; the key is read as categorical and is
    /// not a feature.
    #[staticmethod]
    #[pyo3(signature = (data, key, *, categorical=None, numeric=None, min_rows=30, bins=10, epsilon=1e-4))]
    #[allow(clippy::too_many_arguments, reason = "the arguments of the Python method")]
    fn fit(
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        key: &str,
        categorical: Option<Vec<String>>,
        numeric: Option<Vec<String>>,
        min_rows: u64,
        bins: usize,
        epsilon: f64,
    ) -> PyResult<Self> {
        let mut forced = categorical.clone().unwrap_or_default();
        forced.push(key.to_string());
        let table = Table::read(data, &forced)?;
        let mut categorical = categorical.unwrap_or_default();
        categorical.push(key.to_string());
        let schema = monitor::schema_of(&table, Some(categorical), numeric)?;
        let config = BaselineConfig { psi: PsiConfig { bins, epsilon }, max_sample: None };
        let inner = table.with_columns(|columns| {
            py.run_core(|| SegmentedBaseline::fit(&schema, columns, key, min_rows, config))
        })?;
        Ok(PySegmentedBaseline { inner })
    }

    /// The key column.
    #[getter]
    fn key(&self) -> &str {
        self.inner.key()
    }

    /// Reference rows per segment value (also segments too small to get a baseline).
    #[getter]
    fn segment_rows(&self) -> std::collections::BTreeMap<String, u64> {
        self.inner.segment_rows().clone()
    }

    /// The baseline of the whole reference.
    #[getter]
    fn whole(&self) -> PyBaseline {
        PyBaseline { inner: self.inner.whole().clone() }
    }

    /// The baseline of one segment, `None` when the reference had too few rows of it.
    fn segment(&self, value: &str) -> Option<PyBaseline> {
        self.inner.segment(value).map(|b| PyBaseline { inner: b.clone() })
    }

    /// The segmented baseline as JSON, to save it.
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        py.run_core(|| self.inner.to_json())
    }

    /// A segmented baseline saved by `to_json` (`IntegrityError` when it is corrupt).
    #[staticmethod]
    fn from_json(py: Python<'_>, json: &str) -> PyResult<Self> {
        Ok(PySegmentedBaseline { inner: py.run_core(|| SegmentedBaseline::from_json(json))? })
    }

    fn __repr__(&self) -> String {
        format!(
            "SegmentedBaseline(key={:?}, segments={})",
            self.inner.key(),
            self.inner.segment_rows().len()
        )
    }
}

/// The result of a drift check split by segment.
#[pyclass(module = "harper_edge", name = "SegmentedDriftResult", frozen)]
#[derive(Debug)]
pub struct PySegmentedDriftResult {
    value: Value,
    drifted_segments: u64,
    drifted: bool,
}

impl PySegmentedDriftResult {
    pub(crate) fn new(report: &SegmentedReport) -> PyResult<Self> {
        let value =
            serde_json::to_value(report).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(PySegmentedDriftResult {
            value,
            drifted_segments: report.drifted_segments,
            drifted: report.model.drifted,
        })
    }

    fn part<'py>(&self, py: Python<'py>, pointer: &str) -> PyResult<Bound<'py, PyAny>> {
        json::to_py(py, &snake_keys(self.value.pointer(pointer).unwrap_or(&Value::Null)))
    }
}

#[pymethods]
impl PySegmentedDriftResult {
    /// The key column.
    #[getter]
    fn key(&self) -> &str {
        self.value["key"].as_str().unwrap_or_default()
    }

    /// Segments that drifted (error rate controlled across all segments).
    #[getter]
    fn drifted_segments(&self) -> u64 {
        self.drifted_segments
    }

    /// Whether any segment drifted.
    #[getter]
    fn drifted(&self) -> bool {
        self.drifted
    }

    /// One dict per segment, drifted first, then by rows: `segment` (`None` for rows without
    /// a key), `rows`, `reference_rows`, `compared_with` (`"segment"` or `"whole"`),
    /// `report` (as `DriftResult.to_dict()["report"]`, `None` when not tested), `skipped`
    /// (the reason), `min_adjusted_p_value`, `drifted`.
    #[getter]
    fn segments<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.part(py, "/segments")
    }

    /// The verdict over every tested feature of every segment (as `DriftResult.model`).
    #[getter]
    fn model<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.part(py, "/model")
    }

    /// The whole result as a dict (snake_case keys).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::to_py(py, &snake_keys(&self.value))
    }

    /// The whole result as JSON (camelCase keys, as the Node binding gives).
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.value).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// One row per segment and feature as a pandas DataFrame (needs pandas); untested
    /// segments have one row with `feature_name` `None` and the reason in `skipped`.
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let segments = self.segments(py)?;
        py.import(pyo3::intern!(py, "harper_edge._drift"))?
            .call_method1(pyo3::intern!(py, "segments_frame"), (segments,))
    }

    fn __repr__(&self) -> String {
        let n = self.value["segments"].as_array().map_or(0, Vec::len);
        format!(
            "SegmentedDriftResult(key={:?}, drifted={} of {n} segments)",
            self.key(),
            self.drifted_segments
        )
    }
}

/// The `SegmentConfig` of the keyword arguments.
pub(crate) fn segment_config(key: &str, min_rows: u64, max_segments: usize) -> SegmentConfig {
    SegmentConfig { key: key.to_string(), min_rows, max_segments }
}

/// Checks `current` segment by segment of column `segment`: against `reference`'s own part
/// of each segment when it is a `SegmentedBaseline`, against the whole `Baseline` otherwise.
#[pyfunction]
#[pyo3(signature = (reference, current, *, segment, min_rows=30, max_segments=100, alpha=0.05, psi_threshold=0.2, wasserstein_threshold=0.1, js_threshold=0.1, methods=None, thresholds=None, threads=None, correction="holm"))]
#[allow(clippy::too_many_arguments, reason = "the arguments of the Python function")]
pub(crate) fn check_drift_segments(
    py: Python<'_>,
    reference: &Bound<'_, PyAny>,
    current: &Bound<'_, PyAny>,
    segment: &str,
    min_rows: u64,
    max_segments: usize,
    alpha: f64,
    psi_threshold: f64,
    wasserstein_threshold: f64,
    js_threshold: f64,
    methods: Option<std::collections::BTreeMap<String, String>>,
    thresholds: Option<std::collections::BTreeMap<String, f64>>,
    threads: Option<usize>,
    correction: &str,
) -> PyResult<PySegmentedDriftResult> {
    let config = monitor::drift_config(
        alpha,
        psi_threshold,
        wasserstein_threshold,
        js_threshold,
        methods,
        thresholds,
        threads,
        correction,
    )?;
    let segments = segment_config(segment, min_rows, max_segments);
    let against = if let Ok(s) = reference.cast::<PySegmentedBaseline>() {
        SegmentReference::PerSegment(&s.get().inner)
    } else if let Ok(b) = reference.cast::<PyBaseline>() {
        SegmentReference::Whole(&b.get().inner)
    } else {
        return Err(PyTypeError::new_err(
            "reference must be a harper_edge.Baseline or harper_edge.SegmentedBaseline",
        ));
    };
    run(py, against, current, &segments, &config)
}

fn run(
    py: Python<'_>,
    against: SegmentReference<'_>,
    current: &Bound<'_, PyAny>,
    segments: &SegmentConfig,
    config: &harper_edge_core::drift::check::DriftConfig,
) -> PyResult<PySegmentedDriftResult> {
    let whole = match against {
        SegmentReference::Whole(b) => b,
        SegmentReference::PerSegment(s) => s.whole(),
    };
    let mut categorical = whole.categorical_names();
    categorical.push(segments.key.clone());
    let table = Table::read(current, &categorical)?;
    let report = table.with_columns(|columns: &[(&str, Column<'_>)]| {
        py.run_core(|| check_segments(against, columns, segments, config))
    })?;
    PySegmentedDriftResult::new(&report)
}

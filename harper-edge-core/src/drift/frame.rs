//! Owned tables of named columns ([`Frame`]) for data that does not already sit in typed
//! slices: JSON columns or rows (the HarperDB component, Node objects), CSV and Parquet files
//! (the CLI), rows flattened from inference events (the drift window).
//!
//! A frame keeps each column in its tightest form — numbers as `f64` (null as NaN),
//! categories as strings — and lends them to [`Baseline::fit`], [`check`](super::check::check)
//! and [`DataQuality`](super::quality::DataQuality) as borrowed [`Column`]s.
//!
//! # Kinds and inference
//!
//! A column built from values of mixed kinds keeps them as they are ([`OwnedColumn::Mixed`]).
//! [`Frame::infer_schema`] gives each column the kind most of its non-null values have
//! (ties: categorical; a column of nulls only: numeric); a value of the other kind is then a
//! schema violation, counted by the data-quality check and refused by [`Baseline::fit`].
//! JSON values map as: number → number, string → category, `true`/`false` → the categories
//! `"true"`/`"false"`, `null` → null; an array or object in a cell is an
//! [`Error::InvalidInput`] naming the column.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::baseline::{Baseline, BaselineConfig, Column, FeatureKind, FeatureSchema, Value};
use crate::error::{Error, Result};

/// One owned value of an [`OwnedColumn::Mixed`] column.
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedValue {
    /// Missing.
    Null,
    /// A number; NaN counts as null.
    Number(f64),
    /// A category.
    Text(String),
}

impl OwnedValue {
    /// Reads one JSON cell (see the module documentation); `None` for an array or object.
    pub fn from_json(value: &Json) -> Option<Self> {
        Some(match value {
            Json::Null => OwnedValue::Null,
            Json::Bool(b) => OwnedValue::Text(b.to_string()),
            Json::Number(n) => OwnedValue::Number(n.as_f64().unwrap_or(f64::NAN)),
            Json::String(s) => OwnedValue::Text(s.clone()),
            Json::Array(_) | Json::Object(_) => return None,
        })
    }

    fn as_value(&self) -> Value<'_> {
        match self {
            OwnedValue::Null => Value::Null,
            OwnedValue::Number(x) => Value::Number(*x),
            OwnedValue::Text(s) => Value::Text(s),
        }
    }
}

/// An owned column.
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedColumn {
    /// Numbers; NaN is null.
    Numeric(Vec<f64>),
    /// Categories; `None` is null.
    Categorical(Vec<Option<String>>),
    /// Values of both kinds.
    Mixed(Vec<OwnedValue>),
}

impl OwnedColumn {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            OwnedColumn::Numeric(v) => v.len(),
            OwnedColumn::Categorical(v) => v.len(),
            OwnedColumn::Mixed(v) => v.len(),
        }
    }

    /// Whether the column has no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The tightest column holding `values`: numeric when every non-null value is a number,
    /// categorical when every one is text, mixed otherwise (all null: numeric).
    pub fn from_values(values: Vec<OwnedValue>) -> Self {
        let (numbers, texts) = count_kinds(values.iter());
        if texts == 0 {
            OwnedColumn::Numeric(
                values
                    .into_iter()
                    .map(|v| if let OwnedValue::Number(x) = v { x } else { f64::NAN })
                    .collect(),
            )
        } else if numbers == 0 {
            OwnedColumn::Categorical(
                values
                    .into_iter()
                    .map(|v| if let OwnedValue::Text(s) = v { Some(s) } else { None })
                    .collect(),
            )
        } else {
            OwnedColumn::Mixed(values)
        }
    }

    /// The column as categories: numbers become their text ([`number_category`]), NaN null.
    pub fn into_categorical(self) -> OwnedColumn {
        let text = |x: f64| (!x.is_nan()).then(|| number_category(x));
        OwnedColumn::Categorical(match self {
            OwnedColumn::Categorical(v) => v,
            OwnedColumn::Numeric(v) => v.into_iter().map(text).collect(),
            OwnedColumn::Mixed(v) => v
                .into_iter()
                .map(|v| match v {
                    OwnedValue::Null => None,
                    OwnedValue::Number(x) => text(x),
                    OwnedValue::Text(s) => Some(s),
                })
                .collect(),
        })
    }

    /// The kind most non-null values have (ties: categorical; no non-null value: numeric).
    pub fn inferred_kind(&self) -> FeatureKind {
        match self {
            OwnedColumn::Numeric(_) => FeatureKind::Numeric,
            OwnedColumn::Categorical(_) => FeatureKind::Categorical,
            OwnedColumn::Mixed(v) => {
                let (numbers, texts) = count_kinds(v.iter());
                if numbers > texts { FeatureKind::Numeric } else { FeatureKind::Categorical }
            }
        }
    }
}

/// The category a number stands for when a numeric column is read as categorical: integral
/// values within ±2⁵³ without a fraction (`3.0` → `"3"`), others as Rust prints them
/// (shortest round-trip form, `0.5` → `"0.5"`).
pub fn number_category(x: f64) -> String {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if x.fract() == 0.0 && x.abs() < EXACT {
        #[allow(clippy::cast_possible_truncation, reason = "integral and within ±2^53")]
        let i = x as i64;
        i.to_string()
    } else {
        x.to_string()
    }
}

fn count_kinds<'a>(values: impl Iterator<Item = &'a OwnedValue>) -> (usize, usize) {
    values.fold((0, 0), |(n, t), v| match v {
        OwnedValue::Number(x) if !x.is_nan() => (n + 1, t),
        OwnedValue::Text(_) => (n, t + 1),
        _ => (n, t),
    })
}

/// Named columns of one length (see the module documentation).
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::check::{check, DriftConfig};
/// use harper_edge_core::drift::frame::Frame;
/// use serde_json::json;
///
/// let reference = Frame::from_json_columns(&json!({
///     "age": (0..100).collect::<Vec<_>>(),
///     "color": (0..100).map(|i| if i % 2 == 0 { "red" } else { "blue" }).collect::<Vec<_>>(),
/// }))?;
/// let baseline = reference.fit_baseline(None, Default::default())?;
/// let current = Frame::from_json_rows(&vec![json!({"age": 10, "color": "red"}); 50])?;
/// let report = current.with_columns(|c| check(&baseline, c, &DriftConfig::default()))?;
/// assert_eq!(report.drifted_count, 2); // everyone is 10 and red now
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frame {
    names: Vec<String>,
    columns: Vec<OwnedColumn>,
}

impl Frame {
    /// An empty frame.
    pub fn new() -> Self {
        Frame::default()
    }

    /// Adds a column.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty or repeated name, or a length differing from the
    /// first column's.
    pub fn push(&mut self, name: impl Into<String>, column: OwnedColumn) -> Result<()> {
        let name = name.into();
        if name.is_empty() {
            return Err(Error::invalid_input("a column name is empty"));
        }
        if self.names.contains(&name) {
            return Err(Error::invalid_input(format!("column '{name}' is given twice")));
        }
        if let Some(first) = self.columns.first()
            && first.len() != column.len()
        {
            return Err(Error::invalid_input(format!(
                "column '{name}' has {} rows, column '{}' has {}",
                column.len(),
                self.names[0],
                first.len()
            )));
        }
        self.names.push(name);
        self.columns.push(column);
        Ok(())
    }

    /// Number of rows (0 without columns).
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, OwnedColumn::len)
    }

    /// Column names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&OwnedColumn> {
        self.names.iter().position(|n| n == name).map(|i| &self.columns[i])
    }

    /// Turns column `name` (if present) into categories ([`OwnedColumn::into_categorical`]).
    pub fn make_categorical(&mut self, name: &str) {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            let column = std::mem::replace(&mut self.columns[i], OwnedColumn::Numeric(Vec::new()));
            self.columns[i] = column.into_categorical();
        }
    }

    /// Named columns and their data, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &OwnedColumn)> {
        self.names.iter().map(String::as_str).zip(&self.columns)
    }

    /// Reads `{"name": [cell, …], …}` (see the module documentation for cells).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when `value` is not an object of arrays, a cell is an array or
    /// object, or the columns differ in length.
    pub fn from_json_columns(value: &Json) -> Result<Self> {
        let object = value.as_object().ok_or_else(|| {
            Error::invalid_input("columns must be a JSON object of arrays, {\"name\": [...]}")
        })?;
        let mut frame = Frame::new();
        for (name, cells) in object {
            let cells = cells
                .as_array()
                .ok_or_else(|| Error::invalid_input(format!("column '{name}' must be an array")))?;
            let values = cells
                .iter()
                .enumerate()
                .map(|(row, cell)| cell_value(name, row, cell))
                .collect::<Result<Vec<_>>>()?;
            frame.push(name.clone(), OwnedColumn::from_values(values))?;
        }
        Ok(frame)
    }

    /// Reads rows `[{"name": cell, …}, …]`; a name missing from a row is null there. Columns
    /// are ordered by name.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when a row is not an object or a cell is an array or object.
    pub fn from_json_rows(rows: &[Json]) -> Result<Self> {
        let mut columns: BTreeMap<&str, Vec<OwnedValue>> = BTreeMap::new();
        for (row, record) in rows.iter().enumerate() {
            let object = record
                .as_object()
                .ok_or_else(|| Error::invalid_input(format!("row {row} must be a JSON object")))?;
            for (name, cell) in object {
                let column = columns.entry(name).or_default();
                column.resize(row, OwnedValue::Null);
                column.push(cell_value(name, row, cell)?);
            }
        }
        Self::from_value_columns(columns.into_iter(), rows.len())
    }

    /// Builds a frame from named value rows (a name missing from a row is null there).
    /// Columns are ordered by name.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a name given twice in one row.
    pub fn from_named_rows<I, R, S>(rows: I) -> Result<Self>
    where
        I: IntoIterator<Item = R>,
        R: IntoIterator<Item = (S, OwnedValue)>,
        S: AsRef<str>,
    {
        let mut columns: BTreeMap<String, Vec<OwnedValue>> = BTreeMap::new();
        let mut count = 0;
        for (row, record) in rows.into_iter().enumerate() {
            for (name, value) in record {
                let name = name.as_ref();
                let column = match columns.get_mut(name) {
                    Some(c) => c,
                    None => columns.entry(name.to_string()).or_default(),
                };
                if column.len() > row {
                    return Err(Error::invalid_input(format!("row {row} names '{name}' twice")));
                }
                column.resize(row, OwnedValue::Null);
                column.push(value);
            }
            count = row + 1;
        }
        Self::from_value_columns(columns.into_iter(), count)
    }

    fn from_value_columns<S: Into<String>>(
        columns: impl Iterator<Item = (S, Vec<OwnedValue>)>,
        rows: usize,
    ) -> Result<Self> {
        let mut frame = Frame::new();
        for (name, mut values) in columns {
            values.resize(rows, OwnedValue::Null);
            frame.push(name, OwnedColumn::from_values(values))?;
        }
        Ok(frame)
    }

    /// One feature per column, of the inferred kind (see the module documentation).
    pub fn infer_schema(&self) -> Vec<FeatureSchema> {
        self.iter()
            .map(|(name, column)| match column.inferred_kind() {
                FeatureKind::Numeric => FeatureSchema::numeric(name),
                FeatureKind::Categorical => FeatureSchema::categorical(name),
            })
            .collect()
    }

    /// Calls `f` with the columns borrowed as [`Column`]s (categorical columns are lent as
    /// `Option<&str>` slices built for the call).
    pub fn with_columns<R>(&self, f: impl FnOnce(&[(&str, Column<'_>)]) -> R) -> R {
        let categorical: Vec<Vec<Option<&str>>> = self
            .columns
            .iter()
            .map(|c| match c {
                OwnedColumn::Categorical(v) => v.iter().map(Option::as_deref).collect(),
                _ => Vec::new(),
            })
            .collect();
        let mixed: Vec<Vec<Value<'_>>> = self
            .columns
            .iter()
            .map(|c| match c {
                OwnedColumn::Mixed(v) => v.iter().map(OwnedValue::as_value).collect(),
                _ => Vec::new(),
            })
            .collect();
        let columns: Vec<(&str, Column<'_>)> = self
            .iter()
            .enumerate()
            .map(|(i, (name, c))| {
                let column = match c {
                    OwnedColumn::Numeric(v) => Column::Numeric(v),
                    OwnedColumn::Categorical(_) => Column::Categorical(&categorical[i]),
                    OwnedColumn::Mixed(_) => Column::Mixed(&mixed[i]),
                };
                (name, column)
            })
            .collect();
        f(&columns)
    }

    /// Fits a baseline on this frame: with `schema`, on the columns it names (other columns
    /// are left out); without, on every column with its inferred kind.
    ///
    /// # Errors
    ///
    /// As [`Baseline::fit`]; a schema feature without a column is an
    /// [`Error::InvalidInput`].
    pub fn fit_baseline(
        &self,
        schema: Option<&[FeatureSchema]>,
        config: BaselineConfig,
    ) -> Result<Baseline> {
        let inferred;
        let schema = match schema {
            Some(s) => s,
            None => {
                inferred = self.infer_schema();
                &inferred
            }
        };
        if let Some(f) = schema.iter().find(|f| self.column(&f.name).is_none()) {
            return Err(Error::invalid_input(format!("no column for feature '{}'", f.name)));
        }
        self.with_columns(|columns| {
            let selected: Vec<(&str, Column<'_>)> = columns
                .iter()
                .filter(|(name, _)| schema.iter().any(|f| f.name == *name))
                .copied()
                .collect();
            Baseline::fit(schema, &selected, config)
        })
    }
}

fn cell_value(column: &str, row: usize, cell: &Json) -> Result<OwnedValue> {
    OwnedValue::from_json(cell).ok_or_else(|| {
        Error::invalid_input(format!(
            "column '{column}', row {row}: a cell must be a number, string, boolean or null"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_columns_take_their_tightest_form() {
        let f = Frame::from_json_columns(&json!({
            "n": [1, null, 2.5],
            "c": ["a", null, true],
            "m": [1, "x", null],
            "z": [null, null, null],
        }))
        .unwrap();
        assert_eq!(f.rows(), 3);
        assert!(matches!(f.column("n"), Some(OwnedColumn::Numeric(v)) if v[1].is_nan()));
        assert_eq!(
            f.column("c"),
            Some(&OwnedColumn::Categorical(vec![Some("a".into()), None, Some("true".into())]))
        );
        assert!(matches!(f.column("m"), Some(OwnedColumn::Mixed(_))));
        let kinds: Vec<_> = f.infer_schema().into_iter().map(|s| (s.name, s.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("c".to_string(), FeatureKind::Categorical),
                ("m".to_string(), FeatureKind::Categorical),
                ("n".to_string(), FeatureKind::Numeric),
                ("z".to_string(), FeatureKind::Numeric),
            ]
        );
    }

    #[test]
    fn numbers_read_as_categories_keep_their_text() {
        let mut f = Frame::from_json_columns(&json!({"zip": [10115, null, 2.5, 1e300]})).unwrap();
        f.make_categorical("zip");
        let expected =
            vec![Some("10115".into()), None, Some("2.5".into()), Some(1e300.to_string())];
        assert_eq!(f.column("zip"), Some(&OwnedColumn::Categorical(expected)));
        assert_eq!(number_category(-0.0), "0");
    }

    #[test]
    fn bad_json_is_refused_with_the_place() {
        let e = Frame::from_json_columns(&json!({"a": [1, [2]]})).unwrap_err();
        assert!(e.to_string().contains("column 'a', row 1"), "{e}");
        let e = Frame::from_json_columns(&json!({"a": [1, 2], "b": [1]})).unwrap_err();
        assert!(e.to_string().contains("has 1 rows"), "{e}");
        assert!(Frame::from_json_columns(&json!([1])).is_err());
        assert!(Frame::from_json_rows(&[json!(3)]).unwrap_err().to_string().contains("row 0"));
    }

    #[test]
    fn rows_missing_a_name_are_null_there() {
        let f =
            Frame::from_json_rows(&[json!({"a": 1}), json!({"b": "x"}), json!({"a": 3})]).unwrap();
        assert_eq!(f.names(), ["a", "b"]);
        match f.column("a") {
            Some(OwnedColumn::Numeric(v)) => {
                assert_eq!((v[0], v[2]), (1.0, 3.0));
                assert!(v[1].is_nan());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            f.column("b"),
            Some(&OwnedColumn::Categorical(vec![None, Some("x".into()), None]))
        );
        let e = Frame::from_named_rows([[("a", OwnedValue::Null), ("a", OwnedValue::Null)]])
            .unwrap_err();
        assert!(e.to_string().contains("names 'a' twice"), "{e}");
    }

    #[test]
    fn a_schema_selects_and_types_the_columns() {
        let f = Frame::from_json_columns(&json!({"a": [1, 2, 3], "b": ["x", "y", "x"]})).unwrap();
        let b = f.fit_baseline(Some(&[FeatureSchema::numeric("a")]), Default::default()).unwrap();
        assert_eq!(b.features().len(), 1);
        let e = f.fit_baseline(Some(&[FeatureSchema::numeric("b")]), Default::default());
        assert!(e.is_err());
        let e = f.fit_baseline(Some(&[FeatureSchema::numeric("q")]), Default::default());
        assert!(e.unwrap_err().to_string().contains("no column for feature 'q'"));
    }
}

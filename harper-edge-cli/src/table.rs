//! Reading tabular files (CSV, Parquet) into drift [`Frame`]s.
//!
//! # CSV
//!
//! A header row names the columns; every row must have as many cells as the header. A cell
//! that is empty or `NA`, `NaN`, `null` (any case, surrounding spaces ignored) is null. A
//! column is numeric when every non-null cell parses as an `f64`, categorical otherwise,
//! unless its kind is given ([`Want::Kind`]): a numeric column whose cell does not parse keeps
//! that cell as text ([`OwnedColumn::Mixed`]), a schema violation for the data-quality check.
//!
//! # Parquet (cargo feature `parquet`)
//!
//! Read column by column through Arrow record batches. Floating-point, integer and decimal
//! columns are numeric (null: NaN); string (`Utf8`, `LargeUtf8`, `Utf8View`, dictionaries of
//! them) and boolean (`"true"`/`"false"`) columns are categorical. A given kind converts:
//! numbers to categories as their shortest decimal text (`3.0` → `"3"`), text to numbers as
//! for CSV. Any other Arrow type is an error naming the column and its type.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use harper_edge_core::drift::baseline::FeatureKind;
use harper_edge_core::drift::frame::{Frame, OwnedColumn, OwnedValue};
use harper_edge_core::{Error, Result};

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// The format given by `forced`, else by the extension of `path` (`.csv`, `.parquet`,
    /// `.pq`, any case).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for another extension.
    pub fn of(path: &Path, forced: Option<Format>) -> Result<Format> {
        if let Some(f) = forced {
            return Ok(f);
        }
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv") => Ok(Format::Csv),
            Some("parquet" | "pq") => Ok(Format::Parquet),
            _ => Err(Error::invalid_input(format!(
                "cannot tell the format of '{}' from its extension (expected .csv, .parquet or \
                 .pq; or give --format csv|parquet)",
                path.display()
            ))),
        }
    }
}

impl FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "parquet" | "pq" => Ok(Format::Parquet),
            other => Err(Error::invalid_input(format!(
                "unknown format '{other}' (expected csv or parquet)"
            ))),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        })
    }
}

/// What to do with a column of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Leave it out.
    Skip,
    /// Read it with its inferred kind.
    Infer,
    /// Read it as this kind.
    Kind(FeatureKind),
}

/// A file read into a frame.
#[derive(Debug)]
pub struct Table {
    /// The columns kept.
    pub frame: Frame,
    /// The names of the columns left out ([`Want::Skip`]), in file order.
    pub skipped: Vec<String>,
}

/// Reads `path` as `format`, asking `want` what to do with each column.
///
/// # Errors
///
/// [`Error::Io`] if the file cannot be opened; [`Error::InvalidInput`] naming the file for a
/// malformed file (a ragged CSV row, a repeated column name, an unsupported Parquet column
/// type, or Parquet without the `parquet` feature).
pub fn read(path: &Path, format: Format, want: &dyn Fn(&str) -> Want) -> Result<Table> {
    let raw = match format {
        Format::Csv => read_csv(path)?,
        Format::Parquet => read_parquet(path, want)?,
    };
    let mut table = Table { frame: Frame::new(), skipped: Vec::new() };
    for (name, column) in raw {
        match want(&name) {
            Want::Skip => table.skipped.push(name),
            w => {
                let kind = if let Want::Kind(k) = w { Some(k) } else { None };
                let column = column.finish(kind).map_err(|e| bad_file(path, e))?;
                table.frame.push(name, column).map_err(|e| in_file(path, e))?;
            }
        }
    }
    Ok(table)
}

/// A column as read, before its kind is settled.
#[derive(Debug)]
#[cfg_attr(not(feature = "parquet"), allow(dead_code))] // only CSV cells without Parquet
enum RawColumn {
    /// Typed numbers (Parquet); NaN is null.
    Numbers(Vec<f64>),
    /// Typed categories (Parquet).
    Categories(Vec<Option<String>>),
    /// Untyped text cells (CSV), nulls already recognised.
    Cells(Vec<Option<String>>),
    /// A Parquet column of a type that cannot be read: the message to give if it is wanted.
    Unsupported(String),
}

impl RawColumn {
    /// The column of `kind` (`None`: inferred); `Err` with the message for an unsupported
    /// column.
    fn finish(self, kind: Option<FeatureKind>) -> std::result::Result<OwnedColumn, String> {
        Ok(match (self, kind) {
            (RawColumn::Numbers(v), None | Some(FeatureKind::Numeric)) => OwnedColumn::Numeric(v),
            (RawColumn::Numbers(v), Some(FeatureKind::Categorical)) => OwnedColumn::Categorical(
                v.into_iter().map(|x| (!x.is_nan()).then(|| x.to_string())).collect(),
            ),
            (RawColumn::Categories(v), None | Some(FeatureKind::Categorical))
            | (RawColumn::Cells(v), Some(FeatureKind::Categorical)) => OwnedColumn::Categorical(v),
            (RawColumn::Categories(v) | RawColumn::Cells(v), Some(FeatureKind::Numeric)) => {
                numbers_or_mixed(v)
            }
            (RawColumn::Cells(v), None) => {
                if v.iter().flatten().all(|c| parse_number(c).is_some()) {
                    numbers_or_mixed(v)
                } else {
                    OwnedColumn::Categorical(v)
                }
            }
            (RawColumn::Unsupported(message), _) => return Err(message),
        })
    }
}

/// A numeric column when every non-null cell parses as a number; else a mixed one keeping
/// the cells that do not parse as text (schema violations).
fn numbers_or_mixed(cells: Vec<Option<String>>) -> OwnedColumn {
    let parsed: Vec<Option<f64>> =
        cells.iter().map(|c| c.as_deref().map_or(Some(f64::NAN), parse_number)).collect();
    if parsed.iter().all(Option::is_some) {
        return OwnedColumn::Numeric(parsed.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect());
    }
    OwnedColumn::Mixed(
        cells
            .into_iter()
            .zip(parsed)
            .map(|(cell, x)| match (cell, x) {
                (None, _) => OwnedValue::Null,
                (Some(_), Some(x)) => OwnedValue::Number(x),
                (Some(s), None) => OwnedValue::Text(s),
            })
            .collect(),
    )
}

fn parse_number(cell: &str) -> Option<f64> {
    cell.trim().parse::<f64>().ok()
}

/// Whether a CSV cell means null: empty, `NA`, `NaN` or `null`, any case, spaces ignored.
fn is_null_cell(cell: &str) -> bool {
    let t = cell.trim();
    t.is_empty() || ["na", "nan", "null"].iter().any(|n| t.eq_ignore_ascii_case(n))
}

/// `e` with its message prefixed by the file it is about (other kinds of errors unchanged).
pub fn in_file(path: &Path, e: Error) -> Error {
    match e {
        Error::InvalidInput { message } => {
            Error::invalid_input(format!("{}: {message}", path.display()))
        }
        other => other,
    }
}

fn bad_file(path: &Path, e: impl fmt::Display) -> Error {
    Error::invalid_input(format!("{}: {e}", path.display()))
}

fn open(path: &Path) -> Result<std::fs::File> {
    std::fs::File::open(path).map_err(|e| Error::io(path, e))
}

fn read_csv(path: &Path) -> Result<Vec<(String, RawColumn)>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(open(path)?);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| bad_file(path, e))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if headers.is_empty() || headers.iter().all(String::is_empty) {
        return Err(bad_file(path, "no header row"));
    }
    let mut cells: Vec<Vec<Option<String>>> = vec![Vec::new(); headers.len()];
    for record in reader.records() {
        let record = record.map_err(|e| bad_file(path, csv_error(&e)))?;
        for (column, cell) in cells.iter_mut().zip(record.iter()) {
            column.push((!is_null_cell(cell)).then(|| cell.trim().to_string()));
        }
    }
    Ok(headers.into_iter().zip(cells).map(|(h, c)| (h, RawColumn::Cells(c))).collect())
}

fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => format!(
            "line {} has {len} cells, the header has {expected_len}",
            pos.as_ref().map_or(0, csv::Position::line)
        ),
        _ => e.to_string(),
    }
}

#[cfg(not(feature = "parquet"))]
fn read_parquet(path: &Path, _want: &dyn Fn(&str) -> Want) -> Result<Vec<(String, RawColumn)>> {
    Err(bad_file(
        path,
        "this harper-edge was built without Parquet support (cargo feature `parquet`); \
         convert the file to CSV or rebuild with the feature",
    ))
}

#[cfg(feature = "parquet")]
fn read_parquet(path: &Path, want: &dyn Fn(&str) -> Want) -> Result<Vec<(String, RawColumn)>> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let builder =
        ParquetRecordBatchReaderBuilder::try_new(open(path)?).map_err(|e| bad_file(path, e))?;
    let schema = builder.schema().clone();
    let reader = builder.build().map_err(|e| bad_file(path, e))?;
    let mut columns: Vec<(String, RawColumn)> = schema
        .fields()
        .iter()
        .map(|f| {
            let raw = match parquet_kind(f.data_type()) {
                Some(FeatureKind::Numeric) => RawColumn::Numbers(Vec::new()),
                Some(FeatureKind::Categorical) => RawColumn::Categories(Vec::new()),
                None => RawColumn::Unsupported(format!(
                    "column '{}' has type {}, which drift cannot read (numbers, strings and \
                     booleans only; --ignore it)",
                    f.name(),
                    f.data_type()
                )),
            };
            (f.name().clone(), raw)
        })
        .collect();
    // Fail before reading any data on a wanted column of an unsupported type.
    for (name, column) in &columns {
        if let RawColumn::Unsupported(message) = column
            && want(name) != Want::Skip
        {
            return Err(bad_file(path, message));
        }
    }
    for batch in reader {
        let batch = batch.map_err(|e| bad_file(path, e))?;
        for ((name, column), array) in columns.iter_mut().zip(batch.columns()) {
            if want(name) == Want::Skip {
                continue;
            }
            match column {
                RawColumn::Numbers(v) => arrow_read::numbers(array.as_ref(), v),
                RawColumn::Categories(v) => arrow_read::categories(array.as_ref(), v),
                RawColumn::Cells(_) | RawColumn::Unsupported(_) => Ok(()),
            }
            .map_err(|e| bad_file(path, format!("column '{name}': {e}")))?;
        }
    }
    Ok(columns)
}

/// The kind an Arrow type reads as (`None`: unsupported).
#[cfg(feature = "parquet")]
fn parquet_kind(t: &arrow_schema::DataType) -> Option<FeatureKind> {
    use arrow_schema::DataType as D;
    match t {
        D::Float16
        | D::Float32
        | D::Float64
        | D::Int8
        | D::Int16
        | D::Int32
        | D::Int64
        | D::UInt8
        | D::UInt16
        | D::UInt32
        | D::UInt64
        | D::Decimal32(..)
        | D::Decimal64(..)
        | D::Decimal128(..) => Some(FeatureKind::Numeric),
        D::Utf8 | D::LargeUtf8 | D::Utf8View | D::Boolean => Some(FeatureKind::Categorical),
        D::Dictionary(_, values) if matches!(**values, D::Utf8 | D::LargeUtf8 | D::Utf8View) => {
            Some(FeatureKind::Categorical)
        }
        _ => None,
    }
}

#[cfg(feature = "parquet")]
mod arrow_read {
    //! Appending Arrow arrays to raw columns.

    use arrow_array::cast::AsArray as _;
    use arrow_array::types::{
        ArrowPrimitiveType, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
        Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
    };
    use arrow_array::{Array, PrimitiveArray};
    use arrow_schema::DataType as D;

    fn unexpected(array: &dyn Array) -> String {
        format!("unexpected array type {}", array.data_type())
    }

    fn push_primitive<T: ArrowPrimitiveType>(
        array: &dyn Array,
        out: &mut Vec<f64>,
        to_f64: impl Fn(T::Native) -> f64,
    ) -> Result<(), String> {
        let a: &PrimitiveArray<T> = array.as_primitive_opt().ok_or_else(|| unexpected(array))?;
        out.extend((0..a.len()).map(|i| if a.is_null(i) { f64::NAN } else { to_f64(a.value(i)) }));
        Ok(())
    }

    /// Appends a numeric array (nulls as NaN).
    #[allow(clippy::cast_precision_loss)] // integers beyond 2^53 round, as in pandas
    pub(super) fn numbers(array: &dyn Array, out: &mut Vec<f64>) -> Result<(), String> {
        match array.data_type() {
            D::Float16 => push_primitive::<Float16Type>(array, out, f64::from),
            D::Float32 => push_primitive::<Float32Type>(array, out, f64::from),
            D::Float64 => push_primitive::<Float64Type>(array, out, |x| x),
            D::Int8 => push_primitive::<Int8Type>(array, out, f64::from),
            D::Int16 => push_primitive::<Int16Type>(array, out, f64::from),
            D::Int32 => push_primitive::<Int32Type>(array, out, f64::from),
            D::Int64 => push_primitive::<Int64Type>(array, out, |x| x as f64),
            D::UInt8 => push_primitive::<UInt8Type>(array, out, f64::from),
            D::UInt16 => push_primitive::<UInt16Type>(array, out, f64::from),
            D::UInt32 => push_primitive::<UInt32Type>(array, out, f64::from),
            D::UInt64 => push_primitive::<UInt64Type>(array, out, |x| x as f64),
            D::Decimal32(_, s) => {
                let scale = 10f64.powi(i32::from(*s));
                push_primitive::<arrow_array::types::Decimal32Type>(array, out, |x| {
                    f64::from(x) / scale
                })
            }
            D::Decimal64(_, s) => {
                let scale = 10f64.powi(i32::from(*s));
                push_primitive::<arrow_array::types::Decimal64Type>(array, out, |x| {
                    x as f64 / scale
                })
            }
            D::Decimal128(_, s) => {
                let scale = 10f64.powi(i32::from(*s));
                push_primitive::<arrow_array::types::Decimal128Type>(array, out, |x| {
                    x as f64 / scale
                })
            }
            _ => Err(unexpected(array)),
        }
    }

    /// Appends a string, dictionary-of-string or boolean array.
    pub(super) fn categories(
        array: &dyn Array,
        out: &mut Vec<Option<String>>,
    ) -> Result<(), String> {
        let n = array.len();
        match array.data_type() {
            D::Boolean => {
                let a = array.as_boolean();
                out.extend((0..n).map(|i| (!a.is_null(i)).then(|| a.value(i).to_string())));
            }
            D::Utf8 => {
                let a = array.as_string::<i32>();
                out.extend((0..n).map(|i| (!a.is_null(i)).then(|| a.value(i).to_string())));
            }
            D::LargeUtf8 => {
                let a = array.as_string::<i64>();
                out.extend((0..n).map(|i| (!a.is_null(i)).then(|| a.value(i).to_string())));
            }
            D::Utf8View => {
                let a = array.as_string_view();
                out.extend((0..n).map(|i| (!a.is_null(i)).then(|| a.value(i).to_string())));
            }
            D::Dictionary(..) => {
                let a = array.as_any_dictionary_opt().ok_or_else(|| unexpected(array))?;
                let mut values = Vec::new();
                categories(a.values().as_ref(), &mut values)?;
                let keys = a.normalized_keys();
                out.extend((0..n).map(|i| {
                    if a.is_null(i) { None } else { values.get(keys[i]).cloned().flatten() }
                }));
            }
            _ => return Err(unexpected(array)),
        }
        Ok(())
    }
}

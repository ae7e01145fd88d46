//! The columns of `Engine.record_batch`: 1-D array-likes in, borrowed slices out.
//!
//! A C-contiguous, aligned numpy array of the column's dtype is borrowed, never copied: the
//! core reads the numpy buffer while the GIL is released, so the caller must not write to the
//! array from another thread during the call. A list or tuple of plain Python numbers (or
//! bools, for `errors`) is read directly, which is what makes one call per Python loop
//! iteration cheap. Anything else (other array-likes, arrays of another numeric dtype, strided
//! views) is converted with numpy first.

use numpy::{
    Element, PyArrayDescrMethods, PyReadonlyArray1, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyTuple};

/// One column, borrowed from a numpy array or read from a list.
pub(crate) enum Column<'py, T: Element> {
    Array(PyReadonlyArray1<'py, T>),
    Items(Vec<T>),
}

impl<T: Element> Column<'_, T> {
    /// The entries.
    pub(crate) fn as_slice(&self) -> PyResult<&[T]> {
        match self {
            Column::Array(a) => Ok(a.as_slice()?),
            Column::Items(v) => Ok(v),
        }
    }
}

/// The `timestamps` column: integer or float epoch milliseconds (the core drops fractions
/// and refuses NaN and infinities, naming the entry).
pub(crate) enum Times<'py> {
    I64(Column<'py, i64>),
    F64(Column<'py, f64>),
}

/// A float64 column (`latency_ms`, `confidence`): integer and float arrays are accepted.
pub(crate) fn float64<'py>(obj: &Bound<'py, PyAny>, name: &str) -> PyResult<Column<'py, f64>> {
    if let Some(a) = borrowed::<f64>(obj) {
        return Ok(Column::Array(a));
    }
    if let Some(items) = items(obj, number) {
        return Ok(Column::Items(items));
    }
    let array = convert(obj, name, b"iuf", "float64", "numbers (float64)")?;
    Ok(Column::Array(array.extract()?))
}

/// The `errors` column: booleans (an integer array counts non-zero entries as failed).
pub(crate) fn flags<'py>(obj: &Bound<'py, PyAny>, name: &str) -> PyResult<Column<'py, bool>> {
    if let Some(a) = borrowed::<bool>(obj) {
        return Ok(Column::Array(a));
    }
    if let Some(items) = items(obj, |x| x.cast_exact::<PyBool>().ok().map(|b| b.is_true())) {
        return Ok(Column::Items(items));
    }
    let array = convert(obj, name, b"biu", "bool", "booleans (bool)")?;
    Ok(Column::Array(array.extract()?))
}

/// The `timestamps` column: int64 (other integer dtypes converted if they fit losslessly) or
/// float64 epoch milliseconds.
pub(crate) fn times<'py>(obj: &Bound<'py, PyAny>, name: &str) -> PyResult<Times<'py>> {
    if let Some(a) = borrowed::<i64>(obj) {
        return Ok(Times::I64(Column::Array(a)));
    }
    if let Some(a) = borrowed::<f64>(obj) {
        return Ok(Times::F64(Column::Array(a)));
    }
    let int = |x: &Bound<'_, PyAny>| {
        if x.is_exact_instance_of::<PyInt>() { x.extract::<i64>().ok() } else { None }
    };
    if let Some(items) = items(obj, int) {
        return Ok(Times::I64(Column::Items(items)));
    }
    let what = "epoch milliseconds (int64; convert datetime64 values with \
                .astype(\"datetime64[ms]\").astype(np.int64))";
    let array = as_array(obj, name, b"iuf", what)?;
    if array.dtype().kind() == b'f' {
        let array = cast(&array, "float64", "same_kind")?;
        return Ok(Times::F64(Column::Array(array.extract()?)));
    }
    // "safe": an unsigned 64-bit array, which could wrap, raises numpy's TypeError instead.
    Ok(Times::I64(Column::Array(cast(&array, "int64", "safe")?.extract()?)))
}

/// The entries of a list or tuple (exactly those types) when `item` reads every one of them;
/// `None` sends the column down the numpy path (which also explains what is wrong).
fn items<T>(
    obj: &Bound<'_, PyAny>,
    item: impl Fn(&Bound<'_, PyAny>) -> Option<T>,
) -> Option<Vec<T>> {
    if let Ok(list) = obj.cast_exact::<PyList>() {
        return list.iter().map(|x| item(&x)).collect();
    }
    if let Ok(tuple) = obj.cast_exact::<PyTuple>() {
        return tuple.iter().map(|x| item(&x)).collect();
    }
    None
}

/// A plain Python `float`, or an `int` that fits 64 bits (not a `bool`, which numpy would
/// not take as a number either), as a float64.
#[allow(clippy::cast_precision_loss, reason = "as numpy converts an int64 to float64")]
fn number(x: &Bound<'_, PyAny>) -> Option<f64> {
    if let Ok(f) = x.cast_exact::<PyFloat>() {
        return Some(f.value());
    }
    if x.is_exact_instance_of::<PyInt>() {
        return x.extract::<i64>().ok().map(|i| i as f64);
    }
    None
}

/// `obj` itself when it can be read in place: a 1-D array of dtype `T`, contiguous and
/// aligned (what `as_slice` checks).
fn borrowed<'py, T: Element>(obj: &Bound<'py, PyAny>) -> Option<PyReadonlyArray1<'py, T>> {
    let a = obj.extract::<PyReadonlyArray1<'py, T>>().ok()?;
    a.as_slice().is_ok().then_some(a)
}

/// `obj` converted to a contiguous 1-D array of `dtype`, after checking that its elements are
/// of one of the numpy `kinds` (`b`ool, `i`nt, `u`nsigned, `f`loat).
fn convert<'py>(
    obj: &Bound<'py, PyAny>,
    name: &str,
    kinds: &[u8],
    dtype: &str,
    what: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let array = as_array(obj, name, kinds, what)?;
    cast(&array, dtype, "unsafe")
}

/// `obj` as a 1-D numpy array (`numpy.asarray`) whose dtype is of one of `kinds`; an empty
/// array of any dtype passes (`[]` is float64 to numpy).
fn as_array<'py>(
    obj: &Bound<'py, PyAny>,
    name: &str,
    kinds: &[u8],
    what: &str,
) -> PyResult<Bound<'py, PyUntypedArray>> {
    let py = obj.py();
    let given = obj.is_instance_of::<PyUntypedArray>();
    let describe = |a: &Bound<'py, PyUntypedArray>| -> PyResult<String> {
        let shape = match a.shape() {
            [n] => format!("({n},)"),
            dims => {
                format!("({})", dims.iter().map(usize::to_string).collect::<Vec<_>>().join(", "))
            }
        };
        Ok(if given {
            format!("an array of dtype {} and shape {shape}", a.dtype())
        } else {
            format!("a {} (to numpy: dtype {}, shape {shape})", obj.get_type().name()?, a.dtype())
        })
    };
    let numpy = py.import(pyo3::intern!(py, "numpy"))?;
    let array = numpy.call_method1(pyo3::intern!(py, "asarray"), (obj,))?;
    let array = array.cast_into::<PyUntypedArray>()?;
    if !(kinds.contains(&array.dtype().kind()) || (array.len() == 0 && array.ndim() == 1)) {
        return Err(PyTypeError::new_err(format!(
            "{name} must be a 1-D array of {what}, got {}",
            describe(&array)?
        )));
    }
    if array.ndim() != 1 {
        return Err(PyValueError::new_err(format!(
            "{name} must be a 1-D array (one entry per call), got {}",
            describe(&array)?
        )));
    }
    Ok(array)
}

/// `array.astype(dtype, casting=casting)` as a C-contiguous array.
fn cast<'py>(
    array: &Bound<'py, PyUntypedArray>,
    dtype: &str,
    casting: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let py = array.py();
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item(pyo3::intern!(py, "casting"), casting)?;
    kwargs.set_item(pyo3::intern!(py, "order"), "C")?;
    array.call_method(pyo3::intern!(py, "astype"), (dtype,), Some(&kwargs))
}

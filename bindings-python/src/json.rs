//! JSON values (`serde_json::Value`) to plain Python objects and back.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// Deeper nesting is refused, so a self-referencing list raises instead of overflowing the stack.
const MAX_DEPTH: usize = 128;

/// `value` as `None`, `bool`, `int`, `float`, `str`, `list` or `dict`.
pub(crate) fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            (None, None) => PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// `obj` as JSON: `None`, `bool`, `int`, finite `float`, `str`, `list`/`tuple`, `dict` with
/// `str` keys, and numpy scalars and arrays (through `.tolist()`).
///
/// # Errors
///
/// `TypeError` for other objects and non-`str` keys; `ValueError` for NaN, infinities,
/// integers beyond 64 bits and nesting deeper than 128 levels.
pub(crate) fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    convert(obj, 0, true)
}

fn convert(obj: &Bound<'_, PyAny>, depth: usize, allow_tolist: bool) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "value nested deeper than {MAX_DEPTH} levels cannot be stored as JSON"
        )));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(PyValueError::new_err(format!(
            "integer {obj} does not fit in 64 bits and cannot be stored as JSON"
        )));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let x = f.value();
        return Number::from_f64(x).map(Value::Number).ok_or_else(|| {
            PyValueError::new_err(format!("{x} cannot be stored as JSON (NaN or infinite)"))
        });
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_str()?.to_owned()));
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            let key = k.cast::<PyString>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "dict keys must be str to be stored as JSON, got {}",
                    type_name(&k)
                ))
            })?;
            map.insert(key.to_str()?.to_owned(), convert(&v, depth + 1, true)?);
        }
        return Ok(Value::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        return obj
            .try_iter()?
            .map(|item| convert(&item?, depth + 1, true))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    if allow_tolist && obj.hasattr(pyo3::intern!(obj.py(), "tolist"))? {
        return convert(&obj.call_method0(pyo3::intern!(obj.py(), "tolist"))?, depth, false);
    }
    Err(PyTypeError::new_err(format!("cannot store a {} as JSON", type_name(obj))))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map_or_else(|_| "object".to_string(), |n| n.to_string())
}

/// A serialised record (`serde_json::to_value` of a core record, original camelCase field
/// names) as a Python dict.
pub(crate) fn record_to_py<'py>(
    py: Python<'py>,
    record: serde_json::Result<Value>,
) -> PyResult<Bound<'py, PyAny>> {
    let value = record.map_err(|e| crate::error::to_py_err(py, &e.into()))?;
    to_py(py, &value)
}

/// The Python `repr` of a JSON value (`[0, 2]`, `'setosa'`, `None`).
pub(crate) fn repr(py: Python<'_>, value: &Value) -> PyResult<String> {
    Ok(to_py(py, value)?.repr()?.to_str()?.to_owned())
}

/// A camelCase field name in snake_case (`eventsBuffered` → `events_buffered`), as the Python
/// API names fields.
pub(crate) fn snake_case(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

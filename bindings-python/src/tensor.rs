//! numpy arrays in, numpy arrays out.
//!
//! Input arrays of dtype float32 or int64 in C order are borrowed, never copied: the core
//! reads the numpy buffer while the GIL is released, so the caller must not write to the array
//! from another thread during the call.

use harper_edge_core::{Inputs, Outputs, Tensor, TensorData};
use numpy::{
    PyArray, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::error::to_py_err;
use crate::json;

/// An input array held (with a shared numpy borrow) for the length of one call.
pub(crate) enum Held<'py> {
    F32(PyReadonlyArrayDyn<'py, f32>),
    I64(PyReadonlyArrayDyn<'py, i64>),
}

/// The arrays of `x` (an array, or a dict of arrays by input name), each float32 or int64
/// and C-contiguous; other arrays are converted when `allow_copy` is set and refused with a
/// `TypeError` otherwise.
pub(crate) fn hold_inputs<'py>(
    x: &Bound<'py, PyAny>,
    allow_copy: bool,
) -> PyResult<Vec<(Option<String>, Held<'py>)>> {
    match x.cast::<PyDict>() {
        Ok(dict) => dict
            .iter()
            .map(|(k, v)| {
                let name = k
                    .cast::<PyString>()
                    .map_err(|_| PyTypeError::new_err("input names must be str"))?
                    .to_str()?
                    .to_owned();
                let held = hold(&v, &format!("input '{name}'"), allow_copy)?;
                Ok((Some(name), held))
            })
            .collect(),
        Err(_) => Ok(vec![(None, hold(x, "x", allow_copy)?)]),
    }
}

fn hold<'py>(obj: &Bound<'py, PyAny>, what: &str, allow_copy: bool) -> PyResult<Held<'py>> {
    if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'py, f32>>()
        && borrowable(&a)
    {
        return Ok(Held::F32(a));
    }
    if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'py, i64>>()
        && borrowable(&a)
    {
        return Ok(Held::I64(a));
    }
    if !allow_copy {
        let found = match obj.cast::<PyUntypedArray>() {
            Ok(a) => {
                let order = if a.is_c_contiguous() { "C-contiguous" } else { "non-contiguous" };
                format!("a {order} {} array", a.dtype())
            }
            Err(_) => format!("a {}", obj.get_type().name()?),
        };
        return Err(PyTypeError::new_err(format!(
            "{what} must be a C-contiguous numpy array of dtype float32 or int64, got {found}: \
             convert it with np.ascontiguousarray(x, dtype=np.float32) or pass allow_copy=True"
        )));
    }
    let py = obj.py();
    let numpy = py.import(pyo3::intern!(py, "numpy"))?;
    let is_i64 = obj.cast::<PyArrayDyn<i64>>().is_ok();
    let dtype = if is_i64 { "int64" } else { "float32" };
    let copy = numpy.call_method1(pyo3::intern!(py, "ascontiguousarray"), (obj, dtype))?;
    if is_i64 {
        copy.extract::<PyReadonlyArrayDyn<'py, i64>>().map(Held::I64)
    } else {
        copy.extract::<PyReadonlyArrayDyn<'py, f32>>().map(Held::F32)
    }
}

/// Whether the array can be read in place: C order (`as_slice` also accepts Fortran order,
/// whose elements are not in the row-major order the core expects) and aligned.
fn borrowable<T: numpy::Element>(a: &PyReadonlyArrayDyn<'_, T>) -> bool {
    a.is_c_contiguous() && a.as_slice().is_ok()
}

/// Core inputs borrowing the held arrays' buffers.
pub(crate) fn borrow_inputs<'a>(
    py: Python<'_>,
    held: &'a [(Option<String>, Held<'_>)],
) -> PyResult<Inputs<'a>> {
    let tensor = |h: &'a Held<'_>| -> PyResult<Tensor<'a>> {
        let result = match h {
            Held::F32(a) => Tensor::from_f32(a.shape(), a.as_slice()?),
            Held::I64(a) => Tensor::from_i64(a.shape(), a.as_slice()?),
        };
        result.map_err(|e| to_py_err(py, &e))
    };
    match held {
        [(None, h)] => Ok(Inputs::single(tensor(h)?)),
        _ => held.iter().try_fold(Inputs::new(), |inputs, (name, h)| {
            let name = name.clone().unwrap_or_else(|| "input".to_string());
            Ok(inputs.with(name, tensor(h)?))
        }),
    }
}

/// Each output as a numpy array of its shape: float32, int64, or object (str) elements. The
/// core's output buffers are handed to numpy without copying.
pub(crate) fn outputs_to_numpy(
    py: Python<'_>,
    outputs: Outputs,
) -> PyResult<Vec<(String, Py<PyAny>)>> {
    outputs
        .into_vec()
        .into_iter()
        .map(|(name, t)| Ok((name, tensor_to_numpy(py, t)?.unbind())))
        .collect()
}

fn tensor_to_numpy<'py>(py: Python<'py>, t: Tensor<'static>) -> PyResult<Bound<'py, PyAny>> {
    let (shape, data) = t.into_parts();
    match data {
        TensorData::F32(v) => Ok(PyArray::from_vec(py, v.into_owned()).reshape(shape)?.into_any()),
        TensorData::I64(v) => Ok(PyArray::from_vec(py, v.into_owned()).reshape(shape)?.into_any()),
        TensorData::String(v) => {
            let objects: Vec<Py<PyAny>> =
                v.iter().map(|s| PyString::new(py, s).into_any().unbind()).collect();
            Ok(PyArray::from_vec(py, objects).reshape(shape)?.into_any())
        }
        other => {
            let t = Tensor::new(shape, other).map_err(|e| to_py_err(py, &e))?;
            let nested = json::to_py(py, &t.to_json())?;
            py.import(pyo3::intern!(py, "numpy"))?.call_method1("asarray", (nested,))
        }
    }
}

//! Named tensors: the data that goes into and comes out of a model.
//!
//! A [`Tensor`] is a shape plus f32, i64 or string data. Its data is a [`Cow`], so a tensor can
//! borrow the caller's buffer (a numpy array, a `Float32Array`) without copying, or own its data
//! (a backend's output).

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// Element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DType {
    /// 32-bit float.
    F32,
    /// 64-bit signed integer.
    I64,
    /// UTF-8 string.
    String,
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DType::F32 => "f32",
            DType::I64 => "i64",
            DType::String => "string",
        })
    }
}

/// The elements of a tensor, borrowed or owned, in row-major order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TensorData<'a> {
    /// 32-bit floats.
    F32(Cow<'a, [f32]>),
    /// 64-bit integers.
    I64(Cow<'a, [i64]>),
    /// Strings.
    String(Cow<'a, [String]>),
}

impl TensorData<'_> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            TensorData::F32(v) => v.len(),
            TensorData::I64(v) => v.len(),
            TensorData::String(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        match self {
            TensorData::F32(_) => DType::F32,
            TensorData::I64(_) => DType::I64,
            TensorData::String(_) => DType::String,
        }
    }
}

/// A shaped, typed block of data.
///
/// # Examples
///
/// ```
/// use harper_edge_core::Tensor;
///
/// let rows = [5.1_f32, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3];
/// let t = Tensor::from_f32(&[2, 4], &rows)?; // borrows `rows`, no copy
/// assert_eq!(t.shape(), &[2, 4]);
/// assert_eq!(t.as_f32().map(<[f32]>::len), Some(8));
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor<'a> {
    shape: Vec<usize>,
    data: TensorData<'a>,
}

impl<'a> Tensor<'a> {
    /// A tensor of `shape` over `data`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the number of elements is not the product of `shape`.
    pub fn new(shape: Vec<usize>, data: TensorData<'a>) -> Result<Self> {
        let expected = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        if expected != Some(data.len()) {
            return Err(Error::invalid_input(format!(
                "tensor of shape {} needs {} elements, got {}",
                format_shape(&shape),
                expected.map_or_else(|| "too many".to_string(), |n| n.to_string()),
                data.len()
            )));
        }
        Ok(Tensor { shape, data })
    }

    /// An f32 tensor borrowing `data`.
    ///
    /// # Errors
    ///
    /// As [`Tensor::new`].
    pub fn from_f32(shape: &[usize], data: &'a [f32]) -> Result<Self> {
        Tensor::new(shape.to_vec(), TensorData::F32(Cow::Borrowed(data)))
    }

    /// An i64 tensor borrowing `data`.
    ///
    /// # Errors
    ///
    /// As [`Tensor::new`].
    pub fn from_i64(shape: &[usize], data: &'a [i64]) -> Result<Self> {
        Tensor::new(shape.to_vec(), TensorData::I64(Cow::Borrowed(data)))
    }

    /// The dimensions, outermost first.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The elements.
    pub fn data(&self) -> &TensorData<'a> {
        &self.data
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The f32 elements, if this is an f32 tensor.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            TensorData::F32(v) => Some(v),
            _ => None,
        }
    }

    /// The i64 elements, if this is an i64 tensor.
    pub fn as_i64(&self) -> Option<&[i64]> {
        match &self.data {
            TensorData::I64(v) => Some(v),
            _ => None,
        }
    }

    /// The string elements, if this is a string tensor.
    pub fn as_strings(&self) -> Option<&[String]> {
        match &self.data {
            TensorData::String(v) => Some(v),
            _ => None,
        }
    }

    /// The shape and the data, consumed (hands an owned buffer over without copying).
    pub fn into_parts(self) -> (Vec<usize>, TensorData<'a>) {
        (self.shape, self.data)
    }

    /// A tensor that owns its data (copies borrowed data).
    pub fn into_owned(self) -> Tensor<'static> {
        let data = match self.data {
            TensorData::F32(v) => TensorData::F32(Cow::Owned(v.into_owned())),
            TensorData::I64(v) => TensorData::I64(Cow::Owned(v.into_owned())),
            TensorData::String(v) => TensorData::String(Cow::Owned(v.into_owned())),
        };
        Tensor { shape: self.shape, data }
    }

    /// The tensor as nested JSON arrays (a scalar for rank 0).
    pub fn to_json(&self) -> Value {
        fn nest(shape: &[usize], flat: &mut dyn Iterator<Item = Value>) -> Value {
            match shape.split_first() {
                None => flat.next().unwrap_or(Value::Null),
                Some((&n, rest)) => Value::Array((0..n).map(|_| nest(rest, flat)).collect()),
            }
        }
        let mut flat: Box<dyn Iterator<Item = Value>> = match &self.data {
            TensorData::F32(v) => Box::new(v.iter().map(|&x| json_f32(x))),
            TensorData::I64(v) => Box::new(v.iter().map(|&x| Value::from(x))),
            TensorData::String(v) => Box::new(v.iter().map(|s| Value::from(s.as_str()))),
        };
        nest(&self.shape, &mut flat)
    }
}

impl Tensor<'static> {
    /// Parses nested JSON arrays of numbers (or strings, for [`DType::String`]) into a tensor
    /// of `dtype`. The shape is read off the nesting; ragged arrays are rejected.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for ragged arrays, wrong element types, non-integral numbers
    /// for i64, or values an f32 cannot hold.
    ///
    /// # Examples
    ///
    /// ```
    /// use harper_edge_core::{DType, Tensor};
    ///
    /// let t = Tensor::from_json(&serde_json::json!([[1, 2], [3, 4]]), DType::F32)?;
    /// assert_eq!(t.shape(), &[2, 2]);
    /// # Ok::<(), harper_edge_core::Error>(())
    /// ```
    pub fn from_json(value: &Value, dtype: DType) -> Result<Self> {
        let mut shape = Vec::new();
        let mut probe = value;
        while let Value::Array(items) = probe {
            shape.push(items.len());
            match items.first() {
                Some(first) => probe = first,
                None => break,
            }
        }
        let mut leaves = Vec::new();
        collect_leaves(value, &shape, 0, &mut leaves)?;
        let data = match dtype {
            DType::F32 => TensorData::F32(Cow::Owned(
                leaves.iter().map(|v| leaf_f32(v)).collect::<Result<_>>()?,
            )),
            DType::I64 => TensorData::I64(Cow::Owned(
                leaves.iter().map(|v| leaf_i64(v)).collect::<Result<_>>()?,
            )),
            DType::String => TensorData::String(Cow::Owned(
                leaves
                    .iter()
                    .map(|v| {
                        v.as_str().map(str::to_owned).ok_or_else(|| {
                            Error::invalid_input(format!("expected a string, got {v}"))
                        })
                    })
                    .collect::<Result<_>>()?,
            )),
        };
        Tensor::new(shape, data)
    }
}

fn collect_leaves<'v>(
    value: &'v Value,
    shape: &[usize],
    depth: usize,
    out: &mut Vec<&'v Value>,
) -> Result<()> {
    match (value, shape.get(depth)) {
        (Value::Array(items), Some(&n)) => {
            if items.len() != n {
                return Err(Error::invalid_input(format!(
                    "ragged array: expected {n} elements at depth {depth}, got {}",
                    items.len()
                )));
            }
            items.iter().try_for_each(|item| collect_leaves(item, shape, depth + 1, out))
        }
        (Value::Array(_), None) => {
            Err(Error::invalid_input(format!("ragged array: unexpected nesting at depth {depth}")))
        }
        (leaf, None) => {
            out.push(leaf);
            Ok(())
        }
        (leaf, Some(_)) => Err(Error::invalid_input(format!(
            "ragged array: expected an array at depth {depth}, got {leaf}"
        ))),
    }
}

fn leaf_f32(v: &Value) -> Result<f32> {
    let x =
        v.as_f64().ok_or_else(|| Error::invalid_input(format!("expected a number, got {v}")))?;
    #[allow(clippy::cast_possible_truncation)]
    let y = x as f32;
    if x.is_finite() && !y.is_finite() {
        return Err(Error::invalid_input(format!("{x} does not fit in an f32")));
    }
    Ok(y)
}

fn leaf_i64(v: &Value) -> Result<i64> {
    v.as_i64().ok_or_else(|| Error::invalid_input(format!("expected an integer, got {v}")))
}

/// The f32 as the shortest decimal that reads back as the same f32 (`0.1`, not
/// `0.10000000149011612`). JSON has no NaN or infinity: those become `null`.
fn json_f32(x: f32) -> Value {
    let shortest: f64 = x.to_string().parse().unwrap_or(f64::NAN);
    serde_json::Number::from_f64(shortest).map_or(Value::Null, Value::Number)
}

/// Formats a shape as `[2, 4]`.
pub(crate) fn format_shape(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// Declared metadata of one model input or output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TensorInfo {
    /// Name in the model graph.
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Dimensions; `None` is a dynamic dimension (a batch size, a sequence length).
    pub shape: Vec<Option<usize>>,
}

impl TensorInfo {
    /// Checks that `tensor` fits this declaration.
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] naming `model`, the input, and the expected and actual shape or dtype.
    pub fn check(&self, model: &str, tensor: &Tensor<'_>) -> Result<()> {
        let mismatch = |message: String| Error::Shape {
            model: model.to_string(),
            input: self.name.clone(),
            message,
        };
        if tensor.dtype() != self.dtype {
            return Err(mismatch(format!("expected dtype {}, got {}", self.dtype, tensor.dtype())));
        }
        let fits = tensor.shape().len() == self.shape.len()
            && self
                .shape
                .iter()
                .zip(tensor.shape())
                .all(|(want, &got)| want.is_none_or(|w| w == got));
        if !fits {
            return Err(mismatch(format!(
                "expected shape {}, got {}",
                self.display_shape(),
                format_shape(tensor.shape())
            )));
        }
        Ok(())
    }

    /// The declared shape with `?` for dynamic dimensions, e.g. `[?, 4]`.
    pub fn display_shape(&self) -> String {
        let dims: Vec<String> = self
            .shape
            .iter()
            .map(|d| d.map_or_else(|| "?".to_string(), |n| n.to_string()))
            .collect();
        format!("[{}]", dims.join(", "))
    }
}

/// Named input tensors for one call.
///
/// A model with a single input can take an unnamed tensor ([`Inputs::single`]); the engine
/// gives it the model's input name.
#[derive(Debug, Clone, Default)]
pub struct Inputs<'a> {
    tensors: Vec<(Option<String>, Tensor<'a>)>,
}

impl<'a> Inputs<'a> {
    /// No inputs yet.
    pub fn new() -> Self {
        Inputs { tensors: Vec::new() }
    }

    /// One tensor for a single-input model.
    pub fn single(tensor: Tensor<'a>) -> Self {
        Inputs { tensors: vec![(None, tensor)] }
    }

    /// Adds a tensor for the input called `name`.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, tensor: Tensor<'a>) -> Self {
        self.tensors.push((Some(name.into()), tensor));
        self
    }

    /// The tensors with their names (`None` for the unnamed single input).
    pub fn iter(&self) -> impl Iterator<Item = (Option<&str>, &Tensor<'a>)> {
        self.tensors.iter().map(|(n, t)| (n.as_deref(), t))
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Whether there are no tensors.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// Matches the tensors to `declared` inputs, in the declared order, and checks each one.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for missing, unknown or duplicate inputs; [`Error::Shape`] for a
    /// tensor that does not fit its declaration.
    pub fn resolve<'s>(
        &'s self,
        model: &str,
        declared: &[TensorInfo],
    ) -> Result<Vec<&'s Tensor<'a>>> {
        if let [(None, tensor)] = self.tensors.as_slice() {
            let [info] = declared else {
                let names: Vec<&str> = declared.iter().map(|i| i.name.as_str()).collect();
                return Err(Error::invalid_input(format!(
                    "model '{model}' has {} inputs ({}): name each one",
                    declared.len(),
                    names.join(", ")
                )));
            };
            info.check(model, tensor)?;
            return Ok(vec![tensor]);
        }
        for (name, _) in &self.tensors {
            let name = name.as_deref().ok_or_else(|| {
                Error::invalid_input("an unnamed tensor is allowed only as the sole input")
            })?;
            if !declared.iter().any(|i| i.name == name) {
                return Err(Error::invalid_input(format!("model '{model}' has no input '{name}'")));
            }
        }
        declared
            .iter()
            .map(|info| {
                let mut matching =
                    self.tensors.iter().filter(|(n, _)| n.as_deref() == Some(info.name.as_str()));
                let (_, tensor) = matching.next().ok_or_else(|| {
                    Error::invalid_input(format!("model '{model}' needs input '{}'", info.name))
                })?;
                if matching.next().is_some() {
                    return Err(Error::invalid_input(format!(
                        "input '{}' given more than once",
                        info.name
                    )));
                }
                info.check(model, tensor)?;
                Ok(tensor)
            })
            .collect()
    }
}

/// Named output tensors of one call, in the model's declared order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outputs {
    tensors: Vec<(String, Tensor<'static>)>,
}

impl Outputs {
    /// Outputs from name/tensor pairs.
    pub fn new(tensors: Vec<(String, Tensor<'static>)>) -> Self {
        Outputs { tensors }
    }

    /// The output called `name`.
    pub fn get(&self, name: &str) -> Option<&Tensor<'static>> {
        self.tensors.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// The outputs with their names.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor<'static>)> {
        self.tensors.iter().map(|(n, t)| (n.as_str(), t))
    }

    /// Number of outputs.
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Whether there are no outputs.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// The outputs as a JSON object of nested arrays.
    pub fn to_json(&self) -> Value {
        Value::Object(self.tensors.iter().map(|(n, t)| (n.clone(), t.to_json())).collect())
    }

    /// Consumes the outputs into name/tensor pairs.
    pub fn into_vec(self) -> Vec<(String, Tensor<'static>)> {
        self.tensors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(shape: Vec<Option<usize>>) -> TensorInfo {
        TensorInfo { name: "X".into(), dtype: DType::F32, shape }
    }

    #[test]
    fn new_rejects_wrong_element_count() {
        let data = [1.0_f32; 5];
        let err = Tensor::from_f32(&[2, 3], &data).unwrap_err();
        assert!(err.to_string().contains("needs 6 elements, got 5"), "{err}");
    }

    #[test]
    fn borrowed_tensor_does_not_copy() {
        let data = [1.0_f32, 2.0];
        let t = Tensor::from_f32(&[1, 2], &data).unwrap();
        assert!(std::ptr::eq(t.as_f32().unwrap().as_ptr(), data.as_ptr()));
    }

    #[test]
    fn json_round_trip_keeps_shape() {
        let v = json!([[1.5, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let t = Tensor::from_json(&v, DType::F32).unwrap();
        assert_eq!(t.shape(), &[2, 3]);
        assert_eq!(t.to_json(), v);
        let s = Tensor::from_json(&json!(["a", "b"]), DType::String).unwrap();
        assert_eq!(s.as_strings().unwrap(), ["a", "b"]);
        assert_eq!(Tensor::from_json(&json!(7), DType::I64).unwrap().shape(), &[] as &[usize]);
    }

    #[test]
    fn f32_json_is_the_shortest_round_trip_decimal() {
        let t = Tensor::from_f32(&[3], &[0.1, 5.863_358_5, f32::NAN]).unwrap();
        assert_eq!(t.to_json().to_string(), "[0.1,5.8633585,null]");
    }

    #[test]
    fn json_rejects_ragged_and_wrong_types() {
        assert!(Tensor::from_json(&json!([[1, 2], [3]]), DType::F32).is_err());
        assert!(Tensor::from_json(&json!([[1, 2], 3]), DType::F32).is_err());
        assert!(Tensor::from_json(&json!(["x"]), DType::F32).is_err());
        assert!(Tensor::from_json(&json!([1.5]), DType::I64).is_err());
        assert!(Tensor::from_json(&json!([1e300]), DType::F32).is_err());
    }

    #[test]
    fn check_reports_expected_and_actual_shape() {
        let data = [0.0_f32; 3];
        let t = Tensor::from_f32(&[1, 3], &data).unwrap();
        let err = info(vec![None, Some(4)]).check("iris:1", &t).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Shape);
        assert!(err.to_string().contains("expected shape [?, 4], got [1, 3]"), "{err}");
        let t = Tensor::from_i64(&[1, 4], &[0, 0, 0, 0]).unwrap();
        assert!(
            info(vec![None, Some(4)])
                .check("iris:1", &t)
                .unwrap_err()
                .to_string()
                .contains("dtype")
        );
    }

    #[test]
    fn resolve_matches_names_and_rejects_unknown() {
        let data = [0.0_f32; 4];
        let declared = [info(vec![None, Some(4)])];
        let single = Inputs::single(Tensor::from_f32(&[1, 4], &data).unwrap());
        assert_eq!(single.resolve("m", &declared).unwrap().len(), 1);
        let named = Inputs::new().with("Y", Tensor::from_f32(&[1, 4], &data).unwrap());
        assert!(named.resolve("m", &declared).unwrap_err().to_string().contains("no input 'Y'"));
        assert!(
            Inputs::new().resolve("m", &declared).unwrap_err().to_string().contains("needs input")
        );
    }
}

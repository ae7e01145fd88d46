//! Arguments from JavaScript.
//!
//! Every exported function takes its arguments as `Unknown` and decodes them here, so that a
//! value of the wrong type is an `HARPER_EDGE_INVALID_INPUT` error naming the argument (and a
//! rejected Promise for async functions), never napi's own `InvalidArg` thrown before the
//! function runs.

use harper_edge_core::{Error as CoreError, InferContext, ModelRef};
use napi::bindgen_prelude::{Float32Array, FromNapiValue, TypedArray, Unknown};
use napi::{JsValue, ValueType};
use napi_derive::napi;

use crate::error::CoreResult;

/// Decodes `value` with napi's own conversion for `T`.
pub fn decode<T: FromNapiValue>(value: &Unknown<'_>, what: &str, expected: &str) -> CoreResult<T> {
    // SAFETY: `value` is a handle of the current call, alive in its environment for the whole
    // call; every `FromNapiValue` used here checks the JS type and returns an error on mismatch.
    #[allow(unsafe_code)]
    let decoded = unsafe { value.cast::<T>() };
    decoded.map_err(|e| {
        let message = match JsKind::of(value) {
            // napi's message names the field, or the array type, that did not convert.
            JsKind::Object => format!("{what} is invalid: {}", e.reason),
            JsKind::TypedArray => format!("{what} must be {expected}: {}", e.reason),
            other => format!("{what} must be {expected}, got {}", other.describe()),
        };
        CoreError::invalid_input(message)
    })
}

/// An options object: `undefined` or `null` → `None`. napi would read the fields of any value
/// (a number has none), so anything but a plain object is refused here.
pub fn object<T: FromNapiValue>(
    value: &Unknown<'_>,
    what: &str,
    expected: &str,
) -> CoreResult<Option<T>> {
    match JsKind::of(value) {
        JsKind::Undefined | JsKind::Null => Ok(None),
        JsKind::Object => decode(value, what, expected).map(Some),
        other => Err(CoreError::invalid_input(format!(
            "{what} must be {expected}, got {}",
            other.describe()
        ))),
    }
}

/// Whether `value` is a typed array.
pub fn is_typed_array(value: &Unknown<'_>) -> bool {
    JsKind::of(value) == JsKind::TypedArray
}

/// Whether `value` is `undefined` or `null`.
pub fn is_nullish(value: &Unknown<'_>) -> bool {
    matches!(JsKind::of(value), JsKind::Undefined | JsKind::Null)
}

/// A model reference: `"name"` (newest version) or `"name:version"`.
pub fn model_ref(value: &Unknown<'_>) -> CoreResult<ModelRef> {
    decode::<String>(value, "model", "a string 'name' or 'name:version'")?.parse()
}

/// The input of `infer`: a `Float32Array`, borrowed (napi keeps a reference to it).
pub fn f32_array(value: &Unknown<'_>, what: &str) -> CoreResult<Float32Array> {
    let kind = JsKind::of(value);
    if kind != JsKind::TypedArray {
        let hint =
            if kind == JsKind::Array { " (convert it with Float32Array.from(values))" } else { "" };
        return Err(CoreError::invalid_input(format!(
            "{what} must be a Float32Array, got {}{hint}",
            kind.describe()
        )));
    }
    decode(value, what, "a Float32Array")
}

/// A typed array of one element type (`Float64Array`, `Uint8Array`, …), borrowed: `T` is a
/// napi slice type that reads the array's memory in place, valid for the current call.
/// `expected` names the JS type ("Float64Array").
pub fn typed_array<T: FromNapiValue>(
    value: &Unknown<'_>,
    what: &str,
    expected: &str,
) -> CoreResult<T> {
    let kind = JsKind::of(value);
    if kind != JsKind::TypedArray {
        let hint = if kind == JsKind::Array {
            format!(" (convert it with {expected}.from(values))")
        } else {
            String::new()
        };
        return Err(CoreError::invalid_input(format!(
            "{what} must be a {expected}, got {}{hint}",
            kind.describe()
        )));
    }
    // SAFETY: as in `decode`: a handle of the current call; the slice types check the
    // element type and refuse another one.
    #[allow(unsafe_code)]
    let decoded = unsafe { value.cast::<T>() };
    decoded.map_err(|_| {
        // SAFETY: as above; `TypedArray` reads any typed array's kind.
        #[allow(unsafe_code)]
        let actual = unsafe { value.cast::<TypedArray<'_>>() }
            .map(|t| {
                let name = t.typed_array_type.as_ref();
                let article = if name.starts_with("Int") { "an" } else { "a" };
                format!("{article} {name}Array")
            })
            .unwrap_or_else(|_| "another typed array".to_string());
        CoreError::invalid_input(format!("{what} must be a {expected}, got {actual}"))
    })
}

/// An optional typed array: `undefined` or `null` → `None`.
pub fn optional_typed_array<T: FromNapiValue>(
    value: Option<&Unknown<'_>>,
    what: &str,
    expected: &str,
) -> CoreResult<Option<T>> {
    match value {
        Some(v) if !matches!(JsKind::of(v), JsKind::Undefined | JsKind::Null) => {
            typed_array(v, what, expected).map(Some)
        }
        _ => Ok(None),
    }
}

/// A JSON-like value (features, outcomes, metadata); napi limits its depth.
pub fn json(value: &Unknown<'_>, what: &str) -> CoreResult<serde_json::Value> {
    decode(value, what, "a JSON value")
}

/// A record (an event, a metrics row) from JavaScript: decoded as JSON, then read with the
/// core's serde, so its field names are the ones the core writes. napi turns a JS number above
/// 2^32 into a JSON float (`1767225600000.0`), which serde refuses for integer fields
/// (timestamps, counts): integral numbers within 2^53 are made integers first.
pub fn from_js<T: serde::de::DeserializeOwned>(
    value: &Unknown<'_>,
    what: &str,
    expected: &str,
) -> CoreResult<T> {
    let kind = JsKind::of(value);
    if kind != JsKind::Object {
        return Err(CoreError::invalid_input(format!(
            "{what} must be {expected}, got {}",
            kind.describe()
        )));
    }
    let mut json = decode::<serde_json::Value>(value, what, expected).map_err(|e| {
        // napi's message for a number JSON cannot hold names neither the key nor the value.
        if e.to_string().contains("serde_json::Number") {
            CoreError::invalid_input(format!("{what} holds NaN or an infinite number"))
        } else {
            e
        }
    })?;
    integral_numbers(&mut json);
    from_json(json, what)
}

/// Reads `json` with the core's serde; a mismatch is `HARPER_EDGE_INVALID_INPUT` naming `what`.
pub fn from_json<T: serde::de::DeserializeOwned>(
    json: serde_json::Value,
    what: &str,
) -> CoreResult<T> {
    serde_json::from_value(json)
        .map_err(|e| CoreError::invalid_input(format!("{what} is invalid: {e}")))
}

/// Turns every integral float within ±2^53 in `value` into an integer, in place.
pub fn integral_numbers(value: &mut serde_json::Value) {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    match value {
        serde_json::Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && f.fract() == 0.0
                && f.abs() <= MAX_SAFE
            {
                #[allow(clippy::cast_possible_truncation)]
                let i = f as i64;
                *n = i.into();
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// A count or position: a non-negative integer below 2^53.
pub fn count(value: f64, what: &str) -> CoreResult<u64> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= MAX_SAFE {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(value as u64)
    } else {
        Err(CoreError::invalid_input(format!("{what} must be a non-negative integer, got {value}")))
    }
}

/// Like [`count`], as a `usize`.
pub fn size(value: f64, what: &str) -> CoreResult<usize> {
    usize::try_from(count(value, what)?)
        .map_err(|_| CoreError::invalid_input(format!("{what} is too large: {value}")))
}

/// What a JS value is, as far as error messages care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsKind {
    Undefined,
    Null,
    Array,
    TypedArray,
    Object,
    Primitive(&'static str),
}

impl JsKind {
    fn of(value: &Unknown<'_>) -> Self {
        if value.is_array().unwrap_or(false) {
            return JsKind::Array;
        }
        if value.is_typedarray().unwrap_or(false) {
            return JsKind::TypedArray;
        }
        match value.get_type() {
            Ok(ValueType::Undefined) => JsKind::Undefined,
            Ok(ValueType::Null) => JsKind::Null,
            Ok(ValueType::Object) => JsKind::Object,
            Ok(ValueType::Boolean) => JsKind::Primitive("a boolean"),
            Ok(ValueType::Number) => JsKind::Primitive("a number"),
            Ok(ValueType::BigInt) => JsKind::Primitive("a bigint"),
            Ok(ValueType::String) => JsKind::Primitive("a string"),
            Ok(ValueType::Symbol) => JsKind::Primitive("a symbol"),
            Ok(ValueType::Function) => JsKind::Primitive("a function"),
            _ => JsKind::Primitive("a value of unknown type"),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            JsKind::Undefined => "undefined",
            JsKind::Null => "null",
            JsKind::Array => "an Array",
            JsKind::TypedArray => "another typed array",
            JsKind::Object => "an object",
            JsKind::Primitive(what) => what,
        }
    }
}

/// Options of `infer` and `inferJson`.
#[napi(object, object_to_js = false)]
pub struct InferOptions {
    /// Shape of the input (`infer` only); default: the model's declared input shape, with its
    /// one dynamic dimension computed from the array length.
    pub shape: Option<Vec<f64>>,
    /// Stored as the event's `userId`.
    pub user_id: Option<String>,
    /// Stored as the event's `sessionId`.
    pub session_id: Option<String>,
    /// Stored as the event's `requestId`.
    pub request_id: Option<String>,
}

impl InferOptions {
    /// Decodes optional options (`undefined` or `null` → none).
    pub fn decode(value: &Unknown<'_>) -> CoreResult<Option<Self>> {
        object(value, "options", "an object { shape?, userId?, sessionId?, requestId? }")
    }

    /// The explicit shape, validated.
    pub fn shape(&self) -> CoreResult<Option<Vec<usize>>> {
        self.shape
            .as_ref()
            .map(|dims| dims.iter().map(|&d| size(d, "options.shape[]")).collect())
            .transpose()
    }

    /// The caller context stored with the event.
    pub fn context(&self) -> InferContext {
        let mut context = InferContext::new();
        context.user_id.clone_from(&self.user_id);
        context.session_id.clone_from(&self.session_id);
        context.request_id.clone_from(&self.request_id);
        context
    }
}

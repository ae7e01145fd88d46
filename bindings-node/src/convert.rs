//! Arguments from JavaScript.
//!
//! Every exported function takes its arguments as `Unknown` and decodes them here, so that a
//! value of the wrong type is an `HARPER_EDGE_INVALID_INPUT` error naming the argument (and a
//! rejected Promise for async functions), never napi's own `InvalidArg` thrown before the
//! function runs.

use harper_edge_core::{Error as CoreError, InferContext, ModelRef};
use napi::bindgen_prelude::{Float32Array, FromNapiValue, Unknown};
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

/// A JSON-like value (features, outcomes, metadata); napi limits its depth.
pub fn json(value: &Unknown<'_>, what: &str) -> CoreResult<serde_json::Value> {
    decode(value, what, "a JSON value")
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

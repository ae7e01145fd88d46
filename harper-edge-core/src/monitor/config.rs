//! Monitoring configuration: the original design's `MonitoringConfig`, global defaults with
//! per-model and per-version overrides merged field by field, and duration strings.
//!
//! # Layers
//!
//! The configuration in effect for `name:version` is built from up to four layers, each a
//! JSON object that may name only some fields:
//!
//! 1. the built-in defaults ([`MonitoringConfig::default`]);
//! 2. the global layer ([`ConfigScope::Global`]);
//! 3. the model's layer ([`ConfigScope::Model`]);
//! 4. the version's layer ([`ConfigScope::Version`]).
//!
//! A later layer wins field by field: objects merge key by key at every depth; anything else
//! (a number, a string, an array such as `retrainingTriggers.conditions`) replaces the earlier
//! value whole. Every layer is checked when it is set, as if merged onto the defaults, so an
//! error names the field (`drift.inputDrift.threshold: …`) at that moment, not at the next
//! scheduled check. Unknown fields are errors (a typo does not silently keep a default).
//!
//! # Durations
//!
//! Intervals are strings: an integer and a unit, `ms`, `s`, `m`, `h`, `d` or `w`, optionally
//! several (`"1h30m"`): `"5m"`, `"1h"`, `"6h"`, `"24h"`, `"7d"`. No cron expressions.
//!
//! # Example
//!
//! The design's example parses as is:
//!
//! ```
//! use harper_edge_core::monitor::config::MonitoringConfig;
//!
//! let config = MonitoringConfig::from_json(&serde_json::json!({
//!   "aggregation": { "hourlyAggregation": "1h", "dailyAggregation": "24h", "driftCheck": "6h", "dataQualityCheck": "1h" },
//!   "drift": {
//!     "inputDrift": { "enabled": true, "method": "ks_test", "threshold": 0.05, "windowHours": 24 },
//!     "predictionDrift": { "enabled": true, "method": "psi", "threshold": 0.2, "windowHours": 24 },
//!     "conceptDrift": { "enabled": true, "minLabeledSamples": 100, "accuracyDropThreshold": 0.05 }
//!   },
//!   "retrainingTriggers": {
//!     "enabled": true, "minDaysBetweenRetraining": 7, "minNewLabeledSamples": 500,
//!     "conditions": [
//!       { "type": "drift", "driftTypes": ["input", "concept"], "threshold": 0.3 },
//!       { "type": "error_rate", "threshold": 0.1 }
//!     ]
//!   }
//! }))?;
//! assert_eq!(config.aggregation.drift_check.as_secs(), 6 * 3600);
//! assert_eq!(config.retraining_triggers.conditions.len(), 2);
//!
//! let err = MonitoringConfig::from_json(&serde_json::json!({"aggregation": {"driftCheck": "6x"}}))
//!     .unwrap_err();
//! assert!(err.to_string().contains("aggregation.driftCheck"), "{err}");
//! # Ok::<(), harper_edge_core::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::clock::Timestamp;
use crate::drift::check::{DriftMethod, DriftType, FeatureOverride};
use crate::drift::multiple::Correction;
use crate::drift::records::ModelBaseline;
use crate::error::{Error, Result};
use crate::monitor::DriftCheckConfig;
use crate::store::{MonitorRecord, Table};

/// Parses a duration string (see the [module documentation](self)).
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the string and what is wrong with it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use harper_edge_core::monitor::config::parse_duration;
///
/// assert_eq!(parse_duration("6h")?, Duration::from_secs(6 * 3600));
/// assert_eq!(parse_duration("1h30m")?, Duration::from_secs(5400));
/// assert!(parse_duration("6 hours").is_err());
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn parse_duration(s: &str) -> Result<Duration> {
    let bad = |why: &str| {
        Error::invalid_input(format!(
            "invalid duration '{s}': {why} (write an integer and a unit: ms, s, m, h, d or w, \
             e.g. \"5m\", \"6h\", \"7d\")"
        ))
    };
    if s.is_empty() {
        return Err(bad("empty"));
    }
    let mut total: u64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad("expected a number"));
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad("number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let ms_per: u64 = match unit {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            "" => return Err(bad("missing unit")),
            other => return Err(bad(&format!("unknown unit '{other}'"))),
        };
        total = n
            .checked_mul(ms_per)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| bad("too long"))?;
    }
    Ok(Duration::from_millis(total))
}

/// Writes a duration the way [`parse_duration`] reads it, in the largest unit that divides it
/// (`"6h"`, `"90s"`, `"1500ms"`).
pub fn format_duration(d: Duration) -> String {
    let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    for (unit, per) in [("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)] {
        if ms > 0 && ms % per == 0 {
            return format!("{}{unit}", ms / per);
        }
    }
    if ms % 1000 == 0 { format!("{}s", ms / 1000) } else { format!("{ms}ms") }
}

/// A duration read from and written as a duration string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Interval(pub Duration);

impl Interval {
    /// From a duration string.
    ///
    /// # Errors
    ///
    /// As [`parse_duration`].
    pub fn parse(s: &str) -> Result<Self> {
        parse_duration(s).map(Interval)
    }

    /// Whole seconds.
    pub fn as_secs(self) -> u64 {
        self.0.as_secs()
    }

    /// Milliseconds (saturating).
    pub fn as_millis(self) -> i64 {
        i64::try_from(self.0.as_millis()).unwrap_or(i64::MAX)
    }

    const fn hours(h: u64) -> Self {
        Interval(Duration::from_secs(h * 3600))
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

impl FromStr for Interval {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Interval::parse(s)
    }
}

impl Serialize for Interval {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Interval::parse(&s).map_err(|e| serde::de::Error::custom(error_text(&e)))
    }
}

/// The message of an invalid-input error without its category prefix.
fn error_text(e: &Error) -> String {
    match e {
        Error::InvalidInput { message } => message.clone(),
        other => other.to_string(),
    }
}

/// How often the scheduler runs each job (serde camelCase).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Aggregation {
    /// Closing ended periods into hourly rows ([`crate::Engine::tick`]); default `"1h"`.
    pub hourly_aggregation: Interval,
    /// Closing ended periods into daily rows; default `"24h"`.
    pub daily_aggregation: Interval,
    /// Drift checks of every model version with a baseline; default `"6h"`.
    pub drift_check: Interval,
    /// Data-quality checks; default `"1h"`.
    pub data_quality_check: Interval,
}

impl Default for Aggregation {
    fn default() -> Self {
        Aggregation {
            hourly_aggregation: Interval::hours(1),
            daily_aggregation: Interval::hours(24),
            drift_check: Interval::hours(6),
            data_quality_check: Interval::hours(1),
        }
    }
}

/// The test or distance of input or prediction drift, by the original design's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftTest {
    /// KS for numeric features, chi-square for categorical ones; `threshold` is the
    /// significance level.
    KsTest,
    /// The same pair as `ks_test` (chi-square applies to categorical features only).
    ChiSquare,
    /// PSI for every feature; `threshold` is the PSI above which a feature drifted.
    Psi,
    /// Wasserstein-1 over the reference standard deviation (numeric features; categorical
    /// ones keep chi-square).
    Wasserstein,
    /// Jensen–Shannon distance for every feature.
    Js,
}

impl DriftTest {
    /// The method that replaces the default for features of this kind, if any.
    fn method_for_numeric(self) -> Option<DriftMethod> {
        match self {
            DriftTest::KsTest | DriftTest::ChiSquare => None,
            DriftTest::Psi => Some(DriftMethod::Psi),
            DriftTest::Wasserstein => Some(DriftMethod::Wasserstein),
            DriftTest::Js => Some(DriftMethod::Js),
        }
    }

    fn method_for_categorical(self) -> Option<DriftMethod> {
        match self {
            DriftTest::KsTest | DriftTest::ChiSquare | DriftTest::Wasserstein => None,
            DriftTest::Psi => Some(DriftMethod::Psi),
            DriftTest::Js => Some(DriftMethod::Js),
        }
    }

    const fn uses_p_value(self) -> bool {
        matches!(self, DriftTest::KsTest | DriftTest::ChiSquare)
    }
}

/// Input or prediction drift settings (serde camelCase).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeatureDriftSettings {
    /// Whether these features are checked.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The test or distance.
    pub method: DriftTest,
    /// Significance level (`ks_test`, `chi_square`) or distance threshold (the others).
    pub threshold: f64,
    /// The longest period one check covers: calls sampled earlier are left out.
    #[serde(default = "day")]
    pub window_hours: f64,
}

const fn yes() -> bool {
    true
}

const fn day() -> f64 {
    24.0
}

/// Concept drift settings (serde camelCase).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ConceptDriftSettings {
    /// Whether concept drift is checked (when labels exist).
    pub enabled: bool,
    /// Labelled calls needed on each side before a verdict.
    pub min_labeled_samples: u64,
    /// The accuracy drop (absolute) that counts as drift.
    pub accuracy_drop_threshold: f64,
}

impl Default for ConceptDriftSettings {
    fn default() -> Self {
        ConceptDriftSettings {
            enabled: true,
            min_labeled_samples: 100,
            accuracy_drop_threshold: 0.05,
        }
    }
}

/// Drift settings per drift type (serde camelCase).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct DriftSettings {
    /// Input features.
    pub input_drift: FeatureDriftSettings,
    /// Prediction features (`prediction`, `confidence` or those the baseline names).
    pub prediction_drift: FeatureDriftSettings,
    /// Accuracy drop on labelled calls.
    pub concept_drift: ConceptDriftSettings,
    /// How the model verdict adjusts the features' p-values for their number: `holm`
    /// (default), `bh` or `none` (see [`crate::drift::multiple`]); also used by the
    /// `adjustedPValue` alert metric.
    pub correction: Correction,
}

impl Default for DriftSettings {
    fn default() -> Self {
        DriftSettings {
            input_drift: FeatureDriftSettings {
                enabled: true,
                method: DriftTest::KsTest,
                threshold: 0.05,
                window_hours: 24.0,
            },
            prediction_drift: FeatureDriftSettings {
                enabled: true,
                method: DriftTest::Psi,
                threshold: 0.2,
                window_hours: 24.0,
            },
            concept_drift: ConceptDriftSettings::default(),
            correction: Correction::default(),
        }
    }
}

/// One condition that requests retraining (serde: tagged by `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TriggerCondition {
    /// A drift check found a `DriftMetrics` row of one of `driftTypes` with `driftScore >
    /// threshold` (for concept drift the score is the accuracy drop).
    Drift {
        /// The drift types that count.
        #[serde(rename = "driftTypes")]
        drift_types: Vec<DriftType>,
        /// The score above which a row counts.
        threshold: f64,
    },
    /// The real-time error rate (last five minutes) is above `threshold`.
    ErrorRate {
        /// Error rate in `[0, 1]`.
        threshold: f64,
    },
    /// A request every `every` (the time since the newest request of the model).
    Scheduled {
        /// Interval between scheduled requests.
        every: Interval,
    },
}

/// When retraining is requested and the safety checks every request must pass (serde
/// camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct RetrainingTriggers {
    /// Whether conditions (and alert rules that ask for it) create requests.
    pub enabled: bool,
    /// Days since the newest approved or completed request of the model.
    pub min_days_between_retraining: f64,
    /// Labelled calls of the model (all versions) since that request (or ever).
    pub min_new_labeled_samples: u64,
    /// At most this many requests (pending, approved or completed) per `requestWindow`.
    pub max_requests_per_window: u32,
    /// The window of `maxRequestsPerWindow`; default `"30d"`.
    pub request_window: Interval,
    /// The conditions (default none).
    pub conditions: Vec<TriggerCondition>,
}

impl Default for RetrainingTriggers {
    fn default() -> Self {
        RetrainingTriggers {
            enabled: true,
            min_days_between_retraining: 7.0,
            min_new_labeled_samples: 500,
            max_requests_per_window: 3,
            request_window: Interval::hours(30 * 24),
            conditions: Vec::new(),
        }
    }
}

/// The monitoring configuration of a model version (serde camelCase; see the [module
/// documentation](self)).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct MonitoringConfig {
    /// Job intervals.
    pub aggregation: Aggregation,
    /// Drift settings.
    pub drift: DriftSettings,
    /// Retraining requests.
    pub retraining_triggers: RetrainingTriggers,
}

/// Merges `layer` into `base` field by field (objects key by key, anything else replaced).
pub fn merge_json(base: &mut Value, layer: &Value) {
    match (base, layer) {
        (Value::Object(b), Value::Object(l)) => {
            for (k, v) in l {
                match b.get_mut(k) {
                    Some(slot) => merge_json(slot, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

impl MonitoringConfig {
    /// A configuration from JSON (fields left out keep their defaults), validated.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the field (`drift.inputDrift.threshold: …`).
    pub fn from_json(value: &Value) -> Result<Self> {
        Self::from_layers(&[value])
    }

    /// The configuration of the defaults with `layers` merged on in order, validated.
    ///
    /// # Errors
    ///
    /// As [`MonitoringConfig::from_json`].
    pub fn from_layers(layers: &[&Value]) -> Result<Self> {
        let mut merged = serde_json::to_value(MonitoringConfig::default())?;
        for (i, layer) in layers.iter().enumerate() {
            if !layer.is_object() {
                return Err(Error::invalid_input(format!(
                    "monitoring config layer {} must be a JSON object, got {layer}",
                    i + 1
                )));
            }
            merge_json(&mut merged, layer);
        }
        let config: MonitoringConfig = serde_path_to_error::deserialize(&merged)
            .map_err(|e| Error::invalid_input(format!("{}: {}", e.path(), e.inner())))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values serde cannot (ranges, positive intervals), naming the field.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let field = |name: &str, why: String| Err(Error::invalid_input(format!("{name}: {why}")));
        let a = &self.aggregation;
        for (name, i) in [
            ("aggregation.hourlyAggregation", a.hourly_aggregation),
            ("aggregation.dailyAggregation", a.daily_aggregation),
            ("aggregation.driftCheck", a.drift_check),
            ("aggregation.dataQualityCheck", a.data_quality_check),
        ] {
            if i.0 < Duration::from_secs(1) {
                return field(name, format!("must be at least 1s, got \"{i}\""));
            }
        }
        for (name, d) in [
            ("drift.inputDrift", &self.drift.input_drift),
            ("drift.predictionDrift", &self.drift.prediction_drift),
        ] {
            let t = d.threshold;
            if d.method.uses_p_value() {
                if !(t > 0.0 && t < 1.0) {
                    return field(
                        &format!("{name}.threshold"),
                        format!(
                            "a significance level for {:?} must be in (0, 1), got {t}",
                            d.method
                        ),
                    );
                }
            } else if !(t.is_finite() && t > 0.0) || (d.method == DriftTest::Js && t > 1.0) {
                return field(
                    &format!("{name}.threshold"),
                    format!("must be finite and > 0 (and ≤ 1 for js), got {t}"),
                );
            }
            if !(d.window_hours.is_finite() && d.window_hours > 0.0) {
                return field(
                    &format!("{name}.windowHours"),
                    format!("must be > 0, got {}", d.window_hours),
                );
            }
        }
        let c = &self.drift.concept_drift;
        if c.min_labeled_samples == 0 {
            return field("drift.conceptDrift.minLabeledSamples", "must be at least 1".into());
        }
        if !(0.0..1.0).contains(&c.accuracy_drop_threshold) {
            return field(
                "drift.conceptDrift.accuracyDropThreshold",
                format!("must be in [0, 1), got {}", c.accuracy_drop_threshold),
            );
        }
        let r = &self.retraining_triggers;
        if !(r.min_days_between_retraining.is_finite() && r.min_days_between_retraining >= 0.0) {
            return field(
                "retrainingTriggers.minDaysBetweenRetraining",
                format!("must be ≥ 0, got {}", r.min_days_between_retraining),
            );
        }
        if r.max_requests_per_window == 0 {
            return field("retrainingTriggers.maxRequestsPerWindow", "must be at least 1".into());
        }
        if r.request_window.0.is_zero() {
            return field("retrainingTriggers.requestWindow", "must be > 0".into());
        }
        for (i, c) in r.conditions.iter().enumerate() {
            let name = format!("retrainingTriggers.conditions[{i}]");
            match c {
                TriggerCondition::Drift { drift_types, threshold } => {
                    if drift_types.is_empty() {
                        return field(
                            &format!("{name}.driftTypes"),
                            "must name a drift type".into(),
                        );
                    }
                    if !(threshold.is_finite() && *threshold >= 0.0) {
                        return field(
                            &format!("{name}.threshold"),
                            format!("must be finite and ≥ 0, got {threshold}"),
                        );
                    }
                }
                TriggerCondition::ErrorRate { threshold } => {
                    if !(0.0..=1.0).contains(threshold) {
                        return field(
                            &format!("{name}.threshold"),
                            format!("an error rate must be in [0, 1], got {threshold}"),
                        );
                    }
                }
                TriggerCondition::Scheduled { every } => {
                    if every.0 < Duration::from_secs(60) {
                        return field(
                            &format!("{name}.every"),
                            format!("must be at least 1m, got \"{every}\""),
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// The drift-check settings for a model version's `baseline`: input features with the
    /// input test, prediction features with the prediction test, disabled types left out,
    /// calls older than the shorter window left out.
    pub fn drift_check_config(&self, baseline: &ModelBaseline) -> DriftCheckConfig {
        let mut config = DriftCheckConfig::default();
        let d = &self.drift;
        let is_prediction = |name: &str| baseline.prediction_features.iter().any(|p| p == name);
        if d.input_drift.method.uses_p_value() {
            config.drift.alpha = d.input_drift.threshold;
        }
        for feature in baseline.baseline.features() {
            let name = feature.name();
            let settings = if is_prediction(name) { &d.prediction_drift } else { &d.input_drift };
            if !settings.enabled {
                config.ignore.insert(name.to_string());
                continue;
            }
            let method = match feature.schema.kind {
                crate::drift::baseline::FeatureKind::Numeric => {
                    settings.method.method_for_numeric()
                }
                crate::drift::baseline::FeatureKind::Categorical => {
                    settings.method.method_for_categorical()
                }
            };
            let threshold = match method {
                Some(_) => Some(settings.threshold),
                None if settings.method.uses_p_value() => Some(settings.threshold),
                // A distance test on a kind it does not apply to keeps the default test.
                None => None,
            };
            config.drift.overrides.insert(name.to_string(), FeatureOverride { method, threshold });
        }
        config.drift.correction = d.correction;
        config.concept.min_labeled_samples = d.concept_drift.min_labeled_samples;
        config.concept.accuracy_drop_threshold = d.concept_drift.accuracy_drop_threshold;
        config.concept_enabled = d.concept_drift.enabled;
        let hours = [d.input_drift, d.prediction_drift]
            .iter()
            .filter(|s| s.enabled)
            .map(|s| s.window_hours)
            .fold(f64::INFINITY, f64::min);
        if hours.is_finite() {
            #[allow(clippy::cast_possible_truncation)]
            let ms = (hours * 3_600_000.0).round() as i64;
            config.window_ms = Some(ms);
        }
        config
    }
}

/// Where a configuration layer applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConfigScope {
    /// Every model.
    Global,
    /// Every version of a model.
    Model(String),
    /// One version.
    Version(String, String),
}

impl ConfigScope {
    /// The record id: `global`, `model:NAME`, `model:NAME:VERSION`.
    pub fn id(&self) -> String {
        match self {
            ConfigScope::Global => "global".into(),
            ConfigScope::Model(m) => format!("model:{m}"),
            ConfigScope::Version(m, v) => format!("model:{m}:{v}"),
        }
    }

    /// The scope of a model reference: a name alone is the model's scope, `name:version` the
    /// version's, `None` global.
    pub fn of(model_name: Option<&str>, model_version: Option<&str>) -> Self {
        match (model_name, model_version) {
            (None, _) => ConfigScope::Global,
            (Some(m), None) => ConfigScope::Model(m.to_string()),
            (Some(m), Some(v)) => ConfigScope::Version(m.to_string(), v.to_string()),
        }
    }

    fn parts(&self) -> (Option<&str>, Option<&str>) {
        match self {
            ConfigScope::Global => (None, None),
            ConfigScope::Model(m) => (Some(m), None),
            ConfigScope::Version(m, v) => (Some(m), Some(v)),
        }
    }
}

impl fmt::Display for ConfigScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

/// One stored configuration layer (the `MonitoringConfig` table; serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredConfig {
    /// `global`, `model:NAME` or `model:NAME:VERSION`.
    pub id: String,
    /// The model (`None`: global).
    pub model_name: Option<String>,
    /// The version (`None`: every version).
    pub model_version: Option<String>,
    /// The layer as given (only the fields it sets).
    pub config: Value,
    /// When it was last set.
    pub updated_at: Timestamp,
}

impl StoredConfig {
    /// A layer for `scope`, checked as if merged onto the defaults.
    ///
    /// # Errors
    ///
    /// As [`MonitoringConfig::from_json`].
    pub fn new(scope: &ConfigScope, config: Value, at: Timestamp) -> Result<Self> {
        MonitoringConfig::from_json(&config)?;
        let (m, v) = scope.parts();
        Ok(StoredConfig {
            id: scope.id(),
            model_name: m.map(str::to_string),
            model_version: v.map(str::to_string),
            config,
            updated_at: at,
        })
    }

    pub(crate) fn to_record(&self) -> Result<MonitorRecord> {
        Ok(MonitorRecord {
            table: Table::MonitoringConfig,
            id: self.id.clone(),
            model_name: self.model_name.clone(),
            model_version: self.model_version.clone(),
            timestamp: self.updated_at,
            status: None,
            record: serde_json::to_value(self)?,
        })
    }
}

/// Empty JSON object (a scope without a layer).
pub(crate) fn empty() -> Value {
    Value::Object(Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_parse_and_print_back() {
        for (s, secs) in [
            ("5m", 300),
            ("1h", 3600),
            ("6h", 21_600),
            ("24h", 86_400),
            ("7d", 604_800),
            ("1w", 604_800),
            ("1h30m", 5400),
        ] {
            assert_eq!(parse_duration(s).unwrap(), Duration::from_secs(secs), "{s}");
        }
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(format_duration(Duration::from_secs(21_600)), "6h");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        for bad in ["", "5", "h", "5 m", "5x", "-5m", "1.5h", "99999999999999999999d"] {
            let e = parse_duration(bad).unwrap_err().to_string();
            assert!(e.contains("invalid duration"), "{bad}: {e}");
        }
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (json!({"aggregation": {"driftCheck": "6x"}}), "aggregation.driftCheck"),
            (json!({"aggregation": {"driftCheck": 6}}), "aggregation.driftCheck"),
            (json!({"drift": {"inputDrift": {"threshold": 1.5}}}), "drift.inputDrift.threshold"),
            (json!({"drift": {"inputDrift": {"method": "t_test"}}}), "drift.inputDrift.method"),
            (json!({"drift": {"predictionDrift": {"treshold": 0.1}}}), "drift.predictionDrift"),
            (
                json!({"retrainingTriggers": {"conditions": [{"type": "drift", "driftTypes": [], "threshold": 0.3}]}}),
                "retrainingTriggers.conditions[0].driftTypes",
            ),
            (
                json!({"retrainingTriggers": {"conditions": [{"type": "error_rate", "threshold": 2}]}}),
                "retrainingTriggers.conditions[0].threshold",
            ),
            (
                json!({"retrainingTriggers": {"conditions": [{"type": "weather"}]}}),
                "retrainingTriggers.conditions[0]",
            ),
            (json!({"alerts": {}}), "alerts"),
            (json!({"drift": {"correction": "sidak"}}), "drift.correction"),
        ];
        for (value, field) in cases {
            let e = MonitoringConfig::from_json(&value).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
            assert!(e.to_string().contains(field), "{value}: {e}");
        }
    }

    #[test]
    fn layers_merge_field_by_field() {
        let global = json!({"aggregation": {"driftCheck": "12h"}, "drift": {"inputDrift": {"threshold": 0.01}}});
        let model = json!({"drift": {"inputDrift": {"method": "psi", "threshold": 0.25}}, "retrainingTriggers": {"conditions": [{"type": "error_rate", "threshold": 0.2}]}});
        let version = json!({"aggregation": {"dataQualityCheck": "30m"}, "retrainingTriggers": {"conditions": []}});
        let c = MonitoringConfig::from_layers(&[&global, &model, &version]).unwrap();
        assert_eq!(c.aggregation.drift_check, Interval::parse("12h").unwrap());
        assert_eq!(c.aggregation.data_quality_check, Interval::parse("30m").unwrap());
        assert_eq!(c.aggregation.hourly_aggregation, Interval::parse("1h").unwrap());
        assert_eq!(
            (c.drift.input_drift.method, c.drift.input_drift.threshold),
            (DriftTest::Psi, 0.25)
        );
        assert!(c.drift.input_drift.enabled);
        assert!(c.retraining_triggers.conditions.is_empty(), "arrays are replaced whole");
        let round = serde_json::to_value(&c).unwrap();
        assert_eq!(MonitoringConfig::from_json(&round).unwrap(), c);
    }
}

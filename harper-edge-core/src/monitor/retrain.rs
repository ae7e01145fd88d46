//! Retraining requests: the original design's `RetrainingRequest`, its safety checks and its
//! approval workflow.
//!
//! A request is created by a trigger condition of the monitoring configuration, by an alert
//! rule with `requestRetraining`, or by hand ([`request`]). Every request passes the safety
//! checks of the model's `retrainingTriggers` configuration first:
//!
//! | check | passes when |
//! |---|---|
//! | `no_pending_request` | no request of the model is `pending_approval` |
//! | `min_days_between_retraining` | the newest approved or completed request of the model was reviewed at least that many days ago (or there is none) |
//! | `min_new_labeled_samples` | at least that many labelled calls of the model (all versions) since that review (or ever) |
//! | `max_requests_per_window` | fewer than that many requests (pending, approved or completed) in the last `requestWindow` |
//!
//! A request that fails a check is stored with status `blocked`, each check with its actual
//! and required value, so a blocked trigger is visible; otherwise it is `pending_approval`.
//!
//! ```text
//! pending_approval ──approve──► approved ──complete──► completed
//!        └─────────reject─────► rejected
//! (blocked: created so, never changes)
//! ```
//!
//! Approving stamps the reviewer, the time and a training job id (`train-<uuid>`) that the
//! monitor hands to its `on_retraining_approved` callbacks; the training milestone consumes
//! it. Transitions are compare-and-set in the store: two reviewers cannot both approve.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::monitor::config::RetrainingTriggers;
use crate::store::{Expect, MonitorRecord, RecordQuery, Store, Table};

/// Why retraining was requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerReason {
    /// A drift check (or a drift alert rule).
    DriftDetected,
    /// The error rate (or an error-rate alert rule).
    ErrorRateThreshold,
    /// Another alert rule with `requestRetraining`.
    AlertRule,
    /// A `scheduled` trigger condition.
    Scheduled,
    /// By hand.
    Manual,
}

impl TriggerReason {
    /// The serde name.
    pub const fn as_str(self) -> &'static str {
        match self {
            TriggerReason::DriftDetected => "drift_detected",
            TriggerReason::ErrorRateThreshold => "error_rate_threshold",
            TriggerReason::AlertRule => "alert_rule",
            TriggerReason::Scheduled => "scheduled",
            TriggerReason::Manual => "manual",
        }
    }
}

/// Where a request is in its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetrainingStatus {
    /// Waiting for a person.
    PendingApproval,
    /// Approved: a training job id was handed out.
    Approved,
    /// Rejected by a person.
    Rejected,
    /// The training finished.
    Completed,
    /// A safety check failed; never became a request.
    Blocked,
}

impl RetrainingStatus {
    /// The serde name.
    pub const fn as_str(self) -> &'static str {
        match self {
            RetrainingStatus::PendingApproval => "pending_approval",
            RetrainingStatus::Approved => "approved",
            RetrainingStatus::Rejected => "rejected",
            RetrainingStatus::Completed => "completed",
            RetrainingStatus::Blocked => "blocked",
        }
    }

    /// From the serde name.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for another name.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "pending_approval" => RetrainingStatus::PendingApproval,
            "approved" => RetrainingStatus::Approved,
            "rejected" => RetrainingStatus::Rejected,
            "completed" => RetrainingStatus::Completed,
            "blocked" => RetrainingStatus::Blocked,
            other => {
                return Err(Error::invalid_input(format!(
                    "unknown retraining status '{other}' (expected pending_approval, approved, \
                     rejected, completed or blocked)"
                )));
            }
        })
    }
}

impl fmt::Display for RetrainingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One safety check's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SafetyCheck {
    /// `no_pending_request`, `min_days_between_retraining`, `min_new_labeled_samples` or
    /// `max_requests_per_window`.
    pub check: String,
    /// Whether it passed.
    pub passed: bool,
    /// The measured value (days, samples, requests; pending requests for
    /// `no_pending_request`).
    pub actual: Option<f64>,
    /// The configured limit.
    pub required: f64,
    /// What it means, in a sentence.
    pub message: String,
}

/// A retraining request (the original design's `RetrainingRequest`, serde camelCase, plus its
/// safety checks and review reason).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetrainingRequest {
    /// Primary key.
    pub id: String,
    /// The model.
    pub model_name: String,
    /// The version that showed the problem.
    pub model_version: String,
    /// When it was requested.
    pub requested_at: Timestamp,
    /// Why.
    pub trigger_reason: TriggerReason,
    /// Details of the trigger (condition, values, alert id …).
    pub trigger_details: Value,
    /// Where it is.
    pub status: RetrainingStatus,
    /// Who asked (manual requests).
    #[serde(default)]
    pub requested_by: Option<String>,
    /// The safety checks it went through.
    #[serde(default)]
    pub safety_checks: Vec<SafetyCheck>,
    /// Who approved or rejected it.
    pub reviewed_by: Option<String>,
    /// When.
    pub reviewed_at: Option<Timestamp>,
    /// Why (free text).
    #[serde(default)]
    pub review_reason: Option<String>,
    /// The training job of an approved request.
    pub training_job_id: Option<String>,
    /// When the training completed.
    #[serde(default)]
    pub completed_at: Option<Timestamp>,
}

impl RetrainingRequest {
    /// The checks that failed.
    pub fn blocked_by(&self) -> Vec<&SafetyCheck> {
        self.safety_checks.iter().filter(|c| !c.passed).collect()
    }

    pub(crate) fn to_record(&self) -> Result<MonitorRecord> {
        Ok(MonitorRecord {
            table: Table::RetrainingRequest,
            id: self.id.clone(),
            model_name: Some(self.model_name.clone()),
            model_version: Some(self.model_version.clone()),
            timestamp: self.requested_at,
            status: Some(self.status.as_str().into()),
            record: serde_json::to_value(self)?,
        })
    }

    fn from_record(r: &MonitorRecord) -> Result<Self> {
        serde_json::from_value(r.record.clone())
            .map_err(|e| Error::storage(format!("corrupt RetrainingRequest '{}'", r.id), e))
    }
}

/// Requests of `model_name` (all if `None`) with `status` (any if `None`), newest first.
///
/// # Errors
///
/// [`Error::Storage`].
pub fn requests(
    store: &dyn Store,
    model_name: Option<&str>,
    status: Option<RetrainingStatus>,
    limit: Option<usize>,
) -> Result<Vec<RetrainingRequest>> {
    store
        .records(
            Table::RetrainingRequest,
            &RecordQuery {
                model_name: model_name.map(str::to_string),
                status: status.map(|s| s.as_str().to_string()),
                limit,
                ..RecordQuery::default()
            },
        )?
        .iter()
        .map(RetrainingRequest::from_record)
        .collect()
}

/// The request `id`.
///
/// # Errors
///
/// [`Error::NotFound`] when there is no such request.
pub fn get(store: &dyn Store, id: &str) -> Result<RetrainingRequest> {
    let r = store
        .record(Table::RetrainingRequest, id)?
        .ok_or_else(|| Error::not_found("retraining request", id))?;
    RetrainingRequest::from_record(&r)
}

const DAY_MS: f64 = 86_400_000.0;

/// Runs the safety checks of `triggers` for a new request of `model_name` (version
/// `model_version`, counted for new labels even if it is not registered) at `now`.
///
/// # Errors
///
/// [`Error::Storage`].
#[allow(clippy::cast_precision_loss)]
pub fn safety_checks(
    store: &dyn Store,
    triggers: &RetrainingTriggers,
    model_name: &str,
    model_version: &str,
    now: Timestamp,
) -> Result<Vec<SafetyCheck>> {
    let all = requests(store, Some(model_name), None, Some(usize::MAX))?;
    let mut checks = Vec::new();
    let pending = all.iter().filter(|r| r.status == RetrainingStatus::PendingApproval).count();
    checks.push(SafetyCheck {
        check: "no_pending_request".into(),
        passed: pending == 0,
        actual: Some(pending as f64),
        required: 0.0,
        message: if pending == 0 {
            "no request of the model is pending approval".into()
        } else {
            format!("{pending} request(s) of '{model_name}' already pending approval")
        },
    });
    let last_retrain = all
        .iter()
        .filter(|r| matches!(r.status, RetrainingStatus::Approved | RetrainingStatus::Completed))
        .filter_map(|r| r.reviewed_at)
        .max();
    let days = last_retrain.map(|t| (now.as_millis() - t.as_millis()) as f64 / DAY_MS);
    let min_days = triggers.min_days_between_retraining;
    let days_ok = days.is_none_or(|d| d >= min_days);
    checks.push(SafetyCheck {
        check: "min_days_between_retraining".into(),
        passed: days_ok,
        actual: days,
        required: min_days,
        message: match days {
            None => "the model was never retrained".into(),
            Some(d) => {
                format!("{d:.2} day(s) since the last approved retraining (minimum {min_days})")
            }
        },
    });
    let mut labelled = 0u64;
    // Registered versions, and this one (a host's own model need not be registered).
    let mut versions: std::collections::BTreeSet<String> =
        store.models(Some(model_name))?.into_iter().map(|m| m.model_version).collect();
    versions.insert(model_version.to_string());
    for v in &versions {
        labelled += store.label_counts(model_name, v, last_retrain, None)?.total;
    }
    let min_samples = triggers.min_new_labeled_samples;
    checks.push(SafetyCheck {
        check: "min_new_labeled_samples".into(),
        passed: labelled >= min_samples,
        actual: Some(labelled as f64),
        required: min_samples as f64,
        message: format!(
            "{labelled} labelled call(s) {} (minimum {min_samples})",
            if last_retrain.is_some() { "since the last approved retraining" } else { "so far" }
        ),
    });
    let from = now.as_millis() - triggers.request_window.as_millis();
    let recent = all
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                RetrainingStatus::PendingApproval
                    | RetrainingStatus::Approved
                    | RetrainingStatus::Completed
            ) && r.requested_at.as_millis() >= from
        })
        .count();
    let max = triggers.max_requests_per_window;
    checks.push(SafetyCheck {
        check: "max_requests_per_window".into(),
        passed: recent < max as usize,
        actual: Some(recent as f64),
        required: f64::from(max),
        message: format!(
            "{recent} request(s) in the last {} (maximum {max})",
            triggers.request_window
        ),
    });
    Ok(checks)
}

/// What a new request is about.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequest {
    /// The model.
    pub model_name: String,
    /// The version.
    pub model_version: String,
    /// Why.
    pub reason: TriggerReason,
    /// Details.
    pub details: Value,
    /// Who asked (manual requests).
    pub requested_by: Option<String>,
}

/// Runs the safety checks and stores the request, `pending_approval` or `blocked`.
///
/// # Errors
///
/// [`Error::Storage`].
pub fn request(
    store: &dyn Store,
    triggers: &RetrainingTriggers,
    new: NewRequest,
    now: Timestamp,
) -> Result<RetrainingRequest> {
    let checks = safety_checks(store, triggers, &new.model_name, &new.model_version, now)?;
    let blocked = checks.iter().any(|c| !c.passed);
    let r = RetrainingRequest {
        id: format!("retrain-{}", uuid::Uuid::new_v4()),
        model_name: new.model_name,
        model_version: new.model_version,
        requested_at: now,
        trigger_reason: new.reason,
        trigger_details: new.details,
        status: if blocked { RetrainingStatus::Blocked } else { RetrainingStatus::PendingApproval },
        requested_by: new.requested_by,
        safety_checks: checks,
        reviewed_by: None,
        reviewed_at: None,
        review_reason: None,
        training_job_id: None,
        completed_at: None,
    };
    store.put_records(&[r.to_record()?], &[])?;
    Ok(r)
}

fn transition(
    store: &dyn Store,
    id: &str,
    from: RetrainingStatus,
    to: RetrainingStatus,
    change: impl FnOnce(&mut RetrainingRequest),
) -> Result<RetrainingRequest> {
    let mut r = get(store, id)?;
    if r.status != from {
        return Err(Error::InvalidTransition {
            entity: "retraining request",
            id: id.to_string(),
            from: r.status.as_str().into(),
            to: to.as_str().into(),
        });
    }
    r.status = to;
    change(&mut r);
    let expect = Expect {
        table: Table::RetrainingRequest,
        id: id.into(),
        status: Some(from.as_str().into()),
    };
    match store.put_records(&[r.to_record()?], &[expect]) {
        // Someone else moved it between our read and write: report the state they left.
        Err(Error::Conflict { .. }) => {
            let now = get(store, id)?;
            Err(Error::InvalidTransition {
                entity: "retraining request",
                id: id.to_string(),
                from: now.status.as_str().into(),
                to: to.as_str().into(),
            })
        }
        other => other.map(|()| r),
    }
}

fn reviewer(by: &str) -> Result<()> {
    if by.trim().is_empty() {
        Err(Error::invalid_input("reviewedBy must name the reviewer"))
    } else {
        Ok(())
    }
}

/// Approves the pending request `id`: reviewer, time, reason and a new training job id.
///
/// # Errors
///
/// [`Error::NotFound`]; [`Error::InvalidTransition`] unless it is `pending_approval`;
/// [`Error::InvalidInput`] for an empty reviewer.
pub fn approve(
    store: &dyn Store,
    id: &str,
    by: &str,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<RetrainingRequest> {
    reviewer(by)?;
    transition(store, id, RetrainingStatus::PendingApproval, RetrainingStatus::Approved, |r| {
        r.reviewed_by = Some(by.to_string());
        r.reviewed_at = Some(now);
        r.review_reason = reason.map(str::to_string);
        r.training_job_id = Some(format!("train-{}", uuid::Uuid::new_v4()));
    })
}

/// Rejects the pending request `id`.
///
/// # Errors
///
/// As [`approve`].
pub fn reject(
    store: &dyn Store,
    id: &str,
    by: &str,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<RetrainingRequest> {
    reviewer(by)?;
    transition(store, id, RetrainingStatus::PendingApproval, RetrainingStatus::Rejected, |r| {
        r.reviewed_by = Some(by.to_string());
        r.reviewed_at = Some(now);
        r.review_reason = reason.map(str::to_string);
    })
}

/// Marks the approved request `id` completed (its training finished).
///
/// # Errors
///
/// [`Error::NotFound`]; [`Error::InvalidTransition`] unless it is `approved`.
pub fn complete(store: &dyn Store, id: &str, now: Timestamp) -> Result<RetrainingRequest> {
    transition(store, id, RetrainingStatus::Approved, RetrainingStatus::Completed, |r| {
        r.completed_at = Some(now);
    })
}

//! `harper-edge alerts`, `retrain` and `monitor`: alert rules and events, the retraining
//! approval workflow, and the monitor's ticks and configuration, over the data directory.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use crate::print_json;
use clap::Subcommand;
use harper_edge_core::monitor::alert::{AlertEvent, AlertQuery, AlertRule, AlertStatus, Severity};
use harper_edge_core::monitor::config::{ConfigScope, parse_duration};
use harper_edge_core::monitor::retrain::{RetrainingRequest, RetrainingStatus};
use harper_edge_core::monitor::{Monitor, MonitorOptions, TickReport};
use harper_edge_core::{Engine, Error, ModelRef, Result, Timestamp};
use serde_json::Value;

/// Exit status of `retrain request` when the request was blocked by a safety check.
pub const BLOCKED_EXIT_CODE: u8 = 2;

/// `harper-edge alerts …`
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// List alert events, newest first (a table, or one JSON object per line with --json).
    List {
        /// Only alerts of this model.
        #[arg(long)]
        model: Option<String>,
        /// Only alerts of this model version (with --model).
        #[arg(long, requires = "model")]
        version: Option<String>,
        /// Only alerts of this severity: info, warning or critical.
        #[arg(long)]
        severity: Option<String>,
        /// Only alerts with this status: firing or resolved.
        #[arg(long)]
        status: Option<String>,
        /// Only alerts nobody has acknowledged yet.
        #[arg(long)]
        unacked: bool,
        /// At most this many alerts.
        #[arg(long)]
        limit: Option<usize>,
        /// One JSON object per line (the stored record, camelCase) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge an alert; prints the updated event as JSON.
    Ack {
        /// The alert id (from `alerts list`).
        id: String,
        /// Who acknowledges it (a name or an e-mail address).
        #[arg(long)]
        by: String,
    },
    /// List the alert rules (a table, or one JSON object per line with --json).
    Rules {
        /// One JSON object per line (the stored rule, camelCase) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Add or replace an alert rule given as JSON (the rule with the same `id` is replaced);
    /// prints the stored rule as JSON.
    AddRule {
        /// The rule: a path to a JSON file, inline JSON (starting with `{`), or `-` for stdin.
        #[arg(value_name = "FILE_OR_JSON")]
        rule: String,
    },
    /// Delete an alert rule (its alerts stay).
    DeleteRule {
        /// The rule id (from `alerts rules`).
        id: String,
    },
}

/// `harper-edge retrain …`
#[derive(Debug, Subcommand)]
pub enum RetrainCommand {
    /// List retraining requests, newest first (a table, or one JSON object per line with
    /// --json).
    List {
        /// Only requests of this model.
        #[arg(long)]
        model: Option<String>,
        /// Only requests with this status: pending_approval, approved, rejected, completed or
        /// blocked.
        #[arg(long)]
        status: Option<String>,
        /// One JSON object per line (the stored record, camelCase) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Request retraining of a model by hand, through its safety checks; prints the request
    /// as JSON. Exit status 2 when a safety check blocked it (the checks are printed to
    /// stderr with their actual and required values).
    Request {
        /// `NAME` (newest version) or `NAME:VERSION`.
        #[arg(value_name = "MODEL[:VERSION]")]
        model: String,
        /// Who asks.
        #[arg(long)]
        by: String,
        /// Details stored with the request, as JSON (e.g. `{"ticket": "OPS-7"}`).
        #[arg(long, value_name = "JSON")]
        details: Option<String>,
    },
    /// Approve a pending request: hands out a training job id; prints the request as JSON.
    Approve {
        /// The request id (from `retrain list`).
        id: String,
        /// Who approves it.
        #[arg(long)]
        by: String,
        /// Why (free text, stored with the request).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Reject a pending request; prints the request as JSON.
    Reject {
        /// The request id (from `retrain list`).
        id: String,
        /// Who rejects it.
        #[arg(long)]
        by: String,
        /// Why (free text, stored with the request).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Mark an approved request's training as completed; prints the request as JSON.
    Complete {
        /// The request id (from `retrain list`).
        id: String,
    },
}

/// `harper-edge monitor …`
#[derive(Debug, Subcommand)]
pub enum MonitorCommand {
    /// Tick the monitor every --interval until --for has passed: scheduled jobs, retraining
    /// conditions and alert rules. Prints one line per job run, alert fired or resolved and
    /// retraining request (or, with --json, each tick's report as one JSON line).
    Run {
        /// How long to run, e.g. `30s`, `1h`, `1h30m` (units ms, s, m, h, d, w).
        #[arg(long = "for", value_name = "DURATION")]
        run_for: String,
        /// Time between ticks, e.g. `10s`.
        #[arg(long, value_name = "DURATION", default_value = "10s")]
        interval: String,
        /// Print each tick's report as one JSON line (camelCase) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Tick the monitor once and print what it did, with every rule's state (or the report
    /// as one JSON line with --json).
    Tick {
        /// Print the report as one JSON line (camelCase) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show or set the monitoring configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// `harper-edge monitor config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the configuration in effect (defaults, global, model and version layers merged)
    /// as JSON.
    Show {
        /// The model whose configuration to show (default: the global one).
        #[arg(long)]
        model: Option<String>,
        /// The version of --model.
        #[arg(long, requires = "model")]
        version: Option<String>,
    },
    /// Set the configuration layer of the global scope, a model or a version: only the fields
    /// it names (e.g. `{"aggregation": {"driftCheck": "6h"}}`); prints the stored layer.
    Set {
        /// The model the layer applies to (default: every model).
        #[arg(long)]
        model: Option<String>,
        /// The version of --model the layer applies to.
        #[arg(long, requires = "model")]
        version: Option<String>,
        /// The layer: a path to a JSON file, inline JSON (starting with `{`), or `-` for
        /// stdin.
        #[arg(value_name = "FILE_OR_JSON")]
        config: String,
    },
}

fn monitor(engine: Engine) -> Result<Monitor> {
    Monitor::new(Arc::new(engine), MonitorOptions::default())
}

/// A JSON argument: inline JSON (starting with `{` or `[`), `-` for stdin, or a file path.
fn json_arg(what: &str, arg: &str) -> Result<Value> {
    let trimmed = arg.trim_start();
    let (text, source) = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        (arg.to_string(), what.to_string())
    } else if arg == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| Error::io("<stdin>", e))?;
        (text, format!("{what} (stdin)"))
    } else {
        let path = Path::new(arg);
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        (text, path.display().to_string())
    };
    crate::parse_json(&source, &text)
}

/// A timestamp as `2026-01-01T00:00:00Z`.
fn time(t: Timestamp) -> String {
    let ms = u64::try_from(t.as_millis()).unwrap_or(0);
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

fn or_dash(s: Option<&str>) -> String {
    s.unwrap_or("-").to_string()
}

/// A plain-text table: columns padded to their widest cell.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (cell, w) in cells.zip(&widths) {
            let _ = write!(text, "{cell:<w$}  ");
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

fn alert_status(s: &str) -> Result<AlertStatus> {
    match s {
        "firing" => Ok(AlertStatus::Firing),
        "resolved" => Ok(AlertStatus::Resolved),
        other => Err(Error::invalid_input(format!(
            "unknown alert status '{other}' (expected firing or resolved)"
        ))),
    }
}

fn value(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |x| format!("{}", (x * 1e4).round() / 1e4))
}

fn alerts_table(events: &[AlertEvent]) -> String {
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|a| {
            vec![
                a.id.clone(),
                time(a.timestamp),
                format!("{}:{}", a.model_name, a.model_version),
                a.rule_name.clone(),
                a.severity.as_str().to_string(),
                a.status.as_str().to_string(),
                a.condition.clone(),
                value(a.actual_value),
                a.acknowledged_by.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    table(
        &["id", "fired", "model", "rule", "severity", "status", "condition", "value", "acked by"],
        &rows,
    )
}

fn rules_table(rules: &[AlertRule]) -> String {
    let rows: Vec<Vec<String>> = rules
        .iter()
        .map(|r| {
            let model = match (&r.model_name, &r.model_version) {
                (Some(m), Some(v)) => format!("{m}:{v}"),
                (Some(m), None) => m.clone(),
                (None, _) => "*".into(),
            };
            let condition = r.metric().map_or_else(
                |_| {
                    format!(
                        "{} {} {}",
                        r.condition.metric,
                        r.condition.operator.as_str(),
                        r.condition.threshold
                    )
                },
                |m| r.condition.text(m),
            );
            vec![
                r.id.clone(),
                r.rule_name.clone(),
                model,
                r.alert_type.as_str().to_string(),
                condition,
                r.severity.as_str().to_string(),
                if r.enabled { "yes" } else { "no" }.to_string(),
                r.notification_channels.join(","),
            ]
        })
        .collect();
    table(&["id", "name", "model", "type", "condition", "severity", "enabled", "channels"], &rows)
}

fn requests_table(requests: &[RetrainingRequest]) -> String {
    let rows: Vec<Vec<String>> = requests
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                time(r.requested_at),
                format!("{}:{}", r.model_name, r.model_version),
                r.trigger_reason.as_str().to_string(),
                r.status.as_str().to_string(),
                or_dash(r.requested_by.as_deref()),
                or_dash(r.reviewed_by.as_deref()),
                or_dash(r.training_job_id.as_deref()),
            ]
        })
        .collect();
    table(
        &["id", "requested", "model", "reason", "status", "by", "reviewed by", "training job"],
        &rows,
    )
}

/// The lines explaining a blocked request: one per failed check.
fn blocked_lines(r: &RetrainingRequest) -> String {
    let mut out = format!(
        "retraining request {} for {}:{} is blocked:\n",
        r.id, r.model_name, r.model_version
    );
    for c in r.blocked_by() {
        let _ = writeln!(
            out,
            "  {}: actual {}, required {} ({})",
            c.check,
            value(c.actual),
            value(Some(c.required)),
            c.message
        );
    }
    out
}

/// One line per job run, alert fired or resolved, and retraining request of `report`.
fn report_lines(report: &TickReport) -> String {
    let at = time(report.at);
    let mut out = String::new();
    let target = |m: &Option<String>, v: &Option<String>| match (m, v) {
        (Some(m), Some(v)) => format!(" {m}:{v}"),
        (Some(m), None) => format!(" {m}"),
        _ => String::new(),
    };
    for j in &report.jobs {
        let job = serde_json::to_value(j.job).ok();
        let outcome = serde_json::to_value(j.outcome).ok();
        let _ = write!(
            out,
            "{at} job {}{} {}",
            job.as_ref().and_then(Value::as_str).unwrap_or("?"),
            target(&j.model_name, &j.model_version),
            outcome.as_ref().and_then(Value::as_str).unwrap_or("?"),
        );
        if let Some(m) = &j.message {
            let _ = write!(out, ": {m}");
        }
        if j.missed > 0 {
            let _ = write!(out, " ({} missed run(s) skipped)", j.missed);
        }
        out.push('\n');
    }
    for (kind, events) in [("fired", &report.fired), ("resolved", &report.resolved)] {
        for a in events {
            let _ = writeln!(
                out,
                "{at} alert {kind} {} [{}] '{}' {}:{}: {}",
                a.id,
                a.severity.as_str(),
                a.rule_name,
                a.model_name,
                a.model_version,
                a.message
            );
        }
    }
    for r in &report.retraining_requests {
        let _ = writeln!(
            out,
            "{at} retraining request {} {}:{} {} ({})",
            r.id,
            r.model_name,
            r.model_version,
            r.status.as_str(),
            r.trigger_reason.as_str()
        );
        if r.status == RetrainingStatus::Blocked {
            for c in r.blocked_by() {
                let _ = writeln!(
                    out,
                    "{at}   blocked by {}: actual {}, required {}",
                    c.check,
                    value(c.actual),
                    value(Some(c.required))
                );
            }
        }
    }
    out
}

/// Runs `alerts …`.
///
/// # Errors
///
/// Invalid flags or JSON, unknown ids, the store's errors.
pub fn alerts(engine: Engine, command: AlertsCommand) -> Result<()> {
    let m = monitor(engine)?;
    match command {
        AlertsCommand::List { model, version, severity, status, unacked, limit, json } => {
            let query = AlertQuery {
                model_name: model,
                model_version: version,
                severity: severity.as_deref().map(str::parse::<Severity>).transpose()?,
                status: status.as_deref().map(alert_status).transpose()?,
                acknowledged: unacked.then_some(false),
                limit,
                ..AlertQuery::default()
            };
            let events = m.alerts(&query)?;
            if json {
                events.iter().try_for_each(print_json)
            } else if events.is_empty() {
                println!("no alerts");
                Ok(())
            } else {
                print!("{}", alerts_table(&events));
                Ok(())
            }
        }
        AlertsCommand::Ack { id, by } => print_json(&m.acknowledge(&id, &by)?),
        AlertsCommand::Rules { json } => {
            let rules = m.rules()?;
            if json {
                rules.iter().try_for_each(print_json)
            } else if rules.is_empty() {
                println!("no alert rules");
                Ok(())
            } else {
                print!("{}", rules_table(&rules));
                Ok(())
            }
        }
        AlertsCommand::AddRule { rule } => {
            print_json(&m.put_rule_json(&json_arg("the rule", &rule)?)?)
        }
        AlertsCommand::DeleteRule { id } => {
            m.delete_rule(&id)?;
            print_json(&serde_json::json!({"id": id, "deleted": true}))
        }
    }
}

/// Runs `retrain …`; the exit status is [`BLOCKED_EXIT_CODE`] for a blocked request.
///
/// # Errors
///
/// Invalid flags or JSON, unknown models or ids, refused transitions, the store's errors.
pub fn retrain(engine: Engine, command: RetrainCommand) -> Result<ExitCode> {
    let m = monitor(engine)?;
    match command {
        RetrainCommand::List { model, status, json } => {
            let status = status.as_deref().map(RetrainingStatus::parse).transpose()?;
            let requests = m.retraining_requests(model.as_deref(), status)?;
            if json {
                requests.iter().try_for_each(print_json)?;
            } else if requests.is_empty() {
                println!("no retraining requests");
            } else {
                print!("{}", requests_table(&requests));
            }
        }
        RetrainCommand::Request { model, by, details } => {
            let reference: ModelRef = model.parse()?;
            let details = match details {
                Some(d) => serde_json::from_str(&d).map_err(|e| {
                    Error::invalid_input(format!("--details is not valid JSON: {e}"))
                })?,
                None => serde_json::json!({}),
            };
            let request = m.request_retraining(&reference, Some(&by), details)?;
            print_json(&request)?;
            if request.status == RetrainingStatus::Blocked {
                eprint!("{}", blocked_lines(&request));
                return Ok(ExitCode::from(BLOCKED_EXIT_CODE));
            }
        }
        RetrainCommand::Approve { id, by, reason } => {
            print_json(&m.approve(&id, &by, reason.as_deref())?)?;
        }
        RetrainCommand::Reject { id, by, reason } => {
            print_json(&m.reject(&id, &by, reason.as_deref())?)?;
        }
        RetrainCommand::Complete { id } => print_json(&m.complete(&id)?)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `monitor …`.
///
/// # Errors
///
/// Invalid durations or JSON, configuration errors naming the field, a tick that cannot read
/// the store.
pub fn run(engine: Engine, command: MonitorCommand) -> Result<()> {
    let engine = Arc::new(engine);
    let m = Monitor::new(Arc::clone(&engine), MonitorOptions::default())?;
    match command {
        MonitorCommand::Run { run_for, interval, json } => {
            let run_for = parse_duration(&run_for)
                .map_err(|e| Error::invalid_input(format!("--for: {e}")))?;
            let interval = parse_duration(&interval)
                .map_err(|e| Error::invalid_input(format!("--interval: {e}")))?;
            if interval.is_zero() {
                return Err(Error::invalid_input("--interval must be longer than 0"));
            }
            let end = Instant::now() + run_for;
            let mut stdout = std::io::stdout();
            loop {
                let report = m.tick()?;
                if json {
                    writeln!(stdout, "{}", serde_json::to_string(&report)?)
                } else {
                    write!(stdout, "{}", report_lines(&report))
                }
                .and_then(|()| stdout.flush())
                .map_err(|e| Error::io("<stdout>", e))?;
                let now = Instant::now();
                if now >= end {
                    break;
                }
                std::thread::sleep(interval.min(end - now));
            }
            // Webhooks queued by the last ticks get a chance to go out.
            m.flush_notifications(Duration::from_secs(10));
            engine.flush()?;
        }
        MonitorCommand::Tick { json } => {
            let report = m.tick()?;
            m.flush_notifications(Duration::from_secs(10));
            engine.flush()?;
            if json {
                print_json(&report)?;
            } else {
                print!("{}", report_lines(&report));
                for s in &report.rules {
                    let state = serde_json::to_value(s.state).ok();
                    println!(
                        "rule '{}' {}:{}: {} (value {}){}",
                        s.rule_name,
                        s.model_name,
                        s.model_version,
                        state.as_ref().and_then(Value::as_str).unwrap_or("?"),
                        value(s.value),
                        s.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
                    );
                }
                if report.rules.is_empty() && report.jobs.is_empty() {
                    println!("nothing due");
                }
            }
        }
        MonitorCommand::Config(ConfigCommand::Show { model, version }) => {
            let config = m.effective_config(model.as_deref(), version.as_deref())?;
            println!("{}", serde_json::to_string_pretty(&config)?);
        }
        MonitorCommand::Config(ConfigCommand::Set { model, version, config }) => {
            let layer = json_arg("the configuration", &config)?;
            let scope = ConfigScope::of(model.as_deref(), version.as_deref());
            print_json(&m.set_config(&scope, layer)?)?;
        }
    }
    Ok(())
}

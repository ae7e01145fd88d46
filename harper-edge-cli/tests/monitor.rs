//! `harper-edge alerts`, `retrain` and `monitor`, run as a user would on a temporary data
//! directory with the committed iris model (real time: rules without a window read the last
//! five minutes of calls).
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.onnx");

fn cli(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harper-edge"))
        .env("HARPER_EDGE_HOME", home)
        .args(args)
        .output()
        .expect("run harper-edge")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "stderr: {}", stderr(out));
    stdout(out)
}

fn ok_json_lines(out: &Output) -> Vec<Value> {
    ok(out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn ok_json(out: &Output) -> Value {
    let mut lines = ok_json_lines(out);
    assert_eq!(lines.len(), 1, "{}", stdout(out));
    lines.remove(0)
}

/// The one-line error of a failed command (exit status 1).
fn err_line(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "stdout: {}", stdout(out));
    let text = stderr(out);
    assert_eq!(text.lines().count(), 1, "one clear line: {text}");
    assert!(text.starts_with("error: "), "{text}");
    text
}

fn with_iris() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    ok(&cli(home.path(), &["model", "add", "iris", "1", "--file", MODEL]));
    home
}

#[test]
fn config_set_checks_fields_and_show_merges_the_layers() {
    let home = with_iris();
    let h = home.path();
    let out = cli(h, &["monitor", "config", "set", r#"{"aggregation": {"driftCheck": "6x"}}"#]);
    let line = err_line(&out);
    assert!(line.contains("aggregation.driftCheck"), "{line}");
    assert!(line.contains("[HARPER_EDGE_INVALID_INPUT]"), "{line}");
    let line =
        err_line(&cli(h, &["monitor", "config", "set", r#"{"aggregation": {"every": "1h"}}"#]));
    assert!(line.contains("every"), "{line}");
    let line = err_line(&cli(h, &["monitor", "config", "set", "/nonexistent/config.json"]));
    assert!(line.contains("/nonexistent/config.json"), "{line}");

    // A layer from a file, for the model; one inline, global.
    let file = h.join("iris.json");
    std::fs::write(&file, r#"{"retrainingTriggers": {"minNewLabeledSamples": 0}}"#).unwrap();
    let stored =
        ok_json(&cli(h, &["monitor", "config", "set", "--model", "iris", file.to_str().unwrap()]));
    assert_eq!(stored["id"], "model:iris");
    assert_eq!(stored["config"]["retrainingTriggers"]["minNewLabeledSamples"], 0);
    ok_json(&cli(h, &["monitor", "config", "set", r#"{"aggregation": {"driftCheck": "6h"}}"#]));

    let show = |args: &[&str]| -> Value {
        let mut all = vec!["monitor", "config", "show"];
        all.extend_from_slice(args);
        serde_json::from_str(&ok(&cli(h, &all))).unwrap()
    };
    let global = show(&[]);
    assert_eq!(global["aggregation"]["driftCheck"], "6h");
    assert_eq!(global["retrainingTriggers"]["minNewLabeledSamples"], 500);
    let iris = show(&["--model", "iris", "--version", "1"]);
    assert_eq!(iris["aggregation"]["driftCheck"], "6h");
    assert_eq!(iris["retrainingTriggers"]["minNewLabeledSamples"], 0);
}

#[test]
fn retraining_requests_are_blocked_then_pending_then_approved_and_not_rejected() {
    let home = with_iris();
    let h = home.path();
    // Defaults: 500 new labelled samples needed: blocked, exit status 2, the values on stderr.
    let out = cli(h, &["retrain", "request", "iris", "--by", "ana"]);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    let blocked: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(blocked["status"], "blocked");
    let why = stderr(&out);
    assert!(why.contains("is blocked"), "{why}");
    assert!(why.contains("min_new_labeled_samples: actual 0, required 500"), "{why}");

    ok(&cli(
        h,
        &[
            "monitor",
            "config",
            "set",
            "--model",
            "iris",
            r#"{"retrainingTriggers": {"minNewLabeledSamples": 0}}"#,
        ],
    ));
    let request = ok_json(&cli(
        h,
        &["retrain", "request", "iris:1", "--by", "ana", "--details", r#"{"ticket": "OPS-7"}"#],
    ));
    assert_eq!(request["status"], "pending_approval");
    assert_eq!(request["triggerReason"], "manual");
    assert_eq!(request["requestedBy"], "ana");
    assert_eq!(request["triggerDetails"]["ticket"], "OPS-7");
    let id = request["id"].as_str().unwrap();

    let all = ok_json_lines(&cli(h, &["retrain", "list", "--json"]));
    assert_eq!(all.len(), 2);
    let pending =
        ok_json_lines(&cli(h, &["retrain", "list", "--status", "pending_approval", "--json"]));
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["id"], id);
    let line = err_line(&cli(h, &["retrain", "list", "--status", "open"]));
    assert!(line.contains("unknown retraining status 'open'"), "{line}");

    let approved = ok_json(&cli(
        h,
        &["retrain", "approve", id, "--by", "lead@example.com", "--reason", "drift confirmed"],
    ));
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["reviewedBy"], "lead@example.com");
    assert_eq!(approved["reviewReason"], "drift confirmed");
    assert!(approved["trainingJobId"].as_str().unwrap().starts_with("train-"));

    let line = err_line(&cli(h, &["retrain", "reject", id, "--by", "x"]));
    assert!(line.contains("'approved' to 'rejected'"), "{line}");
    assert!(line.contains("[HARPER_EDGE_INVALID_TRANSITION]"), "{line}");

    assert_eq!(ok_json(&cli(h, &["retrain", "complete", id]))["status"], "completed");
    let table = ok(&cli(h, &["retrain", "list", "--model", "iris"]));
    let row = table.lines().find(|l| l.starts_with(id)).unwrap();
    assert!(row.contains("completed") && row.contains("iris:1") && row.contains("manual"), "{row}");
    assert!(table.lines().next().unwrap().starts_with("id"), "{table}");

    let line = err_line(&cli(h, &["retrain", "request", "nope", "--by", "ana"]));
    assert!(line.contains("[HARPER_EDGE_NOT_FOUND]"), "{line}");
}

/// Three failed calls (wrong input shape) and one good one: an error rate of 0.75.
fn failing_calls(h: &Path) {
    for _ in 0..3 {
        let out = cli(h, &["infer", "iris", "--input", "[[1.0, 2.0, 3.0]]"]);
        assert_eq!(out.status.code(), Some(1), "the call fails: {}", stderr(&out));
    }
    ok(&cli(h, &["infer", "iris", "--input", "[[5.1, 3.5, 1.4, 0.2]]"]));
}

const ERRORS_RULE: &str = r#"{"ruleName": "iris failing", "modelName": "iris",
    "alertType": "error_rate", "severity": "critical",
    "condition": {"metric": "errorRate", "operator": ">", "threshold": 0.5}}"#;

#[test]
fn a_rule_fires_on_tick_and_its_alert_is_listed_and_acknowledged() {
    let home = with_iris();
    let h = home.path();
    failing_calls(h);
    let line = err_line(&cli(h, &["alerts", "add-rule", r#"{"ruleName": "x"}"#]));
    assert!(line.contains("[HARPER_EDGE_INVALID_INPUT]"), "{line}");
    let rule = ok_json(&cli(h, &["alerts", "add-rule", ERRORS_RULE]));
    let rule_id = rule["id"].as_str().unwrap();
    assert_eq!(rule["notificationChannels"], serde_json::json!(["callback"]));
    let rules = ok_json_lines(&cli(h, &["alerts", "rules", "--json"]));
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["id"], rule_id);
    let table = ok(&cli(h, &["alerts", "rules"]));
    assert!(table.contains("errorRate > 0.5") && table.contains("iris failing"), "{table}");

    let report = ok_json(&cli(h, &["monitor", "tick", "--json"]));
    let fired = report["fired"].as_array().unwrap();
    assert_eq!(fired.len(), 1, "{report}");
    assert_eq!(fired[0]["condition"], "errorRate > 0.5");
    assert!((fired[0]["actualValue"].as_f64().unwrap() - 0.75).abs() < 1e-9);
    assert_eq!(report["rules"][0]["state"], "firing");
    let alert_id = fired[0]["id"].as_str().unwrap();

    // A new process: the open alert is not raised again.
    let text = ok(&cli(h, &["monitor", "tick"]));
    assert!(!text.contains("alert fired"), "{text}");
    assert!(text.contains("rule 'iris failing' iris:1: firing (value 0.75)"), "{text}");

    let alerts = ok_json_lines(&cli(h, &["alerts", "list", "--json"]));
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    for key in [
        "id",
        "ruleId",
        "ruleName",
        "modelName",
        "modelVersion",
        "timestamp",
        "alertType",
        "severity",
        "condition",
        "actualValue",
        "threshold",
        "message",
        "status",
        "acknowledged",
        "notifications",
    ] {
        assert!(a.get(key).is_some(), "{key} missing: {a}");
    }
    assert_eq!((a["id"].as_str(), a["ruleId"].as_str()), (Some(alert_id), Some(rule_id)));
    assert_eq!((a["status"].as_str(), a["severity"].as_str()), (Some("firing"), Some("critical")));
    assert_eq!(a["acknowledged"], false);
    let filtered = |args: &[&str]| {
        let mut all = vec!["alerts", "list", "--json"];
        all.extend_from_slice(args);
        ok_json_lines(&cli(h, &all)).len()
    };
    assert_eq!(filtered(&["--model", "iris", "--version", "1", "--severity", "critical"]), 1);
    assert_eq!(filtered(&["--status", "resolved"]), 0);
    assert_eq!(filtered(&["--unacked", "--limit", "5"]), 1);
    let line = err_line(&cli(h, &["alerts", "list", "--severity", "urgent"]));
    assert!(line.contains("unknown severity 'urgent'"), "{line}");

    let acked = ok_json(&cli(h, &["alerts", "ack", alert_id, "--by", "ops@example.com"]));
    assert_eq!(
        (acked["acknowledged"].as_bool(), acked["acknowledgedBy"].as_str()),
        (Some(true), Some("ops@example.com"))
    );
    assert_eq!(filtered(&["--unacked"]), 0);
    let table = ok(&cli(h, &["alerts", "list"]));
    let row = table.lines().find(|l| l.starts_with(alert_id)).unwrap();
    assert!(row.contains("ops@example.com") && row.contains("critical"), "{row}");
    let line = err_line(&cli(h, &["alerts", "ack", "alert-nope", "--by", "x"]));
    assert!(line.contains("[HARPER_EDGE_NOT_FOUND]"), "{line}");

    assert_eq!(ok_json(&cli(h, &["alerts", "delete-rule", rule_id]))["deleted"], true);
    assert_eq!(ok(&cli(h, &["alerts", "rules"])).trim(), "no alert rules");
    assert_eq!(filtered(&[]), 1, "the alert stays");
}

#[test]
fn monitor_run_ticks_for_the_duration_and_exits_zero() {
    let home = with_iris();
    let h = home.path();
    failing_calls(h);
    ok_json(&cli(h, &["alerts", "add-rule", ERRORS_RULE]));

    let started = Instant::now();
    let text = ok(&cli(h, &["monitor", "run", "--for", "2s", "--interval", "1s"]));
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(30), "{took:?}");
    let fired: Vec<&str> = text.lines().filter(|l| l.contains(" alert fired ")).collect();
    assert_eq!(fired.len(), 1, "{text}");
    assert!(fired[0].contains("[critical] 'iris failing' iris:1"), "{text}");

    let lines =
        ok_json_lines(&cli(h, &["monitor", "run", "--for", "1s", "--interval", "400ms", "--json"]));
    assert!(lines.len() >= 3, "{lines:?}");
    for report in &lines {
        for key in ["at", "jobs", "fired", "resolved", "retrainingRequests", "rules"] {
            assert!(report.get(key).is_some(), "{key} missing: {report}");
        }
        assert_eq!(report["rules"][0]["state"], "firing");
    }

    let line = err_line(&cli(h, &["monitor", "run", "--for", "2 hours"]));
    assert!(line.contains("--for") && line.contains("invalid duration '2 hours'"), "{line}");
    let line = err_line(&cli(h, &["monitor", "run", "--for", "1s", "--interval", "0s"]));
    assert!(line.contains("--interval"), "{line}");
}
